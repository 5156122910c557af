/* chatkeeper publish DIR [--dry-run] [--no-platform]: deliver the write-up of
 * the chat archived in DIR to the targets its session file names.
 * Exit status: 0 published (or nothing wrong in a dry run), 1 a target
 * failed (what was already published is said), 2 bad usage or bad input. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/publish.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper publish DIR [--dry-run] [--no-platform]\n\n"
                 "Publish the write-up of the chat archived in DIR to the targets in its\n"
                 "session file's \"publish\" section: a WordPress post (draft by default),\n"
                 "a Micropub h-entry, and with \"announce\": true a post on the hashtag\n"
                 "linking to it. Publishing again updates the same posts (state.json).\n"
                 "Quoted posts are first looked up on the platform; deleted ones are left\n"
                 "out and listed in DIR/deleted.json.\n\n"
                 "  --dry-run       print what would be sent where; send and write nothing\n"
                 "  --no-platform   skip the platform: no re-check, no announcement\n");
}

int ck_cli_publish(int argc, char **argv)
{
    struct ck_publish_opts o = {0};
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--dry-run") == 0) {
            o.dry_run = true;
        } else if (strcmp(a, "--no-platform") == 0) {
            o.no_platform = true;
        } else if (a[0] == '-' || dir != NULL) {
            fprintf(stderr, "chatkeeper publish: unexpected argument '%s'\n", a);
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
    struct ck_error err = {0};
    int rc = ck_publish_session(dir, &o, &err);
    if (rc == 0)
        return 0;
    fprintf(stderr, "chatkeeper publish: %s\n", err.msg[0] ? err.msg : ck_strerror(rc));
    return rc == CK_ECONFIG || rc == CK_ECORRUPT || rc == CK_EPARSE || rc == CK_ENOTFOUND ? 2 : 1;
}
