/* The simulator: a local stand-in for a Mastodon server that plays a chat
 * script in compressed time, with optional faults. Serves the API subset
 * chatkeeper uses, as Mastodon's documentation specifies it. */
#ifndef CHATKEEPER_SIM_H
#define CHATKEEPER_SIM_H

#include <stdint.h>

#include "chatkeeper/error.h"

struct ck_sim_opts {
    const char *script_path;
    int port;            /* 0: any free port */
    double speed;        /* script time runs this many times faster; default 1 */
    double fault_rate;   /* 0..1: share of requests that meet a fault */
    uint64_t seed;       /* for faults and jitter; 0: from the clock */
    int64_t start_ms;    /* real UTC time of script offset 0; 0: now */
    long rate_limit;     /* requests per window; default 300 */
    int64_t rate_window_ms; /* default 5 minutes */
    const char *port_file; /* if set, the bound port is written there once listening */
};

/* Serve until SIGINT/SIGTERM. Prints "listening on http://127.0.0.1:PORT" on stdout
 * once ready. Returns 0 or a negative code with err set. */
int ck_sim_run(const struct ck_sim_opts *opts, struct ck_error *err);

#endif
