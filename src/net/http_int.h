/* Private to src/net/http*.c: the transfer and socket records, and the
 * functions http.c (the uv side and the public API) and http_xfer.c (request
 * and response data, curl easy callbacks, completion) call across the split. */
#ifndef CK_NET_HTTP_INT_H
#define CK_NET_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "chatkeeper/http.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TOTAL_TIMEOUT_MS 30000L
#define DEFAULT_MAX_BODY ((size_t)8 << 20)
/* Headers beyond this many are dropped: we need a handful, and a hostile
 * server must not make us allocate without bound. */
#define MAX_RESPONSE_HEADERS 128

/* One watched socket. */
struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct ck_http *h;
    struct sock *prev, *next;
};

enum xfer_state { XFER_RUNNING, XFER_DONE, XFER_CANCELED };

/* One request in flight. */
struct ck_http_xfer {
    struct ck_http *h;
    CURL *easy;
    struct curl_slist *headers;
    ck_http_done_cb cb;
    void *arg;
    enum xfer_state state;
    char errbuf[CURL_ERROR_SIZE];
    struct ck_response resp;
    size_t body_cap;
    size_t headers_cap;
    bool too_big;
    bool oom;
    /* Streaming (ck_http_stream): 2xx bodies go to chunk as they arrive. */
    ck_http_chunk_cb chunk;
    long stream_status; /* the final response's status once its headers ended, else 0 */
    bool stopped;       /* chunk asked to stop */
    uint64_t started_ms;
    struct ck_http_xfer *prev, *next;
};

struct ck_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    long connect_timeout_ms;
    long total_timeout_ms;
    size_t max_body;
    char *user_agent;
    struct ck_http_xfer *xfers;
    size_t pending;
    struct sock *socks;
    unsigned open_handles; /* uv handles whose close callback is still due */
    bool closing;
    void (*closed_cb)(void *arg);
    void *closed_arg;
    const char *log_tag; /* borrowed (ck_http_set_log_tag) */
};

size_t ck_http__on_write(char *data, size_t size, size_t nmemb, void *userp);
size_t ck_http__on_header(char *data, size_t size, size_t nmemb, void *userp);
void ck_http__xfer_free(struct ck_http_xfer *x);
void ck_http__finish_xfer(struct ck_http_xfer *x, int status, const char *errmsg);
void ck_http__check_done(struct ck_http *h);

#endif
