/* WordPress through its REST API (wp/v2), authenticated with an application
 * password as Basic auth.
 *
 * Which post is ours: WordPress has no idempotency key and no post meta a
 * client may set without a plugin, so every post we create carries our
 * session's key (ck_pub_key: hashtag, start instant, title) in its content,
 * as an HTML comment in an empty block at the end. We only ever update a
 * post that carries that key; anything else, even with the slug we would
 * choose, is someone else's (another chat that day, a rehearsal) and is left
 * alone. The key is also how a crash between "created" and "recorded in
 * state.json" finds the same post again (WordPress's search looks into the
 * content) instead of making a second one. The slug (hashtag, date, title)
 * is only for people: WordPress appends -2 when it is taken, and we record
 * whatever slug the post got.
 *
 * A post recorded in state.json by a version before the key is still ours
 * when it carries no key of any session and still has the recorded slug.
 * Once a post exists, later runs update it but never demote its status:
 * after an editor published the draft, re-publishing must not pull it back
 * to draft. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "publish_internal.h"

struct wp {
    struct ck_pub *p;
    char *base;  /* no trailing slash */
    bool pretty; /* /wp-json/ answers; else ?rest_route= */
    char *auth;  /* "Basic ..." */
    const char *user;
};

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static char *wp_url(const struct wp *w, const char *route, const char *query)
{
    size_t n = strlen(w->base) + strlen(route) + (query ? strlen(query) : 0) + 32;
    char *u = malloc(n);
    if (u == NULL)
        return NULL;
    if (w->pretty)
        snprintf(u, n, "%s/wp-json%s%s%s", w->base, route, query ? "?" : "", query ? query : "");
    else
        snprintf(u, n, "%s/?rest_route=%s%s%s", w->base, route, query ? "&" : "",
                 query ? query : "");
    return u;
}

/* WordPress's own words: {"code": "...", "message": "..."}. */
static void wp_error_text(const struct ck_response *r, char *buf, size_t n)
{
    json_t *j = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
    const char *code = json_string_value(json_object_get(j, "code"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (code != NULL || msg != NULL) {
        struct ck_response fake = {.body = (char *)(msg ? msg : ""),
                                   .body_len = msg ? strlen(msg) : 0};
        char m[160];
        ck_pub_body_excerpt(&fake, m, sizeof m);
        snprintf(buf, n, "%s%s%s", code ? code : "", code && m[0] ? ": " : "", m);
    } else {
        char ex[120];
        ck_pub_body_excerpt(r, ex, sizeof ex);
        snprintf(buf, n, "not JSON but %s page: \"%s\"",
                 r->body && strstr(r->body, "<html") ? "an HTML" : "a", ex);
    }
    json_decref(j);
}

/* One authenticated call. *out: the JSON reply (new) on 2xx. Every failure
 * becomes a sentence naming the site and what WordPress said. */
static int wp_call(struct wp *w, const char *method, const char *route, const char *query,
                   const json_t *body, json_t **out, long *status, struct ck_error *err)
{
    struct ck_request req = {0};
    struct ck_response resp = {0};
    *out = NULL;
    req.url = wp_url(w, route, query);
    snprintf(req.method, sizeof req.method, "%s", method);
    int rc = req.url ? 0 : CK_ENOMEM;
    if (rc == 0)
        rc = ck_request_add_header(&req, "Accept", "application/json");
    if (rc == 0 && w->auth != NULL)
        rc = ck_request_add_header(&req, "Authorization", w->auth);
    if (rc == 0 && body != NULL) {
        req.body = json_dumps(body, JSON_COMPACT);
        req.body_len = req.body ? strlen(req.body) : 0;
        rc = req.body ? ck_request_add_header(&req, "Content-Type", "application/json") : CK_ENOMEM;
    }
    if (rc != 0) {
        ck_request_finish(&req);
        return ck_error_set(err, rc, "WordPress: %s", ck_strerror(rc));
    }
    rc = ck_pub_send(w->p, &req, &resp, err);
    *status = resp.status;
    char why[240];
    if (rc == 0 && resp.status >= 200 && resp.status < 300) {
        *out = json_loadb(resp.body, resp.body_len, 0, NULL);
        if (*out == NULL) {
            wp_error_text(&resp, why, sizeof why);
            rc = ck_error_set(err, CK_EHTTP, "WordPress at %s answered %s %s with %s", w->base,
                              method, route, why);
        }
    } else if (rc == 0) {
        /* Callers may want WordPress's error object (term_exists carries the id). */
        *out = json_loadb(resp.body, resp.body_len, 0, NULL);
        wp_error_text(&resp, why, sizeof why);
        if (resp.status == 401)
            rc = ck_error_set(err, CK_EAUTH,
                              "WordPress at %s refused the credentials of user '%s' (401 %s); "
                              "check the application password",
                              w->base, w->user, why);
        else if (resp.status == 403)
            rc = ck_error_set(err, CK_EAUTH, "WordPress at %s: user '%s' may not %s %s (403 %s)",
                              w->base, w->user, method, route, why);
        else
            rc = ck_error_set(err, resp.status == 404 ? CK_ENOTFOUND : CK_EHTTP,
                              "WordPress at %s: %s %s failed with HTTP %ld (%s)", w->base, method,
                              route, resp.status, why);
    }
    ck_request_finish(&req);
    ck_response_finish(&resp);
    return rc;
}

/* /wp-json/ when pretty permalinks are on; ?rest_route=/ otherwise. A site
 * without them may answer /wp-json/ with its home page and 200, so only a
 * JSON index with "routes" counts. */
static int discover(struct wp *w, struct ck_error *err)
{
    long st;
    json_t *j = NULL;
    char *auth = w->auth;
    w->auth = NULL; /* the index is public; no need to send the password */
    for (int i = 0; i < 2; i++) {
        struct ck_error e = {0};
        w->pretty = i == 0;
        int rc = wp_call(w, "GET", "/", NULL, NULL, &j, &st, &e);
        bool ok = rc == 0 && json_object_get(j, "routes") != NULL;
        json_decref(j);
        if (ok) {
            w->auth = auth;
            return 0;
        }
        if (rc == CK_ENET || rc == CK_ETIMEDOUT) {
            w->auth = auth;
            return ck_error_set(err, rc, "%s", e.msg);
        }
    }
    w->auth = auth;
    return ck_error_set(
        err, CK_EHTTP, "no WordPress REST API at %s (tried /wp-json/ and /?rest_route=/)", w->base);
}

/* Term names come back HTML-escaped ("A &amp; B"): compare them unescaped. */
static bool same_name(const char *got, const char *want)
{
    static const struct {
        const char *ent, ch;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#039;", '\''}};
    while (*got != '\0' && *want != '\0') {
        char c = *got;
        size_t adv = 1;
        for (size_t i = 0; c == '&' && i < sizeof ents / sizeof ents[0]; i++)
            if (strncmp(got, ents[i].ent, strlen(ents[i].ent)) == 0) {
                c = ents[i].ch;
                adv = strlen(ents[i].ent);
            }
        if (tolower((unsigned char)c) != tolower((unsigned char)*want))
            return false;
        got += adv;
        want++;
    }
    return *got == '\0' && *want == '\0';
}

/* Ids of the categories or tags named in conf[kind], created when missing. */
static int term_ids(struct wp *w, const json_t *conf, const char *kind, json_t *ids,
                    struct ck_error *err)
{
    char route[32];
    snprintf(route, sizeof route, "/wp/v2/%s", kind);
    size_t i;
    json_t *name;
    json_array_foreach(json_object_get(conf, kind), i, name)
    {
        const char *n = json_string_value(name);
        char *q = ck_pub_query_escape(n), *query = q ? malloc(strlen(q) + 32) : NULL;
        if (query == NULL) {
            free(q);
            return ck_error_set(err, CK_ENOMEM, "out of memory");
        }
        snprintf(query, strlen(q) + 32, "search=%s&per_page=100", q);
        free(q);
        json_t *found = NULL, *t;
        long st;
        int rc = wp_call(w, "GET", route, query, NULL, &found, &st, err);
        free(query);
        json_int_t id = 0;
        size_t k;
        json_array_foreach(found, k, t)
        {
            if (id == 0 && same_name(json_string_value(json_object_get(t, "name")), n))
                id = json_integer_value(json_object_get(t, "id"));
        }
        json_decref(found);
        if (rc == 0 && id == 0) {
            /* The search misses some names WordPress stores escaped ("A & B"):
             * creating one then fails with term_exists, which names the id. */
            struct ck_error e = {0};
            json_t *made = NULL, *body = json_pack("{s:s}", "name", n);
            rc = body ? wp_call(w, "POST", route, NULL, body, &made, &st, &e) : CK_ENOMEM;
            const char *code = json_string_value(json_object_get(made, "code"));
            if (rc == 0) {
                id = json_integer_value(json_object_get(made, "id"));
                ck_info("wordpress: created %s \"%s\" (id %lld)", kind, n, (long long)id);
            } else if (code != NULL && strcmp(code, "term_exists") == 0) {
                id = json_integer_value(json_object_get(json_object_get(made, "data"), "term_id"));
                rc = 0;
            } else {
                ck_error_set(err, rc, "%s", e.msg);
            }
            json_decref(body);
            json_decref(made);
        }
        if (rc != 0)
            return rc;
        if (id <= 0)
            return ck_error_set(err, CK_EPARSE, "WordPress at %s: no id for %s \"%s\"", w->base,
                                kind, n);
        if (json_array_append_new(ids, json_integer(id)) != 0)
            return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    return 0;
}

#define MARKER "chatkeeper:session="

/* Does post's raw content carry key (NULL: any session's key)? */
static bool has_key(const json_t *post, const char *key)
{
    const char *c = jstr(json_object_get(post, "content"), "raw");
    for (const char *m = strstr(c, MARKER); m != NULL; m = strstr(m + 1, MARKER)) {
        const char *k = m + strlen(MARKER);
        if (key == NULL ||
            (strncmp(k, key, strlen(key)) == 0 && !isalnum((unsigned char)k[strlen(key)])))
            return true;
    }
    return false;
}

/* Post id as an editor sees it (raw content, any status). *post: new, or
 * NULL with CK_ENOTFOUND when it is gone. */
static int get_post(struct wp *w, json_int_t id, json_t **post, struct ck_error *err)
{
    char route[64];
    long st;
    snprintf(route, sizeof route, "/wp/v2/posts/%lld", (long long)id);
    int rc = wp_call(w, "GET", route, "context=edit&_fields=id,link,slug,status,content", NULL,
                     post, &st, err);
    if (rc != 0) {
        json_decref(*post);
        *post = NULL;
    }
    return rc;
}

/* The oldest post of any status carrying key (status=any needs context=edit;
 * WordPress's search matches inside the raw content), or *id = 0. */
static int find_by_key(struct wp *w, const char *key, json_int_t *id, struct ck_error *err)
{
    char query[300];
    char *q = ck_pub_query_escape(key);
    if (q == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    snprintf(query, sizeof query,
             "search=%s&status=any&context=edit&orderby=id&order=asc&per_page=100"
             "&_fields=id,slug,content",
             q);
    free(q);
    json_t *list = NULL, *post;
    long st;
    size_t i;
    int rc = wp_call(w, "GET", "/wp/v2/posts", query, NULL, &list, &st, err);
    *id = 0;
    json_array_foreach(list, i, post)
    {
        if (*id == 0 && has_key(post, key))
            *id = json_integer_value(json_object_get(post, "id"));
    }
    json_decref(list);
    return rc;
}

/* The post to update: the recorded one if it is still ours, else the one
 * carrying our key, else *id = 0 (create one). */
static int find_ours(struct wp *w, const char *key, json_int_t *id, struct ck_error *err)
{
    const json_t *rec = ck_pub_recorded(w->p, "wordpress");
    *id = json_integer_value(json_object_get(rec, "id"));
    int rc = 0;
    if (*id != 0) {
        json_t *post = NULL;
        struct ck_error e = {0};
        rc = get_post(w, *id, &post, &e);
        const char *slug = jstr(rec, "slug");
        if (rc == CK_ENOTFOUND) {
            ck_warn("wordpress: recorded post %lld is gone; creating a new one", (long long)*id);
            *id = 0;
            rc = 0;
        } else if (rc != 0) {
            ck_error_set(err, rc, "%s", e.msg);
        } else if (!has_key(post, key) && (has_key(post, NULL) || slug[0] == '\0' ||
                                           strcmp(jstr(post, "slug"), slug) != 0)) {
            ck_warn("wordpress: post %lld, recorded in state.json, is not ours (it %s); leaving "
                    "it alone",
                    (long long)*id,
                    has_key(post, NULL) ? "carries another session's key"
                                        : "carries no session key and has another slug");
            *id = 0;
        } else if (!has_key(post, key)) {
            ck_info("wordpress: post %lld, recorded in state.json with its slug, carries no "
                    "session key (an older chatkeeper made it, or an editor removed the key); "
                    "it gets this session's key %s again",
                    (long long)*id, key);
        }
        json_decref(post);
        if (rc != 0 || *id != 0)
            return rc;
    }
    rc = find_by_key(w, key, id, err);
    if (rc == 0 && *id != 0)
        ck_warn("wordpress: post %lld carrying this session's key %s exists but was not "
                "recorded (an earlier run stopped in between); updating it",
                (long long)*id, key);
    return rc;
}

/* The slug is the one WordPress gave the post (it may have appended -2). */
static int record(struct wp *w, const json_t *post, const char *key, const char *what,
                  struct ck_error *err)
{
    json_t *rec = json_pack("{s:I s:s s:s s:s s:s s:s}", "id",
                            json_integer_value(json_object_get(post, "id")), "link",
                            jstr(post, "link"), "slug", jstr(post, "slug"), "status",
                            jstr(post, "status"), "site", w->base, "key", key);
    if (rec == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    int rc = ck_pub_record(w->p, "wordpress", rec, err);
    if (rc == 0)
        fprintf(w->p->out, "wordpress: %s %s post %lld: %s\n", what, jstr(post, "status"),
                (long long)json_integer_value(json_object_get(post, "id")), jstr(post, "link"));
    return rc;
}

/* WordPress answers a wrong application password by treating the request as
 * anonymous (not always with a 401: a search with status=any then fails with
 * 400), so ask who we are first, before anything is created. */
static int whoami(struct wp *w, struct ck_error *err)
{
    json_t *me = NULL;
    long st;
    int rc = wp_call(w, "GET", "/wp/v2/users/me", "context=edit", NULL, &me, &st, err);
    const json_t *caps = json_object_get(me, "capabilities");
    if (rc == 0 && caps != NULL && !json_is_true(json_object_get(caps, "edit_posts")))
        rc = ck_error_set(err, CK_EAUTH,
                          "WordPress at %s: user '%s' may not write posts (403: no edit_posts "
                          "capability; an author or editor account is needed)",
                          w->base, w->user);
    json_decref(me);
    return rc;
}

/* The write-up with our key at the end, in an empty block of its own (a bare
 * comment would get a <p> of its own from wpautop). */
static char *content(const struct wp *w, const char *key)
{
    static const char fmt[] = "%s<div hidden><!-- " MARKER "%s (chatkeeper publish updates "
                              "only the post carrying its session's key) --></div>";
    size_t n = strlen(w->p->html) + strlen(key) + sizeof fmt;
    char *c = malloc(n);
    if (c != NULL)
        snprintf(c, n, fmt, w->p->html, key);
    return c;
}

static int publish(struct wp *w, const json_t *conf, struct ck_error *err)
{
    const char *status = json_string_value(json_object_get(conf, "status"));
    /* A recorded post keeps the key it was created with (the title may
     * have been corrected since). */
    const char *key = json_string_value(json_object_get(ck_pub_recorded(w->p, "wordpress"), "key"));
    if (key == NULL || strncmp(key, "ck-", 3) != 0)
        key = w->p->key;
    json_int_t id = 0;
    int rc = discover(w, err);
    if (rc == 0)
        rc = whoami(w, err);
    if (rc == 0)
        rc = find_ours(w, key, &id, err);
    char *text = content(w, key);
    json_t *body = text ? json_pack("{s:s s:s s:[] s:[]}", "title", w->p->title, "content", text,
                                    "categories", "tags")
                        : NULL;
    free(text);
    if (body == NULL && rc == 0)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0)
        rc = term_ids(w, conf, "categories", json_object_get(body, "categories"), err);
    if (rc == 0)
        rc = term_ids(w, conf, "tags", json_object_get(body, "tags"), err);
    /* New posts get the configured status; existing ones are only ever promoted. */
    if (rc == 0 && (id == 0 || (status && strcmp(status, "publish") == 0)))
        rc = json_object_set_new(body, "status", json_string(status ? status : "draft")) ? CK_ENOMEM
                                                                                         : 0;
    json_t *post = NULL;
    long st = 0;
    if (rc == 0 && id != 0) {
        char route[64];
        struct ck_error e = {0};
        snprintf(route, sizeof route, "/wp/v2/posts/%lld", (long long)id);
        /* No slug: the post keeps the one it has (an editor's, or WordPress's -2). */
        rc = wp_call(w, "POST", route, NULL, body, &post, &st, &e);
        if (rc == CK_ENOTFOUND) {
            ck_warn("wordpress: post %lld is gone; creating a new one", (long long)id);
            id = 0;
            rc = json_object_set_new(body, "status", json_string(status ? status : "draft"))
                     ? CK_ENOMEM
                     : 0;
        } else if (rc != 0) {
            ck_error_set(err, rc, "%s", e.msg);
        } else {
            rc = record(w, post, key, "updated", err);
        }
    }
    if (rc == 0 && id == 0) {
        json_decref(post);
        post = NULL;
        rc = json_object_set_new(body, "slug", json_string(w->p->slug)) ? CK_ENOMEM : 0;
        if (rc == 0)
            rc = wp_call(w, "POST", "/wp/v2/posts", NULL, body, &post, &st, err);
        if (rc == 0 && json_integer_value(json_object_get(post, "id")) <= 0)
            rc = ck_error_set(err, CK_EPARSE, "WordPress at %s created a post but sent no id",
                              w->base);
        if (rc == 0)
            rc = record(w, post, key, "created", err);
    }
    if (rc == CK_ENOMEM)
        ck_error_set(err, rc, "out of memory");
    json_decref(post);
    json_decref(body);
    return rc;
}

int ck_pub_wordpress(struct ck_pub *p, const json_t *conf, struct ck_error *err)
{
    struct wp w = {.p = p, .user = json_string_value(json_object_get(conf, "user"))};
    const char *url = json_string_value(json_object_get(conf, "url"));
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    w.base = strndup(url, n);
    if (w.base == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    if (!ck_url_allowed(w.base)) {
        free(w.base);
        return ck_error_set(err, CK_EUNSAFE,
                            "WordPress URL %s: refusing to send a password over plain http "
                            "to a host that is not loopback",
                            url);
    }
    const json_t *wp_status = json_object_get(conf, "status");
    if (p->dry_run) {
        const json_t *rec = ck_pub_recorded(p, "wordpress");
        fprintf(p->out,
                "wordpress: would %s post at %s as %s (slug %s, status %s, title \"%s\", "
                "%zu bytes of HTML",
                rec ? "update the" : "create (or update the one carrying this session's key) a",
                w.base, w.user, p->slug,
                json_is_string(wp_status) ? json_string_value(wp_status) : "draft", p->title,
                strlen(p->html));
        if (rec != NULL)
            fprintf(p->out, ", recorded id %lld",
                    (long long)json_integer_value(json_object_get(rec, "id")));
        char *cats =
            json_dumps(json_object_get(conf, "categories"), JSON_COMPACT | JSON_ENCODE_ANY);
        char *tags = json_dumps(json_object_get(conf, "tags"), JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(p->out, ", categories %s, tags %s)\n", cats ? cats : "[]", tags ? tags : "[]");
        free(cats);
        free(tags);
        free(w.base);
        return 0;
    }
    char *password = NULL;
    int rc = ck_pub_secret(p, conf, "password", &password, err);
    if (rc == 0) {
        rc = ck_pub_basic_auth(w.user, password, &w.auth);
        if (rc != 0)
            ck_error_set(err, rc, "out of memory");
    }
    ck_pub_secret_free(password);
    if (rc == 0)
        rc = publish(&w, conf, err);
    ck_pub_secret_free(w.auth);
    free(w.base);
    return rc;
}
