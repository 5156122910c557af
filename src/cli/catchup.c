/* chatkeeper catchup DIR [--question N] [--width N] [--no-pager]: read a chat
 * in the terminal, question by question, through a pager on a terminal.
 * Exit status: 0 done, 1 I/O or other failure, 2 bad usage, DIR is not an
 * archived session, or no such question. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/terminal.h"

static const struct ck_cli_opt cli_opts[] = {
    {"question", "N", "only question N"},
    {"width", "N", "wrap to N columns (at least 20; default: the terminal's)"},
    {"no-pager", NULL, "print straight to the terminal, without $PAGER"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "catchup",
    .args = "DIR",
    .min_args = 1,
    .max_args = 1,
    .about = "Print the chat archived in DIR (messages.jsonl, session.json) grouped by\n"
             "question, replies indented under what they answer, times in the session's\n"
             "zone, wrapped to the terminal; boosts are left out. On a terminal the text\n"
             "goes through $PAGER (default less -FRX).\n",
    .opts = cli_opts,
};

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
    struct ck_cli_args a;
    long q = 0, width = 0;
    int st = ck_cli_parse(&cmd, argc, argv, &a);
    if (st == CK_CLI_GO)
        st = ck_cli_long(&a, "question", 1, 999, &q);
    if (st == CK_CLI_GO)
        st = ck_cli_long(&a, "width", 20, 10000, &width);
    if (st == CK_CLI_GO)
        st = ck_cli_input(&cmd, NULL, a.args[0], true);
    if (st != CK_CLI_GO)
        return st;
    const char *dir = a.args[0];
    bool no_pager = ck_cli_flag(&a, "no-pager");
    o.question = (int)q;
    o.width = (int)width;
    if (o.width == 0)
        o.width = terminal_width();

    /* A pager only for a person at a terminal; a pipe or file gets the text. */
    FILE *out = stdout, *pager = NULL;
    if (!no_pager && isatty(STDOUT_FILENO)) {
        const char *pager_cmd = getenv("PAGER");
        if (pager_cmd == NULL || pager_cmd[0] == '\0')
            pager_cmd = "less -FRX";
        fflush(stdout);
        pager = popen(pager_cmd, "w");
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
    return rc == 0 ? 0 : ck_cli_fail(cmd.name, rc, &err);
}
