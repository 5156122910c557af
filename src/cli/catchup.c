/* chatkeeper catchup DIR [--question N] [--width N] [--no-pager]: read a chat
 * in the terminal, question by question, through a pager on a terminal.
 * Exit status: 0 done, 1 I/O or other failure, 2 bad usage, DIR is not an
 * archived session, or no such question. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/terminal.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper catchup DIR [--question N] [--width N] [--no-pager]\n\n"
                 "Print the chat archived in DIR (messages.jsonl, session.json) grouped by\n"
                 "question, replies indented under what they answer, times in the session's\n"
                 "zone, wrapped to the terminal (or N columns, at least 20); boosts are left\n"
                 "out. On a terminal the text goes through $PAGER (default less -FRX).\n");
}

static bool parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static int terminal_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

int ck_cli_catchup(int argc, char **argv)
{
    struct ck_catchup_opts o = {0};
    const char *dir = NULL;
    bool no_pager = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-pager") == 0) {
            no_pager = true;
        } else if (strcmp(a, "--question") == 0 || strcmp(a, "--width") == 0) {
            bool q = a[2] == 'q';
            if (i + 1 >= argc ||
                !parse_int(argv[i + 1], q ? 1 : 20, q ? 999 : 10000, q ? &o.question : &o.width)) {
                fprintf(stderr, "chatkeeper catchup: %s needs a number %s\n\n", a,
                        q ? "from 1" : "from 20");
                usage(stderr);
                return 2;
            }
            i++;
        } else if (a[0] == '-' || dir != NULL) {
            usage(stderr);
            return 2;
        } else {
            dir = a;
        }
    }
    if (dir == NULL) {
        usage(stderr);
        return 2;
    }
    if (o.width == 0)
        o.width = terminal_width();

    /* A pager only for a person at a terminal; a pipe or file gets the text. */
    FILE *out = stdout, *pager = NULL;
    if (!no_pager && isatty(STDOUT_FILENO)) {
        const char *cmd = getenv("PAGER");
        if (cmd == NULL || cmd[0] == '\0')
            cmd = "less -FRX";
        fflush(stdout);
        pager = popen(cmd, "w");
        if (pager != NULL) {
            out = pager;
            /* Quitting the pager early must not kill us mid-write. */
            signal(SIGPIPE, SIG_IGN);
        }
    }
    struct ck_error err = {0};
    int rc = ck_catchup_render(out, dir, &o, &err);
    if (pager != NULL)
        pclose(pager);
    else
        fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "chatkeeper catchup: %s\n", err.code != 0 ? err.msg : ck_strerror(rc));
        return rc == CK_ENOMEM || rc == CK_EIO || (rc < 0 && rc > -10000) ? 1 : 2;
    }
    return 0;
}
