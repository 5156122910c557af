/* The session runner (see runner.h): one loop, one thread. It owns the loop,
 * the HTTP client, the journal, state.json and the follower, and tears them
 * down in order (STYLE.md, "curl on libuv"). */
#include "chatkeeper/runner.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "chatkeeper/archive.h"
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

enum phase { P_WAITING, P_LEAD, P_CHAT, P_GRACE, P_SWEEP, P_ARCHIVE, P_DONE };
static const char *const phase_names[] = {"waiting", "lead",      "chat", "grace",
                                          "sweep",   "archiving", "done"};

struct runner {
    uv_loop_t loop;
    struct ck_session s;
    struct ck_schedule sch;
    char dir[4096];
    char journal_path[4200], state_path[4200];
    char *token;
    struct ck_journal *journal;
    json_t *state;
    struct ck_http *http;
    struct ck_follower *follower;
    struct ck_poster *poster; /* NULL when observing */
    int rehearsal;
    int no_poster; /* the chat is over and there is no token: observe instead */
    /* With --speed the run sheet is scaled to the wall, but created_at stays on
     * the chat's own clock (the simulator's): the window it must fall in. */
    int scaled;
    int64_t chat_lead_ms, chat_after_ms; /* lead; duration + grace, unscaled */
    uv_timer_t start_timer, step_timer, tick_timer;
    uv_signal_t sigint, sigterm;
    size_t next_step;
    const struct ck_sched_entry *last_step;
    struct ck_step_handler handler;
    int status_line, status_drawn;
    int exit_code;
    int stopping;

    /* Progress of the follower as the tick saw it: a request that fails with no
     * good page since is a failure streak, which ends a run after the window. */
    size_t pages_seen, errors_seen, limited_seen;
    int64_t failing_since_ms; /* 0: the last request went well */
    int64_t give_up_ms;

    /* Outputs refreshed during the chat, so latecomers can catch up. */
    int following;     /* the follower was started before end + grace */
    int64_t refresh_ms, next_refresh_ms;
    int refreshed;     /* 0 until the outputs were first written by this run */
    size_t refreshed_at; /* the follower's journaled count at that refresh */
    int64_t build_ms;  /* how long the last refresh blocked the loop */

    struct ck_runconsole *console; /* the console's hook (runconsole.h), or NULL */
};

/* A run after the chat retries an unreachable platform this long, then stops
 * with a message saying the same command continues. */
#define GIVE_UP_MS 60000
/* How often the outputs are rebuilt from the journal while following. */
#define REFRESH_MS 60000

static enum phase phase_at(const struct runner *r, int64_t now)
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

static void local_time(const struct runner *r, int64_t ms, char *buf, size_t n)
{
    if (ck_time_format_local(r->s.timezone, ms, buf, n) != 0)
        ck_time_format_rfc3339(ms, buf);
}

/* ---- status line ---------------------------------------------------------- */

static void status_erase(int after, void *arg)
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
                                e->kind == CK_SCHED_CLOSING)) {
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

static void status_draw(struct runner *r)
{
    if (!r->status_line || r->stopping)
        return;
    int64_t now = ck_time_now_ms();
    char t[64], lbl[16] = "", nlbl[16];
    local_time(r, now, t, sizeof t);
    struct ck_follower_stats st = {0};
    if (r->follower != NULL)
        ck_follower_get_stats(r->follower, &st);
    const char *time_part = strchr(t, ' ') ? strchr(t, ' ') + 1 : t;
    if (r->last_step != NULL)
        ck_sched_label(r->last_step, lbl, sizeof lbl);
    const char *fst = r->follower ? ck_follower_state_name(r->follower) : "idle";
    struct ck_run_status rs = {
        .clock = time_part,
        .phase = phase_names[phase_at(r, now)],
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

/* ---- state ---------------------------------------------------------------- */

static void save_phase(struct runner *r, const char *phase)
{
    json_object_set_new(r->state, "phase", json_string(phase));
    struct ck_error err = {0};
    if (ck_state_save(r->state_path, r->state, &err) < 0)
        ck_err("runner: cannot save state: %s", err.msg);
}

/* ---- shutdown --------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void shutdown_all(struct runner *r, int code)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    r->exit_code = code;
    status_erase(0, r);
    ck_log_set_hook(NULL, NULL);
    ck_runconsole_detach(r->console); /* console hook */
    r->console = NULL;
    if (r->follower != NULL)
        ck_follower_stop(r->follower);
    if (r->poster != NULL) {
        ck_poster_close(r->poster, NULL, NULL);
        r->poster = NULL;
    }
    if (r->http != NULL) {
        ck_http_close(r->http, NULL, NULL); /* cancels what is in flight */
        r->http = NULL;
    }
    if (r->follower != NULL) {
        ck_follower_close(r->follower, NULL, NULL);
        r->follower = NULL;
    }
    uv_close((uv_handle_t *)&r->start_timer, on_closed);
    uv_close((uv_handle_t *)&r->step_timer, on_closed);
    uv_close((uv_handle_t *)&r->tick_timer, on_closed);
    uv_close((uv_handle_t *)&r->sigint, on_closed);
    uv_close((uv_handle_t *)&r->sigterm, on_closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct runner *r = h->data;
    ck_info("runner: %s: saving state and stopping; run the same command again to continue",
            signum == SIGINT ? "interrupted" : "terminated");
    if (r->state != NULL)
        save_phase(r, "interrupted");
    shutdown_all(r, signum == SIGINT ? 130 : 143);
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

static int is_step(const struct ck_sched_entry *e)
{
    return e->kind == CK_SCHED_WELCOME || e->kind == CK_SCHED_QUESTION ||
           e->kind == CK_SCHED_CLOSING;
}

static void arm_step_timer(struct runner *r);

static void on_step_timer(uv_timer_t *t)
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

/* ---- the run ---------------------------------------------------------------- */

/* incomplete: NULL, or why capture stopped short of the whole window (the
 * archive is then built from what there is, nothing is published, and the run
 * exits 1 saying that the same command continues). */
static void finish_run(struct runner *r, const char *incomplete)
{
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
    if (r->follower != NULL)
        ck_follower_get_stats(r->follower, &fs);
    if (incomplete != NULL && fs.messages == 0) {
        /* An empty archive would read as "the chat had no messages". */
        ck_err("runner: nothing was captured: %s", incomplete);
        ck_err("runner: run the same command again to try again (nothing is lost)");
        save_phase(r, "incomplete");
        shutdown_all(r, 1);
        return;
    }
    save_phase(r, "archiving");
    struct ck_archive_stats st = {0};
    struct ck_error err = {0};
    if (ck_archive_build(r->dir, &st, &err) < 0) {
        ck_err("runner: archive: %s", err.msg);
        save_phase(r, "failed");
        shutdown_all(r, 1);
        return;
    }
    if (incomplete != NULL) {
        ck_err("runner: the archive in %s is incomplete (%zu messages from %zu people): %s",
               r->dir, st.messages, st.people, incomplete);
        ck_err("runner: nothing was published; run the same command again to capture the rest "
               "(it continues where this run stopped, nothing is doubled)");
        save_phase(r, "incomplete");
        shutdown_all(r, 1);
        return;
    }
    /* The write-up goes out at the end when the session says where. */
    if (json_is_object(json_object_get(r->s.json, "publish"))) {
        save_phase(r, "publishing");
        /* A rehearsal never publishes for real: it shows what would be sent. */
        struct ck_publish_opts po = {
            .dry_run = r->rehearsal, .no_platform = r->rehearsal, .out = stderr};
        ck_error_clear(&err);
        if (ck_publish_session(r->dir, &po, &err) < 0) {
            ck_err("runner: publishing failed: %s (the archive is complete; run 'chatkeeper "
                   "publish %s' to try again)",
                   err.msg, r->dir);
            save_phase(r, "publish failed");
            shutdown_all(r, 1);
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
    save_phase(r, "done");
    ck_info("runner: done: %zu messages from %zu people", st.messages, st.people);
    shutdown_all(r, 0);
    printf("session directory: %s\n", r->dir);
    printf("open: %s/transcript.html\n", r->dir);
}

/* Following is over but a step may still be retrying: the archive waits for it. */
static void on_wait_poster(uv_timer_t *t)
{
    struct runner *r = t->data;
    if (r->poster != NULL && ck_poster_busy(r->poster) > 0)
        return;
    uv_timer_stop(t);
    finish_run(r, NULL);
}

static void on_follow_done(struct ck_follower *f, int status, void *arg)
{
    struct runner *r = arg;
    (void)f;
    if (status < 0) {
        ck_err("runner: following failed: %s", ck_strerror(status));
        save_phase(r, "failed");
        shutdown_all(r, 1);
        return;
    }
    r->following = 0; /* no more refreshes: the archive is built next */
    /* The follower ends at its deadline even when the sweep did not get through
     * the window; state.json then keeps where it stopped for the next run. */
    json_t *fo = json_object_get(r->state, "follower");
    if (!json_is_true(json_object_get(fo, "sweep_done"))) {
        struct ck_follower_stats st = {0};
        ck_follower_get_stats(r->follower, &st);
        char why[300];
        snprintf(why, sizeof why, "the sweep of the window ran out of time%s%s",
                 st.last_error[0] ? "; last error: " : "", st.last_error);
        finish_run(r, why);
        return;
    }
    if (r->poster != NULL && ck_poster_busy(r->poster) > 0) {
        ck_info("runner: waiting for the run sheet's last post before archiving");
        uv_timer_start(&r->start_timer, on_wait_poster, 200, 200);
        return;
    }
    finish_run(r, NULL);
}

static void on_lead_start(uv_timer_t *t)
{
    struct runner *r = t->data;
    ck_info("runner: following #%s on %s", r->s.hashtag, r->s.platform.base_url);
    save_phase(r, "following");
    r->following = ck_time_now_ms() < r->sch.grace_end_ms;
    int rc = ck_follower_start(r->follower, on_follow_done, r);
    if (rc < 0) {
        ck_err("runner: cannot start following: %s", ck_strerror(rc));
        shutdown_all(r, 1);
    }
}

/* ---- once a second: failures, refreshed outputs, the status line ---------- */

/* A failure streak after the window gives up: waiting longer helps nobody when
 * the platform does not answer, and exit 0 would say the empty archive is the chat. */
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
             r->s.platform.base_url, d, st->errors - r->errors_seen,
             st->last_error[0] ? st->last_error : "unknown");
    ck_follower_stop(r->follower);
    r->following = 0;
    finish_run(r, why);
}

/* Rebuild the outputs from the journal so far. Synchronous (one loop, one
 * thread): the journal is only appended between whole pages, so the build
 * reads whole lines, and every output is replaced atomically. A build blocks
 * the loop (about 0.2 s for 2,000 statuses), so it keeps clear of a step about
 * to be posted and spaces itself out to at most 5% of the time. */
static void refresh_outputs(struct runner *r, const struct ck_follower_stats *st, int64_t now)
{
    if (!r->following || now < r->next_refresh_ms || now >= r->sch.grace_end_ms)
        return;
    const char *fst = ck_follower_state_name(r->follower);
    if (strcmp(fst, "sweeping") == 0 || strcmp(fst, "threads") == 0 || st->messages == 0)
        return;
    for (size_t i = r->next_step; i < r->sch.n; i++) {
        if (!is_step(&r->sch.entries[i]))
            continue;
        if (r->sch.entries[i].at_ms - now < 3000 + 2 * r->build_ms)
            return; /* try again on the next tick, after the step */
        break;
    }
    if (r->refreshed && st->journaled == r->refreshed_at) {
        r->next_refresh_ms = now + r->refresh_ms;
        return;
    }
    uint64_t t0 = uv_hrtime();
    struct ck_archive_stats as = {0};
    struct ck_error err = {0};
    int rc = ck_archive_build(r->dir, &as, &err);
    int64_t took = (int64_t)((uv_hrtime() - t0) / 1000000);
    r->build_ms = took;
    int64_t gap = took * 20 > r->refresh_ms ? took * 20 : r->refresh_ms;
    r->next_refresh_ms = ck_time_now_ms() + gap;
    uv_update_time(&r->loop);
    if (rc < 0) {
        ck_warn("runner: could not refresh the outputs (trying again in %llds): %s",
                (long long)(gap / 1000), err.msg);
        return;
    }
    if (!r->refreshed)
        ck_info("runner: the transcript is refreshed as the chat goes: 'chatkeeper catchup %s' "
                "or %s/transcript.html",
                r->dir, r->dir);
    ck_debug("runner: outputs refreshed: %zu messages in %lld ms", as.messages, (long long)took);
    r->refreshed = 1;
    r->refreshed_at = st->journaled;
}

static void on_tick(uv_timer_t *t)
{
    struct runner *r = t->data;
    if (r->stopping || r->follower == NULL)
        return;
    int64_t now = ck_time_now_ms();
    struct ck_follower_stats st;
    ck_follower_get_stats(r->follower, &st);
    watch_failures(r, &st, now);
    if (r->stopping)
        return;
    refresh_outputs(r, &st, now);
    status_draw(r);
    ck_runconsole_tick(r->console); /* console hook */
}

/* ---- set-up ----------------------------------------------------------------- */

int ck_runner_dir_name(const struct ck_session *s, char *buf, size_t n)
{
    char local[64];
    if (ck_time_format_local(s->timezone, s->start_ms, local, sizeof local) != 0)
        ck_time_format_rfc3339(s->start_ms, local);
    size_t off = 0;
    for (size_t i = 0; i < 10 && local[i] && off + 1 < n; i++)
        buf[off++] = local[i];
    int dash = 1;
    buf[off] = '\0';
    if (off + 1 < n)
        buf[off++] = '-';
    for (const char *p = s->title; *p && off + 1 < n && off < 80; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 128) {
            buf[off++] = (char)tolower(c);
            dash = 0;
        } else if (!dash) {
            buf[off++] = '-';
            dash = 1;
        }
    }
    while (off > 11 && buf[off - 1] == '-')
        off--;
    buf[off] = '\0';
    return 0;
}

static int mkdirs(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len >= sizeof tmp)
        return CK_EINVAL;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void scale(int64_t *v, double speed)
{
    *v = (int64_t)((double)*v / speed);
}

/* Rehearsal overrides change the session's times; the copy in the session
 * directory records the times actually used, so `archive` rebuilds the same.
 * A run sped up (--speed) keeps the file's own offsets: its statuses carry the
 * chat's clock, and the archive should look like the chat it rehearsed. */
static json_t *effective_json(const struct ck_session *s, int scaled)
{
    json_t *doc = json_deep_copy(s->json);
    char buf[64];
    ck_time_format_rfc3339(s->start_ms, buf);
    json_object_set_new(doc, "start", json_string(buf));
    json_t *fac = json_array();
    for (size_t i = 0; i < s->n_facilitators; i++)
        json_array_append_new(fac, json_string(s->facilitators[i]));
    json_object_set_new(doc, "facilitators", fac);
    json_t *plat = json_object_get(doc, "platform");
    if (json_is_object(plat))
        json_object_set_new(plat, "base_url", json_string(s->platform.base_url));
    if (scaled)
        return doc;
    ck_duration_format(s->duration_ms, buf, sizeof buf);
    json_object_set_new(doc, "duration", json_string(buf));
    ck_duration_format(s->lead_ms, buf, sizeof buf);
    json_object_set_new(doc, "lead", json_string(buf));
    ck_duration_format(s->grace_ms, buf, sizeof buf);
    json_object_set_new(doc, "grace", json_string(buf));
    if (s->has_welcome && json_is_object(json_object_get(doc, "welcome"))) {
        ck_duration_format(s->welcome.at_ms, buf, sizeof buf);
        json_object_set_new(json_object_get(doc, "welcome"), "at", json_string(buf));
    }
    if (s->has_closing && json_is_object(json_object_get(doc, "closing"))) {
        ck_duration_format(s->closing.at_ms, buf, sizeof buf);
        json_object_set_new(json_object_get(doc, "closing"), "at", json_string(buf));
    }
    json_t *qs = json_object_get(doc, "questions");
    for (size_t i = 0; i < s->n_questions && i < json_array_size(qs); i++) {
        ck_duration_format(s->questions[i].at_ms, buf, sizeof buf);
        json_object_set_new(json_array_get(qs, i), "at", json_string(buf));
    }
    return doc;
}

/* On a rehearsal's simulator the facilitators' accounts live on the simulator:
 * "@uklibchat@glammr.us" becomes "@uklibchat@127.0.0.1:PORT", so grouping still
 * knows their posts. */
static void rehome_facilitators(struct ck_session *s)
{
    const char *host = strstr(s->platform.base_url, "://");
    host = host ? host + 3 : s->platform.base_url;
    size_t hl = strcspn(host, "/");
    for (size_t i = 0; i < s->n_facilitators; i++) {
        const char *f = s->facilitators[i];
        const char *at = strchr(f + 1, '@');
        size_t ul = at ? (size_t)(at - f) : strlen(f);
        char *nf = malloc(ul + hl + 2);
        if (nf == NULL)
            continue;
        memcpy(nf, f, ul);
        nf[ul] = '@';
        memcpy(nf + ul + 1, host, hl);
        nf[ul + 1 + hl] = '\0';
        free(s->facilitators[i]);
        s->facilitators[i] = nf;
    }
}

static int apply_overrides(struct runner *r, const struct ck_runner_opts *o)
{
    struct ck_session *s = &r->s;
    r->chat_lead_ms = s->lead_ms;
    r->chat_after_ms = s->duration_ms + s->grace_ms;
    if (o->speed > 1.0) {
        r->scaled = 1;
        scale(&s->duration_ms, o->speed);
        scale(&s->lead_ms, o->speed);
        scale(&s->grace_ms, o->speed);
        scale(&s->welcome.at_ms, o->speed);
        scale(&s->closing.at_ms, o->speed);
        for (size_t i = 0; i < s->n_questions; i++)
            scale(&s->questions[i].at_ms, o->speed);
    }
    if (o->start_at_ms > 0)
        s->start_ms = o->start_at_ms;
    if (o->poll_ms > 0)
        s->poll_chat_ms = s->poll_quiet_ms = o->poll_ms;
    if (o->base_url != NULL) {
        if (!ck_url_allowed(o->base_url)) {
            ck_err("runner: --base-url %s: only https://, or http:// on loopback", o->base_url);
            return 2;
        }
        char *u = strdup(o->base_url);
        if (u == NULL)
            return 1;
        free(s->platform.base_url);
        s->platform.base_url = u;
        if (o->rehearsal)
            rehome_facilitators(s);
    }
    return 0;
}

/* A rehearsal (--start now) continued later keeps its first start time, so a
 * restart resumes the same session instead of starting a new one. */
static void reuse_started(struct runner *r, const struct ck_runner_opts *o)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/session.json", r->dir);
    if (o->start_at_ms <= 0 || access(r->state_path, F_OK) != 0)
        return;
    json_t *doc = json_load_file(path, 0, NULL);
    int64_t ms;
    const char *st = json_string_value(json_object_get(doc, "start"));
    if (st != NULL && ck_time_parse_rfc3339(st, &ms) == 0) {
        r->s.start_ms = ms;
        ck_info("runner: continuing the rehearsal that started at %s", st);
    }
    json_decref(doc);
}

/* The session file, or a series date made whole from the series. */
static int load_session(const struct ck_runner_opts *o, struct ck_session *s,
                        struct ck_error *err)
{
    if (o->series_date)
        return ck_series_session_at(o->session_path, o->series_day, s, err);
    return ck_session_load(o->session_path, s, err);
}

static int prepare(struct runner *r, const struct ck_runner_opts *o)
{
    struct ck_error err = {0};
    int rc = load_session(o, &r->s, &err);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    if (r->s.imported || r->s.platform.base_url == NULL) {
        fprintf(stderr,
                "chatkeeper run: %s was imported from captured data: there is no live "
                "platform to follow (use archive or catchup on its folder)\n",
                o->session_path);
        return 2;
    }
    rc = apply_overrides(r, o);
    if (rc != 0)
        return rc;
    if (o->out_dir != NULL) {
        snprintf(r->dir, sizeof r->dir, "%s", o->out_dir);
    } else {
        char name[128];
        ck_runner_dir_name(&r->s, name, sizeof name);
        snprintf(r->dir, sizeof r->dir, "%s/%s", r->s.archive_dir, name);
    }
    snprintf(r->journal_path, sizeof r->journal_path, "%s/journal.jsonl", r->dir);
    snprintf(r->state_path, sizeof r->state_path, "%s/state.json", r->dir);
    reuse_started(r, o);
    rc = mkdirs(r->dir);
    if (rc < 0) {
        ck_err("runner: %s: %s", r->dir, ck_strerror(rc));
        return 1;
    }
    if (ck_schedule_build(&r->s, &r->sch) < 0)
        return 1;

    /* Posting needs a token; following a public hashtag does not, and a chat
     * that is over has nothing left to post. */
    int over = ck_time_now_ms() >= r->sch.grace_end_ms;
    if (!o->rehearsal && (r->s.platform.token_env != NULL || r->s.platform.token_file != NULL)) {
        rc = ck_session_token(&r->s, &r->token, &err);
        if (rc < 0) {
            if (!o->observe && r->s.post && !over) {
                fprintf(stderr, "chatkeeper: %s\n", err.msg);
                return 2;
            }
            ck_warn("runner: %s; following without a token", err.msg);
        }
    }
    r->no_poster = over && !o->rehearsal && r->token == NULL;

    json_t *doc = effective_json(&r->s, r->scaled);
    char path[4200];
    snprintf(path, sizeof path, "%s/session.json", r->dir);
    rc = ck_state_save(path, doc, &err); /* the same atomic write; keys sorted */
    json_decref(doc);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    rc = ck_state_load(r->state_path, &r->state, &err);
    if (rc == 0)
        rc = ck_journal_open(r->journal_path, &r->journal, &err);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    json_t *sess = json_object();
    char ts[32];
    ck_time_format_rfc3339(r->s.start_ms, ts);
    json_object_set_new(sess, "title", json_string(r->s.title));
    json_object_set_new(sess, "hashtag", json_string(r->s.hashtag));
    json_object_set_new(sess, "start", json_string(ts));
    json_object_set_new(r->state, "session", sess);
    json_object_set_new(r->state, "version", json_integer(1));
    return 0;
}

/* A run that starts after the chat says so plainly: nothing goes out now, and
 * what it does instead is read back what people said. */
static void announce_late_start(struct runner *r, int64_t now)
{
    if (now < r->sch.end_ms)
        return;
    char when[64], ago[32], until[64];
    local_time(r, r->sch.end_ms, when, sizeof when);
    ck_duration_format((now - r->sch.end_ms) / 60000 * 60000, ago, sizeof ago);
    const char *posting =
        r->poster != NULL || r->no_poster ? "no step of the run sheet is posted now; " : "";
    if (now < r->sch.grace_end_ms) {
        local_time(r, r->sch.grace_end_ms, until, sizeof until);
        ck_info("runner: the chat ended at %s; %sfollowing #%s until %s, then sweeping the "
                "window back",
                when, posting, r->s.hashtag, until);
        return;
    }
    local_time(r, r->sch.lead_ms, until, sizeof until);
    ck_info("runner: the chat is over (it ended at %s, %s ago): %scapturing what was said "
            "instead: #%s's timeline back to %s, then the threads",
            when, ago[0] == '0' ? "under a minute" : ago, posting, r->s.hashtag, until);
}

static int start_loop_parts(struct runner *r, const struct ck_runner_opts *o)
{
    struct ck_error err = {0};
    /* Handles first: shutdown_all closes them whatever fails below. */
    uv_timer_init(&r->loop, &r->start_timer);
    uv_timer_init(&r->loop, &r->step_timer);
    uv_timer_init(&r->loop, &r->tick_timer);
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sigterm);
    r->start_timer.data = r->step_timer.data = r->tick_timer.data = r;
    r->sigint.data = r->sigterm.data = r;
    const struct ck_platform_ops *ops = ck_platform_find(r->s.platform.type);
    if (ops == NULL) {
        fprintf(stderr, "chatkeeper: platform %s is not supported\n", r->s.platform.type);
        return 2;
    }
    int rc = ck_http_create(&r->loop, NULL, &r->http, &err);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    int64_t now = ck_time_now_ms();
    struct ck_follower_conf fc = {
        .ops = ops,
        .base_url = r->s.platform.base_url,
        .token = r->token,
        .hashtag = r->s.hashtag,
        .journal_path = r->journal_path,
        .state_path = r->state_path,
        .window_start_ms = r->scaled ? r->s.start_ms - r->chat_lead_ms : r->sch.lead_ms,
        .window_end_ms = r->scaled ? r->s.start_ms + r->chat_after_ms : 0,
        .chat_start_ms = r->sch.start_ms,
        .chat_end_ms = r->sch.end_ms,
        .follow_until_ms = r->sch.grace_end_ms,
        /* The sweep's budget starts when the sweep does: at the end of grace,
         * or now for a chat that is already over. */
        .sweep_until_ms = (now > r->sch.grace_end_ms ? now : r->sch.grace_end_ms) + 10 * 60000,
        .poll_chat_ms = r->s.poll_chat_ms,
        .poll_quiet_ms = r->s.poll_quiet_ms,
        .streaming = r->s.platform.streaming,
    };
    rc = ck_follower_create(&r->loop, r->http, r->journal, r->state, &fc, &r->follower, &err);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);

    if (!o->observe && r->s.post && !r->no_poster) {
        struct ck_poster_conf pc = {
            .session = &r->s,
            .schedule = &r->sch,
            .ops = ops,
            /* A rehearsal's simulator takes any token; the real one is never sent there. */
            .token = o->rehearsal ? "rehearsal" : r->token,
            .state_path = r->state_path,
        };
        rc = ck_poster_create(&r->loop, r->http, r->state, &pc, &r->poster, &err);
        if (rc < 0) {
            ck_err("runner: %s", err.msg);
            return rc == CK_EAUTH ? 2 : 1;
        }
        r->handler = ck_poster_handler(r->poster);
    } else {
        r->handler = (struct ck_step_handler){.name = "observer", .due = observe_due, .self = r};
    }
    if (o->console != NULL) /* console hook: before past steps are taken up (it restores) */
        r->console = ck_runconsole_attach(o->console, &(struct ck_runconsole_view){
            .loop = &r->loop, .dir = r->dir, .journal_path = r->journal_path,
            .state_path = r->state_path, .session = &r->s, .sch = &r->sch,
            .next_step = &r->next_step, .step_timer = &r->step_timer,
            .rearm = console_rearm, .runner = r, .handler = &r->handler, .state = r->state,
            .journal = r->journal, .follower = &r->follower, .posting = r->poster != NULL});

    /* Steps already past at start-up are reported once, not replayed one by one. */
    size_t past = 0;
    while (r->next_step < r->sch.n && r->sch.entries[r->next_step].at_ms + 2000 <= now) {
        if (is_step(&r->sch.entries[r->next_step])) {
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
    if (r->poster != NULL)
        ck_poster_resume(r->poster);

    char when[64];
    local_time(r, r->sch.lead_ms, when, sizeof when);
    int64_t wait = r->sch.lead_ms - now;
    if (wait > 0) {
        char d[32];
        ck_duration_format(wait / 1000 * 1000, d, sizeof d);
        ck_info("runner: waiting until %s (in %s) to start following", when, d);
    }
    uv_timer_start(&r->start_timer, on_lead_start, (uint64_t)(wait > 0 ? wait : 0), 0);
    uv_timer_start(&r->tick_timer, on_tick, 0, 1000);
    return 0;
}

int ck_runner_main(const struct ck_runner_opts *o)
{
    struct runner *r = calloc(1, sizeof *r);
    if (r == NULL)
        return 1;
    r->status_line = o->status_line < 0 ? isatty(STDERR_FILENO) : o->status_line;
    r->rehearsal = o->rehearsal;
    r->give_up_ms = GIVE_UP_MS;
    /* A rehearsal compresses time: its refreshes too, but not below 3 s. */
    r->refresh_ms = o->speed > 1.0 ? (int64_t)(REFRESH_MS / o->speed) : REFRESH_MS;
    if (r->refresh_ms < 3000)
        r->refresh_ms = 3000;
    int code = prepare(r, o);
    if (code == 0 && uv_loop_init(&r->loop) == 0) {
        ck_info("runner: session directory %s", r->dir);
        if (r->status_line)
            ck_log_set_hook(status_erase, r);
        code = start_loop_parts(r, o);
        if (code != 0)
            shutdown_all(r, code);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        code = r->exit_code;
        if (uv_loop_close(&r->loop) != 0)
            ck_warn("runner: the loop still had handles at exit");
    }
    ck_journal_close(r->journal);
    json_decref(r->state);
    ck_schedule_finish(&r->sch);
    ck_session_finish(&r->s);
    if (r->token != NULL) {
        memset(r->token, 0, strlen(r->token));
        free(r->token);
    }
    free(r);
    return code;
}

int ck_runner_dry_run(const struct ck_runner_opts *o, FILE *out)
{
    struct runner *r = calloc(1, sizeof *r);
    if (r == NULL)
        return 1;
    struct ck_error err = {0};
    int code = 0;
    if (load_session(o, &r->s, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        code = 2;
        goto out;
    }
    code = apply_overrides(r, o);
    if (code != 0 || ck_schedule_build(&r->s, &r->sch) < 0) {
        code = code ? code : 1;
        goto out;
    }
    fprintf(out, "dry run: nothing is posted. %s would post on %s as #%s:\n\n", r->s.title,
            r->s.platform.base_url, r->s.hashtag);
    for (size_t i = 0; i < r->sch.n; i++) {
        const struct ck_sched_entry *e = &r->sch.entries[i];
        if (!is_step(e))
            continue;
        char when[64], utc[32], lbl[16];
        local_time(r, e->at_ms, when, sizeof when);
        ck_time_format_rfc3339(e->at_ms, utc);
        ck_sched_label(e, lbl, sizeof lbl);
        char *text = ck_poster_text(&r->s, e);
        fprintf(out, "%-8s %s (%s)%s\n  %s\n\n", lbl, when, utc,
                r->s.thread && e->kind != CK_SCHED_WELCOME ? ", replying to the step before" : "",
                text ? text : "(out of memory)");
        free(text);
    }
    if (!r->s.post)
        fprintf(out, "(the session file says \"post\": false, so run would only follow)\n");
out:
    ck_schedule_finish(&r->sch);
    ck_session_finish(&r->s);
    free(r);
    return code;
}
