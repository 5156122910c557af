/* Bluesky's PostView / FeedViewPost -> ck_message, and the item id, time and
 * version the follower keys on (see bluesky.h).
 *
 * Text: the record's text with link facets turned into their full URLs (a
 * client shows "osf.io/v87fn" or "example.com/long-pa..." for the link), then
 * one line per embed, as for Mastodon's media: "[image: ALT] URL",
 * "[link: TITLE] URL", "[video: ALT] URL", "[quote: @handle] URL". A facet
 * whose byte range is out of bounds, overlaps another or splits a UTF-8
 * character is ignored (the text stays as written). */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bluesky_int.h"
#include "chatkeeper/timeutil.h"
#include "fields.h"

#define MAX_FACETS 256

/* ---- item ids, times, versions ---- */

const char *ck_bluesky_item_id(const json_t *raw)
{
    const json_t *post = json_object_get(raw, "post");
    if (json_is_object(post)) {
        const json_t *reason = ck_bsky_repost_reason(raw);
        return reason != NULL ? ck_bsky_str(reason, "uri") : ck_bsky_str(post, "uri");
    }
    return ck_bsky_str(raw, "uri");
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
    int64_t ms = time_of(ck_bsky_str(json_object_get(post, "record"), "createdAt"));
    return ms != INT64_MIN ? ms : time_of(ck_bsky_str(post, "indexedAt"));
}

int64_t ck_bluesky_item_time(const json_t *raw)
{
    const json_t *post = json_object_get(raw, "post");
    if (json_is_object(post)) {
        const json_t *reason = ck_bsky_repost_reason(raw);
        return reason != NULL ? time_of(ck_bsky_str(reason, "indexedAt")) : post_time(post);
    }
    return post_time(raw);
}

const char *ck_bluesky_item_version(const json_t *raw)
{
    const json_t *post = json_object_get(raw, "post");
    if (json_is_object(post)) {
        const json_t *reason = ck_bsky_repost_reason(raw);
        return reason != NULL ? ck_bsky_str(reason, "cid") : ck_bsky_str(post, "cid");
    }
    return ck_bsky_str(raw, "cid");
}

/* TIDs (rkeys) sort by time; different authors' posts then by the whole URI. */
int ck_bsky_id_cmp(const char *a, const char *b)
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
            if (ck_bsky_type_is(feat, "app.bsky.richtext.facet#link") &&
                uri_clean(ck_bsky_str(feat, "uri"))) {
                spans[n++] = (struct span){(size_t)s, (size_t)e, ck_bsky_str(feat, "uri")};
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
    const char *uri = ck_bsky_str(rec, "uri");
    char *did = NULL, *coll = NULL, *rkey = NULL;
    if (ck_bluesky_uri_split(uri, &did, &coll, &rkey) != 0)
        return;
    if (strcmp(coll, "app.bsky.feed.post") == 0) {
        const json_t *author = json_object_get(rec, "author");
        const char *handle = ck_bsky_str(author, "handle");
        struct ck_sbuf url = {0}, label = {0};
        web_url(&url, handle, did, rkey);
        if (handle != NULL && handle_ok(handle)) {
            ck_sbuf_str(&label, "@");
            ck_sbuf_str(&label, handle);
        }
        const char *t = ck_bsky_str(rec, "$type");
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
    const char *t = ck_bsky_str(e, "$type");
    if (t == NULL || depth > 2)
        return;
    if (strncmp(t, "app.bsky.embed.images", 21) == 0) {
        const json_t *images = json_object_get(e, "images");
        for (size_t i = 0; i < json_array_size(images) && i < 16; i++) {
            const json_t *im = json_array_get(images, i);
            const char *url = ck_bsky_str(im, "fullsize");
            if (json_is_object(im))
                line(b, "image", ck_bsky_str(im, "alt"), uri_clean(url) ? url : NULL);
        }
    } else if (strncmp(t, "app.bsky.embed.external", 23) == 0) {
        const json_t *ext = json_object_get(e, "external");
        const char *url = ck_bsky_str(ext, "uri");
        if (json_is_object(ext))
            line(b, "link", ck_bsky_str(ext, "title"), uri_clean(url) ? url : NULL);
    } else if (strncmp(t, "app.bsky.embed.video", 20) == 0) {
        const char *url = ck_bsky_str(e, "playlist");
        line(b, "video", ck_bsky_str(e, "alt"), uri_clean(url) ? url : NULL);
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
    const char *uri = ck_bsky_str(post, "uri");
    c->id = uri;
    if (!ck_bsky_post_view_ok(post))
        return ck_fields_bad(c, "not a post view (uri, cid, author did and handle, record)");
    const json_t *author = json_object_get(post, "author");
    const json_t *record = json_object_get(post, "record");
    const char *did = ck_bsky_str(author, "did"), *handle = ck_bsky_str(author, "handle");
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
    embed_lines(&b, json_is_object(embed) ? embed : json_object_get(record, "embed"), &quote_of, 0);
    const char *reply_to =
        ck_bsky_str(json_object_get(json_object_get(record, "reply"), "parent"), "uri");
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
    const char *name = ck_bsky_str(author, "displayName");
    bool ok = !b.oom && !url.oom && !aurl.oom && have_rkey && out->author.handle != NULL &&
              ck_fields_dup(&out->id, uri) && ck_fields_dup(&out->uri, uri) &&
              ck_fields_dup(&out->platform, "bluesky") && ck_fields_dup(&out->author.id, did) &&
              ck_fields_dup(&out->author.name, name != NULL ? name : "") &&
              ck_fields_dup(&out->reply_to, reply_to) && ck_fields_dup(&out->quote_of, quote_of);
    if (!ok) {
        ck_message_finish(out);
        return ck_error_set(c->err, CK_ENOMEM, "bluesky: out of memory");
    }
    ck_message_noncharacters(out);
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
    const json_t *reason = ck_bsky_repost_reason(raw);
    if (reason == NULL)
        return normalise_post(&c, post, out); /* a FeedViewPost or threadViewPost */
    /* A repost: the reposter's boost of the post, at the time of the repost.
     * The text stays the post's (what readers saw); counts are the post's, not
     * the boost's, so they are 0 here, as on Mastodon. */
    const char *repost_uri = ck_bsky_str(reason, "uri");
    c.id = repost_uri;
    if (!ck_bsky_feed_item_ok(raw))
        return ck_fields_bad(&c, "repost without its uri or reposter");
    int64_t when = time_of(ck_bsky_str(reason, "indexedAt"));
    int rc = normalise_post(&c, post, out);
    if (rc != 0)
        return rc;
    const json_t *by = json_object_get(reason, "by");
    const char *did = ck_bsky_str(by, "did"), *handle = ck_bsky_str(by, "handle"),
               *name = ck_bsky_str(by, "displayName");
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
    ck_message_noncharacters(out);
    return 0;
}
