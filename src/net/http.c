/* HTTP on the libuv loop: libcurl's multi interface driven by one uv_timer_t
 * (CURLMOPT_TIMERFUNCTION) and one uv_poll_t per socket
 * (CURLMOPT_SOCKETFUNCTION), wired as in curl's docs/examples/multi-uv.c.
 *
 * Flow: ck_http_send adds an easy handle; curl asks for a 0 ms timeout, so
 * the first curl_multi_socket_action runs from the timer on the next loop
 * iteration. That is what keeps even an immediate failure (connection
 * refused) out of ck_http_send: callbacks only run from check_done(), which
 * only runs from loop callbacks, or from ck_http_close (as documented).
 *
 * Hazards worth knowing before editing:
 * - curl functions must not be called from inside curl's own callbacks
 *   (except curl_multi_assign from the socket callback), hence the timer.
 * - curl_multi_info_read is drained after *every* socket_action, even when
 *   no transfer is left running, or the last completion is never seen.
 * - A done callback may call ck_http_send or ck_http_close; close sets
 *   h->multi to NULL, and every loop over curl state re-checks it.
 * - h is freed only after the last uv handle's close callback. */
#include "chatkeeper/http.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "chatkeeper/log.h"
#include "http_int.h"

/* ---- uv handles ---- */

static void maybe_free(struct ck_http *h)
{
    if (!h->closing || h->open_handles > 0)
        return;
    void (*cb)(void *) = h->closed_cb;
    void *arg = h->closed_arg;
    free(h->user_agent);
    free(h);
    if (cb != NULL)
        cb(arg);
}

static void on_sock_closed(uv_handle_t *handle)
{
    struct sock *s = handle->data;
    struct ck_http *h = s->h;
    free(s);
    h->open_handles--;
    maybe_free(h);
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct ck_http *h = handle->data;
    h->open_handles--;
    maybe_free(h);
}

static void sock_close(struct sock *s)
{
    struct ck_http *h = s->h;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        h->socks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct sock *s = poll->data;
    struct ck_http *h = s->h;
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    if (h->multi == NULL)
        return;
    const char *was = ck_log_tag_swap(h->log_tag);
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    ck_http__check_done(h);
    ck_log_tag_swap(was);
}

static void on_timer(uv_timer_t *timer)
{
    struct ck_http *h = timer->data;
    int running;
    if (h->multi == NULL)
        return;
    const char *was = ck_log_tag_swap(h->log_tag);
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    ck_http__check_done(h);
    ck_log_tag_swap(was);
}

void ck_http_set_log_tag(struct ck_http *h, const char *tag)
{
    if (h != NULL)
        h->log_tag = tag;
}

const char *ck_http_log_tag(const struct ck_http *h)
{
    return h != NULL ? h->log_tag : NULL;
}

/* CURLMOPT_TIMERFUNCTION. Only arms the timer: calling socket_action from
 * here would re-enter curl. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct ck_http *h = userp;
    if (timeout_ms < 0) {
        uv_timer_stop(&h->timer);
        return 0;
    }
    /* 0 ms means "as soon as possible": the next loop iteration. */
    return uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

/* CURLMOPT_SOCKETFUNCTION. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct ck_http *h = userp;
    struct sock *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            /* During curl_multi_cleanup the socket hash is being torn down;
             * h->multi is already NULL then and the assign is moot. */
            if (h->multi != NULL)
                curl_multi_assign(h->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            return -1;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->h = h;
        s->poll.data = s;
        h->open_handles++;
        s->next = h->socks;
        if (h->socks != NULL)
            h->socks->prev = s;
        h->socks = s;
        curl_multi_assign(h->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) == 0 ? 0 : -1;
}

/* ---- public API ---- */

int ck_http_create(uv_loop_t *loop, const struct ck_http_opts *opts, struct ck_http **out,
                   struct ck_error *err)
{
    if (loop == NULL || out == NULL)
        return ck_error_set(err, CK_EINVAL, "http: no loop");
    struct ck_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return ck_error_set(err, CK_ENOMEM, "http: out of memory");
    h->loop = loop;
    h->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    h->total_timeout_ms = DEFAULT_TOTAL_TIMEOUT_MS;
    h->max_body = DEFAULT_MAX_BODY;
    const char *ua = "chatkeeper/" CK_VERSION;
    if (opts != NULL) {
        if (opts->connect_timeout_ms > 0)
            h->connect_timeout_ms = opts->connect_timeout_ms;
        if (opts->total_timeout_ms > 0)
            h->total_timeout_ms = opts->total_timeout_ms;
        if (opts->max_body > 0)
            h->max_body = opts->max_body;
        if (opts->user_agent != NULL)
            ua = opts->user_agent;
    }
    h->user_agent = strdup(ua);
    if (h->user_agent == NULL)
        goto fail_ua;
    h->multi = curl_multi_init();
    if (h->multi == NULL)
        goto fail_multi;
    int rc = uv_timer_init(loop, &h->timer);
    if (rc != 0) {
        curl_multi_cleanup(h->multi);
        free(h->user_agent);
        free(h);
        return ck_error_set(err, rc, "http: timer: %s", uv_strerror(rc));
    }
    h->timer.data = h;
    h->open_handles = 1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    *out = h;
    return 0;

fail_multi:
    free(h->user_agent);
fail_ua:
    free(h);
    return ck_error_set(err, CK_ENOMEM, "http: out of memory");
}

/* Method names are sent verbatim on the request line: only A-Z allowed. */
static bool method_ok(const char *m)
{
    if (m[0] == '\0')
        return false;
    for (size_t i = 0; m[i] != '\0'; i++) {
        if (i >= 7 || m[i] < 'A' || m[i] > 'Z')
            return false;
    }
    return true;
}

static bool has_header(const struct ck_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strncasecmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':')
            return true;
    }
    return false;
}

/* Any non-OK setopt is out of memory or a libcurl too old for an option we rely on. */
#define SETOPT(easy, opt, val)                                                                     \
    do {                                                                                           \
        if (curl_easy_setopt((easy), (opt), (val)) != CURLE_OK)                                    \
            goto fail_setopt;                                                                      \
    } while (0)

static int setup_easy(struct ck_http *h, struct ck_http_xfer *x, const struct ck_request *req)
{
    CURL *e = x->easy;
    SETOPT(e, CURLOPT_URL, req->url);
    SETOPT(e, CURLOPT_PRIVATE, (void *)x);
    SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    /* A stream has no end to wait for: its reader times out on silence instead. */
    SETOPT(e, CURLOPT_TIMEOUT_MS, x->chunk != NULL ? 0L : h->total_timeout_ms);
    /* Rejects a too-large Content-Length before any body arrives; bodies of
     * unknown length are capped in ck_http__on_write. */
    SETOPT(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body);
    if (x->chunk == NULL) /* compression would hold stream events back in curl's buffers */
        SETOPT(e, CURLOPT_ACCEPT_ENCODING, "");
    SETOPT(e, CURLOPT_USERAGENT, h->user_agent);
    SETOPT(e, CURLOPT_WRITEFUNCTION, ck_http__on_write);
    SETOPT(e, CURLOPT_WRITEDATA, (void *)x);
    SETOPT(e, CURLOPT_HEADERFUNCTION, ck_http__on_header);
    SETOPT(e, CURLOPT_HEADERDATA, (void *)x);
    /* TLS verification stays at curl's defaults (on). Never turn it off here. */

    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *l = curl_slist_append(x->headers, req->headers[i]);
        if (l == NULL)
            goto fail_setopt;
        x->headers = l;
    }
    if (!has_header(req, "Expect")) {
        /* Otherwise curl waits up to a second for "100 Continue" on big POSTs. */
        struct curl_slist *l = curl_slist_append(x->headers, "Expect:");
        if (l == NULL)
            goto fail_setopt;
        x->headers = l;
    }
    SETOPT(e, CURLOPT_HTTPHEADER, x->headers);

    if (strcmp(req->method, "GET") == 0 && req->body == NULL) {
        SETOPT(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "HEAD") == 0) {
        SETOPT(e, CURLOPT_NOBODY, 1L);
    } else {
        bool body_method = strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0;
        if (req->body != NULL || body_method) {
            /* POSTFIELDSIZE must come first: COPYPOSTFIELDS copies that many bytes. */
            SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE,
                   (curl_off_t)(req->body != NULL ? req->body_len : 0));
            SETOPT(e, CURLOPT_COPYPOSTFIELDS, req->body != NULL ? req->body : "");
        }
        if (strcmp(req->method, "POST") != 0)
            SETOPT(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    return 0;

fail_setopt:
    return CK_ENOMEM;
}

static int start_xfer(struct ck_http *h, const struct ck_request *req, ck_http_chunk_cb chunk,
                      ck_http_done_cb cb, void *arg, struct ck_http_xfer **out,
                      struct ck_error *err)
{
    if (h == NULL || req == NULL || cb == NULL || req->url == NULL ||
        req->n_headers > CK_REQUEST_MAX_HEADERS)
        return ck_error_set(err, CK_EINVAL, "http: bad request");
    if (h->closing)
        return ck_error_set(err, CK_ECANCELED, "http: client is closing");
    if (!method_ok(req->method))
        return ck_error_set(err, CK_EINVAL, "http: bad method");

    struct ck_http_xfer *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return ck_error_set(err, CK_ENOMEM, "http: out of memory");
    x->h = h;
    x->cb = cb;
    x->arg = arg;
    x->chunk = chunk;
    x->easy = curl_easy_init();
    if (x->easy == NULL || setup_easy(h, x, req) != 0) {
        ck_http__xfer_free(x);
        return ck_error_set(err, CK_ENOMEM, "http: cannot set up transfer");
    }
    CURLMcode mrc = curl_multi_add_handle(h->multi, x->easy);
    if (mrc != CURLM_OK) {
        ck_http__xfer_free(x);
        return ck_error_set(err, mrc == CURLM_OUT_OF_MEMORY ? CK_ENOMEM : CK_ENET, "http: %s",
                            curl_multi_strerror(mrc));
    }
    x->started_ms = uv_now(h->loop);
    x->next = h->xfers;
    if (h->xfers != NULL)
        h->xfers->prev = x;
    h->xfers = x;
    h->pending++;
    /* Log without the query string (it may carry tokens or cursors nobody
     * needs in a log); headers are never logged (Authorization). */
    ck_debug("http: %s %.*s (transfer %p%s)", req->method, (int)strcspn(req->url, "?#"), req->url,
             (void *)x, chunk != NULL ? ", streaming" : "");
    if (out != NULL)
        *out = x;
    return 0;
}

int ck_http_send(struct ck_http *h, const struct ck_request *req, ck_http_done_cb cb, void *arg,
                 struct ck_error *err)
{
    return start_xfer(h, req, NULL, cb, arg, NULL, err);
}

int ck_http_stream(struct ck_http *h, const struct ck_request *req, ck_http_chunk_cb chunk,
                   ck_http_done_cb done, void *arg, struct ck_http_xfer **out, struct ck_error *err)
{
    if (chunk == NULL)
        return ck_error_set(err, CK_EINVAL, "http: bad request");
    return start_xfer(h, req, chunk, done, arg, out, err);
}

void ck_http_cancel(struct ck_http *h, struct ck_http_xfer *x)
{
    if (h == NULL || x == NULL || h->multi == NULL)
        return;
    for (struct ck_http_xfer *y = h->xfers; y != NULL; y = y->next) {
        if (y == x) {
            curl_multi_remove_handle(h->multi, x->easy);
            ck_http__finish_xfer(x, CK_ECANCELED, ck_strerror(CK_ECANCELED));
            return;
        }
    }
}

size_t ck_http_pending(const struct ck_http *h)
{
    return h != NULL ? h->pending : 0;
}

void ck_http_close(struct ck_http *h, void (*closed_cb)(void *arg), void *arg)
{
    if (h == NULL || h->closing)
        return;
    h->closing = true; /* from here ck_http_send refuses, so the loop below ends */
    h->closed_cb = closed_cb;
    h->closed_arg = arg;
    while (h->xfers != NULL) {
        struct ck_http_xfer *x = h->xfers;
        curl_multi_remove_handle(h->multi, x->easy);
        ck_http__finish_xfer(x, CK_ECANCELED, ck_strerror(CK_ECANCELED));
    }
    /* curl_multi_cleanup may still call on_curl_socket(REMOVE) for cached
     * connections, so the timer and polls are closed only afterwards. */
    CURLM *multi = h->multi;
    h->multi = NULL;
    curl_multi_cleanup(multi);
    while (h->socks != NULL)
        sock_close(h->socks);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}
