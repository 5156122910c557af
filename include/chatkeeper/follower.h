/* The follower: follows a hashtag on the loop, losslessly and politely.
 *
 *  - At start without a cursor it catches up: newest page, then backwards with
 *    max_id to the window's start.
 *  - Then it polls: pages forward with min_id from an anchor a few statuses
 *    behind the cursor (the overlap catches statuses that became visible out of
 *    id order) until a page comes back short.
 *  - At follow_until it sweeps the whole window backwards with max_id (statuses a
 *    server fetched late get ids from their publish time, below the cursor).
 *
 * A hostile server cannot stop or flood it: bad bytes are repaired and bad
 * items skipped (struct ck_page), only items that normalise are journaled
 * (fresh.h), a page of more than 5 x page_limit items is cut, a full page that
 * moves nothing (same ids, a cursor ignored, one status repeated) ends the
 * cycle with one warning per kind, rate-limit waits are capped (ratelimit.h)
 * and a pacing hold longer than a poll interval is logged.
 *
 * Every page is journaled and fsync'd before the cursor in state.json moves.
 * Dedupe is on (id, version), loaded from the journal at create, so a restart
 * after kill -9 continues with nothing lost and nothing doubled. Every wait
 * (poll interval, backoff, rate-limit pacing, a 429's reset) is clamped to the
 * current deadline: follow_until while following, sweep_until while sweeping.
 *
 * On a platform that pages only backwards with an opaque cursor (Bluesky's
 * searchPosts), catch-up and the sweep read the window down with since/until,
 * and every poll reads from the newest down until it has re-read `overlap`
 * posts it already had (as a Mastodon poll re-reads `overlap` statuses behind
 * its cursor), never below overlap_ms before the newest post seen; a post the
 * search indexed later than that is found by the sweep.
 *
 * Streaming (conf.streaming, and a platform with stream_request): while
 * following, the tag's live stream runs beside the polls. Each status it
 * brings is journaled (source "stream") and fsync'd at once. The timeline
 * stays the backfill and the check: polled at once when the stream opens or
 * reopens, then every stream_poll_ms instead of the poll interval. When the
 * stream is refused (any non-2xx), closed by the server, silent for
 * stream_idle_ms or broken, the follower polls at the normal interval again,
 * says so once (a warning; later ones are debug lines, counted at the end),
 * and retries the stream with backoff. The sweep and the threads never stream. */
#ifndef CHATKEEPER_FOLLOWER_H
#define CHATKEEPER_FOLLOWER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/error.h"
#include "chatkeeper/http.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/message.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/ratelimit.h"

struct ck_follower_conf {
    const struct ck_platform_ops *ops;
    const char *base_url;               /* borrowed, must outlive the follower */
    const char *token;                  /* borrowed, may be NULL */
    const char *hashtag;                /* borrowed */
    const char *journal_path;           /* read at create to rebuild dedupe state */
    const char *state_path;             /* state.json, saved after each page */
    int64_t window_start_ms;            /* start - lead (created_at): catch-up, sweep stop below */
    int64_t window_end_ms;              /* created_at bound of the window; 0: follow_until_ms */
    int64_t chat_start_ms, chat_end_ms; /* poll_chat_ms applies in [start, end) */
    int64_t follow_until_ms;            /* end + grace */
    int64_t sweep_until_ms;             /* the sweep gives up (with a warning) after this */
    int64_t poll_chat_ms, poll_quiet_ms;
    int streaming;          /* follow the live stream where the platform has one */
    int64_t stream_poll_ms; /* poll interval while the stream is up; default 12 x poll_chat_ms */
    int64_t stream_idle_ms; /* a stream silent this long is dead; default 45 s */
    /* Several sources in one session (issue 11): this one's stable name,
     * written as each journal line's "from" (NULL: none, a one-source
     * session), whether it is the first source (which also owns the lines
     * without a "from"), and its members of state.json (NULL: "follower" for
     * its cursor, "steps" for the run sheet's posts whose threads it fetches). */
    const char *source_name;
    int first_source;
    const char *state_key, *steps_key;
    int overlap;        /* statuses re-read behind the cursor; default 20 */
    int64_t overlap_ms; /* CK_PAGING_CURSOR platforms: each poll re-reads the posts created
                         * this long before the newest one seen; default 10 minutes */
    /* A sign-in platform answered that the token ran out: called (may be
     * NULL) so the sign-in layer refreshes it; token is a buffer it rewrites
     * in place, so the retry carries the new one. */
    void (*auth_expired)(void *arg);
    void *auth_arg;
    int page_limit; /* default and at most ops->page_max (40 when 0) */
    /* Reads are billed (X): the poll interval adapts to the chat's pace, up to
     * CK_FOLLOW_ADAPT_MAX times poll_chat_ms / poll_quiet_ms while polls bring
     * nothing new, back to them as soon as one brings several. */
    int adaptive;
    int reposts; /* ask for reposts too (X's "retweets": true; they cost reads) */
};
#define CK_FOLLOW_ADAPT_MAX 6
#define CK_FOLLOW_ADAPT_BUSY 3       /* new posts in one poll that mean "busy" */
#define CK_FOLLOW_ADAPT_CAP_MS 60000 /* and never slower than this (unless the base is) */

struct ck_follower_stats {
    size_t messages; /* distinct ids journaled */
    size_t people;   /* distinct authors */
    size_t requests, pages, errors, rate_limited;
    size_t journaled; /* lines appended by this process */
    size_t streamed;  /* of which from the stream */
    size_t stream_connects, stream_drops;
    char last_error[200]; /* why the last request failed ("" if none has) */
};

struct ck_follower;

/* Called once when the follower finishes (status 0: swept and done; else the
 * fatal error) or, after ck_follower_stop, never. */
typedef void (*ck_follower_done_cb)(struct ck_follower *f, int status, void *arg);

/* loop, http, journal: borrowed, must outlive the follower. state: borrowed; the
 * follower owns its "follower" member and saves the whole object. conf is copied
 * (its strings are borrowed). */
int ck_follower_create(uv_loop_t *loop, struct ck_http *http, struct ck_journal *journal,
                       json_t *state, const struct ck_follower_conf *conf, struct ck_follower **out,
                       struct ck_error *err);

/* Begin (or continue) following. The done callback runs later, never inside this call. */
int ck_follower_start(struct ck_follower *f, ck_follower_done_cb cb, void *arg);

void ck_follower_get_stats(const struct ck_follower *f, struct ck_follower_stats *out);
/* Whether the live stream is open now. */
int ck_follower_streaming(const struct ck_follower *f);
/* "idle", "catch-up", "waiting", "polling", "sweeping", "done", "stopped". */
const char *ck_follower_state_name(const struct ck_follower *f);

/* The live view's hook (the console): called on the loop for each message
 * right after its line is journaled and fsync'd, with the message as the
 * follower normalised it (borrowed for the call) and the journal source of
 * its page ("timeline", "stream", "sweep", "context"). cb NULL: none. */
typedef void (*ck_follower_msg_cb)(void *arg, const struct ck_follower *f, const char *source,
                                   const struct ck_message *m);
void ck_follower_on_message(struct ck_follower *f, ck_follower_msg_cb cb, void *arg);
/* The request budget as the server's last headers gave it (ratelimit.h). */
void ck_follower_get_ratelimit(const struct ck_follower *f, struct ck_ratelimit *out);

/* Stop: no more requests; a transfer in flight is ignored when it completes or is
 * cancelled (close the http client to cancel it). The done callback will not run. */
void ck_follower_stop(struct ck_follower *f);

/* Stop, close the timer, free f after the loop delivers the close; then
 * closed_cb(arg) (may be NULL). Close the http client first if a transfer may
 * be in flight, so its callback does not outlive f. */
void ck_follower_close(struct ck_follower *f, void (*closed_cb)(void *arg), void *arg);

#endif
