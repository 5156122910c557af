/* The write-up's data: highlight selection (well-liked, distinct people,
 * never question posts, boosts or deleted posts), counts, dates, and the
 * rendered Markdown and HTML (hostile text stays text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/writeup.h"

static const char session_json[] =
    "{\"title\": \"Online networks\", \"hashtag\": \"uklibchat\", \"timezone\": \"Europe/London\","
    " \"start\": \"2026-12-03T20:00\", \"duration\": \"1h\","
    " \"platform\": {\"type\": \"mastodon\", \"base_url\": \"https://glammr.us\"}, \"post\": false,"
    " \"facilitators\": [\"@host@glammr.us\"],"
    " \"questions\": [{\"at\": \"5m\", \"text\": \"How do you use networks for CPD?\"},"
    "                 {\"at\": \"20m\", \"text\": \"What stops colleagues?\"}],"
    " \"publish\": {\"transcript_url\": \"https://blog.example/archive/transcript.html\"}}";

static json_t *msg(const char *id, const char *who, int q, const char *by, int likes,
                   const char *text)
{
    char handle[64];
    snprintf(handle, sizeof handle, "@%s@glammr.us", who);
    json_t *m =
        json_pack("{s:s s:s s:s s:{s:s s:s s:s s:s} s:s s:n s:n s:{s:i s:i s:i} s:[i] s:s}", "id",
                  id, "url", "https://glammr.us/@x/1", "created_at", "2026-12-03T20:06:00Z",
                  "author", "id", who, "handle", handle, "name", who, "url", "https://glammr.us/@x",
                  "text", text, "reply_to", "boost_of", "counts", "replies", 0, "boosts", 0,
                  "likes", likes, "questions", q, "assigned_by", by);
    assert_non_null(m);
    return m;
}

static json_t *messages(void)
{
    json_t *a = json_array();
    json_array_append_new(a, msg("1", "host", 1, "question", 50, "Q1 How do you use networks?"));
    json_array_append_new(a, msg("2", "alice", 1, "tag", 5, "A1 mailing lists"));
    json_array_append_new(a, msg("3", "alice", 1, "tag", 10, "A1 and Mastodon, lots"));
    json_array_append_new(a, msg("4", "bob", 1, "reply", 1, "same here"));
    json_array_append_new(a,
                          msg("5", "carol", 1, "time", 3, "<script>alert(1)</script> *webinars*"));
    json_array_append_new(a, msg("6", "dave", 1, "tag", 100, "A1 deleted later"));
    json_t *boost = msg("7", "erin", 1, "tag", 99, "A1 boosted");
    json_object_set_new(boost, "boost_of", json_string("3"));
    json_array_append_new(a, boost);
    json_array_append_new(a, msg("8", "bob", 2, "tag", 2, "A2 time"));
    return a;
}

/* A digest of msgs (each added once, oldest first), as ck_writeup_load makes it. */
static struct ck_writeup_digest *digest(const struct ck_session *s, json_t *msgs,
                                        const json_t *deleted)
{
    struct ck_writeup_digest *dg = NULL;
    size_t i;
    json_t *m;
    assert_int_equal(ck_writeup_digest_create(s, deleted, &dg), 0);
    json_array_foreach(msgs, i, m) assert_int_equal(ck_writeup_digest_add(dg, m), 0);
    return dg;
}

static const char *hid(const json_t *picked, size_t i)
{
    return json_string_value(json_object_get(json_array_get(picked, i), "id"));
}

static void test_pick_prefers_liked_distinct_people(void **state)
{
    (void)state;
    json_t *m = messages(), *deleted = json_pack("[s]", "6"), *used = json_object(), *picked;
    assert_int_equal(ck_writeup_pick(m, 1, deleted, 3, used, &picked), 0);
    /* dave's is deleted, erin's is a boost, the host's is the question, and
     * alice's better-liked answer stands for her. */
    assert_int_equal(json_array_size(picked), 3);
    assert_string_equal(hid(picked, 0), "3");
    assert_string_equal(hid(picked, 1), "5");
    assert_string_equal(hid(picked, 2), "4");
    assert_non_null(json_object_get(used, "@alice@glammr.us"));
    json_decref(picked);

    /* Someone quoted under another question comes after people not quoted yet. */
    json_t *used2 = json_pack("{s:b}", "@alice@glammr.us", 1);
    assert_int_equal(ck_writeup_pick(m, 1, deleted, 2, used2, &picked), 0);
    assert_int_equal(json_array_size(picked), 2);
    assert_string_equal(hid(picked, 0), "5");
    assert_string_equal(hid(picked, 1), "4");
    json_decref(picked);
    json_object_clear(used2);
    json_object_set_new(used2, "@alice@glammr.us", json_true());
    assert_int_equal(ck_writeup_pick(m, 1, deleted, 3, used2, &picked), 0);
    assert_string_equal(hid(picked, 2), "3");
    json_decref(picked);

    /* Without the deletion, dave's well-liked answer leads. */
    json_t *none = json_array(), *used3 = json_object();
    assert_int_equal(ck_writeup_pick(m, 1, none, 1, used3, &picked), 0);
    assert_string_equal(hid(picked, 0), "6");
    json_decref(picked);
    json_decref(none);
    json_decref(used3);
    json_decref(used2);
    json_decref(used);
    json_decref(deleted);
    json_decref(m);
}

static void test_data_and_render(void **state)
{
    (void)state;
    struct ck_session s = {0};
    struct ck_error err = {0};
    if (ck_session_load_buffer("s.json", session_json, strlen(session_json), &s, &err) != 0)
        fail_msg("%s", err.msg);
    json_t *m = messages(), *deleted = json_pack("[s]", "6"), *d = NULL;
    struct ck_writeup_digest *dg = digest(&s, m, deleted);
    assert_int_equal(ck_writeup_data(dg, deleted, &d, &err), 0);
    json_t *q1 = json_array_get(json_object_get(d, "questions"), 0);
    assert_int_equal(json_integer_value(json_object_get(q1, "answers")), 4);
    assert_int_equal(json_integer_value(json_object_get(q1, "people_count")), 3);
    assert_int_equal(json_array_size(json_object_get(q1, "highlights")), 3);
    assert_string_equal(json_string_value(json_object_get(d, "date_local")),
                        "Thursday 3 December 2026");
    assert_string_equal(json_string_value(json_object_get(d, "time_local")), "20:00 GMT");
    assert_string_equal(json_string_value(json_object_get(d, "date_iso")), "2026-12-03");
    /* host, alice, bob, carol, bob's A2: the boost and the deleted post don't count. */
    assert_int_equal(json_integer_value(json_object_get(d, "participants_count")), 4);
    assert_int_equal(json_integer_value(json_object_get(d, "messages_count")), 6);

    char *md = NULL, *html = NULL;
    if (ck_writeup_format(&s, d, &md, &html, &err) != 0)
        fail_msg("%s", err.msg);
    assert_non_null(strstr(md, "## Q1. How do you use networks for CPD?"));
    assert_non_null(strstr(md, "A1 and Mastodon, lots"));
    assert_null(strstr(md, "deleted later"));
    assert_non_null(strstr(md, "https://blog.example/archive/transcript.html"));
    assert_non_null(strstr(html, "<blockquote>"));
    assert_non_null(strstr(html, "Mastodon, lots"));
    /* Hostile text is shown, never run, and its markup stays literal. */
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "&lt;script&gt;"));
    assert_non_null(strstr(html, "*webinars*"));
    assert_non_null(strstr(html, "href=\"https://blog.example/archive/transcript.html\""));
    free(md);
    free(html);
    json_decref(d);
    ck_writeup_digest_destroy(dg);
    json_decref(deleted);
    json_decref(m);
    ck_session_finish(&s);
}

/* Issue 14, rule 8: the answers counted and quoted are the participants';
 * the hosts' own posts under a question are not answers; a highlight makes
 * sense on its own: never a reply without a label of its own, nor a quote
 * with nothing of its own ("THIS."); a quote in its own words may be one. */
static void test_answers_are_participants(void **state)
{
    (void)state;
    struct ck_session s = {0};
    struct ck_error err = {0};
    if (ck_session_load_buffer("s.json", session_json, strlen(session_json), &s, &err) != 0)
        fail_msg("%s", err.msg);
    json_t *a = json_array();
    json_array_append_new(a, msg("1", "host", 1, "question", 50, "Q1 How do you use networks?"));
    json_array_append_new(a, msg("2", "host", 1, "time", 90, "Great answers! Q2 in 2 minutes"));
    json_t *r = msg("3", "bob", 1, "reply", 80, "@alice exactly, that");
    json_object_set_new(r, "reply_to", json_string("4"));
    json_array_append_new(a, r);
    json_array_append_new(a, msg("4", "alice", 1, "tag", 1, "A1 mailing lists"));
    json_t *quote = msg("5", "carol", 1, "tag", 70, "THIS.");
    json_object_set_new(quote, "quote_of", json_string("4"));
    json_array_append_new(a, quote);
    json_t *lab = msg("6", "dave", 1, "tag", 2, "@alice A1 and forums");
    json_object_set_new(lab, "reply_to", json_string("4"));
    json_array_append_new(a, lab);
    /* A quote in the participant's own words answers, and may be a
     * highlight; the host's is not an answer however well said. */
    json_t *own = msg("7", "erin", 1, "tag", 60,
                      "A1 we run a journal club for new staff on it https://glammr.us/@alice/4");
    json_object_set_new(own, "quote_of", json_string("4"));
    json_array_append_new(a, own);
    json_t *hq = msg("8", "host", 1, "time", 95,
                     "So much this, lists are underrated by everyone "
                     "https://glammr.us/@alice/4");
    json_object_set_new(hq, "quote_of", json_string("4"));
    json_array_append_new(a, hq);
    json_t *deleted = json_array(), *d = NULL;
    struct ck_writeup_digest *dg = digest(&s, a, deleted);
    assert_int_equal(ck_writeup_data(dg, deleted, &d, &err), 0);
    json_t *q1 = json_array_get(json_object_get(d, "questions"), 0);
    assert_int_equal(json_integer_value(json_object_get(q1, "answers")), 5); /* not the host's */
    assert_int_equal(json_integer_value(json_object_get(d, "answers_count")), 5);
    json_t *hl = json_object_get(q1, "highlights");
    assert_int_equal(json_array_size(hl), 3);
    assert_string_equal(hid(hl, 0), "7");
    assert_string_equal(hid(hl, 1), "6");
    assert_string_equal(hid(hl, 2), "4");
    json_decref(d);
    ck_writeup_digest_destroy(dg);
    json_decref(deleted);
    json_decref(a);
    ck_session_finish(&s);
}

/* A deterministic chat of n messages from few people under two questions,
 * with ties, boosts, question posts, empty posts, answers to both questions
 * and one prolific, well-liked person who would crowd a plain top-N list. */
static json_t *big_chat(size_t n)
{
    json_t *a = json_array();
    unsigned long r = 12345;
    for (size_t i = 0; i < n; i++) {
        r = r * 6364136223846793005UL + 1442695040888963407UL;
        unsigned long x = r >> 33;
        char id[32], who[32], at[32];
        snprintf(id, sizeof id, "%06zu", i);
        snprintf(who, sizeof who, "p%lu", x % 97 < 20 ? 0 : x % 150);
        int q = 1 + (int)(x / 7 % 2), likes = x % 97 < 20 ? 9 + (int)(x % 3) : (int)(x / 11 % 9);
        json_t *m = msg(id, who, q, x % 53 == 0 ? "question" : "tag", likes,
                        x % 41 == 0 ? "" : "an answer");
        snprintf(at, sizeof at, "2026-12-03T20:%02lu:%02luZ", 5 + x / 13 % 50, x / 17 % 60);
        json_object_set_new(m, "created_at", json_string(at));
        json_object_set_new(json_object_get(m, "counts"), "boosts",
                            json_integer((long)(x / 19 % 3)));
        if (x % 29 == 0)
            json_object_set_new(m, "boost_of", json_string("000001"));
        if (x % 31 == 0)
            json_array_append_new(json_object_get(m, "questions"), json_integer(3 - q));
        json_array_append_new(a, m);
    }
    return a;
}

/* What the write-up said before the digest, from every message at once. */
static void expect_full_scan(const json_t *all, const json_t *deleted, const json_t *d)
{
    json_t *used = json_object(), *everyone = json_object(), *m;
    size_t i, k;
    json_int_t total = 0;
    json_array_foreach(all, i, m)
    {
        if (json_is_string(json_object_get(m, "boost_of")))
            continue;
        const char *id = json_string_value(json_object_get(m, "id"));
        bool gone = false;
        for (k = 0; k < json_array_size(deleted); k++)
            gone |= strcmp(json_string_value(json_array_get(deleted, k)), id) == 0;
        if (gone)
            continue;
        total++;
        json_object_set(everyone,
                        json_string_value(json_object_get(json_object_get(m, "author"), "handle")),
                        json_true());
    }
    assert_int_equal(json_integer_value(json_object_get(d, "messages_count")), total);
    assert_int_equal(json_integer_value(json_object_get(d, "participants_count")),
                     json_object_size(everyone));
    for (int q = 1; q <= 2; q++) {
        json_t *picked, *dq = json_array_get(json_object_get(d, "questions"), (size_t)q - 1);
        json_t *hl = json_object_get(dq, "highlights");
        assert_int_equal(ck_writeup_pick(all, q, deleted, CK_WRITEUP_HIGHLIGHTS, used, &picked), 0);
        assert_int_equal(json_array_size(hl), json_array_size(picked));
        for (k = 0; k < json_array_size(picked); k++)
            assert_string_equal(json_string_value(json_object_get(json_array_get(hl, k), "id")),
                                hid(picked, k));
        json_decref(picked);
    }
    json_decref(used);
    json_decref(everyone);
}

/* The digest keeps a bounded number of messages, yet picks what a scan of
 * every message picks, also as publish deletes quoted posts round by round
 * (up to three of one person's answers per question: after that, someone
 * else steps up where a full scan would try that person's next answer). */
static void test_digest_matches_full_scan(void **state)
{
    (void)state;
    struct ck_session s = {0};
    struct ck_error err = {0};
    if (ck_session_load_buffer("s.json", session_json, strlen(session_json), &s, &err) != 0)
        fail_msg("%s", err.msg);
    json_t *all = big_chat(3000), *deleted = json_pack("[s]", "000007"), *d, *q, *h;
    struct ck_writeup_digest *dg = digest(&s, all, deleted);
    size_t kept = 0, i, j;
    json_array_foreach(all, i, h) kept += h->refcount > 1;
    assert_true(kept <= 2 * (CK_WRITEUP_HIGHLIGHTS * 2 + 20) * 3);
    for (int round = 0; round < 8; round++) {
        assert_int_equal(ck_writeup_data(dg, deleted, &d, &err), 0);
        if (round < 3)
            expect_full_scan(all, deleted, d);
        /* Publish finds every quoted post gone; others always step up. */
        json_array_foreach(json_object_get(d, "questions"), i, q)
        {
            json_t *hl = json_object_get(q, "highlights");
            assert_int_equal(json_array_size(hl), CK_WRITEUP_HIGHLIGHTS);
            json_array_foreach(hl, j, h) json_array_append(deleted, json_object_get(h, "id"));
        }
        json_decref(d);
    }
    ck_writeup_digest_destroy(dg);
    json_decref(deleted);
    json_decref(all);
    ck_session_finish(&s);
}

/* The built-in template is config/writeup.md.tmpl, byte for byte. */
static void test_default_template_is_the_config_file(void **state)
{
    (void)state;
    const char *root = getenv("CK_SOURCE_ROOT");
    if (root == NULL)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/config/writeup.md.tmpl", root);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, ck_writeup_default_template);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_prefers_liked_distinct_people),
        cmocka_unit_test(test_data_and_render),
        cmocka_unit_test(test_answers_are_participants),
        cmocka_unit_test(test_digest_matches_full_scan),
        cmocka_unit_test(test_default_template_is_the_config_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
