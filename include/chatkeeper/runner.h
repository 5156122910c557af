/* The session runner: one chat from the session file to the archive.
 *
 * It waits on a libuv timer until start - lead, follows the hashtag until
 * end + grace (then the follower sweeps), marks each run-sheet step when it is
 * due (through a step handler: the observer only logs; the poster plugs in
 * here), and builds the archive. SIGINT/SIGTERM flush, save state and exit;
 * running again continues the same session directory.
 *
 * While following it rebuilds the outputs from the journal about once a
 * minute (when the journal grew, never just before a step is due), so
 * `catchup` works during the chat. A run that starts after end + grace posts
 * nothing and captures the chat afterwards: the sweep reads the window back
 * (its 10-minute budget starts then), then the threads. After end + grace a
 * platform that fails every request for GIVE_UP_MS (a minute) ends the run,
 * as does a sweep that runs out of time: exit 1, saying why and that the same
 * command continues (state.json keeps where the sweep stopped; the journal
 * dedupes what is fetched again). Nothing is archived when nothing was
 * captured, and an incomplete capture is archived but never published. */
#ifndef CHATKEEPER_RUNNER_H
#define CHATKEEPER_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "chatkeeper/config.h"
#include "chatkeeper/schedule.h"

struct ck_console;

struct ck_runner_opts {
    const char *session_path;
    bool series_date;     /* session_path is a series: run its local day series_day */
    int64_t series_day;   /* (ck_series_session_at: the series and that date's file) */
    const char *out_dir;  /* NULL: <archive_dir>/<local date>-<slug> */
    bool observe;         /* follow only, post nothing */
    int64_t start_at_ms;  /* 0, or the chat starts then instead (rehearsals, tests) */
    double speed;         /* > 1 divides every offset and window (rehearsals) */
    const char *base_url; /* NULL, or replaces platform.base_url (rehearsals) */
    int64_t poll_ms;      /* 0, or the poll interval in every phase (benchmarks) */
    bool rehearsal;       /* on a local simulator: no token needed */
    int status_line;      /* -1: when stderr is a terminal, 0 never, 1 always */
    /* NULL, or the session already loaded (session_path then only names it in
     * messages): ck_runner_start and ck_runner_dry_run take it over and zero
     * *session, whatever they return. `serve` passes the last good version. */
    struct ck_session *session;
    /* NULL, or the runners sharing this loop (serve): an archive build blocks
     * the loop, so a runner builds only when no runner of the group has a step
     * due within seconds, and the group's builds together take at most 5% of
     * the time. */
    struct ck_runner_group *group;
    struct ck_console *console; /* NULL, or the console to show the run on (runconsole.h) */
    bool console_lazy;          /* its messages read only once a page opens (serve) */
    /* Build the refreshes here rather than as `<this binary> archive DIR`
     * (run/runner_build.c): for a program that is not chatkeeper (unit tests). */
    bool build_here;
};

/* One session on a loop someone else runs (`serve` runs many on one). */
struct ck_runner;

/* Runners on one loop (see ck_runner_opts.group). Free it after its runners. */
struct ck_runner_group;
struct ck_runner_group *ck_runner_group_new(void);
void ck_runner_group_free(struct ck_runner_group *g);

/* Called once, on the loop, when the runner has finished and closed every
 * handle it had: status is an exit status as ck_runner_main returns. The
 * runner may be freed (ck_runner_free) from inside the callback. */
typedef void (*ck_runner_done_cb)(struct ck_runner *r, int status, void *arg);

/* Load the session, make and lock its directory (<dir>/.lock: a second
 * process, or a second runner, on the same session is refused with status
 * 1), open its journal and state, and start it on loop. Returns 0 with *out
 * set (done will run), or an exit status (1, 2) with nothing left on the loop
 * and *out NULL. Installs no signal handler; the owner stops it. opts is only
 * read during the call. */
int ck_runner_start(uv_loop_t *loop, const struct ck_runner_opts *opts, ck_runner_done_cb done,
                    void *arg, struct ck_runner **out);

/* Save state as "interrupted" and stop (in-flight requests are cancelled;
 * the same session continues next time); done then reports status. Nothing
 * when already stopping. */
void ck_runner_stop(struct ck_runner *r, int status);

/* Free a runner whose done callback ran. NULL is fine. */
void ck_runner_free(struct ck_runner *r);

/* The session directory (borrowed, valid until ck_runner_free). */
const char *ck_runner_dir(const struct ck_runner *r);

/* Run to the end on a loop of its own, stopping on SIGINT/SIGTERM (`run`).
 * Returns the process exit status: 0 done, 1 failed or incomplete (the same
 * command continues), 2 bad session file or usage, 130/143 interrupted by
 * SIGINT/SIGTERM. */
int ck_runner_main(const struct ck_runner_opts *opts);

/* Print what run would post and when (session times, or as overridden by
 * opts), posting nothing. Returns an exit status like ck_runner_main. */
int ck_runner_dry_run(const struct ck_runner_opts *opts, FILE *out);

/* A step is due. The observer logs it; the poster (src/run/poster.c) posts it.
 * Handlers are called on the loop at the step's time (or at once if the run
 * starts late). */
struct ck_step_handler {
    const char *name;
    void (*due)(void *self, const struct ck_sched_entry *e, int64_t late_ms);
    void *self;
};

/* The folder name for a session: "2026-12-03-online-networks" (local date of
 * the start, slug of the title: lower-case ASCII letters, digits and dashes). */
int ck_runner_dir_name(const struct ck_session *s, char *buf, size_t n);

#endif
