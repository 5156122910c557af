/* Bluesky against real payloads (tests/fixtures/bluesky: a recorded searchPosts
 * answer and its headers, the docs' records and createRecord answer) and
 * hostile variants of them, which must be refused or skipped, never trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/bluesky.h"
#include "chatkeeper/timeutil.h"

#include "fixture.h"
#include "reqresp.h"

static char *read_fixture(const char *name)
{
    return fixture_read("bluesky", name, NULL);
}

static json_t *load_json(const char *name)
{
    char *s = read_fixture(name);
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(j);
    return j;
}

/* A response with body (copied) and status; no headers. */
static struct ck_response resp_of(long status, const char *body)
{
    struct ck_response r = {0};
    r.status = status;
    r.body = strdup(body);
    r.body_len = strlen(body);
    return r;
}

static struct ck_response resp_json(long status, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    struct ck_response r = resp_of(status, s);
    free(s);
    return r;
}

/* ---- sessions ---- */

static char *b64url(const char *s)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(s), o = 0;
    char *out = malloc(n * 2 + 4);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
    return out;
}

/* A JWT shaped like the PDS's: header.payload.signature, payload with exp. */
static char *make_jwt(long long exp)
{
    char payload[160];
    snprintf(payload, sizeof payload,
             "{\"scope\":\"com.atproto.access\",\"sub\":\"did:plc:abc\",\"iat\":1,\"exp\":%lld}",
             exp);
    char *h = b64url("{\"typ\":\"at+jwt\",\"alg\":\"ES256K\"}");
    char *p = b64url(payload);
    char *jwt = malloc(strlen(h) + strlen(p) + 16);
    snprintf(jwt, strlen(h) + strlen(p) + 16, "%s.%s.c2lnbmF0dXJl", h, p);
    free(h);
    free(p);
    return jwt;
}

static void test_create_session_request(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_create_session_request("https://bsky.social/", "name.bsky.social",
                                                       "abcd-efgh-ijkl-mnop", &req, &err),
                     0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://bsky.social/xrpc/com.atproto.server.createSession");
    assert_null(header(&req, "Authorization"));
    assert_string_equal(header(&req, "Content-Type"), "application/json");
    json_t *body = json_loadb(req.body, req.body_len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "identifier")), "name.bsky.social");
    assert_string_equal(json_string_value(json_object_get(body, "password")),
                        "abcd-efgh-ijkl-mnop");
    json_decref(body);
    ck_request_finish(&req);
    /* A bad password is refused without being quoted. */
    struct ck_error e2 = {0};
    assert_int_equal(ck_bluesky_create_session_request("https://bsky.social", "name.bsky.social",
                                                       "secret\xff-pw", &req, &e2),
                     CK_EINVAL);
    assert_null(strstr(e2.msg, "secret"));
    assert_null(req.url);
    assert_int_equal(
        ck_bluesky_create_session_request("https://bsky.social", "name", "", &req, NULL),
        CK_EINVAL);
}

static void test_parse_session_and_refresh(void **state)
{
    char *acc = make_jwt(1767225600LL), *ref = make_jwt(1772409600LL);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b}", "accessJwt", acc, "refreshJwt", ref, "did",
                          "did:plc:abc", "handle", "name.bsky.social", "active", 1);
    struct ck_response r = resp_json(200, j);
    struct ck_bluesky_session s;
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_parse_session(&r, &s, &err), 0);
    assert_string_equal(s.access_jwt, acc);
    assert_string_equal(s.did, "did:plc:abc");
    assert_string_equal(s.handle, "name.bsky.social");
    assert_int_equal(s.access_exp_ms, 1767225600LL * 1000);
    assert_int_equal(s.refresh_exp_ms, 1772409600LL * 1000);
    /* Refresh five minutes ahead, not before. */
    assert_false(ck_bluesky_session_needs_refresh(&s, s.access_exp_ms - 600000, 300000));
    assert_true(ck_bluesky_session_needs_refresh(&s, s.access_exp_ms - 200000, 300000));
    struct ck_request req;
    assert_int_equal(
        ck_bluesky_refresh_session_request("https://pds.example", s.refresh_jwt, &req, &err), 0);
    assert_string_equal(req.url, "https://pds.example/xrpc/com.atproto.server.refreshSession");
    char want[1024];
    snprintf(want, sizeof want, "Bearer %s", ref);
    assert_string_equal(header(&req, "Authorization"), want);
    assert_null(req.body);
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_refresh_session_request("https://pds.example", "a\nb", &req, NULL),
                     CK_EINVAL);
    ck_bluesky_session_finish(&s);
    ck_response_finish(&r);

    /* Not a JWT: no expiry known, no refresh guessed. */
    json_object_set_new(j, "accessJwt", json_string("opaque-token"));
    r = resp_json(200, j);
    assert_int_equal(ck_bluesky_parse_session(&r, &s, &err), 0);
    assert_int_equal(s.access_exp_ms, INT64_MIN);
    assert_false(ck_bluesky_session_needs_refresh(&s, 0, 300000));
    ck_bluesky_session_finish(&s);
    ck_response_finish(&r);

    /* A did that is not a DID (it goes into request URLs) is refused. */
    json_object_set_new(j, "did", json_string("did:plc:a/../b"));
    r = resp_json(200, j);
    assert_int_equal(ck_bluesky_parse_session(&r, &s, &err), CK_EPARSE);
    ck_response_finish(&r);

    /* Missing fields: refused, the error names the field, never a token. */
    json_object_del(j, "did");
    r = resp_json(200, j);
    struct ck_error e3 = {0};
    assert_int_equal(ck_bluesky_parse_session(&r, &s, &e3), CK_EPARSE);
    assert_non_null(strstr(e3.msg, "did"));
    assert_null(strstr(e3.msg, ref));
    assert_null(s.access_jwt);
    ck_response_finish(&r);
    json_decref(j);
    free(acc);
    free(ref);
}

static void test_expired_token(void **state)
{
    struct ck_response r =
        resp_of(400, "{\"error\":\"ExpiredToken\",\"message\":\"Token has expired\"}");
    assert_int_equal(ck_bluesky_error_kind(&r), CK_BLUESKY_ERR_EXPIRED);
    char text[64];
    ck_bluesky_error_text(&r, text, sizeof text);
    assert_string_equal(text, "ExpiredToken: Token has expired");
    struct ck_bluesky_session s;
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_parse_session(&r, &s, &err), CK_EAUTH);
    assert_non_null(strstr(err.msg, "ExpiredToken"));
    struct ck_bluesky_page page;
    assert_int_equal(ck_bluesky_parse_search(&r, &page, NULL), CK_EAUTH);
    ck_response_finish(&r);
    r = resp_of(400, "{\"error\":\"InvalidToken\",\"message\":\"bad\\u0007\\nthing\"}");
    assert_int_equal(ck_bluesky_error_kind(&r), CK_BLUESKY_ERR_INVALID_TOKEN);
    ck_bluesky_error_text(&r, text, sizeof text);
    assert_string_equal(text, "InvalidToken: bad  thing");
    ck_response_finish(&r);
    r = resp_of(502, "<html>bad gateway</html>");
    assert_int_equal(ck_bluesky_error_kind(&r), CK_BLUESKY_ERR_OTHER);
    ck_bluesky_error_text(&r, text, sizeof text);
    assert_string_equal(text, "");
    ck_response_finish(&r);
    r = resp_of(429, "{\"error\":\"RateLimitExceeded\"}");
    assert_int_equal(ck_bluesky_error_kind(&r), CK_BLUESKY_ERR_RATE_LIMITED);
    ck_response_finish(&r);
}

static void test_ratelimit_headers(void **state)
{
    char *raw = read_fixture("bluesky-searchPosts.headers.txt");
    struct ck_header h[32];
    size_t n = 0;
    for (char *line = strtok(raw, "\n"); line != NULL && n < 32; line = strtok(NULL, "\n")) {
        char *colon = strchr(line, ':');
        if (colon == NULL || strncmp(line, "GET ", 4) == 0 || line[0] == '(')
            continue;
        *colon = '\0';
        h[n].name = line;
        h[n].value = colon + 1 + strspn(colon + 1, " ");
        n++;
    }
    struct ck_response r = {.status = 200, .headers = h, .n_headers = n};
    struct ck_ratelimit rl = {0};
    assert_int_equal(ck_bluesky_ratelimit(&r, &rl), 0);
    assert_true(rl.known);
    assert_int_equal(rl.limit, 3000);
    assert_int_equal(rl.remaining, 2983);
    assert_int_equal(rl.reset_ms, 1747676784LL * 1000);
    free(raw);
    /* Malformed: ignored, what we knew is kept. A count is digits and
     * nothing else (ck_response_header_count). */
    const char *bad_counts[] = {"-1",    "+1", " 1",   "1 ",
                                "12abc", "",   "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
        struct ck_header bad[] = {{"ratelimit-limit", "3000"},
                                  {"ratelimit-remaining", (char *)bad_counts[i]},
                                  {"ratelimit-reset", "1747676784"}};
        struct ck_response r2 = {.status = 200, .headers = bad, .n_headers = 3};
        assert_int_equal(ck_bluesky_ratelimit(&r2, &rl), CK_EPARSE);
        assert_int_equal(rl.remaining, 2983);
    }
}

/* ---- following ---- */

static void test_search_request(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    struct ck_bluesky_search q = {.hashtag = "#uklibchat",
                                  .tag_filter = true,
                                  .since_ms = iso("2026-12-03T20:00:00Z"),
                                  .until_ms = iso("2026-12-03T21:00:00Z"),
                                  .limit = 500,
                                  .cursor = "25&x=1"};
    assert_int_equal(
        ck_bluesky_search_request("https://public.api.bsky.app", "tok", &q, &req, &err), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url,
                        "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts"
                        "?q=%23uklibchat&sort=latest&limit=100&tag=uklibchat"
                        "&since=2026-12-03T20%3A00%3A00.000Z&until=2026-12-03T21%3A00%3A00.000Z"
                        "&cursor=25%26x%3D1");
    assert_string_equal(header(&req, "Authorization"), "Bearer tok");
    ck_request_finish(&req);
    struct ck_bluesky_search q2 = {.hashtag = "#", .since_ms = INT64_MIN, .until_ms = INT64_MIN};
    assert_int_equal(ck_bluesky_search_request("https://x", NULL, &q2, &req, NULL), CK_EINVAL);
    q2.hashtag = "chat";
    assert_int_equal(ck_bluesky_search_request("https://x", "a\r\nX: y", &q2, &req, NULL),
                     CK_EINVAL);
    assert_int_equal(ck_bluesky_search_request("https://x", NULL, &q2, &req, NULL), 0);
    assert_string_equal(req.url, "https://x/xrpc/app.bsky.feed.searchPosts?q=%23chat&sort=latest"
                                 "&limit=100");
    assert_null(header(&req, "Authorization"));
    ck_request_finish(&req);
}

static json_t *fixture_page(void)
{
    return load_json("bluesky-searchPosts.response.json");
}

static void norm(const json_t *raw, struct ck_message *m)
{
    struct ck_error err = {0};
    int rc = ck_bluesky_normalise(raw, m, &err);
    if (rc != 0)
        fail_msg("normalise: %s", err.msg);
}

static void test_parse_search_fixture(void **state)
{
    char *body = read_fixture("bluesky-searchPosts.response.json");
    struct ck_response r = resp_of(200, body);
    free(body);
    struct ck_bluesky_page page;
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_parse_search(&r, &page, &err), 0);
    assert_int_equal(json_array_size(page.posts), 25);
    assert_int_equal(page.skipped, 0);
    assert_string_equal(page.cursor, "25");
    for (size_t i = 0; i < json_array_size(page.posts); i++) {
        struct ck_message m;
        const json_t *p = json_array_get(page.posts, i);
        norm(p, &m);
        assert_string_equal(m.id, ck_bluesky_item_id(p));
        assert_string_equal(m.platform, "bluesky");
        assert_string_equal(m.uri, m.id);
        assert_int_equal(m.created_ms, ck_bluesky_item_time(p));
        assert_string_equal(ck_bluesky_item_version(p),
                            json_string_value(json_object_get(p, "cid")));
        ck_message_finish(&m);
    }
    /* The current platform interface gives the same page, cursor as older. */
    struct ck_page cp;
    assert_int_equal(ck_platform_bluesky.parse_timeline(&r, &cp, &err), 0);
    assert_int_equal(json_array_size(cp.items), 25);
    assert_string_equal(cp.older, "25");
    ck_page_finish(&cp);
    ck_bluesky_page_finish(&page);
    ck_response_finish(&r);
}

static void test_normalise_fixture_posts(void **state)
{
    json_t *page = fixture_page();
    json_t *posts = json_object_get(page, "posts");
    struct ck_message m;

    /* 0: a link facet whose text is the whole URL. */
    norm(json_array_get(posts, 0), &m);
    assert_string_equal(m.id,
                        "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m");
    assert_string_equal(m.url,
                        "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m");
    assert_string_equal(m.author.handle, "@socpaperbot.bsky.social");
    assert_string_equal(m.author.name, "Sociology papers (journals + SocArXiv)");
    assert_string_equal(m.author.id, "did:plc:kkergqgbhb56ptpwj2wenkje");
    assert_string_equal(m.author.url, "https://bsky.app/profile/socpaperbot.bsky.social");
    assert_int_equal(m.created_ms, iso("2025-05-19T17:10:09.561858Z"));
    assert_non_null(strstr(m.text, "Redistricting https://osf.io/v87fn State-level"));
    assert_null(m.reply_to);
    ck_message_finish(&m);

    /* 1: a shortened link becomes the whole URL; an external embed is a line. */
    norm(json_array_get(posts, 1), &m);
    assert_non_null(strstr(m.text, "https://open.substack.com/pub/christackett/p/"
                                   "the-pawn-or-the-collaborator?r=92vnq&utm_medium=ios"));
    assert_null(strstr(m.text, "christac..."));
    assert_non_null(strstr(m.text, "\n[link: The Pawn or the Collaborator?] https://open."));
    assert_int_equal(m.boosts, 3);
    assert_int_equal(m.likes, 4);
    ck_message_finish(&m);

    /* 2: a reply with an image (alt text empty). */
    norm(json_array_get(posts, 2), &m);
    assert_string_equal(m.reply_to,
                        "at://did:plc:7nagdvjqrzaquzk7mueohne5/app.bsky.feed.post/3lpjzgltpa22l");
    assert_non_null(strstr(m.text, "\n[image] https://cdn.bsky.app/img/feed_fullsize/"));
    ck_message_finish(&m);

    /* 3: non-ASCII before the facet: byte offsets, not characters. */
    norm(json_array_get(posts, 3), &m);
    assert_non_null(strstr(m.text, "https://drive.google.com/file/d/"
                                   "1PvWocH9A_Kn_cxRX8uDoMsfDwqbVGkGk/view?usp=sharing"));
    assert_int_equal(m.replies, 1);
    ck_message_finish(&m);

    /* 12: a quote post. */
    norm(json_array_get(posts, 12), &m);
    assert_string_equal(m.quote_of,
                        "at://did:plc:pjiafkey2cokiupsxpswqlk7/app.bsky.feed.post/3lpjgwfr3gs27");
    assert_non_null(strstr(m.text, "[quote: @marcelias.bsky.social] "
                                   "https://bsky.app/profile/marcelias.bsky.social/post/"
                                   "3lpjgwfr3gs27"));
    ck_message_finish(&m);

    /* 24: a tag facet stays as written; counts. */
    norm(json_array_get(posts, 24), &m);
    assert_non_null(strstr(m.text, "#txlege"));
    assert_int_equal(m.replies, 0);
    assert_int_equal(m.boosts, 13);
    assert_int_equal(m.likes, 58);
    ck_message_finish(&m);
    json_decref(page);
}

static void test_normalise_docs_record_facets(void **state)
{
    /* The docs' record with a mention and a link after emoji, as a post view. */
    json_t *rec = load_json("bluesky-post-record-with-facets.docs-example.json");
    json_t *post =
        json_pack("{s:s, s:s, s:{s:s, s:s}, s:O, s:s}", "uri",
                  "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k4duaz5vfs2b", "cid",
                  "bafy", "author", "did", "did:plc:u5cwb2mwiv2bfq53cjufe6yn", "handle",
                  "handle.invalid", "record", rec, "indexedAt", "2023-08-08T01:03:42Z");
    struct ck_message m;
    norm(post, &m);
    assert_string_equal(m.text,
                        "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 "
                        "https://en.wikipedia.org/wiki/CBOR.");
    /* handle.invalid: the DID names the account. */
    assert_string_equal(m.author.handle, "@did:plc:u5cwb2mwiv2bfq53cjufe6yn");
    assert_string_equal(m.url, "https://bsky.app/profile/did:plc:u5cwb2mwiv2bfq53cjufe6yn/post/"
                               "3k4duaz5vfs2b");
    assert_int_equal(m.created_ms, iso("2023-08-08T01:03:41.157302Z"));
    ck_message_finish(&m);

    /* A link whose text is not its URL keeps both. */
    json_t *facets = json_object_get(rec, "facets");
    json_t *idx = json_object_get(json_array_get(facets, 0), "index");
    json_t *feats = json_object_get(json_array_get(facets, 0), "features");
    json_array_set_new(feats, 0,
                       json_pack("{s:s, s:s}", "$type", "app.bsky.richtext.facet#link", "uri",
                                 "https://atproto.com/"));
    norm(post, &m);
    assert_non_null(strstr(m.text, "mentioning @atproto.com (https://atproto.com/) to share"));
    ck_message_finish(&m);

    /* Hostile ranges: out of bounds, splitting a character, reversed, wrong
     * types. The facet is ignored; the text stays as written. */
    const long long bad[][2] = {{23, 5000}, {1, 35}, {35, 23}, {-1, 10}, {0, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object_set_new(idx, "byteStart", json_integer(bad[i][0]));
        json_object_set_new(idx, "byteEnd", json_integer(bad[i][1]));
        norm(post, &m);
        assert_non_null(strstr(m.text, "mentioning @atproto.com to share"));
        ck_message_finish(&m);
    }
    json_object_set_new(idx, "byteStart", json_string("23"));
    norm(post, &m);
    ck_message_finish(&m);
    json_object_set_new(json_object_get(post, "record"), "facets", json_string("nope"));
    norm(post, &m);
    ck_message_finish(&m);
    json_decref(post);
    json_decref(rec);
}

static json_t *post_view(const char *did, const char *rkey, const char *text)
{
    char uri[256];
    snprintf(uri, sizeof uri, "at://%s/app.bsky.feed.post/%s", did, rkey);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:i}", "uri", uri,
                     "cid", "bafyrei", "author", "did", did, "handle", "a.bsky.social",
                     "displayName", "A", "record", "$type", "app.bsky.feed.post", "text", text,
                     "createdAt", "2026-12-03T20:05:00Z", "indexedAt", "2026-12-03T20:05:01Z",
                     "likeCount", 7);
}

static void test_repost_and_record_with_media(void **state)
{
    json_t *post = post_view("did:plc:aaa", "3lpk2u6qo222m", "Q1 #uklibchat");
    json_t *item = json_pack("{s:O, s:{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s}}", "post", post,
                             "reason", "$type", "app.bsky.feed.defs#reasonRepost", "uri",
                             "at://did:plc:bbb/app.bsky.feed.repost/3lpk3aaaaaa2a", "cid",
                             "bafyrepost", "by", "did", "did:plc:bbb", "handle", "b.bsky.social",
                             "displayName", "B", "indexedAt", "2026-12-03T20:06:00Z");
    struct ck_message m;
    norm(item, &m);
    assert_string_equal(m.id, "at://did:plc:bbb/app.bsky.feed.repost/3lpk3aaaaaa2a");
    assert_string_equal(m.boost_of, "at://did:plc:aaa/app.bsky.feed.post/3lpk2u6qo222m");
    assert_string_equal(m.author.handle, "@b.bsky.social");
    assert_string_equal(m.author.name, "B");
    assert_int_equal(m.created_ms, iso("2026-12-03T20:06:00Z"));
    assert_int_equal(m.likes, 0);
    assert_string_equal(ck_bluesky_item_id(item), m.id);
    assert_string_equal(ck_bluesky_item_version(item), "bafyrepost");
    ck_message_finish(&m);
    /* A repost without its own uri is refused, not confused with the post. */
    json_object_del(json_object_get(item, "reason"), "uri");
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_normalise(item, &m, &err), CK_EPARSE);
    assert_null(ck_bluesky_item_id(item));
    /* A feed item without a reason is the post. */
    json_object_del(item, "reason");
    norm(item, &m);
    assert_string_equal(m.id, "at://did:plc:aaa/app.bsky.feed.post/3lpk2u6qo222m");
    assert_int_equal(m.likes, 7);
    ck_message_finish(&m);

    /* recordWithMedia: the image (with alt text) and the quote. */
    json_object_set_new(
        post, "embed",
        json_pack("{s:s, s:{s:s, s:[{s:s, s:s, s:s}]}, s:{s:{s:s, s:s, s:s, s:{s:s, s:s}}}}",
                  "$type", "app.bsky.embed.recordWithMedia#view", "media", "$type",
                  "app.bsky.embed.images#view", "images", "thumb", "https://cdn/t", "fullsize",
                  "https://cdn/f", "alt", "A chart of answers", "record", "record", "$type",
                  "app.bsky.embed.record#viewRecord", "uri",
                  "at://did:plc:ccc/app.bsky.feed.post/3kaaaaaaaaa2a", "cid", "bafyq", "author",
                  "did", "did:plc:ccc", "handle", "c.example.org"));
    norm(post, &m);
    assert_string_equal(m.text, "Q1 #uklibchat\n[image: A chart of answers] https://cdn/f\n"
                                "[quote: @c.example.org] "
                                "https://bsky.app/profile/c.example.org/post/3kaaaaaaaaa2a");
    assert_string_equal(m.quote_of, "at://did:plc:ccc/app.bsky.feed.post/3kaaaaaaaaa2a");
    ck_message_finish(&m);
    json_decref(item);
    json_decref(post);
}

static void test_hostile_pages(void **state)
{
    struct ck_bluesky_page page;
    struct ck_error err = {0};
    const char *refused[] = {"",
                             "not json",
                             "[]",
                             "{\"posts\": {}}",
                             "{\"cursor\": \"1\"}",
                             "{\"posts\": [], \"cursor\": 5}",
                             "{\"posts\": [], \"cursor\": \"a\\nb\"}"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct ck_response r = resp_of(200, refused[i]);
        assert_int_equal(ck_bluesky_parse_search(&r, &page, &err), CK_EPARSE);
        assert_null(page.posts);
        ck_response_finish(&r);
    }
    struct ck_response r5 = resp_of(500, "{\"posts\": []}");
    assert_int_equal(ck_bluesky_parse_search(&r5, &page, &err), CK_EHTTP);
    ck_response_finish(&r5);

    /* Bad items are skipped and counted; the rest are kept. */
    json_t *good = post_view("did:plc:aaa", "3lpk2u6qo222m", "ok");
    json_t *posts = json_array();
    json_array_append(posts, good);
    json_array_append_new(posts, json_string("x"));
    json_array_append_new(posts, json_pack("{s:s}", "uri", "at://did:plc:a/app.bsky.feed.post/x"));
    json_t *wrong_did = json_deep_copy(good);
    json_object_set_new(json_object_get(wrong_did, "author"), "did", json_string("did:plc:zzz"));
    json_array_append_new(posts, wrong_did);
    json_t *bad_uri = json_deep_copy(good);
    json_object_set_new(bad_uri, "uri", json_string("https://evil/x"));
    json_array_append_new(posts, bad_uri);
    json_t *bad_text = json_deep_copy(good);
    json_object_set_new(json_object_get(bad_text, "record"), "text", json_integer(3));
    json_array_append_new(posts, bad_text);
    json_t *no_time = json_deep_copy(good);
    json_object_del(json_object_get(no_time, "record"), "createdAt");
    json_object_set_new(no_time, "indexedAt", json_string("yesterday"));
    json_array_append_new(posts, no_time);
    for (int i = 0; i < CK_BLUESKY_MAX_ITEMS + 5; i++)
        json_array_append(posts, good);
    json_t *root = json_pack("{s:o}", "posts", posts);
    struct ck_response r = resp_json(200, root);
    assert_int_equal(ck_bluesky_parse_search(&r, &page, &err), 0);
    assert_int_equal(json_array_size(page.posts), CK_BLUESKY_MAX_ITEMS);
    assert_int_equal(page.skipped, 4 + 8); /* 4 bad; 8 good ones over the cap */
    assert_null(page.cursor);
    /* bad_text and no_time pass the page's checks but normalise to CK_EPARSE. */
    struct ck_message m;
    assert_int_equal(ck_bluesky_normalise(bad_text, &m, &err), CK_EPARSE);
    assert_int_equal(ck_bluesky_normalise(no_time, &m, &err), CK_EPARSE);
    json_t *x = json_string("x");
    assert_int_equal(ck_bluesky_normalise(x, &m, &err), CK_EPARSE);
    json_decref(x);
    ck_bluesky_page_finish(&page);
    ck_response_finish(&r);
    json_decref(root);
    json_decref(good);
}

/* ---- threads ---- */

static json_t *tvp(json_t *post, json_t *replies)
{
    json_t *t = json_pack("{s:s, s:o}", "$type", "app.bsky.feed.defs#threadViewPost", "post", post);
    if (replies != NULL)
        json_object_set_new(t, "replies", replies);
    return t;
}

static void test_thread(void **state)
{
    struct ck_request req;
    struct ck_error err = {0};
    const char *root_uri = "at://did:plc:aaa/app.bsky.feed.post/3lpk2u6qo222m";
    assert_int_equal(ck_bluesky_thread_request("https://api", "tok", root_uri, 10, &req, &err), 0);
    assert_string_equal(req.url, "https://api/xrpc/app.bsky.feed.getPostThread?uri=at%3A%2F%2F"
                                 "did%3Aplc%3Aaaa%2Fapp.bsky.feed.post%2F3lpk2u6qo222m&depth=10"
                                 "&parentHeight=0");
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_thread_request("https://api", NULL, "3lpk", 10, &req, NULL),
                     CK_EINVAL);

    json_t *deep = tvp(post_view("did:plc:ddd", "3d", "r1.1"), NULL);
    json_t *r1 = tvp(post_view("did:plc:bbb", "3b", "r1"), json_pack("[o]", deep));
    json_t *r2 = tvp(post_view("did:plc:ccc", "3c", "r2"), NULL);
    json_t *gone = json_pack("{s:s, s:s, s:b}", "$type", "app.bsky.feed.defs#notFoundPost", "uri",
                             "at://did:plc:x/app.bsky.feed.post/3x", "notFound", 1);
    json_t *top = tvp(post_view("did:plc:aaa", "3lpk2u6qo222m", "Q1"),
                      json_pack("[o, o, s, o]", r1, gone, "junk", r2));
    json_t *ans = json_pack("{s:o}", "thread", top);
    struct ck_response r = resp_json(200, ans);
    json_t *flat;
    assert_int_equal(ck_bluesky_parse_thread(&r, &flat, &err), 0);
    assert_int_equal(json_array_size(flat), 3);
    const char *want[] = {"r1", "r1.1", "r2"};
    for (size_t i = 0; i < 3; i++) {
        struct ck_message m;
        norm(json_array_get(flat, i), &m);
        assert_string_equal(m.text, want[i]);
        ck_message_finish(&m);
    }
    json_decref(flat);
    ck_response_finish(&r);
    json_decref(ans);
    struct ck_response bad = resp_of(200, "{\"thread\": []}");
    assert_int_equal(ck_bluesky_parse_thread(&bad, &flat, &err), CK_EPARSE);
    assert_null(flat);
    ck_response_finish(&bad);
}

/* ---- one record ---- */

static void test_get_record(void **state)
{
    char *did = NULL, *coll = NULL, *rkey = NULL;
    assert_int_equal(ck_bluesky_uri_split("at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/"
                                          "app.bsky.feed.post/3k4duaz5vfs2b",
                                          &did, &coll, &rkey),
                     0);
    assert_string_equal(did, "did:plc:u5cwb2mwiv2bfq53cjufe6yn");
    assert_string_equal(coll, "app.bsky.feed.post");
    assert_string_equal(rkey, "3k4duaz5vfs2b");
    free(did);
    free(coll);
    free(rkey);
    const char *bad[] = {"at://did:plc:a/app.bsky.feed.post", "at://did:plc:a/x/y/z",
                         "https://did:plc:a/x/y", "at://did plc/x/y", "at:///x/y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ck_bluesky_uri_split(bad[i], NULL, NULL, NULL), CK_EINVAL);

    struct ck_request req;
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_get_record_request("https://pds", "tok", "did:plc:abc",
                                                   "3k4duaz5vfs2b", &req, &err),
                     0);
    assert_string_equal(req.url, "https://pds/xrpc/com.atproto.repo.getRecord?repo=did%3Aplc%3Aabc"
                                 "&collection=app.bsky.feed.post&rkey=3k4duaz5vfs2b");
    ck_request_finish(&req);
    assert_int_equal(
        ck_bluesky_get_record_request("https://pds", "tok", "did:plc:abc", "../x", &req, NULL),
        CK_EINVAL);

    json_t *value = load_json("bluesky-post-record-reply.docs-example.json");
    json_t *ans =
        json_pack("{s:s, s:s, s:o}", "uri",
                  "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k4duaz5vfs2b", "cid",
                  "bafyreibjif", "value", value);
    struct ck_response r = resp_json(200, ans);
    struct ck_bluesky_record rec;
    assert_int_equal(ck_bluesky_parse_record(&r, &rec, &err), 0);
    assert_string_equal(rec.text, "example of a reply");
    assert_string_equal(rec.cid, "bafyreibjif");
    assert_int_equal(rec.created_ms, iso("2023-08-07T05:49:40.501974Z"));
    ck_bluesky_record_finish(&rec);
    ck_response_finish(&r);
    json_decref(ans);
    /* Not there: safe to send. Any other failure: not known. */
    r = resp_of(400, "{\"error\":\"RecordNotFound\",\"message\":\"Could not locate record\"}");
    assert_int_equal(ck_bluesky_parse_record(&r, &rec, &err), CK_ENOTFOUND);
    ck_response_finish(&r);
    r = resp_of(500, "{\"error\":\"InternalServerError\"}");
    assert_int_equal(ck_bluesky_parse_record(&r, &rec, &err), CK_EHTTP);
    ck_response_finish(&r);
    r = resp_of(200, "{\"uri\":\"at://did:plc:a/app.bsky.feed.post/3k\",\"value\":7}");
    assert_int_equal(ck_bluesky_parse_record(&r, &rec, &err), CK_EPARSE);
    ck_response_finish(&r);
}

/* ---- posting ---- */

static uint64_t tid_decode(const char *s)
{
    static const char alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
    uint64_t v = 0;
    for (size_t i = 0; i < 13; i++)
        v = v << 5 | (uint64_t)(strchr(alphabet, s[i]) - alphabet);
    return v;
}

static void test_tid(void **state)
{
    /* The spec's example TID, decoded and made again from its parts. */
    const char *spec = "3jzfcijpj2z2a";
    uint64_t v = tid_decode(spec);
    char buf[14];
    assert_int_equal(ck_bluesky_tid((int64_t)(v >> 10), (unsigned)(v & 1023), buf), 0);
    assert_string_equal(buf, spec);
    assert_int_equal(ck_bluesky_tid(0, 0, buf), 0);
    assert_string_equal(buf, "2222222222222");
    /* Later times sort later, as strings. */
    char a[14], b[14];
    int64_t t = iso("2026-12-03T20:00:00Z") * 1000;
    assert_int_equal(ck_bluesky_tid(t, 5, a), 0);
    assert_int_equal(ck_bluesky_tid(t + 1, 0, b), 0);
    assert_true(strcmp(a, b) < 0);
    assert_int_equal(strlen(a), 13);
    assert_true(strchr("234567abcdefghij", a[0]) != NULL);
    assert_int_equal(tid_decode(a) >> 10, (uint64_t)t);
    assert_int_equal(ck_bluesky_tid(-1, 0, buf), CK_EINVAL);
    assert_int_equal(ck_bluesky_tid(0, 1024, buf), CK_EINVAL);
    assert_int_equal(ck_bluesky_tid(INT64_C(1) << 53, 0, buf), CK_EINVAL);
}

static const char *resolve(const char *handle, void *arg)
{
    (void)arg;
    return strcmp(handle, "atproto.com") == 0 ? "did:plc:ewvi7nxzyoun6zhxrhs64oiz" : NULL;
}

static void test_facets_match_docs(void **state)
{
    json_t *rec = load_json("bluesky-post-record-with-facets.docs-example.json");
    const char *text = json_string_value(json_object_get(rec, "text"));
    json_t *facets = ck_bluesky_facets(text, resolve, NULL);
    assert_true(json_equal(facets, json_object_get(rec, "facets")));
    json_decref(facets);
    /* Without a resolver the mention stays plain: only the link. */
    facets = ck_bluesky_facets(text, NULL, NULL);
    assert_int_equal(json_array_size(facets), 1);
    json_decref(facets);
    json_decref(rec);

    facets = ck_bluesky_facets("Q1: café #uklibchat, (see https://ex.org/a_(b)). #2026 x#no", NULL,
                               NULL);
    assert_int_equal(json_array_size(facets), 2);
    json_t *tag = json_array_get(facets, 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(tag, "features"), 0), "tag")),
                        "uklibchat");
    /* "Q1: café " is 10 bytes (é is 2). */
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(tag, "index"), "byteStart")), 10);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(tag, "index"), "byteEnd")),
                     20);
    json_t *link = json_array_get(facets, 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(link, "features"), 0), "uri")),
                        "https://ex.org/a_(b)");
    json_decref(facets);
}

static void test_graphemes(void **state)
{
    assert_int_equal(ck_bluesky_graphemes(""), 0);
    assert_int_equal(ck_bluesky_graphemes("abc"), 3);
    assert_int_equal(ck_bluesky_graphemes("👨‍❤️‍👨"), 1); /* ZWJ + VS16 */
    assert_int_equal(ck_bluesky_graphemes("👍🏽"), 1);             /* skin tone */
    assert_int_equal(ck_bluesky_graphemes("e\xCC\x81"), 1);            /* e + combining acute */
    assert_int_equal(ck_bluesky_graphemes("🇬🇧🇫🇷"), 2);                 /* two flags */
    assert_int_equal(ck_bluesky_graphemes("🇬🇧🇫"), 2);
    assert_int_equal(ck_bluesky_graphemes("a\r\nb"), 3);
    assert_int_equal(ck_bluesky_graphemes("❤️"), 1);
    assert_int_equal(ck_bluesky_graphemes("\xCC\x81"
                                          "a"),
                     2); /* a lone mark is one */
    json_t *rec = load_json("bluesky-post-record-with-facets.docs-example.json");
    /* 2 + "example mentioning @atproto.com to share the URL " (49) + 1 + 1 + 35 */
    assert_int_equal(ck_bluesky_graphemes(json_string_value(json_object_get(rec, "text"))), 88);
    json_decref(rec);
}

static void test_create_record_request(void **state)
{
    json_t *reply = load_json("bluesky-post-record-reply.docs-example.json");
    json_t *root = json_object_get(json_object_get(reply, "reply"), "root");
    const char *langs[] = {"en-GB", NULL};
    char rkey[14];
    assert_int_equal(ck_bluesky_tid(iso("2026-12-03T20:00:00Z") * 1000, 7, rkey), 0);
    struct ck_bluesky_post p = {
        .repo = "did:plc:u5cwb2mwiv2bfq53cjufe6yn",
        .rkey = rkey,
        .text = "Q2: what do you catalogue first? #uklibchat @atproto.com",
        .created_ms = iso("2026-12-03T20:00:00Z"),
        .langs = langs,
        .root = {json_string_value(json_object_get(root, "uri")),
                 json_string_value(json_object_get(root, "cid"))},
        .parent = {json_string_value(json_object_get(root, "uri")),
                   json_string_value(json_object_get(root, "cid"))},
        .resolve = resolve,
    };
    struct ck_request req;
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_create_record_request("https://bsky.social", "acc", &p, &req, &err),
                     0);
    assert_string_equal(req.url, "https://bsky.social/xrpc/com.atproto.repo.createRecord");
    assert_string_equal(header(&req, "Authorization"), "Bearer acc");
    json_t *body = json_loadb(req.body, req.body_len, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "repo")), p.repo);
    assert_string_equal(json_string_value(json_object_get(body, "collection")),
                        "app.bsky.feed.post");
    assert_string_equal(json_string_value(json_object_get(body, "rkey")), rkey);
    json_t *rec = json_object_get(body, "record");
    assert_string_equal(json_string_value(json_object_get(rec, "$type")), "app.bsky.feed.post");
    assert_string_equal(json_string_value(json_object_get(rec, "text")), p.text);
    assert_string_equal(json_string_value(json_object_get(rec, "createdAt")),
                        "2026-12-03T20:00:00.000Z");
    assert_true(json_equal(json_object_get(rec, "reply"), json_object_get(reply, "reply")));
    assert_int_equal(json_array_size(json_object_get(rec, "facets")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "langs"), 0)),
                        "en-GB");
    json_decref(body);
    ck_request_finish(&req);

    /* Half a reply, too long, bad UTF-8, bad rkey, no session: refused. */
    struct ck_bluesky_post q = p;
    q.parent.uri = NULL;
    assert_int_equal(ck_bluesky_create_record_request("https://b", "acc", &q, &req, NULL),
                     CK_EINVAL);
    q = p;
    char long_text[301 * 8 + 1] = "";
    for (int i = 0; i < 300; i++)
        strcat(long_text, "👍🏽");
    q.text = long_text;
    q.root = q.parent = (struct ck_bluesky_ref){NULL, NULL};
    assert_int_equal(ck_bluesky_create_record_request("https://b", "acc", &q, &req, NULL), 0);
    ck_request_finish(&req);
    strcat(long_text, "x");
    assert_int_equal(ck_bluesky_create_record_request("https://b", "acc", &q, &req, &err),
                     CK_EINVAL);
    assert_non_null(strstr(err.msg, "301 graphemes"));
    q.text = "bad \xC3";
    assert_int_equal(ck_bluesky_create_record_request("https://b", "acc", &q, &req, NULL),
                     CK_EINVAL);
    q.text = "ok";
    q.rkey = "a/b";
    assert_int_equal(ck_bluesky_create_record_request("https://b", "acc", &q, &req, NULL),
                     CK_EINVAL);
    q.rkey = rkey;
    assert_int_equal(ck_bluesky_create_record_request("https://b", NULL, &q, &req, NULL), CK_EAUTH);
    json_decref(reply);

    /* The answer. */
    char *ans = read_fixture("bluesky-createRecord.response.docs-example.json");
    struct ck_response r = resp_of(200, ans);
    free(ans);
    char *uri, *cid;
    assert_int_equal(ck_bluesky_parse_create_record(&r, &uri, &cid, &err), 0);
    assert_string_equal(uri,
                        "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k4duaz5vfs2b");
    assert_string_equal(cid, "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm");
    free(uri);
    free(cid);
    ck_response_finish(&r);
    r = resp_of(200, "{\"uri\": \"x\", \"cid\": \"y\"}");
    assert_int_equal(ck_bluesky_parse_create_record(&r, &uri, &cid, &err), CK_EPARSE);
    assert_null(uri);
    ck_response_finish(&r);
}

/* resolveHandle: the handle percent-encoded in the query, no token when
 * none; a DID is the answer, the PDS's 400 "Unable to resolve handle" is
 * "no such account", a 502 or an answer without a DID is a fault. The
 * handles a post would link are the facet scanner's: "@user@host" and
 * "@nodot" are not. */
static void test_resolve_handle(void **state)
{
    (void)state;
    struct ck_request req;
    struct ck_error err = {0};
    assert_int_equal(ck_bluesky_resolve_handle_request("https://bsky.social", NULL,
                                                       "ann.bsky.social", &req, &err),
                     0);
    assert_string_equal(req.url, "https://bsky.social/xrpc/com.atproto.identity.resolveHandle"
                                 "?handle=ann.bsky.social");
    for (size_t i = 0; i < req.n_headers; i++)
        assert_null(strstr(req.headers[i], "Authorization"));
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_resolve_handle_request("https://bsky.social", NULL, "", &req, &err),
                     CK_EINVAL);
    char *did = NULL;
    struct ck_response r = resp_of(200, "{\"did\":\"did:plc:ewvi7nxzyoun6zhxrhs64oiz\"}");
    assert_int_equal(ck_bluesky_parse_resolve_handle(&r, &did, &err), 0);
    assert_string_equal(did, "did:plc:ewvi7nxzyoun6zhxrhs64oiz");
    free(did);
    ck_response_finish(&r);
    r = resp_of(400, "{\"error\":\"InvalidRequest\",\"message\":\"Unable to resolve handle\"}");
    assert_int_equal(ck_bluesky_parse_resolve_handle(&r, &did, &err), CK_ENOTFOUND);
    assert_null(did);
    ck_response_finish(&r);
    r = resp_of(502, "<html>bad gateway</html>");
    assert_int_equal(ck_bluesky_parse_resolve_handle(&r, &did, &err), CK_EHTTP);
    ck_response_finish(&r);
    r = resp_of(200, "{\"did\":\"not a did\"}");
    assert_int_equal(ck_bluesky_parse_resolve_handle(&r, &did, &err), CK_EPARSE);
    ck_response_finish(&r);
    json_t *h = ck_bluesky_mention_handles(
        "Hi @ann.bsky.social, @bob.example.org and @ann.bsky.social; not @carol@mastodon.social "
        "nor @nodot nor mail@ann.bsky.social");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(json_string_value(json_array_get(h, 0)), "ann.bsky.social");
    assert_string_equal(json_string_value(json_array_get(h, 1)), "bob.example.org");
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_session_request),
        cmocka_unit_test(test_parse_session_and_refresh),
        cmocka_unit_test(test_expired_token),
        cmocka_unit_test(test_ratelimit_headers),
        cmocka_unit_test(test_search_request),
        cmocka_unit_test(test_parse_search_fixture),
        cmocka_unit_test(test_normalise_fixture_posts),
        cmocka_unit_test(test_normalise_docs_record_facets),
        cmocka_unit_test(test_repost_and_record_with_media),
        cmocka_unit_test(test_hostile_pages),
        cmocka_unit_test(test_thread),
        cmocka_unit_test(test_get_record),
        cmocka_unit_test(test_tid),
        cmocka_unit_test(test_facets_match_docs),
        cmocka_unit_test(test_graphemes),
        cmocka_unit_test(test_create_record_request),
        cmocka_unit_test(test_resolve_handle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
