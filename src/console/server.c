/* The console's HTTP front (console.h) on libmicrohttpd, one thread per
 * connection: an event stream may block its own thread waiting for the next
 * snapshot. c->mu guards the snapshot and is never held while writing to a
 * socket; c->ctl_mu serialises controls, so two pages pressing "post next
 * now" at once are answered one after the other by the owner's handler. */
#include "chatkeeper/console.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "chatkeeper/mhd_body.h"
#include "chatkeeper/sbuf.h"

#include "console_int.h"
#include "server_int.h"

#define BODY_MAX (16 * 1024)
#define HEARTBEAT_S 15
#define IDLE_S 40

/* No inline script or style, nothing from another origin, no framing. */
#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "                \
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* ---- the secret ------------------------------------------------------------- */

static int make_secret(char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[SECRET_LEN];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < SECRET_LEN; i++)
        out[i] = alphabet[raw[i] & 63];
    out[SECRET_LEN] = '\0';
    return 0;
}

/* Constant time: how long the comparison takes says nothing of the secret. */
static int secret_ok(const struct server *srv, const char *given)
{
    if (given == NULL || strlen(given) != SECRET_LEN)
        return 0;
    unsigned char diff = 0;
    for (size_t i = 0; i < SECRET_LEN; i++)
        diff |= (unsigned char)(given[i] ^ srv->secret[i]);
    return diff == 0;
}

/* ---- answers ---------------------------------------------------------------- */

static void common_headers(struct MHD_Response *r, const char *ctype)
{
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result send_buf(struct MHD_Connection *mc, unsigned status, const char *ctype,
                                const char *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, mode);
    if (r == NULL)
        return MHD_NO;
    common_headers(r, ctype);
    enum MHD_Result ok = MHD_queue_response(mc, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* 403 and nothing else: not even which check failed. */
static enum MHD_Result forbidden(struct MHD_Connection *mc)
{
    return send_buf(mc, MHD_HTTP_FORBIDDEN, "text/plain; charset=utf-8", "", 0,
                    MHD_RESPMEM_PERSISTENT);
}

/* A fixed answer of ours (no quote or backslash in msg): no jansson on these
 * threads, whose allocator the loop's thread may have swapped (jsonerr.h). */
static enum MHD_Result send_msg(struct MHD_Connection *mc, unsigned status, const char *msg)
{
    char *body = malloc(strlen(msg) + 16);
    if (body == NULL)
        return MHD_NO;
    snprintf(body, strlen(msg) + 16, "{\"message\":\"%s\"}", msg);
    return send_buf(mc, status, "application/json; charset=utf-8", body, strlen(body),
                    MHD_RESPMEM_MUST_FREE);
}

/* ---- the event stream ------------------------------------------------------- */

struct stream {
    struct ck_console *c;
    unsigned long seen;
    struct ck_sbuf out;
    size_t off;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    struct ck_console *c = s->c;
    (void)pos;
    if (s->off >= s->out.len) {
        s->out.len = s->off = 0;
        pthread_mutex_lock(&c->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HEARTBEAT_S;
        int rc = 0;
        while (!c->stopping && s->seen == c->version && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
        if (c->stopping) {
            pthread_mutex_unlock(&c->mu);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (s->seen != c->version && c->snap != NULL) {
            /* Only what changed, when the page has all the versions between;
             * else the whole view. */
            int whole = s->seen == 0 || c->version - s->seen > PATCHES;
            for (unsigned long v = s->seen + 1; !whole && v <= c->version; v++)
                whole = c->patch[v % PATCHES].version != v || c->patch[v % PATCHES].text == NULL;
            for (unsigned long v = s->seen + 1; !whole && v <= c->version; v++) {
                ck_sbuf_str(&s->out, "event: patch\ndata: ");
                ck_sbuf_str(&s->out, c->patch[v % PATCHES].text);
                ck_sbuf_str(&s->out, "\n\n");
            }
            if (whole) {
                ck_sbuf_str(&s->out, "event: state\ndata: ");
                ck_sbuf_str(&s->out, c->snap);
                ck_sbuf_str(&s->out, "\n\n");
            }
            s->seen = c->version;
        } else {
            ck_sbuf_str(&s->out, ": still here\n\n");
        }
        pthread_mutex_unlock(&c->mu);
        if (s->out.oom)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = s->out.len - s->off < max ? s->out.len - s->off : max;
    memcpy(buf, s->out.s + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    pthread_mutex_lock(&s->c->mu);
    s->c->pages--;
    pthread_mutex_unlock(&s->c->mu);
    ck_cs_room_put(s->c);
    free(s->out.s);
    free(s);
}

static enum MHD_Result events(struct ck_console *c, struct MHD_Connection *mc)
{
    struct stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return MHD_NO;
    s->c = c;
    /* A comment first, so the page sees the stream open at once. */
    ck_sbuf_str(&s->out, ": console\n\n");
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, s, stream_free);
    if (r == NULL) {
        free(s->out.s);
        free(s);
        return MHD_NO;
    }
    pthread_mutex_lock(&c->mu);
    c->pages++;
    pthread_mutex_unlock(&c->mu);
    if (ck_cs_is_room(c)) { /* the stream keeps its room until stream_free */
        pthread_mutex_lock(&c->srv->own.mu);
        c->refs++;
        pthread_mutex_unlock(&c->srv->own.mu);
    }
    common_headers(r, "text/event-stream; charset=utf-8");
    enum MHD_Result ok = MHD_queue_response(mc, 200, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---- requests --------------------------------------------------------------- */

/* DNS rebinding: a page on evil.example that resolves to 127.0.0.1 still
 * sends Host: evil.example; a page of another origin sends its Origin. */
static int host_ok(const struct server *srv, struct MHD_Connection *mc)
{
    const char *host = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Host");
    if (host == NULL || (strcasecmp(host, srv->host) != 0 &&
                         (srv->alt[0] == '\0' || strcasecmp(host, srv->alt) != 0)))
        return 0;
    const char *origin = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Origin");
    if (origin == NULL)
        return 1;
    char want[96];
    snprintf(want, sizeof want, "http://%s", host);
    return strcasecmp(origin, want) == 0;
}

static enum MHD_Result control(struct ck_console *c, struct MHD_Connection *mc,
                               const struct ck_mhd_body *in)
{
    if (in->too_big)
        return send_msg(mc, 413, "the control is too large");
    const char *ct = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Type");
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
        return send_msg(mc, 415, "a control is a JSON object (Content-Type: application/json)");
    int status = 501;
    char *reply = NULL;
    pthread_mutex_lock(&c->ctl_mu);
    if (c->handler != NULL)
        c->handler(c->handler_arg, in->body != NULL ? in->body : "", in->len, &status, &reply);
    pthread_mutex_unlock(&c->ctl_mu);
    if (reply == NULL)
        return send_msg(mc, (unsigned)status,
                        status == 501 ? "this console takes no controls" : "no answer");
    return send_buf(mc, (unsigned)status, "application/json; charset=utf-8", reply, strlen(reply),
                    MHD_RESPMEM_MUST_FREE);
}

/* ---- requests, continued ---------------------------------------------------- */

static enum MHD_Result api(struct ck_console *c, struct MHD_Connection *mc, const char *url,
                           const char *method, const struct ck_mhd_body *in);

static enum MHD_Result respond(struct server *srv, struct MHD_Connection *mc, const char *url,
                               const char *method, const struct ck_mhd_body *in)
{
    if (!host_ok(srv, mc))
        return forbidden(mc);
    if (strncmp(url, "/api/", 5) != 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_msg(mc, 405, "method not allowed");
        for (const struct ck_console_file *f = ck_console_files; f->path != NULL; f++)
            if (strcmp(url, f->path) == 0)
                return send_buf(mc, 200, f->ctype, (const char *)f->data, f->len,
                                MHD_RESPMEM_PERSISTENT);
        return send_msg(mc, 404, "not found");
    }
    if (!secret_ok(srv, MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "X-Console-Key")))
        return forbidden(mc);
    const char *sid = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "s");
    if (sid == NULL)
        return api(&srv->own, mc, url, method, in);
    struct ck_console *room = ck_cs_room_get(srv, sid);
    if (room == NULL)
        return send_msg(mc, 404, "no such session on this console");
    enum MHD_Result ok = api(room, mc, url, method, in);
    ck_cs_room_put(room);
    return ok;
}

/* A request with the key, for c (the server's own view or one of its rooms). */
static enum MHD_Result api(struct ck_console *c, struct MHD_Connection *mc, const char *url,
                           const char *method, const struct ck_mhd_body *in)
{
    if (strcmp(url, "/api/events") == 0 && strcmp(method, "GET") == 0)
        return events(c, mc);
    if (strcmp(url, "/api/state") == 0 && strcmp(method, "GET") == 0) {
        pthread_mutex_lock(&c->mu);
        char *s = strdup(c->snap != NULL ? c->snap : "{}");
        pthread_mutex_unlock(&c->mu);
        if (s == NULL)
            return MHD_NO;
        return send_buf(mc, 200, "application/json; charset=utf-8", s, strlen(s),
                        MHD_RESPMEM_MUST_FREE);
    }
    if (strcmp(url, "/api/control") == 0 && strcmp(method, "POST") == 0)
        return control(c, mc, in);
    return send_msg(mc, 404, "not found");
}

/* The request's body collected (capped at BODY_MAX), then one answer. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    const struct ck_mhd_body *in = NULL;
    int more = ck_mhd_body_take(con_cls, upload, upload_size, BODY_MAX, &in);
    if (more != 0)
        return more > 0 ? MHD_YES : MHD_NO;
    return respond(cls, mc, url, method, in);
}

/* ---- life ------------------------------------------------------------------- */

int ck_console_parse_listen(const char *spec, char *buf, size_t n, struct ck_console_opts *opts)
{
    if (spec == NULL || snprintf(buf, n, "%s", spec) >= (int)n)
        return CK_EINVAL;
    char *colon = strrchr(buf, ':');
    const char *port = colon != NULL ? colon + 1 : buf;
    if (colon != NULL) {
        *colon = '\0';
        opts->addr = buf;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return CK_EINVAL;
    opts->port = (int)p;
    return 0;
}

static int listen_on(const char *addr, int port, int *fd_out, int *bound, struct ck_error *err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return ck_error_set(err, CK_EINVAL, "--console: '%s' is not an IPv4 address", addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ck_error_set(err, CK_EIO, "console: socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        int e = errno;
        close(fd);
        return ck_error_set(err, CK_EIO, "console: cannot listen on %s:%d: %s", addr, port,
                            strerror(e));
    }
    *fd_out = fd;
    *bound = ntohs(sa.sin_port);
    return 0;
}

int ck_console_start(const struct ck_console_opts *opts, struct ck_console **out,
                     struct ck_error *err)
{
    *out = NULL;
    const char *addr = opts->addr != NULL && opts->addr[0] ? opts->addr : "127.0.0.1";
    struct in_addr ia;
    if (inet_pton(AF_INET, addr, &ia) != 1)
        return ck_error_set(err, CK_EINVAL, "--console: '%s' is not an IPv4 address", addr);
    int loopback = (ntohl(ia.s_addr) >> 24) == 127;
    if (!loopback && !opts->public_ok)
        return ck_error_set(err, CK_EINVAL,
                            "--console %s: not a loopback address; serving the console to the "
                            "network needs --console-public (it is plain HTTP)",
                            addr);
    struct server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return ck_error_set(err, CK_ENOMEM, "console: out of memory");
    if (make_secret(srv->secret) != 0) {
        free(srv);
        return ck_error_set(err, CK_EIO, "console: getrandom: %s", strerror(errno));
    }
    int fd = -1;
    int rc = listen_on(addr, opts->port, &fd, &srv->port, err);
    if (rc != 0) {
        free(srv);
        return rc;
    }
    snprintf(srv->host, sizeof srv->host, "%s:%d", addr, srv->port);
    if (loopback)
        snprintf(srv->alt, sizeof srv->alt, "localhost:%d", srv->port);
    snprintf(srv->origin, sizeof srv->origin, "http://%s", srv->host);
    snprintf(srv->url, sizeof srv->url, "%s/#k=%s", srv->origin, srv->secret);
    srv->title = opts->title != NULL ? strdup(opts->title) : NULL;
    ck_cs_view_init(&srv->own, srv);
    srv->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_ERROR_LOG,
                              0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_NOTIFY_COMPLETED, ck_mhd_body_completed, NULL,
                              /* A page that stops reading is dropped after this long without
                               * progress (the stream's heartbeat keeps a live page moving), so
                               * one stalled tab can never hold up the end of a run. */
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_S, MHD_OPTION_END);
    if (srv->d == NULL) {
        close(fd);
        ck_console_stop(&srv->own);
        return ck_error_set(err, CK_EIO, "console: cannot start the HTTP server");
    }
    *out = &srv->own;
    return 0;
}

const char *ck_console_url(const struct ck_console *c)
{
    return c->srv->url;
}

const char *ck_console_origin(const struct ck_console *c)
{
    return c->srv->origin;
}

int ck_console_port(const struct ck_console *c)
{
    return c->srv->port;
}

const char *ck_console_secret(const struct ck_console *c)
{
    return c->srv->secret;
}

void ck_console_set_handler(struct ck_console *c, ck_console_handler fn, void *arg)
{
    pthread_mutex_lock(&c->ctl_mu);
    c->handler = fn;
    c->handler_arg = arg;
    pthread_mutex_unlock(&c->ctl_mu);
}

int ck_console_pages(const struct ck_console *c)
{
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    int n = c->pages;
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
    return n;
}

void ck_console_stop(struct ck_console *c)
{
    if (c == NULL)
        return;
    if (ck_cs_is_room(c)) {
        ck_cs_room_stop(c);
        return;
    }
    struct server *srv = c->srv;
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_broadcast(&c->cv);
    for (struct ck_console *r = srv->rooms; r != NULL; r = r->next_room) {
        pthread_mutex_lock(&r->mu);
        r->stopping = 1; /* its streams end with the server */
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_unlock(&c->mu);
    if (srv->d != NULL)
        MHD_stop_daemon(srv->d);
    while (srv->rooms != NULL) { /* an owner that did not stop its room: no thread is left */
        struct ck_console *r = srv->rooms;
        srv->rooms = r->next_room;
        ck_cs_room_free(r);
    }
    ck_cs_view_finish(c);
    free(srv->title);
    memset(srv->secret, 0, sizeof srv->secret);
    memset(srv->url, 0, sizeof srv->url);
    free(srv);
}
