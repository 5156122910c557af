/* Bluesky (the AT Protocol's app.bsky lexicon, spoken by bsky.social and any
 * PDS / AppView): sessions, search, threads, one record, posting with facets,
 * and PostView -> ck_message. Pure, like every platform module: requests are
 * built as data (struct ck_request) and answers parsed from struct ck_response;
 * no sockets, files or clock (times are passed in).
 *
 * Ids: a post's id is its at:// URI ("at://DID/app.bsky.feed.post/RKEY"), the
 * same on every AppView; its version is the record's cid (a new cid means a new
 * record). Every answer comes from a server we do not control: every field is
 * type-checked, bad items are skipped or refused, never trusted. Secrets (the
 * app password, the JWTs) never appear in an error message. */
#ifndef CHATKEEPER_BLUESKY_H
#define CHATKEEPER_BLUESKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/request.h"
#include "chatkeeper/message.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/ratelimit.h"

#define CK_BLUESKY_MAX_GRAPHEMES 300 /* app.bsky.feed.post text limit */
#define CK_BLUESKY_MAX_TEXT_BYTES 3000
#define CK_BLUESKY_MAX_LIMIT 100  /* searchPosts page size */
#define CK_BLUESKY_MAX_ITEMS 1000 /* items kept from one answer; more are skipped */

/* ---- sessions ---- */

struct ck_bluesky_session {
    char *access_jwt;  /* secret */
    char *refresh_jwt; /* secret */
    char *did;
    char *handle;
    int64_t access_exp_ms;  /* the access JWT's exp (UTC ms), INT64_MIN when unreadable */
    int64_t refresh_exp_ms; /* same for the refresh JWT */
};
/* Wipes the JWTs before freeing them; zeroes s. NULL is fine. */
void ck_bluesky_session_finish(struct ck_bluesky_session *s);

/* POST {base_url}/xrpc/com.atproto.server.createSession with
 * {"identifier": identifier, "password": app_password}. The password is in the
 * body only; no error message ever quotes it. CK_EINVAL for a missing value.
 * *out zeroed first; on failure it holds nothing. */
int ck_bluesky_create_session_request(const char *base_url, const char *identifier,
                                      const char *app_password, struct ck_request *out,
                                      struct ck_error *err);

/* POST {base_url}/xrpc/com.atproto.server.refreshSession, Authorization:
 * Bearer refresh_jwt, no body. CK_EINVAL for a missing token or one with a
 * line break. */
int ck_bluesky_refresh_session_request(const char *base_url, const char *refresh_jwt,
                                       struct ck_request *out, struct ck_error *err);

/* Parse a createSession or refreshSession answer (same shape: accessJwt,
 * refreshJwt, did, handle). The JWTs' exp claims are read from their payloads
 * (not verified: only the server does that; we only want to know when to
 * refresh). A 400/401 with ExpiredToken/InvalidToken is CK_EAUTH, another
 * non-2xx CK_EHTTP, a bad body CK_EPARSE. *out zeroed on failure. */
int ck_bluesky_parse_session(const struct ck_response *resp, struct ck_bluesky_session *out,
                             struct ck_error *err);

/* The exp claim of a JWT (UTC ms) or INT64_MIN when it has none or is not a
 * JWT. Never fails loudly: a token we cannot read is refreshed on the first
 * ExpiredToken answer instead. */
int64_t ck_bluesky_jwt_exp_ms(const char *jwt);

/* Whether the access token should be refreshed now: it expires within
 * margin_ms of now_ms. An unknown expiry is not guessed (false): the first
 * ExpiredToken answer triggers the refresh instead. */
bool ck_bluesky_session_needs_refresh(const struct ck_bluesky_session *s, int64_t now_ms,
                                      int64_t margin_ms);

enum ck_bluesky_error_kind {
    CK_BLUESKY_ERR_NONE = 0,      /* 2xx, or no error object */
    CK_BLUESKY_ERR_EXPIRED,       /* {"error": "ExpiredToken"}: refresh, then retry */
    CK_BLUESKY_ERR_INVALID_TOKEN, /* {"error": "InvalidToken"}: sign in again */
    CK_BLUESKY_ERR_AUTH_REQUIRED, /* AuthenticationRequired / 401 */
    CK_BLUESKY_ERR_RATE_LIMITED,  /* 429 or RateLimitExceeded */
    CK_BLUESKY_ERR_NOT_FOUND,     /* RecordNotFound / NotFound */
    CK_BLUESKY_ERR_OTHER,
};
/* Classify an XRPC error answer ({"error": NAME, "message": TEXT}). */
enum ck_bluesky_error_kind ck_bluesky_error_kind(const struct ck_response *resp);
/* "NAME: message" from the answer, control characters as spaces, cut to fit
 * buf (n >= 1), or "" when there is none. */
void ck_bluesky_error_text(const struct ck_response *resp, char *buf, size_t n);

/* ratelimit-limit / -remaining / -reset (epoch seconds) into rl (known = true).
 * Returns 0, or CK_EPARSE when they are missing or malformed (rl unchanged). */
int ck_bluesky_ratelimit(const struct ck_response *resp, struct ck_ratelimit *rl);

/* ---- following: app.bsky.feed.searchPosts ---- */

struct ck_bluesky_search {
    const char *hashtag; /* with or without '#'; q = "#hashtag" unless q is set */
    const char *q;       /* free query, overrides the hashtag's */
    bool tag_filter;     /* also send tag=hashtag (drops posts whose tag has no facet) */
    int64_t since_ms;    /* INT64_MIN: none; sent as ISO time */
    int64_t until_ms;    /* INT64_MIN: none */
    int limit;           /* 1..100, else 100 */
    const char *cursor;  /* opaque, from the previous page, or NULL */
};
/* GET {base_url}/xrpc/app.bsky.feed.searchPosts?q=..&sort=latest&limit=..
 * [&tag=..][&since=..][&until=..][&cursor=..]; access_jwt may be NULL (public
 * AppView). CK_EINVAL for no hashtag/q or a token with a line break. */
int ck_bluesky_search_request(const char *base_url, const char *access_jwt,
                              const struct ck_bluesky_search *q, struct ck_request *out,
                              struct ck_error *err);

struct ck_bluesky_page {
    json_t *posts;  /* new reference: array of PostView objects that passed the checks */
    char *cursor;   /* next page, or NULL at the end */
    size_t skipped; /* items dropped: not an object, no at:// uri, no cid, no record */
};
void ck_bluesky_page_finish(struct ck_bluesky_page *p);
/* Parse a searchPosts answer ({"posts": [...], "cursor"?}) or a feed answer
 * ({"feed": [FeedViewPost...]}, items kept whole so reposts stay reposts).
 * Non-2xx is CK_EHTTP (CK_EAUTH for an expired/invalid token), a body that is
 * not such an object CK_EPARSE; bad items are skipped and counted. */
int ck_bluesky_parse_search(const struct ck_response *resp, struct ck_bluesky_page *out,
                            struct ck_error *err);

/* ---- threads: app.bsky.feed.getPostThread ---- */

/* GET .../xrpc/app.bsky.feed.getPostThread?uri=..&depth=..&parentHeight=0
 * (depth 0..1000, else 1000). */
int ck_bluesky_thread_request(const char *base_url, const char *access_jwt, const char *uri,
                              int depth, struct ck_request *out, struct ck_error *err);
/* The replies below the thread's post, flattened depth-first into a new array
 * of PostViews (*out, new reference). notFound/blocked replies and bad items
 * are skipped; at most CK_BLUESKY_MAX_ITEMS. */
int ck_bluesky_parse_thread(const struct ck_response *resp, json_t **out, struct ck_error *err);

/* ---- one post: com.atproto.repo.getRecord ---- */

/* Split "at://AUTHORITY/COLLECTION/RKEY" into new strings (any may be NULL
 * to skip). CK_EINVAL when uri is not that shape or a part has bad characters. */
int ck_bluesky_uri_split(const char *uri, char **authority, char **collection, char **rkey);

/* GET .../xrpc/com.atproto.repo.getRecord?repo=DID&collection=app.bsky.feed.post&rkey=RKEY */
int ck_bluesky_get_record_request(const char *base_url, const char *access_jwt, const char *repo,
                                  const char *rkey, struct ck_request *out, struct ck_error *err);

struct ck_bluesky_record {
    char *uri, *cid;
    char *text;         /* the record's text */
    int64_t created_ms; /* record.createdAt, INT64_MIN when absent */
};
void ck_bluesky_record_finish(struct ck_bluesky_record *r);
/* Parse a getRecord answer {uri, cid, value}. CK_ENOTFOUND when the server
 * says RecordNotFound (the post was never made: safe to send), CK_EHTTP for
 * another error (not safe to assume anything), CK_EPARSE for a bad body. */
int ck_bluesky_parse_record(const struct ck_response *resp, struct ck_bluesky_record *out,
                            struct ck_error *err);

/* ---- posting: com.atproto.repo.createRecord ---- */

/* A record key chosen before sending: the atproto TID of time_us (microseconds
 * since the epoch, < 2^53) and clock_id (0..1023), 13 characters of
 * base32-sortable ("234567abcdefghijklmnopqrstuvwxyz"). buf holds 14 bytes.
 * Returns 0 or CK_EINVAL. */
int ck_bluesky_tid(int64_t time_us, unsigned clock_id, char buf[14]);

/* Turns "@name.bsky.social" (handle without '@') into a DID, or NULL when
 * unknown (then the mention gets no facet and stays plain text). */
typedef const char *(*ck_bluesky_resolve_fn)(const char *handle, void *arg);

/* A strongRef to a post. */
struct ck_bluesky_ref {
    const char *uri, *cid;
};

struct ck_bluesky_post {
    const char *repo; /* the poster's DID */
    const char *rkey; /* from ck_bluesky_tid, recorded with the intent before sending */
    const char *text; /* valid UTF-8, at most 300 graphemes / 3000 bytes */
    int64_t created_ms;
    const char *const *langs;           /* NULL-terminated list or NULL */
    struct ck_bluesky_ref root, parent; /* both set (threading) or both NULL */
    ck_bluesky_resolve_fn resolve;      /* may be NULL: no mention facets */
    void *resolve_arg;
};

/* The facets of text as an app.bsky.richtext.facet array (new reference):
 * #hashtags (tag facets), http(s):// links (link facets) and @handle mentions
 * the resolver knows (mention facets), with UTF-8 byte offsets. */
json_t *ck_bluesky_facets(const char *text, ck_bluesky_resolve_fn resolve, void *arg);

/* The @handles of text that would get mention facets (without the '@', each
 * once, in order): a new array of strings, NULL out of memory. */
json_t *ck_bluesky_mention_handles(const char *text);

/* GET .../xrpc/com.atproto.identity.resolveHandle?handle=HANDLE (token may be
 * NULL), and its answer: 0 and *did_out (new), CK_ENOTFOUND when no account
 * has that handle (400 InvalidRequest "Unable to resolve handle"), CK_EPARSE
 * for an answer without a DID, CK_EHTTP/CK_EAUTH/CK_ERATELIMIT otherwise. */
int ck_bluesky_resolve_handle_request(const char *base_url, const char *token, const char *handle,
                                      struct ck_request *out, struct ck_error *err);
int ck_bluesky_parse_resolve_handle(const struct ck_response *resp, char **did_out,
                                    struct ck_error *err);

/* POST .../xrpc/com.atproto.repo.createRecord with {repo, collection:
 * "app.bsky.feed.post", rkey, record: {$type, text, createdAt, facets?, langs?,
 * reply?}}. CK_EINVAL for a missing field, invalid UTF-8, a text over the
 * limit, a half reply ref or a bad rkey. */
int ck_bluesky_create_record_request(const char *base_url, const char *access_jwt,
                                     const struct ck_bluesky_post *post, struct ck_request *out,
                                     struct ck_error *err);
/* Parse its answer {uri, cid} into new strings. CK_EHTTP / CK_EAUTH / CK_EPARSE. */
int ck_bluesky_parse_create_record(const struct ck_response *resp, char **uri_out, char **cid_out,
                                   struct ck_error *err);

/* Grapheme clusters in s (valid UTF-8 assumed; an invalid byte counts as
 * one). Approximate: extended clusters are built from combining marks,
 * variation selectors, ZWJ sequences, skin-tone modifiers, tag sequences,
 * regional-indicator pairs, Hangul jamo and CR LF; other Grapheme_Extend /
 * SpacingMark characters outside the tables start a new cluster. */
size_t ck_bluesky_graphemes(const char *s);

/* ---- reading ---- */

/* Normalise a PostView, a FeedViewPost ({post, reason?}: a reasonRepost is a
 * boost by reason.by) or a threadViewPost into *out. Returns 0, CK_EPARSE or
 * CK_ENOMEM. */
int ck_bluesky_normalise(const json_t *raw, struct ck_message *out, struct ck_error *err);
/* The raw item's id, borrowed: the post's at:// URI; for a repost feed item
 * the repost record's URI (reason.uri; NULL when the AppView did not send it,
 * then the item is refused rather than confused with the post). */
const char *ck_bluesky_item_id(const json_t *raw);
int64_t ck_bluesky_item_time(const json_t *raw);
const char *ck_bluesky_item_version(const json_t *raw);

/* ck_platform_bluesky (platform.h) is this platform on the whole interface
 * (bluesky_ops.c). */

#endif
