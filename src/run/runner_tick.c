/* The runner's tick (runner_int.h): once a second it watches the follower for
 * a failure streak, rebuilds the outputs during the chat, and draws the
 * status line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/alerts.h"
#include "chatkeeper/archive.h"
#include "chatkeeper/log.h"
#include "chatkeeper/runstatus.h"
#include "chatkeeper/timeutil.h"

#include "runner_int.h"

#include "chatkeeper/runconsole.h"

static const char *const phase_names[] = {"waiting", "lead",      "chat", "grace",
                                          "sweep",   "archiving", "done"};

/* ---- status line ---------------------------------------------------------- */

void ck_runner__status_erase(int after, void *arg)
{
    struct runner *r = arg;
    if (!after && r->status_drawn) {
        fputs("\r\033[K", stderr);
        r->status_drawn = 0;
    }
}

/* The next thing the person watching waits for, and when. */
static const char *next_event(const struct runner *r, int64_t now, char *lbl, size_t n,
                              int64_t *at_ms)
{
    if (now < r->sch.lead_ms) {
        *at_ms = r->sch.lead_ms;
        return "following starts";
    }
    for (size_t i = r->next_step; i < r->sch.n; i++) {
        const struct ck_sched_entry *e = &r->sch.entries[i];
        if (e->at_ms >= now && (e->kind == CK_SCHED_WELCOME || e->kind == CK_SCHED_QUESTION ||
                                e->kind == CK_SCHED_CLOSING || e->kind == CK_SCHED_REMINDER)) {
            *at_ms = e->at_ms;
            return ck_sched_label(e, lbl, n);
        }
    }
    if (now < r->sch.end_ms) {
        *at_ms = r->sch.end_ms;
        return "the chat ends";
    }
    if (now < r->sch.grace_end_ms) {
        *at_ms = r->sch.grace_end_ms;
        return "following ends";
    }
    return NULL;
}

void ck_runner__status_draw(struct runner *r)
{
    if (!r->status_line || r->stopping)
        return;
    int64_t now = ck_time_now_ms();
    char t[64], lbl[16] = "", nlbl[16];
    ck_runner__local_time(r, now, t, sizeof t);
    struct ck_follower_stats st = {0};
    ck_runner__all_stats(r, &st);
    const char *time_part = strchr(t, ' ') ? strchr(t, ' ') + 1 : t;
    if (r->last_step != NULL)
        ck_sched_label(r->last_step, lbl, sizeof lbl);
    const char *fst = ck_runner__all_state(r);
    struct ck_run_status rs = {
        .clock = time_part,
        .phase = phase_names[ck_runner__phase_at(r, now)],
        .step = lbl,
        .following = r->follower != NULL && strcmp(fst, "idle") != 0,
        .messages = st.messages,
        .people = st.people,
        .failing = r->failing_since_ms ? st.errors - r->errors_seen : 0,
        .rate_limited = st.rate_limited > r->limited_seen,
    };
    if (strcmp(fst, "sweeping") == 0 || strcmp(fst, "threads") == 0) {
        rs.phase = strcmp(fst, "sweeping") == 0 ? "sweeping" : "fetching threads";
        rs.step = NULL;
    } else {
        int64_t at = 0;
        rs.next = next_event(r, now, nlbl, sizeof nlbl, &at);
        rs.next_in_ms = at - now;
    }
    char line[256];
    ck_run_status_format(&rs, line, sizeof line);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    r->status_drawn = 1;
}
/* ---- once a second: failures, refreshed outputs, the status line ---------- */

/* A failure streak after the window gives up: waiting longer helps nobody when
 * the platform does not answer, and exit 0 would say the empty archive is the chat. */
/* During the chat, a follower that has read nothing for stall_ms (5 minutes,
 * compressed by --speed) is worth telling someone about, once. */
static void watch_stall(struct runner *r, const struct ck_follower_stats *st, int64_t now)
{
    size_t reads = st->pages + st->streamed + st->stream_connects;
    if (reads != r->reads_seen || r->last_read_ms == 0 || now < r->sch.start_ms) {
        r->reads_seen = reads;
        r->last_read_ms = now;
        return;
    }
    if (now >= r->sch.end_ms || now - r->last_read_ms < r->stall_ms)
        return;
    char d[32];
    ck_duration_format((now - r->last_read_ms) / 1000 * 1000, d, sizeof d);
    ck_alert(r->alerts, "stall",
             "capture stalled: no successful read of #%s for %s during the "
             "chat%s%s",
             r->s.hashtag, d, st->last_error[0] ? "; last error: " : "", st->last_error);
}

static void watch_failures(struct runner *r, const struct ck_follower_stats *st, int64_t now)
{
    if (st->pages != r->pages_seen) {
        r->pages_seen = st->pages;
        r->errors_seen = st->errors;
        r->limited_seen = st->rate_limited;
        r->failing_since_ms = 0;
        return;
    }
    if (st->errors > r->errors_seen && r->failing_since_ms == 0)
        r->failing_since_ms = now;
    int64_t since = r->failing_since_ms;
    if (since == 0 || now < r->sch.grace_end_ms)
        return; /* during the chat the follower keeps trying until its deadline */
    if (since < r->sch.grace_end_ms)
        since = r->sch.grace_end_ms;
    if (now - since < r->give_up_ms)
        return;
    char d[32], why[400];
    ck_duration_format((now - r->failing_since_ms) / 1000 * 1000, d, sizeof d);
    snprintf(why, sizeof why, "%s did not answer for %s (%zu failed requests); last error: %s",
             r->n_src > 1 ? "a source" : r->s.platform.base_url, d, st->errors - r->errors_seen,
             st->last_error[0] ? st->last_error : "unknown");
    for (size_t i = 0; i < r->n_src; i++)
        ck_follower_stop(r->src[i].follower);
    r->following = 0;
    ck_runner__finish(r, why);
}

/* Rebuild the outputs from the journal so far, in a child process
 * (runner_build.c): the journal is only appended between whole pages, so the
 * build reads whole lines, and every output is replaced atomically. Builds
 * space themselves out to at most 5% of the time. When no child can be
 * started the build runs here and blocks the loop (about 0.2 s for 2,000
 * statuses), so it keeps clear of a step about to be posted. */
struct ck_runner_group *ck_runner_group_new(void)
{
    return calloc(1, sizeof(struct ck_runner_group));
}

void ck_runner_group_free(struct ck_runner_group *g)
{
    free(g);
}

static bool step_soon(const struct runner *r, int64_t now, int64_t margin_ms)
{
    for (size_t i = r->next_step; i < r->sch.n; i++) {
        if (!ck_runner__is_step(&r->sch.entries[i]))
            continue;
        return r->sch.entries[i].at_ms - now < margin_ms;
    }
    return false;
}

bool ck_runner__quiet(const struct runner *r, int64_t now, int64_t margin_ms)
{
    if (r->group == NULL)
        return !step_soon(r, now, margin_ms);
    if (now < r->group->next_build_ms)
        return false;
    for (const struct runner *o = r->group->head; o != NULL; o = o->gnext)
        if (!o->stopping && step_soon(o, now, margin_ms))
            return false;
    return true;
}

void ck_runner__built(struct runner *r, int64_t took_ms)
{
    if (r->group != NULL)
        r->group->next_build_ms = ck_time_now_ms() + took_ms * 20;
}

static void refreshed(struct runner *r, size_t messages, int64_t took)
{
    if (!r->refreshed)
        ck_info("runner: the transcript is refreshed as the chat goes: 'chatkeeper catchup %s' "
                "or %s/transcript.html",
                r->dir, r->dir);
    ck_debug("runner: outputs refreshed: %zu messages in %lld ms", messages, (long long)took);
    r->refreshed = 1;
}

/* A refresh built by a child process has ended. */
static void refresh_built(struct runner *r, int status, const struct ck_archive_stats *as)
{
    int64_t gap = r->build_ms * 20 > r->refresh_ms ? r->build_ms * 20 : r->refresh_ms;
    r->next_refresh_ms = ck_time_now_ms() + gap;
    if (status != 0) {
        ck_warn("runner: could not refresh the outputs (trying again in %llds): 'chatkeeper "
                "archive' exited with status %d",
                (long long)(gap / 1000), status);
        return;
    }
    refreshed(r, as->messages, r->build_ms);
    r->refreshed_at = r->build_journaled;
}

/* Refreshes wait while a build runs (one at a time beside the loop, so two
 * cores keep one for the loop) or, under serve, a session's final build
 * waits. `run` alone has only its own build to wait for (refresh_outputs). */
static bool group_may_build(const struct runner *r, int64_t now)
{
    if (r->group == NULL)
        return true;
    if (r->group->building > 0 || now < r->group->next_build_ms)
        return false;
    for (const struct runner *o = r->group->head; o != NULL; o = o->gnext)
        if (o->final_wait && !o->stopping)
            return false;
    return true;
}

static void refresh_outputs(struct runner *r, const struct ck_follower_stats *st, int64_t now)
{
    if (!r->following || now < r->next_refresh_ms || now >= r->sch.grace_end_ms || r->building)
        return;
    const char *fst = ck_runner__all_state(r);
    if (strcmp(fst, "sweeping") == 0 || strcmp(fst, "threads") == 0 || st->messages == 0)
        return;
    /* A child process builds the refresh (runner_build.c), under serve and
     * `run` alike: the loop does not wait for it, and the build's heap (9 MB
     * for a 20,000-status chat) never lands in the follower's peak RSS, which
     * a long run keeps. In-process only when the child cannot be started. */
    bool spawn = !r->no_spawn;
    if (spawn ? !group_may_build(r, now) : !ck_runner__quiet(r, now, 3000 + 2 * r->build_ms))
        return; /* try again on the next tick, after the step */
    if (r->refreshed && st->journaled == r->refreshed_at) {
        r->next_refresh_ms = now + r->refresh_ms;
        return;
    }
    r->build_journaled = st->journaled;
    if (spawn && ck_runner__build(r, refresh_built) == 0)
        return;
    uint64_t t0 = uv_hrtime();
    struct ck_archive_stats as = {0};
    struct ck_error err = {0};
    int rc = ck_archive_build(r->dir, &as, &err);
    int64_t took = (int64_t)((uv_hrtime() - t0) / 1000000);
    r->build_ms = took;
    ck_runner__built(r, took);
    int64_t gap = took * 20 > r->refresh_ms ? took * 20 : r->refresh_ms;
    r->next_refresh_ms = ck_time_now_ms() + gap;
    uv_update_time(r->loop);
    if (rc < 0) {
        ck_warn("runner: could not refresh the outputs (trying again in %llds): %s",
                (long long)(gap / 1000), err.msg);
        return;
    }
    refreshed(r, as.messages, took);
    r->refreshed_at = st->journaled;
}

static void tick_body(uv_timer_t *t)
{
    struct runner *r = t->data;
    if (r->stopping || r->follower == NULL)
        return;
    int64_t now = ck_time_now_ms();
    struct ck_follower_stats st;
    ck_runner__all_stats(r, &st);
    watch_stall(r, &st, now);
    watch_failures(r, &st, now);
    if (r->stopping)
        return;
    refresh_outputs(r, &st, now);
    ck_runner__status_draw(r);
    ck_runconsole_tick(r->console); /* console hook */
}

/* With the session's log tag (serve). */
void ck_runner__on_tick(uv_timer_t *t)
{
    const char *was = ck_log_tag_swap(((struct runner *)t->data)->log_tag);
    tick_body(t);
    ck_log_tag_swap(was);
}
