/* chatkeeper run SESSION.json [--observe] [--out DIR] [--start now] [--speed X]
 *                             [--base-url URL] [--status|--no-status] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/config.h"
#include "chatkeeper/rehearse.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/timeutil.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: chatkeeper run SESSION.json [options]\n"
                 "\n"
                 "Wait for the session's lead time, follow its hashtag until the end of the grace\n"
                 "period, then build the archive in the session directory.\n"
                 "\n"
                 "  --observe         follow only, post nothing\n"
                 "  --dry-run         print what would be posted and when, and exit\n"
                 "  --out DIR         session directory (default: ARCHIVE_DIR/DATE-TITLE)\n"
                 "  --start now|TIME  start the chat now (or at an RFC 3339 time) instead\n"
                 "  --speed X         divide every offset and window by X (rehearsals)\n"
                 "  --poll DURATION   poll this often in every phase (benchmarks)\n"
                 "  --base-url URL    use another server (https, or http on loopback)\n"
                 "  --rehearse SCRIPT start now against a local simulator playing SCRIPT\n"
                 "                    (it posts the run sheet there when the session posts;\n"
                 "                    the session's real server is never contacted)\n"
                 "  --status          always draw the status line; --no-status never\n"
                 "\n"
                 "Interrupt with Ctrl-C: state is saved and the same command continues.\n");
}

int ck_cli_run(int argc, char **argv)
{
    struct ck_runner_opts o = {.speed = 1.0, .status_line = -1};
    const char *script = NULL;
    bool dry = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--dry-run") == 0) {
            dry = true;
        } else if (strcmp(a, "--observe") == 0) {
            o.observe = true;
        } else if (strcmp(a, "--status") == 0) {
            o.status_line = 1;
        } else if (strcmp(a, "--no-status") == 0) {
            o.status_line = 0;
        } else if (strcmp(a, "--out") == 0 && next) {
            o.out_dir = next;
            i++;
        } else if (strcmp(a, "--base-url") == 0 && next) {
            o.base_url = next;
            i++;
        } else if (strcmp(a, "--start") == 0 && next) {
            if (strcmp(next, "now") == 0) {
                o.start_at_ms = ck_time_now_ms() / 1000 * 1000;
            } else if (ck_time_parse_rfc3339(next, &o.start_at_ms) != 0) {
                fprintf(stderr, "chatkeeper run: --start wants 'now' or a time like "
                                "2026-12-03T20:00:00Z\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--poll") == 0 && next) {
            if (ck_duration_parse(next, &o.poll_ms) != 0 || o.poll_ms < 10) {
                fprintf(stderr, "chatkeeper run: --poll wants a duration of at least 10ms\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--rehearse") == 0 && next) {
            script = next;
            i++;
        } else if (strcmp(a, "--speed") == 0 && next) {
            char *end;
            o.speed = strtod(next, &end);
            if (*end != '\0' || !(o.speed >= 1.0 && o.speed <= 10000.0)) {
                fprintf(stderr, "chatkeeper run: --speed wants a number from 1 to 10000\n");
                return 2;
            }
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "chatkeeper run: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return 2;
        } else if (o.session_path == NULL) {
            o.session_path = a;
        } else {
            fprintf(stderr, "chatkeeper run: one session file, please\n");
            return 2;
        }
    }
    if (o.session_path == NULL) {
        usage(stderr);
        return 2;
    }
    if (dry)
        return ck_runner_dry_run(&o, stdout);
    if (script == NULL)
        return ck_runner_main(&o);

    /* A rehearsal: the chat starts now, on a simulator of our own. */
    struct ck_rehearsal sim;
    struct ck_error err = {0};
    /* A second or two ahead, not the second already begun: at 90x each second
     * the welcome is late on the wall is a minute and a half on the chat's clock. */
    if (o.start_at_ms == 0)
        o.start_at_ms = (ck_time_now_ms() / 1000 + 2) * 1000;
    /* When the session posts, chatkeeper plays the host and the simulator the
     * participants; when it only observes, the script's host posts too. */
    struct ck_session s;
    if (ck_session_load(o.session_path, &s, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    int posting = !o.observe && s.post;
    ck_session_finish(&s);
    if (ck_rehearsal_start(script, o.speed, o.start_at_ms, posting, &sim, &err) < 0) {
        fprintf(stderr, "chatkeeper run: %s\n", err.msg);
        return 1;
    }
    o.base_url = sim.base_url;
    o.rehearsal = true;
    int rc = ck_runner_main(&o);
    ck_rehearsal_stop(&sim);
    return rc;
}
