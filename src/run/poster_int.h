/* Shared by poster.c (the steps' lifecycle and state.json) and
 * poster_send.c (sending one step, exactly once). Private to src/run/. */
#ifndef CHATKEEPER_RUN_POSTER_INT_H
#define CHATKEEPER_RUN_POSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/backoff.h"
#include "chatkeeper/poster.h"
#include "chatkeeper/ratelimit.h"

#define RETRY_BASE_MS 1000
#define RETRY_CAP_MS 30000

enum phase { PH_IDLE, PH_QUEUED, PH_SENDING, PH_WAITING, PH_DONE };

struct pstep {
    const struct ck_sched_entry *e; /* borrowed from the schedule */
    char label[16];                 /* "welcome", "Q3", "closing": the key in state.steps */
    enum phase phase;
    int64_t deadline_ms; /* retries stop here: at + missed_step_limit */
};

/* One per transfer, so a reply arriving after close finds p == NULL instead
 * of a freed poster. Freed by the HTTP callback, which always runs once. */
struct transfer {
    struct ck_poster *p;
};

struct ck_poster {
    uv_loop_t *loop;
    struct ck_http *http;
    json_t *state;
    struct ck_poster_conf conf;
    uv_timer_t timer; /* retry backoff and rate-limit waits */
    struct pstep *steps;
    size_t n;
    struct pstep *cur; /* the step in hand (sending or waiting), or NULL */
    struct transfer *inflight;
    struct ck_backoff bo;
    struct ck_ratelimit rl;
    /* CK_ONCE_FIND_OWN: the posting account's id when the session gave none
     * (asked once with ops->account_request), and each request's nonce. */
    char account[64];
    char nonce[40];
    bool closing;
    bool stopped; /* the HTTP client was closed under us: nothing more goes out */
    void (*closed_cb)(void *arg);
    void *closed_arg;
    /* Mentions (poster_mentions.c): {handle: account id or null} for the
     * run, the handles whose lookup failed in the step in hand, the one
     * being looked up, and what goes on once all are known. */
    json_t *mentions, *mention_faults;
    char resolving[256];
    void (*resolve_done)(struct ck_poster *p);
};

/* state.steps (created when missing), or NULL out of memory. */
json_t *ck_pst_steps(struct ck_poster *p);
/* The step's record in state.steps, or NULL. Borrowed. */
json_t *ck_pst_record(struct ck_poster *p, const struct pstep *st);
const char *ck_pst_str(const json_t *rec, const char *key);
/* Set the record's status (and reason, NULL: none) and save state.json. */
int ck_pst_mark(struct ck_poster *p, struct pstep *st, const char *status, const char *reason);
void ck_pst_phase(struct pstep *st, enum phase ph);
void ck_pst_finish(struct ck_poster *p, struct pstep *st);
void ck_pst_fail(struct ck_poster *p, struct pstep *st, const char *reason);
void ck_pst_pump(struct ck_poster *p);
/* Record the intent and send p->cur (poster_send.c). */
void ck_pst_attempt(struct ck_poster *p);
/* A transfer ended without an answer to act on (cancelled: the poster stops;
 * failed: retry later): 0 when the caller goes on. */
int ck_pst_transfer_ended(struct ck_poster *p, int status, const char *errmsg);
/* An HTTP callback's arg (a struct transfer) taken: freed, and its poster with
 * nothing in flight any more; NULL when the poster closed while it was out. */
struct ck_poster *ck_pst_take(void *arg);
void ck_pst_rate_update(struct ck_poster *p, const struct ck_response *resp);
/* Resolve the handles p->cur's text mentions that the run does not know yet
 * (poster_mentions.c), then then(p); at once where the platform needs none. */
void ck_pst_resolve_then(struct ck_poster *p, void (*then)(struct ck_poster *p));

#endif
