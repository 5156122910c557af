/* Mastodon (and servers that speak its API: GoToSocial, Pleroma, Akkoma...):
 * the hashtag timeline request, its response, and Status -> ck_message.
 *
 * Pure: requests are built as data and responses parsed from memory. Every
 * field of a response is checked for its type before use, because a server,
 * a proxy's error page or a truncated body can put anything anywhere; a wrong
 * type is CK_EPARSE with the field named, never a crash or a guess. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/mastodon.h"
#include "mastodon_int.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/text.h"
#include "chatkeeper/timeutil.h"
#include "fields.h"

#define MASTODON_MAX_LIMIT 40

int ck_mastodon_get_request(struct ck_sbuf *b, const char *token, const char *accept,
                            struct ck_request *out, struct ck_error *err)
{
    /* A CR or LF in the token would let it write extra header lines. */
    if (token != NULL && strpbrk(token, "\r\n") != NULL) {
        free(b->s);
        return ck_error_set(err, CK_EINVAL, "mastodon: token contains a line break");
    }
    if (b->oom) {
        free(b->s);
        return ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
    }
    memcpy(out->method, "GET", 4);
    out->url = b->s;
    int rc = ck_request_add_header(out, "Accept", accept);
    if (rc == 0 && token != NULL)
        rc = ck_request_add_bearer(out, token);
    if (rc != 0) {
        ck_request_finish(out);
        return ck_error_set(err, rc, "mastodon: %s", ck_strerror(rc));
    }
    return 0;
}

static int mastodon_timeline_request(const char *base_url, const char *token, const char *hashtag,
                                     const struct ck_timeline_query *q, struct ck_request *out,
                                     struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || hashtag == NULL)
        return ck_error_set(err, CK_EINVAL, "mastodon: base URL and hashtag are required");
    if (hashtag[0] == '#')
        hashtag++; /* "#uklibchat" and "uklibchat" name the same tag */
    if (hashtag[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "mastodon: empty hashtag");
    int limit =
        q != NULL && q->limit > 0 && q->limit < MASTODON_MAX_LIMIT ? q->limit : MASTODON_MAX_LIMIT;
    char limit_s[16];
    snprintf(limit_s, sizeof limit_s, "%d", limit);

    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/api/v1/timelines/tag/");
    ck_sbuf_pct(&b, hashtag);
    ck_sbuf_str(&b, "?limit="); /* the first parameter; ck_sbuf_param adds the rest */
    ck_sbuf_str(&b, limit_s);
    if (q != NULL) {
        ck_sbuf_param(&b, "min_id", q->after);
        ck_sbuf_param(&b, "max_id", q->before);
    }
    return ck_mastodon_get_request(&b, token, "application/json", out, err);
}

static const char *find_header(const struct ck_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name != NULL && strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* Skip what is not an object with a non-empty string id: nothing else is
 * trusted, and one bad item must not cost the rest of the page. */
static void skip_bad_items(struct ck_page *pg, const char *what)
{
    size_t w = 0, n = json_array_size(pg->items);
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(pg->items, i);
        const json_t *id = json_object_get(item, "id");
        if (!json_is_object(item) || !json_is_string(id) || json_string_length(id) == 0) {
            if (pg->skipped++ == 0)
                snprintf(pg->skip_why, sizeof pg->skip_why, "%s item %zu %s", what, i,
                         !json_is_object(item) ? "is not an object" : "has no string id");
            continue;
        }
        if (w != i) {
            json_array_set(pg->items, w, item);
            if (pg->repaired != NULL)
                pg->repaired[w] = pg->repaired[i];
        }
        w++;
    }
    while (json_array_size(pg->items) > w)
        json_array_remove(pg->items, json_array_size(pg->items) - 1);
}

/* The items of a top-level array whose structure holds but which jansson
 * refused as a whole: each element parsed alone, the broken ones skipped. */
static json_t *parse_each(const struct ck_json_repaired *fx, struct ck_page *pg, const char *what)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < fx->n_spans; i++) {
        const struct ck_json_span *sp = &fx->spans[i];
        json_error_t jerr;
        json_t *v = json_loadb(fx->text + sp->start, sp->end - sp->start, JSON_DECODE_ANY, &jerr);
        if (v == NULL) {
            if (pg->skipped++ == 0)
                snprintf(pg->skip_why, sizeof pg->skip_why, "%s item %zu is not JSON: %.80s", what,
                         i, jerr.text);
            continue;
        }
        if (pg->repaired != NULL)
            pg->repaired[json_array_size(arr)] = sp->repaired;
        json_array_append_new(arr, v);
    }
    return arr;
}

/* Parse body into pg->items (an array) or, for a context, the root object
 * (returned; pg->items left NULL). Bytes are repaired only when jansson
 * refuses the body as it came, so a clean page costs one parse. */
static int parse_body(const struct ck_response *resp, struct ck_page *pg, json_t **root_out,
                      const char *what, struct ck_error *err)
{
    *root_out = NULL;
    if (resp->status != 0 && (resp->status < 200 || resp->status > 299))
        return ck_error_set(err, CK_EHTTP, "mastodon: HTTP status %ld", resp->status);
    if (resp->body == NULL)
        return ck_error_set(err, CK_EPARSE, "mastodon: empty response body");
    json_error_t jerr;
    json_t *root = json_loadb(resp->body, resp->body_len, 0, &jerr);
    if (root != NULL) {
        *root_out = root;
        return 0;
    }
    struct ck_json_repaired fx;
    if (ck_json_repair(resp->body, resp->body_len, &fx) != 0)
        return ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
    if (fx.repairs > 0) {
        json_error_t jerr2;
        root = json_loadb(fx.text, fx.len, 0, &jerr2);
    }
    pg->repairs = fx.repairs;
    if (fx.array && fx.n_spans > 0) {
        pg->repaired = calloc(fx.n_spans, 1);
        if (pg->repaired == NULL) {
            json_decref(root);
            ck_json_repaired_finish(&fx);
            return ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
        }
        if (root != NULL && json_is_array(root) && json_array_size(root) == fx.n_spans) {
            for (size_t i = 0; i < fx.n_spans; i++)
                pg->repaired[i] = fx.spans[i].repaired;
        } else if (root != NULL) {
            memset(pg->repaired, fx.repairs > 0, fx.n_spans); /* cannot tell which: all */
        }
    }
    if (root == NULL && fx.array && fx.complete)
        root = parse_each(&fx, pg, what);
    ck_json_repaired_finish(&fx);
    if (root == NULL) {
        free(pg->repaired);
        memset(pg, 0, sizeof *pg);
        return ck_error_set(err, CK_EPARSE, "mastodon: %s is not JSON: %s (line %d column %d)",
                            what, jerr.text, jerr.line, jerr.column);
    }
    *root_out = root;
    return 0;
}

static int mastodon_parse_timeline(const struct ck_response *resp, struct ck_page *out,
                                   struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root;
    int rc = parse_body(resp, out, &root, "timeline", err);
    if (rc != 0)
        return rc;
    if (!json_is_array(root)) {
        json_decref(root);
        ck_page_finish(out);
        return ck_error_set(err, CK_EPARSE, "mastodon: timeline is not a JSON array");
    }
    out->items = root;
    skip_bad_items(out, "timeline");
    const char *link = find_header(resp, "link");
    char *next = ck_link_find(link, "next");
    char *prev = ck_link_find(link, "prev");
    out->older = ck_url_query_param(next, "max_id");
    out->newer = ck_url_query_param(prev, "min_id");
    /* Out of memory while reading the Link header just means no cursor hint:
     * the follower pages with the ids it has. */
    free(next);
    free(prev);
    return 0;
}

static const char *mastodon_item_id(const json_t *raw)
{
    return json_string_value(json_object_get(raw, "id"));
}

static const char *mastodon_item_version(const json_t *raw)
{
    const char *edited = json_string_value(json_object_get(raw, "edited_at"));
    return edited != NULL ? edited : json_string_value(json_object_get(raw, "created_at"));
}

static int64_t mastodon_item_time(const json_t *raw)
{
    int64_t ms;
    const char *ca = json_string_value(json_object_get(raw, "created_at"));
    if (ca == NULL || ck_time_parse_rfc3339(ca, &ms) != 0)
        return INT64_MIN;
    return ms;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int mastodon_id_cmp(const char *a, const char *b)
{
    if (all_digits(a) && all_digits(b)) {
        size_t la = strlen(a), lb = strlen(b);
        if (la != lb)
            return la < lb ? -1 : 1;
    }
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

/* ---- normalise ---- */

static int get_count(struct ck_fields *c, const json_t *obj, const char *key, long *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return ck_fields_bad(c, "%s is not an integer", key);
    json_int_t n = json_integer_value(v);
    *out = n < 0 ? 0 : n > LONG_MAX ? LONG_MAX : (long)n;
    return 0;
}

/* "@user@domain". A local account's acct is just "user", so the domain comes
 * from the host of its profile URL (port kept: that is how Mastodon names
 * accounts on a server with a port, e.g. in development). */
static void build_handle(struct ck_sbuf *b, const char *acct, const char *profile_url)
{
    ck_sbuf_str(b, "@");
    ck_sbuf_str(b, acct);
    if (strchr(acct, '@') != NULL || profile_url == NULL)
        return;
    const char *host = strstr(profile_url, "://");
    if (host == NULL)
        return;
    host += 3;
    size_t len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', len); /* userinfo: not part of the domain */
    if (at != NULL) {
        len -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    if (len == 0)
        return;
    ck_sbuf_str(b, "@");
    for (size_t i = 0; i < len; i++) {
        char ch = (char)tolower((unsigned char)host[i]);
        ck_sbuf_put(b, &ch, 1);
    }
}

/* Media are part of what a reader sees: one "[image: ALT] URL" line each. */
static int append_media(struct ck_fields *c, const json_t *raw, struct ck_sbuf *text)
{
    const json_t *media = json_object_get(raw, "media_attachments");
    if (media == NULL || json_is_null(media))
        return 0;
    if (!json_is_array(media))
        return ck_fields_bad(c, "media_attachments is not an array");
    for (size_t i = 0; i < json_array_size(media); i++) {
        const json_t *m = json_array_get(media, i);
        const char *type, *alt, *url;
        if (!json_is_object(m))
            return ck_fields_bad(c, "media attachment %zu is not an object", i);
        if (ck_fields_str(c, m, "type", false, &type) ||
            ck_fields_str(c, m, "description", false, &alt) ||
            ck_fields_str(c, m, "url", false, &url))
            return CK_EPARSE;
        if (url == NULL && ck_fields_str(c, m, "remote_url", false, &url))
            return CK_EPARSE;
        if (text->len > 0)
            ck_sbuf_str(text, "\n");
        ck_sbuf_str(text, "[");
        ck_sbuf_str(text, type != NULL && strcmp(type, "unknown") != 0 ? type : "media");
        if (alt != NULL && alt[0] != '\0') {
            ck_sbuf_str(text, ": ");
            ck_sbuf_str(text, alt);
        }
        ck_sbuf_str(text, "]");
        if (url != NULL) {
            ck_sbuf_str(text, " ");
            ck_sbuf_str(text, url);
        }
    }
    return 0;
}

/* An accepted quote: its "RE: URL" fallback paragraph gives way to a quote
 * line "[quote: @handle] URL" at the end, as Bluesky's, which the
 * transcripts replace with the quoted post (or a stub when it is not in the
 * archive). The URL is the quoted post's own, else the fallback's. */
static void quote_line(struct ck_sbuf *b, const struct ck_mastodon_quote *q, const char *link)
{
    const char *url = q->url != NULL ? q->url : link;
    if (url == NULL)
        return;
    if (b->len > 0)
        ck_sbuf_str(b, "\n");
    ck_sbuf_str(b, "[quote");
    if (q->acct != NULL && q->acct[0] != '\0') {
        ck_sbuf_str(b, ": ");
        build_handle(b, q->acct, q->acc_url);
    }
    ck_sbuf_str(b, "] ");
    ck_sbuf_str(b, url);
}

static int build_text(struct ck_fields *c, const json_t *raw, const struct ck_mastodon_quote *q,
                      char **out)
{
    const char *content, *source;
    char *html = NULL, *link = NULL;
    *out = NULL;
    if (ck_fields_str(c, raw, "content", false, &content) ||
        ck_fields_str(c, raw, "text", false, &source))
        return CK_EPARSE;
    struct ck_sbuf b = {0};
    if (content != NULL && q->id != NULL) {
        html = ck_mastodon__drop_quote_inline(content, &link);
        if (html == NULL)
            return ck_error_set(c->err, CK_ENOMEM, "mastodon: out of memory");
        content = html;
    }
    if (content != NULL) {
        /* The text is the buffer the media lines, if any, are added to. */
        b.s = ck_html_to_text(content, strlen(content));
        b.oom = b.s == NULL;
        b.len = b.s != NULL ? strlen(b.s) : 0;
        b.cap = b.s != NULL ? b.len + 1 : 0;
    } else {
        /* A delete response carries the plain source "text" and no "content". */
        ck_sbuf_put(&b, "", 0);
        if (source != NULL)
            ck_sbuf_str(&b, source);
    }
    free(html);
    int rc = append_media(c, raw, &b);
    if (rc == 0 && q->id != NULL)
        quote_line(&b, q, link);
    free(link);
    if (rc != 0 || b.oom) {
        free(b.s);
        return rc != 0 ? rc : ck_error_set(c->err, CK_ENOMEM, "mastodon: out of memory");
    }
    *out = b.s;
    return 0;
}

static int mastodon_normalise(const json_t *raw, struct ck_message *out, struct ck_error *err)
{
    struct ck_fields c = {"mastodon status", NULL, err};
    memset(out, 0, sizeof *out);
    if (!json_is_object(raw))
        return ck_fields_bad(&c, "not a JSON object");
    const char *id, *created, *url, *uri, *reply_to, *edited;
    const char *acc_id, *acct, *username, *name, *acc_url;
    if (ck_fields_str(&c, raw, "id", true, &id))
        return CK_EPARSE;
    c.id = id;
    if (id[0] == '\0')
        return ck_fields_bad(&c, "empty id");
    if (ck_fields_str(&c, raw, "created_at", true, &created) ||
        ck_fields_str(&c, raw, "url", false, &url) || ck_fields_str(&c, raw, "uri", false, &uri) ||
        ck_fields_str(&c, raw, "in_reply_to_id", false, &reply_to) ||
        ck_fields_str(&c, raw, "edited_at", false, &edited))
        return CK_EPARSE;
    int64_t created_ms;
    if (ck_time_parse_rfc3339(created, &created_ms) != 0)
        return ck_fields_bad(&c, "created_at is not an RFC 3339 time");
    const json_t *account = json_object_get(raw, "account");
    if (!json_is_object(account))
        return ck_fields_bad(&c, "missing account");
    if (ck_fields_str(&c, account, "id", true, &acc_id) ||
        ck_fields_str(&c, account, "acct", false, &acct) ||
        ck_fields_str(&c, account, "username", false, &username) ||
        ck_fields_str(&c, account, "display_name", false, &name) ||
        ck_fields_str(&c, account, "url", false, &acc_url))
        return CK_EPARSE;
    if (acct == NULL)
        acct = username;
    if (acct == NULL || acct[0] == '\0')
        return ck_fields_bad(&c, "account has no acct");
    const char *boost_of = NULL;
    const json_t *reblog = json_object_get(raw, "reblog");
    if (json_is_object(reblog)) {
        if (ck_fields_str(&c, reblog, "id", true, &boost_of))
            return CK_EPARSE;
    } else if (reblog != NULL && !json_is_null(reblog)) {
        return ck_fields_bad(&c, "reblog is not an object");
    }
    long replies, boosts, likes;
    if (get_count(&c, raw, "replies_count", &replies) ||
        get_count(&c, raw, "reblogs_count", &boosts) ||
        get_count(&c, raw, "favourites_count", &likes))
        return CK_EPARSE;
    struct ck_mastodon_quote quote;
    if (ck_mastodon__quote(&c, raw, &quote))
        return CK_EPARSE;
    char *text;
    int rc = build_text(&c, raw, &quote, &text);
    if (rc != 0)
        return rc;

    struct ck_sbuf handle = {0};
    build_handle(&handle, acct, acc_url);
    out->text = text;
    out->author.handle = handle.s;
    out->created_ms = created_ms;
    out->replies = replies;
    out->boosts = boosts;
    out->likes = likes;
    bool ok = !handle.oom && ck_fields_dup(&out->id, id) &&
              ck_fields_dup(&out->platform, "mastodon") &&
              ck_fields_dup(&out->url, url != NULL ? url : uri) &&
              ck_fields_dup(&out->author.id, acc_id) &&
              ck_fields_dup(&out->author.name, name != NULL ? name : "") &&
              ck_fields_dup(&out->author.url, acc_url) && ck_fields_dup(&out->reply_to, reply_to) &&
              ck_fields_dup(&out->boost_of, boost_of) && ck_fields_dup(&out->edited_at, edited) &&
              ck_fields_dup(&out->quote_of, quote.id) &&
              /* the same on every instance that has the post (its id is not):
               * what the archive merges two instances' copies by */
              ck_fields_dup(&out->uri, uri);
    if (!ok) {
        ck_message_finish(out);
        return ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
    }
    ck_message_noncharacters(out);
    return 0;
}

static int mastodon_context_request(const char *base_url, const char *token, const char *id,
                                    struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || id == NULL || id[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "mastodon: base URL and status id are required");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/api/v1/statuses/");
    ck_sbuf_pct(&b, id); /* ids are opaque: never trusted to be URL-safe */
    ck_sbuf_str(&b, "/context");
    return ck_mastodon_get_request(&b, token, "application/json", out, err);
}

/* A Context: {"ancestors": [...], "descendants": [...]}; only the descendants
 * are new to us (the ancestors lead up to a status we already have). */
static int mastodon_parse_context(const struct ck_response *resp, struct ck_page *out,
                                  struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root;
    int rc = parse_body(resp, out, &root, "context", err);
    if (rc != 0)
        return rc;
    free(out->repaired); /* indexed by the root's members, not the descendants */
    out->repaired = NULL;
    json_t *desc = json_object_get(root, "descendants");
    if (!json_is_object(root) || !json_is_array(desc)) {
        json_decref(root);
        ck_page_finish(out);
        return ck_error_set(err, CK_EPARSE, "mastodon: context has no descendants array");
    }
    out->items = json_incref(desc);
    json_decref(root);
    size_t n = json_array_size(out->items);
    if (out->repairs > 0 && n > 0) {
        out->repaired = malloc(n);
        if (out->repaired == NULL) {
            ck_page_finish(out);
            return ck_error_set(err, CK_ENOMEM, "mastodon: out of memory");
        }
        memset(out->repaired, 1, n);
    }
    skip_bad_items(out, "context");
    return 0;
}

const struct ck_platform_ops ck_platform_mastodon = {
    .context_request = mastodon_context_request,
    .parse_context = mastodon_parse_context,
    .name = "mastodon",
    .timeline_request = mastodon_timeline_request,
    .parse_timeline = mastodon_parse_timeline,
    .item_id = mastodon_item_id,
    .item_time = mastodon_item_time,
    .item_version = mastodon_item_version,
    .normalise = mastodon_normalise,
    .id_cmp = mastodon_id_cmp,
    .stream_request = ck_mastodon_stream_request,
    .parse_stream_event = ck_mastodon_parse_stream_event,
    .stream_base_request = ck_mastodon_stream_base_request,
    .parse_stream_base = ck_mastodon_parse_stream_base,
    .paging = CK_PAGING_IDS,
    .status_request = ck_mastodon_status_request,
    .parse_exists = ck_mastodon_op_parse_exists,
    .once = CK_ONCE_SERVER_KEY,
    .post_key = NULL, /* the poster names each step's key itself, stably */
    .post_request = ck_mastodon_op_post_request,
    .parse_post = ck_mastodon_op_parse_post,
    .error_text = ck_mastodon_error_text,
    .max_post_len = 500, /* Mastodon's default; the instance says its own */
    .text_len = ck_mastodon_op_text_len,
    .limits_request = ck_mastodon_instance_request,
    .parse_limits = ck_mastodon_parse_instance_max_chars,
    .ratelimit_update = ck_mastodon_op_ratelimit,
};
