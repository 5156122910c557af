/* chatkeeper check SESSION.json [--offline]: validate a session file and print its
 * timetable. Errors are the loader's one-line "file:line:column: ..." so an
 * editor can jump to them; exit 2 for a bad file or bad usage. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/config.h"
#include "chatkeeper/http.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/postlen.h"
#include "chatkeeper/poster.h"
#include "chatkeeper/schedule.h"
#include "chatkeeper/series.h"
#include "chatkeeper/timeutil.h"
#include "chatkeeper/x.h"

static const struct ck_cli_opt cli_opts[] = {
    {"offline", NULL, "do not ask the instance; assume posts of 500 characters"},
    {"count", "N", "a series: how many upcoming dates to list (1 to 100; default 6)"},
    {"now", "TIME", "a series: count days from this RFC 3339 time, not the clock"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "check",
    .args = "SESSION.json",
    .min_args = 1,
    .max_args = 1,
    .about = "Validate a session file and print its timetable: every step in the\n"
             "session's time zone and in UTC. Exit status 0 if the file is valid,\n"
             "2 if it is not (the error names file:line:column and the field).\n"
             "When the session posts, it asks the instance (GET /api/v2/instance) how\n"
             "long a post may be and warns about longer steps.\n"
             "SESSION.json may be a series file: it is checked with every per-date\n"
             "file of its sessions folder (each error names its file), and its\n"
             "upcoming dates are listed with what each will be: its title and\n"
             "questions, cancelled, or no questions yet.\n",
    .opts = cli_opts,
};

/* "from $VAR (set)", "from file F (ok)" or what is wrong: never the value. */
static void describe_secret(const char *env, const char *file, const char *what, char *buf,
                            size_t n, bool *ok)
{
    char *v = NULL;
    struct ck_error err = {0};
    *ok = ck_session_secret(env, file, what, &v, &err) == 0;
    struct ck_x_oauth1 keys;
    if (*ok && strcmp(what, "OAuth 1.0a keys") == 0) {
        /* Four parts, or X answers 401 at the first post: say so now. */
        *ok = ck_x_oauth1_parse(v, &keys, &err) == 0;
        ck_x_oauth1_finish(&keys);
    }
    if (v != NULL) {
        memset(v, 0, strlen(v));
        free(v);
    }
    if (env != NULL)
        snprintf(buf, n, "from $%s (%s)", env, *ok ? "set" : "not set");
    else
        snprintf(buf, n, "from file %s (%s)", file, *ok ? "ok" : err.msg);
}

/* An X entry: which of read and post its credentials allow, and whether
 * each credential is there now. */
static void print_x(const struct ck_platform_conf *p)
{
    char app[600] = "", user[600] = "";
    bool app_ok = false, user_ok = false;
    if (p->token_env != NULL || p->token_file != NULL)
        describe_secret(p->token_env, p->token_file, "token", app, sizeof app, &app_ok);
    bool oauth1 = p->oauth1_env != NULL || p->oauth1_file != NULL;
    if (oauth1)
        describe_secret(p->oauth1_env, p->oauth1_file, "OAuth 1.0a keys", user, sizeof user,
                        &user_ok);
    else if (p->user_token_env != NULL || p->user_token_file != NULL)
        describe_secret(p->user_token_env, p->user_token_file, "user token", user, sizeof user,
                        &user_ok);
    int can = ck_platform_x_can(p);
    printf("x read:  %s", can & CK_CAN_READ ? (app_ok || user_ok ? "yes" : "no, not now") : "no");
    if (app[0] != '\0')
        printf(", app bearer token %s", app);
    else if (user[0] != '\0')
        printf(", with the posting credentials (no app bearer token)");
    printf("\nx post:  %s", can & CK_CAN_POST ? (user_ok ? "yes" : "no, not now") : "no");
    if (user[0] != '\0')
        printf(", %s %s", oauth1 ? "OAuth 1.0a keys" : "OAuth 2.0 user token", user);
    else
        printf(" (no user_token_env or oauth1_env: the app's bearer token cannot post)");
    printf("\nx retweets: %s\n", p->retweets ? "followed (each costs a read)" : "left out");
}

/* Where the token will come from, and whether it is there: never its value. */
static void print_token(const struct ck_platform_conf *p, const char *label)
{
    if (ck_platform_x_can(p) != 0) {
        print_x(p);
        return;
    }
    if (p->token_env == NULL && p->token_file == NULL) {
        printf("%s none (observe only)\n", label);
        return;
    }
    char *tok = NULL;
    struct ck_error err = {0};
    int rc = ck_platform_token(p, &tok, &err);
    if (tok != NULL) {
        memset(tok, 0, strlen(tok));
        free(tok);
    }
    if (p->token_env != NULL)
        printf("%s from $%s (%s)\n", label, p->token_env, rc == 0 ? "set" : "not set");
    else if (rc == 0)
        printf("%s from file %s (ok)\n", label, p->token_file);
    else
        printf("%s from file %s (%s)\n", label, p->token_file, err.msg);
}

/* Several sources (issue 11): one line each, what it does and its token. */
static void print_sources(const struct ck_session *s)
{
    size_t n = ck_session_n_platforms(s);
    if (n <= 1) {
        print_token(&s->platform, "token:  ");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ck_platform_conf *p = ck_session_platform_at(s, i);
        char label[160];
        snprintf(label, sizeof label, "source:  %s: %s; %s", p->name,
                 p->post ? "follow and post" : "follow only",
                 p->handle != NULL ? "app password" : "token");
        if (p->post)
            print_token(p, label);
        else
            printf("source:  %s: follow only\n", p->name);
    }
}

/* The longest post source p takes (its platform's ops): asked of the
 * instance where the platform has such a call, else the platform's fixed
 * figure. *what: whose figure it is. */
static long post_limit(const struct ck_platform_conf *p, const struct ck_platform_ops *ops,
                       bool online, const char **what)
{
    long max = ck_postlen_default(ops, what); /* the console's edit judges by it too */
    if (!online || ops->limits_request == NULL)
        return max;
    struct ck_request req = {0};
    struct ck_response resp = {0};
    struct ck_error err = {0};
    struct ck_http_opts opts = {.connect_timeout_ms = 5000, .total_timeout_ms = 10000};
    int rc = ops->limits_request(p->base_url, NULL, &req, &err);
    if (rc == 0)
        rc = ck_http_fetch(&req, &opts, &resp, &err);
    if (rc == 0)
        rc = ops->parse_limits(&resp, &max, &err);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    if (rc == 0)
        *what = "the instance";
    else
        fprintf(stderr, "warning: could not ask %s for its post length limit (%s); assuming %ld\n",
                p->base_url, err.msg[0] ? err.msg : ck_strerror(rc), max);
    return max;
}

/* Ask each source that posts how long a post may be, and warn about steps
 * that are longer. Returns the number of warnings. */
static int check_lengths(const struct ck_session *s, const struct ck_schedule *sch, bool online)
{
    int warnings = 0;
    size_t n_plat = ck_session_n_platforms(s);
    for (size_t k = 0; k < n_plat; k++) {
        const struct ck_platform_conf *p = ck_session_platform_at(s, k);
        const struct ck_platform_ops *ops = ck_platform_find(p->type);
        if (!p->post || ops == NULL || ops->text_len == NULL)
            continue;
        const char *source;
        long max = post_limit(p, ops, online, &source);
        for (size_t i = 0; i < sch->n; i++) {
            const struct ck_sched_entry *e = &sch->entries[i];
            if (e->step == NULL)
                continue;
            char *text = ck_poster_text(s, e);
            if (text == NULL)
                continue;
            size_t n = ops->text_len(text);
            if ((long)n > max) {
                char lbl[16];
                ck_sched_label(e, lbl, sizeof lbl);
                fprintf(stderr, "warning: %s is %zu characters as posted; %s allows %ld%s%s%s\n",
                        lbl, n, source, max, n_plat > 1 ? " (" : "", n_plat > 1 ? p->name : "",
                        n_plat > 1 ? ")" : "");
                warnings++;
            }
            free(text);
        }
    }
    return warnings;
}

/* ---- a series ---- */

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};

static void on_problem(void *ctx, const char *msg)
{
    fprintf(stderr, "%s\n", msg);
    (*(int *)ctx)++;
}

/* User text on the terminal: no control sequences. */
static void print_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        putchar(*p < 0x20 || *p == 0x7f ? ' ' : *p);
}

static void print_warning(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s\n", msg);
}

static int64_t local_day(const char *tz, int64_t ms)
{
    struct ck_local_time lt;
    char d[16];
    int64_t day = 0;
    if (ck_series_local_time(tz, ms, &lt) == 0) {
        snprintf(d, sizeof d, "%04d-%02d-%02d", lt.year % 10000, lt.month % 100, lt.day % 100);
        ck_series_day_parse(d, &day);
    }
    return day;
}

/* One upcoming date: when, and what the series and its file make of it. */
static void print_date(const struct ck_series *s, const struct ck_occurrence *o, int64_t today)
{
    struct ck_session ses;
    struct ck_error err = {0};
    bool no_file = false;
    int rc = ck_series_session_ex(s, o->day, &ses, &no_file, &err);
    int64_t at = rc == 0 ? ses.start_ms : o->start_ms;
    struct ck_local_time lt, ut;
    if (ck_series_local_time(s->timezone, at, &lt) != 0 || ck_series_local_time("UTC", at, &ut))
        return;
    printf("  %s %2d %s %04d, %02d:%02d %s (%02d:%02d UTC)  ", wdays[lt.weekday], lt.day,
           months[(lt.month + 11) % 12], lt.year, lt.hour, lt.minute, lt.abbr, ut.hour, ut.minute);
    int64_t in = o->day - today;
    char when[48];
    if (in == 0)
        snprintf(when, sizeof when, "today");
    else if (in == 1)
        snprintf(when, sizeof when, "tomorrow");
    else
        snprintf(when, sizeof when, "in %lld days", (long long)in);
    if (rc == 0 && !no_file) {
        printf("\"");
        print_clean(ses.title);
        printf("\", %zu question%s", ses.n_questions, ses.n_questions == 1 ? "" : "s");
        if (lt.hour != s->hour || lt.minute != s->minute)
            printf(", moved from %02d:%02d", s->hour, s->minute);
        printf(" (%s)\n", ses.path);
    } else if ((rc == 0 && no_file) || rc == CK_ENOTFOUND) {
        printf("%d %s: no questions yet; the chat is %s (%s)\n", lt.day,
               months[(lt.month + 11) % 12], when,
               rc == 0 ? "it will be observed: followed and archived, nothing posted"
                       : "it will not run unless a file is written");
    } else if (rc == CK_ECANCELED) {
        printf("cancelled\n");
    } else {
        printf("has errors (above)\n");
    }
    if (o->shifted && lt.hour != s->hour)
        printf("    %02d:%02d does not exist that night (the clocks go forward): moved to "
               "%02d:%02d\n",
               s->hour, s->minute, lt.hour, lt.minute);
    if (o->repeated)
        printf("    %02d:%02d happens twice that night (the clocks go back): the first, %s\n",
               s->hour, s->minute, lt.abbr);
    if (rc == 0)
        ck_session_finish(&ses);
}

static int check_series(const char *path, const struct ck_cli_args *a)
{
    long count = 6;
    int64_t now = ck_time_now_ms();
    const char *v = ck_cli_get(a, "now");
    int st = ck_cli_long(a, "count", 1, 100, &count);
    if (st != CK_CLI_GO)
        return st;
    if (v != NULL && ck_time_parse_rfc3339(v, &now) != 0)
        return ck_cli_usage_error(&cmd,
                                  "--now: expected a time like 2027-01-08T12:00:00Z, got '%s'", v);
    struct ck_series s;
    struct ck_error err = {0};
    int rc = ck_series_load(path, &s, &err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
    int problems = 0;
    if ((rc = ck_series_check_defaults(&s, &err)) != 0)
        on_problem(&problems, err.msg);
    struct ck_series_file *files = NULL;
    size_t n = 0;
    rc = ck_series_files(&s, &files, &n, on_problem, &problems);
    if (rc < 0) {
        int status = ck_cli_fail(cmd.name, rc, NULL);
        ck_series_finish(&s);
        return status;
    }
    size_t cancelled = 0, valid = 0;
    for (size_t i = 0; i < n; i++) {
        struct ck_session ses;
        ck_error_clear(&err);
        rc = ck_series_session(&s, files[i].day, &ses, &err);
        if (rc == 0) {
            valid++;
            ck_session_finish(&ses);
        } else if (rc == CK_ECANCELED) {
            cancelled++;
        } else {
            on_problem(&problems, err.msg);
        }
    }
    int64_t today = local_day(s.timezone, now);
    ck_series_gap_warnings(&s, today, today + 366, print_warning, NULL);
    printf("%s: %s at %02d:%02d %s, #%s\n", s.title, s.rule_text, s.hour, s.minute, s.timezone,
           s.hashtag);
    printf("per-date files: %s (%zu valid, %zu cancelled)\n", s.sessions_dir, valid, cancelled);
    printf("without questions: %s\n\nupcoming:\n",
           s.without_questions == CK_WQ_OBSERVE ? "observe (followed and archived, nothing posted)"
                                                : "skip (a date without a file does not run)");
    struct ck_occurrence *occ = calloc((size_t)count, sizeof *occ);
    int k = occ ? ck_series_expand(&s, today - 1, now, occ, (size_t)count) : CK_ENOMEM;
    for (int i = 0; i < k; i++)
        print_date(&s, &occ[i], today);
    free(occ);
    ck_series_files_free(files, n);
    ck_series_finish(&s);
    if (k < 0)
        return ck_cli_fail(cmd.name, k, NULL);
    if (problems > 0)
        fprintf(stderr, "chatkeeper check: %s: %d problem%s (above)\n", path, problems,
                problems == 1 ? "" : "s");
    return problems > 0 ? 2 : 0;
}

int ck_cli_check(int argc, char **argv)
{
    struct ck_cli_args a;
    int st = ck_cli_parse(&cmd, argc, argv, &a);
    if (st != CK_CLI_GO)
        return st;
    bool online = !ck_cli_flag(&a, "offline");
    const char *path = a.args[0];
    if ((st = ck_cli_input(&cmd, NULL, path, false)) != CK_CLI_GO)
        return st;
    if (ck_series_is_series(path))
        return check_series(path, &a);
    if (ck_cli_get(&a, "count") != NULL || ck_cli_get(&a, "now") != NULL)
        return ck_cli_usage_error(&cmd, "--%s: only for a series file (%s has no \"rule\")",
                                  ck_cli_get(&a, "count") ? "count" : "now", path);
    struct ck_session s;
    struct ck_error err = {0};
    int rc = ck_session_load(path, &s, &err);
    char hint[1200];
    if (rc != 0 && ck_series_hint(path, cmd.name, hint, sizeof hint)) {
        fprintf(stderr,
                "chatkeeper check: %s is one date's file of a series: check it with its "
                "series (which checks every date's file):\n  %s\n",
                path, hint);
        ck_session_finish(&s);
        return 2;
    }
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
    struct ck_schedule sch;
    if ((rc = ck_schedule_build(&s, &sch)) != 0) {
        ck_session_finish(&s);
        return ck_cli_fail(cmd.name, rc, NULL);
    }
    char local[64], dur[32];
    ck_time_format_local(s.timezone, s.start_ms, local, sizeof local);
    ck_duration_format(s.duration_ms, dur, sizeof dur);
    printf("%s: #%s on %s, %s (%s), %s\n", s.title, s.hashtag,
           s.platform.base_url ? s.platform.base_url : "(imported: no live platform)", local,
           s.timezone, dur);
    printf("posting: %s\n", s.post ? "yes, the run sheet below" : "no (observe only)");
    print_sources(&s);
    printf("archive: %s\n\n", s.archive_dir);
    rc = ck_schedule_print(&s, &sch, stdout);
    if (rc == 0 && s.post && s.platform.base_url != NULL)
        check_lengths(&s, &sch, online);
    ck_schedule_finish(&sch);
    ck_session_finish(&s);
    return rc == 0 ? 0 : ck_cli_fail(cmd.name, rc, NULL);
}
