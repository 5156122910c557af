/* chatkeeper check SESSION.json: validate a session file and print its
 * timetable. Errors are the loader's one-line "file:line:column: ..." so an
 * editor can jump to them; exit 2 for a bad file or bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/config.h"
#include "chatkeeper/schedule.h"
#include "chatkeeper/timeutil.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper check SESSION.json\n\n"
                 "Validate a session file and print its timetable: every step in the\n"
                 "session's time zone and in UTC. Exit status 0 if the file is valid,\n"
                 "2 if it is not (the error names file:line:column and the field).\n");
}

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

int ck_cli_check(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "chatkeeper check: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (path != NULL) {
            fprintf(stderr, "chatkeeper check: one session file at a time\n");
            usage(stderr);
            return 2;
        }
        path = argv[i];
    }
    if (path == NULL) {
        usage(stderr);
        return 2;
    }
    struct ck_session s;
    struct ck_error err = {0};
    if (ck_session_load(path, &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    struct ck_schedule sch;
    if (ck_schedule_build(&s, &sch) != 0) {
        fprintf(stderr, "chatkeeper check: out of memory\n");
        ck_session_finish(&s);
        return 1;
    }
    char local[64], dur[32];
    ck_time_format_local(s.timezone, s.start_ms, local, sizeof local);
    ck_duration_format(s.duration_ms, dur, sizeof dur);
    printf("%s: #%s on %s, %s (%s), %s\n", s.title, s.hashtag, s.platform.base_url, local,
           s.timezone, dur);
    printf("posting: %s\n", s.post ? "yes, the run sheet below" : "no (observe only)");
    print_token(&s);
    printf("archive: %s\n\n", s.archive_dir);
    int rc = ck_schedule_print(&s, &sch, stdout);
    ck_schedule_finish(&sch);
    ck_session_finish(&s);
    if (rc != 0) {
        fprintf(stderr, "chatkeeper check: %s\n", ck_strerror(rc));
        return 1;
    }
    return 0;
}
