/* A platform: how one social network's API is asked and answered. Platforms are
 * pure: they build requests as data and parse responses; they never touch
 * sockets, files or the clock. Mastodon first; Bluesky and X plug in here. */
#ifndef CHATKEEPER_PLATFORM_H
#define CHATKEEPER_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/http.h"
#include "chatkeeper/message.h"

/* A page query on the hashtag timeline; NULL fields are left out. */
struct ck_timeline_query {
    const char *min_id;
    const char *max_id;
    const char *since_id;
    int limit; /* capped at the platform's maximum (40 on Mastodon) */
};

/* A parsed page. One bad status never costs the rest of its page: bytes a
 * JSON parser rejects are repaired first (ck_json_repair), an item that still
 * does not parse, is not an object or has no non-empty string id is skipped
 * (counted, and the first reason kept for the log), and the rest are kept. */
struct ck_page {
    json_t *items;     /* new reference: array of raw objects, in the API's order */
    char *next_max_id; /* from Link rel="next" (older), or NULL */
    char *prev_min_id; /* from Link rel="prev" (newer), or NULL */
    /* Per item of items: 1 when bytes inside it were repaired (its journal line
     * says so); NULL when nothing was. */
    unsigned char *repaired;
    size_t repairs;     /* bytes or escapes replaced by U+FFFD */
    size_t skipped;     /* items left out */
    char skip_why[160]; /* why the first one was, or "" */
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

struct ck_platform_ops {
    const char *name;
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
    int (*parse_context)(const struct ck_response *resp, struct ck_page *out,
                         struct ck_error *err);
    /* The raw object's id (borrowed) or NULL. */
    const char *(*item_id)(const json_t *raw);
    /* When the object was created (UTC ms), or INT64_MIN when unknown. */
    int64_t (*item_time)(const json_t *raw);
    /* A string that changes when the object is edited (borrowed) or NULL. */
    const char *(*item_version)(const json_t *raw);
    /* Normalise a raw object. Returns 0, CK_EPARSE (missing/invalid fields) or CK_ENOMEM. */
    int (*normalise)(const json_t *raw, struct ck_message *out, struct ck_error *err);
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
};

/* The platform named name ("mastodon"), or NULL. */
const struct ck_platform_ops *ck_platform_find(const char *name);

extern const struct ck_platform_ops ck_platform_mastodon;
extern const struct ck_platform_ops ck_platform_x; /* archive-only: normalise, no timeline */

/* Parse an RFC 8288 Link header: the URL with rel=rel (new string) or NULL. */
char *ck_link_find(const char *link_header, const char *rel);
/* The value of query parameter name in url (new, percent-decoded) or NULL. */
char *ck_url_query_param(const char *url, const char *name);

#endif
