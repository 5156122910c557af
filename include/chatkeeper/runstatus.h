/* What a run tells the person watching it: the status line drawn on a
 * terminal once a second, and the one-line tally of thread fetching.
 *
 * Pure formatting (no clock, no I/O) so that every wording is unit-tested:
 * a status line is read at a glance, so it says only what changes a
 * decision (where the chat is, what comes next and when, what was captured,
 * and whether anything is failing) and nothing that is always zero. */
#ifndef CHATKEEPER_RUNSTATUS_H
#define CHATKEEPER_RUNSTATUS_H

#include <stddef.h>
#include <stdint.h>

struct ck_run_status {
    const char *clock;  /* local wall time, "19:03:12"; borrowed */
    const char *phase;  /* "waiting", "lead", "chat", "grace", "sweeping", ...; borrowed */
    const char *step;   /* label of the last step that was due ("Q3"), or NULL */
    const char *next;   /* what comes next ("Q4", "following starts", "the chat ends"), or NULL */
    int64_t next_in_ms; /* until next; shown rounded up to the second */
    int following;      /* 0 before following starts: no counts are shown then */
    size_t messages;    /* distinct messages captured */
    size_t people;      /* distinct authors */
    size_t failing;     /* requests failed since the last good page (0: all is well) */
    int rate_limited;   /* 1 while pacing holds a request back for a 429 */
};

/* Write the status line into buf (always NUL-terminated when n > 0), e.g.
 *   "19:23:10  chat Q2  Q3 in 4m50s  120 messages  34 people"
 *   "09:08:58  waiting  following starts in 9h51m2s"
 *   "20:41:03  sweeping  130 messages  35 people  3 requests failed, retrying"
 * Fields are separated by two spaces; counts are singular when 1. Returns the
 * length the full line needs (as snprintf does). */
size_t ck_run_status_format(const struct ck_run_status *s, char *buf, size_t n);

/* How thread fetching went. Every root that was wanted ends in exactly one of
 * fetched, covered, gone or left, so the four add up to wanted. */
struct ck_replies_tally {
    size_t wanted;   /* statuses whose threads may hold replies we lack */
    size_t fetched;  /* threads fetched */
    size_t covered;  /* not fetched: already inside a thread fetched before */
    size_t gone;     /* not fetched: deleted or made private (404/410) */
    size_t left;     /* not fetched: the deadline or request budget came first */
    size_t requests; /* requests sent, retries included */
};

/* One line accounting for every wanted thread, e.g.
 *   "19 thread(s) may hold replies: 18 fetched, 1 already inside a fetched thread"
 *   "3 thread(s) may hold replies: 1 fetched, 1 deleted or private, 1 not fetched (deadline);
 *    5 requests"
 * The request count is shown only when retries made it differ from the threads
 * fetched. Returns the length the full line needs (as snprintf does). */
size_t ck_replies_summary(const struct ck_replies_tally *t, const char *left_why, char *buf,
                          size_t n);

#endif
