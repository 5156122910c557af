/* chatkeeper simulate: argument parsing for the simulator (src/sim/).
 * Exit status: 0 after a clean stop on SIGINT/SIGTERM, 2 for bad arguments or a
 * bad script, 1 for anything else (port in use, ...). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/sim.h"
#include "chatkeeper/timeutil.h"

static const struct ck_cli_opt cli_opts[] = {
    {"port", "N", "listen on 127.0.0.1:N (0: any free port; required)"},
    {"speed", "X", "play the script X times faster (default 1)"},
    {"faults", "RATE", "fail this share of requests, 0 to 1 (default 0)"},
    {"seed", "S", "seed for the faults (default 0)"},
    {"start", "now|TIME", "when the script's offset 0 is (default now)"},
    {"rate-limit", "N", "requests per window (default 300)"},
    {"rate-window", "DURATION", "the rate-limit window (default 5m)"},
    {"port-file", "FILE", "write the port there once listening"},
    {"no-host", NULL, "leave out the script's host posts: chatkeeper posts the run sheet"},
    {"no-streaming", NULL, "answer the streaming API with 404, as instances without it"},
    {"stream-drop", "DURATION", "close each live stream this long after it opened"},
    {"stream-skip", "RATE", "leave this share of statuses out of live streams, 0 to 1"},
    {"streaming-host", "HOST",
     "name ws://HOST:PORT as the instance's streaming API, and stream only under that host"},
    {"bluesky-share", "RATE",
     "this share of the participants is on Bluesky, the rest on "
     "Mastodon (default 0: every post on both)"},
    {"x", NULL, "speak X's API v2 (search/recent, tweets/:id, POST /2/tweets) instead"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "simulate",
    .args = "SCRIPT",
    .min_args = 1,
    .max_args = 1,
    .about = "A local Mastodon stand-in on loopback playing a chat script (the hashtag\n"
             "timeline, threads, posting, rate limits and faults), for rehearsals and\n"
             "tests; the same chat is also served as a Bluesky PDS (XRPC under /xrpc/:\n"
             "sign-in, searchPosts, getPostThread, createRecord, getRecord).\n"
             "Stops cleanly on Ctrl-C or SIGTERM.\n",
    .opts = cli_opts,
};

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ck_cli_usage_error(&cmd, "%s", msg);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int set_option(struct ck_sim_opts *o, const char *name, const char *val)
{
    long l;
    double d;
    if (strcmp(name, "port") == 0) {
        if (parse_long(val, 0, 65535, &l) != 0)
            return bad("--port: expected 0..65535, got '%s'", val);
        o->port = (int)l;
    } else if (strcmp(name, "speed") == 0) {
        if (parse_double(val, 1e-3, 1e6, &d) != 0)
            return bad("--speed: expected a number > 0, got '%s'", val);
        o->speed = d;
    } else if (strcmp(name, "faults") == 0) {
        if (parse_double(val, 0, 1, &d) != 0)
            return bad("--faults: expected a rate from 0 to 1, got '%s'", val);
        o->fault_rate = d;
    } else if (strcmp(name, "seed") == 0) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(val, &end, 10);
        if (errno != 0 || end == val || *end != '\0' || val[0] == '-')
            return bad("--seed: expected a non-negative integer, got '%s'", val);
        o->seed = s;
    } else if (strcmp(name, "start") == 0) {
        if (strcmp(val, "now") == 0)
            o->start_ms = 0;
        else if (ck_time_parse_rfc3339(val, &o->start_ms) != 0)
            return bad("--start: expected now or an RFC 3339 time, got '%s'", val);
    } else if (strcmp(name, "rate-limit") == 0) {
        if (parse_long(val, 1, 100000000, &l) != 0)
            return bad("--rate-limit: expected a positive integer, got '%s'", val);
        o->rate_limit = l;
    } else if (strcmp(name, "rate-window") == 0) {
        if (ck_duration_parse(val, &o->rate_window_ms) != 0 || o->rate_window_ms <= 0)
            return bad("--rate-window: expected a duration like 5m, got '%s'", val);
    } else if (strcmp(name, "port-file") == 0) {
        o->port_file = val;
    } else if (strcmp(name, "stream-skip") == 0) {
        if (parse_double(val, 0, 1, &d) != 0)
            return bad("--stream-skip: expected a rate from 0 to 1, got '%s'", val);
        o->stream_skip = d;
    } else if (strcmp(name, "bluesky-share") == 0) {
        if (parse_double(val, 0, 1, &d) != 0)
            return bad("--bluesky-share: expected a rate from 0 to 1, got '%s'", val);
        o->bluesky_share = d;
    } else if (strcmp(name, "streaming-host") == 0) {
        if (val[0] == '\0' || strpbrk(val, ":/@ \t\r\n\"\\") != NULL)
            return bad("--streaming-host: expected a host name like localhost, got '%s'", val);
        o->streaming_host = val;
    } else if (strcmp(name, "stream-drop") == 0) {
        if (ck_duration_parse(val, &o->stream_drop_ms) != 0 || o->stream_drop_ms <= 0)
            return bad("--stream-drop: expected a duration like 30s, got '%s'", val);
    }
    return 0;
}

int ck_cli_simulate(int argc, char **argv)
{
    struct ck_sim_opts o = {.speed = 1, .rate_limit = 300, .rate_window_ms = 300000};
    struct ck_cli_args a;
    int st = ck_cli_parse(&cmd, argc, argv, &a);
    if (st != CK_CLI_GO)
        return st;
    o.script_path = a.args[0];
    o.no_host = ck_cli_flag(&a, "no-host");
    o.no_streaming = ck_cli_flag(&a, "no-streaming");
    o.x = ck_cli_flag(&a, "x");
    for (const struct ck_cli_opt *opt = cli_opts; opt->name != NULL; opt++) {
        const char *val = ck_cli_get(&a, opt->name);
        if (opt->value != NULL && val != NULL && (st = set_option(&o, opt->name, val)) != 0)
            return st;
    }
    if (!ck_cli_flag(&a, "port"))
        return bad("missing --port N (0 for any free port)");
    if ((st = ck_cli_input(&cmd, NULL, o.script_path, false)) != CK_CLI_GO)
        return st;
    struct ck_error err = {0};
    int rc = ck_sim_run(&o, &err);
    return rc == 0 ? 0 : ck_cli_fail(cmd.name, rc, &err);
}
