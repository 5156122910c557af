/* The X platform from fixtures written for it (tests/fixtures/x): API v1.1
 * tweets as twarc 1 stores them, v2 tweets in twarc2's flattened shape (author
 * embedded), and malformed objects, which must be CK_EPARSE, never a guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/platform.h"
#include "chatkeeper/timeutil.h"

#include "reqresp.h"

static const struct ck_platform_ops *X;

static int setup(void **state)
{
    X = ck_platform_find("x");
    return X == NULL;
}

static json_t *load_fixture(const char *name)
{
    const char *dir = getenv("CK_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/x/%s", dir, name);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (j == NULL)
        fail_msg("%s: %s", path, jerr.text);
    return j;
}

static void test_registry(void **state)
{
    assert_non_null(X);
    assert_string_equal(X->name, "x");
    assert_true(X->normalise != NULL && X->timeline_request != NULL); /* live: x_ops.c */
}

static void test_v1_tweet(void **state)
{
    json_t *raw = load_fixture("v1-tweet.json");
    /* id_str, never the numeric id (which differs in the fixture on purpose). */
    assert_string_equal(X->item_id(raw), "575487420191252481");
    assert_int_equal(X->item_time(raw), iso("2015-03-11T01:13:20Z"));
    assert_string_equal(X->item_version(raw), "Wed Mar 11 01:13:20 +0000 2015");
    struct ck_message m;
    struct ck_error err = {0};
    assert_int_equal(X->normalise(raw, &m, &err), 0);
    assert_string_equal(m.id, "575487420191252481");
    assert_string_equal(m.platform, "x");
    assert_string_equal(m.url, "https://x.com/test_facil/status/575487420191252481");
    assert_int_equal(m.created_ms, iso("2015-03-11T01:13:20Z"));
    assert_string_equal(m.author.id, "40329175");
    assert_string_equal(m.author.handle, "@test_facil");
    assert_string_equal(m.author.name, "Test Facilitator");
    assert_string_equal(m.author.url, "https://x.com/test_facil");
    /* Entities decoded once; the t.co link expanded (its & kept as is); the
     * photo's t.co link dropped and the photo listed with its alt text. */
    assert_string_equal(m.text, "A1 Q&A: makerspaces <3 libraries, read "
                                "https://example.org/makers?a=1&b=2 #testchat\n"
                                "[image: A 3D printer & a sewing machine] "
                                "https://pbs.twimg.com/media/abc.jpg");
    assert_null(m.reply_to);
    assert_null(m.boost_of);
    assert_null(m.edited_at);
    assert_int_equal(m.boosts, 3);
    assert_int_equal(m.likes, 7);
    ck_message_finish(&m);
    json_decref(raw);
}

static void test_v1_reply_and_entities(void **state)
{
    json_t *raw = load_fixture("v1-reply.json");
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.reply_to, "575487420191252481");
    assert_null(m.boost_of);
    /* A numeric offset in created_at is honoured. */
    assert_int_equal(m.created_ms, iso("2015-06-17T01:31:11Z"));
    /* "&amp;lt;" is the literal text "&lt;": decoded once, not twice. */
    assert_string_equal(m.text, "@test_facil Yes! && more &lt;b&gt; \xF0\x9F\x98\x80 #testchat");
    ck_message_finish(&m);
    json_decref(raw);
}

static void test_v1_retweet_is_a_boost(void **state)
{
    json_t *raw = load_fixture("v1-retweet.json");
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.id, "575489000000000001");
    assert_string_equal(m.boost_of, "575487420191252481");
    assert_string_equal(m.author.handle, "@booster");
    /* The text is the original's (retweeted_status), not the "RT @user: " copy. */
    assert_string_equal(m.text, "A1 Q&A");
    /* The counts on a retweet are the original's: a boost has none of its own. */
    assert_int_equal(m.boosts, 0);
    assert_int_equal(m.likes, 0);
    ck_message_finish(&m);
    json_decref(raw);
}

static void test_v2_tweet_with_author(void **state)
{
    json_t *raw = load_fixture("v2-tweet.json");
    assert_string_equal(X->item_id(raw), "1445880548472328192");
    assert_int_equal(X->item_time(raw), iso("2021-10-06T23:07:17Z"));
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.id, "1445880548472328192");
    assert_string_equal(m.author.handle, "@pythondev");
    assert_string_equal(m.author.name, "Python Dev");
    assert_string_equal(m.author.id, "9876543210");
    assert_string_equal(m.url, "https://x.com/pythondev/status/1445880548472328192");
    assert_string_equal(m.uri, "https://x.com/i/web/status/1445880548472328192");
    assert_string_equal(m.text,
                        "@pythondev A2: yes & no, see https://example.com/answer #testchat");
    assert_string_equal(m.reply_to, "1445880000000000000");
    assert_null(m.boost_of); /* a quote is not a boost */
    assert_int_equal(m.replies, 1);
    assert_int_equal(m.boosts, 2);
    assert_int_equal(m.likes, 5);
    ck_message_finish(&m);

    /* A retweet on v2 is a referenced tweet of type "retweeted" (flattened:
     * the original embedded). */
    json_object_set_new(raw, "referenced_tweets",
                        json_pack("[{s:s,s:s,s:s}]", "type", "retweeted", "id",
                                  "1445000000000000001", "text", "the original"));
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.boost_of, "1445000000000000001");
    assert_null(m.reply_to);
    assert_int_equal(m.likes, 0);
    ck_message_finish(&m);
    json_decref(raw);
}

/* The docs' expansions example, flattened as the importer stores it. */
static void test_v2_docs_page_flattened(void **state)
{
    json_t *page = load_fixture("v2-page.docs-example.json");
    json_t *tweet = json_copy(json_array_get(json_object_get(page, "data"), 0));
    json_t *user = json_array_get(json_object_get(json_object_get(page, "includes"), "users"), 0);
    json_object_set(tweet, "author", user);
    struct ck_message m;
    assert_int_equal(X->normalise(tweet, &m, NULL), 0);
    assert_string_equal(m.id, "1234567890123456789");
    assert_string_equal(m.author.handle, "@pythondev");
    assert_string_equal(m.author.name, ""); /* no name in the example */
    assert_string_equal(m.text, "Just started learning Python and loving it!");
    assert_int_equal(m.likes, 42);
    ck_message_finish(&m);
    /* Without its author (a page's tweet as is) it is kept under a
     * placeholder author, the author's id kept. */
    json_t *bare = json_array_get(json_object_get(page, "data"), 0);
    assert_int_equal(X->normalise(bare, &m, NULL), 0);
    assert_string_equal(m.author.handle, "@unknown");
    assert_string_equal(m.author.id, "9876543210");
    ck_message_finish(&m);
    json_decref(tweet);
    json_decref(page);
}

/* Each edit breaks one field of a valid tweet; each must be CK_EPARSE. */
static void expect_bad(const char *fixture, const char *json_patch, const char *del)
{
    json_t *raw = load_fixture(fixture);
    if (del != NULL)
        json_object_del(raw, del);
    if (json_patch != NULL) {
        json_t *patch = json_loads(json_patch, 0, NULL);
        assert_non_null(patch);
        json_object_update(raw, patch);
        json_decref(patch);
    }
    struct ck_message m;
    struct ck_error err = {0};
    int rc = X->normalise(raw, &m, &err);
    if (rc != CK_EPARSE)
        fail_msg("%s %s -%s: expected CK_EPARSE, got %d", fixture, json_patch ? json_patch : "",
                 del ? del : "", rc);
    assert_int_not_equal(err.msg[0], '\0');
    json_decref(raw);
}

/* Real twarc2 data (tests/fixtures/x/make_excerpts.py): a retweet flattened
 * with its original embedded is a boost whose text is the original's whole
 * text, not the API's copy cut at 140 characters with "…". */
static void test_v2_retweet_has_the_whole_text(void **state)
{
    json_t *raw = load_fixture("v2-retweet-flat.json");
    const char *cut = json_string_value(json_object_get(raw, "text"));
    assert_non_null(strstr(cut, "\xe2\x80\xa6")); /* the API's copy ends in "…" */
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.id, "1589681856941002753");
    assert_string_equal(m.boost_of, "1589671906718134272");
    assert_string_equal(m.author.handle, "@BaldManGamer");
    assert_string_equal(m.url, "https://x.com/BaldManGamer/status/1589681856941002753");
    assert_string_equal(m.uri, "https://x.com/i/web/status/1589681856941002753");
    assert_null(strstr(m.text, "\xe2\x80\xa6"));
    assert_null(strstr(m.text, "RT @"));
    assert_true(strncmp(m.text, "Looking for gaming mutuals", 26) == 0);
    /* Mentions and hashtags stay in the text; the original's t.co links are expanded. */
    assert_non_null(strstr(m.text, "@Xbox @masseffect"));
    assert_non_null(strstr(m.text, "#PlayStation"));
    assert_null(strstr(m.text, "https://t.co/"));
    ck_message_finish(&m);

    /* Without the original (deleted, protected, not in includes): not a
     * boost, which would vanish from the transcript, but the retweeter's
     * message with the text X showed, the only trace of the original. */
    json_object_set_new(raw, "referenced_tweets",
                        json_pack("[{s:s,s:s}]", "type", "retweeted", "id", "1589671906718134272"));
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_null(m.boost_of);
    assert_string_equal(m.author.handle, "@BaldManGamer");
    assert_true(strncmp(m.text, "RT @S3NT1N3L17: Looking", 23) == 0);
    ck_message_finish(&m);
    json_decref(raw);
}

/* A later version of an edited tweet is the chain's message (named by the
 * chain's first id) with edited_at set; the first version has none, so the
 * archive keeps the later one whichever it reads first. */
static void test_v2_edit_chain_is_one_message(void **state)
{
    json_t *raw = load_fixture("v2-edited-flat.json");
    assert_string_equal(X->item_id(raw), "1576994789110992896"); /* the journal keeps both */
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.id, "1576994746135764992");
    assert_string_equal(m.edited_at, "2022-10-03T17:57:11.000Z");
    assert_string_equal(m.url, "https://x.com/wongmjane/status/1576994789110992896");
    assert_string_equal(m.uri, "https://x.com/i/web/status/1576994746135764992");
    ck_message_finish(&m);
    json_object_set_new(raw, "id", json_string("1576994746135764992"));
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.id, "1576994746135764992");
    assert_null(m.edited_at);
    ck_message_finish(&m);
    json_decref(raw);
}

/* A quote of an edited tweet carries the quoted post as quote_of (the
 * chain's message), beside the reply it also is. */
static void test_v2_quote_of(void **state)
{
    json_t *raw = load_fixture("v2-quote-flat.json");
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.id, "1576995594388000768");
    assert_string_equal(m.quote_of, "1576994746135764992");
    /* It replied to the chain's later version: the reply is to the message. */
    assert_string_equal(m.reply_to, "1576994746135764992");
    assert_null(m.boost_of);
    assert_null(m.edited_at);
    ck_message_finish(&m);
    json_decref(raw);
}

/* Withheld or suspended authors are left out of includes.users: the tweet is
 * kept under a placeholder author, its id kept. */
static void test_v2_missing_author_is_a_placeholder(void **state)
{
    json_t *raw = load_fixture("v2-withheld-author.json");
    assert_null(json_object_get(raw, "author"));
    const char *author_id = json_string_value(json_object_get(raw, "author_id"));
    const char *id = json_string_value(json_object_get(raw, "id"));
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.id, id);
    assert_string_equal(m.author.handle, "@unknown");
    assert_string_equal(m.author.id, author_id);
    assert_string_equal(m.author.name, "");
    char want[128];
    snprintf(want, sizeof want, "https://x.com/i/user/%s", author_id);
    assert_string_equal(m.author.url, want);
    snprintf(want, sizeof want, "https://x.com/i/web/status/%s", id);
    assert_string_equal(m.url, want);
    assert_string_equal(m.uri, want);
    ck_message_finish(&m);

    /* v1.1 without a user, and v2 without even author_id: still kept. */
    json_object_del(raw, "author_id");
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.author.handle, "@unknown");
    assert_string_equal(m.author.id, "");
    ck_message_finish(&m);
    json_decref(raw);
    raw = load_fixture("v1-tweet.json");
    json_object_del(raw, "user");
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.author.handle, "@unknown");
    assert_string_equal(m.id, "575487420191252481");
    ck_message_finish(&m);
    json_decref(raw);
}

/* note_tweet (a long post, shaped as in the X API docs) wins over the
 * 280-character text, with its own entities; &amp; is decoded once. */
static void test_v2_note_tweet_wins(void **state)
{
    json_t *raw = load_fixture("v2-tweet.json");
    json_object_set_new(raw, "note_tweet",
                        json_pack("{s:s,s:{s:[{s:i,s:i,s:s,s:s}]}}", "text",
                                  "A long answer &amp;amp; more: https://t.co/long1 #testchat",
                                  "entities", "urls", "start", 29, "end", 52, "url",
                                  "https://t.co/long1", "expanded_url",
                                  "https://example.org/the-whole-thing"));
    struct ck_message m;
    assert_int_equal(X->normalise(raw, &m, NULL), 0);
    assert_string_equal(m.text,
                        "A long answer &amp; more: https://example.org/the-whole-thing #testchat");
    ck_message_finish(&m);
    json_decref(raw);
}

static void test_malformed(void **state)
{
    struct ck_message m;
    json_t *arr = json_array();
    assert_int_equal(X->normalise(arr, &m, NULL), CK_EPARSE);
    json_decref(arr);
    expect_bad("v1-tweet.json", NULL, "id_str"); /* then "id" is a number: v2 needs a string */
    expect_bad("v1-tweet.json", "{\"id_str\": 575487420191252481}", NULL);
    expect_bad("v1-tweet.json", "{\"id_str\": \"57548/../x\"}", NULL);
    expect_bad("v1-tweet.json", "{\"created_at\": \"Wed Mar 41 01:13:20 +0000 2015\"}", NULL);
    expect_bad("v1-tweet.json", "{\"created_at\": \"yesterday\"}", NULL);
    expect_bad("v1-tweet.json", "{\"user\": \"someone\"}", NULL);
    expect_bad("v1-tweet.json", "{\"user\": {\"id_str\": \"1\", \"screen_name\": \"a b\"}}", NULL);
    expect_bad("v1-tweet.json", "{\"user\": {\"id_str\": \"1\"}}", NULL);
    expect_bad("v1-tweet.json", "{\"full_text\": 5}", NULL);
    expect_bad("v1-tweet.json", "{\"entities\": {\"urls\": {}}}", NULL);
    expect_bad("v1-tweet.json", "{\"entities\": {\"urls\": [5]}}", NULL);
    expect_bad("v1-retweet.json", "{\"retweeted_status\": \"575487420191252481\"}", NULL);
    expect_bad("v1-reply.json", "{\"in_reply_to_status_id_str\": \"1 OR 1\"}", NULL);
    expect_bad("v1-reply.json", NULL, "text");
    expect_bad("v2-tweet.json", "{\"author\": [1]}", NULL);
    expect_bad("v2-tweet.json",
               "{\"referenced_tweets\": [{\"type\": \"quoted\", \"id\": \"1 2\"}]}", NULL);
    expect_bad("v2-tweet.json", "{\"author_id\": \"1\"}", NULL); /* not the embedded author */
    expect_bad("v2-tweet.json", "{\"created_at\": \"2021-13-06T23:07:17Z\"}", NULL);
    expect_bad("v2-tweet.json", "{\"referenced_tweets\": [{\"type\": \"replied_to\"}]}", NULL);
    expect_bad("v2-tweet.json", "{\"text\": null}", NULL);
}

static void test_item_id_and_order(void **state)
{
    json_t *numeric_only = json_pack("{s:I}", "id", (json_int_t)575487420191252480);
    assert_null(X->item_id(numeric_only));
    assert_int_equal(X->item_time(numeric_only), INT64_MIN);
    json_decref(numeric_only);
    assert_true(X->id_cmp("999", "1000") < 0);
    assert_true(X->id_cmp("575487420191252481", "575487420191252480") > 0);
    assert_int_equal(X->id_cmp("42", "42"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_v1_tweet),
        cmocka_unit_test(test_v1_reply_and_entities),
        cmocka_unit_test(test_v1_retweet_is_a_boost),
        cmocka_unit_test(test_v2_tweet_with_author),
        cmocka_unit_test(test_v2_docs_page_flattened),
        cmocka_unit_test(test_v2_retweet_has_the_whole_text),
        cmocka_unit_test(test_v2_edit_chain_is_one_message),
        cmocka_unit_test(test_v2_quote_of),
        cmocka_unit_test(test_v2_missing_author_is_a_placeholder),
        cmocka_unit_test(test_v2_note_tweet_wins),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_item_id_and_order),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
