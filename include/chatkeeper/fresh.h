/* What in a page is new and fit to journal: the follower's dedupe.
 *
 * An item is kept when it normalises (a bare {"id": ...} or a status without
 * its created_at or account is skipped: it would grow the journal and show
 * nothing), its (id, version) is not already journaled, and its id has not
 * come earlier in the same page. A hash set does the in-page check, so a
 * hostile page of 100,000 items costs linear time, not 100,000 squared. */
#ifndef CHATKEEPER_FRESH_H
#define CHATKEEPER_FRESH_H

#include <stddef.h>

#include <jansson.h>

#include "chatkeeper/hset.h"
#include "chatkeeper/message.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/strset.h"

#define CK_FRESH_KEY_MAX 512

struct ck_fresh {
    size_t *idx;    /* indexes into the page's items of the kept ones, API order */
    char **authors; /* each kept item's author id (borrowed from msgs, may be NULL) */
    /* Each kept item normalised (owned): the follower hands them on to whoever
     * shows the live chat (the console), so nothing normalises them twice. */
    struct ck_message *msgs;
    size_t n;
    size_t duplicates; /* an id that came earlier in the same page: so the page
                          holds json_array_size(items) - duplicates distinct ids */
    size_t known;      /* (id, version) already journaled */
    size_t bad;        /* did not normalise, or no usable id */
    char bad_why[200]; /* the first bad item's reason, or "" */
};

/* The dedupe key "id\nversion" of obj in key; returns its id (borrowed), or
 * NULL for an object without one or with an absurdly long one. */
const char *ck_fresh_key(const struct ck_platform_ops *ops, const json_t *obj,
                         char key[CK_FRESH_KEY_MAX]);

/* Select the fresh items of items (borrowed) against seen (keys as made by
 * ck_fresh_key). *out is zeroed first. Returns 0 or CK_ENOMEM (*out empty). */
int ck_fresh_select(const struct ck_platform_ops *ops, const json_t *items,
                    const struct ck_hset *seen, struct ck_fresh *out);
void ck_fresh_finish(struct ck_fresh *f);

#endif
