/* The Mastodon API routes the simulator serves, independent of the HTTP
 * library: the front (server.c) hands over a decoded request and sends the
 * reply. Rate limits and faults are the front's business, not this file's. */
#include "chatkeeper/sim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void reply_error(struct ck_sim_reply *rep, int status, const char *msg)
{
    rep->status = status;
    rep->json = json_pack("{s:s}", "error", msg);
}

static int has_token(const struct ck_sim_request *rq)
{
    const char *a = rq->authorization;
    if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
        return 0;
    for (a += 7; *a == ' '; a++)
        ;
    return *a != '\0';
}

/* On the Mastodon side at now (a Bluesky-only post never is). */
static int visible(const struct ck_sim_entry *e, int64_t now)
{
    return e != NULL && e->visible_ms <= now && e->home != CK_SIM_HOME_BLUESKY;
}

static void timeline(struct ck_sim *sim, const struct ck_sim_request *rq, const char *tag,
                     int64_t now, struct ck_sim_reply *rep)
{
    struct ck_sim_page_req req = {
        .max_id = rq->arg(rq->arg_ctx, "max_id"),
        .since_id = rq->arg(rq->arg_ctx, "since_id"),
        .min_id = rq->arg(rq->arg_ctx, "min_id"),
    };
    const char *limit = rq->arg(rq->arg_ctx, "limit");
    if (limit != NULL)
        req.limit = strtol(limit, NULL, 10);
    rep->status = 200;
    rep->json = json_array();
    if (rep->json == NULL || strcasecmp(tag, sim->script.hashtag) != 0)
        return;
    const char **ids = malloc((sim->n_entries + 1) * sizeof *ids);
    struct ck_sim_entry **es = malloc((sim->n_entries + 1) * sizeof *es);
    size_t n = 0, out[40];
    if (ids == NULL || es == NULL)
        goto done;
    for (size_t i = 0; i < sim->n_entries; i++) {
        struct ck_sim_entry *e = sim->entries[i];
        /* The tag timeline shows public statuses only; boosts never appear (none exist). */
        if (e->has_hashtag && visible(e, now) && strcmp(e->visibility, "public") == 0) {
            ids[n] = e->id;
            es[n++] = e;
        }
    }
    size_t k = ck_sim_page_select(ids, n, &req, out);
    for (size_t i = 0; i < k; i++)
        json_array_append_new(rep->json, ck_sim_status_json(sim, es[out[i]], now));
    if (k > 0) {
        char lim[32] = "";
        if (limit != NULL)
            snprintf(lim, sizeof lim, "limit=%ld&", req.limit);
        json_t *link = json_sprintf("<%s/api/v1/timelines/tag/%s?%smax_id=%s>; rel=\"next\", "
                                    "<%s/api/v1/timelines/tag/%s?%smin_id=%s>; rel=\"prev\"",
                                    sim->base, tag, lim, es[out[k - 1]]->id, sim->base, tag, lim,
                                    es[out[0]]->id);
        if (link != NULL)
            rep->link = strdup(json_string_value(link));
        json_decref(link);
    }
done:
    free(ids);
    free(es);
}

static void context(struct ck_sim *sim, struct ck_sim_entry *e, int64_t now,
                    struct ck_sim_reply *rep)
{
    json_t *anc = json_array(), *desc = json_array();
    /* Ancestors oldest first; a parent not yet visible ends the chain. */
    for (struct ck_sim_entry *p = e->parent; visible(p, now); p = p->parent)
        json_array_insert_new(anc, 0, ck_sim_status_json(sim, p, now));
    /* Descendants: every visible status whose chain reaches e, in id order. */
    for (size_t i = 0; i < sim->n_entries; i++) {
        struct ck_sim_entry *d = sim->entries[i];
        if (!visible(d, now))
            continue;
        struct ck_sim_entry *p = d->parent;
        while (p != NULL && p != e && visible(p, now))
            p = p->parent;
        if (p == e)
            json_array_append_new(desc, ck_sim_status_json(sim, d, now));
    }
    rep->status = 200;
    rep->json = json_pack("{s:o s:o}", "ancestors", anc, "descendants", desc);
}

/* Decode one application/x-www-form-urlencoded component in place. */
static void form_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r != '\0'; r++) {
        if (*r == '+') {
            *w++ = ' ';
        } else if (*r == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
            char hex[3] = {r[1], r[2], '\0'};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Read status, in_reply_to_id and visibility from a form or JSON body into a
 * JSON object (new). NULL if the body is malformed. */
static json_t *post_params(const struct ck_sim_request *rq)
{
    const char *ct = rq->content_type != NULL ? rq->content_type : "";
    if (strncasecmp(ct, "application/json", 16) == 0) {
        json_t *j = json_loads(rq->body, 0, NULL);
        if (!json_is_object(j)) {
            json_decref(j);
            return NULL;
        }
        return j;
    }
    json_t *j = json_object();
    char *copy = strdup(rq->body);
    if (j == NULL || copy == NULL) {
        json_decref(j);
        free(copy);
        return NULL;
    }
    for (char *kv = copy; kv != NULL;) {
        char *amp = strchr(kv, '&');
        if (amp != NULL)
            *amp = '\0';
        char *eq = strchr(kv, '=');
        if (eq != NULL) {
            *eq = '\0';
            form_decode(kv);
            form_decode(eq + 1);
            json_object_set_new(j, kv, json_string(eq + 1));
        }
        kv = amp != NULL ? amp + 1 : NULL;
    }
    free(copy);
    return j;
}

static const char *jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void post_status(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                        struct ck_sim_reply *rep)
{
    const char *key = rq->idempotency_key;
    if (key != NULL && key[0] != '\0') {
        for (size_t i = 0; i < sim->n_idem; i++) {
            if (strcmp(sim->idem[i].key, key) == 0) {
                sim->idem_replays++;
                rep->status = 200;
                rep->json = ck_sim_status_json(sim, sim->idem[i].entry, now);
                return;
            }
        }
    }
    json_t *params = post_params(rq);
    if (params == NULL) {
        reply_error(rep, 422, "Validation failed: malformed request body");
        return;
    }
    struct ck_error err = {0};
    struct ck_sim_entry *e = NULL;
    const char *text = jstr(params, "status");
    int rc = ck_sim_state_post(sim, text != NULL ? text : "", jstr(params, "in_reply_to_id"),
                               jstr(params, "visibility"), now, &e, &err);
    json_decref(params);
    if (rc == CK_ENOTFOUND) {
        reply_error(rep, 404, "Record not found");
        return;
    }
    if (rc == CK_EINVAL) {
        reply_error(rep, 422, err.msg);
        return;
    }
    if (rc != 0) {
        reply_error(rep, 500, "out of memory");
        return;
    }
    if (sim->opts.bluesky_share > 0)
        e->home = CK_SIM_HOME_MASTODON; /* posted on Mastodon: not on Bluesky */
    rep->created = 1;
    rep->status = 200;
    rep->json = ck_sim_status_json(sim, e, now);
    if (key == NULL || key[0] == '\0')
        return;
    if (sim->n_idem == sim->cap_idem) {
        size_t cap = sim->cap_idem * 2 + 8;
        void *n = realloc(sim->idem, cap * sizeof *sim->idem);
        if (n == NULL)
            return;
        sim->idem = n;
        sim->cap_idem = cap;
    }
    sim->idem[sim->n_idem].key = strdup(key);
    sim->idem[sim->n_idem].entry = e;
    if (sim->idem[sim->n_idem].key != NULL)
        sim->n_idem++;
}

/* ws://HOST:PORT when --streaming-host names a streaming host of its own. */
static json_t *streaming_url(const struct ck_sim *sim)
{
    const char *port = strrchr(sim->base, ':');
    if (sim->opts.streaming_host == NULL || port == NULL)
        return NULL;
    char url[320];
    snprintf(url, sizeof url, "ws://%s%s", sim->opts.streaming_host, port);
    return json_string(url);
}

/* v2 (the limit, configuration.urls.streaming) or v1 (urls.streaming_api). */
static json_t *instance_json(const struct ck_sim *sim, int v1)
{
    json_t *j = json_pack(
        "{s:s s:s s:s s:s s:{s:{s:i s:i s:i}} s:{s:b} s:[s]}", "domain", "127.0.0.1", "title",
        "chatkeeper simulator", "version", "4.3.0-sim", "description", sim->script.title,
        "configuration", "statuses", "max_characters", 500, "max_media_attachments", 4,
        "characters_reserved_per_url", 23, "registrations", "enabled", 0, "languages", "en");
    json_t *url = streaming_url(sim);
    if (j != NULL && url != NULL) {
        json_t *urls = json_object();
        json_object_set_new(urls, v1 ? "streaming_api" : "streaming", json_incref(url));
        json_object_set_new(v1 ? j : json_object_get(j, "configuration"), "urls", urls);
    }
    json_decref(url);
    return j;
}

void ck_sim_api_handle(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                       struct ck_sim_reply *rep)
{
    const char *p = rq->path;
    int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
    static const char tl[] = "/api/v1/timelines/tag/";
    if (strncmp(p, "/xrpc/", 6) == 0) { /* the same chat as a Bluesky PDS (bsky.c) */
        ck_sim_bsky_handle(sim, rq, now, rep);
        return;
    }
    static const char st[] = "/api/v1/statuses";
    if (get && strncmp(p, tl, sizeof tl - 1) == 0 && p[sizeof tl - 1] != '\0') {
        timeline(sim, rq, p + sizeof tl - 1, now, rep);
    } else if (strcmp(p, st) == 0 && strcmp(rq->method, "POST") == 0) {
        if (!has_token(rq)) {
            reply_error(rep, 401, "The access token is invalid");
            return;
        }
        post_status(sim, rq, now, rep);
    } else if (get && strncmp(p, st, sizeof st - 1) == 0 && p[sizeof st - 1] == '/') {
        char id[64];
        snprintf(id, sizeof id, "%s", p + sizeof st);
        char *slash = strchr(id, '/');
        if (slash != NULL)
            *slash++ = '\0';
        struct ck_sim_entry *e = ck_sim_state_find(sim, id);
        if (!visible(e, now) || (slash != NULL && strcmp(slash, "context") != 0)) {
            reply_error(rep, 404, "Record not found");
            return;
        }
        if (slash != NULL) {
            context(sim, e, now, rep);
            return;
        }
        rep->status = 200;
        rep->json = ck_sim_status_json(sim, e, now);
    } else if (get && strcmp(p, "/api/v1/accounts/verify_credentials") == 0) {
        if (!has_token(rq)) {
            reply_error(rep, 401, "The access token is invalid");
            return;
        }
        rep->status = 200;
        rep->json = ck_sim_account_json(sim, sim->script.self);
    } else if (get && (strcmp(p, "/api/v2/instance") == 0 || strcmp(p, "/api/v1/instance") == 0)) {
        rep->status = 200;
        rep->json = instance_json(sim, p[5] == '1');
    } else {
        {
            reply_error(rep, 404, "Not found");
            return;
        }
    }
    if (rep->json == NULL)
        reply_error(rep, 500, "out of memory");
}
