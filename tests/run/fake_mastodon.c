/* The fake Mastodon of fake_mastodon.h. */
#include "fake_mastodon.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "../net/fake_upload.h"

struct fake_mastodon fake = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The value of name in a form body, decoded into buf; false if absent. */
static bool form_get(const char *body, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = body; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t o = 0;
            for (size_t i = nl + 1; i < len && o + 1 < n; i++) {
                if (p[i] == '%' && i + 2 < len + 1 && hexval(p[i + 1]) >= 0 &&
                    hexval(p[i + 2]) >= 0) {
                    buf[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                    i += 2;
                } else {
                    buf[o++] = p[i] == '+' ? ' ' : p[i];
                }
            }
            buf[o] = '\0';
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body,
                             const char *retry_after)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after != NULL)
        MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* The poster must have saved {"key": key, "status": "sending"} before sending. */
static bool intent_on_disk(const char *key)
{
    json_t *doc = json_load_file(fake.state_path, 0, NULL);
    bool ok = false;
    const char *label;
    json_t *rec;
    json_object_foreach(json_object_get(doc, "steps"), label, rec)
    {
        const char *k = json_string_value(json_object_get(rec, "key"));
        const char *s = json_string_value(json_object_get(rec, "status"));
        if (k != NULL && s != NULL && strcmp(k, key) == 0 && strcmp(s, "sending") == 0)
            ok = true;
    }
    json_decref(doc);
    return ok;
}

static char *status_json(const struct fake_status *s)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/@ck/%s", fake.port, s->id);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", s->id, "url", url, "content", s->text,
                          "visibility", "public", "created_at", "2026-12-03T20:00:00.000Z");
    json_object_set_new(j, "in_reply_to_id",
                        s->reply_to[0] ? json_string(s->reply_to) : json_null());
    char *text = json_dumps(j, 0);
    json_decref(j);
    return text;
}

/* Create (or, for a known key, find) the status. Called with fake.mu held. */
struct fake_status *fake_create_or_find(const char *key, const char *body)
{
    for (size_t i = 0; i < fake.n_st; i++)
        if (fake.st[i].key[0] != '\0' && strcmp(fake.st[i].key, key) == 0)
            return &fake.st[i];
    if (fake.n_st == FAKE_MAX_ST)
        return NULL;
    struct fake_status *s = &fake.st[fake.n_st++];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%u", 110000000u + ++fake.next_id);
    snprintf(s->key, sizeof s->key, "%s", key);
    form_get(body, "status", s->text, sizeof s->text);
    form_get(body, "in_reply_to_id", s->reply_to, sizeof s->reply_to);
    return s;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct fake_req *r = cls;
    size_t n = strlen(r->query);
    snprintf(r->query + n, sizeof r->query - n, "%s%s=%s", n ? "&" : "", key, value ? value : "");
    return MHD_YES;
}

static char *timeline_page(const struct fake_req *r, char *link, size_t n_link);

/* Answer from the script and log the request. Called with fake.mu held;
 * unlocks it. */
static enum MHD_Result scripted(struct MHD_Connection *c, const char *method, const char *url,
                                const char *body)
{
    struct fake_req *r = fake.n_reqs < FAKE_MAX_REQS ? &fake.reqs[fake.n_reqs++] : NULL;
    if (r != NULL) {
        memset(r, 0, sizeof *r);
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, r);
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        snprintf(r->auth, sizeof r->auth, "%s", auth ? auth : "");
        snprintf(r->body, sizeof r->body, "%s", body);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if (fake.tl.path[0] != '\0' && strcmp(url, fake.tl.path) == 0 && r != NULL &&
        strcmp(method, "GET") == 0) {
        struct fake_timeline *t = &fake.tl;
        enum fake_tl_fault f = t->next_fault < t->n_faults ? t->faults[t->next_fault++] : TL_OK;
        char link[512] = "";
        char *page = f == TL_OK ? timeline_page(r, link, sizeof link) : NULL;
        r->code = f == TL_429 ? 429 : f == TL_503 ? 503 : 200;
        pthread_mutex_unlock(&fake.mu);
        if (f == TL_429)
            return reply(c, 429, "{\"error\":\"Too many requests\"}", "1");
        if (f == TL_503)
            return reply(c, 503, "<html>Service Unavailable</html>", NULL);
        if (page == NULL)
            return MHD_NO;
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        char *colon = strchr(link, ':');
        if (colon != NULL) {
            *colon = '\0';
            MHD_add_response_header(resp, link, colon + 2);
        }
        enum MHD_Result ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    const struct fake_canned *a = NULL;
    for (size_t i = 0; i < fake.n_script && a == NULL; i++) {
        const struct fake_canned *e = &fake.script[i];
        if (!fake.used[i] && strcmp(e->method, method) == 0 && strcmp(e->path, url) == 0) {
            a = e;
            fake.used[i] = !e->sticky;
        }
    }
    unsigned code = a ? a->code : 404;
    if (r != NULL)
        r->code = code;
    char *text = strdup(a ? a->body : "{\"error\":\"Record not found\"}");
    char header[256] = "";
    if (a != NULL && a->header != NULL)
        snprintf(header, sizeof header, "%s", a->header);
    pthread_mutex_unlock(&fake.mu);
    if (text == NULL)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    char *colon = strchr(header, ':');
    if (colon != NULL) {
        *colon = '\0';
        MHD_add_response_header(resp, header, colon + 1 + strspn(colon + 1, " "));
    }
    enum MHD_Result ret = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return ret;
}

void fake_script(const struct fake_canned *c, size_t n)
{
    pthread_mutex_lock(&fake.mu);
    fake.n_script = n < FAKE_MAX_SCRIPT ? n : FAKE_MAX_SCRIPT;
    for (size_t i = 0; i < fake.n_script; i++) {
        fake.script[i] = c[i];
        fake.used[i] = false;
    }
    fake.n_reqs = 0;
    pthread_mutex_unlock(&fake.mu);
}

size_t fake_count(const char *method, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < fake.n_reqs; i++)
        n += strcmp(fake.reqs[i].method, method) == 0 && strcmp(fake.reqs[i].path, path) == 0;
    return n;
}

/* The timeline's answer to r's query; a new JSON array text and the Link
 * header. Called with fake.mu held. */
static char *timeline_page(const struct fake_req *r, char *link, size_t n_link)
{
    struct fake_timeline *t = &fake.tl;
    char max_id[24] = "", min_id[24] = "", since_id[24] = "";
    int limit = 20;
    for (const char *p = r->query; *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!t->loop && len > 7 && strncmp(p, "max_id=", 7) == 0)
            snprintf(max_id, sizeof max_id, "%.*s", (int)(len - 7), p + 7);
        else if (!t->loop && len > 7 && strncmp(p, "min_id=", 7) == 0)
            snprintf(min_id, sizeof min_id, "%.*s", (int)(len - 7), p + 7);
        else if (!t->loop && len > 9 && strncmp(p, "since_id=", 9) == 0)
            snprintf(since_id, sizeof since_id, "%.*s", (int)(len - 9), p + 9);
        else if (len > 6 && strncmp(p, "limit=", 6) == 0)
            limit = atoi(p + 6);
        p = end ? end + 1 : p + len;
    }
    if (limit <= 0 || limit > 40)
        limit = 40;
    /* Ids are fixed-width decimal: strcmp orders them. */
    size_t lo = 0, hi = t->n; /* candidates t->ids[lo..hi) */
    while (hi > 0 && max_id[0] && strcmp(t->ids[hi - 1], max_id) >= 0)
        hi--;
    while (lo < hi && since_id[0] && strcmp(t->ids[lo], since_id) <= 0)
        lo++;
    while (lo < hi && min_id[0] && strcmp(t->ids[lo], min_id) <= 0)
        lo++;
    if (hi - lo > (size_t)limit) {
        if (min_id[0])
            hi = lo + (size_t)limit; /* min_id: the oldest page above the cursor */
        else
            lo = hi - (size_t)limit;
    }
    size_t need = 3;
    for (size_t i = lo; i < hi; i++)
        need += strlen(t->items[i]) + 1;
    char *out = malloc(need);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    out[o++] = '[';
    for (size_t i = hi; i > lo; i--) {
        size_t l = strlen(t->items[i - 1]);
        memcpy(out + o, t->items[i - 1], l);
        o += l;
        if (i - 1 > lo)
            out[o++] = ',';
    }
    out[o++] = ']';
    out[o] = '\0';
    link[0] = '\0';
    if (hi > lo)
        snprintf(link, n_link,
                 "Link: <http://127.0.0.1:%u%s?max_id=%s>; rel=\"next\", "
                 "<http://127.0.0.1:%u%s?min_id=%s>; rel=\"prev\"",
                 fake.port, t->path, t->ids[lo], fake.port, t->path, t->ids[hi - 1]);
    return out;
}

void fake_timeline(const char *path, const enum fake_tl_fault *faults, size_t n, bool loop)
{
    pthread_mutex_lock(&fake.mu);
    for (size_t i = 0; i < fake.tl.n; i++)
        free(fake.tl.items[i]);
    fake.tl.n = 0;
    snprintf(fake.tl.path, sizeof fake.tl.path, "%s", path);
    fake.tl.n_faults = n < 16 ? n : 16;
    for (size_t i = 0; i < fake.tl.n_faults; i++)
        fake.tl.faults[i] = faults[i];
    fake.tl.next_fault = 0;
    fake.tl.loop = loop;
    pthread_mutex_unlock(&fake.mu);
}

void fake_timeline_add(const char *id, const char *json)
{
    if (fake.tl.n == FAKE_MAX_TL)
        return;
    snprintf(fake.tl.ids[fake.tl.n], sizeof fake.tl.ids[0], "%s", id);
    fake.tl.items[fake.tl.n++] = strdup(json);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    const char *body = NULL;
    int taken = fake_upload_take(con_cls, upload_data, upload_data_size, &body);
    if (taken != 0)
        return taken > 0 ? MHD_YES : MHD_NO;
    if (strcmp(method, "POST") != 0 || strcmp(url, "/api/v1/statuses") != 0) {
        pthread_mutex_lock(&fake.mu);
        return scripted(c, method, url, body);
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    char vis[16] = "";
    pthread_mutex_lock(&fake.mu);
    fake.posts++;
    if (auth == NULL || strcmp(auth, "Bearer " FAKE_TOKEN) != 0 || key == NULL ||
        !form_get(body, "visibility", vis, sizeof vis) || strcmp(vis, "public") != 0) {
        fake.bad_requests++;
        pthread_mutex_unlock(&fake.mu);
        return reply(c, 400, "{\"error\":\"bad request\"}", NULL);
    }
    if (fake.state_path[0] != '\0' && !intent_on_disk(key))
        fake.intent_violations++;
    enum fake_fault f = fake.next_fault < fake.n_faults ? fake.faults[fake.next_fault++] : F_NONE;
    if (f == F_500_BEFORE || f == F_422 || f == F_401 || f == F_429) {
        pthread_mutex_unlock(&fake.mu);
        if (f == F_422)
            return reply(c, 422,
                         "{\"error\":\"Validation failed: Text character limit of 500 exceeded\"}",
                         NULL);
        if (f == F_401)
            return reply(c, 401, "{\"error\":\"The access token is invalid\"}", NULL);
        if (f == F_429)
            return reply(c, 429, "{\"error\":\"Too many requests\"}", "1");
        return reply(c, 500, "{\"error\":\"boom\"}", NULL);
    }
    struct fake_status *s = fake_create_or_find(key, body);
    char *json = s != NULL ? status_json(s) : NULL;
    pthread_mutex_unlock(&fake.mu);
    if (json == NULL)
        return MHD_NO;
    enum MHD_Result ret;
    if (f == F_503_AFTER) {
        ret = reply(c, 503, "<html>Service Unavailable</html>", NULL);
    } else if (f == F_DROP_AFTER) {
        ret = MHD_NO; /* MHD closes the connection without a response */
    } else {
        if (f == F_SLOW_AFTER)
            usleep(1500 * 1000); /* a thread per connection: only this reply stalls */
        ret = reply(c, 200, json, NULL);
    }
    free(json);
    return ret;
}

int fake_start(void **state)
{
    unsigned port = 0;
    fake.d = fake_server_start(handle, &port);
    if (fake.d == NULL)
        return -1;
    fake.port = port;
    snprintf(fake.base, sizeof fake.base, "http://127.0.0.1:%u", port);
    return 0;
}

int fake_tmpdir(char *dir, size_t size, const char *name)
{
    int n = snprintf(dir, size, "/tmp/ck-%s-XXXXXX", name);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

int fake_rmdir(const char *dir)
{
    char cmd[256];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

int fake_stop(void **state)
{
    MHD_stop_daemon(fake.d);
    fake_timeline("", NULL, 0, false);
    return 0;
}

void fake_reset(const char *state_path, const enum fake_fault *faults, size_t n)
{
    pthread_mutex_lock(&fake.mu);
    fake.n_st = 0;
    fake.posts = 0;
    fake.intent_violations = fake.bad_requests = 0;
    fake.next_fault = 0;
    fake.n_faults = n;
    for (size_t i = 0; i < n; i++)
        fake.faults[i] = faults[i];
    snprintf(fake.state_path, sizeof fake.state_path, "%s", state_path);
    pthread_mutex_unlock(&fake.mu);
}
