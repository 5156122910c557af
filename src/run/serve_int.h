/* serve's insides, shared by serve.c (sources, slots, runners) and
 * serve_status.c (the status file). Private to src/run/. */
#ifndef CHATKEEPER_SERVE_INT_H
#define CHATKEEPER_SERVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chatkeeper/config.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/serve.h"
#include "chatkeeper/series.h"

/* A file given on the command line. */
struct source {
    const char *path; /* borrowed from the options */
    bool is_series;
    struct ck_series ser; /* the last version that passed check */
    bool have_ser;
};

/* One session: a series date, or a session file (day -1). */
struct slot {
    struct serve *sv;
    size_t src;
    int64_t day;
    struct ck_session good; /* last version that passed check; moved to the runner */
    bool have_good;
    bool cancelled, no_questions;
    char title[256];
    char dir[4096];
    char tag[128]; /* the directory's name: the log tag of the runner's lines */
    int64_t start_ms, lead_ms, after_ms; /* the session's own clock */
    int64_t remind_ms;                   /* the earliest reminder's "before", or 0 */
    struct ck_runner *runner;            /* NULL unless running */
    int finished;                        /* ran in this process, or done on disk */
    int status;                          /* the runner's exit status */
};

struct serve {
    const struct ck_serve_opts *o;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t sigterm, sigint, sighup;
    int64_t shift_ms;              /* serve's clock minus the wall's (--start-at) */
    struct ck_runner_group *group; /* every runner: archive builds keep clear of steps */
    struct source *src;
    size_t n_src;
    struct slot **slots;
    size_t n_slots, cap;
    int running, stopping, closed, problems;
    int64_t next_scan_ms, next_status_ms;
    int64_t watchdog_ms, next_watchdog_ms; /* sd_notify WATCHDOG=1 (sdnotify.h); 0: none */
    char status_path[4096];
    struct ck_serve_console *console; /* NULL, or the console's sessions (console_serve_int.h) */
};

int64_t ck_serve__now(const struct serve *sv);
int64_t ck_serve__scaled(const struct serve *sv, int64_t ms);
int64_t ck_serve__launch_at(const struct serve *sv, const struct slot *sl);

/* serve_status.c: write serve-status.json (atomically); failures are logged. */
void ck_serve__write_status(struct serve *sv);

#endif
