/* The SSE client (ck_sse_stream on ck_http_stream) against a libmicrohttpd
 * server on 127.0.0.1 (port 0): events split across chunks arrive while the
 * stream is open, a refusal (404) is reported with its status and no events,
 * a silent stream ends with CK_ETIMEDOUT after the idle time, and a cancel
 * ends it at once. Every test ends with uv_loop_close() == 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <microhttpd.h>
#include <uv.h>

#include "chatkeeper/sse.h"

static struct MHD_Daemon *server;
static unsigned server_port;
static volatile int server_stop;

static const char *const pieces[] = {":)\n",
                                     "event: update\nda",
                                     "ta: {\"id\":\"1\"}\n",
                                     "\nevent: delete\r",
                                     "\ndata: 1\r\n\r\n",
                                     ":thump\n"};

struct reader {
    int silent;
    size_t next;
};

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct reader *r = cls;
    (void)pos;
    if (r->next == 0 || (!r->silent && r->next < sizeof pieces / sizeof *pieces)) {
        const char *p = pieces[r->next++];
        size_t n = strlen(p) < max ? strlen(p) : max;
        memcpy(buf, p, n);
        if (!r->silent) {
            struct timespec ts = {0, 20 * 1000000L}; /* separate chunks on the wire */
            nanosleep(&ts, NULL);
        }
        return (ssize_t)n;
    }
    if (!r->silent)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Silent: hold the connection open until the test is over. */
    for (int i = 0; i < 500 && !server_stop; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct MHD_Response *r;
    unsigned status = 200;
    if (strcmp(url, "/refused") == 0) {
        static const char body[] = "{\"error\":\"Record not found\"}";
        r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
        status = 404;
    } else {
        struct reader *rd = calloc(1, sizeof *rd);
        if (rd == NULL)
            return MHD_NO;
        rd->silent = strcmp(url, "/silent") == 0;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, read_events, rd, free);
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int setup(void **state)
{
    (void)state;
    server_stop = 0;
    server = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handle,
        NULL, MHD_OPTION_SOCK_ADDR,
        &(struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)},
        MHD_OPTION_END);
    assert_non_null(server);
    server_port = MHD_get_daemon_info(server, MHD_DAEMON_INFO_BIND_PORT)->port;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    server_stop = 1;
    MHD_stop_daemon(server);
    return 0;
}

/* ---- client ---- */

struct seen {
    int opened;
    long open_status;
    char names[8][32];
    char data[8][64];
    int n;
    int closed;
    int close_status;
    long http_status;
    char why[200];
    int events_when_open; /* events seen before on_close: they came while streaming */
};

static void on_open(struct ck_sse_stream *s, long status, void *arg)
{
    struct seen *x = arg;
    (void)s;
    x->opened++;
    x->open_status = status;
}

static int on_event(struct ck_sse_stream *s, const struct ck_sse_event *ev, void *arg)
{
    struct seen *x = arg;
    (void)s;
    assert_true(x->n < 8);
    assert_false(x->closed);
    snprintf(x->names[x->n], sizeof x->names[0], "%s", ev->event);
    snprintf(x->data[x->n], sizeof x->data[0], "%s", ev->data);
    x->n++;
    return 0;
}

static void on_close(struct ck_sse_stream *s, int status, long http_status, const char *why,
                     void *arg)
{
    struct seen *x = arg;
    (void)s;
    x->closed++;
    x->close_status = status;
    x->http_status = http_status;
    snprintf(x->why, sizeof x->why, "%s", why);
}

static const struct ck_sse_handlers handlers = {on_open, on_event, on_close};

struct ctx {
    uv_loop_t loop;
    struct ck_http *http;
    struct ck_sse_stream s;
    uv_timer_t cancel_timer;
};

static void closed_s(struct ck_sse_stream *s)
{
    (void)s;
}

static void on_cancel_timer(uv_timer_t *t)
{
    ck_sse_cancel(t->data);
}

static void run_stream(const char *path, int64_t idle_ms, int cancel_after_ms, struct seen *x)
{
    struct ctx c;
    assert_int_equal(uv_loop_init(&c.loop), 0);
    struct ck_error err = {0};
    assert_int_equal(ck_http_create(&c.loop, NULL, &c.http, &err), 0);
    assert_int_equal(ck_sse_init(&c.loop, &c.s), 0);
    struct ck_request req = {0};
    memcpy(req.method, "GET", 4);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", server_port, path);
    req.url = strdup(url);
    assert_int_equal(ck_sse_start(&c.s, c.http, &req, idle_ms, 0, &handlers, x, &err), 0);
    ck_request_finish(&req);
    assert_true(ck_sse_active(&c.s));
    uv_timer_init(&c.loop, &c.cancel_timer);
    c.cancel_timer.data = &c.s;
    if (cancel_after_ms > 0)
        uv_timer_start(&c.cancel_timer, on_cancel_timer, (uint64_t)cancel_after_ms, 0);
    while (!x->closed && uv_run(&c.loop, UV_RUN_ONCE))
        ;
    assert_int_equal(x->closed, 1);
    assert_false(ck_sse_active(&c.s));
    uv_close((uv_handle_t *)&c.cancel_timer, NULL);
    ck_sse_close(&c.s, closed_s);
    ck_http_close(c.http, NULL, NULL);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&c.loop), 0);
    assert_int_equal(x->closed, 1);
}

static void test_events_as_they_come(void **state)
{
    (void)state;
    struct seen x = {0};
    run_stream("/events", 5000, 0, &x);
    assert_int_equal(x.opened, 1);
    assert_int_equal(x.open_status, 200);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.names[0], "update");
    assert_string_equal(x.data[0], "{\"id\":\"1\"}");
    assert_string_equal(x.names[1], "delete");
    assert_string_equal(x.data[1], "1");
    /* The server ended the stream: status 0, its 200, and why. */
    assert_int_equal(x.close_status, 0);
    assert_int_equal(x.http_status, 200);
    assert_string_equal(x.why, "the server closed the stream");
}

static void test_refused(void **state)
{
    (void)state;
    struct seen x = {0};
    run_stream("/refused", 5000, 0, &x);
    assert_int_equal(x.opened, 0);
    assert_int_equal(x.n, 0);
    assert_int_equal(x.close_status, 0);
    assert_int_equal(x.http_status, 404);
    assert_string_equal(x.why, "HTTP 404");
}

static void test_silent_times_out(void **state)
{
    (void)state;
    struct seen x = {0};
    uint64_t t0 = uv_hrtime();
    run_stream("/silent", 300, 0, &x);
    uint64_t took_ms = (uv_hrtime() - t0) / 1000000;
    assert_int_equal(x.opened, 1);
    assert_int_equal(x.close_status, CK_ETIMEDOUT);
    assert_true(took_ms >= 290 && took_ms < 4000);
}

static void test_cancel(void **state)
{
    (void)state;
    struct seen x = {0};
    run_stream("/silent", 10000, 200, &x);
    assert_int_equal(x.opened, 1);
    assert_int_equal(x.close_status, CK_ECANCELED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_as_they_come, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
