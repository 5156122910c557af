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
    {"date", "YYYY-MM-DD", "SESSION.json is a series: that date's agenda only"},
    {"from", "YYYY-MM-DD", "a series: the calendar and list start there (default: today)"},
    {"count", "N", "a series: how many dates agenda.md lists (1 to 100; default 6)"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "agenda",
    .args = "SESSION.json",
    .min_args = 1,
    .max_args = 1,
    .about = "Write DIR/agenda.md (what participants read before the chat) and\n"
             "DIR/<hashtag>-<date>.ics (an iCalendar event to import). The same\n"
             "session always gives the same bytes. For a series file: with --date,\n"
             "that date's session (the series with that date's file); without, the\n"
             "series' agenda.md (the next dates, with their questions where known)\n"
             "and DIR/<hashtag>-series.ics: the rule as an RRULE, an EXDATE per\n"
             "cancelled date, a RECURRENCE-ID event per date with its own file.\n",
    .opts = cli_opts,
};

/* The session of a series date (--date). */
static int series_session(const char *path, const char *date, struct ck_session *out,
                          struct ck_error *err)
{
    struct ck_series ser;
    int64_t day;
    if (ck_series_day_parse(date, &day) != 0)
        return ck_cli_usage_error(&cmd, "--date: expected a date like 2027-01-14, got '%s'", date);
    int rc = ck_series_load(path, &ser, err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, err);
    rc = ck_series_session(&ser, day, out, err);
    ck_series_finish(&ser);
    if (rc == CK_EINVAL)
        return ck_cli_usage_error(&cmd, "--date: %s", err->msg);
    if (rc == CK_ECANCELED) {
        fprintf(stderr, "chatkeeper agenda: %s: no agenda to write\n", err->msg);
        return 2;
    }
    return rc == 0 ? CK_CLI_GO : ck_cli_fail(cmd.name, rc, err);
}

/* The series' own agenda.md and .ics. */
static int series_agenda(const char *path, const char *dir, const struct ck_cli_args *a)
{
    long count = 6;
    int64_t from;
    const char *f = ck_cli_get(a, "from");
    int st = ck_cli_long(a, "count", 1, 100, &count);
    if (st != CK_CLI_GO)
        return st;
    if (f != NULL && ck_series_day_parse(f, &from) != 0)
        return ck_cli_usage_error(&cmd, "--from: expected a date like 2027-01-14, got '%s'", f);
    struct ck_series s;
    struct ck_error err = {0};
    int rc = ck_series_load(path, &s, &err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
    if (f == NULL) {
        /* Today in the series' zone. */
        struct ck_local_time now;
        char d[16];
        rc = ck_series_local_time(s.timezone, ck_time_now_ms(), &now);
        snprintf(d, sizeof d, "%04d-%02d-%02d", now.year % 10000, now.month % 100, now.day % 100);
        if (rc == 0)
            rc = ck_series_day_parse(d, &from);
    }
    if (rc == 0)
        rc = ck_agenda_series_write(&s, from, (size_t)count, dir, &err);
    if (rc == 0) {
        char slug[96];
        ck_agenda_series_slug(&s, slug, sizeof slug);
        printf("wrote %s/agenda.md\nwrote %s/%s.ics\n", dir, dir, slug);
    }
    ck_series_finish(&s);
    return rc == 0 ? 0 : ck_cli_fail(cmd.name, rc, &err);
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
    if (ck_series_is_series(path) && date == NULL)
        return series_agenda(path, dir, &a);
    if (ck_cli_get(&a, "count") != NULL || ck_cli_get(&a, "from") != NULL)
        return ck_cli_usage_error(&cmd,
                                  "--%s: only for a whole series (not with a session "
                                  "file or --date)",
                                  ck_cli_get(&a, "count") ? "count" : "from");
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
