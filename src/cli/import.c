/* chatkeeper import [--platform mastodon|twarc] FILE... --session SESSION.json --out DIR:
 * build a session directory from statuses or tweets captured elsewhere.
 * Exit status: 0 done (a few corrupt input lines are reported and skipped),
 * 1 I/O or other failure, 2 bad usage, a session file that does not load, an
 * input file that cannot be opened, or input that is not (mostly) statuses
 * or tweets of the platform asked for (see ck_import_run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/import.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: chatkeeper import [--platform mastodon|twarc] FILE... --session SESSION.json "
            "--out DIR\n\n"
            "Build the session directory DIR from data captured elsewhere, then its archive.\n"
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
            "that is mostly such lines, or holds another format, fails with exit status 2.\n");
}

int ck_cli_import(int argc, char **argv)
{
    struct ck_import_opts o = {0};
    const char **files = calloc((size_t)argc, sizeof *files);
    if (files == NULL) {
        fprintf(stderr, "chatkeeper import: out of memory\n");
        return 1;
    }
    int code = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            code = 0;
            goto out;
        }
        if (strcmp(a, "--platform") == 0 || strcmp(a, "--session") == 0 ||
            strcmp(a, "--out") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "chatkeeper import: %s needs a value\n", a);
                goto bad;
            }
            const char **slot = a[2] == 'p'   ? &o.format
                                : a[2] == 's' ? &o.session_path
                                              : &o.out_dir;
            *slot = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "chatkeeper import: unknown option %s\n", a);
            goto bad;
        } else {
            files[o.n_files++] = a;
        }
    }
    if (o.session_path == NULL || o.out_dir == NULL || o.n_files == 0) {
        fprintf(stderr, "chatkeeper import: --session, --out and a FILE are needed\n");
        goto bad;
    }
    if (o.format != NULL && strcmp(o.format, "mastodon") != 0 && strcmp(o.format, "twarc") != 0) {
        fprintf(stderr, "chatkeeper import: --platform is mastodon or twarc, not \"%s\"\n",
                o.format);
        goto bad;
    }
    o.files = files;
    struct ck_import_stats st = {0};
    struct ck_error err = {0};
    int rc = ck_import_run(&o, &st, &err);
    if (rc != 0 && st.lines == 0) { /* refused or failed: no archive was built */
        fprintf(stderr, "chatkeeper import: %s\n", err.code != 0 ? err.msg : ck_strerror(rc));
        code = rc == CK_ECONFIG || rc == CK_ENOTFOUND || rc == CK_EUSAGE || rc == CK_EPARSE ? 2 : 1;
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
        fprintf(stderr, "chatkeeper import: %s\n", err.msg);
        code = 2;
    }
    goto out;
bad:
    fprintf(stderr, "\n");
    usage(stderr);
out:
    free(files);
    return code;
}
