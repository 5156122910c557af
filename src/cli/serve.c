/* chatkeeper serve FILE... [options]: run every upcoming session of some
 * series and session files, unattended (serve.h); --status prints what it is
 * doing from its status file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/console.h"
#include "chatkeeper/serve.h"
#include "chatkeeper/timeutil.h"

static const struct ck_cli_opt cli_opts[] = {
    {"status", NULL, "print what a running serve of these files is doing, and exit"},
    {"status-file", "FILE", "where the status is written (default ARCHIVE_DIR/serve-status.json)"},
    {"look-back", "DURATION", "run a session missed this recently (default 1d)"},
    {"start-at", "TIME", "serve's clock reads this RFC 3339 time at start (rehearsals)"},
    {"speed", "X", "divide every session's offsets and windows by X (rehearsals)"},
    {"poll", "DURATION", "poll this often in every phase (benchmarks)"},
    {"base-url", "URL", "use another server for every session (http on loopback: rehearsal)"},
    {"console", "[ADDR:]PORT", "serve the console there (default 127.0.0.1, a free port)"},
    {"no-console", NULL, "do not serve the facilitators' console"},
    {"console-public", NULL, "allow --console on an address other than loopback"},
    {NULL, NULL, NULL},
};

static const char *const conflicts[] = {
    "console", "no-console", "console-public", "no-console", "status", "console", NULL,
};

static const struct ck_cli_cmd cmd = {
    .name = "serve",
    .args = "SERIES_OR_SESSION.json...",
    .min_args = 1,
    .max_args = 1000,
    .about = "Run every upcoming session of the given series and session files, one after\n"
             "the other or side by side, until SIGTERM: wait, post, follow, archive,\n"
             "publish, wait for the next. Each session uses the directory 'run' would, so\n"
             "a restart resumes what was running and nothing is posted twice. SIGHUP reads\n"
             "the files again (as does each session's start); a file that stops passing\n"
             "check keeps its last good version. SIGTERM saves and exits 0.\n",
    .opts = cli_opts,
    .conflicts = conflicts,
};

static int print_status(const struct ck_serve_opts *o)
{
    char path[4096];
    if (ck_serve_status_path(o, path, sizeof path) != 0)
        return 2;
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL) {
        fprintf(stderr, "chatkeeper serve: no status in %s (is serve running?): %s\n", path,
                je.text);
        return 1;
    }
    printf("serve: %s (as of %s)\n", json_string_value(json_object_get(doc, "state")),
           json_string_value(json_object_get(doc, "updated")));
    static const char *const parts[] = {"running", "next", "finished", "cancelled"};
    for (size_t p = 0; p < 4; p++) {
        json_t *arr = json_object_get(doc, parts[p]);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            printf("%-9s %s  %s", parts[p], json_string_value(json_object_get(v, "start")),
                   json_string_value(json_object_get(v, "title")));
            json_t *in = json_object_get(v, "starts_in_s");
            if (in != NULL)
                printf("  (starts in %llds)", (long long)json_integer_value(in));
            json_t *st = json_object_get(v, "status");
            if (st != NULL)
                printf("  (status %lld)", (long long)json_integer_value(st));
            printf("\n");
        }
    }
    json_decref(doc);
    return 0;
}

int ck_cli_serve(int argc, char **argv)
{
    struct ck_serve_opts o = {.speed = 1.0, .lookback_ms = 86400000};
    struct ck_cli_args a;
    int st = ck_cli_parse(&cmd, argc, argv, &a);
    if (st != CK_CLI_GO)
        return st;
    o.paths = a.args;
    o.n_paths = a.n_args;
    o.status_path = ck_cli_get(&a, "status-file");
    o.base_url = ck_cli_get(&a, "base-url");
    o.rehearsal = o.base_url != NULL;
    const char *v;
    if ((v = ck_cli_get(&a, "start-at")) != NULL && ck_time_parse_rfc3339(v, &o.start_at_ms) != 0)
        return ck_cli_usage_error(&cmd,
                                  "--start-at: expected a time like 2027-01-14T18:55:00Z, "
                                  "got '%s'",
                                  v);
    if ((v = ck_cli_get(&a, "look-back")) != NULL && ck_duration_parse(v, &o.lookback_ms) != 0)
        return ck_cli_usage_error(&cmd, "--look-back: expected a duration like 1d, got '%s'", v);
    if ((st = ck_cli_rehearsal_opts(&a, &o.speed, &o.poll_ms)) != CK_CLI_GO)
        return st;
    for (size_t i = 0; i < o.n_paths; i++)
        if ((st = ck_cli_input(&cmd, NULL, o.paths[i], false)) != CK_CLI_GO)
            return st;
    if (ck_cli_flag(&a, "status"))
        return print_status(&o);
    /* One console for every session serve carries (console_serve.h). */
    if ((st = ck_cli_console(&cmd, &a, &o.console)) != CK_CLI_GO)
        return st;
    st = ck_serve_main(&o);
    ck_console_stop(o.console);
    return st;
}
