/* Inside the runner's console hook (runconsole.h): the live messages and the
 * hook's state, shared by runconsole.c (messages, life), runconsole_snapshot.c
 * (what the page shows), runconsole_ctl.c (controls) and runconsole_people.c
 * (the people panels). */
#ifndef CHATKEEPER_RUNCONSOLE_INT_H
#define CHATKEEPER_RUNCONSOLE_INT_H

#include <stdint.h>

#include "chatkeeper/group.h"
#include "chatkeeper/handoff.h"
#include "chatkeeper/grouping.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/postlen.h"
#include "chatkeeper/runconsole.h"
#include "chatkeeper/strset.h"

/* One captured message as the page shows it. Strings owned. */
struct live_msg {
    char *id, *reply_to, *handle, *name, *text, *url;
    char *lhandle; /* handle in lowercase: how the panels compare people */
    int64_t created_ms;
    struct ck_group_msg g; /* scanned once; assigned on every regroup */
    uint8_t mention;       /* mentions a host account (rescanned when the hosts change) */
    uint8_t ask;           /* has a question mark */
    /* Filed by a regroup since it came (or changed): until then it has no
     * question, so "waiting for a host" leaves it out rather than show an
     * answer tagged A3 as a mention for a moment. */
    uint8_t filed;
    size_t person;     /* index into the runconsole's people (by lhandle) */
    unsigned long seq; /* taken in this order: names a version of a message */
    /* The page's object for it, made once and again only when how it was
     * filed or its parent changed: every view shares it (ck_rc_message_json). */
    json_t *js;
    int js_by;
    unsigned long js_parent; /* seq of the parent it shows, 0: none */
};

/* One author, by handle in lowercase. */
struct rc_person {
    char *lhandle;
    uint8_t earlier; /* wrote in an earlier session of the series */
    uint8_t host;    /* a facilitator, or the account the run sheet goes out from */
    uint8_t shown;   /* on the newcomers panel now */
};

/* One source of the run as the capture-health panel shows it. */
struct rc_source {
    struct ck_follower *f; /* borrowed; the hook is registered on it */
    char name[160], type[32];
    size_t pages_seen, streamed_seen;
    int64_t last_ok_ms;        /* the last page or streamed status that came back well */
    int64_t newest_ms, lag_ms; /* the newest message's time, and its age when it came */
    size_t taken;              /* messages the hook handed over */
};
#define RC_MAX_SOURCES 8

struct ck_runconsole {
    struct ck_console *con;
    struct ck_runconsole_view v;

    /* The journal read so far. */
    long journal_off;
    struct live_msg **msgs; /* by arrival */
    size_t n, cap;
    struct live_msg **slots; /* open addressing by id */
    size_t n_slots;
    struct ck_grouping *grouping;
    size_t grouped_n;         /* messages at the last regroup */
    size_t posted_seen;       /* posted steps at the last regroup */
    int regroup;              /* something changed since */
    int64_t regroup_after_ns; /* CLOCK_MONOTONIC: no regroup before (its cost, spread) */
    /* The questions' counts and newest answers, and the totals, as of the last
     * regroup: rebuilt only when grouping ran again, not on every tick. */
    unsigned long gen, cached_gen;
    json_t *q_cache;
    size_t people, unfiled;

    /* Capture health per source as the hook and the ticks saw it. */
    struct rc_source src[RC_MAX_SOURCES];
    size_t n_src;

    /* The people panels (runconsole_people.c): handles (lowercase) of the
     * series' earlier sessions, the hosts (facilitators and the account the
     * run sheet went out from), what was dismissed, and what the panels show. */
    struct ck_strset earlier, hosts, dismissed_people, dismissed_posts;
    struct ck_strset shown_posts;
    struct rc_person *persons;
    size_t n_persons, cap_persons;
    size_t *pslots; /* open addressing: lhandle -> person index + 1 */
    size_t n_pslots;
    unsigned long seq;
    size_t hosts_n;           /* hosts when mentions were last scanned */
    unsigned long people_gen; /* gen at the last panels' build */
    int people_dirty;         /* messages, hosts or dismissals changed since */
    json_t *people_cache;     /* {"newcomers": [...], "mentions": [...], ...} */

    /* The run sheet held: the step timer stopped since held_since_ms. */
    int held;
    int64_t held_since_ms;
    /* Held across a restart: the upcoming steps' times, parked out of reach
     * of the poster's catch-up (ck_poster_resume) until the run resumes. */
    int64_t *parked; /* by schedule index; 0: not parked */

    struct ck_handoff ctl; /* the page's controls, handed to the loop */
    int detached;
    int awake; /* messages read and the hook on (at attach, or a lazy view's first page) */
};

/* runconsole_ctl.c */
/* A control the page sent, carried out on the loop (handoff.h's take). */
void ck_rc_take(void *arg, const char *body, size_t len, int *status, char **reply);
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
/* The message with this id, or NULL. */
struct live_msg *ck_rc_find(struct ck_runconsole *rc, const char *id);

/* runconsole_snapshot.c */
/* Publish what the page shows now (the console sends only what changed). */
void ck_rc_publish(struct ck_runconsole *rc);
/* A message as the page shows it (text, names, time, reply context): a new
 * reference to the object every view shares; never modify it. */
json_t *ck_rc_message_json(struct ck_runconsole *rc, struct live_msg *m);

/* runconsole_people.c */
/* Read the handles of the series' earlier sessions (sibling folders of the
 * same hashtag that started before this one) and the dismissals in state.json. */
void ck_rc_people_init(struct ck_runconsole *rc);
void ck_rc_people_finish(struct ck_runconsole *rc);
/* Set m->mention and m->ask against the hosts known now. */
void ck_rc_people_scan(const struct ck_runconsole *rc, struct live_msg *m);
/* The newcomers and unanswered-mentions panels, rebuilt when something changed. Borrowed. */
json_t *ck_rc_people_json(struct ck_runconsole *rc);
/* A lowercase copy of a handle (ASCII: handles are), new; NULL on out of memory. */
char *ck_rc_lower(const char *s);
/* The index of the person with this lowercase handle, added if new; -1 on
 * out of memory. ck_rc_person_find does not add. */
long ck_rc_person(struct ck_runconsole *rc, const char *lhandle);
long ck_rc_person_find(const struct ck_runconsole *rc, const char *lhandle);

#endif
