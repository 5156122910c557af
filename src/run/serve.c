/* `serve` (serve.h): the files as sources, their sessions as slots, one
 * runner per slot on one loop. serve_status.c writes what it shows. */
#include "chatkeeper/serve.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "chatkeeper/log.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/sdnotify.h"
#include "chatkeeper/series.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

#include "console_serve_int.h"
#include "serve_int.h"

/* Files are read again this often even without SIGHUP, so a new date
 * appears after the one before ends. */
#define RESCAN_MS (10 * 60000)
/* A runner starts this long (on the session's clock) before its lead time:
 * enough to read the files and open the directory, little enough to hold. */
#define MARGIN_MS 60000

/* ---- the clock -------------------------------------------------------------- */

int64_t ck_serve__now(const struct serve *sv)
{
    return ck_time_now_ms() + sv->shift_ms;
}

/* A duration of the session's, as it passes on the wall (--speed). */
int64_t ck_serve__scaled(const struct serve *sv, int64_t ms)
{
    return sv->o->speed > 1.0 ? (int64_t)((double)ms / sv->o->speed) : ms;
}

/* ---- loading ---------------------------------------------------------------- */

static void report_problem(void *ctx, const char *msg)
{
    struct serve *sv = ctx;
    ck_err("serve: %s", msg);
    sv->problems++;
}

/* Read a source again. A series that no longer loads keeps its last good
 * version. Returns 0, or -1 when there is no good version at all. */
static int load_source(struct serve *sv, struct source *src)
{
    if (!src->is_series)
        return 0;
    struct ck_series ser;
    struct ck_error err = {0};
    if (ck_series_load(src->path, &ser, &err) != 0) {
        if (src->have_ser) {
            ck_err("serve: %s", err.msg);
            ck_err("serve: %s no longer passes check: keeping the last good version until it "
                   "is fixed",
                   src->path);
            sv->problems++;
            return 0;
        }
        ck_err("serve: %s", err.msg);
        return -1;
    }
    if (src->have_ser)
        ck_series_finish(&src->ser);
    src->ser = ser;
    src->have_ser = true;
    struct ck_series_file *files = NULL;
    size_t n = 0;
    int rc = ck_series_files(&src->ser, &files, &n, report_problem, sv);
    if (rc < 0)
        ck_err("serve: %s: %s", src->ser.sessions_dir, ck_strerror(rc));
    ck_series_files_free(files, n);
    return 0;
}

static struct slot *find_slot(struct serve *sv, size_t src, int64_t day)
{
    for (size_t i = 0; i < sv->n_slots; i++)
        if (sv->slots[i]->src == src && sv->slots[i]->day == day)
            return sv->slots[i];
    return NULL;
}

static struct slot *add_slot(struct serve *sv, size_t src, int64_t day)
{
    if (sv->n_slots == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 16;
        struct slot **s = realloc(sv->slots, cap * sizeof *s);
        if (s == NULL)
            return NULL;
        sv->slots = s;
        sv->cap = cap;
    }
    struct slot *sl = calloc(1, sizeof *sl);
    if (sl == NULL)
        return NULL;
    sl->sv = sv;
    sl->src = src;
    sl->day = day;
    sv->slots[sv->n_slots++] = sl;
    return sl;
}

/* Whether the session directory says the session is over. */
static bool dir_done(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/state.json", dir);
    json_t *st = json_load_file(path, 0, NULL);
    const char *ph = json_string_value(json_object_get(st, "phase"));
    bool done = ph != NULL && (strcmp(ph, "done") == 0 || strcmp(ph, "publish failed") == 0);
    json_decref(st);
    return done;
}

/* Read the slot's session again (not while it runs). A file that no longer
 * passes check keeps the last good version, loudly. Returns 0, or -1 when
 * the file is bad and there is no good version. */
static int load_slot(struct serve *sv, struct slot *sl)
{
    struct source *src = &sv->src[sl->src];
    struct ck_session s;
    struct ck_error err = {0};
    bool no_file = false;
    int rc;
    if (src->is_series)
        rc = ck_series_session_ex(&src->ser, sl->day, &s, &no_file, &err);
    else
        rc = ck_session_load(src->path, &s, &err);
    sl->cancelled = rc == CK_ECANCELED;
    sl->no_questions = rc == CK_ENOTFOUND;
    if (sl->cancelled || sl->no_questions)
        return 0;
    if (rc != 0) {
        ck_err("serve: %s", err.msg);
        sv->problems++;
        if (!sl->have_good)
            return -1;
        ck_err("serve: that file no longer passes check: the session '%s' keeps its last good "
               "version until it is fixed",
               sl->good.title);
        return 0;
    }
    if (sl->have_good)
        ck_session_finish(&sl->good);
    sl->good = s;
    sl->have_good = true;
    char name[128];
    ck_runner_dir_name(&s, name, sizeof name);
    snprintf(sl->dir, sizeof sl->dir, "%s/%s", s.archive_dir, name);
    snprintf(sl->title, sizeof sl->title, "%s", s.title);
    sl->start_ms = s.start_ms;
    sl->lead_ms = s.lead_ms;
    sl->remind_ms = 0; /* the earliest reminder starts the runner that much sooner */
    for (size_t i = 0; i < s.n_reminders; i++)
        if (-s.reminders[i].at_ms > sl->remind_ms)
            sl->remind_ms = -s.reminders[i].at_ms;
    sl->after_ms = s.duration_ms + s.grace_ms;
    return 0;
}

/* The local day of ms in the series' zone. */
static int64_t local_day(const struct ck_series *ser, int64_t ms)
{
    struct ck_local_time lt;
    char buf[16];
    int64_t day = ms / 86400000;
    if (ck_series_local_time(ser->timezone, ms, &lt) == 0) {
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", lt.year, lt.month, lt.day);
        ck_series_day_parse(buf, &day);
    }
    return day;
}

/* The slots of a source: its session, or the series' dates from the
 * look-back to the first one still to come. Returns 0 or -1 (a bad file
 * with no good version). */
static int scan_source(struct serve *sv, size_t i)
{
    struct source *src = &sv->src[i];
    if (load_source(sv, src) != 0)
        return -1;
    int64_t days[8];
    size_t n = 0;
    if (!src->is_series) {
        days[n++] = -1;
    } else {
        struct ck_occurrence occ[8];
        int64_t now = ck_serve__now(sv);
        /* A day more than the look-back: a chat late in the evening ends the next day. */
        int64_t from = local_day(&src->ser, now - sv->o->lookback_ms) - 1;
        int got = ck_series_expand(&src->ser, from, INT64_MIN, occ, 8);
        for (int k = 0; k < got; k++) {
            days[n++] = occ[k].day;
            if (occ[k].start_ms > now)
                break;
        }
    }
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        struct slot *sl = find_slot(sv, i, days[k]);
        if (sl == NULL && (sl = add_slot(sv, i, days[k])) == NULL)
            return -1;
        if (sl->runner != NULL || sl->finished)
            continue;
        if (load_slot(sv, sl) != 0)
            bad = 1;
        else if (sl->have_good && dir_done(sl->dir))
            sl->finished = 1;
    }
    return bad ? -1 : 0;
}

static int scan_all(struct serve *sv)
{
    int bad = 0;
    sv->problems = 0;
    for (size_t i = 0; i < sv->n_src; i++)
        if (scan_source(sv, i) != 0)
            bad = 1;
    sv->next_scan_ms = ck_time_now_ms() + RESCAN_MS;
    return bad;
}

/* ---- running ------------------------------------------------------------------ */

/* When the runner starts, and when the chat and its grace are over, on the wall. */
int64_t ck_serve__launch_at(const struct serve *sv, const struct slot *sl)
{
    int64_t before = sl->lead_ms > sl->remind_ms ? sl->lead_ms : sl->remind_ms;
    return sl->start_ms - sv->shift_ms - ck_serve__scaled(sv, before + MARGIN_MS);
}

static int64_t wall_end(const struct serve *sv, const struct slot *sl)
{
    return sl->start_ms - sv->shift_ms + ck_serve__scaled(sv, sl->after_ms);
}

static void stop_loop_handles(struct serve *sv)
{
    if (sv->closed)
        return;
    sv->closed = 1;
    ck_serve_console_close(sv); /* console: its reviews' handles, after every runner */
    uv_close((uv_handle_t *)&sv->tick, NULL);
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
    uv_close((uv_handle_t *)&sv->sighup, NULL);
}

static void on_runner_done(struct ck_runner *r, int status, void *arg)
{
    struct slot *sl = arg;
    struct serve *sv = sl->sv;
    ck_runner_free(r);
    sl->runner = NULL;
    sv->running--;
    sl->status = status;
    if (sv->stopping) {
        if (sv->running == 0)
            stop_loop_handles(sv);
        return;
    }
    sl->finished = 1;
    if (status == 0)
        ck_info("serve: '%s' is done (%s)", sl->title, sl->dir);
    else
        ck_err("serve: '%s' stopped with status %d; the other sessions keep running (serve "
               "tries it again when it restarts)",
               sl->title, status);
    scan_all(sv); /* the next date of its series */
    ck_serve__write_status(sv);
}

static void launch(struct serve *sv, struct slot *sl)
{
    /* The files are read once more just before: an edit made since counts. */
    struct source *src = &sv->src[sl->src];
    load_source(sv, src);
    load_slot(sv, sl);
    if (sl->cancelled || sl->no_questions || !sl->have_good) {
        if (sl->cancelled)
            ck_info("serve: %s: cancelled; nothing runs", sl->title[0] ? sl->title : src->path);
        sl->finished = 1;
        return;
    }
    char when[64];
    if (ck_time_format_local(sl->good.timezone, sl->start_ms, when, sizeof when) != 0)
        ck_time_format_rfc3339(sl->start_ms, when);
    ck_info("serve: starting '%s' (chat at %s, from %s)", sl->title, when, src->path);
    struct ck_runner_opts ro = {
        .session_path = src->path,
        .session = &sl->good,
        .out_dir = sl->dir,
        .speed = sv->o->speed,
        .base_url = sv->o->base_url,
        .poll_ms = sv->o->poll_ms,
        .rehearsal = sv->o->rehearsal,
        .status_line = 0,
        .group = sv->group,
        .console = ck_serve_console_running(sv, sl), /* console: the session's room */
        .console_lazy = true, /* a live view's messages only for sessions someone watches */
    };
    if (sv->shift_ms != 0 || sv->o->speed > 1.0)
        ro.start_at_ms = sl->start_ms - sv->shift_ms;
    sl->have_good = false; /* the runner has it now */
    /* The runner names its session on its own lines from here on; these
     * (loading, the directory, the lock) are said before it can. */
    ck_log_tag_make(sl->tag, sizeof sl->tag, sl->dir);
    const char *was = ck_log_tag_swap(sl->tag);
    int rc = ck_runner_start(&sv->loop, &ro, on_runner_done, sl, &sl->runner);
    ck_log_tag_swap(was);
    if (rc != 0) {
        ck_err("serve: '%s' could not start (status %d); the other sessions keep running",
               sl->title, rc);
        sl->status = rc;
        sl->finished = 1;
        return;
    }
    sv->running++;
}

static void on_tick(uv_timer_t *t)
{
    struct serve *sv = t->data;
    if (sv->stopping)
        return;
    int64_t wall = ck_time_now_ms();
    if (wall >= sv->next_scan_ms)
        scan_all(sv);
    int changed = 0;
    for (size_t i = 0; i < sv->n_slots; i++) {
        struct slot *sl = sv->slots[i];
        if (sl->runner != NULL || sl->finished || !sl->have_good || sl->cancelled ||
            sl->no_questions)
            continue;
        if (wall < ck_serve__launch_at(sv, sl))
            continue;
        if (wall > wall_end(sv, sl) + sv->o->lookback_ms) {
            sl->finished = 1; /* too long ago to capture */
            continue;
        }
        launch(sv, sl);
        changed = 1;
    }
    if (changed || wall >= sv->next_status_ms)
        ck_serve__write_status(sv);
    /* The watchdog hears from the loop itself: a loop blocked for longer
     * than WatchdogSec= gets serve restarted (and every session resumed). */
    if (sv->watchdog_ms > 0 && wall >= sv->next_watchdog_ms) {
        ck_sd_notify("WATCHDOG=1");
        sv->next_watchdog_ms = wall + sv->watchdog_ms / 2;
    }
    ck_serve_console_update(sv); /* console: the list (resent only when it changed) */
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct serve *sv = h->data;
    if (signum == SIGHUP) {
        ck_info("serve: SIGHUP: reading the files again");
        scan_all(sv);
        ck_serve__write_status(sv);
        return;
    }
    if (sv->stopping)
        return;
    sv->stopping = 1;
    ck_sd_notify("STOPPING=1");
    ck_info("serve: %s: stopping %d running session(s); each saves its state and continues "
            "when serve starts again",
            signum == SIGINT ? "interrupted" : "terminated", sv->running);
    ck_serve__write_status(sv);
    for (size_t i = 0; i < sv->n_slots; i++)
        if (sv->slots[i]->runner != NULL) {
            const char *was = ck_log_tag_swap(sv->slots[i]->tag);
            ck_runner_stop(sv->slots[i]->runner, signum == SIGINT ? 130 : 143);
            ck_log_tag_swap(was);
        }
    if (sv->running == 0)
        stop_loop_handles(sv);
}

/* ---- main ----------------------------------------------------------------------- */

static void free_all(struct serve *sv)
{
    for (size_t i = 0; i < sv->n_slots; i++) {
        if (sv->slots[i]->have_good)
            ck_session_finish(&sv->slots[i]->good);
        free(sv->slots[i]);
    }
    free(sv->slots);
    for (size_t i = 0; i < sv->n_src; i++)
        if (sv->src[i].have_ser)
            ck_series_finish(&sv->src[i].ser);
    free(sv->src);
}

static void report_warning(void *ctx, const char *msg)
{
    (void)ctx;
    ck_warn("serve: %s", msg);
}

/* At start, every per-date file from today on must pass check, not only the
 * next date's: a mistake in March is found in January, with its file named.
 * Returns the number of bad files. */
static int check_dates(struct serve *sv, struct source *src)
{
    struct ck_series_file *files = NULL;
    size_t n = 0;
    int64_t today = local_day(&src->ser, ck_serve__now(sv)) - 1;
    if (ck_series_files(&src->ser, &files, &n, NULL, NULL) < 0)
        return 0; /* the folder's problems were reported by the scan */
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (files[i].day < today)
            continue;
        struct ck_session s;
        struct ck_error err = {0};
        int rc = ck_series_session(&src->ser, files[i].day, &s, &err);
        if (rc == 0)
            ck_session_finish(&s);
        else if (rc != CK_ECANCELED && rc != CK_ENOTFOUND) {
            ck_err("serve: %s", err.msg);
            bad++;
        }
    }
    ck_series_files_free(files, n);
    /* The series' own time in a gap moves that date (series.h): said, not refused. */
    ck_series_gap_warnings(&src->ser, today, today + 366, report_warning, sv);
    return bad;
}

static int serve_setup(struct serve *sv)
{
    sv->src = calloc(sv->o->n_paths ? sv->o->n_paths : 1, sizeof *sv->src);
    if (sv->src == NULL)
        return 1;
    sv->n_src = sv->o->n_paths;
    for (size_t i = 0; i < sv->n_src; i++) {
        sv->src[i].path = sv->o->paths[i];
        sv->src[i].is_series = ck_series_is_series(sv->o->paths[i]);
    }
    /* Bad input is found before anything runs. */
    int bad = scan_all(sv) != 0 || sv->problems > 0;
    for (size_t i = 0; i < sv->n_src; i++)
        if (sv->src[i].is_series && sv->src[i].have_ser && check_dates(sv, &sv->src[i]) > 0)
            bad = 1;
    if (bad) {
        ck_err("serve: fix the file(s) named above ('chatkeeper check FILE' says the same); "
               "nothing was started");
        return 2;
    }
    if (ck_serve_status_path(sv->o, sv->status_path, sizeof sv->status_path) != 0)
        return 2;
    for (size_t i = 0; i < sv->n_slots; i++) {
        const struct slot *sl = sv->slots[i];
        if (!sl->have_good || sl->finished)
            continue;
        char when[64];
        if (ck_time_format_local(sl->good.timezone, sl->start_ms, when, sizeof when) != 0)
            ck_time_format_rfc3339(sl->start_ms, when);
        ck_info("serve: '%s' at %s (%s)", sl->title, when, sl->dir);
    }
    return 0;
}

int ck_serve_main(const struct ck_serve_opts *o)
{
    struct serve *sv = calloc(1, sizeof *sv);
    if (sv == NULL)
        return 1;
    sv->o = o;
    if (o->start_at_ms > 0)
        sv->shift_ms = o->start_at_ms - ck_time_now_ms();
    sv->group = ck_runner_group_new();
    sv->watchdog_ms = ck_sd_watchdog_ms();
    int code = sv->group != NULL ? serve_setup(sv) : 1;
    if (code == 0 && uv_loop_init(&sv->loop) == 0) {
        uv_timer_init(&sv->loop, &sv->tick);
        uv_signal_init(&sv->loop, &sv->sigterm);
        uv_signal_init(&sv->loop, &sv->sigint);
        uv_signal_init(&sv->loop, &sv->sighup);
        sv->tick.data = sv->sigterm.data = sv->sigint.data = sv->sighup.data = sv;
        uv_signal_start(&sv->sigterm, on_signal, SIGTERM);
        uv_signal_start(&sv->sigint, on_signal, SIGINT);
        uv_signal_start(&sv->sighup, on_signal, SIGHUP);
        /* Four times a second: a runner starts a minute early, so this only
         * bounds how late a compressed rehearsal's runner starts. */
        uv_timer_start(&sv->tick, on_tick, 0, 250);
        ck_serve_console_open(sv); /* console: one for every session */
        ck_info("serve: serving %zu file(s); status in %s; SIGHUP reads the files again, "
                "SIGTERM stops",
                sv->n_src, sv->status_path);
        /* Loaded, checked and waiting: systemd's start (Type=notify) is done. */
        ck_sd_notify("READY=1");
        ck_serve__write_status(sv);
        uv_run(&sv->loop, UV_RUN_DEFAULT);
        ck_serve__write_status(sv);
        if (uv_loop_close(&sv->loop) != 0)
            ck_warn("serve: the loop still had handles at exit");
        ck_info("serve: stopped");
    } else if (code == 0) {
        code = 1;
    }
    free_all(sv);
    ck_runner_group_free(sv->group);
    free(sv);
    return code;
}
