/* Bluesky's read side: the searchPosts and getPostThread requests and answers,
 * and PostView / FeedViewPost -> ck_message (see bluesky.h).
 *
 * Text: the record's text with link facets turned into their full URLs (a
 * client shows "osf.io/v87fn" or "example.com/long-pa..." for the link), then
 * one line per embed, as for Mastodon's media: "[image: ALT] URL",
 * "[link: TITLE] URL", "[video: ALT] URL", "[quote: @handle] URL". A facet
 * whose byte range is out of bounds, overlaps another or splits a UTF-8
 * character is ignored (the text stays as written). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluesky_int.h"
#include "chatkeeper/timeutil.h"
#include "fields.h"

#define MAX_FACETS 256
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
    ck_bsky_param(&query, "q", q->q != NULL ? q->q : hq.s != NULL ? hq.s : "");
    query.oom |= hq.oom;
    free(hq.s);
    ck_bsky_param(&query, "sort", "latest");
    ck_bsky_param(&query, "limit", limit_s);
    if (q->tag_filter && tag != NULL && tag[0] != '\0')
        ck_bsky_param(&query, "tag", tag);
    if (q->since_ms != INT64_MIN) {
        ck_time_format_rfc3339(q->since_ms, since);
        ck_bsky_param(&query, "since", since);
    }
    if (q->until_ms != INT64_MIN) {
        ck_time_format_rfc3339(q->until_ms, until);
        ck_bsky_param(&query, "until", until);
    }
    ck_bsky_param(&query, "cursor", q->cursor);
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
    ck_bsky_param(&query, "uri", uri);
    ck_bsky_param(&query, "depth", depth_s);
    ck_bsky_param(&query, "parentHeight", "0");
    return ck_bsky_request(base_url, "app.bsky.feed.getPostThread", "GET", access_jwt, &query,
                           NULL, out, err);
}

/* ---- item checks ---- */

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool type_is(const json_t *o, const char *type)
{
    const char *t = str(o, "$type");
    return t != NULL && strcmp(t, type) == 0;
}

/* A PostView we can use: an object with an at:// uri, a cid, an author with a
 * DID (the uri's) and a handle, and a record object. */
static bool post_view_ok(const json_t *p)
{
    const json_t *author = json_object_get(p, "author");
    const char *uri = str(p, "uri"), *did = str(author, "did");
    char *authority = NULL;
    if (!json_is_object(p) || str(p, "cid") == NULL || !json_is_object(author) ||
        str(author, "handle") == NULL || !json_is_object(json_object_get(p, "record")) ||
        !ck_bsky_did_ok(did) || ck_bluesky_uri_split(uri, &authority, NULL, NULL) != 0)
        return false;
    bool same = strcmp(authority, did) == 0;
    free(authority);
    return same;
}

static const json_t *repost_reason(const json_t *item)
{
    const json_t *reason = json_object_get(item, "reason");
    return type_is(reason, "app.bsky.feed.defs#reasonRepost") ? reason : NULL;
}

/* A FeedViewPost: {post, reason?}; a repost needs its own record's uri and a reposter. */
static bool feed_item_ok(const json_t *item)
{
    if (!json_is_object(item) || !post_view_ok(json_object_get(item, "post")))
        return false;
    const json_t *reason = repost_reason(item);
    if (reason == NULL)
        return true;
    const json_t *by = json_object_get(reason, "by");
    return ck_bluesky_uri_split(str(reason, "uri"), NULL, NULL, NULL) == 0 &&
           ck_bsky_did_ok(str(by, "did")) && str(by, "handle") != NULL;
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
    if (!json_is_array(list) || (cursor != NULL && !json_is_null(cursor) &&
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
        bool ok = list == posts ? post_view_ok(item) : feed_item_ok(item);
        if (!ok || json_array_size(out->posts) >= CK_BLUESKY_MAX_ITEMS ||
            json_array_append(out->posts, item) != 0)
            out->skipped++;
    }
    json_decref(root);
    return 0;
}

/* Depth-first through a threadViewPost's replies. */
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
        if (post_view_ok(post))
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

/* ---- item ids, times, versions ---- */

const char *ck_bluesky_item_id(const json_t *raw)
{
    const json_t *post = json_object_get(raw, "post");
    if (json_is_object(post)) {
        const json_t *reason = repost_reason(raw);
        return reason != NULL ? str(reason, "uri") : str(post, "uri");
    }
    return str(raw, "uri");
}

static int64_t time_of(const char *s)
{
    int64_t ms;
    return s != NULL && ck_time_parse_rfc3339(s, &ms) == 0 ? ms : INT64_MIN;
}

/* record.createdAt (what the author's client says), else indexedAt (when the
 * AppView saw it): a record with a bad clock still gets a time. */
static int64_t post_time(const json_t *post)
{
    int64_t ms = time_of(str(json_object_get(post, "record"), "createdAt"));
    return ms != INT64_MIN ? ms : time_of(str(post, "indexedAt"));
}

int64_t ck_bluesky_item_time(const json_t *raw)
{
    const json_t *post = json_object_get(raw, "post");
    if (json_is_object(post)) {
        const json_t *reason = repost_reason(raw);
        return reason != NULL ? time_of(str(reason, "indexedAt")) : post_time(post);
    }
    return post_time(raw);
}

const char *ck_bluesky_item_version(const json_t *raw)
{
    const json_t *post = json_object_get(raw, "post");
    if (json_is_object(post)) {
        const json_t *reason = repost_reason(raw);
        return reason != NULL ? str(reason, "cid") : str(post, "cid");
    }
    return str(raw, "cid");
}

/* TIDs (rkeys) sort by time; different authors' posts then by the whole URI. */
static int bluesky_id_cmp(const char *a, const char *b)
{
    const char *ra = strrchr(a, '/'), *rb = strrchr(b, '/');
    int c = ck_id_order(ra != NULL ? ra + 1 : a, rb != NULL ? rb + 1 : b);
    if (c != 0)
        return c;
    c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

/* ---- normalise ---- */

struct span {
    size_t start, end;
    const char *uri;
};

static bool boundary(const char *text, size_t len, size_t at)
{
    return at == len || (at < len && ((unsigned char)text[at] & 0xC0) != 0x80);
}

static bool uri_clean(const char *u)
{
    if (u == NULL || u[0] == '\0' || strlen(u) > 2048)
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p != '\0'; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* The link facets whose ranges are sound, in order, without overlaps. */
static size_t link_spans(const json_t *facets, const char *text, size_t len, struct span *spans)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(facets) && n < MAX_FACETS; i++) {
        const json_t *f = json_array_get(facets, i);
        const json_t *index = json_object_get(f, "index");
        const json_t *bs = json_object_get(index, "byteStart");
        const json_t *be = json_object_get(index, "byteEnd");
        const json_t *features = json_object_get(f, "features");
        if (!json_is_integer(bs) || !json_is_integer(be) || !json_is_array(features))
            continue;
        json_int_t s = json_integer_value(bs), e = json_integer_value(be);
        if (s < 0 || e <= s || (uint64_t)e > len || !boundary(text, len, (size_t)s) ||
            !boundary(text, len, (size_t)e))
            continue;
        for (size_t k = 0; k < json_array_size(features); k++) {
            const json_t *feat = json_array_get(features, k);
            if (type_is(feat, "app.bsky.richtext.facet#link") && uri_clean(str(feat, "uri"))) {
                spans[n++] = (struct span){(size_t)s, (size_t)e, str(feat, "uri")};
                break;
            }
        }
    }
    qsort(spans, n, sizeof spans[0], span_cmp);
    return n;
}

/* Whether the visible text is just the URL as a client shortens it: without
 * the scheme, maybe cut with "..." or "…". */
static bool shows_uri(const char *vis, size_t n, const char *uri)
{
    const char *bare = strstr(uri, "://");
    bare = bare != NULL ? bare + 3 : uri;
    if ((n == strlen(uri) && memcmp(vis, uri, n) == 0) ||
        (n == strlen(bare) && memcmp(vis, bare, n) == 0))
        return true;
    if (n > 3 && memcmp(vis + n - 3, "...", 3) == 0)
        n -= 3;
    else if (n > 3 && memcmp(vis + n - 3, "\xE2\x80\xA6", 3) == 0)
        n -= 3;
    else
        return false;
    return n > 0 && strncmp(bare, vis, n) == 0;
}

static void linked_text(struct ck_sbuf *b, const char *text, size_t len, const json_t *facets)
{
    struct span spans[MAX_FACETS];
    size_t n = link_spans(facets, text, len, spans), at = 0;
    for (size_t i = 0; i < n; i++) {
        if (spans[i].start < at)
            continue; /* overlaps the previous link: keep the text as written */
        ck_sbuf_put(b, text + at, spans[i].start - at);
        const char *vis = text + spans[i].start;
        size_t vn = spans[i].end - spans[i].start;
        if (shows_uri(vis, vn, spans[i].uri)) {
            ck_sbuf_str(b, spans[i].uri);
        } else {
            ck_sbuf_put(b, vis, vn);
            ck_sbuf_str(b, " (");
            ck_sbuf_str(b, spans[i].uri);
            ck_sbuf_str(b, ")");
        }
        at = spans[i].end;
    }
    ck_sbuf_put(b, text + at, len - at);
}

static bool handle_ok(const char *h)
{
    size_t n = strlen(h);
    return n >= 1 && n <= 253 && strcmp(h, "handle.invalid") != 0 &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

/* https://bsky.app/profile/WHO/post/RKEY, WHO the handle when it is sound,
 * else the DID (bsky.app takes both). rkey NULL: the profile. */
static void web_url(struct ck_sbuf *b, const char *handle, const char *did, const char *rkey)
{
    ck_sbuf_str(b, "https://bsky.app/profile/");
    ck_sbuf_str(b, handle != NULL && handle_ok(handle) ? handle : did);
    if (rkey != NULL) {
        ck_sbuf_str(b, "/post/");
        ck_sbuf_str(b, rkey);
    }
}

static void line(struct ck_sbuf *b, const char *kind, const char *label, const char *url)
{
    if (b->len > 0)
        ck_sbuf_str(b, "\n");
    ck_sbuf_str(b, "[");
    ck_sbuf_str(b, kind);
    if (label != NULL && label[0] != '\0') {
        ck_sbuf_str(b, ": ");
        ck_sbuf_str(b, label);
    }
    ck_sbuf_str(b, "]");
    if (url != NULL && url[0] != '\0') {
        ck_sbuf_str(b, " ");
        ck_sbuf_str(b, url);
    }
}

/* A quoted record (embed.record#view's record, or a strongRef in a raw record). */
static void quote_line(struct ck_sbuf *b, const json_t *rec, const char **quote_of)
{
    const char *uri = str(rec, "uri");
    char *did = NULL, *coll = NULL, *rkey = NULL;
    if (ck_bluesky_uri_split(uri, &did, &coll, &rkey) != 0)
        return;
    if (strcmp(coll, "app.bsky.feed.post") == 0) {
        const json_t *author = json_object_get(rec, "author");
        const char *handle = str(author, "handle");
        struct ck_sbuf url = {0}, label = {0};
        web_url(&url, handle, did, rkey);
        if (handle != NULL && handle_ok(handle)) {
            ck_sbuf_str(&label, "@");
            ck_sbuf_str(&label, handle);
        }
        const char *t = str(rec, "$type");
        bool gone = t != NULL && strcmp(t, "app.bsky.embed.record#viewRecord") != 0 &&
                    strstr(t, "#view") != NULL; /* viewNotFound, viewBlocked, viewDetached */
        line(b, gone ? "quote, unavailable" : "quote", label.s, url.s);
        b->oom |= url.oom || label.oom;
        free(url.s);
        free(label.s);
        *quote_of = uri;
    } else {
        line(b, "record", NULL, uri); /* a feed, a list, a starter pack */
    }
    free(did);
    free(coll);
    free(rkey);
}

/* One embed (view or raw record form) as text lines; recordWithMedia recurses once. */
static void embed_lines(struct ck_sbuf *b, const json_t *e, const char **quote_of, int depth)
{
    const char *t = str(e, "$type");
    if (t == NULL || depth > 2)
        return;
    if (strncmp(t, "app.bsky.embed.images", 21) == 0) {
        const json_t *images = json_object_get(e, "images");
        for (size_t i = 0; i < json_array_size(images) && i < 16; i++) {
            const json_t *im = json_array_get(images, i);
            const char *url = str(im, "fullsize");
            if (json_is_object(im))
                line(b, "image", str(im, "alt"), uri_clean(url) ? url : NULL);
        }
    } else if (strncmp(t, "app.bsky.embed.external", 23) == 0) {
        const json_t *ext = json_object_get(e, "external");
        const char *url = str(ext, "uri");
        if (json_is_object(ext))
            line(b, "link", str(ext, "title"), uri_clean(url) ? url : NULL);
    } else if (strncmp(t, "app.bsky.embed.video", 20) == 0) {
        const char *url = str(e, "playlist");
        line(b, "video", str(e, "alt"), uri_clean(url) ? url : NULL);
    } else if (strcmp(t, "app.bsky.embed.record#view") == 0 ||
               strcmp(t, "app.bsky.embed.record") == 0) {
        quote_line(b, json_object_get(e, "record"), quote_of);
    } else if (strncmp(t, "app.bsky.embed.recordWithMedia", 30) == 0) {
        const json_t *rec = json_object_get(e, "record");
        embed_lines(b, json_object_get(e, "media"), quote_of, depth + 1);
        /* {record: {record: viewRecord}} (view) or {record: strongRef} (raw) */
        const json_t *inner = json_object_get(rec, "record");
        quote_line(b, json_is_object(inner) ? inner : rec, quote_of);
    }
}

static int get_count(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return 0; /* counts are decoration: a missing or odd one is just 0 */
    json_int_t n = json_integer_value(v);
    return n < 0 ? 0 : n > INT_MAX ? INT_MAX : (int)n;
}

static char *prefixed(const char *prefix, const char *s)
{
    struct ck_sbuf b = {0};
    ck_sbuf_str(&b, prefix);
    ck_sbuf_str(&b, s);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static int normalise_post(struct ck_fields *c, const json_t *post, struct ck_message *out)
{
    if (!json_is_object(post))
        return ck_fields_bad(c, "not a JSON object");
    const char *uri = str(post, "uri");
    c->id = uri;
    if (!post_view_ok(post))
        return ck_fields_bad(c, "not a post view (uri, cid, author did and handle, record)");
    const json_t *author = json_object_get(post, "author");
    const json_t *record = json_object_get(post, "record");
    const char *did = str(author, "did"), *handle = str(author, "handle");
    const json_t *text_v = json_object_get(record, "text");
    if (text_v != NULL && !json_is_string(text_v))
        return ck_fields_bad(c, "record.text is not a string");
    int64_t created = post_time(post);
    if (created == INT64_MIN)
        return ck_fields_bad(c, "neither record.createdAt nor indexedAt is an RFC 3339 time");
    const char *text = text_v != NULL ? json_string_value(text_v) : "";
    /* jansson allows \u0000 inside a string: the text ends there. */
    size_t len = strlen(text);
    struct ck_sbuf b = {0};
    ck_sbuf_put(&b, "", 0);
    linked_text(&b, text, len, json_object_get(record, "facets"));
    const json_t *embed = json_object_get(post, "embed");
    const char *quote_of = NULL;
    embed_lines(&b, json_is_object(embed) ? embed : json_object_get(record, "embed"), &quote_of,
                0);
    const char *reply_to = str(json_object_get(json_object_get(record, "reply"), "parent"), "uri");
    if (ck_bluesky_uri_split(reply_to, NULL, NULL, NULL) != 0)
        reply_to = NULL;
    char *rkey = NULL;
    bool have_rkey = ck_bluesky_uri_split(uri, NULL, NULL, &rkey) == 0;
    struct ck_sbuf url = {0}, aurl = {0};
    web_url(&url, handle, did, rkey != NULL ? rkey : "");
    web_url(&aurl, handle, did, NULL);
    free(rkey);
    out->text = b.s;
    out->url = url.s;
    out->author.url = aurl.s;
    out->created_ms = created;
    out->replies = get_count(post, "replyCount");
    out->boosts = get_count(post, "repostCount");
    out->likes = get_count(post, "likeCount");
    out->author.handle = prefixed("@", handle_ok(handle) ? handle : did);
    const char *name = str(author, "displayName");
    bool ok = !b.oom && !url.oom && !aurl.oom && have_rkey && out->author.handle != NULL &&
              ck_fields_dup(&out->id, uri) && ck_fields_dup(&out->uri, uri) &&
              ck_fields_dup(&out->platform, "bluesky") && ck_fields_dup(&out->author.id, did) &&
              ck_fields_dup(&out->author.name, name != NULL ? name : "") &&
              ck_fields_dup(&out->reply_to, reply_to) && ck_fields_dup(&out->quote_of, quote_of);
    if (!ok) {
        ck_message_finish(out);
        return ck_error_set(c->err, CK_ENOMEM, "bluesky: out of memory");
    }
    return 0;
}

int ck_bluesky_normalise(const json_t *raw, struct ck_message *out, struct ck_error *err)
{
    struct ck_fields c = {"bluesky post", NULL, err};
    memset(out, 0, sizeof *out);
    if (!json_is_object(raw))
        return ck_fields_bad(&c, "not a JSON object");
    const json_t *post = json_object_get(raw, "post");
    if (!json_is_object(post))
        return normalise_post(&c, raw, out); /* a PostView */
    const json_t *reason = repost_reason(raw);
    if (reason == NULL)
        return normalise_post(&c, post, out); /* a FeedViewPost or threadViewPost */
    /* A repost: the reposter's boost of the post, at the time of the repost.
     * The text stays the post's (what readers saw); counts are the post's, not
     * the boost's, so they are 0 here, as on Mastodon. */
    const char *repost_uri = str(reason, "uri");
    c.id = repost_uri;
    if (!feed_item_ok(raw))
        return ck_fields_bad(&c, "repost without its uri or reposter");
    int64_t when = time_of(str(reason, "indexedAt"));
    int rc = normalise_post(&c, post, out);
    if (rc != 0)
        return rc;
    const json_t *by = json_object_get(reason, "by");
    const char *did = str(by, "did"), *handle = str(by, "handle"), *name = str(by, "displayName");
    char *boost_of = out->id;
    out->id = NULL;
    free(out->uri);
    out->uri = NULL;
    free(out->author.id);
    free(out->author.handle);
    free(out->author.name);
    free(out->author.url);
    memset(&out->author, 0, sizeof out->author);
    struct ck_sbuf aurl = {0};
    web_url(&aurl, handle, did, NULL);
    out->author.url = aurl.s;
    out->boost_of = boost_of;
    out->author.handle = prefixed("@", handle_ok(handle) ? handle : did);
    if (when != INT64_MIN)
        out->created_ms = when;
    out->replies = out->boosts = out->likes = 0;
    bool ok = !aurl.oom && out->author.handle != NULL && ck_fields_dup(&out->id, repost_uri) &&
              ck_fields_dup(&out->uri, repost_uri) && ck_fields_dup(&out->author.id, did) &&
              ck_fields_dup(&out->author.name, name != NULL ? name : "");
    if (!ok) {
        ck_message_finish(out);
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    return 0;
}

/* ---- the current platform interface ---- */

static int ops_timeline_request(const char *base_url, const char *token, const char *hashtag,
                                const struct ck_timeline_query *q, struct ck_request *out,
                                struct ck_error *err)
{
    struct ck_bluesky_search s = {.hashtag = hashtag,
                                  .since_ms = INT64_MIN,
                                  .until_ms = INT64_MIN,
                                  .limit = q != NULL ? q->limit : 0,
                                  .cursor = q != NULL ? q->max_id : NULL};
    return ck_bluesky_search_request(base_url, token, &s, out, err);
}

static int ops_parse_timeline(const struct ck_response *resp, struct ck_page *out,
                              struct ck_error *err)
{
    struct ck_bluesky_page page;
    memset(out, 0, sizeof *out);
    int rc = ck_bluesky_parse_search(resp, &page, err);
    if (rc != 0)
        return rc;
    out->items = page.posts;
    out->next_max_id = page.cursor;
    return 0;
}

static int ops_context_request(const char *base_url, const char *token, const char *id,
                               struct ck_request *out, struct ck_error *err)
{
    return ck_bluesky_thread_request(base_url, token, id, MAX_THREAD_DEPTH, out, err);
}

const struct ck_platform_ops ck_platform_bluesky = {
    .name = "bluesky",
    .timeline_request = ops_timeline_request,
    .parse_timeline = ops_parse_timeline,
    .context_request = ops_context_request,
    .parse_context = ck_bluesky_parse_thread,
    .item_id = ck_bluesky_item_id,
    .item_time = ck_bluesky_item_time,
    .item_version = ck_bluesky_item_version,
    .normalise = ck_bluesky_normalise,
    .id_cmp = bluesky_id_cmp,
};
