/* chatkeeper: run facilitated hashtag chats. Dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "chatkeeper/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"check", ck_cli_check,
     "check SESSION.json          validate a session file, print its timetable"},
    {"run", ck_cli_run,
     "run SESSION.json [--observe|--dry-run|--rehearse SCRIPT] [--out DIR]   post the run sheet, "
     "follow, archive"},
    {"archive", ck_cli_archive,
     "archive DIR                 rebuild every output from the journal"},
    {"next", ck_cli_next, "next SERIES.json [--count N]   the next dates of a series"},
    {"agenda", ck_cli_agenda, "agenda SESSION.json [--out DIR]   write agenda.md and an .ics file"},
    {"import", ck_cli_import,
     "import --platform mastodon|twarc FILE... --session SESSION.json --out DIR   archive data "
     "captured elsewhere"},
    {"catchup", ck_cli_catchup,
     "catchup DIR [--question N] [--width N] [--no-pager]   read a chat in the terminal"},
    {"publish", ck_cli_publish,
     "publish DIR [--dry-run] [--no-platform]   publish the write-up (WordPress, Micropub, "
     "announce)"},
    {"simulate", ck_cli_simulate,
     "simulate SCRIPT --port N [--speed X] [--faults RATE]   local Mastodon stand-in"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].help);
    fprintf(out, "\n'chatkeeper COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
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
            if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "chatkeeper: cannot initialise libcurl\n");
                return 1;
            }
            int rc = commands[i].fn(argc - 1, argv + 1);
            curl_global_cleanup();
            return rc;
        }
    }
    fprintf(stderr, "chatkeeper: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
