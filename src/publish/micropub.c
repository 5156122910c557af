/* Micropub (W3C Recommendation, JSON syntax): the write-up as an h-entry
 * with a name, HTML content and categories, sent with a bearer token. The
 * server answers a create with 201 or 202 and the post's address in
 * Location; we record it, and later runs send an "update" action that
 * replaces those properties on the same post. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
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

static json_t *properties(const struct ck_pub *p, const json_t *conf)
{
    json_t *cats = json_copy(json_object_get(conf, "categories"));
    if (cats == NULL)
        cats = json_pack("[s]", p->s->hashtag);
    return json_pack("{s:[s] s:[{s:s}] s:o}", "name", p->title, "content", "html", p->html,
                     "category", cats);
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
    json_t *props = rc == 0 ? properties(p, conf) : NULL, *body = NULL;
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
        } else {
            rc = ck_pub_record(p, "micropub", json_pack("{s:s}", "url", abs), err);
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
                rc = ck_pub_record(p, "micropub", json_pack("{s:s}", "url", abs), err);
            if (rc == 0)
                fprintf(p->out, "micropub: updated %s\n", abs ? abs : url);
            free(abs);
        }
    }
    ck_response_finish(&resp);
    json_decref(props);
    json_decref(body);
    return rc;
}
