/* Bluesky: XRPC requests as data, sessions, error answers, rate-limit headers,
 * at:// URIs, getRecord and TIDs (see bluesky.h). Posting is bluesky_post.c,
 * reading (pages, threads, normalising) bluesky_read.c.
 *
 * Pure: no sockets, files or clock. Secrets (app password, JWTs) go into
 * request bodies and headers only, never into an error message, and are wiped
 * from temporary buffers. */
#include "chatkeeper/bluesky.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluesky_int.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/secret.h"
#include "chatkeeper/timeutil.h"

static bool has_line_break(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") != NULL;
}

int ck_bsky_request(const char *base_url, const char *method, const char *http_method,
                    const char *token, struct ck_sbuf *query, char *body, struct ck_request *out,
                    struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || base_url[0] == '\0') {
        free(query->s);
        ck_secret_free(body);
        return ck_error_set(err, CK_EINVAL, "bluesky: base URL is required");
    }
    if (has_line_break(token)) {
        free(query->s);
        ck_secret_free(body);
        return ck_error_set(err, CK_EINVAL, "bluesky: token contains a line break");
    }
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/xrpc/");
    ck_sbuf_str(&b, method);
    if (query->s != NULL)
        ck_sbuf_str(&b, query->s);
    bool oom = b.oom || query->oom;
    free(query->s);
    if (oom) {
        free(b.s);
        ck_secret_free(body);
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    snprintf(out->method, sizeof out->method, "%s", http_method);
    out->url = b.s;
    out->body = body;
    out->body_len = body != NULL ? strlen(body) : 0;
    int rc = ck_request_add_header(out, "Accept", "application/json");
    if (rc == 0 && body != NULL)
        rc = ck_request_add_header(out, "Content-Type", "application/json");
    if (rc == 0 && token != NULL)
        rc = ck_request_add_bearer(out, token);
    if (rc != 0) {
        if (out->body != NULL)
            memset(out->body, 0, out->body_len);
        ck_request_finish(out);
        return ck_error_set(err, rc, "bluesky: %s", ck_strerror(rc));
    }
    return 0;
}

/* ---- answers ---- */

static const char *error_name(const json_t *root)
{
    return json_string_value(json_object_get(root, "error"));
}

static json_t *load_body(const struct ck_response *resp)
{
    if (resp->body == NULL || resp->body_len == 0)
        return NULL;
    return json_loadb(resp->body, resp->body_len, 0, NULL);
}

enum ck_bluesky_error_kind ck_bluesky_error_kind(const struct ck_response *resp)
{
    if (resp->status >= 200 && resp->status <= 299)
        return CK_BLUESKY_ERR_NONE;
    json_t *root = load_body(resp);
    const char *name = error_name(root);
    enum ck_bluesky_error_kind k = CK_BLUESKY_ERR_OTHER;
    if (name != NULL && strcmp(name, "ExpiredToken") == 0)
        k = CK_BLUESKY_ERR_EXPIRED;
    else if (name != NULL && strcmp(name, "InvalidToken") == 0)
        k = CK_BLUESKY_ERR_INVALID_TOKEN;
    else if (name != NULL && strcmp(name, "AuthenticationRequired") == 0)
        k = CK_BLUESKY_ERR_AUTH_REQUIRED;
    else if ((name != NULL && strcmp(name, "RateLimitExceeded") == 0) || resp->status == 429)
        k = CK_BLUESKY_ERR_RATE_LIMITED;
    else if (name != NULL && (strcmp(name, "RecordNotFound") == 0 || strcmp(name, "NotFound") == 0))
        k = CK_BLUESKY_ERR_NOT_FOUND;
    else if (resp->status == 401)
        k = CK_BLUESKY_ERR_AUTH_REQUIRED;
    else if (resp->status == 0 && name == NULL)
        k = CK_BLUESKY_ERR_NONE; /* status not known (tests, saved pages) */
    json_decref(root);
    return k;
}

static void put_clean(char *buf, size_t n, size_t *at, const char *s)
{
    for (; s != NULL && *s != '\0' && *at + 1 < n; s++)
        buf[(*at)++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
    buf[*at] = '\0';
}

void ck_bluesky_error_text(const struct ck_response *resp, char *buf, size_t n)
{
    buf[0] = '\0';
    json_t *root = load_body(resp);
    const char *name = error_name(root);
    const char *msg = json_string_value(json_object_get(root, "message"));
    size_t at = 0;
    put_clean(buf, n, &at, name);
    if (name != NULL && msg != NULL)
        put_clean(buf, n, &at, ": ");
    put_clean(buf, n, &at, msg);
    /* Cutting may split a UTF-8 character: drop the partial tail. */
    size_t end = at;
    while (end > 0 && ((unsigned char)buf[end - 1] & 0xC0) == 0x80)
        end--;
    if (end > 0 && (unsigned char)buf[end - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)buf[end - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (at - (end - 1) < need)
            buf[end - 1] = '\0';
    }
    json_decref(root);
}

int ck_bsky_load(const struct ck_response *resp, const char *what, json_t **out,
                 struct ck_error *err)
{
    *out = NULL;
    if (resp->status != 0 && (resp->status < 200 || resp->status > 299)) {
        enum ck_bluesky_error_kind k = ck_bluesky_error_kind(resp);
        char text[160];
        ck_bluesky_error_text(resp, text, sizeof text);
        int code = k == CK_BLUESKY_ERR_EXPIRED || k == CK_BLUESKY_ERR_INVALID_TOKEN ||
                           k == CK_BLUESKY_ERR_AUTH_REQUIRED
                       ? CK_EAUTH
                   : k == CK_BLUESKY_ERR_NOT_FOUND    ? CK_ENOTFOUND
                   : k == CK_BLUESKY_ERR_RATE_LIMITED ? CK_ERATELIMIT
                                                      : CK_EHTTP;
        return ck_error_set(err, code, "bluesky: %s: HTTP status %ld%s%s", what, resp->status,
                            text[0] != '\0' ? ": " : "", text);
    }
    if (resp->body == NULL || resp->body_len == 0)
        return ck_error_set(err, CK_EPARSE, "bluesky: %s: empty response body", what);
    json_error_t jerr;
    json_t *root = json_loadb(resp->body, resp->body_len, 0, &jerr);
    if (root == NULL)
        return ck_error_set(err, CK_EPARSE, "bluesky: %s: not JSON: %s (line %d column %d)", what,
                            jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "bluesky: %s: not a JSON object", what);
    }
    *out = root;
    return 0;
}

/* ---- sessions ---- */

void ck_bluesky_session_finish(struct ck_bluesky_session *s)
{
    if (s == NULL)
        return;
    ck_secret_free(s->access_jwt);
    ck_secret_free(s->refresh_jwt);
    free(s->did);
    free(s->handle);
    memset(s, 0, sizeof *s);
}

int ck_bluesky_create_session_request(const char *base_url, const char *identifier,
                                      const char *app_password, struct ck_request *out,
                                      struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (identifier == NULL || identifier[0] == '\0' || app_password == NULL ||
        app_password[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "bluesky: sign-in needs a handle and an app password");
    json_t *o = json_pack("{s:s, s:s}", "identifier", identifier, "password", app_password);
    if (o == NULL) /* NULL also for invalid UTF-8: never quote the values */
        return ck_error_set(
            err, CK_EINVAL,
            "bluesky: handle or app password is not valid UTF-8 (or out of memory)");
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (body == NULL)
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    struct ck_sbuf q = {0};
    return ck_bsky_request(base_url, "com.atproto.server.createSession", "POST", NULL, &q, body,
                           out, err);
}

int ck_bluesky_refresh_session_request(const char *base_url, const char *refresh_jwt,
                                       struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (refresh_jwt == NULL || refresh_jwt[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "bluesky: refresh needs a refresh token");
    struct ck_sbuf q = {0};
    return ck_bsky_request(base_url, "com.atproto.server.refreshSession", "POST", refresh_jwt, &q,
                           NULL, out, err);
}

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-' || c == '+')
        return 62;
    if (c == '_' || c == '/')
        return 63;
    return -1;
}

int64_t ck_bluesky_jwt_exp_ms(const char *jwt)
{
    if (jwt == NULL)
        return INT64_MIN;
    const char *p = strchr(jwt, '.');
    if (p == NULL)
        return INT64_MIN;
    p++;
    size_t n = strcspn(p, ".");
    if (p[n] != '.' || n == 0 || n > 8192)
        return INT64_MIN;
    unsigned char *dec = malloc(n);
    if (dec == NULL)
        return INT64_MIN;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '=')
            break;
        int v = b64url_val(p[i]);
        if (v < 0) {
            free(dec);
            return INT64_MIN;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dec[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    json_t *claims = json_loadb((const char *)dec, o, 0, NULL);
    free(dec);
    const json_t *exp = json_object_get(claims, "exp");
    int64_t ms = INT64_MIN;
    if (json_is_integer(exp) && json_integer_value(exp) > 0 &&
        json_integer_value(exp) < INT64_MAX / 1000)
        ms = (int64_t)json_integer_value(exp) * 1000;
    json_decref(claims);
    return ms;
}

bool ck_bluesky_session_needs_refresh(const struct ck_bluesky_session *s, int64_t now_ms,
                                      int64_t margin_ms)
{
    if (s == NULL || s->access_exp_ms == INT64_MIN)
        return false;
    return s->access_exp_ms - now_ms <= margin_ms;
}

static bool dup_str(char **dst, const json_t *v)
{
    *dst = strdup(json_string_value(v));
    return *dst != NULL;
}

int ck_bluesky_parse_session(const struct ck_response *resp, struct ck_bluesky_session *out,
                             struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root;
    int rc = ck_bsky_load(resp, "session", &root, err);
    if (rc != 0)
        return rc == CK_ENOTFOUND ? CK_EHTTP : rc;
    const json_t *acc = json_object_get(root, "accessJwt");
    const json_t *ref = json_object_get(root, "refreshJwt");
    const json_t *did = json_object_get(root, "did");
    const json_t *handle = json_object_get(root, "handle");
    /* The field is named, never its value. */
    const char *bad = !json_is_string(acc) || json_string_length(acc) == 0   ? "accessJwt"
                      : !json_is_string(ref) || json_string_length(ref) == 0 ? "refreshJwt"
                      : !ck_bsky_did_ok(json_string_value(did))              ? "did"
                      : !json_is_string(handle)                              ? "handle"
                                                                             : NULL;
    if (bad == NULL &&
        (has_line_break(json_string_value(acc)) || has_line_break(json_string_value(ref))))
        bad = "accessJwt/refreshJwt (line break)";
    if (bad != NULL) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "bluesky: session: missing or bad %s", bad);
    }
    bool ok = dup_str(&out->access_jwt, acc) && dup_str(&out->refresh_jwt, ref) &&
              dup_str(&out->did, did) && dup_str(&out->handle, handle);
    json_decref(root);
    if (!ok) {
        ck_bluesky_session_finish(out);
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    out->access_exp_ms = ck_bluesky_jwt_exp_ms(out->access_jwt);
    out->refresh_exp_ms = ck_bluesky_jwt_exp_ms(out->refresh_jwt);
    return 0;
}

/* ---- rate limits ---- */

int ck_bluesky_ratelimit(const struct ck_response *resp, struct ck_ratelimit *rl)
{
    long long limit, remaining, reset;
    if (!ck_response_header_count(resp, "ratelimit-limit", &limit) ||
        !ck_response_header_count(resp, "ratelimit-remaining", &remaining) ||
        !ck_response_header_count(resp, "ratelimit-reset", &reset) || limit > LONG_MAX ||
        remaining > LONG_MAX || reset > INT64_MAX / 1000)
        return CK_EPARSE;
    rl->known = true;
    rl->limit = (long)limit;
    rl->remaining = (long)remaining;
    rl->reset_ms = (int64_t)reset * 1000;
    return 0;
}

/* ---- at:// URIs and getRecord ---- */

static bool part_ok(const char *s, size_t n, const char *allowed)
{
    if (n == 0 || n > 512)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && strchr(allowed, s[i]) == NULL)
            return false;
    return true;
}

bool ck_bsky_rkey_ok(const char *s)
{
    return s != NULL && part_ok(s, strlen(s), "._:~-") && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0;
}

bool ck_bsky_did_ok(const char *s)
{
    return s != NULL && strncmp(s, "did:", 4) == 0 && part_ok(s, strlen(s), "._:%-") &&
           strlen(s) <= 2048;
}

int ck_bluesky_uri_split(const char *uri, char **authority, char **collection, char **rkey)
{
    char **outs[3] = {authority, collection, rkey};
    for (int i = 0; i < 3; i++)
        if (outs[i] != NULL)
            *outs[i] = NULL;
    if (uri == NULL || strncmp(uri, "at://", 5) != 0)
        return CK_EINVAL;
    const char *p = uri + 5;
    const char *s1 = strchr(p, '/');
    if (s1 == NULL)
        return CK_EINVAL;
    const char *s2 = strchr(s1 + 1, '/');
    if (s2 == NULL || strchr(s2 + 1, '/') != NULL)
        return CK_EINVAL;
    const char *parts[3] = {p, s1 + 1, s2 + 1};
    size_t lens[3] = {(size_t)(s1 - p), (size_t)(s2 - s1 - 1), strlen(s2 + 1)};
    if (!part_ok(parts[0], lens[0], "._:%-") || !part_ok(parts[1], lens[1], ".-") ||
        !part_ok(parts[2], lens[2], "._:~-"))
        return CK_EINVAL;
    for (int i = 0; i < 3; i++) {
        if (outs[i] == NULL)
            continue;
        *outs[i] = strndup(parts[i], lens[i]);
        if (*outs[i] == NULL) {
            for (int k = 0; k < i; k++)
                if (outs[k] != NULL) {
                    free(*outs[k]);
                    *outs[k] = NULL;
                }
            return CK_ENOMEM;
        }
    }
    return 0;
}

int ck_bluesky_get_record_request(const char *base_url, const char *access_jwt, const char *repo,
                                  const char *rkey, struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (repo == NULL || repo[0] == '\0' || !ck_bsky_rkey_ok(rkey))
        return ck_error_set(err, CK_EINVAL, "bluesky: getRecord needs a repo and a valid rkey");
    struct ck_sbuf q = {0};
    ck_sbuf_param(&q, "repo", repo);
    ck_sbuf_param(&q, "collection", "app.bsky.feed.post");
    ck_sbuf_param(&q, "rkey", rkey);
    return ck_bsky_request(base_url, "com.atproto.repo.getRecord", "GET", access_jwt, &q, NULL, out,
                           err);
}

void ck_bluesky_record_finish(struct ck_bluesky_record *r)
{
    if (r == NULL)
        return;
    free(r->uri);
    free(r->cid);
    free(r->text);
    memset(r, 0, sizeof *r);
}

int ck_bluesky_parse_record(const struct ck_response *resp, struct ck_bluesky_record *out,
                            struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    out->created_ms = INT64_MIN;
    json_t *root;
    int rc = ck_bsky_load(resp, "getRecord", &root, err);
    if (rc != 0)
        return rc == CK_ENOTFOUND || rc == CK_EHTTP || rc == CK_EPARSE || rc == CK_ENOMEM
                   ? rc
                   : CK_EHTTP;
    const json_t *uri = json_object_get(root, "uri");
    const json_t *cid = json_object_get(root, "cid");
    const json_t *value = json_object_get(root, "value");
    const json_t *text = json_object_get(value, "text");
    const json_t *created = json_object_get(value, "createdAt");
    if (!json_is_string(uri) || ck_bluesky_uri_split(json_string_value(uri), NULL, NULL, NULL) ||
        !json_is_object(value) || (cid != NULL && !json_is_string(cid)) ||
        (text != NULL && !json_is_string(text))) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "bluesky: getRecord: no at:// uri or no record value");
    }
    int64_t ms;
    if (json_is_string(created) && ck_time_parse_rfc3339(json_string_value(created), &ms) == 0)
        out->created_ms = ms;
    bool ok = dup_str(&out->uri, uri) && (cid == NULL || dup_str(&out->cid, cid)) &&
              (text == NULL || dup_str(&out->text, text));
    json_decref(root);
    if (!ok) {
        ck_bluesky_record_finish(out);
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    return 0;
}

/* ---- TIDs ---- */

int ck_bluesky_tid(int64_t time_us, unsigned clock_id, char buf[14])
{
    static const char alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
    buf[0] = '\0';
    if (time_us < 0 || time_us >= (INT64_C(1) << 53) || clock_id > 1023)
        return CK_EINVAL;
    /* 1 zero bit, 53 bits of microseconds, 10 bits of clock id; 13 groups of
     * 5 bits from the top (the first group has only 4 bits: 65 - 64). */
    uint64_t v = ((uint64_t)time_us << 10) | clock_id;
    for (int i = 0; i < 13; i++)
        buf[i] = alphabet[(v >> (60 - 5 * i)) & 31];
    buf[13] = '\0';
    return 0;
}
