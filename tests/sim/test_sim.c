/* Unit tests for the simulator: script loading (good and bad), ids and their
 * order, timeline page selection, and Mastodon-style rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/sim.h"

static const char *script_path;

static void test_shipped_script(void **state)
{
    struct ck_sim_script s;
    struct ck_error err = {0};
    assert_int_equal(ck_sim_script_load(script_path, &s, &err), 0);
    assert_string_equal(s.hashtag, "uklibchat");
    assert_true(s.n_statuses >= 220);
    assert_int_equal(s.n_questions, 6);
    assert_null(s.accounts[s.self].domain);
    size_t tagged = 0, replies = 0, untagged_replies = 0;
    for (size_t i = 0; i < s.n_statuses; i++) {
        tagged += s.statuses[i].has_hashtag;
        replies += s.statuses[i].reply_to >= 0;
        untagged_replies += !s.statuses[i].has_hashtag && s.statuses[i].reply_to >= 0;
    }
    assert_true(tagged > 200);
    assert_true(replies > 50);
    assert_true(untagged_replies >= 2);
    ck_sim_script_finish(&s);
}

static void expect_bad(const char *json, const char *needle)
{
    struct ck_sim_script s;
    struct ck_error err = {0};
    int rc = ck_sim_script_load_string(json, "bad.json", &s, &err);
    assert_int_equal(rc, CK_ECONFIG);
    assert_non_null(strstr(err.msg, "bad.json"));
    if (strstr(err.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
    assert_int_equal(s.n_statuses, 0);
}

#define HEAD "{\"hashtag\":\"t\",\"self\":\"me\",\"accounts\":{\"me\":{\"username\":\"me\"}},"

static void test_bad_scripts(void **state)
{
    expect_bad("{\"hashtag\": \"t\",\n  \"self\": }", "bad.json:2:");
    expect_bad(HEAD "\"statuses\":[], \"colour\": 1}", "colour");
    expect_bad(HEAD "\"statuses\":[{\"at\":\"5 minutes\",\"account\":\"me\",\"text\":\"x\"}]}",
               "statuses[0].at");
    expect_bad(HEAD "\"statuses\":[{\"at\":\"5m\",\"account\":\"you\",\"text\":\"x\"}]}",
               "unknown account \"you\"");
    expect_bad(HEAD "\"statuses\":[{\"at\":\"5m\",\"account\":\"me\",\"text\":\"x\","
                    "\"reply_to\":\"nope\"}]}",
               "reply_to");
    expect_bad(HEAD "\"statuses\":[{\"at\":\"5m\",\"account\":\"me\"}]}", "exactly one of");
    expect_bad(HEAD "\"statuses\":[{\"key\":\"a\",\"at\":\"5m\",\"account\":\"me\",\"text\":\"x\"},"
                    "{\"key\":\"a\",\"at\":\"6m\",\"account\":\"me\",\"text\":\"y\"}]}",
               "duplicate key");
    expect_bad("{\"hashtag\":\"t\",\"self\":\"r\",\"accounts\":{\"r\":{\"username\":\"r\","
               "\"domain\":\"x.org\"}},\"statuses\":[]}",
               "must be local");
    expect_bad(HEAD "\"statuses\":[{\"at\":\"5m\",\"account\":\"me\",\"text\":\"x\","
                    "\"visible_delay\":\"-3s\"}]}",
               "visible_delay");
    expect_bad("{\"hashtag\":\"t\",\"hashtag\":\"u\",\"self\":\"me\"}", "duplicate");

    struct ck_sim_script s;
    struct ck_error err = {0};
    assert_int_equal(ck_sim_script_load("/nonexistent/x.json", &s, &err), CK_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.json"));
}

static void test_good_small_script(void **state)
{
    struct ck_sim_script s;
    struct ck_error err = {0};
    assert_int_equal(
        ck_sim_script_load_string(
            HEAD "\"statuses\":[{\"key\":\"q\",\"at\":\"-1h2m\",\"account\":\"me\","
                 "\"text\":\"Q1 #T\"},{\"at\":\"5m12s\",\"account\":\"me\",\"text\":\"#tea\","
                 "\"reply_to\":\"q\",\"media\":[\"alt\",\"\"],\"visible_delay\":\"40s\"}]}",
            "good.json", &s, &err),
        0);
    assert_int_equal(s.n_statuses, 2);
    assert_int_equal(s.statuses[0].at_ms, -(62 * 60000));
    assert_int_equal(s.statuses[1].at_ms, 5 * 60000 + 12000);
    assert_int_equal(s.statuses[1].delay_ms, 40000);
    assert_true(s.statuses[0].has_hashtag);
    assert_false(s.statuses[1].has_hashtag); /* #tea is not #t */
    assert_int_equal(s.statuses[1].reply_to, 0);
    assert_int_equal(s.statuses[1].n_media, 2);
    ck_sim_script_finish(&s);
}

static void test_ids(void **state)
{
    char a[24], b[24], c[24];
    ck_sim_id_make(1000, 0, a);
    assert_string_equal(a, "65536000");
    ck_sim_id_make(1000, 1, b);
    ck_sim_id_make(99999999999LL, 0, c);
    assert_true(ck_sim_id_cmp(a, b) < 0);
    assert_true(ck_sim_id_cmp(b, a) > 0);
    assert_true(ck_sim_id_cmp(a, a) == 0);
    assert_true(ck_sim_id_cmp("9", "10") < 0); /* numeric, not lexical */
    assert_true(ck_sim_id_cmp(c, a) > 0);
}

static const char *const IDS[] = {"10", "20", "30", "40", "50", "60", "70", "80", "90", "100"};

static void expect_page(struct ck_sim_page_req req, const char *want)
{
    size_t out[40];
    size_t n = ck_sim_page_select(IDS, 10, &req, out);
    char got[128] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(got, i ? "," : "", sizeof got - strlen(got) - 1);
        strncat(got, IDS[out[i]], sizeof got - strlen(got) - 1);
    }
    assert_string_equal(got, want);
}

static void test_paging(void **state)
{
    expect_page((struct ck_sim_page_req){.limit = 3}, "100,90,80");
    expect_page((struct ck_sim_page_req){.max_id = "80", .limit = 3}, "70,60,50");
    expect_page((struct ck_sim_page_req){.max_id = "75", .limit = 3}, "70,60,50");
    expect_page((struct ck_sim_page_req){.since_id = "30", .limit = 3}, "100,90,80");
    expect_page((struct ck_sim_page_req){.min_id = "30", .limit = 3}, "60,50,40");
    expect_page((struct ck_sim_page_req){.min_id = "30", .since_id = "80", .limit = 3}, "60,50,40");
    expect_page((struct ck_sim_page_req){.min_id = "30", .max_id = "50", .limit = 3}, "40");
    expect_page((struct ck_sim_page_req){.since_id = "30", .max_id = "60"}, "50,40");
    expect_page((struct ck_sim_page_req){.min_id = "100"}, "");
    expect_page((struct ck_sim_page_req){.max_id = "10"}, "");
    expect_page((struct ck_sim_page_req){.min_id = "5", .limit = 2}, "20,10");
    expect_page((struct ck_sim_page_req){.limit = 0}, "100,90,80,70,60,50,40,30,20,10");

    /* limit is capped at 40 */
    const char *many[60];
    char store[60][16];
    for (int i = 0; i < 60; i++) {
        snprintf(store[i], sizeof store[i], "%d", 100 + i);
        many[i] = store[i];
    }
    size_t out[40];
    struct ck_sim_page_req req = {.limit = 100};
    assert_int_equal(ck_sim_page_select(many, 60, &req, out), 40);
    assert_int_equal(out[0], 59);
    assert_int_equal(out[39], 20);
    req.limit = -5;
    assert_int_equal(ck_sim_page_select(many, 60, &req, out), 20);
}

static void test_render(void **state)
{
    struct ck_sim_script s;
    struct ck_error err = {0};
    assert_int_equal(
        ck_sim_script_load_string("{\"hashtag\":\"uklibchat\",\"self\":\"me\",\"accounts\":{\"me\":"
                                  "{\"username\":\"me\"},\"jo\":{\"username\":\"jo\",\"domain\":"
                                  "\"glammr.us\"}},\"statuses\":[]}",
                                  "r.json", &s, &err),
        0);
    json_t *mentions = json_array(), *tags = json_array();
    char *html =
        ck_sim_render_html(&s,
                           "@jo@glammr.us A1 <b>&</b> #UKlibchat\nsee "
                           "https://example.org/a/very/long/path/indeed?x=1&y=2.\n\nbye @nobody",
                           "http://127.0.0.1:9", mentions, tags);
    assert_non_null(html);
    assert_non_null(
        strstr(html, "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://glammr.us/@jo\" "
                     "class=\"u-url mention\">@<span>jo</span></a></span>"));
    assert_non_null(strstr(html, "&lt;b&gt;&amp;&lt;/b&gt;"));
    assert_non_null(strstr(html, "<a href=\"http://127.0.0.1:9/tags/uklibchat\" class=\"mention "
                                 "hashtag\" rel=\"tag\">#<span>UKlibchat</span></a><br />"));
    assert_non_null(
        strstr(html, "<span class=\"invisible\">https://</span><span "
                     "class=\"ellipsis\">example.org/a/very/long/path/i</span><span "
                     "class=\"invisible\">ndeed?x=1&amp;y=2</span></a>.</p><p>bye @nobody</p>"));
    assert_int_equal(json_array_size(mentions), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mentions, 0), "acct")),
                        "jo@glammr.us");
    assert_int_equal(json_array_size(tags), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "name")),
                        "uklibchat");
    free(html);
    json_decref(mentions);
    json_decref(tags);
    assert_true(ck_sim_text_has_tag("x #UKLIBCHAT.", "uklibchat"));
    assert_false(ck_sim_text_has_tag("x #uklibchatter", "uklibchat"));
    assert_false(ck_sim_text_has_tag("x&#uklibchat", "uklibchat"));
    ck_sim_script_finish(&s);
}

int main(int argc, char **argv)
{
    script_path = argc > 1 ? argv[1] : "config/sim/uklibchat.chat.json";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_script),
        cmocka_unit_test(test_bad_scripts),
        cmocka_unit_test(test_good_small_script),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
