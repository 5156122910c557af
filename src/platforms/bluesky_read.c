/* Bluesky's read side: the searchPosts and getPostThread requests and answers,
 * the checks every item passes, and the ops of the current platform interface
 * (see bluesky.h). Normalising is bluesky_norm.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluesky_int.h"
#include "chatkeeper/timeutil.h"

#define MAX_THREAD_DEPTH 1000

/* ---- requests ---- */

int ck_bluesky_search_request(const char *base_url, const char *access_jwt,
                              const struct ck_bluesky_search *q, struct ck_request *out,
                              struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    const char *tag = q != NULL ? q->hashtag : NULL;
    if (tag != NULL && tag[0] == '#')
        tag++; /* "#uklibchat" and "uklibchat" name the same tag */
    if (q == NULL || ((tag == NULL || tag[0] == '\0') && (q->q == NULL || q->q[0] == '\0')))
        return ck_error_set(err, CK_EINVAL, "bluesky: search needs a hashtag or a query");
    int limit = q->limit > 0 && q->limit < CK_BLUESKY_MAX_LIMIT ? q->limit : CK_BLUESKY_MAX_LIMIT;
    char limit_s[16], since[32], until[32];
    snprintf(limit_s, sizeof limit_s, "%d", limit);
    struct ck_sbuf query = {0}, hq = {0};
    if (q->q == NULL) {
        ck_sbuf_str(&hq, "#");
        ck_sbuf_str(&hq, tag);
    }
    ck_sbuf_param(&query, "q", q->q != NULL ? q->q : hq.s != NULL ? hq.s : "");
    query.oom |= hq.oom;
    free(hq.s);
    ck_sbuf_param(&query, "sort", "latest");
    ck_sbuf_param(&query, "limit", limit_s);
    if (q->tag_filter && tag != NULL && tag[0] != '\0')
        ck_sbuf_param(&query, "tag", tag);
    if (q->since_ms != INT64_MIN) {
        ck_time_format_rfc3339(q->since_ms, since);
        ck_sbuf_param(&query, "since", since);
    }
    if (q->until_ms != INT64_MIN) {
        ck_time_format_rfc3339(q->until_ms, until);
        ck_sbuf_param(&query, "until", until);
    }
    ck_sbuf_param(&query, "cursor", q->cursor);
    return ck_bsky_request(base_url, "app.bsky.feed.searchPosts", "GET", access_jwt, &query, NULL,
                           out, err);
}

int ck_bluesky_thread_request(const char *base_url, const char *access_jwt, const char *uri,
                              int depth, struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (ck_bluesky_uri_split(uri, NULL, NULL, NULL) != 0)
        return ck_error_set(err, CK_EINVAL, "bluesky: thread needs a post's at:// uri");
    char depth_s[16];
    snprintf(depth_s, sizeof depth_s, "%d",
             depth >= 0 && depth <= MAX_THREAD_DEPTH ? depth : MAX_THREAD_DEPTH);
    struct ck_sbuf query = {0};
    ck_sbuf_param(&query, "uri", uri);
    ck_sbuf_param(&query, "depth", depth_s);
    ck_sbuf_param(&query, "parentHeight", "0");
    return ck_bsky_request(base_url, "app.bsky.feed.getPostThread", "GET", access_jwt, &query, NULL,
                           out, err);
}

/* ---- item checks ---- */

const char *ck_bsky_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

bool ck_bsky_type_is(const json_t *o, const char *type)
{
    const char *t = ck_bsky_str(o, "$type");
    return t != NULL && strcmp(t, type) == 0;
}

/* A PostView we can use: an object with an at:// uri, a cid, an author with a
 * DID (the uri's) and a handle, and a record object. */
bool ck_bsky_post_view_ok(const json_t *p)
{
    const json_t *author = json_object_get(p, "author");
    const char *uri = ck_bsky_str(p, "uri"), *did = ck_bsky_str(author, "did");
    char *authority = NULL;
    if (!json_is_object(p) || ck_bsky_str(p, "cid") == NULL || !json_is_object(author) ||
        ck_bsky_str(author, "handle") == NULL || !json_is_object(json_object_get(p, "record")) ||
        !ck_bsky_did_ok(did) || ck_bluesky_uri_split(uri, &authority, NULL, NULL) != 0)
        return false;
    bool same = strcmp(authority, did) == 0;
    free(authority);
    return same;
}

const json_t *ck_bsky_repost_reason(const json_t *item)
{
    const json_t *reason = json_object_get(item, "reason");
    return ck_bsky_type_is(reason, "app.bsky.feed.defs#reasonRepost") ? reason : NULL;
}

/* A FeedViewPost: {post, reason?}; a repost needs its own record's uri and a reposter. */
bool ck_bsky_feed_item_ok(const json_t *item)
{
    if (!json_is_object(item) || !ck_bsky_post_view_ok(json_object_get(item, "post")))
        return false;
    const json_t *reason = ck_bsky_repost_reason(item);
    if (reason == NULL)
        return true;
    const json_t *by = json_object_get(reason, "by");
    return ck_bluesky_uri_split(ck_bsky_str(reason, "uri"), NULL, NULL, NULL) == 0 &&
           ck_bsky_did_ok(ck_bsky_str(by, "did")) && ck_bsky_str(by, "handle") != NULL;
}

void ck_bluesky_page_finish(struct ck_bluesky_page *p)
{
    if (p == NULL)
        return;
    json_decref(p->posts);
    free(p->cursor);
    memset(p, 0, sizeof *p);
}

static bool cursor_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 1024)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int ck_bluesky_parse_search(const struct ck_response *resp, struct ck_bluesky_page *out,
                            struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root;
    int rc = ck_bsky_load(resp, "search", &root, err);
    if (rc != 0)
        return rc;
    const json_t *posts = json_object_get(root, "posts");
    const json_t *feed = json_object_get(root, "feed");
    const json_t *cursor = json_object_get(root, "cursor");
    const json_t *list = json_is_array(posts) ? posts : feed;
    if (!json_is_array(list) ||
        (cursor != NULL && !json_is_null(cursor) &&
         !(json_is_string(cursor) && cursor_ok(json_string_value(cursor))))) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE,
                            "bluesky: search answer has no posts array or a bad cursor");
    }
    out->posts = json_array();
    if (out->posts == NULL ||
        (json_is_string(cursor) && (out->cursor = strdup(json_string_value(cursor))) == NULL)) {
        json_decref(root);
        ck_bluesky_page_finish(out);
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *item = json_array_get(list, i);
        bool ok = list == posts ? ck_bsky_post_view_ok(item) : ck_bsky_feed_item_ok(item);
        if (!ok || json_array_size(out->posts) >= CK_BLUESKY_MAX_ITEMS ||
            json_array_append(out->posts, item) != 0)
            out->skipped++;
    }
    json_decref(root);
    return 0;
}

/* Depth-first through a threadViewPost's replies. */
static void flatten(const json_t *node, json_t *out, int depth);

void ck_bsky_thread_flatten(const json_t *node, json_t *out)
{
    flatten(node, out, 0);
}

static void flatten(const json_t *node, json_t *out, int depth)
{
    const json_t *replies = json_object_get(node, "replies");
    if (depth > MAX_THREAD_DEPTH || !json_is_array(replies))
        return;
    for (size_t i = 0; i < json_array_size(replies); i++) {
        const json_t *r = json_array_get(replies, i);
        if (json_array_size(out) >= CK_BLUESKY_MAX_ITEMS)
            return;
        if (!json_is_object(r))
            continue;
        json_t *post = json_object_get(r, "post");
        if (ck_bsky_post_view_ok(post))
            json_array_append(out, post);
        flatten(r, out, depth + 1); /* notFound/blocked have no replies: nothing below */
    }
}

int ck_bluesky_parse_thread(const struct ck_response *resp, json_t **out, struct ck_error *err)
{
    *out = NULL;
    json_t *root;
    int rc = ck_bsky_load(resp, "thread", &root, err);
    if (rc != 0)
        return rc;
    const json_t *thread = json_object_get(root, "thread");
    if (!json_is_object(thread)) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "bluesky: thread answer has no thread object");
    }
    *out = json_array();
    if (*out == NULL) {
        json_decref(root);
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    flatten(thread, *out, 0);
    json_decref(root);
    return 0;
}

/* ---- resolving a handle (mention facets) ---- */

int ck_bluesky_resolve_handle_request(const char *base_url, const char *token, const char *handle,
                                      struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (handle == NULL || handle[0] == '\0' || strlen(handle) > 253)
        return ck_error_set(err, CK_EINVAL, "bluesky: no handle to resolve");
    struct ck_sbuf q = {0};
    ck_sbuf_param(&q, "handle", handle);
    return ck_bsky_request(base_url, "com.atproto.identity.resolveHandle", "GET", token, &q, NULL,
                           out, err);
}

int ck_bluesky_parse_resolve_handle(const struct ck_response *resp, char **did_out,
                                    struct ck_error *err)
{
    *did_out = NULL;
    /* An unknown handle is a 400 InvalidRequest "Unable to resolve handle"
     * (HandleNotFound in newer lexicons): no such account, not a fault. */
    if (resp->status == 400 || resp->status == 404) {
        char text[160];
        ck_bluesky_error_text(resp, text, sizeof text);
        if (strstr(text, "InvalidRequest") != NULL || strstr(text, "HandleNotFound") != NULL ||
            strstr(text, "NotFound") != NULL)
            return ck_error_set(err, CK_ENOTFOUND, "bluesky: resolveHandle: %s", text);
    }
    json_t *root;
    int rc = ck_bsky_load(resp, "resolveHandle", &root, err);
    if (rc != 0)
        return rc;
    const char *did = ck_bsky_str(root, "did");
    if (!ck_bsky_did_ok(did)) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "bluesky: resolveHandle: the answer has no DID");
    }
    *did_out = strdup(did);
    json_decref(root);
    return *did_out != NULL ? 0 : ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
}
