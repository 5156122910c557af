/* A platform: how one social network's API is asked and answered. Platforms are
 * pure: they build requests as data and parse responses; they never touch
 * sockets, files or the clock. Everything the run layer asks a network goes
 * through struct ck_platform_ops; nothing outside src/platforms/ names a
 * platform's own functions. */
#ifndef CHATKEEPER_PLATFORM_H
#define CHATKEEPER_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/request.h"
#include "chatkeeper/message.h"
#include "chatkeeper/ratelimit.h"

/* A page query on the hashtag. The cursors are opaque strings the follower
 * got from the platform and hands back; NULL fields are left out.
 *  - CK_PAGING_IDS platforms (Mastodon): item ids are the cursors. after asks
 *    for the page just newer than that id (min_id), before for the page just
 *    older (max_id).
 *  - CK_PAGING_CURSOR platforms (Bluesky searchPosts, X recent search): pages
 *    only run from the newest backwards; before is the previous page's older
 *    cursor (Bluesky's cursor, X's next_token) and since_ms / until_ms bound
 *    the window on the server (Bluesky since/until, X start_time/end_time). */
struct ck_timeline_query {
    const char *after;  /* forward cursor (CK_PAGING_IDS only) */
    const char *before; /* backward cursor */
    int64_t since_ms;   /* 0: none. Oldest created time wanted (CK_PAGING_CURSOR) */
    int64_t until_ms;   /* 0: none. Newest created time wanted (CK_PAGING_CURSOR) */
    int limit;          /* capped at the platform's maximum (40 on Mastodon) */
    bool reposts;       /* X: retweets too (the session's "retweets"); else left out */
};

/* A parsed page. One bad status never costs the rest of its page: bytes a
 * JSON parser rejects are repaired first (ck_json_repair), an item that still
 * does not parse, is not an object or has no non-empty string id is skipped
 * (counted, and the first reason kept for the log), and the rest are kept. */
struct ck_page {
    json_t *items; /* new reference: array of raw objects, in the API's order */
    char *older;   /* opaque cursor of the next older page (Link rel="next", Bluesky's
                  * cursor, X's next_token), or NULL at the end */
    char *newer;   /* opaque cursor of the next newer page (Link rel="prev"), or NULL */
    /* Per item of items: 1 when bytes inside it were repaired (its journal line
     * says so); NULL when nothing was. */
    unsigned char *repaired;
    size_t repairs;     /* bytes or escapes replaced by U+FFFD */
    size_t skipped;     /* items left out */
    char skip_why[160]; /* why the first one was, or "" */
    /* 0: every item is the answer's own. Else only the first n_own are; the
     * rest are context it carried (X's retweeted and quoted originals), to
     * journal but not to page by: their times say nothing of the window. */
    size_t n_own;
};
void ck_page_finish(struct ck_page *p);

/* ---- repairing bytes a JSON parser rejects ----
 * Invalid UTF-8 (each maximal ill-formed subpart), and inside strings "\u0000",
 * an unpaired surrogate escape ("\ud83d" alone), a broken escape and a raw NUL
 * all become U+FFFD; other raw control characters in strings become "\u00XX".
 * Everything else is copied as is: a valid document comes out byte for byte the
 * same. While scanning, the elements of a top-level array are located, so a
 * page whose structure holds can be parsed item by item. */
struct ck_json_span {
    size_t start, end; /* [start, end) in text */
    bool repaired;     /* a repair fell inside */
};
struct ck_json_repaired {
    char *text; /* owned, NUL-terminated, len bytes before the NUL */
    size_t len;
    size_t repairs;
    struct ck_json_span *spans; /* the top-level array's elements (owned) */
    size_t n_spans;
    size_t root_end; /* offset just past the root value, 0 if it never closed */
    bool array;      /* the root is an array */
    bool complete;   /* the root closed, with only whitespace after it */
};
/* Returns 0 or CK_ENOMEM (then *out is empty). */
int ck_json_repair(const char *text, size_t len, struct ck_json_repaired *out);
void ck_json_repaired_finish(struct ck_json_repaired *r);

/* One event of a platform's live stream, parsed. */
enum ck_stream_kind {
    CK_STREAM_OTHER,  /* an event we do not use (filters_changed, ...) */
    CK_STREAM_UPDATE, /* a new post: item */
    CK_STREAM_EDIT,   /* a post edited: item (its new version) */
    CK_STREAM_DELETE, /* a post deleted: id */
};
struct ck_stream_item {
    enum ck_stream_kind kind;
    json_t *item;  /* new reference (UPDATE, EDIT): the raw object, as in a timeline page */
    char *id;      /* owned (DELETE) */
    bool repaired; /* bytes of item were repaired (see ck_json_repair) */
};
void ck_stream_item_finish(struct ck_stream_item *it);

/* How a platform pages its tag search (struct ck_timeline_query). */
enum ck_paging {
    CK_PAGING_IDS = 0, /* ids are cursors, both ways (Mastodon) */
    CK_PAGING_CURSOR,  /* newest first, an opaque cursor backwards, a time window (Bluesky, X) */
};

/* What makes a post exactly-once across retries and kill -9. */
enum ck_post_once {
    CK_ONCE_SERVER_KEY = 0, /* the server deduplicates on the key (Mastodon's
                             * Idempotency-Key): resending with it is safe */
    CK_ONCE_RECORD_KEY,     /* the key names the record (Bluesky's rkey): after a
                             * restart, look it up (post_lookup_request) before
                             * sending again */
    CK_ONCE_FIND_OWN,       /* no key reaches the server (X): the key only marks
                             * the intent (and when it was made); before sending
                             * again, look for our own post with the step's text
                             * (post_lookup_request), with the account's id from
                             * account_request when the session has none */
};

/* A post to reply to: its id and, where the platform needs it, its version
 * (Bluesky's cid for a strongRef). Both NULL: not a reply. */
struct ck_post_ref {
    const char *id;
    const char *version;
};

/* A post to send. Strings borrowed. */
struct ck_post {
    const char *text;
    const char *key;                   /* from post_key, recorded with the intent before sending */
    const char *account;               /* the signed-in account (Bluesky: the DID), or NULL */
    struct ck_post_ref reply_to, root; /* root: the thread's first post (Bluesky) */
    int64_t created_ms;                /* the record's creation time (Bluesky), UTC ms;
                                        * the moment of sending (X: OAuth 1.0a timestamp) */
    const char *nonce; /* a fresh random [A-Za-z0-9]+ per request (X: OAuth 1.0a), or NULL */
    /* Mentions resolved before sending (platforms with resolve_request):
     * {handle: account id, or null when it did not resolve}; NULL: none.
     * A mention not in it, or null, stays plain text. */
    const json_t *mentions;
};

/* A post the server made (or found): new strings, free with ck_posted_finish. */
struct ck_posted {
    char *id;      /* Mastodon status id, Bluesky at:// URI */
    char *url;     /* where people see it */
    char *version; /* Bluesky cid, or NULL */
};
void ck_posted_finish(struct ck_posted *p);

/* A session's tokens (sign-in platforms): new strings, secrets wiped by
 * ck_signin_finish. */
struct ck_signin {
    char *token;            /* the bearer for every other request (secret) */
    char *refresh;          /* to refresh it (secret), or NULL */
    char *account;          /* the account's stable id (Bluesky DID) */
    int64_t token_exp_ms;   /* when token runs out (UTC ms), INT64_MIN unknown */
    int64_t refresh_exp_ms; /* same for refresh */
};
void ck_signin_finish(struct ck_signin *s);

struct ck_platform_ops {
    const char *name;

    /* ---- following the tag ---- */
    enum ck_paging paging;
    /* CK_PAGING_CURSOR: how far behind the newest post seen each poll re-reads
     * (search indexes late); 0: the follower's default. Where every read is
     * billed (X) it is short: the final sweep re-reads the whole window. */
    int64_t overlap_ms;
    /* Reads are billed (X): poll slower while the chat is quiet. */
    bool reads_cost;
    /* The most items a page may ask for (X: 100); 0: 40, Mastodon's. */
    int page_max;
    /* GET the hashtag's timeline. base_url without trailing slash; token may be NULL
     * (then no Authorization header). A leading '#' on hashtag is dropped. *out is
     * zeroed first and owns its strings on success (free with ck_request_finish);
     * on failure it holds nothing. CK_EINVAL for an empty hashtag or a token with
     * a line break (header injection). */
    int (*timeline_request)(const char *base_url, const char *token, const char *hashtag,
                            const struct ck_timeline_query *q, struct ck_request *out,
                            struct ck_error *err);
    /* Parse a 2xx timeline response. A body that is not a JSON array even after
     * repair, or whose array does not close (truncated), is CK_EPARSE; bad items
     * are skipped as struct ck_page says (never trusted, never fatal).
     * A status outside 200-299 is CK_EHTTP (0 is taken as "not known", e.g. tests).
     * On failure *out is zeroed. */
    int (*parse_timeline)(const struct ck_response *resp, struct ck_page *out,
                          struct ck_error *err);
    /* GET the thread around status id (replies that dropped the hashtag). NULL
     * when the platform has no such call. */
    int (*context_request)(const char *base_url, const char *token, const char *id,
                           struct ck_request *out, struct ck_error *err);
    /* Parse it: out->items are the replies below the status (raw objects), with
     * bytes repaired and bad items skipped as for a timeline page (repaired
     * marks every item when any byte of the response was). CK_EPARSE when
     * there is no descendants array; CK_EHTTP as for the timeline. */
    int (*parse_context)(const struct ck_response *resp, struct ck_page *out, struct ck_error *err);
    /* The raw object's id (borrowed) or NULL. */
    const char *(*item_id)(const json_t *raw);
    /* When the object was created (UTC ms), or INT64_MIN when unknown. */
    int64_t (*item_time)(const json_t *raw);
    /* A string that changes when the object is edited (borrowed) or NULL. */
    const char *(*item_version)(const json_t *raw);
    /* Normalise a raw object. Returns 0, CK_EPARSE (missing/invalid fields) or CK_ENOMEM. */
    int (*normalise)(const json_t *raw, struct ck_message *out, struct ck_error *err);
    /* import: a saved API answer (a tag page, a thread) as its items, a new
     * array reference; NULL when v is no such answer (then it is one item or
     * nothing). NULL op: the platform's saved answers are items already. */
    json_t *(*unwrap_saved)(const json_t *v);
    /* Compare two ids in the platform's order (<0, 0, >0); ids are opaque
     * strings, so this is length then bytes for numeric ids and bytes for ULIDs. */
    int (*id_cmp)(const char *a, const char *b);
    /* Optional (NULL: the platform has no stream; poll only). A streaming GET
     * of new posts on the hashtag as server-sent events, built as
     * timeline_request is. */
    int (*stream_request)(const char *base_url, const char *token, const char *hashtag,
                          struct ck_request *out, struct ck_error *err);
    /* Parse one event (its name and data as the SSE parser gives them). A
     * post that does not read as one (not JSON even after repair, not an
     * object, no id) is CK_EPARSE, never trusted; an unknown event is
     * CK_STREAM_OTHER. On failure *out is zeroed. */
    int (*parse_stream_event)(const char *event, const char *data, size_t len,
                              struct ck_stream_item *out, struct ck_error *err);
    /* Optional (NULL: the stream is served under base_url). Where the
     * platform serves its stream when it names a host of its own: ask
     * (attempt 0, then 1 when the first answer names none or is refused),
     * and parse the answer into the base URL for stream_request (new
     * string). CK_ENOTFOUND: the answer names none (use base_url). */
    int (*stream_base_request)(const char *base_url, int attempt, struct ck_request *out,
                               struct ck_error *err);
    int (*parse_stream_base)(const struct ck_response *resp, const char *base_url, char **out,
                             struct ck_error *err);

    /* ---- one post by id (the publish re-check) ----
     * NULL when the platform cannot be asked. parse_exists: 0 the post is
     * there, CK_ENOTFOUND it is gone (404, RecordNotFound), CK_EHTTP/CK_EAUTH
     * for other answers (nothing may be assumed). */
    int (*status_request)(const char *base_url, const char *token, const char *id,
                          struct ck_request *out, struct ck_error *err);
    int (*parse_exists)(const struct ck_response *resp, struct ck_error *err);

    /* ---- posting ---- */
    enum ck_post_once once;
    /* Write a fresh exactly-once key into buf (n bytes) from a time and 32
     * random bits the caller supplies (platforms have no clock). 0 or
     * CK_EINVAL (buf too small). */
    int (*post_key)(int64_t now_ms, uint32_t random, char *buf, size_t n);
    /* The request that posts p. token (and p->account where needed) from the
     * session. CK_EAUTH without a token, CK_EINVAL for a bad field. */
    int (*post_request)(const char *base_url, const char *token, const struct ck_post *p,
                        struct ck_request *out, struct ck_error *err);
    /* Its answer: 0 and *out filled, or CK_EHTTP/CK_EAUTH/CK_EPARSE/CK_ENOMEM. */
    int (*parse_post)(const struct ck_response *resp, struct ck_posted *out, struct ck_error *err);
    /* CK_ONCE_RECORD_KEY and CK_ONCE_FIND_OWN only (else NULL): ask whether
     * the post p->key names (or, on X, our own post with p->text) exists;
     * parse: 0 and *out filled (it was made), CK_ENOTFOUND (never made: safe
     * to send), another code (ask again later). */
    int (*post_lookup_request)(const char *base_url, const char *token, const struct ck_post *p,
                               struct ck_request *out, struct ck_error *err);
    int (*parse_post_lookup)(const struct ck_response *resp, const struct ck_post *p,
                             struct ck_posted *out, struct ck_error *err);
    /* NULL, or who the posting credential is (X: GET /2/users/me), for a
     * lookup that needs the account's id and has none (p->account NULL):
     * parse_account gives it (*account: new string). p: the nonce and time. */
    int (*account_request)(const char *base_url, const char *token, const struct ck_post *p,
                           struct ck_request *out, struct ck_error *err);
    int (*parse_account)(const struct ck_response *resp, char **account, struct ck_error *err);
    /* The server's own words for a failed request, control characters as
     * spaces, cut to fit buf (n >= 1), "" when there are none. */
    void (*error_text)(const struct ck_response *resp, char *buf, size_t n);

    /* ---- mentions (NULL on platforms whose mentions need no lookup) ----
     * mention_handles: the handles in text a post would link (a new array of
     * strings, each once; NULL out of memory). resolve_request asks for one
     * handle's account id; parse_resolve: 0 and *id_out (new), CK_ENOTFOUND
     * (no such account: the mention stays plain text), another code (a
     * fault: ask again another time). */
    json_t *(*mention_handles)(const char *text);
    int (*resolve_request)(const char *base_url, const char *token, const char *handle,
                           struct ck_request *out, struct ck_error *err);
    int (*parse_resolve)(const struct ck_response *resp, char **id_out, struct ck_error *err);
    /* ---- limits ---- */
    long max_post_len; /* the platform's fixed limit, or its usual one when asked */
    /* text's length as the platform counts it (characters, graphemes). */
    size_t (*text_len)(const char *text);
    /* NULL, or how the platform counts, for messages ("X (links count 23, ...)"). */
    const char *len_rule;
    /* NULL when max_post_len is fixed; else ask the instance (Mastodon
     * /api/v2/instance) and parse its limit (0, CK_EHTTP, CK_EPARSE). */
    int (*limits_request)(const char *base_url, const char *token, struct ck_request *out,
                          struct ck_error *err);
    int (*parse_limits)(const struct ck_response *resp, long *max_len, struct ck_error *err);

    /* ---- sessions (NULL on platforms with a static token) ----
     * signin_request: identifier and secret (an app password) in, a session
     * out (parse_signin); refresh_request: the refresh token in, the same
     * answer. Secrets only in the body or Authorization, never in an error. */
    int (*signin_request)(const char *base_url, const char *identifier, const char *secret,
                          struct ck_request *out, struct ck_error *err);
    int (*refresh_request)(const char *base_url, const char *refresh, struct ck_request *out,
                           struct ck_error *err);
    int (*parse_signin)(const struct ck_response *resp, struct ck_signin *out,
                        struct ck_error *err);
    /* Whether an answer says the token ran out (refresh, then ask again). */
    bool (*token_expired)(const struct ck_response *resp);

    /* ---- rate limits ----
     * Take the answer's rate-limit headers (received at now_ms) into rl:
     * X-RateLimit-* on Mastodon and X, ratelimit-* on Bluesky; a 429's wait. */
    void (*ratelimit_update)(struct ck_ratelimit *rl, const struct ck_response *resp,
                             int64_t now_ms);
};

/* The platform named name ("mastodon"), or NULL. */
const struct ck_platform_ops *ck_platform_find(const char *name);

extern const struct ck_platform_ops ck_platform_mastodon;
extern const struct ck_platform_ops ck_platform_x;
extern const struct ck_platform_ops ck_platform_bluesky;

/* Parse an RFC 8288 Link header: the URL with rel=rel (new string) or NULL. */
char *ck_link_find(const char *link_header, const char *rel);
/* The value of query parameter name in url (new, percent-decoded) or NULL. */
char *ck_url_query_param(const char *url, const char *name);

#endif
