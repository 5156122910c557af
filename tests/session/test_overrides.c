/* overrides.json (src/session/overrides.c): every error names file:line:column
 * and the field, unknown keys get "did you mean", question numbers are
 * checked against the session, and ids no message has are warned about with
 * their position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/overrides.h"

static void parse_fails(const char *text, int n_questions, const char *want)
{
    struct ck_overrides ov;
    struct ck_error err = {0};
    int rc = ck_overrides_parse("ov.json", text, strlen(text), n_questions, &ov, &err);
    if (rc != CK_ECONFIG || strcmp(err.msg, want) != 0)
        fail_msg("%s: rc %d, \"%s\", want \"%s\"", text, rc, err.msg, want);
    assert_null(ov.doc);
    assert_int_equal(ov.n_refs, 0);
}

static void test_errors(void **st)
{
    (void)st;
    parse_fails("{\n  \"hidee\": []\n}", 6,
                "ov.json:2:3: field 'hidee': unknown field 'hidee' (did you mean 'hide'?)");
    parse_fails("{\"mvoe\": {}}", 6,
                "ov.json:1:2: field 'mvoe': unknown field 'mvoe' (did you mean 'move'?)");
    parse_fails("{\"colour\": 1}", 6, "ov.json:1:2: field 'colour': unknown field 'colour'");
    parse_fails("{\"hide\": [\"1\",]}", 6, "ov.json:1:15: unexpected token near ']'");
    parse_fails("{\"hide\": [\"1\"]\n", 6, "ov.json:2:1: '}' expected near end of file");
    parse_fails("{\"hide\": [], \"hide\": []}", 6,
                "ov.json:1:19: duplicate object key near '\"hide\"'");
    parse_fails("[]", 6,
                "ov.json:1:1: expected a JSON object like {\"move\": {\"ID\": [3]}, \"hide\": "
                "[\"ID\"], \"opt_out\": [\"@user@domain\"]}");
    parse_fails("{\"move\": []}", 6,
                "ov.json:1:10: field 'move': expected an object mapping message ids to question "
                "numbers, like {\"123\": [3]}, got an array");
    parse_fails("{\"move\": {\"a\": 3}}", 6,
                "ov.json:1:16: field 'move.a': expected an array of question numbers, like [3], "
                "got 3");
    parse_fails("{\"move\": {\"a\": [\"1\"]}}", 6,
                "ov.json:1:17: field 'move.a[0]': expected a question number, got \"1\"");
    parse_fails("{\"move\": {\"a\": [1, 2, 3, 4, 5, 6, 7, 8, 9]}}", 6,
                "ov.json:1:16: field 'move.a': at most 8 question numbers, got 9");
    parse_fails("{\"move\": {\"a\": [2,\n 9]}}", 6,
                "ov.json:2:2: field 'move.a[1]': no question 9 (the session has questions 1 to 6)");
    parse_fails(
        "{\"move\": {\"a\": [0]}}", 6,
        "ov.json:1:17: field 'move.a[0]': no question 0 (the session has questions 1 to 6)");
    parse_fails("{\"move\": {\"a\": [1]}}", 0,
                "ov.json:1:17: field 'move.a[0]': no question 1 (the session has none)");
    parse_fails("{\"move\": {\"\": [1]}}", 6,
                "ov.json:1:11: field 'move.': expected a message id, "
                "got \"\"");
    parse_fails("{\"hide\": \"a\"}", 6,
                "ov.json:1:10: field 'hide': expected an array of message ids, got \"a\"");
    parse_fails("{\"hide\": [\"\"]}", 6,
                "ov.json:1:11: field 'hide[0]': expected a message id, got \"\"");
    parse_fails("{\"opt_out\": [1]}", 6,
                "ov.json:1:14: field 'opt_out[0]': expected a handle like @user@domain, got 1");
}

struct warnings {
    int n;
    char lines[4][512];
};

static void collect(const char *line, void *arg)
{
    struct warnings *w = arg;
    if (w->n < 4)
        snprintf(w->lines[w->n], sizeof w->lines[0], "%s", line);
    w->n++;
}

static void test_unknown_ids(void **st)
{
    (void)st;
    const char *text = "{\n"
                       "  \"move\": {\"b\": [2], \"zz\": []},\n"
                       "  \"hide\": [\"a\", \"nope\", \"b\"],\n"
                       "  \"opt_out\": [\"@carol\"]\n"
                       "}\n";
    struct ck_overrides ov;
    struct ck_error err = {0};
    assert_int_equal(ck_overrides_parse("ov.json", text, strlen(text), 3, &ov, &err), 0);
    assert_non_null(ov.doc);
    /* Handles are not ids: only move keys and hide items are looked up. */
    assert_int_equal(ov.n_refs, 5);
    struct ck_group_msg m[3] = {{.id = "c"}, {.id = "b"}, {.id = "a"}};
    struct warnings w = {0};
    assert_int_equal(ck_overrides_unknown(&ov, m, 3, collect, &w), 2);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.lines[0], "ov.json:2:22: field 'move.zz': no message with id \"zz\" has "
                                    "been captured (a typo, or not fetched yet?); ignored until "
                                    "there is one");
    assert_string_equal(w.lines[1], "ov.json:3:17: field 'hide[1]': no message with id \"nope\" "
                                    "has been captured (a typo, or not fetched yet?); ignored "
                                    "until there is one");
    /* Once the messages are there, nothing to say. */
    struct ck_group_msg all[4] = {{.id = "nope"}, {.id = "zz"}, {.id = "b"}, {.id = "a"}};
    w.n = 0;
    assert_int_equal(ck_overrides_unknown(&ov, all, 4, collect, &w), 0);
    ck_overrides_finish(&ov);
    ck_overrides_finish(&ov); /* twice is harmless */

    /* An id with control characters is shown without them. */
    const char *hostile = "{\"hide\": [\"x\\u001b[2Jy\"]}";
    assert_int_equal(ck_overrides_parse("ov.json", hostile, strlen(hostile), 3, &ov, &err), 0);
    w.n = 0;
    assert_int_equal(ck_overrides_unknown(&ov, NULL, 0, collect, &w), 1);
    assert_null(strchr(w.lines[0], '\x1b'));
    ck_overrides_finish(&ov);
}

static void test_load(void **st)
{
    (void)st;
    struct ck_overrides ov;
    struct ck_error err = {0};
    /* No file: no overrides. */
    assert_int_equal(ck_overrides_load("/nonexistent/overrides.json", 3, &ov, &err), 0);
    assert_null(ov.doc);
    assert_int_equal(ck_overrides_unknown(&ov, NULL, 0, NULL, NULL), 0);
    ck_overrides_finish(&ov);

    char path[] = "/tmp/ck-overrides-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"move\": {\"1\": [7]}}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(ck_overrides_load(path, 6, &ov, &err), CK_ECONFIG);
    char want[256];
    snprintf(want, sizeof want,
             "%s:1:17: field 'move.1[0]': no question 7 (the session has questions 1 to 6)", path);
    assert_string_equal(err.msg, want);
    ck_error_clear(&err);
    assert_int_equal(ck_overrides_load(path, 7, &ov, &err), 0);
    assert_int_equal(ov.n_refs, 1);
    assert_int_equal(ov.refs[0].line, 1);
    assert_int_equal(ov.refs[0].col, 11);
    ck_overrides_finish(&ov);
    unlink(path);
    assert_int_equal(ck_overrides_load("/tmp", 6, &ov, &err), CK_ECONFIG);
    assert_string_equal(err.msg, "/tmp: is a directory, not a file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unknown_ids),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
