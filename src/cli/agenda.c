/* chatkeeper agenda SESSION.json [--out DIR]: write agenda.md and
 * <hashtag>-<date>.ics for a session. Exit status as ck_exit_status says
 * (2 for bad usage or a bad session file, 1 if the files cannot be written). */
#include <stdio.h>
#include <string.h>

#include "chatkeeper/agenda.h"
#include "chatkeeper/cli.h"
#include "chatkeeper/config.h"

static const struct ck_cli_opt cli_opts[] = {
    {"out", "DIR", "write the files there (default: the current folder)"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "agenda",
    .args = "SESSION.json",
    .min_args = 1,
    .max_args = 1,
    .about = "Write DIR/agenda.md (what participants read before the chat) and\n"
             "DIR/<hashtag>-<date>.ics (an iCalendar event to import). The same\n"
             "session always gives the same bytes.\n",
    .opts = cli_opts,
};

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
    int rc = ck_session_load(path, &s, &err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
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
