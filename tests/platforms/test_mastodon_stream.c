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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_fixture_events),
        cmocka_unit_test(test_hostile_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
