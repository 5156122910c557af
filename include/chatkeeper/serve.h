/* `chatkeeper serve`: every upcoming session of some series and session
 * files, run unattended by one process on one libuv loop.
 *
 * Each session is a runner (runner.h) started shortly before its lead time,
 * in the directory `run` would use (<archive_dir>/<local date>-<slug>), so
 * state, journal and lock are exactly `run`'s: a `kill -9` and a restart
 * resume every session in progress (nothing lost, nothing posted twice), a
 * session whose chat ended while serve was down is finished, and a session
 * missed within the look-back is run for what is left of it (or captured
 * after the fact). A directory whose state.json says "done" is not run again.
 *
 * The files are read at start (a bad file: an error naming it, exit 2, before
 * anything runs), on SIGHUP and just before each session starts; a file that
 * stops passing check keeps its last good version and the error is logged
 * loudly, every time it is read. SIGTERM/SIGINT stop every runner (each
 * saves, as `run` does) and serve exits 0. The status (what runs, what is
 * next and when) is written atomically to serve-status.json in the first
 * session's archive folder after every change and once a minute. */
#ifndef CHATKEEPER_SERVE_H
#define CHATKEEPER_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ck_serve_opts {
    char **paths; /* series or session files (borrowed) */
    size_t n_paths;
    double speed;            /* >= 1: serve's clock runs this much faster (rehearsals, tests) */
    int64_t start_at_ms;     /* 0, or serve's clock reads this when it starts */
    const char *base_url;    /* NULL, or replaces every session's server (rehearsals) */
    bool rehearsal;          /* on a local simulator: no token needed */
    int64_t poll_ms;         /* 0, or every session's poll interval (benchmarks) */
    int64_t lookback_ms;     /* a session that ended longer ago than this is not run */
    const char *status_path; /* NULL: <archive_dir>/serve-status.json */
    /* NULL, or the console listing every session (borrowed) */
    struct ck_console *console;
};

/* Check every file, then serve until SIGTERM/SIGINT. Returns the exit
 * status: 0 after a signal (whatever the sessions did), 1 when the loop
 * failed, 2 when a file is bad at start. */
int ck_serve_main(const struct ck_serve_opts *opts);

/* Where the status file of these files is (opts->status_path, or the first
 * session's archive folder). buf >= 4096. Returns 0, or 2 after printing why
 * to stderr. */
int ck_serve_status_path(const struct ck_serve_opts *opts, char *buf, size_t n);

#endif
