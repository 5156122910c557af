/* The SSE client: a streaming GET (ck_http_stream) whose body feeds the
 * parser, with an idle timer restarted by every byte. Events are handed on
 * from inside curl's write callback, so they reach the reader (and the
 * journal) the moment they arrive, not when the stream ends. */
#include <stdio.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/sse.h"

int ck_sse_init(uv_loop_t *loop, struct ck_sse_stream *s)
{
    memset(s, 0, sizeof *s);
    int rc = uv_timer_init(loop, &s->idle);
    s->idle.data = s;
    return rc;
}

int ck_sse_active(const struct ck_sse_stream *s)
{
    return s->xfer != NULL;
}

static int on_event(const struct ck_sse_event *ev, void *arg)
{
    struct ck_sse_stream *s = arg;
    if (s->h->on_event != NULL && s->h->on_event(s, ev, s->arg) != 0) {
        s->reader_stop = 1;
        return 1;
    }
    return 0;
}

static int on_chunk(long http_status, const char *data, size_t len, void *arg)
{
    struct ck_sse_stream *s = arg;
    uv_timer_again(&s->idle);
    if (data == NULL) {
        if (!s->opened) {
            s->opened = 1;
            if (s->h->on_open != NULL)
                s->h->on_open(s, http_status, s->arg);
        }
        return 0;
    }
    int rc = ck_sse_feed(&s->parser, data, len, on_event, s);
    if (rc != 0 && s->feed_rc == 0)
        s->feed_rc = rc;
    return rc;
}

static void on_done(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_sse_stream *s = arg;
    s->xfer = NULL;
    uv_timer_stop(&s->idle);
    long http_status = resp != NULL ? resp->status : 0;
    char why[200];
    if (s->timed_out) {
        status = CK_ETIMEDOUT;
        snprintf(why, sizeof why, "no data for %llu s", (unsigned long long)(s->idle_ms / 1000));
    } else if (s->reader_stop) {
        status = CK_ENET;
        snprintf(why, sizeof why, "stopped by the reader");
    } else if (s->feed_rc < 0) {
        status = s->feed_rc;
        snprintf(why, sizeof why, "the event stream cannot be read: %s", ck_strerror(s->feed_rc));
    } else if (status == 0) {
        if (http_status >= 200 && http_status <= 299)
            snprintf(why, sizeof why, "the server closed the stream");
        else
            snprintf(why, sizeof why, "HTTP %ld", http_status);
    } else {
        snprintf(why, sizeof why, "%s%s%s", ck_strerror(status), errmsg && *errmsg ? ": " : "",
                 errmsg ? errmsg : "");
    }
    ck_sse_parser_finish(&s->parser);
    if (s->h->on_close != NULL)
        s->h->on_close(s, status, http_status, why, s->arg);
}

static void on_idle_body(uv_timer_t *t);

/* The session's name on every line this callback logs (serve; log.h). */
static void on_idle(uv_timer_t *t)
{
    struct ck_sse_stream *s = t->data;
    const char *was = ck_log_tag_swap(ck_http_log_tag(s->http));
    on_idle_body(t);
    ck_log_tag_swap(was);
}

static void on_idle_body(uv_timer_t *t)
{
    struct ck_sse_stream *s = t->data;
    if (s->xfer == NULL)
        return;
    s->timed_out = 1;
    ck_http_cancel(s->http, s->xfer);
}

int ck_sse_start(struct ck_sse_stream *s, struct ck_http *http, const struct ck_request *req,
                 int64_t idle_ms, size_t max_event, const struct ck_sse_handlers *h, void *arg,
                 struct ck_error *err)
{
    if (s->xfer != NULL || idle_ms <= 0 || h == NULL)
        return ck_error_set(err, CK_EINVAL, "sse: bad start");
    s->http = http;
    s->h = h;
    s->arg = arg;
    s->idle_ms = (uint64_t)idle_ms;
    s->opened = s->timed_out = s->reader_stop = s->feed_rc = 0;
    ck_sse_parser_init(&s->parser, max_event);
    int rc = ck_http_stream(http, req, on_chunk, on_done, s, &s->xfer, err);
    if (rc < 0) {
        ck_sse_parser_finish(&s->parser);
        s->xfer = NULL;
        return rc;
    }
    /* The idle clock covers connecting too: a server that accepts and never
     * answers is as dead as one that stops sending. */
    uv_timer_start(&s->idle, on_idle, s->idle_ms, s->idle_ms);
    return 0;
}

void ck_sse_cancel(struct ck_sse_stream *s)
{
    if (s->xfer != NULL)
        ck_http_cancel(s->http, s->xfer);
}

static void on_closed(uv_handle_t *h)
{
    struct ck_sse_stream *s = h->data;
    s->timer_closed = 1;
    if (s->closed_cb != NULL)
        s->closed_cb(s);
}

void ck_sse_close(struct ck_sse_stream *s, void (*closed_cb)(struct ck_sse_stream *s))
{
    ck_sse_cancel(s);
    s->closed_cb = closed_cb;
    uv_timer_stop(&s->idle);
    uv_close((uv_handle_t *)&s->idle, on_closed);
}
