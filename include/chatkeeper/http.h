/* HTTP requests on the libuv loop: libcurl's multi interface driven by
 * uv_poll_t per socket and one uv_timer_t (curl's docs/examples/multi-uv.c).
 *
 * Platforms describe requests as plain data (struct ck_request) and parse
 * struct ck_response; only this module touches sockets. TLS is always verified. */
#ifndef CHATKEEPER_HTTP_H
#define CHATKEEPER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chatkeeper/error.h"
#include "chatkeeper/request.h"

struct ck_http_opts {
    long connect_timeout_ms; /* default 10000 */
    long total_timeout_ms;   /* default 30000 */
    size_t max_body;         /* default 8 MiB; larger responses fail with CK_ETOOBIG */
    const char *user_agent;  /* default "chatkeeper/VERSION" */
};

struct ck_http;

/* Called exactly once per ck_http_send that returned 0, never synchronously
 * inside it. status is 0 when a response arrived (any HTTP status: check
 * resp->status), else CK_ETIMEDOUT, CK_ENET, CK_ETOOBIG or CK_ECANCELED (on
 * close). resp is borrowed: valid only during the callback. errmsg is curl's
 * error text or "" (borrowed). */
typedef void (*ck_http_done_cb)(int status, const struct ck_response *resp, const char *errmsg,
                                void *arg);

/* The log tag (log.h, ck_log_tag_swap) set while this client's callbacks run,
 * and so while the callbacks of its requests run: serve names each session's
 * lines by its client. Borrowed; NULL for none. Components on a client also
 * set it in their own timers (ck_http_log_tag). */
struct ck_http;
void ck_http_set_log_tag(struct ck_http *h, const char *tag);
const char *ck_http_log_tag(const struct ck_http *h);

/* New HTTP client on loop. opts may be NULL for defaults (copied). *out: free with ck_http_close. */
int ck_http_create(uv_loop_t *loop, const struct ck_http_opts *opts, struct ck_http **out,
                   struct ck_error *err);

/* Start req (borrowed: copied as needed before returning). Returns 0 (cb will run)
 * or a negative code (cb will not run). */
int ck_http_send(struct ck_http *h, const struct ck_request *req, ck_http_done_cb cb, void *arg,
                 struct ck_error *err);

/* A streaming request: the body of a 2xx answer is handed to chunk as it
 * arrives instead of being buffered, and there is no total timeout (the
 * reader keeps its own idle timeout: see sse.h). chunk runs from inside curl:
 * once with data NULL and len 0 when the final 2xx response's headers ended
 * (the stream is open), then once per piece of body. It must not call
 * ck_http_* functions; returning non-zero ends the transfer, whose done
 * callback then gets CK_ECANCELED. A non-2xx answer's body is buffered
 * (max_body) and given to done as for ck_http_send. done runs exactly once,
 * as for ck_http_send. *out (may be NULL) names the transfer for
 * ck_http_cancel until done runs. */
struct ck_http_xfer;
typedef int (*ck_http_chunk_cb)(long http_status, const char *data, size_t len, void *arg);
int ck_http_stream(struct ck_http *h, const struct ck_request *req, ck_http_chunk_cb chunk,
                   ck_http_done_cb done, void *arg, struct ck_http_xfer **out,
                   struct ck_error *err);

/* Cancel transfer x (from ck_http_stream's *out) if it is still in flight: its
 * done callback runs inside this call with CK_ECANCELED. Not from inside a
 * chunk callback. */
void ck_http_cancel(struct ck_http *h, struct ck_http_xfer *x);

/* Number of transfers in flight. */
size_t ck_http_pending(const struct ck_http *h);

/* Cancel every transfer (each callback runs once with CK_ECANCELED, from
 * inside this call), clean up curl, close the uv handles; h is freed after the
 * loop delivers the close callbacks, then closed_cb(arg) runs (may be NULL). */
void ck_http_close(struct ck_http *h, void (*closed_cb)(void *arg), void *arg);

/* Send one request on a private loop and wait for it (for commands without a
 * loop of their own). *out is filled on success (free with ck_response_finish),
 * whatever the HTTP status; on failure it is empty and err says why. */
int ck_http_fetch(const struct ck_request *req, const struct ck_http_opts *opts,
                  struct ck_response *out, struct ck_error *err);

#endif
