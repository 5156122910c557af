/* chatkeeper next SERIES.json [--count N] [--from DATE]: the next dates of a
 * recurring chat, each in the series' zone and in UTC, and whether that
 * date's session file exists. Exit 2 for bad usage or a bad series file. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/series.h"
#include "chatkeeper/timeutil.h"

static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static const struct ck_cli_opt cli_opts[] = {
    {"count", "N", "how many dates (1 to 1000; default 5)"},
    {"from", "YYYY-MM-DD", "list from this date instead of from now"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "next",
    .args = "SERIES.json",
    .min_args = 1,
    .max_args = 1,
    .about = "List the next dates of a series: local date and time with the zone's\n"
             "abbreviation, UTC, and the date's session file if there is one. A time\n"
             "the clocks skip that night is moved forward by the gap; a time they\n"
             "repeat is the first of the two.\n",
    .opts = cli_opts,
};

/* Session titles are user text: keep terminal control sequences out. */
static void print_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        putchar(*p < 0x20 || *p == 0x7f ? ' ' : *p);
}

static void print_session(const struct ck_series *s, int64_t day)
{
    char *path = NULL;
    if (ck_series_session_path(s, day, &path) != 0) {
        printf("  (out of memory)\n");
        return;
    }
    struct ck_session ses;
    struct ck_error err = {0};
    bool no_file = false;
    int rc = ck_series_session_ex(s, day, &ses, &no_file, &err);
    if (rc == 0 && !no_file) {
        printf("  session: \"");
        print_clean(ses.title);
        printf("\" (");
        print_clean(ses.path);
        printf(")\n");
    } else if (rc == CK_ENOTFOUND || no_file) {
        printf("  no session file yet (%s)%s\n", path, no_file ? ": observed, nothing posted" : "");
    } else if (rc == CK_ECANCELED) {
        printf("  cancelled\n");
    } else {
        printf("  session file has errors: ");
        print_clean(err.msg);
        printf("\n");
    }
    if (rc == 0)
        ck_session_finish(&ses);
    free(path);
}

static int print_one(const struct ck_series *s, const struct ck_occurrence *o)
{
    struct ck_local_time lt, ut;
    char date[16];
    int rc = ck_series_local_time(s->timezone, o->start_ms, &lt);
    if (rc == 0)
        rc = ck_series_local_time("UTC", o->start_ms, &ut);
    if (rc != 0)
        return rc;
    ck_series_day_format(o->day, date, sizeof date);
    printf("%s %s %02d:%02d %-5s  %04d-%02d-%02d %02d:%02d UTC", date, wd[lt.weekday], lt.hour,
           lt.minute, lt.abbr, ut.year, ut.month, ut.day, ut.hour, ut.minute);
    if (o->shifted)
        printf("  [%02d:%02d does not exist that night (clocks go forward): moved to %02d:%02d]",
               s->hour, s->minute, lt.hour, lt.minute);
    if (o->repeated)
        printf("  [%02d:%02d happens twice that night (clocks go back): the first, %s]", s->hour,
               s->minute, lt.abbr);
    print_session(s, o->day);
    return 0;
}

int ck_cli_next(int argc, char **argv)
{
    struct ck_cli_args a;
    long count = 5;
    int st = ck_cli_parse(&cmd, argc, argv, &a);
    if (st == CK_CLI_GO)
        st = ck_cli_long(&a, "count", 1, 1000, &count);
    if (st == CK_CLI_GO)
        st = ck_cli_input(&cmd, NULL, a.args[0], false);
    if (st != CK_CLI_GO)
        return st;
    const char *path = a.args[0], *from = ck_cli_get(&a, "from");
    int64_t day, after = INT64_MIN;
    if (from != NULL && ck_series_day_parse(from, &day) != 0)
        return ck_cli_usage_error(&cmd, "--from: expected a date like 2026-12-03, got '%s'", from);
    struct ck_series s;
    struct ck_error err = {0};
    int rc = ck_series_load(path, &s, &err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
    if (from == NULL) {
        /* From now: start the day before today's local date, so nothing
         * today is missed, and drop what has already started. */
        struct ck_local_time now;
        after = ck_time_now_ms();
        rc = ck_series_local_time(s.timezone, after, &now);
        char d[16];
        snprintf(d, sizeof d, "%04d-%02d-%02d", now.year % 10000, now.month % 100, now.day % 100);
        if (rc == 0)
            rc = ck_series_day_parse(d, &day);
        day--;
    }
    struct ck_occurrence *occ = calloc((size_t)count, sizeof *occ);
    int n = rc == 0 && occ != NULL ? ck_series_expand(&s, day, after, occ, (size_t)count) : -1;
    if (n < 0) {
        rc = ck_cli_fail(cmd.name, occ ? CK_ETZ : CK_ENOMEM, NULL);
    } else {
        printf("%s: %s at %02d:%02d %s\n", s.title, s.rule_text, s.hour, s.minute, s.timezone);
        for (int i = 0; i < n && rc == 0; i++)
            rc = print_one(&s, &occ[i]) == 0 ? 0 : 1;
    }
    free(occ);
    ck_series_finish(&s);
    return rc;
}
