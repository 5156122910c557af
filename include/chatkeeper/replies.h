/* Replies that dropped the hashtag: after the sweep, fetch the thread under each
 * question post and each status whose replies we have not all seen
 * (GET /api/v1/statuses/:id/context), and journal the replies made in the
 * session window. Real transcripts miss them otherwise.
 *
 * Bounded: at most max_requests requests, paced by the shared rate limit, and
 * never past the deadline. One request in flight at a time. */
#ifndef CHATKEEPER_REPLIES_H
#define CHATKEEPER_REPLIES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/error.h"
#include "chatkeeper/hset.h"
#include "chatkeeper/http.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/ratelimit.h"

struct ck_replies_conf {
    const struct ck_platform_ops *ops;
    const char *base_url, *token; /* borrowed */
    const char *journal_path;     /* read once to find the threads */
    const char *source_name;      /* only this source's lines (journal.h); NULL: all */
    int first_source;
    const json_t *extra_roots; /* borrowed array of ids (posted run-sheet steps), or NULL */
    /* Borrowed: id -> replies_count, fresher than the journal's copies (the
     * sweep's), or NULL. Only ids in the journal (of this source) count:
     * the sweep journals what is new before it notes the counts. */
    const struct ck_hset *reply_hints;
    int64_t window_start_ms, window_end_ms;
    int64_t deadline_ms;
    size_t max_requests;     /* default 200 */
    struct ck_ratelimit *rl; /* borrowed, shared with the follower */
    int64_t hold_warn_ms;    /* warn when pacing holds a request back longer; default 60 s */
    /* Journal the new objects among items (borrowed) with source "context"; the
     * follower owns dedupe. repaired (NULL when none) flags the items whose
     * bytes were repaired (see struct ck_page). Returns 0 or a negative code
     * (the fetch then stops). */
    int (*journal_new)(void *arg, json_t *items, const unsigned char *repaired);
    void *arg;
};

struct ck_replies;

/* Called once when done (status 0, even when the budget or deadline cut it
 * short: that is logged) unless closed first. */
typedef void (*ck_replies_done_cb)(int status, size_t requests, void *arg);

int ck_replies_start(uv_loop_t *loop, struct ck_http *http, const struct ck_replies_conf *conf,
                     ck_replies_done_cb cb, void *cb_arg, struct ck_replies **out,
                     struct ck_error *err);

/* Stop; free once nothing is in flight and the timer is closed. */
void ck_replies_close(struct ck_replies *t);

#endif
