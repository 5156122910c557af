/* Inside the runner's console hook (runconsole.h): the live messages and the
 * hook's state, shared by runconsole.c (view) and runconsole_ctl.c (controls). */
#ifndef CHATKEEPER_RUNCONSOLE_INT_H
#define CHATKEEPER_RUNCONSOLE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "chatkeeper/group.h"
#include "chatkeeper/grouping.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/postlen.h"
#include "chatkeeper/runconsole.h"

/* One captured message as the page shows it. Strings owned. */
struct live_msg {
    char *id, *reply_to, *handle, *name, *text, *url;
    int64_t created_ms;
    struct ck_group_msg g; /* scanned once; assigned on every regroup */
};

struct ck_runconsole {
    struct ck_console *con;
    struct ck_runconsole_view v;
    uv_async_t async;

    /* The journal read so far. */
    long journal_off;
    struct live_msg **msgs; /* by arrival */
    size_t n, cap;
    size_t *slots; /* open addressing: id -> index + 1 */
    size_t n_slots;
    struct ck_grouping *grouping;
    size_t grouped_n;   /* messages at the last regroup */
    size_t posted_seen; /* posted steps at the last regroup */
    int regroup;        /* something changed since */
    /* The questions' counts and newest answers, and the totals, as of the last
     * regroup: rebuilt only when grouping ran again, not on every tick. */
    unsigned long gen, cached_gen;
    json_t *q_cache;
    size_t people, unfiled;

    /* Capture health as the ticks saw it. */
    size_t pages_seen;
    int64_t last_page_ms;

    /* The run sheet held: the step timer stopped since held_since_ms. */
    int held;
    int64_t held_since_ms;
    /* Held across a restart: the upcoming steps' times, parked out of reach
     * of the poster's catch-up (ck_poster_resume) until the run resumes. */
    int64_t *parked; /* by schedule index; 0: not parked */

    /* Hand-off of one control from an HTTP thread to the loop. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *body; /* borrowed from the waiting HTTP thread; parsed on the loop */
    size_t len;
    char *reply; /* JSON text, made on the loop */
    int status;
    int done, detached;
};

/* runconsole_ctl.c */
void ck_rc_on_async(uv_async_t *a);
void ck_rc_handler(void *arg, const char *body, size_t len, int *status, char **reply);
/* Apply state.json's "console" member (edits, skips, moved times) after a restart. */
void ck_rc_restore(struct ck_runconsole *rc);
/* Label of a run-sheet entry ("Q3"), whether it is a step, its index or -1. */
long ck_rc_find_step(const struct ck_runconsole *rc, const char *label);
int ck_rc_is_step(const struct ck_sched_entry *e);
/* The poster's record status for label, or NULL. */
const char *ck_rc_step_status(const struct ck_runconsole *rc, const char *label);
/* text (as posted) judged against every source that posts, as `check` does
 * (postlen.h): 1 too long for out->source, 0 fits (out: the tightest). */
int ck_rc_postlen(const struct ck_runconsole *rc, const char *text, struct ck_postlen *out);

/* runconsole.c */
void ck_rc_publish(struct ck_runconsole *rc);

#endif
