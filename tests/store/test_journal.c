/* journal.jsonl and state.json: durability rules, tested on real files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/jarena.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/state.h"

static char dir[256];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/ck-test-journal-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *p = malloc(1 << 20);
    *len = fread(p, 1, (1 << 20) - 1, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

struct seen {
    size_t n;
    char ids[16][32];
    size_t linenos[16];
};

static int collect(size_t lineno, const json_t *entry, void *arg)
{
    struct seen *s = arg;
    const char *id = json_string_value(json_object_get(json_object_get(entry, "object"), "id"));
    assert_non_null(id);
    snprintf(s->ids[s->n], sizeof s->ids[0], "%s", id);
    s->linenos[s->n++] = lineno;
    return 0;
}

static void test_append_format_and_read(void **st)
{
    (void)st;
    char path[300];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    struct ck_journal *j;
    struct ck_error err = {0};
    assert_int_equal(ck_journal_open(path, &j, &err), 0);
    json_t *objs[2] = {json_pack("{s:s,s:s}", "id", "1", "content", "<p>\xc3\xa9</p>"),
                       json_pack("{s:s}", "id", "2")};
    /* 2026-12-03T20:00:00.000Z */
    assert_int_equal(ck_journal_append(j, "mastodon", "timeline", 1796328000000LL, objs, 2, &err),
                     0);
    assert_int_equal(ck_journal_lines(j), 2);
    ck_journal_close(j);
    size_t len;
    char *text = slurp(path, &len);
    assert_non_null(text);
    assert_string_equal(
        text, "{\"fetched_at\":\"2026-12-03T20:00:00.000Z\",\"platform\":\"mastodon\","
              "\"source\":\"timeline\",\"object\":{\"id\":\"1\",\"content\":\"<p>\xc3\xa9</p>\"}}\n"
              "{\"fetched_at\":\"2026-12-03T20:00:00.000Z\",\"platform\":\"mastodon\","
              "\"source\":\"timeline\",\"object\":{\"id\":\"2\"}}\n");
    free(text);
    struct seen s = {0};
    size_t corrupt = 99;
    assert_int_equal(ck_journal_read(path, collect, &s, &corrupt, &err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(corrupt, 0);
    assert_string_equal(s.ids[1], "2");
    json_decref(objs[0]);
    json_decref(objs[1]);
}

/* Issue 11: a session with several sources says on each line which one it
 * came from; a line without "from" is the first source's. */
static void test_append_from(void **st)
{
    (void)st;
    char path[300];
    snprintf(path, sizeof path, "%s/journal-from.jsonl", dir);
    struct ck_journal *j;
    struct ck_error err = {0};
    assert_int_equal(ck_journal_open(path, &j, &err), 0);
    json_t *o = json_pack("{s:s}", "id", "1");
    assert_int_equal(ck_journal_append_from(j, "mastodon", "mastodon:https://b.example", "timeline",
                                            1796328000000LL, &o, 1, &err),
                     0);
    ck_journal_close(j);
    size_t len;
    char *text = slurp(path, &len);
    assert_string_equal(text, "{\"fetched_at\":\"2026-12-03T20:00:00.000Z\",\"platform\":"
                              "\"mastodon\",\"from\":\"mastodon:https://b.example\",\"source\":"
                              "\"timeline\",\"object\":{\"id\":\"1\"}}\n");
    free(text);
    json_t *with = json_pack("{s:s}", "from", "b"), *without = json_object();
    assert_true(ck_journal_entry_is_from(with, "b", 0));
    assert_false(ck_journal_entry_is_from(with, "a", 1));
    assert_true(ck_journal_entry_is_from(without, "a", 1));
    assert_false(ck_journal_entry_is_from(without, "b", 0));
    assert_true(ck_journal_entry_is_from(with, NULL, 0)); /* one source: every line */
    json_decref(with);
    json_decref(without);
    json_decref(o);
}

static void test_torn_tail_is_cut_and_corrupt_lines_skipped(void **st)
{
    (void)st;
    char path[300];
    snprintf(path, sizeof path, "%s/torn.jsonl", dir);
    FILE *f = fopen(path, "wb");
    fputs("{\"object\":{\"id\":\"a\"}}\n", f);
    fputs("this is not json\n", f);
    fputs("{\"no_object\":1}\n", f);
    fputs("{\"object\":{\"id\":\"b\"}}\n", f);
    fputs("{\"object\":{\"id\":\"c\"", f); /* torn: a crash mid-write */
    fclose(f);
    struct ck_journal *j;
    struct ck_error err = {0};
    assert_int_equal(ck_journal_open(path, &j, &err), 0);
    assert_int_equal(ck_journal_lines(j), 4);
    json_t *o = json_pack("{s:s}", "id", "d");
    assert_int_equal(ck_journal_append(j, "mastodon", "sweep", 0, &o, 1, &err), 0);
    json_decref(o);
    ck_journal_close(j);
    struct seen s = {0};
    size_t corrupt = 0;
    assert_int_equal(ck_journal_read(path, collect, &s, &corrupt, &err), 0);
    assert_int_equal(corrupt, 2);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.ids[0], "a");
    assert_string_equal(s.ids[1], "b");
    assert_string_equal(s.ids[2], "d");
    assert_int_equal(s.linenos[2], 5);
}

/* The archive's reader builds each line's tree in a reused block: it must see
 * exactly what the plain reader sees, corrupt lines and a line bigger than the
 * block (1 MB) included. */
static void test_transient_read_matches(void **st)
{
    (void)st;
    char path[300];
    snprintf(path, sizeof path, "%s/transient.jsonl", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\"object\":{\"id\":\"a\",\"tags\":[{\"name\":\"x\"},{\"name\":\"y\"}]}}\n", f);
    fputs("{\"object\":{\"id\":\n", f); /* corrupt */
    fputs("{\"object\":{\"id\":\"big\",\"content\":\"", f);
    for (int i = 0; i < (3 << 20) / 64; i++)
        fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", f);
    fputs("\"}}\n", f);
    for (int i = 0; i < 10; i++)
        fprintf(f, "{\"object\":{\"id\":\"n%d\",\"n\":%d}}\n", i, i);
    fclose(f);
    struct seen plain = {0}, transient = {0};
    size_t c1 = 0, c2 = 0;
    struct ck_error err = {0};
    assert_int_equal(ck_journal_read(path, collect, &plain, &c1, &err), 0);
    assert_int_equal(ck_journal_read_transient(path, collect, &transient, &c2, &err), 0);
    assert_int_equal(plain.n, 12);
    assert_int_equal(c1, 1);
    assert_int_equal(c2, c1);
    assert_int_equal(transient.n, plain.n);
    for (size_t i = 0; i < plain.n; i++) {
        assert_string_equal(transient.ids[i], plain.ids[i]);
        assert_int_equal(transient.linenos[i], plain.linenos[i]);
    }
    assert_string_equal(transient.ids[1], "big");
    /* After the window jansson allocates and frees with malloc again. */
    json_t *after = json_pack("{s:s}", "id", "after");
    assert_non_null(after);
    json_decref(after);
}

/* The block itself: reused after a reset, malloc for what does not fit, and
 * free for what malloc made before the window (LeakSanitizer, in the CI's
 * sanitizer build, fails the test if either is lost). */
static void test_jarena_block(void **st)
{
    (void)st;
    json_t *before = json_pack("{s:s}", "made", "before");
    assert_int_equal(ck_jarena_begin(4096), 0);
    json_t *a = json_object();
    assert_non_null(a);
    /* Not freed, and yet the next value after a reset takes its place: only
     * the block gives out memory that is still in use (malloc never would). */
    ck_jarena_reset();
    json_t *b = json_object();
    assert_ptr_equal(a, b);
    json_decref(b);
    ck_jarena_reset();
    char big[8192];
    memset(big, 'z', sizeof big);
    json_t *s = json_stringn(big, sizeof big); /* bigger than the block */
    assert_non_null(s);
    assert_int_equal(json_string_length(s), sizeof big);
    assert_int_equal(json_string_value(s)[sizeof big - 1], 'z');
    json_decref(s);
    json_decref(before);
    ck_jarena_end();
}

static void test_append_rejects_non_objects(void **st)
{
    (void)st;
    char path[300];
    snprintf(path, sizeof path, "%s/reject.jsonl", dir);
    struct ck_journal *j;
    struct ck_error err = {0};
    assert_int_equal(ck_journal_open(path, &j, &err), 0);
    json_t *objs[2] = {json_pack("{s:s}", "id", "1"), json_integer(3)};
    assert_int_equal(ck_journal_append(j, "mastodon", "timeline", 0, objs, 2, &err), CK_EINVAL);
    assert_int_equal(ck_journal_lines(j), 0);
    ck_journal_close(j);
    size_t len;
    char *text = slurp(path, &len);
    assert_int_equal(len, 0);
    free(text);
    json_decref(objs[0]);
    json_decref(objs[1]);
}

static void test_missing_journal_reads_empty(void **st)
{
    (void)st;
    struct seen s = {0};
    assert_int_equal(ck_journal_read("/nonexistent/ck/journal.jsonl", collect, &s, NULL, NULL), 0);
    assert_int_equal(s.n, 0);
}

static void test_state_roundtrip_and_corrupt(void **st)
{
    (void)st;
    char path[300];
    snprintf(path, sizeof path, "%s/state.json", dir);
    json_t *state;
    struct ck_error err = {0};
    assert_int_equal(ck_state_load(path, &state, &err), 0); /* missing: empty */
    assert_int_equal(json_object_size(state), 0);
    json_object_set_new(state, "cursor", json_string("117020593741189701"));
    json_object_set_new(state, "a", json_integer(1));
    assert_int_equal(ck_state_save(path, state, &err), 0);
    json_decref(state);
    size_t len;
    char *text = slurp(path, &len);
    assert_string_equal(text, "{\n  \"a\": 1,\n  \"cursor\": \"117020593741189701\"\n}\n");
    free(text);
    assert_int_equal(ck_state_load(path, &state, &err), 0);
    assert_string_equal(json_string_value(json_object_get(state, "cursor")), "117020593741189701");
    json_decref(state);
    /* No temp file is left behind. */
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);

    FILE *f = fopen(path, "wb");
    fputs("{\"cursor\": ", f);
    fclose(f);
    ck_error_clear(&err);
    assert_int_equal(ck_state_load(path, &state, &err), CK_ECORRUPT);
    assert_null(state);
    assert_non_null(strstr(err.msg, "state.json:1:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_format_and_read),
        cmocka_unit_test(test_append_from),
        cmocka_unit_test(test_torn_tail_is_cut_and_corrupt_lines_skipped),
        cmocka_unit_test(test_transient_read_matches),
        cmocka_unit_test(test_jarena_block),
        cmocka_unit_test(test_append_rejects_non_objects),
        cmocka_unit_test(test_missing_journal_reads_empty),
        cmocka_unit_test(test_state_roundtrip_and_corrupt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
