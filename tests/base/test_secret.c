/* The one secret-file reader, and the logger's and error messages' escaping:
 * the hostile inputs found by fuzzing and by hand (issue 12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/error.h"
#include "chatkeeper/log.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/secret.h"
#include "chatkeeper/state.h"

static char dir[256];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/ck-test-secret-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void put_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void secret_rules(void **st)
{
    (void)st;
    char p[320], link[320];
    char *v = NULL;
    struct ck_error err = {0};

    snprintf(p, sizeof p, "%s/ok", dir);
    put_file(p, "s3cret-token\n\n", 0600);
    assert_int_equal(ck_secret_read_file(p, "token file", 64, &v, &err), 0);
    assert_string_equal(v, "s3cret-token");
    ck_secret_free(v);

    assert_int_equal(chmod(p, 0640), 0);
    ck_error_clear(&err);
    assert_int_equal(ck_secret_read_file(p, "token file", 64, &v, &err), CK_EUNSAFE);
    assert_null(v);
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_null(strstr(err.msg, "s3cret"));

    /* A link to a good file is refused: the mode checked must be the file's. */
    assert_int_equal(chmod(p, 0600), 0);
    snprintf(link, sizeof link, "%s/link", dir);
    assert_int_equal(symlink(p, link), 0);
    ck_error_clear(&err);
    assert_int_equal(ck_secret_read_file(link, "token file", 64, &v, &err), CK_ECONFIG);

    /* Too large. */
    ck_error_clear(&err);
    assert_int_equal(ck_secret_read_file(p, "token file", 4, &v, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "too large"));
}

/* A FIFO at the secret's path used to block `check` and `run` for ever (open
 * waits for a writer). The test forks, so a regression fails by the child
 * being killed by alarm() instead of hanging the suite. */
static void secret_fifo_does_not_hang(void **st)
{
    (void)st;
    char p[320];
    snprintf(p, sizeof p, "%s/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(5);
        char *v = NULL;
        struct ck_error err = {0};
        int rc = ck_secret_read_file(p, "token file", 64, &v, &err);
        _exit(rc == CK_ECONFIG && strstr(err.msg, "not a regular file") != NULL ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void secret_of_another_user(void **st)
{
    (void)st;
    if (geteuid() != 0)
        skip(); /* only root can give a file away */
    char p[320];
    snprintf(p, sizeof p, "%s/theirs", dir);
    put_file(p, "tok", 0600);
    assert_int_equal(chown(p, 65534, 65534), 0);
    char *v = NULL;
    struct ck_error err = {0};
    assert_int_equal(ck_secret_read_file(p, "secret file", 64, &v, &err), CK_EUNSAFE);
    assert_non_null(strstr(err.msg, "another user"));
}

static char *escaped(const char *s, size_t n)
{
    struct ck_sbuf b = {0};
    ck_log_escape(&b, s, n);
    assert_false(b.oom);
    return b.s != NULL ? b.s : strdup("");
}

static void log_escapes_controls(void **st)
{
    (void)st;
    struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"plain text, caf\xc3\xa9 \xf0\x9f\x99\x8c", 0, "plain text, caf\xc3\xa9 \xf0\x9f\x99\x8c"},
        {"line\n2024-01-01T00:00:00Z error  forged", 0,
         "line\\n2024-01-01T00:00:00Z error  forged"},
        {"\x1b[2J\x1b]0;title\x07", 0, "\\x1b[2J\\x1b]0;title\\x07"},
        {"tab\tcr\rdel\x7f", 0, "tab\\tcr\\rdel\\x7f"},
        {"back\\slash", 0, "back\\\\slash"},
        {"c1 \xc2\x9b"
         "31m",
         0, "c1 \\u009b31m"},
        {"rlo \xe2\x80\xae"
         "gnp.exe",
         0, "rlo \\u202egnp.exe"},
        {"isolate \xe2\x81\xa6x\xe2\x81\xa9", 0, "isolate \\u2066x\\u2069"},
        {"bad \xff\xc3(", 0, "bad \\xff\\xc3("},
        {"cut \xe2\x80", 0, "cut \\xe2\\x80"},
        {"nul\0after", 9, "nul\\x00after"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].in);
        char *got = escaped(cases[i].in, n);
        assert_string_equal(got, cases[i].out);
        free(got);
    }
}

static void error_message_not_cut_mid_character(void **st)
{
    (void)st;
    /* 254 ASCII bytes, then a 3-byte character: the 256-byte message has room
     * for one byte of it. The message must end before it, not in half of it. */
    char long_name[300];
    memset(long_name, 'a', 254);
    strcpy(long_name + 254, "\xe2\x82\xac tail");
    struct ck_error err = {0};
    ck_error_set(&err, CK_ECONFIG, "%s", long_name);
    size_t n = strlen(err.msg);
    assert_int_equal(n, 254);
    /* A whole character that fits is kept. */
    ck_error_clear(&err);
    ck_error_set(&err, CK_ECONFIG, "%.252s%s", long_name, "\xe2\x82\xac tail");
    assert_int_equal(strlen(err.msg), 255);
    assert_memory_equal(err.msg + 252, "\xe2\x82\xac", 3);
}

/* Atomic writes never follow a link someone put at the temporary name. */
static void atomic_write_refuses_planted_link(void **st)
{
    (void)st;
    char target[320], victim[320], tmp[360];
    snprintf(target, sizeof target, "%s/out.json", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", target, (long)getpid());
    put_file(victim, "keep me", 0644);
    assert_int_equal(symlink(victim, tmp), 0);
    struct ck_error err = {0};
    struct ck_atomic_file *af = NULL;
    assert_int_equal(ck_atomic_open(target, &af, &err), 0);
    assert_int_equal(ck_atomic_write(af, "new", 3, &err), 0);
    assert_int_equal(ck_atomic_commit(af, &err), 0);
    FILE *f = fopen(victim, "r");
    char buf[32] = {0};
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "keep me");
    f = fopen(target, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "new");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secret_rules),
        cmocka_unit_test(secret_fifo_does_not_hang),
        cmocka_unit_test(secret_of_another_user),
        cmocka_unit_test(log_escapes_controls),
        cmocka_unit_test(error_message_not_cut_mid_character),
        cmocka_unit_test(atomic_write_refuses_planted_link),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
