/* The timetable: every step of a session as an absolute UTC instant. */
#ifndef CHATKEEPER_SCHEDULE_H
#define CHATKEEPER_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chatkeeper/config.h"

enum ck_sched_kind {
    CK_SCHED_LEAD, /* start - lead: following begins */
    CK_SCHED_WELCOME,
    CK_SCHED_QUESTION,
    CK_SCHED_CLOSING,
    CK_SCHED_END,      /* start + duration */
    CK_SCHED_GRACE,    /* end + grace: following stops */
    CK_SCHED_REMINDER, /* start - before: a reminder (number 1..n), before the lead or in it */
};

struct ck_sched_entry {
    enum ck_sched_kind kind;
    int number;                 /* question number, else 0 */
    int64_t at_ms;              /* UTC */
    const struct ck_step *step; /* borrowed from the session; NULL for LEAD/END/GRACE */
};

struct ck_schedule {
    int64_t lead_ms, start_ms, end_ms, grace_end_ms; /* UTC */
    struct ck_sched_entry *entries;                  /* sorted by at_ms (stable: run-sheet order) */
    size_t n;
};

/* Build from a loaded session. Returns 0 or CK_ENOMEM. */
int ck_schedule_build(const struct ck_session *s, struct ck_schedule *out);
void ck_schedule_finish(struct ck_schedule *sch);

/* "Q3", "welcome", "closing", "reminder2", "lead start", "end", "end of grace".
 * buf >= 16. */
const char *ck_sched_label(const struct ck_sched_entry *e, char *buf, size_t n);

/* Print the timetable: one line per entry with local time (session zone) and UTC. */
int ck_schedule_print(const struct ck_session *s, const struct ck_schedule *sch, FILE *out);

#endif
