/* Mastodon's hashtag stream: the request, and the documented events
 * (tests/fixtures/mastodon/streaming-hashtag.sse.txt) through the SSE parser
 * into stream items; hostile events are refused, never trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/mastodon.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/sse.h"

static void test_request(void **state)
{
    (void)state;
    const struct ck_platform_ops *ops = ck_platform_find("mastodon");
    assert_non_null(ops->stream_request);
    struct ck_request r;
    struct ck_error err = {0};
    assert_int_equal(ops->stream_request("https://example.social/", "tok", "#Lib Chat", &r, &err),
                     0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "https://example.social/api/v1/streaming/hashtag?tag=Lib%20Chat");
    assert_string_equal(r.headers[0], "Accept: text/event-stream");
    assert_string_equal(r.headers[1], "Authorization: Bearer tok");
    ck_request_finish(&r);
    assert_int_equal(ops->stream_request("https://e.social", NULL, "t", &r, &err), 0);
    assert_int_equal(r.n_headers, 1);
    ck_request_finish(&r);
    assert_int_equal(ops->stream_request("https://e.social", "a\r\nX: y", "t", &r, &err),
                     CK_EINVAL);
    assert_null(r.url);
    assert_int_equal(ops->stream_request("https://e.social", NULL, "#", &r, &err), CK_EINVAL);
}

struct items {
    struct ck_stream_item it[8];
    size_t n;
};

static int on_event(const struct ck_sse_event *ev, void *arg)
{
    struct items *x = arg;
    struct ck_error err = {0};
    assert_true(x->n < 8);
    assert_int_equal(ck_platform_mastodon.parse_stream_event(ev->event, ev->data, ev->data_len,
                                                             &x->it[x->n], &err),
                     0);
    x->n++;
    return 0;
}

static void test_fixture_events(void **state)
{
    (void)state;
    const char *dir = getenv("CK_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/mastodon/streaming-hashtag.sse.txt", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct ck_sse_parser p;
    ck_sse_parser_init(&p, 0);
    struct items x = {0};
    assert_int_equal(ck_sse_feed(&p, buf, len, on_event, &x), 0);
    ck_sse_parser_finish(&p);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.it[0].kind, CK_STREAM_UPDATE);
    assert_string_equal(ck_platform_mastodon.item_id(x.it[0].item), "108914430312582020");
    assert_false(x.it[0].repaired);
    /* A streamed status normalises like a timeline one. */
    struct ck_message m = {0};
    assert_int_equal(ck_platform_mastodon.normalise(x.it[0].item, &m, NULL), 0);
    assert_string_equal(m.id, "108914430312582020");
    ck_message_finish(&m);
    assert_int_equal(x.it[1].kind, CK_STREAM_DELETE);
    assert_string_equal(x.it[1].id, "108914430312582020");
    assert_int_equal(x.it[2].kind, CK_STREAM_EDIT);
    assert_string_equal(ck_platform_mastodon.item_id(x.it[2].item), "109348684737626801");
    assert_non_null(ck_platform_mastodon.item_version(x.it[2].item));
    for (size_t i = 0; i < x.n; i++)
        ck_stream_item_finish(&x.it[i]);
}

static void test_hostile_events(void **state)
{
    (void)state;
    const struct ck_platform_ops *ops = &ck_platform_mastodon;
    struct ck_stream_item it;
    struct ck_error err = {0};
    static const char *const bad_updates[] = {
        "", "not json", "[1,2]", "{\"id\":5}", "{\"id\":\"\"}", "{\"id\":\"1\"", "null",
    };
    for (size_t i = 0; i < sizeof bad_updates / sizeof *bad_updates; i++) {
        assert_int_equal(
            ops->parse_stream_event("update", bad_updates[i], strlen(bad_updates[i]), &it, &err),
            CK_EPARSE);
        assert_null(it.item);
    }
    static const char *const bad_deletes[] = {"", "1 2", "\"\"", "<script>",
                                              ("12345678901234567890123456789012345678901234567890"
                                               "123456789012345")};
    for (size_t i = 0; i < sizeof bad_deletes / sizeof *bad_deletes; i++) {
        assert_int_equal(
            ops->parse_stream_event("delete", bad_deletes[i], strlen(bad_deletes[i]), &it, &err),
            CK_EPARSE);
        assert_null(it.id);
    }
    assert_int_equal(ops->parse_stream_event("delete", "\"42\"", 4, &it, &err), 0);
    assert_string_equal(it.id, "42");
    ck_stream_item_finish(&it);
    /* Invalid UTF-8 inside a status is repaired and flagged, as in a page. */
    static const char rep[] = "{\"id\":\"7\",\"content\":\"a\xff b\"}";
    assert_int_equal(ops->parse_stream_event("update", rep, sizeof rep - 1, &it, &err), 0);
    assert_true(it.repaired);
    ck_stream_item_finish(&it);
    assert_int_equal(ops->parse_stream_event("filters_changed", "", 0, &it, &err), 0);
    assert_int_equal(it.kind, CK_STREAM_OTHER);
}

/* Where the stream is served: the instance's answer (v2, then v1). */
static int stream_base(long status, const char *body, const char *base_url, char **out)
{
    struct ck_response r = {.status = status, .body = (char *)body, .body_len = strlen(body)};
    struct ck_error err = {0};
    return ck_platform_mastodon.parse_stream_base(&r, base_url, out, &err);
}

static void test_stream_base(void **state)
{
    (void)state;
    const struct ck_platform_ops *ops = &ck_platform_mastodon;
    struct ck_request r;
    struct ck_error err = {0};
    assert_int_equal(ops->stream_base_request("https://example.social/", 0, &r, &err), 0);
    assert_string_equal(r.url, "https://example.social/api/v2/instance");
    assert_int_equal(r.n_headers, 1); /* public: no token sent */
    ck_request_finish(&r);
    assert_int_equal(ops->stream_base_request("https://example.social", 1, &r, &err), 0);
    assert_string_equal(r.url, "https://example.social/api/v1/instance");
    ck_request_finish(&r);
    char *u = NULL;
    const char *https = "https://example.social";
    assert_int_equal(stream_base(200,
                                 "{\"configuration\":{\"urls\":{\"streaming\":"
                                 "\"wss://streaming.example.social/\"}}}",
                                 https, &u),
                     0);
    assert_string_equal(u, "https://streaming.example.social");
    free(u);
    assert_int_equal(stream_base(200,
                                 "{\"urls\":{\"streaming_api\":\"wss://s.example.social:4000\"}}",
                                 https, &u),
                     0);
    assert_string_equal(u, "https://s.example.social:4000");
    free(u);
    /* None named: the instance's own address. Refused: ask the other way. */
    assert_int_equal(stream_base(200, "{\"configuration\":{}}", https, &u), CK_ENOTFOUND);
    assert_int_equal(stream_base(404, "{\"error\":\"Not found\"}", https, &u), CK_EHTTP);
    assert_int_equal(stream_base(200, "not json", https, &u), CK_EPARSE);
    /* Never a cleartext stream (it carries the token) for an https instance,
     * nor anything that is not a URL with a host. */
    assert_int_equal(
        stream_base(200, "{\"urls\":{\"streaming_api\":\"ws://s.example\"}}", https, &u),
        CK_EPARSE);
    assert_int_equal(stream_base(200, "{\"urls\":{\"streaming_api\":\"javascript:x\"}}", https, &u),
                     CK_EPARSE);
    assert_int_equal(
        stream_base(200, "{\"urls\":{\"streaming_api\":\"wss://a b\\r\\nX: y\"}}", https, &u),
        CK_EPARSE);
    assert_int_equal(stream_base(200, "{\"urls\":{\"streaming_api\":\"wss:///path\"}}", https, &u),
                     CK_EPARSE);
    assert_null(u);
    /* A loopback test instance in cleartext may name a cleartext stream. */
    assert_int_equal(stream_base(200, "{\"urls\":{\"streaming_api\":\"ws://localhost:8080\"}}",
                                 "http://127.0.0.1:8080", &u),
                     0);
    assert_string_equal(u, "http://localhost:8080");
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_fixture_events),
        cmocka_unit_test(test_hostile_events),
        cmocka_unit_test(test_stream_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
