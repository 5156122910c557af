/* Shared by the bluesky*.c files; private to src/platforms/. */
#ifndef CHATKEEPER_PLATFORMS_BLUESKY_INT_H
#define CHATKEEPER_PLATFORMS_BLUESKY_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "chatkeeper/bluesky.h"
#include "chatkeeper/sbuf.h"

/* Build an XRPC request: base_url/xrpc/method + query (consumed), body (owned,
 * consumed, may be NULL), Bearer token when not NULL. */
int ck_bsky_request(const char *base_url, const char *method, const char *http_method,
                    const char *token, struct ck_sbuf *query, char *body, struct ck_request *out,
                    struct ck_error *err);
/* The JSON object of a 2xx answer (status 0 counts as 2xx), or CK_EAUTH /
 * CK_ENOTFOUND / CK_ERATELIMIT / CK_EHTTP / CK_EPARSE with the server's words. */
int ck_bsky_load(const struct ck_response *resp, const char *what, json_t **out,
                 struct ck_error *err);
bool ck_bsky_rkey_ok(const char *s);
/* obj[key] as a borrowed string, or NULL (absent or another type). */
const char *ck_bsky_str(const json_t *obj, const char *key);
bool ck_bsky_type_is(const json_t *obj, const char *type);
/* A PostView we can use: an object with an at:// uri, a cid, an author with a
 * DID (the uri's) and a handle, and a record object. */
bool ck_bsky_post_view_ok(const json_t *post);
/* A FeedViewPost's reason when it is a reasonRepost, else NULL. */
const json_t *ck_bsky_repost_reason(const json_t *item);
/* A FeedViewPost whose post passes ck_bsky_post_view_ok; a repost also needs
 * its own record's uri and a reposter. */
bool ck_bsky_feed_item_ok(const json_t *item);
/* The order of post ids: rkey (TID, time-sortable) first, then the whole URI. */
int ck_bsky_id_cmp(const char *a, const char *b);
bool ck_bsky_did_ok(const char *s);
/* Append the usable PostViews of a threadViewPost's replies, depth-first, to
 * out (at most CK_BLUESKY_MAX_ITEMS in all). */
void ck_bsky_thread_flatten(const json_t *node, json_t *out);

#endif
