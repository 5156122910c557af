/* The runner's insides, shared by runner.c (the run: phases, steps, the end),
 * runner_tick.c (once a second: failures, live outputs, the status line) and
 * runner_setup.c (session, directory, lock, state; the dry run). Private to
 * src/run/. */
#ifndef CHATKEEPER_RUNNER_INT_H
#define CHATKEEPER_RUNNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/config.h"
#include "chatkeeper/follower.h"
#include "chatkeeper/http.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/log.h"
#include "chatkeeper/poster.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/schedule.h"

enum phase { P_WAITING, P_LEAD, P_CHAT, P_GRACE, P_SWEEP, P_ARCHIVE, P_DONE };

/* One source of the session (issue 11: "platforms"): its own follower
 * (cursor, rate limit, backoff), sign-in and poster, and its members of
 * state.json. The first source keeps the one-source names ("follower",
 * "steps"), so a session that gains a second source continues where it was. */
#define MAX_SOURCES 8
struct runner;
struct ck_archive_stats;
struct source {
    struct runner *r;
    const struct ck_platform_conf *pc; /* borrowed from r->s */
    char *token;                       /* owned, NULL without one */
    char *post_token;     /* owned: X's user token or OAuth 1.0a keys (posting), or NULL */
    struct ck_auth *auth; /* the token requests carry (auth.h); NULL without one */
    struct ck_follower *follower;
    struct ck_poster *poster; /* NULL when not posting there */
    char state_key[160], steps_key[160];
    int done;           /* its follower finished, or failed (status_rc) */
    int follow_pending; /* the lead time came before the sign-in: start on it */
    int status_rc;
};

struct ck_runner_group {
    struct runner *head;   /* the runners started with this group */
    int64_t next_build_ms; /* no refresh build of the group before this */
    int building;          /* builds running as child processes (runner_build.c) */
};

struct runner {
    uv_loop_t *loop;
    struct ck_runner_group *group; /* NULL when alone on its loop */
    struct runner *gnext;
    ck_runner_done_cb done;
    void *done_arg;
    int closing; /* handles and parts whose close has not been delivered yet */
    int lock_fd; /* flock on <dir>/.lock: one process per session directory */
    struct ck_session s;
    struct ck_schedule sch;
    char dir[4096];
    char journal_path[4200], state_path[4200];
    struct ck_journal *journal;
    json_t *state;
    struct ck_http *http;
    struct source src[MAX_SOURCES];
    size_t n_src;
    struct ck_follower *follower; /* the first source's: non-NULL once following is set up */
    int posting;                  /* any source has a poster */
    struct ck_step_handler handlers[MAX_SOURCES];
    size_t n_handlers;
    struct ck_alerts *alerts; /* NULL when the session has no "alerts" */
    int rehearsal;
    int no_poster; /* the chat is over and there is no token: observe instead */
    /* With --speed the run sheet is scaled to the wall, but created_at stays on
     * the chat's own clock (the simulator's): the window it must fall in. */
    int scaled;
    int64_t chat_lead_ms, chat_after_ms; /* lead; duration + grace, unscaled */
    uv_timer_t start_timer, step_timer, tick_timer;
    size_t next_step;
    const struct ck_sched_entry *last_step;
    struct ck_step_handler handler;
    int status_line, status_drawn;
    int exit_code;
    int stopping;

    /* Progress of the follower as the tick saw it: a request that fails with no
     * good page since is a failure streak, which ends a run after the window. */
    size_t pages_seen, errors_seen, limited_seen;
    int64_t failing_since_ms; /* 0: the last request went well */
    int64_t give_up_ms;
    /* Capture stalls: no successful read for stall_ms during the chat. */
    size_t reads_seen;
    int64_t last_read_ms, stall_ms;
    int end_code;            /* ck_runner__end: the status once the alerts are out */
    int ending;              /* the run is over; only alerts are still going out */
    int64_t alerts_until_ms; /* ck_runner__end waits no longer than this */
    int64_t quiet_until_ms;  /* the final build waits for quiet until this */

    /* Outputs refreshed during the chat, so latecomers can catch up. */
    int following; /* the follower was started before end + grace */
    int64_t refresh_ms, next_refresh_ms;
    int refreshed;       /* 0 until the outputs were first written by this run */
    size_t refreshed_at; /* the follower's journaled count at that refresh */
    int64_t build_ms;    /* how long the last refresh blocked the loop */

    struct ck_runconsole *console; /* the console's hook (runconsole.h), or NULL */
    /* serve: the directory's name, on every line this session logs (log.h);
     * empty under `run`, whose lines stay as they are. */
    char log_tag[128];

    /* An archive build in a child process (runner_build.c; serve only). */
    uv_process_t build_proc;
    uv_pipe_t build_pipe;
    int building, build_handles, no_spawn;
    int final_wait; /* following is over; the final build waits its turn */
    int64_t build_exit;
    uint64_t build_t0;
    char build_out[512];
    size_t build_len;
    size_t build_journaled; /* the follower's journaled count the refresh started at */
    void (*build_cb)(struct runner *r, int status, const struct ck_archive_stats *st);
    char incomplete[400]; /* ck_runner__finish's reason, kept across the build */
    int has_incomplete;
};

/* A timer callback of the runner's that sets its session's log tag around
 * body (ck_log_tag_swap), so serve's journal tells the sessions apart. */
#define CK_RUNNER_TAGGED(name, body)                                                               \
    static void name(uv_timer_t *t)                                                                \
    {                                                                                              \
        const char *was = ck_log_tag_swap(((struct runner *)t->data)->log_tag);                    \
        body(t);                                                                                   \
        ck_log_tag_swap(was);                                                                      \
    }

/* A run after the chat retries an unreachable platform this long, then stops
 * with a message saying the same command continues. */
#define GIVE_UP_MS 60000
/* How often the outputs are rebuilt from the journal while following. */
#define REFRESH_MS 60000
/* No successful read this long during the chat: an alert. */
#define STALL_MS (5 * 60000)

enum phase ck_runner__phase_at(const struct runner *r, int64_t now);
void ck_runner__local_time(const struct runner *r, int64_t ms, char *buf, size_t n);
int ck_runner__is_step(const struct ck_sched_entry *e);
void ck_runner__save_phase(struct runner *r, const char *phase);
/* incomplete: NULL, or why capture stopped short (see runner.c). */
void ck_runner__finish(struct runner *r, const char *incomplete);
/* Close everything; done then reports code (runner.c). */
void ck_runner__shutdown(struct runner *r, int code);
/* Start src's follower now, or once its sign-in is done (runner.c). */
void ck_runner__start_follower(struct runner *r, struct source *src);
/* Stop with code once the alerts in flight are out (at most 10 s). */
void ck_runner__end(struct runner *r, int code);
/* Whether no runner of r's group (or r alone) has a step due in the next
 * margin_ms, and the group's build budget allows a build now. */
bool ck_runner__quiet(const struct runner *r, int64_t now, int64_t margin_ms);
/* A build took took_ms: the group waits 20 times that before the next. */
void ck_runner__built(struct runner *r, int64_t took_ms);
/* The poster's problems, as alerts (ck_poster_conf.problem). */
void ck_runner__problem(void *arg, const char *cause, const char *text);
/* Several sources (runner_sources.c): every follower's stats added up, the
 * state of the one furthest behind, the posts still going out, and a step
 * handed to every poster. */
void ck_runner__all_stats(const struct runner *r, struct ck_follower_stats *out);
const char *ck_runner__all_state(const struct runner *r);
int ck_runner__posters_busy(const struct runner *r);
void ck_runner__fan_out_due(void *self, const struct ck_sched_entry *e, int64_t late_ms);
/* The sign-in, follower and (when the run sheet goes there) poster of one
 * source. Returns 0 or an exit status. */
struct ck_runner_opts;
int ck_runner__create_source(struct runner *r, struct source *src, const struct ck_runner_opts *o,
                             int64_t now);
struct ck_archive_stats;
/* The "done" alert: counts, and the write-up's address when it was published. */
void ck_runner__alert_done(struct runner *r, const struct ck_archive_stats *st);

/* runner_build.c: start `chatkeeper archive DIR` as a child process; cb runs
 * on the loop when it has exited (status 0 and its counts, or its exit
 * status). Returns 0, or -1 when the runner must build in-process. */
int ck_runner__build(struct runner *r,
                     void (*cb)(struct runner *r, int status, const struct ck_archive_stats *st));
/* Shutdown: stop a build (the outputs stay the last complete ones). */
void ck_runner__build_stop(struct runner *r);
/* One part of the runner finished closing (runner.c). */
void ck_runner__part_closed(struct runner *r);

/* runner_tick.c */
void ck_runner__status_erase(int after, void *arg);
void ck_runner__status_draw(struct runner *r);
void ck_runner__on_tick(uv_timer_t *t);

/* runner_setup.c: load the session and apply opts, make and lock the
 * directory, save session.json, open state and journal. Returns 0 or an exit
 * status. */
int ck_runner__prepare(struct runner *r, const struct ck_runner_opts *o);

#endif
