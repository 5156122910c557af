/* Records as views (src/store/record.c): the JSON the archive writes, the
 * binary form it reads back, and the view of a parsed messages.jsonl line
 * must all say the same thing; a damaged binary record is refused, never
 * read past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/error.h"
#include "chatkeeper/record.h"

static const struct ck_message full = {
    .id = "117",
    .platform = "mastodon",
    .url = "https://glammr.us/@bob/117",
    .created_ms = 1764792015250,
    .author = {.id = "7",
               .handle = "@bob@glammr.us",
               .name = "<img src=x onerror=alert(1)> \xE2\x80\xAE \"q\" \\",
               .url = "https://glammr.us/@bob"},
    .text = "A1 \"quoted\"\nline\t\x01 \xF0\x9F\x99\x82",
    .reply_to = "116",
    .boost_of = NULL,
    .edited_at = "2025-12-03T20:01:00.000Z",
    .replies = 1,
    .boosts = -2,
    .likes = 9223372036854775807L,
};

static const struct ck_message sparse = {.id = "1", .platform = "mastodon", .boost_of = "0"};

/* uri and quote_of (X, Bluesky) are written after edited_at, only when set. */
static const struct ck_message quoting = {
    .id = "1576995594388000768",
    .platform = "x",
    .url = "https://x.com/dappdavid99/status/1576995594388000768",
    .text = "Test \"q\"",
    .uri = "https://x.com/i/web/status/1576995594388000768",
    .quote_of = "1576994746135764992",
};

static char *jansson_line(const struct ck_message *m)
{
    json_t *j = ck_message_to_json(m);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(s);
    return s;
}

static char *record_line(const struct ck_record *r, bool with_group)
{
    struct ck_sbuf b = {0};
    ck_record_write_json(r, with_group, &b);
    assert_false(b.oom);
    assert_non_null(b.s);
    assert_true(b.len > 0 && b.s[b.len - 1] == '\n');
    b.s[b.len - 1] = '\0';
    return b.s;
}

/* The record writer gives jansson's bytes, nulls and hostile strings included. */
static void test_json_matches_jansson(void **state)
{
    const struct ck_message *ms[] = {&full, &sparse, &quoting};
    for (size_t i = 0; i < 3; i++) {
        struct ck_record r;
        ck_record_from_message(ms[i], &r);
        char *mine = record_line(&r, false), *ref = jansson_line(ms[i]);
        assert_string_equal(mine, ref);
        assert_true((strstr(mine, "\"uri\":") != NULL) == (i == 2));
        if (i == 2) {
            assert_non_null(strstr(mine,
                                   "\"edited_at\":null,\"uri\":\"https://x.com/i/web/status/"
                                   "1576995594388000768\",\"quote_of\":\"1576994746135764992\","
                                   "\"counts\""));
            /* And read back from the line as a view. */
            json_t *j = json_loads(mine, 0, NULL);
            struct ck_record v;
            assert_int_equal(ck_record_from_json(j, &v), 0);
            assert_string_equal(v.uri, quoting.uri);
            assert_string_equal(v.quote_of, quoting.quote_of);
            json_decref(j);
        }
        free(mine);
        free(ref);
    }
}

static void grouped(struct ck_record *r)
{
    r->n_questions = 2;
    r->questions[0] = 3;
    r->questions[1] = 1;
    r->assigned_by = "tag";
}

/* Binary and back: every field, the grouping too. */
static void test_binary_round_trip(void **state)
{
    const struct ck_message *ms[] = {&full, &sparse, &quoting};
    for (size_t i = 0; i < 3; i++) {
        struct ck_record r, back;
        ck_record_from_message(ms[i], &r);
        if (i == 0)
            grouped(&r);
        struct ck_sbuf b = {0};
        ck_record_encode(&r, &b);
        ck_record_encode(&r, &b); /* two in a row: the first's length finds the second */
        assert_false(b.oom);
        size_t used;
        assert_int_equal(ck_record_decode(b.s, b.len, &back, &used), 0);
        assert_int_equal(used * 2, b.len);
        char *x = record_line(&r, true), *y = record_line(&back, true);
        assert_string_equal(x, y);
        assert_int_equal(back.created_ms, r.created_ms);
        assert_int_equal(back.nulls, r.nulls);
        assert_int_equal(back.n_questions, i == 0 ? 2 : 0);
        if (i == 2) {
            assert_string_equal(back.uri, quoting.uri);
            assert_string_equal(back.quote_of, quoting.quote_of);
        }
        if (i == 1)
            assert_null(back.assigned_by);
        free(y);
        assert_int_equal(ck_record_decode(b.s + used, b.len - used, &back, &used), 0);
        y = record_line(&back, true);
        assert_string_equal(x, y);
        free(x);
        free(y);
        free(b.s);
    }
}

/* Every truncation and every length that lies is refused. */
static void test_binary_damage(void **state)
{
    struct ck_record r, back;
    ck_record_from_message(&full, &r);
    grouped(&r);
    struct ck_sbuf b = {0};
    ck_record_encode(&r, &b);
    assert_false(b.oom);
    size_t used;
    for (size_t n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past them. */
        char *cut = malloc(n + 1);
        assert_non_null(cut);
        memcpy(cut, b.s, n);
        assert_int_equal(ck_record_decode(cut, n, &back, &used), CK_ECORRUPT);
        free(cut);
    }
    /* A length that claims less than the record holds, or a string without
     * its NUL, or too many questions. */
    uint32_t len;
    memcpy(&len, b.s, sizeof len);
    uint32_t shorter = len - 1;
    memcpy(b.s, &shorter, sizeof shorter);
    assert_int_equal(ck_record_decode(b.s, b.len, &back, &used), CK_ECORRUPT);
    memcpy(b.s, &len, sizeof len);
    b.s[b.len - 1] = 'x';
    assert_int_equal(ck_record_decode(b.s, b.len, &back, &used), CK_ECORRUPT);
    b.s[b.len - 1] = '\0';
    b.s[sizeof len + 4 * sizeof(int64_t) + 2] = CK_RECORD_MAX_QUESTIONS + 1;
    assert_int_equal(ck_record_decode(b.s, b.len, &back, &used), CK_ECORRUPT);
    free(b.s);
}

/* A parsed line gives the same view: written again, the same bytes; and
 * ck_record_to_json builds the same object. */
static void test_from_json_and_to_json(void **state)
{
    struct ck_record r, back;
    ck_record_from_message(&full, &r);
    grouped(&r);
    char *line = record_line(&r, true);
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    assert_non_null(j);
    assert_int_equal(ck_record_from_json(j, &back), 0);
    char *again = record_line(&back, true);
    assert_string_equal(line, again);
    json_t *built = ck_record_to_json(&r);
    assert_non_null(built);
    assert_true(json_equal(built, j));
    json_decref(built);
    free(again);
    json_decref(j);
    free(line);

    /* No id, or no readable time: not a message. */
    j = json_loads("{\"created_at\":\"2026-12-03T20:00:00Z\"}", 0, &je);
    assert_int_equal(ck_record_from_json(j, &back), CK_EPARSE);
    json_decref(j);
    j = json_loads("{\"id\":\"1\",\"created_at\":\"yesterday\"}", 0, &je);
    assert_int_equal(ck_record_from_json(j, &back), CK_EPARSE);
    json_decref(j);
    /* Missing counts read as absent, and are written as null. */
    j = json_loads("{\"id\":\"1\",\"created_at\":\"2026-12-03T20:00:00Z\",\"questions\":[\"x\",2]}",
                   0, &je);
    assert_int_equal(ck_record_from_json(j, &back), 0);
    assert_true(back.likes == CK_RECORD_NO_COUNT);
    assert_int_equal(back.n_questions, 1);
    assert_int_equal(back.questions[0], 2);
    assert_string_equal(back.text, "");
    json_decref(j);
    /* A question number of INT64_MIN is a number, not "no count": written
     * back as it was, and the line still matches jansson's. */
    j = json_loads("{\"id\":\"1\",\"created_at\":\"2026-12-03T20:00:00Z\","
                   "\"questions\":[-9223372036854775808,3],\"assigned_by\":\"override\"}",
                   0, &je);
    assert_non_null(j);
    assert_int_equal(ck_record_from_json(j, &back), 0);
    line = record_line(&back, true);
    assert_non_null(strstr(line, "\"questions\":[-9223372036854775808,3]"));
    json_t *rebuilt = json_loads(line, 0, &je);
    assert_non_null(rebuilt);
    assert_true(json_equal(json_object_get(rebuilt, "questions"), json_object_get(j, "questions")));
    json_decref(rebuilt);
    free(line);
    json_decref(j);
}

/* Spam (issue 14): messages.jsonl says "spam": true beside assigned_by, the
 * tree says the same, and a line with only the flag reads back as spam. */
static void test_spam_flag(void **state)
{
    (void)state;
    struct ck_record r, back;
    ck_record_from_message(&full, &r);
    r.assigned_by = "spam";
    char *line = record_line(&r, true);
    assert_non_null(strstr(line, "\"questions\":[],\"assigned_by\":\"spam\",\"spam\":true}"));
    free(line);
    json_t *j = ck_record_to_json(&r);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "spam")));
    json_decref(j);
    r.assigned_by = "tag";
    line = record_line(&r, true);
    assert_null(strstr(line, "\"spam\""));
    free(line);
    json_error_t je;
    j = json_loads("{\"id\":\"1\",\"created_at\":\"2026-12-03T20:00:00Z\",\"spam\":true}", 0, &je);
    assert_non_null(j);
    assert_int_equal(ck_record_from_json(j, &back), 0);
    assert_true(ck_record_is_spam(&back));
    json_decref(j);
    j = json_loads("{\"id\":\"1\",\"created_at\":\"2026-12-03T20:00:00Z\",\"spam\":false}", 0, &je);
    assert_int_equal(ck_record_from_json(j, &back), 0);
    assert_false(ck_record_is_spam(&back));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_matches_jansson),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_binary_damage),
        cmocka_unit_test(test_from_json_and_to_json),
        cmocka_unit_test(test_spam_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
