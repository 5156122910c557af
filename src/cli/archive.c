/* chatkeeper archive DIR: rebuild DIR/messages.jsonl from the journal.
 * Exit status: 0 done, 1 I/O or other failure, 2 bad usage or DIR is not a
 * session directory (no session.json or journal.jsonl, a session.json that does
 * not load). */
#include <stdio.h>
#include <string.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper archive DIR\n\n"
                 "Rebuild DIR/messages.jsonl from DIR/session.json and DIR/journal.jsonl:\n"
                 "every status captured in the session's window (start - lead to\n"
                 "end + grace) normalised, deduplicated and sorted oldest first.\n"
                 "Running it twice gives the same bytes.\n");
}

int ck_cli_archive(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        usage(stderr);
        return 2;
    }
    struct ck_archive_stats st;
    struct ck_error err = {0};
    int rc = ck_archive_build(argv[1], &st, &err);
    if (rc != 0) {
        fprintf(stderr, "chatkeeper archive: %s\n", err.code != 0 ? err.msg : ck_strerror(rc));
        return rc == CK_ENOTFOUND || rc == CK_ECONFIG ? 2 : 1;
    }
    printf("messages.jsonl: %zu messages (%zu boosts) from %zu people; %zu corrupt lines skipped",
           st.messages, st.boosts, st.people, st.corrupt_lines);
    if (st.outside_window > 0)
        printf("; %zu statuses outside the session's window left out", st.outside_window);
    if (st.skipped_objects > 0)
        printf("; %zu objects skipped", st.skipped_objects);
    printf("\n");
    return 0;
}
