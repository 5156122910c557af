/* Mastodon's streaming API, hashtag stream, over server-sent events. Pure:
 * the request as data, one parsed event at a time as data. Every status is
 * checked as a timeline page's items are (repaired bytes, object, string id):
 * the stream is as untrusted as any response. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/mastodon.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/sbuf.h"

/* An id this long or with these bytes is no id we could have journaled. */
#define MAX_ID_LEN 64

void ck_stream_item_finish(struct ck_stream_item *it)
{
    if (it == NULL)
        return;
    json_decref(it->item);
    free(it->id);
    memset(it, 0, sizeof *it);
}

int ck_mastodon_stream_request(const char *base_url, const char *token, const char *hashtag,
                               struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || hashtag == NULL)
        return ck_error_set(err, CK_EINVAL, "mastodon: base URL and hashtag are required");
    if (hashtag[0] == '#')
        hashtag++;
    if (hashtag[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "mastodon: empty hashtag");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/api/v1/streaming/hashtag?tag=");
    ck_sbuf_pct(&b, hashtag);
    return ck_mastodon_get_request(&b, token, "text/event-stream", out, err);
}

int ck_mastodon_stream_base_request(const char *base_url, int attempt, struct ck_request *out,
                                    struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || base_url[0] == '\0' || attempt < 0 || attempt > 1)
        return ck_error_set(err, CK_EINVAL, "mastodon: base URL is required");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, attempt == 0 ? "/api/v2/instance" : "/api/v1/instance");
    /* Public: the token is not needed to ask, so it is not sent. */
    return ck_mastodon_get_request(&b, NULL, "application/json", out, err);
}

static bool has_scheme(const char *url, const char *scheme, size_t *rest)
{
    size_t n = strlen(scheme);
    if (strncasecmp(url, scheme, n) != 0 || strncmp(url + n, "://", 3) != 0)
        return false;
    *rest = n + 3;
    return true;
}

int ck_mastodon_parse_stream_base(const struct ck_response *resp, const char *base_url, char **out,
                                  struct ck_error *err)
{
    *out = NULL;
    if (resp->status < 200 || resp->status > 299)
        return ck_error_set(err, CK_EHTTP, "mastodon: instance: HTTP status %ld", resp->status);
    json_error_t je;
    json_t *root = resp->body != NULL ? json_loadb(resp->body, resp->body_len, 0, &je) : NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "mastodon: instance: not a JSON object");
    }
    /* v2: configuration.urls.streaming; v1: urls.streaming_api */
    const char *url = json_string_value(json_object_get(
        json_object_get(json_object_get(root, "configuration"), "urls"), "streaming"));
    if (url == NULL)
        url = json_string_value(json_object_get(json_object_get(root, "urls"), "streaming_api"));
    int rc = 0;
    size_t rest = 0;
    const char *scheme = NULL;
    /* Cleartext only where the instance itself is asked in cleartext (a
     * loopback test server): the stream carries the token. */
    bool plain_ok = base_url != NULL && strncasecmp(base_url, "http://", 7) == 0;
    if (url == NULL || url[0] == '\0')
        rc = ck_error_set(err, CK_ENOTFOUND, "mastodon: the instance names no streaming URL");
    else if (has_scheme(url, "wss", &rest) || has_scheme(url, "https", &rest))
        scheme = "https://";
    else if ((has_scheme(url, "ws", &rest) || has_scheme(url, "http", &rest)) && plain_ok)
        scheme = "http://";
    else
        rc = ck_error_set(err, CK_EPARSE,
                          "mastodon: the instance's streaming URL is not a secure WebSocket URL");
    size_t len = rc == 0 ? strlen(url + rest) : 0;
    while (len > 0 && url[rest + len - 1] == '/')
        len--;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        unsigned char c = (unsigned char)url[rest + i];
        if (c <= ' ' || c == 127 || c == '"' || c == '\\' || c == '?' || c == '#')
            rc =
                ck_error_set(err, CK_EPARSE, "mastodon: the instance's streaming URL is malformed");
    }
    if (rc == 0 && (len == 0 || url[rest] == '/'))
        rc = ck_error_set(err, CK_EPARSE, "mastodon: the instance's streaming URL has no host");
    if (rc == 0) {
        struct ck_sbuf b = {0};
        ck_sbuf_str(&b, scheme);
        ck_sbuf_put(&b, url + rest, len);
        if (b.oom) {
            free(b.s);
            rc = ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
        } else {
            *out = b.s;
        }
    }
    json_decref(root);
    return rc;
}

static int parse_status(const char *data, size_t len, struct ck_stream_item *out,
                        struct ck_error *err)
{
    struct ck_json_repaired fx;
    if (ck_json_repair(data, len, &fx) != 0)
        return ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
    json_error_t je;
    json_t *root = fx.complete ? json_loadb(fx.text, fx.len, 0, &je) : NULL;
    size_t repairs = fx.repairs;
    ck_json_repaired_finish(&fx);
    if (root == NULL)
        return ck_error_set(err, CK_EPARSE, "mastodon: a stream event's status is not JSON");
    const char *id = json_string_value(json_object_get(root, "id"));
    if (!json_is_object(root) || id == NULL || id[0] == '\0') {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "mastodon: a stream event's status has no id");
    }
    out->item = root;
    out->repaired = repairs > 0;
    return 0;
}

int ck_mastodon_parse_stream_event(const char *event, const char *data, size_t len,
                                   struct ck_stream_item *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (event == NULL || data == NULL)
        return ck_error_set(err, CK_EINVAL, "mastodon: no event");
    int rc = 0;
    if (strcmp(event, "update") == 0) {
        out->kind = CK_STREAM_UPDATE;
        rc = parse_status(data, len, out, err);
    } else if (strcmp(event, "status.update") == 0) {
        out->kind = CK_STREAM_EDIT;
        rc = parse_status(data, len, out, err);
    } else if (strcmp(event, "delete") == 0) {
        /* The id alone; some servers send it as a JSON string. */
        size_t a = 0, b = len;
        if (b >= 2 && data[0] == '"' && data[b - 1] == '"') {
            a = 1;
            b--;
        }
        int ok = b > a && b - a <= MAX_ID_LEN;
        for (size_t i = a; ok && i < b; i++) {
            char c = data[i];
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '-' || c == '_';
        }
        if (!ok)
            return ck_error_set(err, CK_EPARSE, "mastodon: a delete event without a status id");
        out->kind = CK_STREAM_DELETE;
        out->id = strndup(data + a, b - a);
        if (out->id == NULL)
            rc = ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
    } else {
        out->kind = CK_STREAM_OTHER;
    }
    if (rc != 0)
        ck_stream_item_finish(out);
    return rc;
}
