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
    struct ck_console *console; /* NULL, or the console to show the run on (runconsole.h) */
};

/* Run to the end. Returns the process exit status: 0 done, 1 failed or
 * incomplete (the same command continues), 2 bad session file or usage,
 * 130/143 interrupted by SIGINT/SIGTERM. */
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
