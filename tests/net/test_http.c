/* ck_http against a libmicrohttpd server started inside the test on
 * 127.0.0.1 (port 0). Checks responses and headers, POST bodies, the error
 * mapping (CK_ETOOBIG, CK_ETIMEDOUT, CK_ENET), that each callback runs once and
 * never inside ck_http_send, and that close cancels what is in flight. Every
 * test ends with ck_http_close, uv_run and uv_loop_close() == 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <uv.h>

#include "chatkeeper/http.h"

#include "fake_upload.h"

#define BIG_SIZE 65536
#define MAX_BODY 16384
#define SLOW_MS 1500

static struct MHD_Daemon *server;
static unsigned server_port;
static bool in_send; /* true while ck_http_send runs: callbacks must never see it */

/* ---- server ---- */

static ssize_t big_chunks(void *cls, uint64_t pos, char *buf, size_t max)
{
    if (pos >= BIG_SIZE)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = max < 1000 ? max : 1000;
    memset(buf, 'c', n);
    return (ssize_t)n;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
                             const char *const *headers)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2)
        MHD_add_response_header(r, headers[i], headers[i + 1]);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    if (strcmp(url, "/echo") == 0) {
        const char *body = NULL;
        int taken = fake_upload_take(con_cls, upload_data, upload_data_size, &body);
        if (taken != 0)
            return taken > 0 ? MHD_YES : MHD_NO;
        const char *test = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
        const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
        const char *const h[] = {"X-Got-Test",
                                 test != NULL ? test : "(none)",
                                 "X-Got-Method",
                                 method,
                                 "X-Got-UA",
                                 ua != NULL ? ua : "(none)",
                                 NULL};
        return reply(c, 200, body, h);
    }
    if (strcmp(url, "/json") == 0) {
        const char *const h[] = {
            "Content-Type",
            "application/json",
            "Link",
            "<https://example.test/api?max_id=1>; rel=\"next\"",
            "X-RateLimit-Limit",
            "300",
            "X-RateLimit-Remaining",
            "299",
            "X-RateLimit-Reset",
            "2026-12-03T20:05:00.000Z",
            "X-Padded",
            "value with spaces   ",
            NULL,
        };
        return reply(c, 200, "{\"ok\":true}", h);
    }
    if (strcmp(url, "/503") == 0)
        return reply(c, 503, "busy", NULL);
    if (strcmp(url, "/redirect") == 0) {
        const char *const h[] = {"Location", "/json", "X-Redirect", "1", NULL};
        return reply(c, 302, "moved", h);
    }
    if (strcmp(url, "/big") == 0) {
        char *body = malloc(BIG_SIZE + 1);
        if (body == NULL)
            return MHD_NO;
        memset(body, 'b', BIG_SIZE);
        body[BIG_SIZE] = '\0';
        enum MHD_Result ret = reply(c, 200, body, NULL);
        free(body);
        return ret;
    }
    if (strcmp(url, "/bigchunked") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, big_chunks, NULL, NULL);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/slow") == 0) {
        usleep(SLOW_MS * 1000); /* a thread per connection: only this request stalls */
        return reply(c, 200, "late", NULL);
    }
    if (strcmp(url, "/drop") == 0)
        return MHD_NO; /* MHD closes the connection without a response */
    return reply(c, 404, "not found", NULL);
}

static int start_server(void **state)
{
    server = fake_server_start(handle, &server_port);
    return server != NULL ? 0 : -1;
}

static int stop_server(void **state)
{
    MHD_stop_daemon(server);
    return 0;
}

/* ---- client helpers ---- */

struct result {
    int calls;
    int status;
    long http_status;
    size_t body_len;
    char body[64];
    char errmsg[256];
    char got_test[64];
    char got_ua[64];
    bool headers_lower;
    bool seen_in_send;
    struct ck_http *close_from_cb; /* close this client from inside the callback */
};

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src != NULL ? src : "");
}

static void on_done(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct result *r = arg;
    r->calls++;
    r->seen_in_send = in_send;
    r->status = status;
    r->http_status = resp->status;
    r->body_len = resp->body_len;
    assert_non_null(resp->body);
    assert_int_equal(resp->body[resp->body_len], '\0');
    copy_str(r->body, sizeof(r->body), resp->body);
    assert_non_null(errmsg);
    copy_str(r->errmsg, sizeof(r->errmsg), errmsg);
    copy_str(r->got_test, sizeof(r->got_test), ck_response_header(resp, "X-GOT-TEST"));
    copy_str(r->got_ua, sizeof(r->got_ua), ck_response_header(resp, "x-got-ua"));
    r->headers_lower = true;
    for (size_t i = 0; i < resp->n_headers; i++) {
        for (const char *p = resp->headers[i].name; *p != '\0'; p++) {
            if (*p >= 'A' && *p <= 'Z')
                r->headers_lower = false;
        }
    }
    if (r->close_from_cb != NULL)
        ck_http_close(r->close_from_cb, NULL, NULL);
}

static void send_to(struct ck_http *h, const char *method, unsigned port, const char *path,
                    const char *body, struct result *r)
{
    struct ck_request req = {0};
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    copy_str(req.method, sizeof(req.method), method);
    req.url = strdup(url);
    assert_non_null(req.url);
    if (body != NULL) {
        req.body = strdup(body);
        assert_non_null(req.body);
        req.body_len = strlen(body);
        assert_int_equal(ck_request_add_header(&req, "Content-Type", "text/plain"), 0);
    }
    assert_int_equal(ck_request_add_header(&req, "X-Test", "yes"), 0);
    assert_int_equal(ck_request_add_header(&req, "Authorization", "Bearer secret"), 0);
    in_send = true;
    int rc = ck_http_send(h, &req, on_done, r, NULL);
    in_send = false;
    ck_request_finish(&req);
    assert_int_equal(rc, 0);
    assert_int_equal(r->calls, 0);
}

static void send_req(struct ck_http *h, const char *method, const char *path, const char *body,
                     struct result *r)
{
    send_to(h, method, server_port, path, body, r);
}

static struct ck_http *make_client(uv_loop_t *loop, long total_timeout_ms)
{
    struct ck_http_opts opts = {
        .connect_timeout_ms = 2000,
        .total_timeout_ms = total_timeout_ms,
        .max_body = MAX_BODY,
        .user_agent = "chatkeeper-test",
    };
    struct ck_http *h = NULL;
    assert_int_equal(uv_loop_init(loop), 0);
    assert_int_equal(ck_http_create(loop, &opts, &h, NULL), 0);
    assert_non_null(h);
    return h;
}

static void on_closed(void *arg)
{
    (*(int *)arg)++;
}

/* The shutdown sequence every test ends with. */
static void close_client(uv_loop_t *loop, struct ck_http *h)
{
    int closed = 0;
    ck_http_close(h, on_closed, &closed);
    assert_int_equal(closed, 0); /* only after the loop delivered the close callbacks */
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* A port nothing listens on: bind one, then close it. */
static unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    socklen_t len = sizeof(sin);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static void assert_once_async(const struct result *r)
{
    assert_int_equal(r->calls, 1);
    assert_false(r->seen_in_send);
}

/* ---- tests ---- */

static void test_request_data(void **state)
{
    struct ck_request req = {0};
    assert_int_equal(ck_request_add_header(&req, "X-Bad", "a\r\nInjected: 1"), CK_EINVAL);
    assert_int_equal(ck_request_add_header(&req, "X:Bad", "v"), CK_EINVAL);
    assert_int_equal(ck_request_add_header(&req, "", "v"), CK_EINVAL);
    for (int i = 0; i < CK_REQUEST_MAX_HEADERS; i++)
        assert_int_equal(ck_request_add_header(&req, "X-N", "v"), 0);
    assert_int_equal(ck_request_add_header(&req, "X-N", "v"), CK_EINVAL);
    assert_string_equal(req.headers[0], "X-N: v");
    ck_request_finish(&req);
    assert_int_equal(req.n_headers, 0);
    ck_request_finish(&req); /* twice is harmless */

    struct ck_header hs[] = {{"link", "<a>"}, {"x-ratelimit-limit", "300"}};
    struct ck_response resp = {.headers = hs, .n_headers = 2};
    assert_string_equal(ck_response_header(&resp, "X-RateLimit-Limit"), "300");
    assert_null(ck_response_header(&resp, "retry-after"));
}

static void test_many_in_flight(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 10000);
    struct result json = {0}, echo = {0}, busy = {0}, big = {0}, chunked = {0}, drop = {0},
                  redirect = {0}, refused = {0}, put = {0};

    send_req(h, "GET", "/json", NULL, &json);
    send_req(h, "POST", "/echo", "status=hello+world", &echo);
    send_req(h, "PUT", "/echo", "replace", &put);
    send_req(h, "GET", "/503", NULL, &busy);
    send_req(h, "GET", "/big", NULL, &big);
    send_req(h, "GET", "/bigchunked", NULL, &chunked);
    send_req(h, "GET", "/drop", NULL, &drop);
    send_req(h, "GET", "/redirect", NULL, &redirect);
    send_to(h, "GET", closed_port(), "/json", NULL, &refused);
    assert_int_equal(ck_http_pending(h), 9);

    /* 0: nothing left active once the transfers are done (no busy timer). */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(ck_http_pending(h), 0);

    assert_once_async(&json);
    assert_int_equal(json.status, 0);
    assert_int_equal(json.http_status, 200);
    assert_string_equal(json.body, "{\"ok\":true}");
    assert_true(json.headers_lower);

    assert_once_async(&echo);
    assert_int_equal(echo.status, 0);
    assert_int_equal(echo.http_status, 200);
    assert_string_equal(echo.body, "status=hello+world");
    assert_string_equal(echo.got_test, "yes");
    assert_string_equal(echo.got_ua, "chatkeeper-test");

    assert_once_async(&put);
    assert_int_equal(put.http_status, 200);
    assert_string_equal(put.body, "replace");

    assert_once_async(&busy);
    assert_int_equal(busy.status, 0); /* an HTTP error status is still a response */
    assert_int_equal(busy.http_status, 503);
    assert_string_equal(busy.body, "busy");

    assert_once_async(&big);
    assert_int_equal(big.status, CK_ETOOBIG);
    assert_int_equal(big.http_status, 0);
    assert_once_async(&chunked);
    assert_int_equal(chunked.status, CK_ETOOBIG);
    assert_true(strstr(chunked.errmsg, "16384") != NULL);

    assert_once_async(&drop);
    assert_int_equal(drop.status, CK_ENET);
    assert_true(drop.errmsg[0] != '\0');

    assert_once_async(&redirect);
    assert_int_equal(redirect.status, 0);
    assert_int_equal(redirect.http_status, 302); /* not followed */
    assert_string_equal(redirect.body, "moved");

    assert_once_async(&refused);
    assert_int_equal(refused.status, CK_ENET);
    assert_true(refused.errmsg[0] != '\0');

    close_client(&loop, h);
}

/* Headers: lower-cased names, trimmed values, the ones pacing needs. */
static struct {
    int calls;
    char link[128], limit[16], reset[64], padded[64];
} hdrs;

static void on_headers(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    hdrs.calls++;
    assert_int_equal(status, 0);
    copy_str(hdrs.link, sizeof(hdrs.link), ck_response_header(resp, "link"));
    copy_str(hdrs.limit, sizeof(hdrs.limit), ck_response_header(resp, "x-ratelimit-limit"));
    copy_str(hdrs.reset, sizeof(hdrs.reset), ck_response_header(resp, "X-RateLimit-Reset"));
    copy_str(hdrs.padded, sizeof(hdrs.padded), ck_response_header(resp, "x-padded"));
    assert_true(resp->elapsed_ms >= 0);
}

static void test_headers(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 10000);
    struct ck_request req = {0};
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/json", server_port);
    copy_str(req.method, sizeof(req.method), "GET");
    req.url = url; /* borrowed here, so no ck_request_finish */
    memset(&hdrs, 0, sizeof(hdrs));
    assert_int_equal(ck_http_send(h, &req, on_headers, NULL, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(hdrs.calls, 1);
    assert_string_equal(hdrs.link, "<https://example.test/api?max_id=1>; rel=\"next\"");
    assert_string_equal(hdrs.limit, "300");
    assert_string_equal(hdrs.reset, "2026-12-03T20:05:00.000Z");
    assert_string_equal(hdrs.padded, "value with spaces");
    close_client(&loop, h);
}

static void test_timeout(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 300);
    struct result slow = {0}, fast = {0};
    uint64_t t0 = uv_now(&loop);
    send_req(h, "GET", "/slow", NULL, &slow);
    send_req(h, "GET", "/json", NULL, &fast);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_once_async(&slow);
    assert_int_equal(slow.status, CK_ETIMEDOUT);
    assert_int_equal(slow.http_status, 0);
    assert_true(uv_now(&loop) - t0 < SLOW_MS); /* gave up before the server answered */
    assert_once_async(&fast);
    assert_int_equal(fast.status, 0);
    close_client(&loop, h);
}

static void test_bad_send_never_calls_back(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 1000);
    struct result r = {0};
    struct ck_request req = {0};
    struct ck_error err = {0};
    copy_str(req.method, sizeof(req.method), "GE T");
    req.url = (char *)"http://127.0.0.1:1/";
    assert_int_equal(ck_http_send(h, &req, on_done, &r, &err), CK_EINVAL);
    assert_int_equal(err.code, CK_EINVAL);
    req.url = NULL;
    copy_str(req.method, sizeof(req.method), "GET");
    assert_int_equal(ck_http_send(h, &req, on_done, &r, NULL), CK_EINVAL);
    assert_int_equal(ck_http_pending(h), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(r.calls, 0);
    close_client(&loop, h);
    assert_int_equal(r.calls, 0);
}

/* Close before the loop ever ran: callbacks run from inside close, once each. */
static void test_close_before_start(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 10000);
    struct result r[4] = {{0}};
    send_req(h, "GET", "/slow", NULL, &r[0]);
    send_req(h, "GET", "/slow", NULL, &r[1]);
    send_req(h, "GET", "/json", NULL, &r[2]);
    send_req(h, "POST", "/echo", "x", &r[3]);
    int closed = 0;
    ck_http_close(h, on_closed, &closed);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, CK_ECANCELED);
    }
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i].calls, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Close while connections are open and requests are on the wire. */
struct closer {
    struct ck_http *h;
    int closed;
    size_t pending_at_close;
};

static void on_close_timer(uv_timer_t *t)
{
    struct closer *c = t->data;
    c->pending_at_close = ck_http_pending(c->h);
    ck_http_close(c->h, on_closed, &c->closed);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_close_in_flight(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 10000);
    struct result r[3] = {{0}};
    send_req(h, "GET", "/slow", NULL, &r[0]);
    send_req(h, "GET", "/slow", NULL, &r[1]);
    send_req(h, "POST", "/slow", "abc", &r[2]);

    struct closer c = {.h = h};
    uv_timer_t t;
    assert_int_equal(uv_timer_init(&loop, &t), 0);
    t.data = &c;
    assert_int_equal(uv_timer_start(&t, on_close_timer, 200, 0), 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(c.pending_at_close, 3);
    assert_int_equal(c.closed, 1);
    for (int i = 0; i < 3; i++) {
        assert_once_async(&r[i]);
        assert_int_equal(r[i].status, CK_ECANCELED);
        assert_int_equal(r[i].http_status, 0);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A callback may close the client that called it; the rest are canceled. */
static void test_close_from_callback(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 10000);
    struct result fast = {.close_from_cb = h}, slow = {0};
    send_req(h, "GET", "/slow", NULL, &slow);
    send_req(h, "GET", "/json", NULL, &fast);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_once_async(&fast);
    assert_int_equal(fast.status, 0);
    assert_int_equal(fast.http_status, 200);
    assert_once_async(&slow);
    assert_int_equal(slow.status, CK_ECANCELED);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Send from inside a callback (a follower paging forward does this). */
struct chain {
    struct ck_http *h;
    int done;
    int left;
};

static void on_chain(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct chain *c = arg;
    assert_false(in_send);
    assert_int_equal(status, 0);
    assert_int_equal(resp->status, 200);
    c->done++;
    if (--c->left > 0) {
        struct ck_request req = {0};
        char url[128];
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/json", server_port);
        copy_str(req.method, sizeof(req.method), "GET");
        req.url = url;
        in_send = true;
        assert_int_equal(ck_http_send(c->h, &req, on_chain, c, NULL), 0);
        in_send = false;
    }
}

static void test_send_from_callback(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = make_client(&loop, 10000);
    struct chain c = {.h = h, .left = 5};
    on_chain(0, &(struct ck_response){.status = 200}, "", &c); /* kicks off the first */
    c.done = 0;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(c.done, 4);
    assert_int_equal(c.left, 0);
    close_client(&loop, h);
}

/* NULL opts: the documented defaults, including the user agent. */
static void test_defaults(void **state)
{
    uv_loop_t loop;
    struct ck_http *h = NULL;
    struct ck_error err = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(ck_http_create(NULL, NULL, &h, &err), CK_EINVAL);
    assert_int_equal(ck_http_create(&loop, NULL, &h, NULL), 0);
    struct result r = {0};
    send_req(h, "POST", "/echo", "", &r);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_once_async(&r);
    assert_int_equal(r.http_status, 200);
    assert_string_equal(r.got_ua, "chatkeeper/" CK_VERSION);
    assert_int_equal(r.body_len, 0);
    close_client(&loop, h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_data),
        cmocka_unit_test(test_many_in_flight),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_bad_send_never_calls_back),
        cmocka_unit_test(test_close_before_start),
        cmocka_unit_test(test_close_in_flight),
        cmocka_unit_test(test_close_from_callback),
        cmocka_unit_test(test_send_from_callback),
        cmocka_unit_test(test_defaults),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests(tests, start_server, stop_server);
    curl_global_cleanup();
    return failed;
}
