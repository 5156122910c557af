/* Server-sent events (text/event-stream, WHATWG HTML "Server-sent events").
 *
 * The parser is pure: bytes in, events out. Chunks may split the stream
 * anywhere (inside a line, between CR and LF, inside a UTF-8 sequence); lines
 * end with CRLF, LF or CR; "data:" lines of one event are joined with LF;
 * lines starting with ':' are comments (Mastodon's ":thump" heartbeat) and
 * are only counted; an event is dispatched at a blank line, and only if it
 * has data. A field value loses one leading space. Unknown fields are ignored.
 *
 * The client (ck_sse_stream) runs a streaming GET on the loop's ck_http,
 * feeds the parser, and fails the stream when no byte arrived for idle_ms
 * (servers send heartbeats, so silence means a dead connection). */
#ifndef CHATKEEPER_SSE_H
#define CHATKEEPER_SSE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chatkeeper/error.h"
#include "chatkeeper/http.h"
#include "chatkeeper/sbuf.h"

struct ck_sse_event {
    const char *event; /* "message" when the event had no event: field */
    const char *data;  /* NUL-terminated, data_len bytes, no trailing LF */
    size_t data_len;
};

/* Return 0 to go on; anything else stops ck_sse_feed, which returns it. */
typedef int (*ck_sse_event_cb)(const struct ck_sse_event *ev, void *arg);

struct ck_sse_parser {
    struct ck_sbuf line; /* the line being read */
    struct ck_sbuf data; /* the event's data so far */
    char event[64];      /* the event's name so far ("" = none) */
    int has_data;
    int after_cr;     /* the last byte fed was CR: a following LF belongs to it */
    size_t max_event; /* bytes in one line or event's data; larger: CK_ETOOBIG */
    size_t comments;  /* comment lines seen (heartbeats) */
    size_t events;    /* events dispatched */
};

/* max_event 0: 1 MiB. */
void ck_sse_parser_init(struct ck_sse_parser *p, size_t max_event);
/* Feed len bytes. Returns 0, the callback's non-zero value, CK_ETOOBIG (a line
 * or event beyond max_event: the stream cannot be trusted further) or CK_ENOMEM. */
int ck_sse_feed(struct ck_sse_parser *p, const char *buf, size_t len, ck_sse_event_cb cb,
                void *arg);
void ck_sse_parser_finish(struct ck_sse_parser *p);

/* ---- the client ---- */

struct ck_sse_stream;

struct ck_sse_handlers {
    /* The server answered 2xx: the stream is open. May be NULL. */
    void (*on_open)(struct ck_sse_stream *s, long http_status, void *arg);
    /* One event. Return non-zero to end the stream (on_close follows, status CK_ECANCELED
     * is not used: the status is CK_ENET with why "stopped by the reader"). */
    int (*on_event)(struct ck_sse_stream *s, const struct ck_sse_event *ev, void *arg);
    /* The stream ended, once per ck_sse_start that returned 0: status 0 and
     * http_status 2xx when the server closed it, 0 and another status when it
     * refused (http_status 401, 404, ...), CK_ETIMEDOUT when idle too long,
     * CK_ECANCELED after ck_sse_cancel or ck_http_close, else CK_ENET/CK_ETOOBIG. */
    void (*on_close)(struct ck_sse_stream *s, int status, long http_status, const char *why,
                     void *arg);
};

struct ck_sse_stream {
    uv_timer_t idle;
    struct ck_http *http;
    struct ck_http_xfer *xfer; /* the transfer in flight, or NULL */
    struct ck_sse_parser parser;
    const struct ck_sse_handlers *h;
    void *arg;
    uint64_t idle_ms;
    int opened, timed_out, reader_stop, feed_rc;
    int timer_closed;
    void (*closed_cb)(struct ck_sse_stream *s);
};

/* Set up s (its timer) on loop. Returns 0 or a libuv error. */
int ck_sse_init(uv_loop_t *loop, struct ck_sse_stream *s);
/* Start req (borrowed) on http. idle_ms > 0. h is borrowed. Returns 0 (on_close
 * will run) or a negative code. Only one stream at a time per s. */
int ck_sse_start(struct ck_sse_stream *s, struct ck_http *http, const struct ck_request *req,
                 int64_t idle_ms, size_t max_event, const struct ck_sse_handlers *h, void *arg,
                 struct ck_error *err);
/* Whether a stream is in flight (started, on_close not yet run). */
int ck_sse_active(const struct ck_sse_stream *s);
/* End the stream in flight, if any: on_close runs inside this call with
 * CK_ECANCELED. Not from inside on_event (return non-zero there instead). */
void ck_sse_cancel(struct ck_sse_stream *s);
/* Cancel, then close the timer; closed_cb(s) runs from the loop once s may be freed. */
void ck_sse_close(struct ck_sse_stream *s, void (*closed_cb)(struct ck_sse_stream *s));

#endif
