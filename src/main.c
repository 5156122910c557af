/* chatkeeper: run facilitated hashtag chats. Dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <curl/curl.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/suggest.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *args, *help;
} commands[] = {
    {"check", ck_cli_check, "SESSION.json", "validate a session file, print its timetable"},
    {"run", ck_cli_run, "SESSION.json", "post the run sheet, follow, archive"},
    {"serve", ck_cli_serve, "FILE...", "run every upcoming session, unattended"},
    {"archive", ck_cli_archive, "DIR", "rebuild every output from the journal"},
    {"catchup", ck_cli_catchup, "DIR", "read a chat in the terminal"},
    {"publish", ck_cli_publish, "DIR", "publish the write-up (WordPress, Micropub, announce)"},
    {"import", ck_cli_import, "FILE...", "archive data captured elsewhere"},
    {"next", ck_cli_next, "SERIES.json", "the next dates of a series"},
    {"agenda", ck_cli_agenda, "SESSION.json", "write agenda.md and an .ics file"},
    {"simulate", ck_cli_simulate, "SCRIPT", "local Mastodon stand-in"},
    {"review", ck_cli_review, "DIR", "review a session's grouping in the console"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper COMMAND [ARGS] [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        char left[48];
        snprintf(left, sizeof left, "%s %s", commands[i].name, commands[i].args);
        fprintf(out, "  %-22s %s\n", left, commands[i].help);
    }
    fprintf(out, "\n'chatkeeper COMMAND --help' lists its options.\n");
}

/* glibc raises its mmap threshold to the largest block freed (up to 32 MB),
 * after which the big, short-lived buffers of an archive build (a refresh
 * every few minutes while following) come from the heap, where they fragment
 * and stay. Fixed thresholds keep blocks over 128 KB in mappings of their own,
 * returned when freed (and grown by mremap), and trim the heap's top past
 * 128 KB. bench/follow.py (20,000 statuses, release build): the whole run
 * peaked at 24.7 MB instead of 29.9 MB, three sources at 28.9 instead of 33.7. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
}

int main(int argc, char **argv)
{
    tune_malloc();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("chatkeeper " CK_VERSION "\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return ck_cli_fail(
                    commands[i].name, CK_ENOMEM,
                    &(struct ck_error){.code = CK_ENOMEM, .msg = "cannot initialise libcurl"});
            int rc = commands[i].fn(argc - 1, argv + 1);
            curl_global_cleanup();
            return rc;
        }
    }
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        names[i] = commands[i].name;
    const char *near = ck_suggest(argv[1], names, sizeof names / sizeof names[0]);
    if (near != NULL)
        fprintf(stderr, "chatkeeper: unknown command '%s' (did you mean '%s'?)\n\n", argv[1], near);
    else
        fprintf(stderr, "chatkeeper: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
