/* The session runner (see runner.h): one session on a loop it is given, so
 * `serve` can carry many on one loop. It owns the HTTP client, the journal,
 * state.json, the follower and the poster, and tears them down in order
 * (STYLE.md, "curl on libuv"); ck_runner_main is `run`: its own loop and the
 * signals. Nothing here is process-wide but the log hook of the status line,
 * which only `run` sets. */
#include "chatkeeper/runner.h"

#include "runner_int.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "chatkeeper/alerts.h"
#include "chatkeeper/archive.h"
#include "chatkeeper/auth.h"
#include "chatkeeper/follower.h"
#include "chatkeeper/http.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/log.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/poster.h"
#include "chatkeeper/publish.h"
#include "chatkeeper/runconsole.h"
#include "chatkeeper/runstatus.h"
#include "chatkeeper/series.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

enum phase ck_runner__phase_at(const struct runner *r, int64_t now)
{
    if (now < r->sch.lead_ms)
        return P_WAITING;
    if (now < r->sch.start_ms)
        return P_LEAD;
    if (now < r->sch.end_ms)
        return P_CHAT;
    if (now < r->sch.grace_end_ms)
        return P_GRACE;
    return P_SWEEP;
}

void ck_runner__local_time(const struct runner *r, int64_t ms, char *buf, size_t n)
{
    if (ck_time_format_local(r->s.timezone, ms, buf, n) != 0)
        ck_time_format_rfc3339(ms, buf);
}
/* ---- state ---------------------------------------------------------------- */

void ck_runner__save_phase(struct runner *r, const char *phase)
{
    json_object_set_new(r->state, "phase", json_string(phase));
    struct ck_error err = {0};
    if (ck_state_save(r->state_path, r->state, &err) < 0)
        ck_err("runner: cannot save state: %s", err.msg);
}

/* ---- shutdown --------------------------------------------------------------- */

/* Every part closed: the owner hears the status, and may free the runner. */
static void closed_one(struct runner *r)
{
    if (--r->closing == 0 && r->done != NULL)
        r->done((struct ck_runner *)r, r->exit_code, r->done_arg);
}

static void on_part_closed(void *arg)
{
    closed_one(arg);
}

void ck_runner__part_closed(struct runner *r)
{
    closed_one(r);
}

static void on_closed(uv_handle_t *h)
{
    closed_one(h->data);
}

void ck_runner__shutdown(struct runner *r, int code)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    r->exit_code = code;
    ck_runconsole_detach(r->console); /* console hook */
    r->console = NULL;
    ck_runner__status_erase(0, r);
    if (r->status_line)
        ck_log_set_hook(NULL, NULL);
    /* One count for the handles' closes, held until all are asked, so a close
     * delivered early cannot finish the runner before the last is started. */
    r->closing = 1;
    for (size_t i = 0; i < r->n_src; i++) {
        struct source *src = &r->src[i];
        if (src->follower != NULL)
            ck_follower_stop(src->follower);
        if (src->poster != NULL) {
            r->closing++;
            ck_poster_close(src->poster, on_part_closed, r);
            src->poster = NULL;
        }
    }
    if (r->http != NULL) {
        r->closing++;
        ck_http_close(r->http, on_part_closed, r); /* cancels what is in flight */
        r->http = NULL;
    }
    for (size_t i = 0; i < r->n_src; i++) {
        struct source *src = &r->src[i];
        if (src->auth != NULL) {
            ck_auth_close(src->auth); /* its timer closes on the loop; nothing waits for it */
            src->auth = NULL;
        }
        if (src->follower != NULL) {
            r->closing++;
            ck_follower_close(src->follower, on_part_closed, r);
            src->follower = NULL;
        }
    }
    r->follower = NULL;
    if (r->alerts != NULL) {
        r->closing++;
        ck_alerts_close(r->alerts, on_part_closed, r);
        r->alerts = NULL;
    }
    if (r->building) { /* runner_build.c reports when the child is gone */
        r->closing++;
        ck_runner__build_stop(r);
    }
    r->closing += 3;
    uv_close((uv_handle_t *)&r->start_timer, on_closed);
    uv_close((uv_handle_t *)&r->step_timer, on_closed);
    uv_close((uv_handle_t *)&r->tick_timer, on_closed);
    r->closing--; /* cannot reach 0 here: the three timers are still closing */
}

void ck_runner_stop(struct ck_runner *cr, int status)
{
    struct runner *r = (struct runner *)cr;
    if (r->stopping)
        return;
    if (r->ending) {
        /* The phase is saved already ("done", say): keep it and its status. */
        ck_runner__shutdown(r, r->end_code);
        return;
    }
    if (r->state != NULL)
        ck_runner__save_phase(r, "interrupted");
    ck_runner__shutdown(r, status);
}

/* ---- steps ---------------------------------------------------------------- */

static void observe_due(void *self, const struct ck_sched_entry *e, int64_t late_ms)
{
    (void)self;
    char lbl[16];
    ck_sched_label(e, lbl, sizeof lbl);
    const char *text = e->step ? e->step->text : "";
    if (late_ms > 2000)
        ck_info("step %s was due %llds ago (observing: not posting): %.80s", lbl,
                (long long)(late_ms / 1000), text);
    else
        ck_info("step %s is due (observing: not posting): %.80s", lbl, text);
}

int ck_runner__is_step(const struct ck_sched_entry *e)
{
    return e->kind == CK_SCHED_WELCOME || e->kind == CK_SCHED_QUESTION ||
           e->kind == CK_SCHED_CLOSING || e->kind == CK_SCHED_REMINDER;
}

static void arm_step_timer(struct runner *r);

static void step_timer_body(uv_timer_t *t)
{
    struct runner *r = t->data;
    int64_t now = ck_time_now_ms();
    while (r->next_step < r->sch.n && r->sch.entries[r->next_step].at_ms <= now) {
        const struct ck_sched_entry *e = &r->sch.entries[r->next_step++];
        if (e->kind == CK_SCHED_END)
            ck_info("runner: the chat's time is up; following through the grace period");
        if (e->kind == CK_SCHED_LEAD || e->kind == CK_SCHED_END || e->kind == CK_SCHED_GRACE)
            continue;
        r->last_step = e;
        r->handler.due(r->handler.self, e, now - e->at_ms);
    }
    arm_step_timer(r);
}

CK_RUNNER_TAGGED(on_step_timer, step_timer_body)

static void arm_step_timer(struct runner *r)
{
    if (r->next_step >= r->sch.n)
        return;
    int64_t d = r->sch.entries[r->next_step].at_ms - ck_time_now_ms();
    uv_timer_start(&r->step_timer, on_step_timer, (uint64_t)(d > 0 ? d : 0), 0);
}

/* console hook: the page's controls re-arm the step timer after moving steps */
static void console_rearm(void *runner)
{
    arm_step_timer(runner);
}

/* console hook: each source's follower, for its capture health and messages */
static int console_source(void *runner, size_t i, struct ck_follower **f, const char **name,
                          const char **type)
{
    struct runner *r = runner;
    if (i >= r->n_src)
        return 0;
    *f = r->src[i].follower;
    *name = r->src[i].pc->name != NULL ? r->src[i].pc->name : r->src[i].pc->type;
    *type = r->src[i].pc->type;
    return 1;
}

/* ---- the run ---------------------------------------------------------------- */

/* Following is over but a step may still be retrying: the archive waits for it. */
static void wait_poster_body(uv_timer_t *t)
{
    struct runner *r = t->data;
    if (ck_runner__posters_busy(r) > 0)
        return;
    /* `run`: the build blocks the loop, so not just before a step, for a
     * minute at most. serve: it runs beside the loop, one at a time. */
    int64_t now = ck_time_now_ms();
    r->final_wait = 1;
    if (r->group != NULL && !r->no_spawn
            ? r->group->building > 0
            : now < r->quiet_until_ms && !ck_runner__quiet(r, now, 3000 + 2 * r->build_ms))
        return;
    uv_timer_stop(t);
    ck_runner__finish(r, NULL);
}

CK_RUNNER_TAGGED(on_wait_poster, wait_poster_body)

/* One source finished following. The run goes on while any source follows:
 * one source down does not stop the others; the archive waits for all. */
static void on_follow_done(struct ck_follower *f, int status, void *arg)
{
    struct source *src = arg;
    struct runner *r = src->r;
    (void)f;
    src->done = 1;
    src->status_rc = status;
    if (status < 0)
        ck_err("runner: following%s%s failed: %s", r->n_src > 1 ? " on " : "",
               r->n_src > 1 ? src->pc->name : "", ck_strerror(status));
    size_t failed = 0;
    for (size_t i = 0; i < r->n_src; i++) {
        if (!r->src[i].done)
            return;
        failed += r->src[i].status_rc < 0;
    }
    if (failed == r->n_src) {
        ck_alert(r->alerts, "capture", "following #%s failed: %s; the session stopped",
                 r->s.hashtag, ck_strerror(status));
        ck_runner__save_phase(r, "failed");
        ck_runner__end(r, 1);
        return;
    }
    r->following = 0; /* no more refreshes: the archive is built next */
    /* A follower ends at its deadline even when the sweep did not get through
     * the window; state.json then keeps where it stopped for the next run. */
    for (size_t i = 0; i < r->n_src; i++) {
        json_t *fo = json_object_get(r->state, r->src[i].state_key);
        if (r->src[i].status_rc < 0 || !json_is_true(json_object_get(fo, "sweep_done"))) {
            struct ck_follower_stats st = {0};
            ck_follower_get_stats(r->src[i].follower, &st);
            char why[400];
            snprintf(why, sizeof why, "the sweep of the window%s%s ran out of time%s%s",
                     r->n_src > 1 ? " on " : "", r->n_src > 1 ? r->src[i].pc->name : "",
                     st.last_error[0] ? "; last error: " : "", st.last_error);
            ck_runner__finish(r, why);
            return;
        }
    }
    r->quiet_until_ms = ck_time_now_ms() + 60000;
    if (ck_runner__posters_busy(r) > 0)
        ck_info("runner: waiting for the run sheet's last post before archiving");
    uv_timer_start(&r->start_timer, on_wait_poster, 0, 200);
}

/* Start src's follower, or leave it for the sign-in to start (a source
 * waits until it is signed in: its requests need the token). */
void ck_runner__start_follower(struct runner *r, struct source *src)
{
    if (src->auth != NULL && !ck_auth_ready(src->auth)) {
        ck_info("runner: %s: following starts once signed in", src->pc->base_url);
        src->follow_pending = 1;
        return;
    }
    src->follow_pending = 0;
    int rc = ck_follower_start(src->follower, on_follow_done, src);
    if (rc < 0) {
        ck_err("runner: cannot start following on %s: %s", src->pc->name, ck_strerror(rc));
        ck_runner__shutdown(r, 1);
    }
}

static void lead_start_body(uv_timer_t *t)
{
    struct runner *r = t->data;
    for (size_t i = 0; i < r->n_src; i++)
        ck_info("runner: following #%s on %s", r->s.hashtag, r->src[i].pc->base_url);
    ck_runner__save_phase(r, "following");
    r->following = ck_time_now_ms() < r->sch.grace_end_ms;
    for (size_t i = 0; i < r->n_src && !r->stopping; i++)
        ck_runner__start_follower(r, &r->src[i]);
}
CK_RUNNER_TAGGED(on_lead_start, lead_start_body)

static void announce_late_start(struct runner *r, int64_t now)
{
    if (now < r->sch.end_ms)
        return;
    char when[64], ago[32], until[64];
    ck_runner__local_time(r, r->sch.end_ms, when, sizeof when);
    ck_duration_format((now - r->sch.end_ms) / 60000 * 60000, ago, sizeof ago);
    const char *posting =
        r->posting || r->no_poster ? "no step of the run sheet is posted now; " : "";
    if (now < r->sch.grace_end_ms) {
        ck_runner__local_time(r, r->sch.grace_end_ms, until, sizeof until);
        ck_info("runner: the chat ended at %s; %sfollowing #%s until %s, then sweeping the "
                "window back",
                when, posting, r->s.hashtag, until);
        return;
    }
    ck_runner__local_time(r, r->sch.lead_ms, until, sizeof until);
    ck_info("runner: the chat is over (it ended at %s, %s ago): %scapturing what was said "
            "instead: #%s's timeline back to %s, then the threads",
            when, ago[0] == '0' ? "under a minute" : ago, posting, r->s.hashtag, until);
}

static int start_loop_parts(struct runner *r, const struct ck_runner_opts *o)
{
    struct ck_error err = {0};
    /* Handles first: shutdown_all closes them whatever fails below. */
    uv_timer_init(r->loop, &r->start_timer);
    uv_timer_init(r->loop, &r->step_timer);
    uv_timer_init(r->loop, &r->tick_timer);
    r->start_timer.data = r->step_timer.data = r->tick_timer.data = r;
    int rc = ck_http_create(r->loop, NULL, &r->http, &err);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    ck_http_set_log_tag(r->http, r->log_tag); /* and so every part's callbacks */
    struct ck_alerts_conf ac = {.webhook = r->s.alert_webhook,
                                .email = r->s.alert_email,
                                .title = r->s.title,
                                .state_path = r->state_path,
                                .log_tag = r->log_tag};
    if (ck_alerts_create(r->loop, r->state, &ac, &r->alerts) < 0) {
        ck_err("runner: out of memory");
        return 1;
    }
    int64_t now = ck_time_now_ms();
    for (size_t i = 0; i < r->n_src; i++) {
        rc = ck_runner__create_source(r, &r->src[i], o, now);
        if (rc != 0)
            return rc;
    }
    r->follower = r->src[0].follower;
    if (r->n_handlers == 1)
        r->handler = r->handlers[0];
    else if (r->n_handlers > 1)
        r->handler =
            (struct ck_step_handler){.name = "posters", .due = ck_runner__fan_out_due, .self = r};
    else
        r->handler = (struct ck_step_handler){.name = "observer", .due = observe_due, .self = r};
    if (o->console != NULL) /* console hook: before past steps are taken up (it restores) */
        r->console = ck_runconsole_attach(
            o->console, &(struct ck_runconsole_view){.loop = r->loop,
                                                     .dir = r->dir,
                                                     .journal_path = r->journal_path,
                                                     .state_path = r->state_path,
                                                     .session = &r->s,
                                                     .sch = &r->sch,
                                                     .next_step = &r->next_step,
                                                     .step_timer = &r->step_timer,
                                                     .rearm = console_rearm,
                                                     .runner = r,
                                                     .handler = &r->handler,
                                                     .state = r->state,
                                                     .journal = r->journal,
                                                     .follower = &r->follower,
                                                     .source_at = console_source,
                                                     .posting = r->posting,
                                                     .lazy = o->console_lazy});

    /* Steps already past at start-up are reported once, not replayed one by one. */
    size_t past = 0;
    while (r->next_step < r->sch.n && r->sch.entries[r->next_step].at_ms + 2000 <= now) {
        if (ck_runner__is_step(&r->sch.entries[r->next_step])) {
            r->last_step = &r->sch.entries[r->next_step];
            past++;
        }
        r->next_step++;
    }
    if (past > 0)
        ck_info("runner: %zu run-sheet step(s) were already past at start-up", past);
    announce_late_start(r, now);
    arm_step_timer(r);
    /* Resends steps whose intent was saved but whose reply was not, and posts or
     * skips (by missed_step_limit) the steps already past at start-up. */
    for (size_t i = 0; i < r->n_src; i++)
        if (r->src[i].poster != NULL)
            ck_poster_resume(r->src[i].poster);

    char when[64];
    ck_runner__local_time(r, r->sch.lead_ms, when, sizeof when);
    int64_t wait = r->sch.lead_ms - now;
    if (wait > 0) {
        char d[32];
        ck_duration_format(wait / 1000 * 1000, d, sizeof d);
        ck_info("runner: waiting until %s (in %s) to start following", when, d);
    }
    uv_timer_start(&r->start_timer, on_lead_start, (uint64_t)(wait > 0 ? wait : 0), 0);
    uv_timer_start(&r->tick_timer, ck_runner__on_tick, 0, 1000);
    return 0;
}

void ck_runner_free(struct ck_runner *cr)
{
    struct runner *r = (struct runner *)cr;
    if (r == NULL)
        return;
    if (r->group != NULL) {
        struct runner **pp = &r->group->head;
        while (*pp != NULL && *pp != r)
            pp = &(*pp)->gnext;
        if (*pp == r)
            *pp = r->gnext;
    }
    ck_journal_close(r->journal);
    json_decref(r->state);
    ck_schedule_finish(&r->sch);
    ck_session_finish(&r->s);
    for (size_t i = 0; i < r->n_src; i++) {
        if (r->src[i].token != NULL) {
            memset(r->src[i].token, 0, strlen(r->src[i].token));
            free(r->src[i].token);
        }
        if (r->src[i].post_token != NULL) {
            memset(r->src[i].post_token, 0, strlen(r->src[i].post_token));
            free(r->src[i].post_token);
        }
    }
    if (r->lock_fd >= 0)
        close(r->lock_fd); /* releases the flock */
    free(r);
}

int ck_runner_start(uv_loop_t *loop, const struct ck_runner_opts *o, ck_runner_done_cb done,
                    void *arg, struct ck_runner **out)
{
    *out = NULL;
    struct runner *r = calloc(1, sizeof *r);
    if (r == NULL) {
        ck_session_finish(o->session); /* taken over, as promised */
        return 1;
    }
    r->loop = loop;
    r->lock_fd = -1;
    r->done = done;
    r->done_arg = arg;
    r->status_line = o->status_line < 0 ? isatty(STDERR_FILENO) : o->status_line;
    r->rehearsal = o->rehearsal;
    r->give_up_ms = GIVE_UP_MS;
    r->stall_ms = o->speed > 1.0 ? (int64_t)(STALL_MS / o->speed) : STALL_MS;
    if (r->stall_ms < 3000)
        r->stall_ms = 3000;
    /* A rehearsal compresses time: its refreshes too, but not below 3 s. */
    r->refresh_ms = o->speed > 1.0 ? (int64_t)(REFRESH_MS / o->speed) : REFRESH_MS;
    if (r->refresh_ms < 3000)
        r->refresh_ms = 3000;
    int code = ck_runner__prepare(r, o);
    if (code != 0) {
        ck_runner_free((struct ck_runner *)r);
        return code;
    }
    if (o->group != NULL) /* serve: name the session on its lines */
        ck_log_tag_make(r->log_tag, sizeof r->log_tag, r->dir);
    const char *was_tag = ck_log_tag_swap(r->log_tag);
    ck_info("runner: session directory %s", r->dir);
    r->no_spawn = o->build_here;
    if (o->group != NULL) {
        r->group = o->group;
        r->gnext = o->group->head;
        o->group->head = r;
    }
    if (r->status_line)
        ck_log_set_hook(ck_runner__status_erase, r);
    code = start_loop_parts(r, o);
    if (code != 0)
        ck_runner__shutdown(r, code); /* done reports it once the handles are closed */
    ck_log_tag_swap(was_tag);
    *out = (struct ck_runner *)r;
    return 0;
}

const char *ck_runner_dir(const struct ck_runner *cr)
{
    return ((const struct runner *)cr)->dir;
}

/* ---- `run`: a loop of its own, and the signals ------------------------------ */

struct main_ctx {
    struct ck_runner *r;
    uv_signal_t sigint, sigterm;
    int status;
};

static void main_done(struct ck_runner *r, int status, void *arg)
{
    struct main_ctx *m = arg;
    (void)r;
    m->status = status;
    uv_close((uv_handle_t *)&m->sigint, NULL);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
}

static void main_signal(uv_signal_t *h, int signum)
{
    struct main_ctx *m = h->data;
    ck_info("runner: %s: saving state and stopping; run the same command again to continue",
            signum == SIGINT ? "interrupted" : "terminated");
    ck_runner_stop(m->r, signum == SIGINT ? 130 : 143);
}

int ck_runner_main(const struct ck_runner_opts *o)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return 1;
    struct main_ctx m = {.status = 1};
    int code = ck_runner_start(&loop, o, main_done, &m, &m.r);
    if (code == 0) {
        uv_signal_init(&loop, &m.sigint);
        uv_signal_init(&loop, &m.sigterm);
        m.sigint.data = m.sigterm.data = &m;
        uv_signal_start(&m.sigint, main_signal, SIGINT);
        uv_signal_start(&m.sigterm, main_signal, SIGTERM);
        uv_run(&loop, UV_RUN_DEFAULT);
        code = m.status;
        ck_runner_free(m.r);
    }
    if (uv_loop_close(&loop) != 0)
        ck_warn("runner: the loop still had handles at exit");
    return code;
}
