/* X behind struct ck_platform_ops (x_ops.c): the follower's search with its
 * window and cursor, the thread search, posting with a user token or OAuth
 * 1.0a, the intent key, and finding our own post again after a restart. */
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

static void test_ops_are_whole(void **state)
{
    assert_int_equal(X->paging, CK_PAGING_CURSOR);
    assert_int_equal(X->once, CK_ONCE_FIND_OWN);
    assert_true(X->reads_cost);
    assert_true(X->overlap_ms > 0 && X->overlap_ms < 10 * 60000);
    assert_non_null(X->context_request);
    assert_non_null(X->status_request);
    assert_non_null(X->post_lookup_request);
    assert_non_null(X->account_request);
    assert_non_null(X->ratelimit_update);
    assert_int_equal(X->max_post_len, 280);
    assert_int_equal(X->page_max, 100); /* a poll re-reads its overlap in one request */
}

static void test_timeline_window_and_cursor(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    int64_t since;
    assert_int_equal(ck_time_parse_rfc3339("2026-12-03T19:59:30.500Z", &since), 0);
    struct ck_timeline_query q = {.before = "b26v89c19zqg8o3fpdv",
                                  .since_ms = since,
                                  .until_ms = since + 3600000,
                                  .limit = 40};
    assert_int_equal(
        X->timeline_request("https://api.x.test/", "app-bearer", "#uklibchat", &q, &req, &err), 0);
    assert_string_equal(req.method, "GET");
    assert_non_null(strstr(req.url, "https://api.x.test/2/tweets/search/recent?query="));
    assert_non_null(strstr(req.url, "-is%3Aretweet"));
    assert_non_null(strstr(req.url, "max_results=40"));
    assert_non_null(strstr(req.url, "start_time=2026-12-03T19%3A59%3A30Z"));
    /* X refuses an end_time under 10 s old: the follower's is never sent. */
    assert_null(strstr(req.url, "end_time"));
    assert_non_null(strstr(req.url, "next_token=b26v89c19zqg8o3fpdv"));
    assert_string_equal(header(&req, "Authorization"), "Bearer app-bearer");
    ck_request_finish(&req);
    /* "retweets": true: the query keeps them (they become boosts of their originals). */
    q.reposts = true;
    assert_int_equal(
        X->timeline_request("https://api.x.test", "app-bearer", "uklibchat", &q, &req, &err), 0);
    assert_non_null(strstr(req.url, "query=%23uklibchat&"));
    assert_null(strstr(req.url, "is%3Aretweet"));
    ck_request_finish(&req);
    q.reposts = false;
    /* OAuth 1.0a keys cannot sign a read without a nonce: refused, never sent unsigned. */
    assert_int_equal(
        X->timeline_request("https://api.x.test", "a:b:c:d", "uklibchat", &q, &req, &err),
        CK_EINVAL);
    assert_non_null(strstr(err.msg, "bearer"));
    assert_null(strstr(err.msg, "a:b:c:d"));
    /* The thread under a question: a conversation_id search. */
    assert_int_equal(
        X->context_request("https://api.x.test", "app-bearer", "1733000000000000001", &req, &err),
        0);
    assert_non_null(strstr(req.url, "query=conversation_id%3A1733000000000000001"));
    ck_request_finish(&req);
}

/* A page whose tweet quotes an older one: the original is journaled, but
 * only the page's own tweet bounds it (n_own), and X's problems count. */
static void test_page_own_items_and_problems(void **state)
{
    const char *body =
        "{\"data\":[{\"id\":\"1733000000000000005\",\"text\":\"#uklibchat A1 yes\","
        "\"created_at\":\"2026-12-03T20:05:00.000Z\",\"author_id\":\"11\","
        "\"referenced_tweets\":[{\"type\":\"quoted\",\"id\":\"1600000000000000001\"}]}],"
        "\"includes\":{\"users\":[{\"id\":\"11\",\"username\":\"amy\",\"name\":\"Amy\"}],"
        "\"tweets\":[{\"id\":\"1600000000000000001\",\"text\":\"old\","
        "\"created_at\":\"2025-01-01T00:00:00.000Z\",\"author_id\":\"11\"}]},"
        "\"errors\":[{\"title\":\"Authorization Error\",\"detail\":\"Sorry, you are not "
        "authorized to see the Tweet with id: [1].\"}],"
        "\"meta\":{\"result_count\":1,\"next_token\":\"tok2\"}}";
    struct ck_response resp = answer(200, body);
    struct ck_page page;
    struct ck_error err = {0};
    assert_int_equal(X->parse_timeline(&resp, &page, &err), 0);
    assert_int_equal(json_array_size(page.items), 2);
    assert_int_equal(page.n_own, 1);
    assert_string_equal(page.older, "tok2");
    assert_int_equal(page.skipped, 1);
    assert_non_null(strstr(page.skip_why, "Authorization Error"));
    ck_page_finish(&page);
    /* 429 and 401 are errors, never an empty page. */
    resp = answer(429, "{\"title\":\"Too Many Requests\"}");
    assert_int_equal(X->parse_timeline(&resp, &page, &err), CK_ERATELIMIT);
    resp = answer(401, "{\"title\":\"Unauthorized\"}");
    assert_int_equal(X->parse_timeline(&resp, &page, &err), CK_EAUTH);
}

static void test_rate_limit_headers(void **state)
{
    struct ck_header h[] = {{"x-rate-limit-limit", "450"},
                            {"x-rate-limit-remaining", "0"},
                            {"x-rate-limit-reset", "1796328060"}};
    struct ck_response resp = answer(429, "{}");
    resp.headers = h;
    resp.n_headers = 3;
    struct ck_ratelimit rl;
    ck_ratelimit_init(&rl);
    int64_t now = 1796328000000;
    X->ratelimit_update(&rl, &resp, now);
    assert_true(rl.known);
    assert_int_equal(rl.remaining, 0);
    assert_int_equal(rl.reset_ms, 1796328060000);
    assert_true(rl.blocked_until_ms >= 1796328060000);
}

static void test_post_user_token_and_oauth1(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    struct ck_post p = {.text = "Q1 What do you read? #uklibchat",
                        .reply_to = {"1733000000000000001", NULL},
                        .created_ms = 1796328000000,
                        .nonce = "abcDEF123"};
    assert_int_equal(X->post_request("https://api.x.test", "user-token", &p, &req, &err), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://api.x.test/2/tweets");
    assert_string_equal(header(&req, "Authorization"), "Bearer user-token");
    assert_non_null(strstr(req.body, "\"in_reply_to_tweet_id\":\"1733000000000000001\""));
    ck_request_finish(&req);
    assert_int_equal(X->post_request("https://api.x.test", "ck:cs:at:ats", &p, &req, &err), 0);
    const char *auth = header(&req, "Authorization");
    assert_non_null(auth);
    assert_memory_equal(auth, "OAuth ", 6);
    assert_non_null(strstr(auth, "oauth_nonce=\"abcDEF123\""));
    assert_non_null(strstr(auth, "oauth_timestamp=\"1796328000\""));
    assert_null(strstr(auth, "cs"));
    ck_request_finish(&req);
    assert_int_equal(X->post_request("https://api.x.test", NULL, &p, &req, &err), CK_EAUTH);

    struct ck_response ok =
        answer(201, "{\"data\":{\"id\":\"1733000000000000009\",\"text\":\"x\"}}");
    struct ck_posted made;
    assert_int_equal(X->parse_post(&ok, &made, &err), 0);
    assert_string_equal(made.id, "1733000000000000009");
    assert_string_equal(made.url, "https://x.com/i/web/status/1733000000000000009");
    ck_posted_finish(&made);
    char text[120];
    struct ck_response dup =
        answer(403, "{\"detail\":\"You are not allowed to create a Tweet with duplicate content.\","
                    "\"title\":\"Forbidden\"}");
    X->error_text(&dup, text, sizeof text);
    assert_non_null(strstr(text, "duplicate content"));
}

/* After a restart: who we are (users/me, signed), then our recent posts since
 * a little before the intent; the step's post is found by its text as a
 * reader sees it (t.co expanded, &amp; decoded), never by a guess. */
static void test_finding_our_own_post(void **state)
{
    char key[64];
    assert_int_equal(X->post_key(1796328000000, 0xdeadbeef, key, sizeof key), 0);
    assert_string_equal(key, "x1796328000000-deadbeef");
    assert_int_equal(X->post_key(1796328000000, 1, key, 8), CK_EINVAL);

    struct ck_request req;
    struct ck_error err = {0};
    struct ck_post p = {.text = "Thanks all & see https://ex.example/a <3",
                        .key = "x1796328000000-deadbeef",
                        .created_ms = 1796328100000,
                        .nonce = "n0nce4567"};
    if (X->account_request("https://api.x.test", "ck:cs:at:ats", &p, &req, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(req.url, "https://api.x.test/2/users/me");
    assert_memory_equal(header(&req, "Authorization"), "OAuth ", 6);
    ck_request_finish(&req);
    char *account = NULL;
    int rc;
    struct ck_response me = answer(200, "{\"data\":{\"id\":\"2244994945\",\"username\":\"host\"}}");
    assert_int_equal(X->parse_account(&me, &account, &err), 0);
    assert_string_equal(account, "2244994945");

    /* No account yet: the lookup cannot be made. */
    assert_int_equal(X->post_lookup_request("https://api.x.test", "user", &p, &req, &err),
                     CK_EINVAL);
    p.account = account;
    assert_int_equal(X->post_lookup_request("https://api.x.test", "ck:cs:at:ats", &p, &req, &err),
                     0);
    assert_non_null(strstr(req.url, "/2/users/2244994945/tweets?max_results=100"));
    /* five minutes before the intent, whole seconds */
    assert_non_null(strstr(req.url, "start_time=2026-12-03T19%3A55%3A00Z"));
    assert_memory_equal(header(&req, "Authorization"), "OAuth ", 6);
    ck_request_finish(&req);

    const char *found =
        "{\"data\":[{\"id\":\"1733000000000000011\",\"text\":\"Thanks all\"},"
        "{\"id\":\"1733000000000000010\",\"text\":\"Thanks all &amp; see https://t.co/abc &lt;3\","
        "\"entities\":{\"urls\":[{\"start\":22,\"end\":41,\"url\":\"https://t.co/abc\","
        "\"expanded_url\":\"https://ex.example/a\",\"display_url\":\"ex.example/a\"}]}}],"
        "\"meta\":{\"result_count\":2}}";
    struct ck_response resp = answer(200, found);
    struct ck_posted made;
    rc = X->parse_post_lookup(&resp, &p, &made, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(made.id, "1733000000000000010");
    ck_posted_finish(&made);

    resp = answer(200, "{\"meta\":{\"result_count\":0}}");
    assert_int_equal(X->parse_post_lookup(&resp, &p, &made, &err), CK_ENOTFOUND);
    /* A page that does not say it is whole, or says there is more: never "not there". */
    resp = answer(200, "{\"data\":[{\"id\":\"1\",\"text\":\"other\"}]}");
    assert_int_equal(X->parse_post_lookup(&resp, &p, &made, &err), CK_EPARSE);
    resp = answer(200, "{\"data\":[{\"id\":\"1\",\"text\":\"other\"}],"
                       "\"meta\":{\"result_count\":100,\"next_token\":\"t\"}}");
    rc = X->parse_post_lookup(&resp, &p, &made, &err);
    assert_true(rc != 0 && rc != CK_ENOTFOUND);
    resp = answer(503, "{\"title\":\"Service Unavailable\"}");
    rc = X->parse_post_lookup(&resp, &p, &made, &err);
    assert_true(rc != 0 && rc != CK_ENOTFOUND);
    free(account);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_are_whole),
        cmocka_unit_test(test_timeline_window_and_cursor),
        cmocka_unit_test(test_page_own_items_and_problems),
        cmocka_unit_test(test_rate_limit_headers),
        cmocka_unit_test(test_post_user_token_and_oauth1),
        cmocka_unit_test(test_finding_our_own_post),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
