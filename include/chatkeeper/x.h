/* X (Twitter) API v2: following a hashtag (recent search), threads
 * (conversation_id search), one tweet by id, posting (POST /2/tweets) with an
 * OAuth 2.0 user token or OAuth 1.0a HMAC-SHA1 signing, rate limits, and the
 * weighted length X counts against 280. Pure, like every platform module:
 * requests are built as data (struct ck_request) and answers parsed from
 * struct ck_response; no sockets, files, clock or randomness (the OAuth nonce
 * and timestamp, and "now" where a window is clamped, are inputs).
 *
 * Ids are decimal strings everywhere (they pass 2^53: never parsed as
 * numbers). Every answer comes from a server we do not control: every field
 * is type-checked, bad items are skipped and counted, never trusted. Secrets
 * (tokens, OAuth keys) never appear in an error message.
 *
 * The normaliser (tweet -> ck_message) is ck_platform_x (x.c); the objects
 * it reads are tweets in twarc2's flattened shape, which ck_x_page_items
 * makes from an API page, for the live follower and the importer alike. */
#ifndef CHATKEEPER_X_H
#define CHATKEEPER_X_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/request.h"
#include "chatkeeper/ratelimit.h"

#define CK_X_MAX_WEIGHTED 280 /* a tweet's weighted length limit (twitter-text config v3) */
#define CK_X_URL_WEIGHT 23    /* every URL counts as a t.co link */
#define CK_X_MAX_RESULTS 100  /* search/recent page size */
#define CK_X_MIN_RESULTS 10
#define CK_X_MAX_QUERY 512 /* query length on the self-serve tiers */

/* ---- pages: an API answer into journal objects ---- */

/* tweet (a v2 tweet object, borrowed) in twarc2's flattened shape: its author
 * from includes.users as "author", its media from includes.media (by
 * attachments.media_keys) as attachments.media, and each referenced tweet
 * found in includes.tweets embedded (flattened too, with its "type") in its
 * referenced_tweets entry. A reference whose tweet is not in includes stays
 * {type, id}. New reference, or NULL on out of memory. */
json_t *ck_x_flatten(const json_t *tweet, const json_t *includes);

/* The objects to journal from a v2 answer page (search page, tweet lookup
 * with "data": {...}, or a stream line): *out (new array) holds first each
 * data item flattened (ck_x_flatten; a non-object item as it is, for the
 * caller to report), in the API's order — *n_own of them — then the
 * included tweets they point at: retweeted and quoted originals and the
 * other versions of edit chains (not replied-to parents: context the search
 * did not return), flattened, none twice. 0 or CK_ENOMEM. */
int ck_x_page_items(const json_t *page, json_t **out, size_t *n_own, struct ck_error *err);

/* The originals a flattened tweet carries inside it, as objects of their
 * own (*out, new array, maybe empty): a v1.1 tweet's retweeted_status and
 * quoted_status; a flattened v2 tweet's retweeted and quoted references
 * that are whole tweets (id, text, created_at), without the "type" member
 * flattening added. Journaled beside the tweet, they make a retweet a boost
 * under its original in a twarc2 "flattened" file or a twarc 1 file, where
 * no line of its own holds the original. 0 or CK_ENOMEM. */
int ck_x_embedded(const json_t *tweet, json_t **out, struct ck_error *err);

/* ---- following: GET /2/tweets/search/recent ---- */

struct ck_x_search {
    /* What to search: a hashtag ("#tag" or "tag": query "#tag -is:retweet",
     * or "#tag" when retweets is true), or, when conversation_id is set, the
     * thread under a tweet (query "conversation_id:ID", retweets never). */
    const char *hashtag;
    const char *conversation_id;
    bool retweets;
    const char *since_id; /* NULL: none. Newer than this id */
    const char *until_id; /* NULL: none. Older than this id */
    int64_t start_ms;     /* INT64_MIN: none. Sent as YYYY-MM-DDTHH:MM:SSZ (seconds) */
    int64_t end_ms;       /* INT64_MIN: none */
    /* INT64_MIN: none. When set, the window is clamped to what X accepts at
     * now_ms: end_time at least 10 s in the past, start_time within the last
     * 7 days (a minute spare); a window that clamps to nothing is CK_EINVAL. */
    int64_t now_ms;
    int max_results;        /* 10..100, else 100 */
    const char *next_token; /* opaque, from the previous page's meta, or NULL */
};

/* The fields asked for, so a journaled tweet is a whole message: author,
 * referenced tweets (retweets, quotes, replies), media with alt text,
 * note_tweet (long posts), edit history, public metrics, conversation id,
 * entities (t.co links, mentions, hashtags). Exposed for tests and docs. */
extern const char ck_x_expansions[];
extern const char ck_x_tweet_fields[];
extern const char ck_x_user_fields[];
extern const char ck_x_media_fields[];

/* GET {base_url}/2/tweets/search/recent?query=..&max_results=..&[since_id,
 * until_id, start_time, end_time, next_token]&expansions=..&tweet.fields=..
 * &user.fields=..&media.fields=.. with "Authorization: Bearer TOKEN" (the
 * app-only bearer token; NULL for none). CK_EINVAL for no hashtag and no
 * conversation id, a hashtag or id with characters X's query would read as
 * operators, an id that is not decimal, a token with a line break, an empty
 * clamped window. *out zeroed first; owned on success. */
int ck_x_search_request(const char *base_url, const char *bearer, const struct ck_x_search *q,
                        struct ck_request *out, struct ck_error *err);

/* GET {base_url}/2/tweets/ID with the same expansions and fields: one tweet
 * by id (our own post after a restart, a quoted post). */
int ck_x_tweet_request(const char *base_url, const char *bearer, const char *id,
                       struct ck_request *out, struct ck_error *err);

struct ck_x_page {
    json_t *items;         /* new reference: ck_x_page_items of the answer (objects with an id) */
    size_t n_own;          /* the first n_own items are the answer's own tweets */
    char *next_token;      /* meta.next_token: more (older) results, or NULL */
    char *newest_id;       /* meta.newest_id, or NULL: the next poll's since_id */
    char *oldest_id;       /* meta.oldest_id, or NULL */
    long result_count;     /* meta.result_count; -1 when the page has none (never trusted) */
    size_t n_errors;       /* "errors" beside "data": objects X could not show */
    char first_error[160]; /* the first one's title and detail, control bytes as ' ', or "" */
    size_t skipped;        /* data items left out: not an object, no decimal string id */
};
void ck_x_page_finish(struct ck_x_page *p);

/* Parse a search/recent or tweet lookup answer. A 2xx page without "data"
 * is an empty page (no results); "errors" beside "data" are counted and the
 * tweets kept; an answer with "errors" and no "data" is CK_ENOTFOUND for a
 * lookup of a tweet that is gone ("Not Found Error"), else CK_EHTTP. Non-2xx:
 * CK_EAUTH (401, 403), CK_ERATELIMIT (429), CK_EHTTP (others); a body that
 * is not a JSON object CK_EPARSE. Status 0 is taken as 2xx (tests, saved
 * pages). On failure *out is zeroed. */
int ck_x_parse_search(const struct ck_response *resp, struct ck_x_page *out, struct ck_error *err);

/* x-rate-limit-limit / -remaining / -reset (epoch seconds) into rl (known =
 * true; the reset capped at now_ms + CK_RATELIMIT_MAX_WAIT_MS, as
 * ck_ratelimit_update does); a 429 also sets blocked_until_ms to the reset.
 * Returns 0, or CK_EPARSE when they are missing or malformed (rl unchanged). */
int ck_x_ratelimit(const struct ck_response *resp, int64_t now_ms, struct ck_ratelimit *rl);

/* ---- posting: POST /2/tweets ---- */

/* OAuth 1.0a keys, as in oauth1_env / oauth1_file:
 * "consumer_key:consumer_secret:access_token:access_token_secret". */
struct ck_x_oauth1 {
    char *consumer_key, *consumer_secret, *token, *token_secret; /* owned, secret */
};
/* Split s (surrounding whitespace and a final newline ignored) into *out.
 * CK_EINVAL (saying which part, never quoting it) when it is not four
 * non-empty parts of printable ASCII without spaces. */
int ck_x_oauth1_parse(const char *s, struct ck_x_oauth1 *out, struct ck_error *err);
/* Wipes and frees the keys; zeroes k. NULL is fine. */
void ck_x_oauth1_finish(struct ck_x_oauth1 *k);

/* RFC 5849 percent-encoding (section 3.6): every byte but ALPHA, DIGIT,
 * '-', '.', '_', '~' as %XX with upper-case hex. New string or NULL. */
char *ck_x_oauth_encode(const char *s);

/* The signature base string (RFC 5849 section 3.4.1) of method and url (its
 * query parameters included, decoded then re-encoded) with the oauth_*
 * parameters and the extra name/value pairs params (n_params pairs, e.g. a
 * form body's; may be NULL), sorted by encoded name then value. New string
 * or NULL (out of memory, or a URL that is not absolute http(s)). */
char *ck_x_oauth1_base_string(const char *method, const char *url, const char *const *oauth_params,
                              size_t n_oauth, const char *const *params, size_t n_params);

/* The value of the Authorization header for a request signed with k:
 * "OAuth oauth_consumer_key=..., oauth_nonce=..., oauth_signature=...,
 * oauth_signature_method="HMAC-SHA1", oauth_timestamp=..., oauth_token=...,
 * oauth_version="1.0"". HMAC-SHA1 is OpenSSL's libcrypto. nonce: caller's
 * random string of [A-Za-z0-9] (a fresh one per request); timestamp: epoch
 * seconds. params as for ck_x_oauth1_base_string (a JSON body is not
 * signed). *out: new string. 0, CK_EINVAL (bad nonce, URL) or CK_ENOMEM. */
int ck_x_oauth1_header(const struct ck_x_oauth1 *k, const char *method, const char *url,
                       const char *const *params, size_t n_params, const char *nonce,
                       int64_t timestamp, char **out, struct ck_error *err);

/* How a post is authorised: a user-context token (OAuth 2.0 bearer), or
 * OAuth 1.0a keys with the request's nonce and timestamp. Exactly one. */
struct ck_x_auth {
    const char *user_token;           /* OAuth 2.0 user access token, or NULL */
    const struct ck_x_oauth1 *oauth1; /* or these */
    const char *nonce;                /* for oauth1 */
    int64_t timestamp;                /* for oauth1, epoch seconds */
};

/* POST {base_url}/2/tweets with {"text": text} and, when reply_to is set,
 * "reply": {"in_reply_to_tweet_id": reply_to}. CK_EINVAL for a missing or
 * invalid-UTF-8 text, a weighted length over CK_X_MAX_WEIGHTED, a reply_to
 * that is not decimal, no auth or both kinds, a token with a line break. */
int ck_x_post_request(const char *base_url, const struct ck_x_auth *auth, const char *text,
                      const char *reply_to, struct ck_request *out, struct ck_error *err);

enum ck_x_post_error {
    CK_X_POST_OK = 0,
    CK_X_POST_AUTH,         /* 401: bad or expired token, bad signature: fix the credentials */
    CK_X_POST_READ_ONLY,    /* 403: the app or token may not write (oauth1-permissions) */
    CK_X_POST_DUPLICATE,    /* 403: "duplicate content": this text was posted already */
    CK_X_POST_FORBIDDEN,    /* 403: another refusal (suspended account, ...) */
    CK_X_POST_RATE_LIMITED, /* 429: wait for x-rate-limit-reset */
    CK_X_POST_SERVER,       /* 5xx: may or may not have been posted: look before retrying */
    CK_X_POST_OTHER,        /* another status, or a 2xx without data.id */
};

/* Parse a POST /2/tweets answer (201 {"data": {"id", "text"}}) into *id_out
 * (new string, decimal). *kind (may be NULL) says what a failure was; the
 * error message carries X's title/detail (control bytes as spaces).
 * Returns 0; CK_EAUTH (AUTH, READ_ONLY), CK_EHTTP (DUPLICATE, FORBIDDEN,
 * SERVER, OTHER), CK_ERATELIMIT, CK_EPARSE (a 2xx whose body is not
 * {"data": {"id": DECIMAL}}: kind OTHER). An "errors" array beside a good
 * "data" is ignored (the post exists). */
int ck_x_parse_post(const struct ck_response *resp, char **id_out, enum ck_x_post_error *kind,
                    struct ck_error *err);

/* ---- length ---- */

/* The weighted length of text as X counts it (twitter-text config v3):
 * code points in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and
 * U+2032-U+2037 weigh 1, every other code point 2 (CJK, emoji), an emoji
 * ZWJ sequence or a flag counts as one emoji (2), and each http(s):// URL
 * (or bare domain.tld/path) weighs CK_X_URL_WEIGHT whatever its length.
 * Text is NFC-normalised by X first; we count it as given. Invalid UTF-8
 * bytes weigh 2 each (X would refuse them anyway). */
size_t ck_x_weighted_length(const char *text);

#endif
