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

static const char usage[] =
    "usage: chatkeeper simulate SCRIPT --port N [--speed X] [--faults RATE] [--seed S]\n"
    "                           [--start now|RFC3339] [--rate-limit N]\n"
    "                           [--rate-window DURATION] [--port-file FILE] [--no-host]\n"
    "--no-host leaves out the script's host posts: chatkeeper posts the run sheet.\n";

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chatkeeper simulate: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", usage);
    va_end(ap);
    return 2;
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

static int set_option(struct ck_sim_opts *o, const char *name, const char *val, int *have_port)
{
    long l;
    double d;
    if (strcmp(name, "--port") == 0) {
        if (parse_long(val, 0, 65535, &l) != 0)
            return bad("--port: expected 0..65535, got \"%s\"", val);
        o->port = (int)l;
        *have_port = 1;
    } else if (strcmp(name, "--speed") == 0) {
        if (parse_double(val, 1e-3, 1e6, &d) != 0)
            return bad("--speed: expected a number > 0, got \"%s\"", val);
        o->speed = d;
    } else if (strcmp(name, "--faults") == 0) {
        if (parse_double(val, 0, 1, &d) != 0)
            return bad("--faults: expected a rate from 0 to 1, got \"%s\"", val);
        o->fault_rate = d;
    } else if (strcmp(name, "--seed") == 0) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(val, &end, 10);
        if (errno != 0 || end == val || *end != '\0' || val[0] == '-')
            return bad("--seed: expected a non-negative integer, got \"%s\"", val);
        o->seed = s;
    } else if (strcmp(name, "--start") == 0) {
        if (strcmp(val, "now") == 0)
            o->start_ms = 0;
        else if (ck_time_parse_rfc3339(val, &o->start_ms) != 0)
            return bad("--start: expected now or an RFC 3339 time, got \"%s\"", val);
    } else if (strcmp(name, "--rate-limit") == 0) {
        if (parse_long(val, 1, 100000000, &l) != 0)
            return bad("--rate-limit: expected a positive integer, got \"%s\"", val);
        o->rate_limit = l;
    } else if (strcmp(name, "--rate-window") == 0) {
        if (ck_duration_parse(val, &o->rate_window_ms) != 0 || o->rate_window_ms <= 0)
            return bad("--rate-window: expected a duration like 5m, got \"%s\"", val);
    } else if (strcmp(name, "--port-file") == 0) {
        o->port_file = val;
    } else {
        return bad("unknown option %s", name);
    }
    return 0;
}

int ck_cli_simulate(int argc, char **argv)
{
    struct ck_sim_opts o = {.speed = 1, .rate_limit = 300, .rate_window_ms = 300000};
    int have_port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (o.script_path != NULL)
                return bad("unexpected argument \"%s\"", a);
            o.script_path = a;
            continue;
        }
        if (strcmp(a, "--no-host") == 0) {
            o.no_host = 1;
            continue;
        }
        char name[64];
        const char *val;
        const char *eq = strchr(a, '=');
        if (eq != NULL) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
            if (i + 1 >= argc)
                return bad("%s needs a value", a);
            val = argv[++i];
        }
        int rc = set_option(&o, name, val, &have_port);
        if (rc != 0)
            return rc;
    }
    if (o.script_path == NULL)
        return bad("missing SCRIPT");
    if (!have_port)
        return bad("missing --port N (0 for any free port)");
    struct ck_error err = {0};
    int rc = ck_sim_run(&o, &err);
    if (rc == 0)
        return 0;
    fprintf(stderr, "chatkeeper simulate: %s\n", err.code != 0 ? err.msg : ck_strerror(rc));
    return rc == CK_ECONFIG || rc == CK_EIO ? 2 : 1;
}
