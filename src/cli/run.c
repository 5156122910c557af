/* chatkeeper run SESSION.json [options] (the table below): run a chat, or
 * rehearse it on a simulator. The exit status is the runner's (runner.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/config.h"
#include "chatkeeper/console.h"
#include "chatkeeper/rehearse.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/series.h"
#include "chatkeeper/sim.h"
#include "chatkeeper/timeutil.h"

static const struct ck_cli_opt cli_opts[] = {
    {"date", "YYYY-MM-DD", "SESSION.json is a series: run that date of it"},
    {"observe", NULL, "follow only, post nothing"},
    {"dry-run", NULL, "print what would be posted and when, and exit"},
    {"out", "DIR", "session directory (default: ARCHIVE_DIR/DATE-TITLE)"},
    {"start", "now|TIME", "start the chat now (or at an RFC 3339 time) instead"},
    {"speed", "X", "divide every offset and window by X (rehearsals)"},
    {"poll", "DURATION", "poll this often in every phase (benchmarks)"},
    {"base-url", "URL", "use another server (https, or http on loopback)"},
    {"rehearse", "SCRIPT", "start now against a local simulator playing SCRIPT"},
    {"status", NULL, "always draw the status line"},
    {"no-status", NULL, "never draw the status line"},
    {"console", "[ADDR:]PORT", "serve the console there (default 127.0.0.1, a free port)"},
    {"no-console", NULL, "do not serve the facilitators' console"},
    {"console-public", NULL, "allow --console on an address other than loopback"},
    {NULL, NULL, NULL},
};

/* A dry run posts nothing and starts nothing, so it cannot also observe or rehearse. */
static const char *const conflicts[] = {
    "dry-run", "observe",    "dry-run",        "rehearse",   "status", "no-status",
    "console", "no-console", "console-public", "no-console", NULL,
};

static const struct ck_cli_cmd cmd = {
    .name = "run",
    .args = "SESSION.json",
    .min_args = 1,
    .max_args = 1,
    .about = "Wait for the session's lead time, post the run sheet on time, follow its\n"
             "hashtag until the end of the grace period, then build the archive in the\n"
             "session directory. A rehearsal (--rehearse) posts the run sheet to the\n"
             "simulator when the session posts; the real server is never contacted.\n"
             "Interrupt with Ctrl-C: state is saved and the same command continues.\n"
             "With a series file and --date, the session is the series' defaults with that\n"
             "date's file on top (exactly what a hand-written session file would say);\n"
             "a cancelled date, or one without a file when the series says\n"
             "\"without_questions\": \"skip\", runs nothing and exits 0.\n",
    .opts = cli_opts,
    .conflicts = conflicts,
};

/* --date: check the pairing with the file, and say plainly when the series
 * has nothing to run that date. Returns CK_CLI_GO or the exit status. */
static int series_date(const struct ck_cli_args *a, struct ck_runner_opts *o)
{
    const char *date = ck_cli_get(a, "date");
    bool series = ck_series_is_series(o->session_path);
    char hint[1200];
    if (!series && date == NULL && ck_series_hint(o->session_path, "run", hint, sizeof hint)) {
        /* A per-date file names no series; the one that goes with it is
         * given explicitly, so the same command always means the same session. */
        fprintf(stderr,
                "chatkeeper run: %s is one date's file of a series: it holds only what "
                "changes that date. Run the date with its series:\n  %s\n",
                o->session_path, hint);
        return 2;
    }
    if (date == NULL && !series)
        return CK_CLI_GO;
    if (date == NULL)
        return ck_cli_usage_error(&cmd,
                                  "%s is a series: say which date with --date YYYY-MM-DD "
                                  "('chatkeeper next %s' lists them)",
                                  o->session_path, o->session_path);
    if (!series)
        return ck_cli_usage_error(&cmd, "--date: %s is not a series file (it has no \"rule\")",
                                  o->session_path);
    if (ck_series_day_parse(date, &o->series_day) != 0)
        return ck_cli_usage_error(&cmd, "--date: expected a date like 2027-01-14, got '%s'", date);
    o->series_date = true;
    struct ck_series s;
    struct ck_session ses;
    struct ck_error err = {0};
    int rc = ck_series_load(o->session_path, &s, &err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
    rc = ck_series_session(&s, o->series_day, &ses, &err);
    if (rc == 0)
        ck_session_finish(&ses);
    int status = CK_CLI_GO;
    if (rc == CK_ECANCELED) {
        fprintf(stderr, "chatkeeper run: %s: nothing to run\n", err.msg);
        status = 0;
    } else if (rc == CK_ENOTFOUND) {
        char *want = NULL;
        ck_series_session_path(&s, o->series_day, &want);
        fprintf(stderr,
                "chatkeeper run: no questions for %s yet (%s) and %s says "
                "\"without_questions\": \"skip\": nothing to run\n",
                date, want ? want : s.sessions_dir, s.path);
        free(want);
        status = 0;
    } else if (rc == CK_EINVAL) {
        status = ck_cli_usage_error(&cmd, "--date: %s ('chatkeeper next %s' lists the dates)",
                                    err.msg, o->session_path);
    } else if (rc != 0) {
        status = ck_cli_fail(cmd.name, rc, &err);
    }
    ck_series_finish(&s);
    return status;
}

/* The console (console.h): started before the runner waits for its lead
 * time, so the facilitators can open it at once. Its address (with the
 * secret) is printed once, on stdout, and flushed even into a pipe. */
static int start_console(const struct ck_cli_args *a, struct ck_console **out)
{
    return ck_cli_console(&cmd, a, out);
}

int ck_cli_run(int argc, char **argv)
{
    struct ck_runner_opts o = {.speed = 1.0, .status_line = -1};
    struct ck_cli_args a;
    int st = ck_cli_parse(&cmd, argc, argv, &a);
    if (st != CK_CLI_GO)
        return st;
    o.session_path = a.args[0];
    o.observe = ck_cli_flag(&a, "observe");
    o.out_dir = ck_cli_get(&a, "out");
    o.base_url = ck_cli_get(&a, "base-url");
    if (ck_cli_flag(&a, "status"))
        o.status_line = 1;
    if (ck_cli_flag(&a, "no-status"))
        o.status_line = 0;
    bool dry = ck_cli_flag(&a, "dry-run");
    const char *script = ck_cli_get(&a, "rehearse");
    const char *v;
    if ((v = ck_cli_get(&a, "start")) != NULL) {
        if (strcmp(v, "now") == 0)
            o.start_at_ms = ck_time_now_ms() / 1000 * 1000;
        else if (ck_time_parse_rfc3339(v, &o.start_at_ms) != 0)
            return ck_cli_usage_error(&cmd,
                                      "--start: expected now or a time like "
                                      "2026-12-03T20:00:00Z, got '%s'",
                                      v);
    }
    if ((st = ck_cli_rehearsal_opts(&a, &o.speed, &o.poll_ms)) != CK_CLI_GO)
        return st;
    if ((st = ck_cli_input(&cmd, NULL, o.session_path, false)) != CK_CLI_GO)
        return st;
    if ((st = series_date(&a, &o)) != CK_CLI_GO)
        return st;
    if (script != NULL && (st = ck_cli_input(&cmd, "--rehearse", script, false)) != CK_CLI_GO)
        return st;
    if (dry)
        return ck_runner_dry_run(&o, stdout);
    struct ck_console *con = NULL;
    if ((st = start_console(&a, &con)) != CK_CLI_GO)
        return st;
    o.console = con;
    if (script == NULL) {
        st = ck_runner_main(&o);
        ck_console_stop(con);
        return st;
    }

    /* A rehearsal: the chat starts now, on a simulator of our own. */
    struct ck_rehearsal sim;
    struct ck_error err = {0};
    /* A second or two ahead, not the second already begun: at 90x each second
     * the welcome is late on the wall is a minute and a half on the chat's clock. */
    if (o.start_at_ms == 0)
        o.start_at_ms = (ck_time_now_ms() / 1000 + 2) * 1000;
    /* When the session posts, chatkeeper plays the host and the simulator the
     * participants; when it only observes, the script's host posts too. */
    struct ck_session s;
    int rc = o.series_date ? ck_series_session_at(o.session_path, o.series_day, &s, &err)
                           : ck_session_load(o.session_path, &s, &err);
    if (rc < 0) {
        ck_console_stop(con);
        return ck_cli_fail(cmd.name, rc, &err);
    }
    int posting = !o.observe && s.post;
    /* On Bluesky and another platform at once, the simulator gives each side
     * people of its own, so the archive shows the chat on both. */
    size_t n_bsky = 0;
    for (size_t i = 0; i < ck_session_n_platforms(&s); i++)
        n_bsky += strcmp(ck_session_platform_at(&s, i)->type, "bluesky") == 0;
    double share = n_bsky > 0 && n_bsky < ck_session_n_platforms(&s) ? 0.4 : 0;
    ck_session_finish(&s);
    /* The script is read here too, so a bad one is reported as bad input with
     * its file:line:column rather than as a simulator that failed to start. */
    struct ck_sim_script check;
    if ((rc = ck_sim_script_load(script, &check, &err)) != 0) {
        ck_console_stop(con);
        return ck_cli_fail(cmd.name, rc, &err);
    }
    ck_sim_script_finish(&check);
    if ((rc = ck_rehearsal_start(script, o.speed, o.start_at_ms, posting, share, &sim, &err)) < 0) {
        ck_console_stop(con);
        return ck_cli_fail(cmd.name, rc, &err);
    }
    o.base_url = sim.base_url;
    o.rehearsal = true;
    rc = ck_runner_main(&o);
    ck_console_stop(con);
    ck_rehearsal_stop(&sim);
    return rc;
}
