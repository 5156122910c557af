/* Mastodon's write side (see mastodon.h): the POST that publishes a run-sheet
 * step, the Status it returns, and the instance's character limit.
 *
 * Pure: nothing here touches sockets, files or the clock. Replies come from
 * servers and proxies we do not control, so every field is type-checked before
 * use and anything unexpected is CK_EPARSE, never a guess. */
#include "chatkeeper/mastodon.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/sbuf.h"

static bool has_line_break(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* base_url + path, without doubling the slash. */
static char *join_url(const char *base_url, const char *path)
{
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, path);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int ck_mastodon_post_request(const char *base_url, const char *token, const char *text,
                             const char *in_reply_to_id, const char *idempotency_key,
                             struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || base_url[0] == '\0' || text == NULL)
        return ck_error_set(err, CK_EINVAL, "mastodon: base URL and text are required");
    if (token == NULL || token[0] == '\0')
        return ck_error_set(err, CK_EAUTH, "mastodon: posting needs an access token");
    if (idempotency_key == NULL || idempotency_key[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "mastodon: posting needs an idempotency key");
    /* A CR or LF would let a value write extra header lines. */
    if (has_line_break(token) || has_line_break(idempotency_key))
        return ck_error_set(err, CK_EINVAL, "mastodon: token or key contains a line break");

    struct ck_sbuf body = {0};
    ck_sbuf_str(&body, "status=");
    ck_sbuf_pct(&body, text);
    ck_sbuf_str(&body, "&visibility=public");
    if (in_reply_to_id != NULL) {
        ck_sbuf_str(&body, "&in_reply_to_id=");
        ck_sbuf_pct(&body, in_reply_to_id);
    }
    out->url = join_url(base_url, "/api/v1/statuses");
    if (body.oom || out->url == NULL) {
        free(body.s);
        ck_request_finish(out);
        return ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
    }
    memcpy(out->method, "POST", 5);
    out->body = body.s;
    out->body_len = body.len;
    int rc = ck_request_add_header(out, "Accept", "application/json");
    if (rc == 0)
        rc = ck_request_add_header(out, "Content-Type", "application/x-www-form-urlencoded");
    if (rc == 0)
        rc = ck_request_add_header(out, "Idempotency-Key", idempotency_key);
    if (rc == 0)
        rc = ck_request_add_bearer(out, token);
    if (rc != 0) {
        ck_request_finish(out);
        return ck_error_set(err, rc, "mastodon: %s", ck_strerror(rc));
    }
    return 0;
}

/* The JSON object in a 2xx reply (new reference) or an error. */
static int load_object(const struct ck_response *resp, const char *what, json_t **out,
                       struct ck_error *err)
{
    *out = NULL;
    if (resp->status < 200 || resp->status > 299)
        return ck_error_set(err, CK_EHTTP, "mastodon: %s: HTTP status %ld", what, resp->status);
    if (resp->body == NULL || resp->body_len == 0)
        return ck_error_set(err, CK_EPARSE, "mastodon: %s: empty response body", what);
    json_error_t jerr;
    json_t *root = json_loadb(resp->body, resp->body_len, 0, &jerr);
    if (root == NULL)
        return ck_error_set(err, CK_EPARSE, "mastodon: %s: not JSON: %s (line %d column %d)", what,
                            jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "mastodon: %s: not a JSON object", what);
    }
    *out = root;
    return 0;
}

int ck_mastodon_parse_status(const struct ck_response *resp, char **id_out, char **url_out,
                             struct ck_error *err)
{
    *id_out = NULL;
    *url_out = NULL;
    json_t *root;
    int rc = load_object(resp, "posted status", &root, err);
    if (rc < 0)
        return rc;
    const json_t *id = json_object_get(root, "id");
    const json_t *url = json_object_get(root, "url");
    if (url == NULL || json_is_null(url))
        url = json_object_get(root, "uri");
    if (!json_is_string(id) || json_string_length(id) == 0 ||
        strlen(json_string_value(id)) != json_string_length(id)) {
        rc = ck_error_set(err, CK_EPARSE, "mastodon: posted status has no string id");
    } else if (!json_is_string(url) || json_string_length(url) == 0) {
        rc = ck_error_set(err, CK_EPARSE, "mastodon: posted status %.40s has no url",
                          json_string_value(id));
    } else {
        *id_out = strdup(json_string_value(id));
        *url_out = strdup(json_string_value(url));
        if (*id_out == NULL || *url_out == NULL) {
            free(*id_out);
            free(*url_out);
            *id_out = *url_out = NULL;
            rc = ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
        }
    }
    json_decref(root);
    return rc;
}

void ck_mastodon_error_text(const struct ck_response *resp, char *buf, size_t n)
{
    buf[0] = '\0';
    if (resp == NULL || resp->body == NULL || resp->body_len == 0)
        return;
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *msg = json_string_value(json_object_get(root, "error"));
    size_t o = 0;
    for (const char *p = msg; p != NULL && *p != '\0' && o + 1 < n; p++)
        buf[o++] = ((unsigned char)*p < 32 || *p == 127) ? ' ' : *p;
    /* Cut before a UTF-8 sequence, not inside it: while the next byte not
     * copied continues a sequence, drop what was copied of that sequence. */
    while (msg != NULL && o > 0 && ((unsigned char)msg[o] & 0xC0) == 0x80)
        o--;
    buf[o] = '\0';
    json_decref(root);
}

int ck_mastodon_instance_request(const char *base_url, const char *token, struct ck_request *out,
                                 struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || base_url[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "mastodon: base URL is required");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/api/v2/instance");
    /* An empty token is none: no "Authorization: Bearer " is sent. */
    return ck_mastodon_get_request(&b, token != NULL && token[0] != '\0' ? token : NULL,
                                   "application/json", out, err);
}

int ck_mastodon_parse_instance_max_chars(const struct ck_response *resp, long *max_out,
                                         struct ck_error *err)
{
    *max_out = 0;
    json_t *root;
    int rc = load_object(resp, "instance", &root, err);
    if (rc < 0)
        return rc;
    const json_t *conf = json_object_get(root, "configuration");
    const json_t *st = json_object_get(conf, "statuses");
    const json_t *max = json_object_get(st, "max_characters");
    if (!json_is_integer(max) || json_integer_value(max) <= 0 ||
        json_integer_value(max) > 100000000) {
        rc = ck_error_set(err, CK_EPARSE,
                          "mastodon: instance has no configuration.statuses.max_characters");
    } else {
        *max_out = (long)json_integer_value(max);
    }
    json_decref(root);
    return rc;
}
