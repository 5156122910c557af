/* The end of a run (runner_int.h, ck_runner__finish): the archive, then the
 * write-up published when the session says where, then done. Under serve the
 * build runs as a child process (runner_build.c), so the other sessions'
 * steps keep their time; `run` builds in-process. */
#include <stdio.h>
#include <string.h>

#include "chatkeeper/alerts.h"
#include "chatkeeper/archive.h"
#include "chatkeeper/log.h"
#include "chatkeeper/publish.h"
#include "chatkeeper/state.h"

#include "runner_int.h"

/* incomplete: NULL, or why capture stopped short of the whole window (the
 * archive is then built from what there is, nothing is published, and the run
 * exits 1 saying that the same command continues). */
static void finish_built(struct runner *r, int status, const struct ck_archive_stats *st);
static void finish_after_build(struct runner *r, const char *failed,
                               const struct ck_archive_stats *stp);

/* A refresh's child build was stopped so that the final build can run. */
static void finish_resume(struct runner *r, int status, const struct ck_archive_stats *st)
{
    char why[sizeof r->incomplete];
    (void)status;
    (void)st;
    snprintf(why, sizeof why, "%s", r->incomplete);
    ck_runner__finish(r, r->has_incomplete ? why : NULL);
}

void ck_runner__finish(struct runner *r, const char *incomplete)
{
    if (r->building) {
        /* A refresh is being built by a child process: the final build must
         * not race it (its older outputs could be renamed in last). Stop it;
         * the final build starts when it is gone. */
        r->has_incomplete = incomplete != NULL;
        snprintf(r->incomplete, sizeof r->incomplete, "%s", incomplete ? incomplete : "");
        r->build_cb = finish_resume;
        ck_runner__build_stop(r);
        return;
    }
    /* Following is what runs for hours: its footprint is worth a line of its own.
     * VmHWM, not getrusage: ru_maxrss carries over the parent's RSS across exec. */
    FILE *status = fopen("/proc/self/status", "r");
    char line[128];
    while (status != NULL && fgets(line, sizeof line, status) != NULL) {
        long kb;
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            ck_info("runner: following done; peak RSS %.1f MB", (double)kb / 1024.0);
    }
    if (status != NULL)
        fclose(status);
    struct ck_follower_stats fs = {0};
    ck_runner__all_stats(r, &fs);
    if (incomplete != NULL && fs.messages == 0) {
        /* An empty archive would read as "the chat had no messages". */
        ck_err("runner: nothing was captured: %s", incomplete);
        ck_err("runner: run the same command again to try again (nothing is lost)");
        ck_runner__save_phase(r, "incomplete");
        ck_runner__end(r, 1);
        return;
    }
    ck_runner__save_phase(r, "archiving");
    r->final_wait = 0;
    r->has_incomplete = incomplete != NULL;
    snprintf(r->incomplete, sizeof r->incomplete, "%s", incomplete ? incomplete : "");
    /* serve: the build runs beside the loop, which keeps every other session's
     * steps on time (runner_build.c); `run` builds here. */
    if (r->group != NULL && ck_runner__build(r, finish_built) == 0)
        return;
    struct ck_archive_stats st = {0};
    struct ck_error err = {0};
    int rc = ck_archive_build(r->dir, &st, &err);
    finish_after_build(r, rc < 0 ? err.msg : NULL, &st);
}

static void finish_built(struct runner *r, int status, const struct ck_archive_stats *st)
{
    char why[160];
    snprintf(why, sizeof why,
             "'chatkeeper archive' exited with status %d (its lines above say why)", status);
    finish_after_build(r, status != 0 ? why : NULL, st);
}

/* The archive is built (failed: NULL, or why not): publish, then done. */
static void finish_after_build(struct runner *r, const char *failed,
                               const struct ck_archive_stats *stp)
{
    struct ck_archive_stats st = *stp;
    struct ck_error err = {0};
    const char *incomplete = r->has_incomplete ? r->incomplete : NULL;
    if (failed != NULL) {
        ck_err("runner: archive: %s", failed);
        ck_alert(r->alerts, "archive", "the archive could not be built in %s: %s", r->dir, failed);
        ck_runner__save_phase(r, "failed");
        ck_runner__end(r, 1);
        return;
    }
    if (incomplete != NULL) {
        ck_err("runner: the archive in %s is incomplete (%zu messages from %zu people): %s", r->dir,
               st.messages, st.people, incomplete);
        ck_err("runner: nothing was published; run the same command again to capture the rest "
               "(it continues where this run stopped, nothing is doubled)");
        ck_runner__save_phase(r, "incomplete");
        ck_runner__end(r, 1);
        return;
    }
    /* The write-up goes out at the end when the session says where. */
    if (json_is_object(json_object_get(r->s.json, "publish"))) {
        ck_runner__save_phase(r, "publishing");
        /* A rehearsal never publishes for real: it shows what would be sent. */
        struct ck_publish_opts po = {
            .dry_run = r->rehearsal, .no_platform = r->rehearsal, .out = stderr};
        ck_error_clear(&err);
        if (ck_publish_session(r->dir, &po, &err) < 0) {
            ck_err("runner: publishing failed: %s (the archive is complete; run 'chatkeeper "
                   "publish %s' to try again)",
                   err.msg, r->dir);
            ck_alert(r->alerts, "publish", "publishing the write-up failed: %s", err.msg);
            ck_runner__save_phase(r, "publish failed");
            ck_runner__end(r, 1);
            return;
        }
        /* publish recorded its posts in state.json: take them into ours (which
         * the follower and poster still hold) before it is saved again. */
        json_t *fresh = NULL;
        if (ck_state_load(r->state_path, &fresh, &err) == 0) {
            json_t *pub = json_object_get(fresh, "published");
            if (pub != NULL)
                json_object_set(r->state, "published", pub);
            json_decref(fresh);
        }
    }
    ck_runner__save_phase(r, "done");
    ck_info("runner: done: %zu messages from %zu people", st.messages, st.people);
    ck_runner__alert_done(r, &st);
    ck_runner__end(r, 0);
    printf("session directory: %s\n", r->dir);
    printf("open: %s/transcript.html\n", r->dir);
}
