/* HTTP transfers' data side: request headers, response headers and body as
 * curl hands them over (the easy callbacks), and completion: mapping curl's
 * result, calling the done callback, draining curl_multi_info_read. The uv
 * side and the public API are in http.c; its header comment lists the hazards. */
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

static const char *const state_names[] = {"running", "done", "canceled"};

/* The one place a transfer changes state, so a debug log shows where a stall happened. */
static void xfer_set_state(struct ck_http_xfer *x, enum xfer_state s)
{
    ck_debug("http: transfer %p %s -> %s", (void *)x, state_names[x->state], state_names[s]);
    x->state = s;
}

/* struct ck_request and ck_response themselves live in request.c (no uv). */

static void free_headers(struct ck_response *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->n_headers = 0;
}

/* ---- curl easy callbacks ---- */

size_t ck_http__on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct ck_http_xfer *x = userp;
    size_t n = size * nmemb;
    if (x->chunk != NULL && x->stream_status >= 200 && x->stream_status <= 299) {
        if (x->chunk(x->stream_status, data, n, x->arg) != 0) {
            x->stopped = true;
            return 0;
        }
        return n;
    }
    /* Returning anything but n aborts the transfer with CURLE_WRITE_ERROR;
     * the flags tell ck_http__finish_xfer why. */
    if (n > x->h->max_body - x->resp.body_len) {
        x->too_big = true;
        return 0;
    }
    size_t need = x->resp.body_len + n + 1;
    if (need > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 4096;
        while (cap < need)
            cap *= 2;
        char *p = realloc(x->resp.body, cap);
        if (p == NULL) {
            x->oom = true;
            return 0;
        }
        x->resp.body = p;
        x->body_cap = cap;
    }
    memcpy(x->resp.body + x->resp.body_len, data, n);
    x->resp.body_len += n;
    x->resp.body[x->resp.body_len] = '\0';
    return n;
}

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* curl hands us one complete header line at a time, CRLF included, for every
 * response it reads (1xx, redirects, the final one, trailers). */
size_t ck_http__on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct ck_http_xfer *x = userp;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new status line: whatever came before belonged to an interim
         * response, and must not be mistaken for the final one's. */
        free_headers(&x->resp);
        return n;
    }
    if (x->chunk != NULL && (n == 2 || n == 1) && (data[0] == '\r' || data[0] == '\n')) {
        /* The end of a response's headers: for a streaming request's final
         * 2xx response, the stream is open now (bodies may be long in coming). */
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200) {
            x->stream_status = code;
            if (code <= 299 && x->chunk(code, NULL, 0, x->arg) != 0) {
                x->stopped = true;
                return 0;
            }
        }
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (colon == NULL || colon == data || data[0] == ' ' || data[0] == '\t')
        return n; /* blank line, obsolete line folding or junk: ignore */
    if (x->resp.n_headers >= MAX_RESPONSE_HEADERS)
        return n;
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    size_t name_len = (size_t)(colon - data);
    while (name_len > 0 && isspace((unsigned char)data[name_len - 1]))
        name_len--;
    if (name_len == 0)
        return n;
    if (x->resp.n_headers == x->headers_cap) {
        size_t cap = x->headers_cap ? x->headers_cap * 2 : 16;
        struct ck_header *p = realloc(x->resp.headers, cap * sizeof(*p));
        if (p == NULL) {
            x->oom = true;
            return 0;
        }
        x->resp.headers = p;
        x->headers_cap = cap;
    }
    char *name = dup_range(data, name_len);
    char *value = dup_range(v, (size_t)(end - v));
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        x->oom = true;
        return 0;
    }
    for (char *p = name; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    x->resp.headers[x->resp.n_headers].name = name;
    x->resp.headers[x->resp.n_headers].value = value;
    x->resp.n_headers++;
    return n;
}

/* ---- completion ---- */

static void xfer_unlink(struct ck_http_xfer *x)
{
    struct ck_http *h = x->h;
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        h->xfers = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
    h->pending--;
}

void ck_http__xfer_free(struct ck_http_xfer *x)
{
    if (x->easy != NULL)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    ck_response_finish(&x->resp);
    free(x);
}

static int map_result(const struct ck_http_xfer *x, CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return CK_ETIMEDOUT;
    case CURLE_FILESIZE_EXCEEDED: /* Content-Length above CURLOPT_MAXFILESIZE */
        return CK_ETOOBIG;
    case CURLE_OUT_OF_MEMORY:
        return CK_ENOMEM;
    case CURLE_WRITE_ERROR:
        if (x->stopped)
            return CK_ECANCELED;
        if (x->too_big)
            return CK_ETOOBIG;
        if (x->oom)
            return CK_ENOMEM;
        return CK_ENET;
    default:
        /* Refused, reset, empty reply, partial body, TLS failure...: to the
         * caller they are all "the network failed; maybe retry". */
        return x->oom ? CK_ENOMEM : CK_ENET;
    }
}

/* The easy handle is already out of the multi. Runs the callback once and frees x. */
void ck_http__finish_xfer(struct ck_http_xfer *x, int status, const char *errmsg)
{
    struct ck_http *h = x->h;
    xfer_unlink(x);
    xfer_set_state(x, status == CK_ECANCELED ? XFER_CANCELED : XFER_DONE);
    x->resp.elapsed_ms = (int64_t)(uv_now(h->loop) - x->started_ms);
    if (status != 0) {
        /* Partial data of a failed transfer is not a response. */
        x->resp.status = 0;
    }
    if (x->resp.body == NULL) {
        /* The contract promises a NUL-terminated body even when empty. */
        x->resp.body = calloc(1, 1);
        if (x->resp.body == NULL && status == 0) {
            status = CK_ENOMEM;
            errmsg = ck_strerror(CK_ENOMEM);
        }
    }
    x->cb(status, &x->resp, errmsg != NULL ? errmsg : "", x->arg);
    ck_http__xfer_free(x);
}

/* Collect finished transfers. Called after every socket_action. */
void ck_http__check_done(struct ck_http *h)
{
    CURLMsg *msg;
    int left;
    while (h->multi != NULL && (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg dies with remove_handle: copy what we need first. */
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        struct ck_http_xfer *x = (struct ck_http_xfer *)priv;
        curl_multi_remove_handle(h->multi, easy);

        int status = map_result(x, rc);
        char msgbuf[CURL_ERROR_SIZE + 64];
        const char *errmsg = "";
        if (status == 0) {
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->resp.status);
        } else if (status == CK_ETOOBIG) {
            snprintf(msgbuf, sizeof(msgbuf), "response body larger than %zu bytes", h->max_body);
            errmsg = msgbuf;
        } else {
            errmsg = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc);
        }
        ck_debug("http: done %p: status %ld, %s", (void *)x, x->resp.status,
                 status == 0 ? "ok" : errmsg);
        ck_http__finish_xfer(x, status, errmsg);
    }
}
