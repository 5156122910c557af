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
#include "chatkeeper/mastodon.h"
#include "chatkeeper/poster.h"
#include "chatkeeper/schedule.h"
#include "chatkeeper/timeutil.h"

static const struct ck_cli_opt cli_opts[] = {
    {"offline", NULL, "do not ask the instance; assume posts of 500 characters"},
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
             "long a post may be and warns about longer steps.\n",
    .opts = cli_opts,
};

/* Where the token will come from, and whether it is there: never its value. */
static void print_token(const struct ck_session *s)
{
    const struct ck_platform_conf *p = &s->platform;
    if (p->token_env == NULL && p->token_file == NULL) {
        printf("token:   none (observe only)\n");
        return;
    }
    char *tok = NULL;
    struct ck_error err = {0};
    int rc = ck_session_token(s, &tok, &err);
    if (tok != NULL) {
        memset(tok, 0, strlen(tok));
        free(tok);
    }
    if (p->token_env != NULL)
        printf("token:   from $%s (%s)\n", p->token_env, rc == 0 ? "set" : "not set");
    else if (rc == 0)
        printf("token:   from file %s (ok)\n", p->token_file);
    else
        printf("token:   from file %s (%s)\n", p->token_file, err.msg);
}

/* Characters as Mastodon counts them, near enough: code points. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Ask the instance how long a post may be, and warn about steps that are longer.
 * Returns the number of warnings. */
static int check_lengths(const struct ck_session *s, const struct ck_schedule *sch, bool online)
{
    long max = 500;
    const char *source = "Mastodon's default";
    if (online) {
        struct ck_request req = {0};
        struct ck_response resp = {0};
        struct ck_error err = {0};
        struct ck_http_opts opts = {.connect_timeout_ms = 5000, .total_timeout_ms = 10000};
        int rc = ck_mastodon_instance_request(s->platform.base_url, NULL, &req, &err);
        if (rc == 0)
            rc = ck_http_fetch(&req, &opts, &resp, &err);
        if (rc == 0)
            rc = ck_mastodon_parse_instance_max_chars(&resp, &max, &err);
        ck_request_finish(&req);
        ck_response_finish(&resp);
        if (rc == 0) {
            source = "the instance";
        } else {
            fprintf(stderr,
                    "warning: could not ask %s for its post length limit (%s); assuming %ld\n",
                    s->platform.base_url, err.msg[0] ? err.msg : ck_strerror(rc), max);
        }
    }
    int warnings = 0;
    for (size_t i = 0; i < sch->n; i++) {
        const struct ck_sched_entry *e = &sch->entries[i];
        if (e->step == NULL)
            continue;
        char *text = ck_poster_text(s, e);
        if (text == NULL)
            continue;
        size_t n = utf8_chars(text);
        if ((long)n > max) {
            char lbl[16];
            ck_sched_label(e, lbl, sizeof lbl);
            fprintf(stderr, "warning: %s is %zu characters as posted; %s allows %ld\n", lbl, n,
                    source, max);
            warnings++;
        }
        free(text);
    }
    return warnings;
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
    struct ck_session s;
    struct ck_error err = {0};
    int rc = ck_session_load(path, &s, &err);
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
    print_token(&s);
    printf("archive: %s\n\n", s.archive_dir);
    rc = ck_schedule_print(&s, &sch, stdout);
    if (rc == 0 && s.post && s.platform.base_url != NULL)
        check_lengths(&s, &sch, online);
    ck_schedule_finish(&sch);
    ck_session_finish(&s);
    return rc == 0 ? 0 : ck_cli_fail(cmd.name, rc, NULL);
}
