/* The simulator's HTTP front on libmicrohttpd: collects each request, applies
 * the rate limit and the faults, hands the request to api.c or inspect.c, and
 * sends the reply. MHD runs one thread per connection (so a "slow" fault
 * delays only its own client); sim->mu serialises access to the state, and is
 * never held while sleeping or writing to a socket. */
#include "chatkeeper/sim.h"
#include "sim_x.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "chatkeeper/log.h"
#include "chatkeeper/mhd_body.h"
#include "chatkeeper/timeutil.h"

#define BODY_MAX (64 * 1024)

static const char *get_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

struct qbuf {
    char s[1024];
    size_t len;
};

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct qbuf *q = cls;
    if (q->len < sizeof q->s) {
        int n = snprintf(q->s + q->len, sizeof q->s - q->len, "%s%s%s%s",
                         strchr(q->s, '?') != NULL ? "&" : "?", key, value != NULL ? "=" : "",
                         value != NULL ? value : "");
        q->len += n > 0 ? (size_t)n : 0;
    }
    return MHD_YES;
}

static enum ck_sim_fault pick_fault(struct ck_sim *sim, int post)
{
    if (sim->opts.fault_rate <= 0 || ck_sim_random(sim) >= sim->opts.fault_rate)
        return CK_SIM_FAULT_NONE;
    static const enum ck_sim_fault get_faults[] = {CK_SIM_FAULT_5XX, CK_SIM_FAULT_DROP,
                                                   CK_SIM_FAULT_SLOW, CK_SIM_FAULT_TRUNCATE};
    static const enum ck_sim_fault post_faults[] = {CK_SIM_FAULT_5XX, CK_SIM_FAULT_DROP,
                                                    CK_SIM_FAULT_SLOW, CK_SIM_FAULT_5XX_AFTER_POST};
    size_t k = (size_t)(ck_sim_random(sim) * 4);
    return post ? post_faults[k & 3] : get_faults[k & 3];
}

/* A server error body: Mastodon behind nginx answers in HTML as often as in JSON. */
static char *error_body(struct ck_sim *sim, int *status, const char **ctype)
{
    static const int codes[] = {500, 502, 503};
    *status = codes[(size_t)(ck_sim_random(sim) * 3) % 3];
    json_t *s;
    if (ck_sim_random(sim) < 0.5) {
        *ctype = "text/html";
        s = json_sprintf("<html>\r\n<head><title>%d Server Error</title></head>\r\n<body>\r\n"
                         "<center><h1>%d Server Error</h1></center>\r\n<hr><center>nginx</center>"
                         "\r\n</body>\r\n</html>\r\n",
                         *status, *status);
    } else {
        *ctype = "application/json; charset=utf-8";
        s = json_sprintf("{\"error\":\"Simulated server error %d\"}", *status);
    }
    char *out = s != NULL ? strdup(json_string_value(s)) : NULL;
    json_decref(s);
    return out;
}

static void log_request(struct ck_sim *sim, int64_t now, const char *method, const char *path,
                        int status, enum ck_sim_fault fault)
{
    if (sim->n_log == sim->cap_log) {
        size_t cap = sim->cap_log * 2 + 64;
        struct ck_sim_reqlog *n = realloc(sim->log, cap * sizeof *n);
        if (n == NULL)
            return;
        sim->log = n;
        sim->cap_log = cap;
    }
    struct ck_sim_reqlog *r = &sim->log[sim->n_log];
    r->path = strdup(path);
    if (r->path == NULL)
        return;
    r->t = now;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->status = status;
    r->fault = fault;
    sim->n_log++;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* With --streaming-host, streams are served only to requests for that host
 * (the REST host does not serve them), so a client must have asked the
 * instance where its stream is. */
static int streaming_host_ok(const struct ck_sim *sim, struct MHD_Connection *c)
{
    const char *want = sim->opts.streaming_host;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (want == NULL)
        return 1;
    size_t n = strlen(want);
    return host != NULL && strncasecmp(host, want, n) == 0 && (host[n] == ':' || host[n] == '\0');
}

/* GET /api/v1/streaming/hashtag: counted and logged like any API request,
 * never faulted (a stream's faults are --stream-drop and --no-streaming). */
static enum MHD_Result stream_respond(struct ck_sim *sim, struct MHD_Connection *c,
                                      const char *logpath, int64_t now)
{
    const char *tag = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tag");
    int status = 200;
    struct MHD_Response *r = NULL;
    const char *msg = "";
    pthread_mutex_lock(&sim->mu);
    sim->requests++;
    if (sim->opts.no_streaming || !streaming_host_ok(sim, c)) {
        status = 404;
        msg = "{\"error\":\"Record not found\"}";
    } else if (tag == NULL || tag[0] == '\0') {
        status = 400;
        msg = "{\"error\":\"Missing parameter: tag\"}";
    } else if ((r = ck_sim_stream_response(sim, tag, now)) == NULL) {
        status = 500;
        msg = "{\"error\":\"out of memory\"}";
    }
    log_request(sim, now, "GET", logpath, status, CK_SIM_FAULT_NONE);
    pthread_mutex_unlock(&sim->mu);
    if (r == NULL)
        r = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(
        r, "Content-Type", status == 200 ? "text/event-stream" : "application/json; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "private, no-store");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result respond(struct ck_sim *sim, struct MHD_Connection *c, const char *url,
                               const char *method, const struct ck_mhd_body *in)
{
    int64_t now = ck_time_now_ms();
    struct qbuf q = {.len = 0};
    snprintf(q.s, sizeof q.s, "%s", url);
    q.len = strlen(q.s);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_query, &q);
    if (strcmp(method, "GET") == 0 && strcmp(url, "/api/v1/streaming/hashtag") == 0)
        return stream_respond(sim, c, q.s, now);
    struct ck_sim_request rq = {
        .method = method,
        .path = url,
        .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
        .idempotency_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key"),
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .body = in->body != NULL ? in->body : "",
        .arg = get_arg,
        .arg_ctx = c,
    };
    struct ck_sim_reply rep = {0};
    enum ck_sim_fault fault = CK_SIM_FAULT_NONE;
    int api = strncmp(url, "/sim/", 5) != 0;
    int xrpc = strncmp(url, "/xrpc/", 6) == 0; /* Bluesky: its own rate-limit headers */
    char *raw = NULL;
    const char *ctype = "application/json; charset=utf-8";
    long slow = 0, remaining = 0;
    int64_t reset = 0;

    pthread_mutex_lock(&sim->mu);
    if (!api) {
        ck_sim_inspect(sim, url, now, &rep);
    } else {
        sim->requests++;
        int64_t w = sim->opts.rate_window_ms;
        int64_t start = now - now % w;
        if (start != sim->window_start) {
            sim->window_start = start;
            sim->window_used = 0;
        }
        reset = start + w;
        if (sim->window_used >= sim->opts.rate_limit) {
            rep.status = 429;
            if (xrpc)
                rep.json = json_pack("{s:s s:s}", "error", "RateLimitExceeded", "message",
                                     "Rate Limit Exceeded");
            else if (sim->opts.x)
                rep.json = json_pack("{s:s s:s s:s s:i}", "title", "Too Many Requests", "detail",
                                     "Too Many Requests", "type", "about:blank", "status", 429);
            else
                rep.json = json_pack("{s:s}", "error", "Too many requests");
            sim->rate_limited++;
        } else if (in->too_big) {
            sim->window_used++;
            rep.status = 413;
            rep.json = json_pack("{s:s}", "error", "Request body too large");
        } else {
            sim->window_used++;
            fault = pick_fault(sim, strcmp(method, "POST") == 0);
            if (fault == CK_SIM_FAULT_5XX) {
                raw = error_body(sim, &rep.status, &ctype);
            } else if (fault != CK_SIM_FAULT_DROP) {
                if (sim->opts.x)
                    ck_sim_x_handle(sim, &rq, now, &rep);
                else
                    ck_sim_api_handle(sim, &rq, now, &rep);
                if (fault == CK_SIM_FAULT_5XX_AFTER_POST && !rep.created) {
                    fault = CK_SIM_FAULT_NONE; /* nothing was posted: no fault to show */
                } else if (fault == CK_SIM_FAULT_5XX_AFTER_POST) {
                    json_decref(rep.json);
                    rep.json = NULL;
                    raw = error_body(sim, &rep.status, &ctype);
                    rep.status = 503;
                }
                if (fault == CK_SIM_FAULT_SLOW)
                    slow = 1000 + (long)(ck_sim_random(sim) * 2000);
            }
        }
        remaining = sim->opts.rate_limit - sim->window_used;
        sim->faults[fault]++;
    }
    log_request(sim, now, method, q.s, fault == CK_SIM_FAULT_DROP ? 0 : rep.status, fault);
    pthread_mutex_unlock(&sim->mu);

    if (fault == CK_SIM_FAULT_DROP) {
        json_decref(rep.json);
        free(rep.link);
        return MHD_NO; /* MHD closes the connection without a response */
    }
    if (raw == NULL && rep.json != NULL)
        raw = json_dumps(rep.json, JSON_COMPACT);
    json_decref(rep.json);
    if (raw == NULL) {
        raw = strdup("{\"error\":\"out of memory\"}");
        rep.status = 500;
    }
    size_t len = raw != NULL ? strlen(raw) : 0;
    if (fault == CK_SIM_FAULT_TRUNCATE)
        len /= 2; /* Content-Length matches the cut body: the JSON is simply malformed */
    if (slow > 0)
        sleep_ms(slow);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, raw, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(raw);
        free(rep.link);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "private, no-store");
    if (rep.link != NULL)
        MHD_add_response_header(r, "Link", rep.link);
    if (xrpc) {
        /* as bsky.social sends them: reset in epoch seconds, policy "N;w=SECONDS" */
        char num[48];
        snprintf(num, sizeof num, "%ld", sim->opts.rate_limit);
        MHD_add_response_header(r, "RateLimit-Limit", num);
        snprintf(num, sizeof num, "%ld", remaining > 0 ? remaining : 0L);
        MHD_add_response_header(r, "RateLimit-Remaining", num);
        snprintf(num, sizeof num, "%lld", (long long)((reset + 999) / 1000));
        MHD_add_response_header(r, "RateLimit-Reset", num);
        snprintf(num, sizeof num, "%ld;w=%lld", sim->opts.rate_limit,
                 (long long)(sim->opts.rate_window_ms / 1000));
        MHD_add_response_header(r, "RateLimit-Policy", num);
    } else if (api && sim->opts.x) {
        /* X's names, the reset in epoch seconds. */
        char num[32];
        snprintf(num, sizeof num, "%ld", sim->opts.rate_limit);
        MHD_add_response_header(r, "x-rate-limit-limit", num);
        snprintf(num, sizeof num, "%ld", remaining > 0 ? remaining : 0L);
        MHD_add_response_header(r, "x-rate-limit-remaining", num);
        snprintf(num, sizeof num, "%lld", (long long)((reset + 999) / 1000));
        MHD_add_response_header(r, "x-rate-limit-reset", num);
    } else if (api) {
        char num[32], when[32];
        snprintf(num, sizeof num, "%ld", sim->opts.rate_limit);
        MHD_add_response_header(r, "X-RateLimit-Limit", num);
        snprintf(num, sizeof num, "%ld", remaining > 0 ? remaining : 0L);
        MHD_add_response_header(r, "X-RateLimit-Remaining", num);
        ck_time_format_rfc3339(reset, when);
        MHD_add_response_header(r, "X-RateLimit-Reset", when);
        if (rep.status == 429) {
            snprintf(num, sizeof num, "%lld", (long long)((reset - now + 999) / 1000));
            MHD_add_response_header(r, "Retry-After", num);
        }
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rep.status, r);
    MHD_destroy_response(r);
    free(rep.link);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    const struct ck_mhd_body *in = NULL;
    int more = ck_mhd_body_take(con_cls, upload, upload_size, BODY_MAX, &in);
    if (more != 0)
        return more > 0 ? MHD_YES : MHD_NO;
    return respond(cls, c, url, method, in);
}

int ck_sim_http_listen(int port, int *fd_out, int *bound, struct ck_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ck_error_set(err, -errno, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        int e = errno;
        close(fd);
        return ck_error_set(err, -e, "cannot listen on 127.0.0.1:%d: %s", port, strerror(e));
    }
    *fd_out = fd;
    *bound = ntohs(sa.sin_port);
    return 0;
}

/* libmicrohttpd's own messages ("Failed to send the chunked response body
 * ..." when a client drops a stream) went raw to stderr, in the middle of a
 * rehearsal's status line: they are debug lines now, escaped like any other. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ck_debug("simulator: libmicrohttpd: %s", msg);
}

struct MHD_Daemon *ck_sim_http_start(struct ck_sim *sim, int fd, struct ck_error *err)
{
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, sim, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
        ck_mhd_body_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_END);
    if (d == NULL) {
        close(fd);
        ck_error_set(err, CK_EIO, "cannot start the HTTP server");
    }
    return d;
}

void ck_sim_http_stop(struct MHD_Daemon *d)
{
    if (d != NULL)
        MHD_stop_daemon(d);
}
