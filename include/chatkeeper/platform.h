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

/* A parsed page. */
struct ck_page {
    json_t *items;     /* new reference: array of raw objects, in the API's order */
    char *next_max_id; /* from Link rel="next" (older), or NULL */
    char *prev_min_id; /* from Link rel="prev" (newer), or NULL */
};
void ck_page_finish(struct ck_page *p);

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
    /* Parse a 2xx timeline response. Malformed JSON or a non-array is CK_EPARSE;
     * items that are not objects with a string "id" are CK_EPARSE too (never trusted).
     * A status outside 200-299 is CK_EHTTP (0 is taken as "not known", e.g. tests).
     * On failure *out is zeroed. */
    int (*parse_timeline)(const struct ck_response *resp, struct ck_page *out,
                          struct ck_error *err);
    /* GET the thread around status id (replies that dropped the hashtag). NULL
     * when the platform has no such call. */
    int (*context_request)(const char *base_url, const char *token, const char *id,
                           struct ck_request *out, struct ck_error *err);
    /* Parse it: *out is a new reference to an array of the replies below the
     * status (raw objects). CK_EPARSE for anything malformed. */
    int (*parse_context)(const struct ck_response *resp, json_t **out, struct ck_error *err);
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
