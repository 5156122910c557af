/* The one reader for files a person wrote (session, series, overrides):
 * what it reads, and the clear errors instead of a hang or a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/config.h"
#include "chatkeeper/overrides.h"
#include "chatkeeper/userfile.h"

static char dir[256];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/ck-test-userfile-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void put(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void reads_whole_files(void **st)
{
    (void)st;
    char p[320];
    char *buf;
    size_t len;
    struct ck_error err = {0};
    snprintf(p, sizeof p, "%s/a.json", dir);
    put(p, "{\"a\": 1}\0tail", 13); /* a NUL inside is kept: the parser decides */
    assert_int_equal(ck_read_user_file(p, 100, NULL, 0, &buf, &len, &err), 0);
    assert_int_equal(len, 13);
    assert_memory_equal(buf, "{\"a\": 1}\0tail", 13);
    assert_int_equal(buf[len], '\0');
    free(buf);

    /* exactly max is fine; one byte over is refused, naming the file */
    assert_int_equal(ck_read_user_file(p, 13, NULL, 0, &buf, &len, &err), 0);
    free(buf);
    assert_int_equal(ck_read_user_file(p, 12, "a session file", 0, &buf, &len, &err), CK_ECONFIG);
    assert_null(buf);
    char want[400];
    snprintf(want, sizeof want, "%s: larger than 12 bytes; not a session file", p);
    assert_string_equal(err.msg, want);

    /* a big file grows the buffer past what fstat said at first */
    char *big = malloc(300000);
    assert_non_null(big);
    memset(big, 'x', 300000);
    put(p, big, 300000);
    free(big);
    assert_int_equal(ck_read_user_file(p, 1 << 20, NULL, 0, &buf, &len, NULL), 0);
    assert_int_equal(len, 300000);
    assert_int_equal(buf[299999], 'x');
    free(buf);

    /* empty */
    put(p, "", 0);
    assert_int_equal(ck_read_user_file(p, 10, NULL, 0, &buf, &len, NULL), 0);
    assert_int_equal(len, 0);
    free(buf);
}

static void missing_directory_fifo(void **st)
{
    (void)st;
    char p[320], want[400];
    char *buf = (char *)1;
    size_t len;
    struct ck_error err = {0};
    snprintf(p, sizeof p, "%s/none.json", dir);
    assert_int_equal(ck_read_user_file(p, 10, NULL, 0, &buf, &len, &err), CK_ENOTFOUND);
    assert_null(buf);
    snprintf(want, sizeof want, "%s: No such file or directory", p);
    assert_string_equal(err.msg, want);
    err = (struct ck_error){0};
    assert_int_equal(ck_read_user_file(p, 10, NULL, CK_USERFILE_OPTIONAL, &buf, &len, &err), 0);
    assert_null(buf);
    assert_int_equal(err.code, 0);

    assert_int_equal(ck_read_user_file(dir, 10, NULL, 0, &buf, &len, &err), CK_ECONFIG);
    snprintf(want, sizeof want, "%s: is a directory, not a file", dir);
    assert_string_equal(err.msg, want);

    /* A FIFO with no writer: before, fopen waited for one for ever. */
    snprintf(p, sizeof p, "%s/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    err = (struct ck_error){0};
    assert_int_equal(ck_read_user_file(p, 10, NULL, 0, &buf, &len, &err), CK_ECONFIG);
    snprintf(want, sizeof want, "%s: not a regular file", p);
    assert_string_equal(err.msg, want);

    /* ... and so through the loaders that use it */
    struct ck_session s;
    err = (struct ck_error){0};
    assert_int_equal(ck_session_load(p, &s, &err), CK_ECONFIG);
    assert_string_equal(err.msg, want);
    struct ck_overrides ov;
    err = (struct ck_error){0};
    assert_int_equal(ck_overrides_load(p, 3, &ov, &err), CK_ECONFIG);
    assert_string_equal(err.msg, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_whole_files),
        cmocka_unit_test(missing_directory_fifo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
