/* chatkeeper agenda SESSION.json [--out DIR]: write agenda.md and
 * <hashtag>-<date>.ics for a session. Exit 2 for bad usage or a bad session
 * file, 1 if the files cannot be written. */
#include <stdio.h>
#include <string.h>

#include "chatkeeper/agenda.h"
#include "chatkeeper/cli.h"
#include "chatkeeper/config.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper agenda SESSION.json [--out DIR]\n\n"
                 "Write DIR/agenda.md (what participants read before the chat) and\n"
                 "DIR/<hashtag>-<date>.ics (an iCalendar event to import). DIR defaults\n"
                 "to the current folder. The same session always gives the same bytes.\n");
}

int ck_cli_agenda(int argc, char **argv)
{
    const char *path = NULL, *dir = ".";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "chatkeeper agenda: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path != NULL) {
            fprintf(stderr, "chatkeeper agenda: one session file at a time\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        usage(stderr);
        return 2;
    }
    struct ck_session s;
    struct ck_error err = {0};
    if (ck_session_load(path, &s, &err) != 0) {
        fprintf(stderr, "chatkeeper agenda: %s\n", err.msg);
        return 2;
    }
    int rc = ck_agenda_write(&s, dir, &err);
    if (rc != 0) {
        fprintf(stderr, "chatkeeper agenda: %s\n", err.msg);
    } else {
        char slug[96];
        ck_agenda_slug(&s, slug, sizeof slug);
        printf("wrote %s/agenda.md\nwrote %s/%s.ics\n", dir, dir, slug);
    }
    ck_session_finish(&s);
    return rc == 0 ? 0 : 1;
}
