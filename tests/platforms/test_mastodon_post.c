/* Mastodon's write side (mastodon.h): the POST /api/v1/statuses request as data
 * (URL, headers, form encoding of UTF-8 and of '&', '=', '#', '+'), the Status
 * it returns (a recorded reply, then malformed ones: every one is CK_EPARSE),
 * the server's error text, and GET /api/v2/instance's character limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/mastodon.h"

#include "fixture.h"

static char *read_fixture(const char *name, size_t *len)
{
    return fixture_read("mastodon", name, len);
}

static const char *header(const struct ck_request *r, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (strncmp(r->headers[i], name, nl) == 0 && strncmp(r->headers[i] + nl, ": ", 2) == 0)
            return r->headers[i] + nl + 2;
    return NULL;
}

static void test_post_request(void **state)
{
    struct ck_request r;
    struct ck_error err = {0};
    assert_int_equal(ck_mastodon_post_request("https://example.social/", "s3cret", "Hello", NULL,
                                              "ck-0123456789abcdef-q1", &r, &err),
                     0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "https://example.social/api/v1/statuses");
    assert_string_equal(header(&r, "Authorization"), "Bearer s3cret");
    assert_string_equal(header(&r, "Idempotency-Key"), "ck-0123456789abcdef-q1");
    assert_string_equal(header(&r, "Content-Type"), "application/x-www-form-urlencoded");
    assert_string_equal(r.body, "status=Hello&visibility=public");
    assert_int_equal(r.body_len, strlen(r.body));
    ck_request_finish(&r);
}

static void test_post_body_encoding(void **state)
{
    struct ck_request r;
    /* "café & co = 100% + more #UKLibChat 🎉" with a reply id that needs escaping too. */
    const char *text = "Q1 caf\xc3\xa9 & co = 100% + more #UKLibChat \xf0\x9f\x8e\x89\nok";
    assert_int_equal(
        ck_mastodon_post_request("http://127.0.0.1:8080", "t", text, "1170&x=1", "k", &r, NULL), 0);
    assert_string_equal(r.url, "http://127.0.0.1:8080/api/v1/statuses");
    assert_string_equal(r.body, "status=Q1%20caf%C3%A9%20%26%20co%20%3D%20100%25%20%2B%20more%20"
                                "%23UKLibChat%20%F0%9F%8E%89%0Aok&visibility=public"
                                "&in_reply_to_id=1170%26x%3D1");
    ck_request_finish(&r);
}

static void test_post_refuses(void **state)
{
    struct ck_request r;
    struct ck_error err = {0};
    assert_int_equal(ck_mastodon_post_request("https://a.test", NULL, "x", NULL, "k", &r, &err),
                     CK_EAUTH);
    assert_null(r.url);
    assert_int_equal(r.n_headers, 0);
    assert_non_null(strstr(err.msg, "token"));
    assert_int_equal(ck_mastodon_post_request("https://a.test", "", "x", NULL, "k", &r, NULL),
                     CK_EAUTH);
    /* A line break in the token or key would inject header lines. */
    ck_error_clear(&err);
    assert_int_equal(
        ck_mastodon_post_request("https://a.test", "t\r\nX-Evil: 1", "x", NULL, "k", &r, &err),
        CK_EINVAL);
    assert_null(strstr(err.msg, "Evil")); /* the token is never echoed */
    assert_int_equal(ck_mastodon_post_request("https://a.test", "t", "x", NULL, "k\n", &r, NULL),
                     CK_EINVAL);
    assert_int_equal(ck_mastodon_post_request("https://a.test", "t", "x", NULL, NULL, &r, NULL),
                     CK_EINVAL);
    assert_int_equal(ck_mastodon_post_request(NULL, "t", "x", NULL, "k", &r, NULL), CK_EINVAL);
    assert_int_equal(ck_mastodon_post_request("https://a.test", "t", NULL, NULL, "k", &r, NULL),
                     CK_EINVAL);
    assert_null(r.url);
}

static void test_parse_recorded_status(void **state)
{
    size_t len;
    char *body = read_fixture("post-status.response.json", &len);
    struct ck_response resp = {.status = 200, .body = body, .body_len = len};
    char *id = NULL, *url = NULL;
    assert_int_equal(ck_mastodon_parse_status(&resp, &id, &url, NULL), 0);
    assert_string_equal(id, "117020593741189701");
    assert_string_equal(url, "http://localhost:3000/@mastodonpy_test_2/117020593741189701");
    free(id);
    free(url);
    free(body);
}

static int parse_text(long status, const char *body, char **id, char **url)
{
    struct ck_response resp = {
        .status = status, .body = (char *)body, .body_len = body ? strlen(body) : 0};
    struct ck_error err = {0};
    int rc = ck_mastodon_parse_status(&resp, id, url, &err);
    if (rc < 0) {
        assert_null(*id);
        assert_null(*url);
        assert_int_equal(err.code, rc);
    }
    return rc;
}

static void test_parse_malformed(void **state)
{
    char *id, *url;
    static const char *const bad[] = {
        "",
        "not json",
        "{\"id\":\"1\",\"url\":\"https://a.test/1\"", /* truncated */
        "[{\"id\":\"1\",\"url\":\"https://a.test/1\"}]",
        "\"1\"",
        "{\"url\":\"https://a.test/1\"}",
        "{\"id\":1,\"url\":\"https://a.test/1\"}",
        "{\"id\":\"\",\"url\":\"https://a.test/1\"}",
        "{\"id\":null,\"url\":\"https://a.test/1\"}",
        "{\"id\":\"1\"}",
        "{\"id\":\"1\",\"url\":7}",
        "{\"id\":\"1\",\"url\":null,\"uri\":null}",
        "{\"id\":\"1\",\"url\":\"\"}",
        "{\"id\":\"a\\u0000b\",\"url\":\"https://a.test/1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse_text(200, bad[i], &id, &url) != CK_EPARSE)
            fail_msg("body %zu (%s) was not rejected as CK_EPARSE", i, bad[i]);
    }
    assert_int_equal(parse_text(200, NULL, &id, &url), CK_EPARSE);
    assert_int_equal(parse_text(503, "{\"id\":\"1\",\"url\":\"https://a.test/1\"}", &id, &url),
                     CK_EHTTP);
    /* A null url falls back to the uri. */
    assert_int_equal(
        parse_text(201, "{\"id\":\"9\",\"url\":null,\"uri\":\"https://a.test/s/9\"}", &id, &url),
        0);
    assert_string_equal(id, "9");
    assert_string_equal(url, "https://a.test/s/9");
    free(id);
    free(url);
}

static void test_error_text(void **state)
{
    char buf[64];
    struct ck_response resp = {.status = 422};
    resp.body = "{\"error\":\"Validation failed: Text character limit of 500 exceeded\"}";
    resp.body_len = strlen(resp.body);
    ck_mastodon_error_text(&resp, buf, sizeof buf);
    assert_string_equal(buf, "Validation failed: Text character limit of 500 exceeded");
    resp.body = "{\"error\":\"line\\none\\u001b[31m\"}";
    resp.body_len = strlen(resp.body);
    ck_mastodon_error_text(&resp, buf, sizeof buf);
    assert_string_equal(buf, "line one [31m");
    /* Cut before a multi-byte character, never inside it. */
    resp.body = "{\"error\":\"abcd\xc3\xa9\"}";
    resp.body_len = strlen(resp.body);
    char small[6];
    ck_mastodon_error_text(&resp, small, sizeof small);
    assert_string_equal(small, "abcd");
    resp.body = "<html>Bad gateway</html>";
    resp.body_len = strlen(resp.body);
    ck_mastodon_error_text(&resp, buf, sizeof buf);
    assert_string_equal(buf, "");
}

static void test_instance(void **state)
{
    struct ck_request r;
    assert_int_equal(ck_mastodon_instance_request("https://a.test//", NULL, &r, NULL), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "https://a.test/api/v2/instance");
    assert_null(header(&r, "Authorization"));
    ck_request_finish(&r);
    assert_int_equal(ck_mastodon_instance_request("https://a.test", "tok", &r, NULL), 0);
    assert_string_equal(header(&r, "Authorization"), "Bearer tok");
    ck_request_finish(&r);

    long max = -1;
    struct ck_response resp = {.status = 200};
    resp.body = "{\"domain\":\"a.test\",\"configuration\":{\"statuses\":{\"max_characters\":500,"
                "\"max_media_attachments\":4}}}";
    resp.body_len = strlen(resp.body);
    assert_int_equal(ck_mastodon_parse_instance_max_chars(&resp, &max, NULL), 0);
    assert_int_equal(max, 500);
    static const char *const bad[] = {
        "{\"configuration\":{\"statuses\":{}}}",
        "{\"configuration\":{\"statuses\":{\"max_characters\":\"500\"}}}",
        "{\"configuration\":{\"statuses\":{\"max_characters\":0}}}",
        "{\"configuration\":[]}",
        "[]",
        "nope",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        resp.body = (char *)bad[i];
        resp.body_len = strlen(bad[i]);
        if (ck_mastodon_parse_instance_max_chars(&resp, &max, NULL) != CK_EPARSE)
            fail_msg("instance body %zu was not rejected", i);
        assert_int_equal(max, 0);
    }
    resp.status = 404;
    assert_int_equal(ck_mastodon_parse_instance_max_chars(&resp, &max, NULL), CK_EHTTP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_request),    cmocka_unit_test(test_post_body_encoding),
        cmocka_unit_test(test_post_refuses),    cmocka_unit_test(test_parse_recorded_status),
        cmocka_unit_test(test_parse_malformed), cmocka_unit_test(test_error_text),
        cmocka_unit_test(test_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
