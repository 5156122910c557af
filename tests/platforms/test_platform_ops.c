/* The platform interface itself (platform.h): what the run layer may rely on
 * from every live platform, asked only through struct ck_platform_ops, on
 * real payloads (tests/fixtures/bluesky) and hostile variants. */
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

#include "fixture.h"

static char *read_fixture(const char *name)
{
    return fixture_read("bluesky", name, NULL);
}

/* A response owning body; headers name/value pairs (borrowed strings are copied). */
static struct ck_response resp(long status, const char *body, const char *const *hdrs)
{
    struct ck_response r = {0};
    r.status = status;
    r.body = strdup(body);
    r.body_len = strlen(body);
    size_t n = 0;
    while (hdrs != NULL && hdrs[2 * n] != NULL)
        n++;
    if (n > 0) {
        r.headers = calloc(n, sizeof *r.headers);
        for (size_t i = 0; i < n; i++) {
            r.headers[i].name = strdup(hdrs[2 * i]);
            r.headers[i].value = strdup(hdrs[2 * i + 1]);
        }
        r.n_headers = n;
    }
    return r;
}

static const struct ck_platform_ops *find(const char *name)
{
    const struct ck_platform_ops *ops = ck_platform_find(name);
    assert_non_null(ops);
    return ops;
}

static void test_registry_and_contract(void **state)
{
    (void)state;
    assert_null(ck_platform_find("myspace"));
    assert_null(ck_platform_find(NULL));
    /* What the follower, threads, poster, check and publish call on a live platform. */
    const char *live[] = {"mastodon", "bluesky"};
    for (size_t i = 0; i < 2; i++) {
        const struct ck_platform_ops *o = find(live[i]);
        assert_string_equal(o->name, live[i]);
        assert_non_null(o->timeline_request);
        assert_non_null(o->parse_timeline);
        assert_non_null(o->context_request);
        assert_non_null(o->parse_context);
        assert_non_null(o->status_request);
        assert_non_null(o->parse_exists);
        assert_non_null(o->post_request);
        assert_non_null(o->parse_post);
        assert_non_null(o->error_text);
        assert_non_null(o->text_len);
        assert_non_null(o->ratelimit_update);
        assert_true(o->max_post_len > 0);
        assert_true(o->limits_request == NULL || o->parse_limits != NULL);
        assert_true((o->signin_request == NULL) == (o->parse_signin == NULL));
        if (o->once == CK_ONCE_RECORD_KEY) {
            assert_non_null(o->post_key);
            assert_non_null(o->post_lookup_request);
            assert_non_null(o->parse_post_lookup);
        }
    }
    assert_int_equal(find("mastodon")->paging, CK_PAGING_IDS);
    assert_int_equal(find("mastodon")->once, CK_ONCE_SERVER_KEY);
    assert_int_equal(find("bluesky")->paging, CK_PAGING_CURSOR);
    assert_int_equal(find("bluesky")->once, CK_ONCE_RECORD_KEY);
    assert_int_equal(find("bluesky")->max_post_len, 300);
}

static void test_bluesky_follow_query(void **state)
{
    (void)state;
    const struct ck_platform_ops *o = find("bluesky");
    struct ck_request r;
    int64_t since, until;
    assert_int_equal(ck_time_parse_rfc3339("2026-12-03T19:45:00Z", &since), 0);
    assert_int_equal(ck_time_parse_rfc3339("2026-12-03T21:45:00Z", &until), 0);
    struct ck_timeline_query q = {
        .before = "opaque==cursor", .since_ms = since, .until_ms = until, .limit = 40};
    assert_int_equal(o->timeline_request("https://bsky.social", "tok", "#uklibchat", &q, &r, NULL),
                     0);
    assert_non_null(strstr(r.url, "/xrpc/app.bsky.feed.searchPosts?"));
    assert_non_null(strstr(r.url, "sort=latest"));
    assert_non_null(strstr(r.url, "cursor=opaque%3D%3Dcursor"));
    assert_non_null(strstr(r.url, "since=2026-12-03T19%3A45%3A00"));
    assert_non_null(strstr(r.url, "until=2026-12-03T21%3A45%3A00"));
    ck_request_finish(&r);

    /* The page's cursor comes back opaque, as the older page's. */
    char *body = read_fixture("bluesky-searchPosts.response.json");
    struct ck_response a = resp(200, body, NULL);
    free(body);
    struct ck_page p;
    assert_int_equal(o->parse_timeline(&a, &p, NULL), 0);
    assert_int_equal(json_array_size(p.items), 25);
    assert_string_equal(p.older, "25");
    assert_null(p.newer);
    ck_page_finish(&p);
    ck_response_finish(&a);
}

static void test_bluesky_post_and_lookup(void **state)
{
    (void)state;
    const struct ck_platform_ops *o = find("bluesky");
    char k1[32], k2[32];
    assert_int_equal(o->post_key(1764792000000, 7, k1, sizeof k1), 0);
    assert_int_equal(o->post_key(1764792000000, 8, k2, sizeof k2), 0);
    assert_int_equal(strlen(k1), 13);
    assert_string_not_equal(k1, k2); /* two runs in one millisecond differ */
    assert_int_equal(o->post_key(1764792000000, 7, k2, 8), CK_EINVAL);

    const char *did = "did:plc:u5cwb2mwiv2bfq53cjufe6yn";
    struct ck_post post = {.text = "Q1 What do you read? #uklibchat https://example.org/x",
                           .key = k1,
                           .account = did,
                           .created_ms = 1764792000000,
                           .reply_to = {"at://did:plc:a/app.bsky.feed.post/3k4duaz5vfs2b", "bafyp"},
                           .root = {"at://did:plc:a/app.bsky.feed.post/3k4duaz5vfs22", "bafyr"}};
    struct ck_request r;
    struct ck_error err = {0};
    assert_int_equal(o->post_request("https://bsky.social", NULL, &post, &r, &err), CK_EAUTH);
    assert_int_equal(o->post_request("https://bsky.social", "tok", &post, &r, &err), 0);
    assert_non_null(strstr(r.url, "com.atproto.repo.createRecord"));
    json_t *body = json_loads(r.body, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "rkey")), k1);
    assert_string_equal(json_string_value(json_object_get(body, "repo")), did);
    json_t *reply = json_object_get(json_object_get(body, "record"), "reply");
    assert_string_equal(json_string_value(json_object_get(json_object_get(reply, "parent"), "cid")),
                        "bafyp");
    assert_string_equal(json_string_value(json_object_get(json_object_get(reply, "root"), "cid")),
                        "bafyr");
    assert_true(json_array_size(json_object_get(json_object_get(body, "record"), "facets")) >= 2);
    json_decref(body);
    ck_request_finish(&r);

    /* The answer: the id is the at:// URI, the url bsky.app's, the version the cid. */
    char *fx = read_fixture("bluesky-createRecord.response.docs-example.json");
    struct ck_response a = resp(200, fx, NULL);
    free(fx);
    struct ck_posted made;
    assert_int_equal(o->parse_post(&a, &made, NULL), 0);
    assert_string_equal(made.id, "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/"
                                 "3k4duaz5vfs2b");
    assert_string_equal(made.url, "https://bsky.app/profile/did:plc:u5cwb2mwiv2bfq53cjufe6yn/"
                                  "post/3k4duaz5vfs2b");
    assert_string_equal(made.version,
                        "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm");
    ck_posted_finish(&made);
    ck_response_finish(&a);

    /* Looking the key up after a restart. */
    post.key = "3k4duaz5vfs2b";
    assert_int_equal(o->post_lookup_request("https://bsky.social", "tok", &post, &r, NULL), 0);
    assert_non_null(strstr(r.url, "com.atproto.repo.getRecord?"));
    assert_non_null(strstr(r.url, "rkey=3k4duaz5vfs2b"));
    ck_request_finish(&r);
    const char *found = "{\"uri\": \"at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/"
                        "3k4duaz5vfs2b\", \"cid\": \"bafyc\", \"value\": {\"text\": \"Q1\"}}";
    a = resp(200, found, NULL);
    assert_int_equal(o->parse_post_lookup(&a, &post, &made, NULL), 0);
    assert_string_equal(made.version, "bafyc");
    ck_posted_finish(&made);
    ck_response_finish(&a);
    /* A server answering with another record is not believed. */
    post.key = "3k4duaz5vfs22";
    a = resp(200, found, NULL);
    assert_int_equal(o->parse_post_lookup(&a, &post, &made, NULL), CK_EPARSE);
    assert_null(made.id);
    ck_response_finish(&a);
    a = resp(400, "{\"error\": \"RecordNotFound\", \"message\": \"Could not locate record\"}",
             NULL);
    assert_int_equal(o->parse_post_lookup(&a, &post, &made, NULL), CK_ENOTFOUND);
    assert_int_equal(o->parse_exists(&a, NULL), CK_ENOTFOUND);
    char why[64];
    o->error_text(&a, why, sizeof why);
    assert_non_null(strstr(why, "RecordNotFound"));
    ck_response_finish(&a);
    a = resp(502, "<html>bad gateway</html>", NULL);
    assert_int_not_equal(o->parse_post_lookup(&a, &post, &made, NULL), CK_ENOTFOUND);
    assert_int_not_equal(o->parse_exists(&a, NULL), CK_ENOTFOUND);
    ck_response_finish(&a);

    /* One post by id: its at:// URI, never anything else. */
    assert_int_equal(
        o->status_request("https://bsky.social", NULL, made.id ? made.id : "x", &r, NULL),
        CK_EINVAL);
    assert_int_equal(o->status_request("https://bsky.social", NULL,
                                       "at://did:plc:a/app.bsky.feed.post/3k4duaz5vfs2b", &r, NULL),
                     0);
    assert_non_null(strstr(r.url, "repo=did%3Aplc%3Aa"));
    ck_request_finish(&r);
}

static void test_bluesky_session_and_limits(void **state)
{
    (void)state;
    const struct ck_platform_ops *o = find("bluesky");
    /* {"exp": 1764792000} as a JWT payload. */
    const char *body = "{\"accessJwt\": \"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjQ3OTIwMDB9.c2ln\", "
                       "\"refreshJwt\": \"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjQ3OTIwMDB9.cmVm\", "
                       "\"did\": \"did:plc:abc\", \"handle\": \"name.bsky.social\"}";
    struct ck_response a = resp(200, body, NULL);
    struct ck_signin s;
    assert_int_equal(o->parse_signin(&a, &s, NULL), 0);
    assert_string_equal(s.account, "did:plc:abc");
    assert_int_equal(s.token_exp_ms, 1764792000000);
    assert_non_null(strstr(s.refresh, ".cmVm"));
    ck_signin_finish(&s);
    assert_null(s.token);
    ck_response_finish(&a);

    struct ck_request r;
    struct ck_error err = {0};
    assert_int_equal(o->signin_request("https://bsky.social", "name.bsky.social",
                                       "abcd-efgh-ijkl-mnop", &r, &err),
                     0);
    assert_non_null(strstr(r.body, "abcd-efgh-ijkl-mnop")); /* in the body, nowhere else */
    assert_null(strstr(r.url, "abcd"));
    ck_request_finish(&r);

    a = resp(400, "{\"error\": \"ExpiredToken\", \"message\": \"Token has expired\"}", NULL);
    assert_true(o->token_expired(&a));
    ck_response_finish(&a);
    a = resp(400, "{\"error\": \"InvalidRequest\", \"message\": \"no\"}", NULL);
    assert_false(o->token_expired(&a));
    ck_response_finish(&a);
    assert_false(find("mastodon")->token_expired != NULL);

    /* Graphemes, not bytes: a family emoji is one. */
    assert_int_equal(o->text_len("caf\xC3\xA9 \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"), 6);
}

static void test_ratelimit_per_platform(void **state)
{
    (void)state;
    int64_t now = 1747676484000; /* 300 s before the recorded reset */
    const char *bsky[] = {
        "ratelimit-limit", "3000", "ratelimit-remaining", "2983", "ratelimit-reset",
        "1747676784",      NULL};
    struct ck_ratelimit rl;
    ck_ratelimit_init(&rl);
    struct ck_response a = resp(200, "{}", bsky);
    find("bluesky")->ratelimit_update(&rl, &a, now);
    assert_true(rl.known);
    assert_int_equal(rl.limit, 3000);
    assert_int_equal(rl.remaining, 2983);
    assert_int_equal(rl.reset_ms, 1747676784000);
    ck_response_finish(&a);
    /* A 429 waits for the reset the headers name. */
    const char *limited[] = {
        "ratelimit-limit", "3000", "ratelimit-remaining", "0", "ratelimit-reset",
        "1747676784",      NULL};
    a = resp(429, "{\"error\": \"RateLimitExceeded\"}", limited);
    find("bluesky")->ratelimit_update(&rl, &a, now);
    assert_int_equal(rl.blocked_until_ms, 1747676784000);
    ck_response_finish(&a);
    /* Mastodon reads X-RateLimit-*, and not Bluesky's. */
    ck_ratelimit_init(&rl);
    a = resp(200, "[]", bsky);
    find("mastodon")->ratelimit_update(&rl, &a, now);
    assert_false(rl.known);
    ck_response_finish(&a);
}

static void test_mastodon_on_the_interface(void **state)
{
    (void)state;
    const struct ck_platform_ops *o = find("mastodon");
    assert_null(o->post_key); /* the poster names Mastodon's keys itself */
    struct ck_post post = {
        .text = "Hello #uklibchat", .key = "ck-key-1", .reply_to = {"109", NULL}};
    struct ck_request r;
    assert_int_equal(o->post_request("https://glammr.us", "tok", &post, &r, NULL), 0);
    bool key = false;
    for (size_t i = 0; i < r.n_headers; i++)
        key |= strcmp(r.headers[i], "Idempotency-Key: ck-key-1") == 0;
    assert_true(key);
    assert_non_null(strstr(r.body, "in_reply_to_id=109"));
    ck_request_finish(&r);
    struct ck_response a = resp(404, "{\"error\": \"Record not found\"}", NULL);
    assert_int_equal(o->parse_exists(&a, NULL), CK_ENOTFOUND);
    ck_response_finish(&a);
    a = resp(200, "{\"id\": \"1\"}", NULL);
    assert_int_equal(o->parse_exists(&a, NULL), 0);
    ck_response_finish(&a);
    a = resp(503, "", NULL);
    assert_int_equal(o->parse_exists(&a, NULL), CK_EHTTP);
    ck_response_finish(&a);
    assert_int_equal(o->text_len("caf\xC3\xA9"), 4);
    /* Time bounds mean nothing to id paging. */
    struct ck_timeline_query q = {.after = "5", .since_ms = 1000, .until_ms = 2000};
    assert_int_equal(o->timeline_request("https://glammr.us", NULL, "t", &q, &r, NULL), 0);
    assert_string_equal(r.url, "https://glammr.us/api/v1/timelines/tag/t?limit=40&min_id=5");
    ck_request_finish(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_and_contract),
        cmocka_unit_test(test_bluesky_follow_query),
        cmocka_unit_test(test_bluesky_post_and_lookup),
        cmocka_unit_test(test_bluesky_session_and_limits),
        cmocka_unit_test(test_ratelimit_per_platform),
        cmocka_unit_test(test_mastodon_on_the_interface),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
