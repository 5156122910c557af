/* The poster (see poster.h): posts the run sheet on time, never twice.
 *
 * Steps are posted one at a time, in run-sheet order. Serial on purpose: a
 * thread reply needs the previous step's id, and a question must never land
 * after a later one, which two transfers in flight could not promise. When a
 * step is still retrying at the next one's time, the next one waits its turn;
 * an outage that stops one post stops the other too.
 *
 * Per step: check state.json (posted? skipped? a later step already out? too
 * late?), record the intent {"key", "status": "sending"} and save (atomic,
 * fsync'd), and only then send with the key as Idempotency-Key. Whatever
 * happens after the save, a retry or a restart resends the same key, and the
 * server answers with the original status if it had made one. */
#include "chatkeeper/poster.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/backoff.h"
#include "chatkeeper/log.h"
#include "chatkeeper/ratelimit.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"
#include "poster_int.h"

static const char *const phase_names[] = {"idle", "queued", "sending", "waiting", "done"};

/* ---- state.json ------------------------------------------------------------- */

json_t *ck_pst_steps(struct ck_poster *p)
{
    json_t *steps = json_object_get(p->state, p->conf.steps_key);
    if (!json_is_object(steps)) {
        steps = json_object();
        if (steps == NULL || json_object_set_new(p->state, p->conf.steps_key, steps) != 0)
            return NULL;
    }
    return steps;
}

json_t *ck_pst_record(struct ck_poster *p, const struct pstep *st)
{
    json_t *r = json_object_get(json_object_get(p->state, p->conf.steps_key), st->label);
    return json_is_object(r) ? r : NULL;
}

const char *ck_pst_str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static int save(struct ck_poster *p)
{
    struct ck_error err = {0};
    int rc = ck_state_save(p->conf.state_path, p->state, &err);
    if (rc < 0)
        ck_err("poster: cannot save %s: %s", p->conf.state_path, err.msg);
    return rc;
}

/* Replace the step's record with status and reason, keeping the key and what
 * the server told us. */
int ck_pst_mark(struct ck_poster *p, struct pstep *st, const char *status, const char *reason)
{
    json_t *steps = ck_pst_steps(p);
    json_t *rec = ck_pst_record(p, st);
    if (rec == NULL) {
        rec = json_object();
        if (steps == NULL || rec == NULL || json_object_set_new(steps, st->label, rec) != 0)
            return CK_ENOMEM;
    }
    json_object_set_new(rec, "status", json_string(status));
    if (reason != NULL)
        json_object_set_new(rec, "reason", json_string(reason));
    else
        json_object_del(rec, "reason");
    return save(p);
}

/* ---- step lifecycle --------------------------------------------------------- */

void ck_pst_phase(struct pstep *st, enum phase ph)
{
    if (st->phase != ph)
        ck_debug("poster: %s: %s -> %s", st->label, phase_names[st->phase], phase_names[ph]);
    st->phase = ph;
}

void ck_pst_finish(struct ck_poster *p, struct pstep *st)
{
    ck_pst_phase(st, PH_DONE);
    if (p->cur == st)
        p->cur = NULL;
    ck_backoff_reset(&p->bo);
    ck_pst_pump(p);
}

static void tell(struct ck_poster *p, const struct pstep *st, const char *what, const char *why)
{
    if (p->conf.problem == NULL)
        return;
    char cause[32], text[400];
    snprintf(cause, sizeof cause, "step:%s", st->label);
    snprintf(text, sizeof text, "step %s %s: %s", st->label, what, why);
    p->conf.problem(p->conf.problem_arg, cause, text);
}

static void skip_step(struct ck_poster *p, struct pstep *st, const char *reason)
{
    ck_warn("poster: skipping %s: %s", st->label, reason);
    ck_pst_mark(p, st, "skipped", reason);
    tell(p, st, "skipped", reason);
    ck_pst_finish(p, st);
}

void ck_pst_fail(struct ck_poster *p, struct pstep *st, const char *reason)
{
    ck_err("poster: giving up on %s: %s", st->label, reason);
    ck_pst_mark(p, st, "failed", reason);
    tell(p, st, "was not posted", reason);
    ck_pst_finish(p, st);
}

/* The first later step that is out (or may be: "sending"), or NULL. Two
 * "sending" records are both resumed, in order: each may be on the server, and
 * their keys make resending them safe. */
static const struct pstep *later_out(struct ck_poster *p, const struct pstep *st, bool resuming)
{
    for (const struct pstep *o = st + 1; o < p->steps + p->n; o++) {
        const char *status = ck_pst_str(ck_pst_record(p, o), "status");
        if (status == NULL)
            continue;
        if (strcmp(status, "posted") == 0 || (!resuming && strcmp(status, "sending") == 0))
            return o;
    }
    return NULL;
}

/* Take up the step: decide whether it may go at all, then send. */
static void start_step(struct ck_poster *p, struct pstep *st)
{
    p->cur = st;
    const json_t *rec = ck_pst_record(p, st);
    const char *status = ck_pst_str(rec, "status");
    if (status != NULL && strcmp(status, "posted") == 0) {
        ck_info("poster: %s already posted (id %s); not sending it again", st->label,
                ck_pst_str(rec, "id") != NULL ? ck_pst_str(rec, "id") : "?");
        ck_pst_finish(p, st);
        return;
    }
    if (status != NULL && strcmp(status, "skipped") == 0) {
        ck_info("poster: %s was skipped earlier (%s)", st->label,
                ck_pst_str(rec, "reason") != NULL ? ck_pst_str(rec, "reason")
                                                  : "no reason recorded");
        ck_pst_finish(p, st);
        return;
    }
    char reason[160];
    /* A "sending" record means the server may hold the post already. */
    bool maybe_out = status != NULL && strcmp(status, "sending") == 0;
    const char *maybe = maybe_out ? "; it may have reached the server before the restart" : "";
    const struct pstep *later = later_out(p, st, maybe_out);
    if (later != NULL) {
        bool sure = strcmp(ck_pst_str(ck_pst_record(p, later), "status"), "posted") == 0;
        snprintf(reason, sizeof reason, "%s was already %s%s", later->label,
                 sure ? "posted" : "being posted", maybe);
        skip_step(p, st, reason);
        return;
    }
    int64_t late = ck_time_now_ms() - st->e->at_ms;
    if (st->e->kind == CK_SCHED_REMINDER && ck_time_now_ms() >= p->conf.session->start_ms) {
        snprintf(reason, sizeof reason, "the chat has started; a reminder is never posted after%s",
                 maybe);
        skip_step(p, st, reason);
        return;
    }
    if (late > p->conf.session->missed_step_limit_ms) {
        char lim[32];
        ck_duration_format(p->conf.session->missed_step_limit_ms, lim, sizeof lim);
        snprintf(reason, sizeof reason, "%lld minutes late (limit %s)%s", (long long)(late / 60000),
                 lim, maybe);
        skip_step(p, st, reason);
        return;
    }
    if (late > 2000)
        ck_info("poster: %s is %lld s late; posting it now (limit %lld min)", st->label,
                (long long)(late / 1000),
                (long long)(p->conf.session->missed_step_limit_ms / 60000));
    ck_pst_attempt(p);
}

void ck_pst_pump(struct ck_poster *p)
{
    if (p->closing || p->stopped || p->cur != NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (p->steps[i].phase == PH_QUEUED) {
            start_step(p, &p->steps[i]);
            return; /* start_step pumps again when the step is done */
        }
    }
}

/* ---- the handler and lifecycle ---------------------------------------------- */

static struct pstep *find(struct ck_poster *p, const struct ck_sched_entry *e)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->steps[i].e == e)
            return &p->steps[i];
    /* A copy of an entry: match by what it names. */
    for (size_t i = 0; i < p->n; i++)
        if (p->steps[i].e->kind == e->kind && p->steps[i].e->number == e->number)
            return &p->steps[i];
    return NULL;
}

static void queue(struct ck_poster *p, struct pstep *st)
{
    if (st->phase != PH_IDLE)
        return; /* already in hand: the runner and resume may both name it */
    ck_pst_phase(st, PH_QUEUED);
}

static void on_due(void *self, const struct ck_sched_entry *e, int64_t late_ms)
{
    struct ck_poster *p = self;
    struct pstep *st = p->closing ? NULL : find(p, e);
    if (st == NULL)
        return;
    (void)late_ms; /* lateness is measured again when the step is taken up */
    queue(p, st);
    ck_pst_pump(p);
}

struct ck_step_handler ck_poster_handler(struct ck_poster *p)
{
    return (struct ck_step_handler){.name = "poster", .due = on_due, .self = p};
}

int ck_poster_resume(struct ck_poster *p)
{
    int64_t now = ck_time_now_ms();
    size_t resent = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct pstep *st = &p->steps[i];
        const char *status = ck_pst_str(ck_pst_record(p, st), "status");
        if (status != NULL && strcmp(status, "sending") == 0) {
            ck_info("poster: %s was being sent when the last run stopped; resending it with "
                    "its key (the server returns the original if it had posted)",
                    st->label);
            queue(p, st);
            resent++;
        } else if (st->e->at_ms <= now && (status == NULL || strcmp(status, "failed") == 0)) {
            /* Due before this run started: posted if still within the limit,
             * else skipped with a reason. */
            queue(p, st);
        }
    }
    ck_pst_pump(p);
    return (int)resent;
}

int ck_poster_busy(const struct ck_poster *p)
{
    int busy = 0;
    if (p->stopped)
        return 0;
    for (size_t i = 0; i < p->n; i++)
        busy += p->steps[i].phase == PH_QUEUED || p->steps[i].phase == PH_SENDING ||
                p->steps[i].phase == PH_WAITING;
    return busy;
}

int ck_poster_create(uv_loop_t *loop, struct ck_http *http, json_t *state,
                     const struct ck_poster_conf *conf, struct ck_poster **out,
                     struct ck_error *err)
{
    *out = NULL;
    if (conf == NULL || conf->session == NULL || conf->schedule == NULL || state == NULL ||
        conf->state_path == NULL)
        return ck_error_set(err, CK_EINVAL, "poster: session, schedule and state are required");
    /* A sign-in platform's token is "" until the sign-in on the loop is
     * done (auth_arg set): the steps wait for it (poster_send.c). */
    if (conf->token == NULL || (conf->token[0] == '\0' && conf->auth_arg == NULL))
        return ck_error_set(err, CK_EAUTH, "poster: posting needs an access token");
    if (conf->ops == NULL || conf->ops->post_request == NULL)
        return ck_error_set(err, CK_EINVAL, "poster: posting on %s is not supported",
                            conf->ops != NULL ? conf->ops->name : "(no platform)");
    struct ck_poster *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ck_error_set(err, CK_ENOMEM, "poster: out of memory");
    const struct ck_schedule *sch = conf->schedule;
    p->steps = calloc(sch->n ? sch->n : 1, sizeof *p->steps);
    if (p->steps == NULL) {
        free(p);
        return ck_error_set(err, CK_ENOMEM, "poster: out of memory");
    }
    for (size_t i = 0; i < sch->n; i++) {
        const struct ck_sched_entry *e = &sch->entries[i];
        if (e->step == NULL || (e->kind != CK_SCHED_WELCOME && e->kind != CK_SCHED_QUESTION &&
                                e->kind != CK_SCHED_CLOSING && e->kind != CK_SCHED_REMINDER))
            continue;
        struct pstep *st = &p->steps[p->n++];
        st->e = e;
        ck_sched_label(e, st->label, sizeof st->label);
        st->deadline_ms = e->at_ms + conf->session->missed_step_limit_ms;
        /* A reminder says the chat is coming: never once it has started. */
        if (e->kind == CK_SCHED_REMINDER && st->deadline_ms > conf->session->start_ms)
            st->deadline_ms = conf->session->start_ms;
    }
    p->loop = loop;
    p->http = http;
    p->state = state;
    p->conf = *conf;
    if (p->conf.base_url == NULL)
        p->conf.base_url = conf->session->platform.base_url;
    if (p->conf.steps_key == NULL)
        p->conf.steps_key = "steps";
    ck_backoff_init(&p->bo, RETRY_BASE_MS, RETRY_CAP_MS, uv_hrtime() | 1);
    ck_ratelimit_init(&p->rl);
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    *out = p;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct ck_poster *p = h->data;
    void (*cb)(void *) = p->closed_cb;
    void *arg = p->closed_arg;
    free(p->steps);
    json_decref(p->mentions);
    json_decref(p->mention_faults);
    free(p);
    if (cb != NULL)
        cb(arg);
}

void ck_poster_close(struct ck_poster *p, void (*closed_cb)(void *arg), void *arg)
{
    if (p == NULL || p->closing)
        return;
    p->closing = true;
    p->closed_cb = closed_cb;
    p->closed_arg = arg;
    if (p->inflight != NULL)
        p->inflight->p = NULL; /* its reply, if any, is dropped; resume resends it */
    p->inflight = NULL;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}
