/* chatkeeper import [--platform mastodon|bluesky|twarc] FILE... --session SESSION.json --out DIR:
 * build a session directory from statuses or tweets captured elsewhere.
 * Exit status: 0 done (a few corrupt input lines are reported and skipped),
 * 1 I/O or other failure, 2 bad usage, a session file that does not load, an
 * input file that cannot be opened, or input that is not (mostly) statuses
 * or tweets of the platform asked for (see ck_import_run). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/import.h"

static const struct ck_cli_opt cli_opts[] = {
    {"platform", "mastodon|bluesky|twarc", "what the files hold"},
    {"session", "SESSION.json", "the chat's session file (no platform section needed)"},
    {"out", "DIR", "the session directory to build"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "import",
    .args = "FILE...",
    .min_args = 1,
    .max_args = SIZE_MAX,
    .about = "Build the session directory DIR from data captured elsewhere, then its archive.\n"
             "FILE may be gzipped, or - for standard input. Without --platform the format is\n"
             "detected from the files:\n"
             "  mastodon  statuses: a JSON array, or one status (or page) per line, or a\n"
             "            chatkeeper journal.jsonl\n"
             "  twarc     twarc 1 files (one API v1.1 tweet per line), twarc2 files (one\n"
             "            API v2 response page per line) or twarc2's flattened tweets\n"
             "The objects go into DIR/journal.jsonl with fetched_at = their own created_at,\n"
             "once each: importing the same files again adds nothing. SESSION.json needs no\n"
             "platform section; facilitators may be Twitter handles (@user). Lines that are\n"
             "not JSON or not a status/tweet are reported as FILE:LINE and skipped; a file\n"
             "that is mostly such lines, or holds another format, fails with exit status 2.\n",
    .opts = cli_opts,
};

int ck_cli_import(int argc, char **argv)
{
    struct ck_import_opts o = {0};
    struct ck_cli_args a;
    int code = ck_cli_parse(&cmd, argc, argv, &a);
    if (code != CK_CLI_GO)
        return code;
    o.format = ck_cli_get(&a, "platform");
    o.session_path = ck_cli_get(&a, "session");
    o.out_dir = ck_cli_get(&a, "out");
    o.n_files = a.n_args;
    if (o.session_path == NULL || o.out_dir == NULL)
        return ck_cli_usage_error(&cmd, "--session and --out are needed");
    if (o.format != NULL && strcmp(o.format, "mastodon") != 0 && strcmp(o.format, "bluesky") != 0 &&
        strcmp(o.format, "twarc") != 0)
        return ck_cli_usage_error(&cmd, "--platform: expected mastodon, bluesky or twarc, got '%s'",
                                  o.format);
    if ((code = ck_cli_input(&cmd, "--session", o.session_path, false)) != CK_CLI_GO)
        return code;
    const char **files = calloc(a.n_args, sizeof *files);
    if (files == NULL)
        return ck_cli_fail(cmd.name, CK_ENOMEM, NULL);
    for (size_t i = 0; i < a.n_args; i++)
        files[i] = a.args[i];
    o.files = files;
    struct ck_import_stats st = {0};
    struct ck_error err = {0};
    int rc = ck_import_run(&o, &st, &err);
    if (rc != 0 && st.lines == 0) { /* refused or failed: no archive was built */
        code = ck_cli_fail(cmd.name, rc, &err);
        goto out;
    }
    if (o.format == NULL)
        printf("import: read as %s\n", ck_import_kind_name(st.kind));
    printf("import: %zu objects read from %zu lines: %zu added to the journal, %zu already "
           "there, %zu rejected, %zu corrupt lines skipped\n",
           st.objects, st.lines, st.added, st.duplicates, st.rejected, st.corrupt);
    printf("messages.jsonl: %zu messages (%zu boosts) from %zu people", st.archive.messages,
           st.archive.boosts, st.archive.people);
    if (st.archive.outside_window > 0)
        printf("; %zu outside the session's window left out", st.archive.outside_window);
    printf("\n");
    code = 0;
    if (rc != 0) { /* built, but a file was mostly unreadable */
        fflush(stdout);
        code = ck_cli_fail(cmd.name, rc, &err);
    }
out:
    free(files);
    return code;
}
