/* Micropub (W3C Recommendation, JSON syntax): the write-up as an h-entry
 * with a name, HTML content and categories, sent with a bearer token. The
 * server answers a create with 201 or 202 and the post's address in
 * Location; we record it, and later runs send an "update" action that
 * replaces those properties on the same post.
 *
 * Exactly once, as for WordPress: Micropub has no idempotency key, so the
 * content carries our session's key (ck_pub_key) in a hidden comment, and
 * the intent {"status": "creating", "key"} is saved before the create goes.
 * A run that finds that intent without an address (a crash, or a lost
 * answer, between create and record) first asks the endpoint for its posts
 * (q=source with no url: the post-list query Micropub servers such as
 * Indiekit and Micro.blog answer) and takes the one carrying the key; only
 * when the list says it is not there is it created. An endpoint that cannot
 * list its posts gets no second create: the error says how to settle it by
 * hand. An answered refusal (4xx) created nothing, and says so in state. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "publish_internal.h"

/* Location may be relative (RFC 9110): resolve it against the endpoint. */
static char *absolute(const char *endpoint, const char *loc)
{
    if (strncmp(loc, "https://", 8) == 0 || strncmp(loc, "http://", 7) == 0)
        return strdup(loc);
    if (loc[0] != '/')
        return NULL;
    const char *host = strstr(endpoint, "://");
    size_t origin = host ? (size_t)(host + 3 - endpoint) + strcspn(host + 3, "/") : 0;
    size_t n = origin + strlen(loc) + 1;
    char *u = origin ? malloc(n) : NULL;
    if (u != NULL)
        snprintf(u, n, "%.*s%s", (int)origin, endpoint, loc);
    return u;
}

static void mp_error_text(const struct ck_response *r, char *buf, size_t n)
{
    json_t *j = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *d = json_string_value(json_object_get(j, "error_description"));
    if (e != NULL)
        snprintf(buf, n, "%s%s%.150s", e, d ? ": " : "", d ? d : "");
    else
        ck_pub_body_excerpt(r, buf, n);
    json_decref(j);
}

static int send_json(struct ck_pub *p, const char *endpoint, const char *token, json_t *body,
                     struct ck_response *resp, struct ck_error *err)
{
    struct ck_request req = {0};
    memcpy(req.method, "POST", 5);
    req.url = strdup(endpoint);
    req.body = json_dumps(body, JSON_COMPACT);
    req.body_len = req.body ? strlen(req.body) : 0;
    size_t an = strlen(token) + 8;
    char *auth = malloc(an);
    int rc = req.url && req.body && auth ? 0 : CK_ENOMEM;
    if (rc == 0) {
        snprintf(auth, an, "Bearer %s", token);
        rc = ck_request_add_header(&req, "Authorization", auth);
    }
    if (rc == 0)
        rc = ck_request_add_header(&req, "Content-Type", "application/json");
    if (rc == 0)
        rc = ck_request_add_header(&req, "Accept", "application/json");
    ck_pub_secret_free(auth);
    if (rc == 0)
        rc = ck_pub_send(p, &req, resp, err);
    else
        ck_error_set(err, rc, "micropub: %s", ck_strerror(rc));
    ck_request_finish(&req);
    return rc;
}

static int fail(const char *endpoint, const char *what, const struct ck_response *resp,
                struct ck_error *err)
{
    char why[200];
    mp_error_text(resp, why, sizeof why);
    int code = resp->status == 401 || resp->status == 403 ? CK_EAUTH : CK_EHTTP;
    return ck_error_set(err, code, "micropub endpoint %s: %s failed with HTTP %ld (%s)%s", endpoint,
                        what, resp->status, why, code == CK_EAUTH ? "; check the token" : "");
}

#define MARKER "chatkeeper:session="

/* The write-up with the session's key in a hidden comment at the end. */
static json_t *properties(const struct ck_pub *p, const json_t *conf, const char *key)
{
    json_t *cats = json_copy(json_object_get(conf, "categories"));
    if (cats == NULL)
        cats = json_pack("[s]", p->s->hashtag);
    static const char fmt[] = "%s<div hidden><!-- " MARKER "%s --></div>";
    size_t n = strlen(p->html) + strlen(key) + sizeof fmt;
    char *html = malloc(n);
    if (html == NULL) {
        json_decref(cats);
        return NULL;
    }
    snprintf(html, n, fmt, p->html, key);
    json_t *props = json_pack("{s:[s] s:[{s:s}] s:o}", "name", p->title, "content", "html", html,
                              "category", cats);
    free(html);
    return props;
}

/* Drop the intent (state.published.micropub) again: nothing was created. */
static void forget(struct ck_pub *p)
{
    json_t *pub = json_object_get(p->state, "published");
    json_object_del(pub, "micropub");
    if (json_object_size(pub) == 0)
        json_object_del(p->state, "published");
    struct ck_error e = {0};
    if (ck_state_save(p->state_path, p->state, &e) < 0)
        ck_warn("micropub: %s", e.msg);
}

/* Does text carry MARKER key (the key whole, not a prefix of another)? */
static bool has_key(const char *text, const char *key)
{
    size_t kn = strlen(key);
    for (const char *m = text ? strstr(text, MARKER) : NULL; m != NULL; m = strstr(m + 1, MARKER)) {
        const char *k = m + strlen(MARKER);
        if (strncmp(k, key, kn) == 0 && !isalnum((unsigned char)k[kn]))
            return true;
    }
    return false;
}

/* content[0] of an item, in either of its forms: {"html"}, {"value"} or a string. */
static bool item_has_key(const json_t *item, const char *key)
{
    const json_t *c =
        json_array_get(json_object_get(json_object_get(item, "properties"), "content"), 0);
    return has_key(json_string_value(c), key) ||
           has_key(json_string_value(json_object_get(c, "html")), key) ||
           has_key(json_string_value(json_object_get(c, "value")), key);
}

/* The endpoint's posts (q=source, the newest 100), looked through for the
 * one carrying key. Returns 0 with *url (new) or NULL when none carries it;
 * an error when the endpoint cannot list them. */
static int find_by_key(struct ck_pub *p, const char *endpoint, const char *token, const char *key,
                       char **url, struct ck_error *err)
{
    *url = NULL;
    struct ck_request req = {0};
    struct ck_response resp = {0};
    memcpy(req.method, "GET", 4);
    size_t un = strlen(endpoint) + 32;
    req.url = malloc(un);
    size_t an = strlen(token) + 8;
    char *auth = malloc(an);
    int rc = req.url && auth ? 0 : CK_ENOMEM;
    if (rc == 0) {
        snprintf(req.url, un, "%s%sq=source&limit=100", endpoint,
                 strchr(endpoint, '?') ? "&" : "?");
        snprintf(auth, an, "Bearer %s", token);
        rc = ck_request_add_header(&req, "Authorization", auth);
    }
    if (rc == 0)
        rc = ck_request_add_header(&req, "Accept", "application/json");
    ck_pub_secret_free(auth);
    if (rc == 0)
        rc = ck_pub_send(p, &req, &resp, err);
    else
        ck_error_set(err, rc, "micropub: %s", ck_strerror(rc));
    json_t *doc = rc == 0 && resp.status == 200
                      ? json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL)
                      : NULL;
    json_t *items = json_object_get(doc, "items");
    if (rc == 0 && !json_is_array(items)) {
        rc = ck_error_set(
            err, CK_EHTTP,
            "micropub: the last create may have reached %s, which cannot list its posts "
            "(q=source: HTTP %ld), so it is not sent again: set published.micropub.url in "
            "state.json to the post's address, or remove published.micropub if there is none",
            endpoint, resp.status);
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (rc != 0 || !item_has_key(item, key))
            continue;
        const char *u = json_string_value(
            json_array_get(json_object_get(json_object_get(item, "properties"), "url"), 0));
        if (u != NULL && (*url = absolute(endpoint, u)) != NULL)
            break;
    }
    json_decref(doc);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    return rc;
}

int ck_pub_micropub(struct ck_pub *p, const json_t *conf, struct ck_error *err)
{
    const char *endpoint = json_string_value(json_object_get(conf, "endpoint"));
    const char *url = json_string_value(json_object_get(ck_pub_recorded(p, "micropub"), "url"));
    if (!ck_url_allowed(endpoint))
        return ck_error_set(err, CK_EUNSAFE,
                            "micropub endpoint %s: refusing to send a token over plain http to "
                            "a host that is not loopback",
                            endpoint);
    if (p->dry_run) {
        fprintf(p->out, "micropub: would %s%s h-entry at %s (name \"%s\", %zu bytes of HTML)\n",
                url ? "update " : "create an", url ? url : "", endpoint, p->title, strlen(p->html));
        return 0;
    }
    char *token = NULL;
    int rc = ck_pub_secret(p, conf, "token", &token, err);
    /* A recorded post keeps the key it was created with (the title may have
     * been corrected since). */
    json_t *rec = ck_pub_recorded(p, "micropub");
    const char *key = json_string_value(json_object_get(rec, "key"));
    char keybuf[64];
    if (key == NULL || strncmp(key, "ck-", 3) != 0 || strlen(key) >= sizeof keybuf)
        key = p->key;
    snprintf(keybuf, sizeof keybuf, "%s", key);
    key = keybuf;
    const char *was = json_string_value(json_object_get(rec, "status"));
    char *found = NULL;
    if (rc == 0 && url == NULL && was != NULL && strcmp(was, "creating") == 0) {
        rc = find_by_key(p, endpoint, token, key, &found, err);
        if (rc == 0 && found != NULL) {
            ck_warn("micropub: post %s carrying this session's key %s exists but was not "
                    "recorded (the last run stopped between create and record); recorded now, "
                    "and updated, not created again",
                    found, key);
            fprintf(p->out, "micropub: found %s (created before the last run stopped)\n", found);
            rc =
                ck_pub_record(p, "micropub", json_pack("{s:s s:s}", "url", found, "key", key), err);
            url = found;
        }
    }
    /* The intent, saved before the create goes: see the top of the file. */
    if (rc == 0 && url == NULL)
        rc = ck_pub_record(p, "micropub", json_pack("{s:s s:s}", "status", "creating", "key", key),
                           err);
    json_t *props = rc == 0 ? properties(p, conf, key) : NULL, *body = NULL;
    if (rc == 0 && props == NULL)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0 && url != NULL)
        body = json_pack("{s:s s:s s:O}", "action", "update", "url", url, "replace", props);
    else if (rc == 0)
        body = json_pack("{s:[s] s:O s:[s]}", "type", "h-entry", "properties", props, "mp-slug",
                         p->slug);
    if (rc == 0 && body == NULL)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0 && url == NULL) {
        /* mp-slug is a server command, so it belongs among the properties. */
        json_object_set(props, "mp-slug", json_object_get(body, "mp-slug"));
        json_object_del(body, "mp-slug");
    }
    struct ck_response resp = {0};
    if (rc == 0)
        rc = send_json(p, endpoint, token, body, &resp, err);
    ck_pub_secret_free(token);
    const char *loc = ck_response_header(&resp, "location");
    if (rc == 0 && url == NULL) {
        char *abs = loc ? absolute(endpoint, loc) : NULL;
        if ((resp.status != 201 && resp.status != 202) || abs == NULL) {
            rc = resp.status == 201 || resp.status == 202
                     ? ck_error_set(err, CK_EPARSE,
                                    "micropub endpoint %s: created (HTTP %ld) but sent no usable "
                                    "Location header",
                                    endpoint, resp.status)
                     : fail(endpoint, "create", &resp, err);
            /* Refused or redirected with an answer (3xx, 4xx): nothing was
             * created, so the intent goes and the next run creates without
             * asking. A 5xx (a proxy's, say) may hide a create: the intent
             * stays, and the next run looks first. */
            if (resp.status >= 300 && resp.status < 500)
                forget(p);
        } else {
            rc = ck_pub_record(p, "micropub", json_pack("{s:s s:s}", "url", abs, "key", key), err);
            if (rc == 0)
                fprintf(p->out, "micropub: created %s\n", abs);
        }
        free(abs);
    } else if (rc == 0) {
        if (resp.status != 200 && resp.status != 201 && resp.status != 204) {
            rc = fail(endpoint, "update", &resp, err);
        } else {
            char *abs = resp.status == 201 && loc ? absolute(endpoint, loc) : NULL;
            /* 201 on update: the post moved (a new address). */
            if (abs != NULL)
                rc = ck_pub_record(p, "micropub", json_pack("{s:s s:s}", "url", abs, "key", key),
                                   err);
            if (rc == 0)
                fprintf(p->out, "micropub: updated %s\n", abs ? abs : url);
            free(abs);
        }
    }
    ck_response_finish(&resp);
    json_decref(props);
    json_decref(body);
    free(found);
    return rc;
}
