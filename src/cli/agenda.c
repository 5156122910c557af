/* chatkeeper agenda SESSION.json [--out DIR]: write agenda.md and
 * <hashtag>-<date>.ics for a session. Exit status as ck_exit_status says
 * (2 for bad usage or a bad session file, 1 if the files cannot be written). */
#include <stdio.h>
#include <string.h>

#include "chatkeeper/agenda.h"
#include "chatkeeper/cli.h"
#include "chatkeeper/config.h"
#include "chatkeeper/series.h"
#include "chatkeeper/timeutil.h"

static const struct ck_cli_opt cli_opts[] = {
    {"out", "DIR", "write the files there (default: the current folder)"},
    {"date", "YYYY-MM-DD", "SESSION.json is a series: that date (default: the next that runs)"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "agenda",
    .args = "SESSION.json",
    .min_args = 1,
    .max_args = 1,
    .about = "Write DIR/agenda.md (what participants read before the chat) and\n"
             "DIR/<hashtag>-<date>.ics (an iCalendar event to import). The same\n"
             "session always gives the same bytes. For a series, the session of\n"
             "--date (the series with that date's file), or of the next date that\n"
             "runs (not cancelled, and with questions unless the series observes).\n",
    .opts = cli_opts,
};

/* The session of a series date: --date's, or the next that runs. */
static int series_session(const char *path, const char *date, struct ck_session *out,
                          struct ck_error *err)
{
    struct ck_series ser;
    int64_t day;
    if (date != NULL && ck_series_day_parse(date, &day) != 0)
        return ck_cli_usage_error(&cmd, "--date: expected a date like 2027-01-14, got '%s'", date);
    int rc = ck_series_load(path, &ser, err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, err);
    if (date != NULL) {
        rc = ck_series_session(&ser, day, out, err);
    } else {
        /* Look a year ahead (at most 53 weekly dates) for one that runs. */
        struct ck_occurrence occ[60];
        int n = ck_series_expand(&ser, day = 0, ck_time_now_ms(), occ, 60);
        rc = n < 0 ? n : CK_ENOTFOUND;
        for (int i = 0; i < n && (rc == CK_ENOTFOUND || rc == CK_ECANCELED); i++) {
            ck_error_clear(err);
            rc = ck_series_session(&ser, occ[i].day, out, err);
        }
        if (rc == CK_ENOTFOUND || rc == CK_ECANCELED)
            rc = ck_error_set(err, CK_ENOTFOUND,
                              "%s: no date in the coming year has a questions file yet (write "
                              "one in %s, or give --date)",
                              path, ser.sessions_dir);
    }
    ck_series_finish(&ser);
    if (rc == CK_EINVAL)
        return ck_cli_usage_error(&cmd, "--date: %s", err->msg);
    if (rc == CK_ECANCELED) {
        fprintf(stderr, "chatkeeper agenda: %s: no agenda to write\n", err->msg);
        return 2;
    }
    return rc == 0 ? CK_CLI_GO : ck_cli_fail(cmd.name, rc, err);
}

int ck_cli_agenda(int argc, char **argv)
{
    struct ck_cli_args a;
    int st = ck_cli_parse(&cmd, argc, argv, &a);
    if (st != CK_CLI_GO)
        return st;
    const char *path = a.args[0];
    const char *dir = ck_cli_get(&a, "out") ? ck_cli_get(&a, "out") : ".";
    if ((st = ck_cli_input(&cmd, NULL, path, false)) != CK_CLI_GO)
        return st;
    struct ck_session s;
    struct ck_error err = {0};
    const char *date = ck_cli_get(&a, "date");
    char hint[1200];
    int rc;
    if (ck_series_is_series(path)) {
        if ((st = series_session(path, date, &s, &err)) != CK_CLI_GO)
            return st;
    } else if (date != NULL) {
        return ck_cli_usage_error(&cmd, "--date: %s is not a series file (it has no \"rule\")",
                                  path);
    } else if ((rc = ck_session_load(path, &s, &err)) != 0) {
        if (ck_series_hint(path, cmd.name, hint, sizeof hint)) {
            fprintf(stderr,
                    "chatkeeper agenda: %s is one date's file of a series: it holds only what "
                    "changes that date. Use it with its series:\n  %s\n",
                    path, hint);
            return 2;
        }
        return ck_cli_fail(cmd.name, rc, &err);
    }
    rc = ck_agenda_write(&s, dir, &err);
    if (rc != 0) {
        st = ck_cli_fail(cmd.name, rc, &err);
    } else {
        char slug[96];
        ck_agenda_slug(&s, slug, sizeof slug);
        printf("wrote %s/agenda.md\nwrote %s/%s.ics\n", dir, dir, slug);
    }
    ck_session_finish(&s);
    return rc == 0 ? 0 : st;
}
