/* Shared by follower.c (the cycle: catch-up, polls), follower_end.c (the
 * sweep and the threads), follower_page.c (what one page does) and
 * follower_stream.c (the live stream). Private to src/run/. */
#ifndef CHATKEEPER_RUN_FOLLOWER_INT_H
#define CHATKEEPER_RUN_FOLLOWER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/backoff.h"
#include "chatkeeper/follower.h"
#include "chatkeeper/hset.h"
#include "chatkeeper/ratelimit.h"
#include "chatkeeper/replies.h"
#include "chatkeeper/sse.h"
#include "chatkeeper/strset.h"

#define RING_MAX 64
/* A page asked for page_limit items that brings more than this many times as
 * many is hostile (or broken): the rest is left for the next page to bring. */
#define PAGE_CAP_FACTOR 5
/* Pacing holds longer than this are always reported; shorter ones (still
 * longer than a poll interval) at most once per this long. */
#define HOLD_ALWAYS_MS 60000

/* Things a hostile or broken server can make happen on every page: each kind
 * is a warning the first time and a debug line after, with a count, so a bad
 * server cannot flood the log (or the terminal) with one line a request. */
enum noise {
    N_BAD_ITEMS,
    N_REPAIRED,
    N_OVERSIZE,
    N_STUCK_POLL,
    N_STUCK_CATCHUP,
    N_STUCK_SWEEP,
    N_RESET_CAPPED,
    N_STREAM_DOWN,
    N_STREAM_BAD,
    N_COUNT
};
enum fstate { F_IDLE, F_CATCHUP, F_WAIT, F_POLL, F_SWEEP, F_THREADS, F_DONE, F_STOPPED };

/* What the next request asks for. */
enum mode { M_FORWARD, M_BACKWARD };

struct ck_follower {
    uv_loop_t *loop;
    struct ck_http *http;
    struct ck_journal *journal;
    json_t *state;
    struct ck_follower_conf conf;
    uv_timer_t timer;
    enum fstate st;
    ck_follower_done_cb done_cb;
    void *done_arg;
    void (*closed_cb)(void *);
    void *closed_arg;
    int inflight, closing, timer_closed;

    /* Kept for the whole chat, one member a status: keyed hashes, 16 bytes
     * a member whatever the id's length (hset.h). */
    struct ck_hset seen;   /* "id\nversion": what is journaled */
    struct ck_hset ids;    /* distinct ids */
    struct ck_hset people; /* distinct author ids */
    char *ring[RING_MAX];  /* newest ids seen, ascending by id_cmp */
    size_t ring_n;

    /* The request being worked on. */
    enum mode mode;
    char *page_min_id;  /* forward: min_id of the next page (NULL: newest page) */
    char *page_max_id;  /* backward: max_id of the next page (NULL: newest page) */
    const char *source; /* journal source of the pages being fetched */

    struct ck_replies *threads; /* while fetching threads */
    /* id -> replies_count as the sweep saw it: fresher than the journal's. */
    struct ck_hset reply_hints;
    struct ck_ratelimit rl;
    struct ck_backoff backoff;
    struct ck_follower_stats stats;
    size_t noise[N_COUNT];
    int64_t hold_warned_ms;   /* when pacing last said it held a request back */
    int adapt;                /* conf.adaptive: the poll interval's factor, 1..ADAPT_MAX */
    size_t journaled_at_poll; /* stats.journaled when the poll began */

    /* The live stream (see follower.h). */
    struct ck_sse_stream sse;
    int sse_closed;          /* its timer's close callback ran */
    int stream_on;           /* streaming is wanted (conf, platform, not yet sweeping) */
    int stream_up;           /* the server accepted it and it has not ended */
    int check_pending;       /* poll as soon as the current cycle ends */
    int64_t stream_retry_ms; /* no new stream before this */
    int64_t stream_open_ms;
    struct ck_backoff stream_backoff;
    size_t stream_deletes;
    /* Where the stream is served, as the platform says (stream_base_request):
     * NULL until asked, then the named base URL or NULL for conf.base_url. */
    char *stream_base;
    int stream_base_state; /* 0 not asked, 1 asking, 2 known */
    int stream_base_attempt;
    /* Where the last timeline check ended (its overlap anchor), and whether
     * the stream journaled anything since: then the next check reads from
     * there, however many statuses the stream brought in between, so a
     * status the stream missed below the ring's overlap is still read. */
    char *check_from;
    int streamed_since_check;
    int rereading; /* this poll re-reads from check_from: full pages of known statuses are fine */

    /* CK_PAGING_CURSOR platforms (Bluesky): pages only run backwards, so a
     * poll reads from the newest down to since_ms (the newest time seen
     * minus the overlap), and a page must reach further back than the one
     * before it or the cursor is going round in circles. */
    int64_t newest_ms;      /* created time of the newest item journaled */
    int64_t since_ms;       /* the lower bound of the pages being read, 0: none */
    int64_t page_oldest_ms; /* how far back the previous page of this run reached */
    size_t poll_known;      /* posts at or below covered_top this poll re-read: its overlap */
    char *poll_top;         /* the newest id when this poll began (owned), NULL: none */
    char *covered_top;      /* polls have read everything up to this id (owned): the newest
                             * id when the last poll that reached its overlap ended. A poll
                             * cut short (a stalled cursor) leaves it: the next reads deeper. */

    ck_follower_msg_cb on_msg; /* the live view's hook (follower.h), or NULL */
    void *on_msg_arg;
};

void ck_fl_cycle_done(struct ck_follower *f);
json_t *ck_fl_fstate_json(struct ck_follower *f);
int ck_fl_idcmp(const struct ck_follower *f, const char *a, const char *b);
/* The newest id seen (the forward cursor), NULL when none. */
const char *ck_fl_cursor(const struct ck_follower *f);
void ck_fl_noisy(struct ck_follower *f, enum noise kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int64_t ck_fl_poll_interval(const struct ck_follower *f, int64_t now);
int ck_fl_remember(struct ck_follower *f, const json_t *obj, const char *author);
void ck_fl_retry_later(struct ck_follower *f, const char *why);
int ck_fl_save_state(struct ck_follower *f);
void ck_fl_schedule_at(struct ck_follower *f, int64_t want_ms);
void ck_fl_schedule_at_q(struct ck_follower *f, int64_t want_ms, int quiet);
void ck_fl_start_threads(struct ck_follower *f);
/* follower_end.c: the sweep of the window once following is over. */
void ck_fl_start_sweep(struct ck_follower *f);
/* follower.c: the state machine's state, and its end (done or stopped). */
void ck_fl_set_state(struct ck_follower *f, enum fstate s);
void ck_fl_finish(struct ck_follower *f, int status);
void ck_fl_handle_page(struct ck_follower *f, struct ck_page *page);
int ck_fl_journal_page(struct ck_follower *f, json_t *items, const unsigned char *repaired,
                       size_t *fresh_out);
void ck_fl_maybe_start_stream(struct ck_follower *f);
void ck_fl_stream_stop(struct ck_follower *f);
/* Free f once closing and nothing is in flight (follower_close.c). */
void ck_fl_maybe_free(struct ck_follower *f);
/* A transfer of f's ended (its in-flight mark already cleared): true when
 * its answer is not to be acted on, because f is closing (then freed if
 * that was the last thing it waited for), the transfer was cancelled, or f
 * has stopped or finished (follower_close.c). */
bool ck_fl_answer_unwanted(struct ck_follower *f, int status);

#endif
