/* chatkeeper archive DIR: rebuild DIR's outputs from the journal.
 * Exit status: 0 done, else ck_exit_status: 2 bad usage or DIR is not a
 * session directory (no session.json or journal.jsonl, a session.json or
 * overrides.json that does not load), 1 I/O or other failure. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "chatkeeper/archive.h"
#include "chatkeeper/cli.h"

static const struct ck_cli_cmd cmd = {
    .name = "archive",
    .args = "DIR",
    .min_args = 1,
    .max_args = 1,
    .about = "Rebuild every output in the session directory DIR (messages.jsonl, the\n"
             "transcripts, CSV, summary, chart, write-up) from DIR/session.json,\n"
             "DIR/journal.jsonl and DIR/overrides.json: every status captured in the\n"
             "session's window (start - lead to end + grace) normalised, deduplicated\n"
             "and sorted oldest first. Running it twice gives the same bytes.\n",
};

/* A build a runner started (run/runner_build.c) ends with the runner: killed
 * (kill -9) in-process, the build would have stopped with it; as a child it
 * would go on and rename outputs in under the next run. False when the runner
 * is gone already. */
static bool end_with_runner(void)
{
    const char *p = getenv("CHATKEEPER_BUILD_PARENT");
    if (p == NULL)
        return true;
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    return (long)getppid() == strtol(p, NULL, 10);
}

int ck_cli_archive(int argc, char **argv)
{
    if (!end_with_runner())
        return 1;
    struct ck_cli_args a;
    int code = ck_cli_parse_dir(&cmd, argc, argv, &a);
    if (code != CK_CLI_GO)
        return code;
    struct ck_archive_stats st;
    struct ck_error err = {0};
    int rc = ck_archive_build(a.args[0], &st, &err);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
    printf("messages.jsonl: %zu messages (%zu boosts) from %zu people; %zu corrupt lines skipped",
           st.messages, st.boosts, st.people, st.corrupt_lines);
    if (st.outside_window > 0)
        printf("; %zu statuses outside the session's window left out", st.outside_window);
    if (st.skipped_objects > 0)
        printf("; %zu objects skipped", st.skipped_objects);
    printf("\n");
    return 0;
}
