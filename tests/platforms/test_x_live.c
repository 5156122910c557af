/* X API v2 live pieces (include/chatkeeper/x.h): search and lookup requests,
 * their answers (recorded payloads in tests/fixtures/x, copied from
 * shared/api-examples, and real twarc2 pages), rate-limit headers, POST
 * /2/tweets and its refusals, OAuth 1.0a signing against the X docs'
 * "Creating a signature" example, and the weighted length. */
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
#include "chatkeeper/x.h"

#include "fixture.h"
#include "reqresp.h"

static char *slurp(const char *name)
{
    return fixture_read("x", name, NULL);
}

/* ---- search ---- */

static void test_search_request(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    struct ck_x_search q = {.hashtag = "#testchat",
                            .since_id = "1578511538419212288",
                            .start_ms = iso("2026-12-03T19:45:00.250Z"),
                            .end_ms = iso("2026-12-03T21:30:00Z"),
                            .now_ms = INT64_MIN,
                            .max_results = 0,
                            .next_token = "b26v89c19zqg8o3f"};
    assert_int_equal(ck_x_search_request("https://api.x.com/", "BEARER", &q, &req, &err), 0);
    assert_string_equal(req.method, "GET");
    const char *want = "https://api.x.com/2/tweets/search/recent?query=%23testchat%20-is%3Aretweet"
                       "&max_results=100&since_id=1578511538419212288"
                       "&start_time=2026-12-03T19%3A45%3A00Z&end_time=2026-12-03T21%3A30%3A00Z"
                       "&next_token=b26v89c19zqg8o3f&expansions=";
    assert_true(strncmp(req.url, want, strlen(want)) == 0);
    /* The fields a whole message needs. */
    const char *need[] = {"author_id",
                          "referenced_tweets.id",
                          "attachments.media_keys",
                          "note_tweet",
                          "edit_history_tweet_ids",
                          "public_metrics",
                          "conversation_id",
                          "entities",
                          "alt_text",
                          "username"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        assert_non_null(strstr(req.url, need[i]));
    assert_string_equal(header(&req, "Authorization"), "Bearer BEARER");
    ck_request_finish(&req);

    /* With retweets (the session says "retweets": true), no token. */
    struct ck_x_search r = {.hashtag = "testchat",
                            .retweets = true,
                            .start_ms = INT64_MIN,
                            .end_ms = INT64_MIN,
                            .now_ms = INT64_MIN,
                            .max_results = 25};
    assert_int_equal(ck_x_search_request("https://api.x.com", NULL, &r, &req, &err), 0);
    assert_non_null(strstr(req.url, "?query=%23testchat&max_results=25&expansions="));
    assert_null(header(&req, "Authorization"));
    ck_request_finish(&req);

    /* A thread: conversation_id, window-bounded. */
    struct ck_x_search c = {.hashtag = "ignored",
                            .conversation_id = "1445880548472328192",
                            .start_ms = iso("2026-12-03T19:45:00Z"),
                            .end_ms = iso("2026-12-03T21:30:00Z"),
                            .now_ms = INT64_MIN};
    assert_int_equal(ck_x_search_request("https://api.x.com", "B", &c, &req, &err), 0);
    assert_non_null(strstr(req.url, "?query=conversation_id%3A1445880548472328192&"));
    assert_null(strstr(req.url, "is%3Aretweet"));
    ck_request_finish(&req);
}

static void test_search_window_clamped_and_refused(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    int64_t now = iso("2026-12-10T12:00:00Z");
    /* end_time at least 10 s before now; start_time within the last 7 days. */
    struct ck_x_search q = {.hashtag = "testchat",
                            .start_ms = iso("2026-12-01T00:00:00Z"),
                            .end_ms = now,
                            .now_ms = now};
    assert_int_equal(ck_x_search_request("https://api.x.com", NULL, &q, &req, &err), 0);
    assert_non_null(strstr(req.url, "&start_time=2026-12-03T12%3A01%3A00Z"));
    assert_non_null(strstr(req.url, "&end_time=2026-12-10T11%3A59%3A50Z"));
    ck_request_finish(&req);
    /* A window wholly older than a week clamps to nothing. */
    q.start_ms = iso("2026-11-01T00:00:00Z");
    q.end_ms = iso("2026-11-02T00:00:00Z");
    assert_int_equal(ck_x_search_request("https://api.x.com", NULL, &q, &req, &err), CK_EINVAL);
    assert_non_null(strstr(err.msg, "7 days"));
    assert_null(req.url);

    /* Hashtags and ids that X's query would read as operators, tokens that
     * would inject a header. */
    const char *bad_tags[] = {"", "#", "test chat", "a:b", "-x", "tag\"", "(a OR b)"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++) {
        struct ck_x_search b = {.hashtag = bad_tags[i],
                                .start_ms = INT64_MIN,
                                .end_ms = INT64_MIN,
                                .now_ms = INT64_MIN};
        struct ck_error e = {0};
        assert_int_equal(ck_x_search_request("https://api.x.com", NULL, &b, &req, &e), CK_EINVAL);
    }
    struct ck_x_search u = {.hashtag = "bibliothèque_2",
                            .start_ms = INT64_MIN,
                            .end_ms = INT64_MIN,
                            .now_ms = INT64_MIN};
    assert_int_equal(ck_x_search_request("https://api.x.com", NULL, &u, &req, &err), 0);
    assert_non_null(strstr(req.url, "%23biblioth%C3%A8que_2"));
    ck_request_finish(&req);
    struct ck_x_search s = {.hashtag = "t",
                            .since_id = "12 OR x",
                            .start_ms = INT64_MIN,
                            .end_ms = INT64_MIN,
                            .now_ms = INT64_MIN};
    assert_int_equal(ck_x_search_request("https://api.x.com", NULL, &s, &req, NULL), CK_EINVAL);
    struct ck_x_search c = {.conversation_id = "9007199254740993x",
                            .start_ms = INT64_MIN,
                            .end_ms = INT64_MIN,
                            .now_ms = INT64_MIN};
    assert_int_equal(ck_x_search_request("https://api.x.com", NULL, &c, &req, NULL), CK_EINVAL);
    assert_int_equal(ck_x_search_request("https://api.x.com", "a\r\nX-Evil: 1", &u, &req, NULL),
                     CK_EINVAL);
    assert_int_equal(ck_x_tweet_request("https://api.x.com", NULL, "1/../2", &req, NULL),
                     CK_EINVAL);
    assert_int_equal(
        ck_x_tweet_request("https://api.x.com", "B", "1456012973835788293", &req, NULL), 0);
    assert_true(
        strncmp(req.url, "https://api.x.com/2/tweets/1456012973835788293?expansions=", 58) == 0);
    ck_request_finish(&req);
}

/* The recorded search answer: ten tweets, the paging token, the newest id. */
static void test_parse_recorded_page(void **state)
{
    char *body = slurp("x-recent-search.response.json");
    struct ck_response resp = answer(200, body);
    struct ck_x_page p;
    struct ck_error err = {0};
    assert_int_equal(ck_x_parse_search(&resp, &p, &err), 0);
    assert_int_equal(json_array_size(p.items), 10);
    assert_int_equal(p.n_own, 10);
    assert_int_equal(p.result_count, 10);
    assert_string_equal(p.next_token, "b26v89c19zqg8o3fpzbn1e0ffhxjiofzw6po136rvbnul");
    assert_string_equal(p.newest_id, "1578516068309794817");
    assert_string_equal(p.oldest_id, "1578511538419212288");
    assert_int_equal(p.n_errors, 0);
    ck_x_page_finish(&p);
    free(body);

    /* The docs' expansions example: the author is flattened in, so the
     * tweet normalises with its handle. */
    body = slurp("v2-page.docs-example.json");
    resp = answer(200, body);
    assert_int_equal(ck_x_parse_search(&resp, &p, &err), 0);
    assert_int_equal(json_array_size(p.items), 1);
    struct ck_message m;
    assert_int_equal(ck_platform_x.normalise(json_array_get(p.items, 0), &m, &err), 0);
    assert_string_equal(m.author.handle, "@pythondev");
    assert_string_equal(m.url, "https://x.com/pythondev/status/1234567890123456789");
    assert_int_equal(m.likes, 42);
    ck_message_finish(&m);
    ck_x_page_finish(&p);
    free(body);
}

/* A real twarc2 page: errors beside data, no meta.result_count, retweets
 * whose originals come after the page's own tweets, flattened. */
static void test_parse_real_page(void **state)
{
    char *body = slurp("twarc2/withheld_page.jsonl");
    struct ck_response resp = answer(200, body);
    struct ck_x_page p;
    struct ck_error err = {0};
    assert_int_equal(ck_x_parse_search(&resp, &p, &err), 0);
    json_t *page = json_loads(body, 0, NULL);
    size_t own = json_array_size(json_object_get(page, "data"));
    assert_int_equal(p.n_own, own);
    assert_true(json_array_size(p.items) > own); /* the retweets' originals */
    assert_int_equal(p.result_count, -1);        /* never made up */
    assert_int_equal(p.n_errors, json_array_size(json_object_get(page, "errors")));
    assert_true(p.first_error[0] != '\0');
    for (size_t i = 0; i < json_array_size(p.items); i++) {
        struct ck_message m;
        assert_int_equal(ck_platform_x.normalise(json_array_get(p.items, i), &m, &err), 0);
        ck_message_finish(&m);
    }
    json_decref(page);
    ck_x_page_finish(&p);
    free(body);
}

static void test_parse_answers_and_faults(void **state)
{
    struct ck_x_page p;
    struct ck_error err = {0};
    /* No results: no data, result_count 0. */
    struct ck_response r = answer(200, "{\"meta\":{\"result_count\":0}}");
    assert_int_equal(ck_x_parse_search(&r, &p, &err), 0);
    assert_int_equal(json_array_size(p.items), 0);
    assert_int_equal(p.result_count, 0);
    assert_null(p.next_token);
    ck_x_page_finish(&p);
    /* Bad items cost themselves; a bad newest_id is not trusted. */
    r = answer(200,
               "{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"created_at\":\"2026-12-03T20:00:00Z\"},"
               "7,{\"text\":\"no id\"},{\"id\":12,\"text\":\"a number\"}],"
               "\"meta\":{\"newest_id\":\"1 OR 2\",\"result_count\":\"4\"}}");
    assert_int_equal(ck_x_parse_search(&r, &p, &err), 0);
    assert_int_equal(json_array_size(p.items), 1);
    assert_int_equal(p.n_own, 1);
    assert_int_equal(p.skipped, 3);
    assert_null(p.newest_id);
    assert_int_equal(p.result_count, -1);
    ck_x_page_finish(&p);
    /* A lookup of a tweet that is gone. */
    r = answer(200,
               "{\"errors\":[{\"value\":\"1\",\"detail\":\"Could not find tweet with id: [1].\","
               "\"title\":\"Not Found Error\",\"type\":\"https://api.twitter.com/2/problems/"
               "resource-not-found\"}]}");
    struct ck_error e1 = {0};
    assert_int_equal(ck_x_parse_search(&r, &p, &e1), CK_ENOTFOUND);
    assert_non_null(strstr(e1.msg, "Could not find tweet"));
    assert_null(p.items);
    /* One tweet by id: data is an object. */
    r = answer(200,
               "{\"data\":{\"id\":\"1456012973835788293\",\"text\":\"Test Tweet\","
               "\"created_at\":\"2021-11-03T21:38:39.000Z\",\"author_id\":\"5\"},"
               "\"includes\":{\"users\":[{\"id\":\"5\",\"username\":\"me\",\"name\":\"Me\"}]}}");
    assert_int_equal(ck_x_parse_search(&r, &p, &err), 0);
    assert_int_equal(p.n_own, 1);
    assert_non_null(json_object_get(json_array_get(p.items, 0), "author"));
    ck_x_page_finish(&p);
    /* Statuses: 401/403 auth, 429 rate limit, 5xx, not JSON. */
    char *body429 = slurp("x-rate-limit-429.docs-example.json");
    struct {
        long status;
        const char *body;
        int code;
    } cases[] = {
        {401,
         "{\"title\":\"Unauthorized\",\"type\":\"about:blank\",\"status\":401,\"detail\":"
         "\"Unauthorized\"}",
         CK_EAUTH},
        {403, "{\"title\":\"Forbidden\",\"detail\":\"no\"}", CK_EAUTH},
        {429, body429, CK_ERATELIMIT},
        {503, "<html>over capacity</html>", CK_EHTTP},
        {200, "<html>a captive portal</html>", CK_EPARSE},
        {200, "[]", CK_EPARSE},
        {200, "{\"data\":\"x\"}", CK_EPARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ck_error e = {0};
        r = answer(cases[i].status, cases[i].body);
        assert_int_equal(ck_x_parse_search(&r, &p, &e), cases[i].code);
        assert_null(p.items);
    }
    struct ck_error e2 = {0};
    r = answer(429, body429);
    ck_x_parse_search(&r, &p, &e2);
    assert_non_null(strstr(e2.msg, "Rate limit exceeded"));
    free(body429);
}

static void test_ratelimit(void **state)
{
    /* The recorded headers: limit 450, remaining 448, reset in epoch seconds. */
    struct ck_header h[] = {{"x-rate-limit-limit", "450"},
                            {"x-rate-limit-remaining", "448"},
                            {"x-rate-limit-reset", "1665183229"}};
    struct ck_response r = {.status = 200, .headers = h, .n_headers = 3};
    struct ck_ratelimit rl;
    ck_ratelimit_init(&rl);
    int64_t now = 1665183229000LL - 600000;
    assert_int_equal(ck_x_ratelimit(&r, now, &rl), 0);
    assert_true(rl.known);
    assert_int_equal(rl.limit, 450);
    assert_int_equal(rl.remaining, 448);
    assert_int_equal(rl.reset_ms, 1665183229000LL);
    assert_int_equal(rl.blocked_until_ms, 0);
    /* A 429 blocks until the reset. */
    h[1].value = "0";
    r.status = 429;
    assert_int_equal(ck_x_ratelimit(&r, now, &rl), 0);
    assert_int_equal(rl.blocked_until_ms, 1665183229000LL);
    /* A reset far away is capped (and said). */
    h[2].value = "1965183229";
    assert_int_equal(ck_x_ratelimit(&r, now, &rl), 0);
    assert_int_equal(rl.reset_ms, now + CK_RATELIMIT_MAX_WAIT_MS);
    assert_int_equal(rl.capped_from_ms, 1965183229000LL);
    /* Missing or malformed: CK_EPARSE, nothing changed. */
    struct ck_ratelimit before = rl;
    h[0].value = "lots";
    assert_int_equal(ck_x_ratelimit(&r, now, &rl), CK_EPARSE);
    assert_memory_equal(&before, &rl, sizeof rl);
    r.n_headers = 2;
    h[0].value = "450";
    assert_int_equal(ck_x_ratelimit(&r, now, &rl), CK_EPARSE);
}

/* ---- posting ---- */

static void test_post_request(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    struct ck_x_auth user = {.user_token = "USERTOKEN"};
    assert_int_equal(ck_x_post_request("https://api.x.com", &user, "Q1 What & why? #testchat",
                                       "1456012973835788293", &req, &err),
                     0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://api.x.com/2/tweets");
    assert_string_equal(header(&req, "Authorization"), "Bearer USERTOKEN");
    assert_string_equal(header(&req, "Content-Type"), "application/json");
    json_t *body = json_loads(req.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "text")),
                        "Q1 What & why? #testchat");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(body, "reply"), "in_reply_to_tweet_id")),
        "1456012973835788293");
    json_decref(body);
    ck_request_finish(&req);

    /* OAuth 1.0a: the header is signed, the body is not part of it. */
    struct ck_x_oauth1 k;
    assert_int_equal(ck_x_oauth1_parse("ck:cs:at:ats\n", &k, &err), 0);
    struct ck_x_auth o = {.oauth1 = &k, .nonce = "abcdefgh12345678", .timestamp = 1700000000};
    assert_int_equal(
        ck_x_post_request("https://api.x.com", &o, "Welcome #testchat", NULL, &req, &err), 0);
    const char *auth = header(&req, "Authorization");
    assert_non_null(auth);
    assert_true(strncmp(auth,
                        "OAuth oauth_consumer_key=\"ck\", oauth_nonce=\"abcdefgh12345678\", "
                        "oauth_signature=\"",
                        62) == 0);
    assert_non_null(strstr(auth, "oauth_timestamp=\"1700000000\", oauth_token=\"at\""));
    assert_string_equal(req.body, "{\"text\":\"Welcome #testchat\"}");
    ck_request_finish(&req);

    /* Refused before sending. */
    struct ck_x_auth both = {
        .user_token = "U", .oauth1 = &k, .nonce = "abcdefgh12345678", .timestamp = 1};
    struct ck_x_auth none = {0};
    char long_text[400];
    memset(long_text, 'a', 281);
    long_text[281] = '\0';
    assert_int_equal(ck_x_post_request("https://api.x.com", &both, "t", NULL, &req, NULL),
                     CK_EINVAL);
    assert_int_equal(ck_x_post_request("https://api.x.com", &none, "t", NULL, &req, NULL),
                     CK_EINVAL);
    struct ck_error e = {0};
    assert_int_equal(ck_x_post_request("https://api.x.com", &user, long_text, NULL, &req, &e),
                     CK_EINVAL);
    assert_non_null(strstr(e.msg, "281"));
    assert_int_equal(ck_x_post_request("https://api.x.com", &user, "t", "12a", &req, NULL),
                     CK_EINVAL);
    assert_int_equal(
        ck_x_post_request("https://api.x.com", &user, "bad \xff utf-8", NULL, &req, NULL),
        CK_EINVAL);
    struct ck_x_auth inj = {.user_token = "U\r\nX: 1"};
    assert_int_equal(ck_x_post_request("https://api.x.com", &inj, "t", NULL, &req, NULL),
                     CK_EINVAL);
    struct ck_x_auth bad_nonce = {.oauth1 = &k, .nonce = "short", .timestamp = 1};
    assert_int_equal(ck_x_post_request("https://api.x.com", &bad_nonce, "t", NULL, &req, NULL),
                     CK_EINVAL);
    assert_null(req.url);
    ck_x_oauth1_finish(&k);
}

static void test_parse_post(void **state)
{
    char *body = slurp("x-create-tweet.response.json");
    struct ck_response r = answer(201, body);
    char *id;
    enum ck_x_post_error kind;
    struct ck_error err = {0};
    assert_int_equal(ck_x_parse_post(&r, &id, &kind, &err), 0);
    assert_int_equal(kind, CK_X_POST_OK);
    assert_string_equal(id, "1456012973835788293");
    free(id);
    free(body);
    /* errors beside a good data: the post exists. */
    r = answer(201, "{\"data\":{\"id\":\"9007199254740993\",\"text\":\"t\"},\"errors\":[{\"title\":"
                    "\"x\"}]}");
    assert_int_equal(ck_x_parse_post(&r, &id, &kind, &err), 0);
    assert_string_equal(id, "9007199254740993"); /* above 2^53, exact */
    free(id);
    char *body429 = slurp("x-rate-limit-429.docs-example.json");
    struct {
        long status;
        const char *body;
        int code;
        enum ck_x_post_error kind;
        const char *says;
    } cases[] = {
        {403,
         "{\"detail\":\"You are not allowed to create a Tweet with duplicate content.\","
         "\"type\":\"about:blank\",\"title\":\"Forbidden\",\"status\":403}",
         CK_EHTTP, CK_X_POST_DUPLICATE, "make each step's text differ"},
        {403,
         "{\"title\":\"Forbidden\",\"type\":\"https://api.twitter.com/2/problems/"
         "oauth1-permissions\",\"status\":403,\"detail\":\"Your client app is not configured "
         "with the appropriate oauth1 app permissions for this endpoint.\"}",
         CK_EAUTH, CK_X_POST_READ_ONLY, "Read and Write"},
        {403, "{\"title\":\"Forbidden\",\"detail\":\"Your account is suspended.\"}", CK_EHTTP,
         CK_X_POST_FORBIDDEN, "suspended"},
        {401, "{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"Unauthorized\"}", CK_EAUTH,
         CK_X_POST_AUTH, "fix the credentials"},
        {429, body429, CK_ERATELIMIT, CK_X_POST_RATE_LIMITED, "x-rate-limit-reset"},
        {503, "", CK_EHTTP, CK_X_POST_SERVER, "look for it before sending again"},
        {200, "{\"errors\":[{\"title\":\"odd\"}]}", CK_EPARSE, CK_X_POST_OTHER, "no data.id"},
        {201, "{\"data\":{\"id\":1456012973835788293}}", CK_EPARSE, CK_X_POST_OTHER, "no data.id"},
        {400, "{\"title\":\"Invalid Request\",\"detail\":\"bad\\u001b[2J\"}", CK_EHTTP,
         CK_X_POST_OTHER, "bad [2J"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ck_error e = {0};
        r = answer(cases[i].status, cases[i].body);
        id = (char *)"unchanged";
        assert_int_equal(ck_x_parse_post(&r, &id, &kind, &e), cases[i].code);
        assert_null(id);
        assert_int_equal(kind, cases[i].kind);
        if (strstr(e.msg, cases[i].says) == NULL)
            fail_msg("case %zu: %s", i, e.msg);
    }
    free(body429);
}

/* ---- OAuth 1.0a ---- */

/* The example of the X (Twitter) docs, "Creating a signature": its base
 * string and its signature, hCtSmYh+iHYCEqBWrE7C7hYmtUk=. */
static void test_oauth1_docs_example(void **state)
{
    const char *url = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true";
    const char *body[] = {"status", "Hello Ladies + Gentlemen, a signed OAuth request!"};
    const char *op[] = {"oauth_consumer_key",
                        "xvz1evFS4wEEPTGEFPHBog",
                        "oauth_nonce",
                        "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
                        "oauth_signature_method",
                        "HMAC-SHA1",
                        "oauth_timestamp",
                        "1318622958",
                        "oauth_token",
                        "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
                        "oauth_version",
                        "1.0"};
    char *base = ck_x_oauth1_base_string("post", url, op, 6, body, 1);
    assert_string_equal(
        base, "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&"
              "include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26"
              "oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26"
              "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26"
              "oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26"
              "oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C"
              "%2520a%2520signed%2520OAuth%2520request%2521");
    free(base);
    struct ck_x_oauth1 k;
    struct ck_error err = {0};
    assert_int_equal(ck_x_oauth1_parse("xvz1evFS4wEEPTGEFPHBog:kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3Wpw"
                                       "PAoE3Z7kBw:370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9"
                                       "weJAEb:LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
                                       &k, &err),
                     0);
    char *h;
    assert_int_equal(ck_x_oauth1_header(&k, "POST", url, body, 1,
                                        "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", 1318622958,
                                        &h, &err),
                     0);
    assert_string_equal(h, "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", "
                           "oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", "
                           "oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\", "
                           "oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1318622958\", "
                           "oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", "
                           "oauth_version=\"1.0\"");
    free(h);
    /* The same request with its query parameter given as a pair instead,
     * the host in capitals and the default port: the same signature. */
    const char *both[] = {"status", "Hello Ladies + Gentlemen, a signed OAuth request!",
                          "include_entities", "true"};
    assert_int_equal(
        ck_x_oauth1_header(&k, "POST", "HTTPS://API.Twitter.com:443/1.1/statuses/update.json", both,
                           2, "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", 1318622958, &h, &err),
        0);
    assert_non_null(strstr(h, "oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\""));
    free(h);
    ck_x_oauth1_finish(&k);
}

static void test_oauth1_encoding_and_keys(void **state)
{
    /* RFC 5849 3.6: unreserved kept, the rest upper-case %XX, UTF-8 bytewise. */
    char *e = ck_x_oauth_encode("Ladies + Gentlemen~_.-!*'()é");
    assert_string_equal(e, "Ladies%20%2B%20Gentlemen~_.-%21%2A%27%28%29%C3%A9");
    free(e);
    /* Equal names sort by value; a query's '+' is a space, %xx decoded. */
    const char *op[] = {"oauth_nonce", "n"};
    char *base = ck_x_oauth1_base_string(
        "GET", "http://Example.COM:80/r%20v/x?b=2&a=3&a=1&c=%7e+x&d", op, 1, NULL, 0);
    assert_string_equal(base, "GET&http%3A%2F%2Fexample.com%2Fr%2520v%2Fx&a%3D1%26a%3D3%26b%3D2"
                              "%26c%3D~%2520x%26d%3D%26oauth_nonce%3Dn");
    free(base);
    assert_null(ck_x_oauth1_base_string("GET", "ftp://x/", op, 1, NULL, 0));

    struct ck_x_oauth1 k;
    const char *bad[] = {"a:b:c", "a:b:c:d:e", ":b:c:d", "a:b c:c:d", "a:b:\xc3\xa9:d", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ck_error err = {0};
        assert_int_equal(ck_x_oauth1_parse(bad[i], &k, &err), CK_EINVAL);
        assert_null(k.consumer_key);
        /* The message names the part, never its value. */
        assert_null(strstr(err.msg, "b c"));
    }
    struct ck_error err = {0};
    ck_x_oauth1_parse("a:SECRET1:c", &k, &err);
    assert_null(strstr(err.msg, "SECRET1"));
    assert_non_null(strstr(err.msg, "access_token_secret"));
}

/* ---- weighted length (twitter-text config v3) ---- */

static void test_weighted_length(void **state)
{
    assert_int_equal(ck_x_weighted_length(""), 0);
    assert_int_equal(ck_x_weighted_length("Q1 What do you read? #uklibchat"), 31);
    /* A URL counts 23 whatever its length; trailing punctuation is text. */
    assert_int_equal(ck_x_weighted_length("see https://example.org/a/very/long/path?x=1, ok"),
                     4 + 23 + 4);
    assert_int_equal(ck_x_weighted_length("http://a.co"), 23);
    assert_int_equal(ck_x_weighted_length("read example.com/x today"), 5 + 23 + 6);
    assert_int_equal(ck_x_weighted_length("me@example.com"), 2 + 1 + 11);
    /* Latin, Greek, Cyrillic, Hebrew, Arabic... (to U+10FF) weigh 1; CJK 2. */
    assert_int_equal(ck_x_weighted_length("caf\xc3\xa9 \xce\xb1\xd0\xb4"), 7);
    assert_int_equal(ck_x_weighted_length("\xe5\x9b\xb3\xe6\x9b\xb8\xe9\xa4\xa8"), 6);
    /* General punctuation in the 1 ranges: curly quotes, dashes, ellipsis. */
    assert_int_equal(ck_x_weighted_length("\xe2\x80\x9c"
                                          "a"
                                          "\xe2\x80\x9d \xe2\x80\x94"),
                     5);
    /* An emoji is 2, with its skin tone, VS16 or ZWJ family; a flag is 2. */
    assert_int_equal(ck_x_weighted_length("\xf0\x9f\x98\x80"), 2);
    assert_int_equal(ck_x_weighted_length("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"), 2);
    assert_int_equal(ck_x_weighted_length("\xe2\x9d\xa4\xef\xb8\x8f"), 2);
    assert_int_equal(ck_x_weighted_length("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80"
                                          "\x8d\xf0\x9f\x91\xa7"),
                     2);
    assert_int_equal(ck_x_weighted_length("\xf0\x9f\x87\xac\xf0\x9f\x87\xa7"), 2);
    assert_int_equal(ck_x_weighted_length("1\xef\xb8\x8f\xe2\x83\xa3"), 2);
    /* 280 is the limit: 140 CJK characters fill it. */
    char cjk[3 * 141 + 1] = "";
    for (int i = 0; i < 140; i++)
        strcat(cjk, "\xe5\x9b\xb3");
    assert_int_equal(ck_x_weighted_length(cjk), CK_X_MAX_WEIGHTED);
    strcat(cjk, "a");
    assert_int_equal(ck_x_weighted_length(cjk), CK_X_MAX_WEIGHTED + 1);
    /* A bad byte weighs 2, never a crash. */
    assert_int_equal(ck_x_weighted_length("\xff\xc3"), 4);
}

/* ---- pages ---- */

/* ck_x_embedded: the originals a flattened tweet or a v1.1 retweet carries. */
static void test_embedded(void **state)
{
    char *body = slurp("v2-retweet-flat.json");
    json_t *t = json_loads(body, 0, NULL);
    json_t *in;
    assert_int_equal(ck_x_embedded(t, &in, NULL), 0);
    assert_int_equal(json_array_size(in), 1);
    json_t *orig = json_array_get(in, 0);
    assert_string_equal(json_string_value(json_object_get(orig, "id")), "1589671906718134272");
    assert_null(json_object_get(orig, "type"));
    /* The original is unchanged inside the tweet. */
    assert_non_null(
        json_object_get(json_array_get(json_object_get(t, "referenced_tweets"), 0), "type"));
    struct ck_message m;
    assert_int_equal(ck_platform_x.normalise(orig, &m, NULL), 0);
    assert_null(m.boost_of);
    ck_message_finish(&m);
    json_decref(in);
    json_decref(t);
    free(body);
    body = slurp("v1-retweet.json");
    t = json_loads(body, 0, NULL);
    assert_int_equal(ck_x_embedded(t, &in, NULL), 0);
    assert_int_equal(json_array_size(in), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(in, 0), "id_str")),
                        "575487420191252481");
    json_decref(in);
    json_decref(t);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_request),
        cmocka_unit_test(test_search_window_clamped_and_refused),
        cmocka_unit_test(test_parse_recorded_page),
        cmocka_unit_test(test_parse_real_page),
        cmocka_unit_test(test_parse_answers_and_faults),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_post_request),
        cmocka_unit_test(test_parse_post),
        cmocka_unit_test(test_oauth1_docs_example),
        cmocka_unit_test(test_oauth1_encoding_and_keys),
        cmocka_unit_test(test_weighted_length),
        cmocka_unit_test(test_embedded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
