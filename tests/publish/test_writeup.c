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
    assert_int_equal(ck_writeup_data(&s, m, deleted, &d, &err), 0);
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
    json_decref(deleted);
    json_decref(m);
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
        cmocka_unit_test(test_default_template_is_the_config_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
