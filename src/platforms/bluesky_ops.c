/* Bluesky on the whole platform interface (platform.h): following with
 * searchPosts (opaque cursor, since/until window), threads with
 * getPostThread, one post with getRecord, posting with createRecord under a
 * record key chosen before sending, sessions, ratelimit-* headers. The pure
 * builders and parsers are bluesky*.c; this file only adapts them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluesky_int.h"

#define MAX_THREAD_DEPTH 1000

static int ops_timeline_request(const char *base_url, const char *token, const char *hashtag,
                                const struct ck_timeline_query *q, struct ck_request *out,
                                struct ck_error *err)
{
    struct ck_bluesky_search s = {
        .hashtag = hashtag,
        .since_ms = q != NULL && q->since_ms > 0 ? q->since_ms : INT64_MIN,
        .until_ms = q != NULL && q->until_ms > 0 ? q->until_ms : INT64_MIN,
        .limit = q != NULL ? q->limit : 0,
        .cursor = q != NULL ? q->before : NULL};
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
    out->older = page.cursor;
    out->skipped = page.skipped;
    if (page.skipped > 0)
        snprintf(out->skip_why, sizeof out->skip_why,
                 "not a post view (no at:// uri, cid, author or record)");
    return 0;
}

static int ops_context_request(const char *base_url, const char *token, const char *id,
                               struct ck_request *out, struct ck_error *err)
{
    return ck_bluesky_thread_request(base_url, token, id, MAX_THREAD_DEPTH, out, err);
}

/* A thread comes whole, to the depth asked: a page without cursors. */
static int ops_parse_context(const struct ck_response *resp, struct ck_page *out,
                             struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    return ck_bluesky_parse_thread(resp, &out->items, err);
}

/* A saved searchPosts page ({"posts"}), feed ({"feed"}) or getPostThread
 * answer ({"thread"}: its post, then the replies below it). */
static json_t *ops_unwrap_saved(const json_t *v)
{
    json_t *posts = json_object_get(v, "posts");
    json_t *feed = json_object_get(v, "feed");
    const json_t *thread = json_object_get(v, "thread");
    if (json_is_array(posts))
        return json_incref(posts);
    if (json_is_array(feed))
        return json_incref(feed);
    if (!json_is_object(thread))
        return NULL;
    json_t *out = json_array();
    json_t *post = json_object_get(thread, "post");
    if (out != NULL && ck_bsky_post_view_ok(post))
        json_array_append(out, post);
    if (out != NULL)
        ck_bsky_thread_flatten(thread, out);
    return out;
}

/* ---- one post ---- */

static int ops_status_request(const char *base_url, const char *token, const char *id,
                              struct ck_request *out, struct ck_error *err)
{
    char *repo = NULL, *collection = NULL, *rkey = NULL;
    memset(out, 0, sizeof *out);
    int rc = ck_bluesky_uri_split(id, &repo, &collection, &rkey);
    if (rc != 0)
        return ck_error_set(err, rc, "bluesky: \"%.80s\" is not an at:// post URI",
                            id != NULL ? id : "");
    if (strcmp(collection, "app.bsky.feed.post") != 0)
        rc = ck_error_set(err, CK_EINVAL, "bluesky: %.80s is not a post", id);
    else
        rc = ck_bluesky_get_record_request(base_url, token, repo, rkey, out, err);
    free(repo);
    free(collection);
    free(rkey);
    return rc;
}

static int ops_parse_exists(const struct ck_response *resp, struct ck_error *err)
{
    struct ck_bluesky_record r;
    int rc = ck_bluesky_parse_record(resp, &r, err);
    ck_bluesky_record_finish(&r);
    return rc;
}

/* ---- posting ---- */

/* A TID from the caller's clock and 10 random bits as the clock id: two runs
 * in the same microsecond still differ. */
static int ops_post_key(int64_t now_ms, uint32_t random, char *buf, size_t n)
{
    if (n < 14)
        return CK_EINVAL;
    return ck_bluesky_tid(now_ms * 1000 + (int64_t)(random >> 22) % 1000, random & 1023, buf);
}

/* The resolved mentions handed in with the post (struct ck_post.mentions). */
static const char *mention_did(const char *handle, void *arg)
{
    return json_string_value(json_object_get((const json_t *)arg, handle));
}

static int ops_post_request(const char *base_url, const char *token, const struct ck_post *p,
                            struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (token == NULL || token[0] == '\0' || p->account == NULL)
        return ck_error_set(err, CK_EAUTH, "bluesky: posting needs a signed-in session");
    struct ck_bluesky_post bp = {
        .repo = p->account,
        .rkey = p->key,
        .text = p->text,
        .created_ms = p->created_ms,
        .resolve = p->mentions != NULL ? mention_did : NULL,
        .resolve_arg = (void *)(uintptr_t)p->mentions,
    };
    if (p->reply_to.id != NULL && p->reply_to.version != NULL) {
        bp.parent = (struct ck_bluesky_ref){p->reply_to.id, p->reply_to.version};
        bp.root = p->root.id != NULL && p->root.version != NULL
                      ? (struct ck_bluesky_ref){p->root.id, p->root.version}
                      : bp.parent;
    }
    return ck_bluesky_create_record_request(base_url, token, &bp, out, err);
}

/* https://bsky.app/profile/DID/post/RKEY for at://DID/app.bsky.feed.post/RKEY. */
static int posted_from(const char *uri, const char *cid, struct ck_posted *out,
                       struct ck_error *err)
{
    char *did = NULL, *rkey = NULL;
    memset(out, 0, sizeof *out);
    int rc = ck_bluesky_uri_split(uri, &did, NULL, &rkey);
    if (rc != 0)
        return ck_error_set(err, CK_EPARSE, "bluesky: the answer's uri is not an at:// URI");
    struct ck_sbuf b = {0};
    ck_sbuf_str(&b, "https://bsky.app/profile/");
    ck_sbuf_str(&b, did);
    ck_sbuf_str(&b, "/post/");
    ck_sbuf_str(&b, rkey);
    free(did);
    free(rkey);
    out->url = b.s;
    out->id = strdup(uri);
    out->version = cid != NULL ? strdup(cid) : NULL;
    if (b.oom || out->id == NULL || (cid != NULL && out->version == NULL)) {
        ck_posted_finish(out);
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    return 0;
}

static int ops_parse_post(const struct ck_response *resp, struct ck_posted *out,
                          struct ck_error *err)
{
    char *uri = NULL, *cid = NULL;
    memset(out, 0, sizeof *out);
    int rc = ck_bluesky_parse_create_record(resp, &uri, &cid, err);
    if (rc == 0)
        rc = posted_from(uri, cid, out, err);
    free(uri);
    free(cid);
    return rc;
}

static int ops_lookup_request(const char *base_url, const char *token, const struct ck_post *p,
                              struct ck_request *out, struct ck_error *err)
{
    return ck_bluesky_get_record_request(base_url, token, p->account, p->key, out, err);
}

static int ops_parse_lookup(const struct ck_response *resp, const struct ck_post *p,
                            struct ck_posted *out, struct ck_error *err)
{
    struct ck_bluesky_record r;
    memset(out, 0, sizeof *out);
    int rc = ck_bluesky_parse_record(resp, &r, err);
    if (rc == 0) {
        char *rkey = NULL;
        /* The record must be the one asked for, not whatever the server sent. */
        if (ck_bluesky_uri_split(r.uri, NULL, NULL, &rkey) != 0 || p->key == NULL ||
            strcmp(rkey, p->key) != 0)
            rc = ck_error_set(err, CK_EPARSE, "bluesky: getRecord answered another record");
        else
            rc = posted_from(r.uri, r.cid, out, err);
        free(rkey);
    }
    ck_bluesky_record_finish(&r);
    return rc;
}

static size_t ops_text_len(const char *text)
{
    return ck_bluesky_graphemes(text);
}

/* ---- sessions ---- */

static int ops_parse_signin(const struct ck_response *resp, struct ck_signin *out,
                            struct ck_error *err)
{
    struct ck_bluesky_session s;
    memset(out, 0, sizeof *out);
    int rc = ck_bluesky_parse_session(resp, &s, err);
    if (rc != 0)
        return rc;
    /* Ownership moves over; nothing is copied, so nothing is left to wipe. */
    out->token = s.access_jwt;
    out->refresh = s.refresh_jwt;
    out->account = s.did;
    out->token_exp_ms = s.access_exp_ms;
    out->refresh_exp_ms = s.refresh_exp_ms;
    free(s.handle);
    return 0;
}

static bool ops_token_expired(const struct ck_response *resp)
{
    return resp->status >= 400 && ck_bluesky_error_kind(resp) == CK_BLUESKY_ERR_EXPIRED;
}

/* ratelimit-limit/-remaining/-reset (epoch seconds); a 429 waits for the
 * reset (capped like every wait), or for Retry-After when there is one. */
static void ops_ratelimit(struct ck_ratelimit *rl, const struct ck_response *resp, int64_t now_ms)
{
    ck_ratelimit_update(rl, resp, now_ms); /* Retry-After and the 429 default */
    struct ck_ratelimit got = *rl;
    if (ck_bluesky_ratelimit(resp, &got) != 0)
        return;
    if (got.reset_ms > now_ms + CK_RATELIMIT_MAX_WAIT_MS) {
        rl->capped_from_ms = got.reset_ms;
        got.reset_ms = now_ms + CK_RATELIMIT_MAX_WAIT_MS;
    }
    rl->known = true;
    rl->limit = got.limit;
    rl->remaining = got.remaining;
    rl->reset_ms = got.reset_ms;
    if (resp->status == 429 && ck_response_header(resp, "retry-after") == NULL)
        rl->blocked_until_ms = got.reset_ms > now_ms ? got.reset_ms : rl->blocked_until_ms;
}

const struct ck_platform_ops ck_platform_bluesky = {
    .name = "bluesky",
    .paging = CK_PAGING_CURSOR,
    .timeline_request = ops_timeline_request,
    .parse_timeline = ops_parse_timeline,
    .context_request = ops_context_request,
    .parse_context = ops_parse_context,
    .item_id = ck_bluesky_item_id,
    .item_time = ck_bluesky_item_time,
    .item_version = ck_bluesky_item_version,
    .normalise = ck_bluesky_normalise,
    .id_cmp = ck_bsky_id_cmp,
    .unwrap_saved = ops_unwrap_saved,
    .status_request = ops_status_request,
    .parse_exists = ops_parse_exists,
    .once = CK_ONCE_RECORD_KEY,
    .post_key = ops_post_key,
    .post_request = ops_post_request,
    .parse_post = ops_parse_post,
    .post_lookup_request = ops_lookup_request,
    .parse_post_lookup = ops_parse_lookup,
    .error_text = ck_bluesky_error_text,
    .mention_handles = ck_bluesky_mention_handles,
    .resolve_request = ck_bluesky_resolve_handle_request,
    .parse_resolve = ck_bluesky_parse_resolve_handle,
    .max_post_len = CK_BLUESKY_MAX_GRAPHEMES,
    .text_len = ops_text_len,
    .signin_request = ck_bluesky_create_session_request,
    .refresh_request = ck_bluesky_refresh_session_request,
    .parse_signin = ops_parse_signin,
    .token_expired = ops_token_expired,
    .ratelimit_update = ops_ratelimit,
};
