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
#include "chatkeeper/mastodon.h"
#include "chatkeeper/ratelimit.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

#define RETRY_BASE_MS 1000
#define RETRY_CAP_MS 30000

enum phase { PH_IDLE, PH_QUEUED, PH_SENDING, PH_WAITING, PH_DONE };
static const char *const phase_names[] = {"idle", "queued", "sending", "waiting", "done"};

struct pstep {
    const struct ck_sched_entry *e; /* borrowed from the schedule */
    char label[16];                 /* "welcome", "Q3", "closing": the key in state.steps */
    enum phase phase;
    int64_t deadline_ms; /* retries stop here: at + missed_step_limit */
};

/* One per transfer, so a reply arriving after close finds p == NULL instead
 * of a freed poster. Freed by the HTTP callback, which always runs once. */
struct transfer {
    struct ck_poster *p;
};

struct ck_poster {
    uv_loop_t *loop;
    struct ck_http *http;
    json_t *state;
    struct ck_poster_conf conf;
    uv_timer_t timer; /* retry backoff and rate-limit waits */
    struct pstep *steps;
    size_t n;
    struct pstep *cur; /* the step in hand (sending or waiting), or NULL */
    struct transfer *inflight;
    struct ck_backoff bo;
    struct ck_ratelimit rl;
    bool closing;
    bool stopped; /* the HTTP client was closed under us: nothing more goes out */
    void (*closed_cb)(void *arg);
    void *closed_arg;
};

static void pump(struct ck_poster *p);
static void attempt(struct ck_poster *p);

/* ---- state.json ------------------------------------------------------------- */

static json_t *steps_obj(struct ck_poster *p)
{
    json_t *steps = json_object_get(p->state, p->conf.steps_key);
    if (!json_is_object(steps)) {
        steps = json_object();
        if (steps == NULL || json_object_set_new(p->state, p->conf.steps_key, steps) != 0)
            return NULL;
    }
    return steps;
}

static json_t *record(struct ck_poster *p, const struct pstep *st)
{
    json_t *r = json_object_get(json_object_get(p->state, p->conf.steps_key), st->label);
    return json_is_object(r) ? r : NULL;
}

static const char *rec_str(const json_t *rec, const char *key)
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
static int mark(struct ck_poster *p, struct pstep *st, const char *status, const char *reason)
{
    json_t *steps = steps_obj(p);
    json_t *rec = record(p, st);
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

static void set_phase(struct pstep *st, enum phase ph)
{
    if (st->phase != ph)
        ck_debug("poster: %s: %s -> %s", st->label, phase_names[st->phase], phase_names[ph]);
    st->phase = ph;
}

static void finish_step(struct ck_poster *p, struct pstep *st)
{
    set_phase(st, PH_DONE);
    if (p->cur == st)
        p->cur = NULL;
    ck_backoff_reset(&p->bo);
    pump(p);
}

static void skip_step(struct ck_poster *p, struct pstep *st, const char *reason)
{
    ck_warn("poster: skipping %s: %s", st->label, reason);
    mark(p, st, "skipped", reason);
    finish_step(p, st);
}

static void fail_step(struct ck_poster *p, struct pstep *st, const char *reason)
{
    ck_err("poster: giving up on %s: %s", st->label, reason);
    mark(p, st, "failed", reason);
    finish_step(p, st);
}

/* The first later step that is out (or may be: "sending"), or NULL. Two
 * "sending" records are both resumed, in order: each may be on the server, and
 * their keys make resending them safe. */
static const struct pstep *later_out(struct ck_poster *p, const struct pstep *st, bool resuming)
{
    for (const struct pstep *o = st + 1; o < p->steps + p->n; o++) {
        const char *status = rec_str(record(p, o), "status");
        if (status == NULL)
            continue;
        if (strcmp(status, "posted") == 0 || (!resuming && strcmp(status, "sending") == 0))
            return o;
    }
    return NULL;
}

/* The id of the last step before st that was posted: what a thread replies to. */
static const char *previous_id(struct ck_poster *p, const struct pstep *st)
{
    for (const struct pstep *o = st; o > p->steps;) {
        o--;
        const json_t *rec = record(p, o);
        const char *status = rec_str(rec, "status");
        if (status != NULL && strcmp(status, "posted") == 0 && rec_str(rec, "id") != NULL)
            return rec_str(rec, "id");
    }
    return NULL;
}

/* Take up the step: decide whether it may go at all, then send. */
static void start_step(struct ck_poster *p, struct pstep *st)
{
    p->cur = st;
    const json_t *rec = record(p, st);
    const char *status = rec_str(rec, "status");
    if (status != NULL && strcmp(status, "posted") == 0) {
        ck_info("poster: %s already posted (id %s); not sending it again", st->label,
                rec_str(rec, "id") != NULL ? rec_str(rec, "id") : "?");
        finish_step(p, st);
        return;
    }
    if (status != NULL && strcmp(status, "skipped") == 0) {
        ck_info("poster: %s was skipped earlier (%s)", st->label,
                rec_str(rec, "reason") != NULL ? rec_str(rec, "reason") : "no reason recorded");
        finish_step(p, st);
        return;
    }
    char reason[160];
    /* A "sending" record means the server may hold the post already. */
    bool maybe_out = status != NULL && strcmp(status, "sending") == 0;
    const char *maybe = maybe_out ? "; it may have reached the server before the restart" : "";
    const struct pstep *later = later_out(p, st, maybe_out);
    if (later != NULL) {
        bool sure = strcmp(rec_str(record(p, later), "status"), "posted") == 0;
        snprintf(reason, sizeof reason, "%s was already %s%s", later->label,
                 sure ? "posted" : "being posted", maybe);
        skip_step(p, st, reason);
        return;
    }
    int64_t late = ck_time_now_ms() - st->e->at_ms;
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
    attempt(p);
}

static void pump(struct ck_poster *p)
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

/* ---- sending ---------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    struct ck_poster *p = t->data;
    if (!p->closing && p->cur != NULL)
        attempt(p);
}

/* Wait before the next attempt, or give up if that would pass the deadline. */
static void retry_later(struct ck_poster *p, int64_t wait_ms, const char *why)
{
    struct pstep *st = p->cur;
    int64_t now = ck_time_now_ms();
    if (now + wait_ms > st->deadline_ms) {
        const json_t *rec = record(p, st);
        char reason[256];
        snprintf(reason, sizeof reason,
                 "no success before its limit after %lld attempts (last: %s); the server may "
                 "hold it if it failed after posting",
                 (long long)json_integer_value(json_object_get(rec, "attempts")), why);
        fail_step(p, st, reason);
        return;
    }
    ck_warn("poster: %s: %s; retrying in %.1f s with the same key", st->label, why,
            (double)wait_ms / 1000.0);
    set_phase(st, PH_WAITING);
    uv_timer_start(&p->timer, on_timer, (uint64_t)wait_ms, 0);
}

static void posted(struct ck_poster *p, struct pstep *st, char *id, char *url)
{
    int64_t now = ck_time_now_ms();
    json_t *rec = record(p, st);
    char ts[32];
    ck_time_format_rfc3339(now, ts);
    json_object_set_new(rec, "id", json_string(id));
    json_object_set_new(rec, "url", json_string(url));
    json_object_set_new(rec, "posted_at", json_string(ts));
    json_object_set_new(rec, "delay_ms", json_integer(now - st->e->at_ms));
    int64_t att = json_integer_value(json_object_get(rec, "attempts"));
    mark(p, st, "posted", NULL);
    ck_info("poster: posted %s (id %s) %.2f s after its time%s", st->label, id,
            (double)(now - st->e->at_ms) / 1000.0, att > 1 ? " (after retries)" : "");
    free(id);
    free(url);
    finish_step(p, st);
}

static void on_reply(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct transfer *t = arg;
    struct ck_poster *p = t->p;
    free(t);
    if (p == NULL)
        return; /* closed while in flight: the "sending" record lets resume finish it */
    p->inflight = NULL;
    struct pstep *st = p->cur;
    if (status == CK_ECANCELED) {
        ck_warn("poster: sending %s was cancelled; it stays \"sending\" for the next run",
                st->label);
        /* The HTTP client is going away (shutdown): nothing more can be sent. */
        p->cur = NULL;
        p->stopped = true;
        for (size_t i = 0; i < p->n; i++)
            set_phase(&p->steps[i], p->steps[i].phase == PH_IDLE ? PH_IDLE : PH_DONE);
        return;
    }
    char why[200];
    if (status < 0) {
        if (errmsg == NULL)
            errmsg = "";
        snprintf(why, sizeof why, "%s%s%.120s", ck_strerror(status), errmsg[0] ? ": " : "", errmsg);
        retry_later(p, ck_backoff_next(&p->bo), why);
        return;
    }
    ck_ratelimit_update(&p->rl, resp, ck_time_now_ms());
    if (resp->status >= 200 && resp->status <= 299) {
        char *id, *url;
        struct ck_error err = {0};
        if (ck_mastodon_parse_status(resp, &id, &url, &err) < 0) {
            retry_later(p, ck_backoff_next(&p->bo), err.msg);
            return;
        }
        posted(p, st, id, url);
        return;
    }
    char server[120];
    ck_mastodon_error_text(resp, server, sizeof server);
    snprintf(why, sizeof why, "HTTP %ld%s%s", resp->status, server[0] ? ": " : "", server);
    if (resp->status == 429) {
        int64_t now = ck_time_now_ms();
        int64_t until = ck_ratelimit_next(&p->rl, now, now);
        int64_t wait = until > now ? until - now : ck_backoff_next(&p->bo);
        retry_later(p, wait, why);
    } else if (resp->status >= 500 || resp->status == 408) {
        retry_later(p, ck_backoff_next(&p->bo), why);
    } else {
        /* 401/403 (token), 422 (too long, bad reply id): the same request
         * would fail again, so retrying only delays the next step. */
        char reason[300];
        snprintf(reason, sizeof reason, "%s%s", why,
                 resp->status == 401 || resp->status == 403
                     ? " (check the access token and its write:statuses scope)"
                     : "");
        fail_step(p, st, reason);
    }
}

/* Record the intent, save it, and only then send. */
static void attempt(struct ck_poster *p)
{
    struct pstep *st = p->cur;
    char key[64];
    char *text = ck_poster_text(p->conf.session, st->e);
    json_t *steps = steps_obj(p);
    json_t *rec = record(p, st);
    if (rec == NULL && steps != NULL) {
        rec = json_object();
        json_object_set_new(steps, st->label, rec);
    }
    if (text == NULL || rec == NULL) {
        free(text);
        fail_step(p, st, "out of memory");
        return;
    }
    /* The recorded key wins over a recomputed one, so a retry after a restart
     * always presents what the server may already have seen. */
    const char *stored = rec_str(rec, "key");
    if (stored != NULL)
        snprintf(key, sizeof key, "%s", stored);
    else
        ck_poster_key(p->conf.session, st->e, key, sizeof key);
    const char *reply_to = p->conf.session->thread ? previous_id(p, st) : NULL;
    int64_t attempts = json_integer_value(json_object_get(rec, "attempts")) + 1;

    struct ck_request req;
    struct ck_error err = {0};
    int rc = ck_mastodon_post_request(p->conf.base_url, p->conf.token, text,
                                      reply_to, key, &req, &err);
    free(text);
    if (rc < 0) {
        fail_step(p, st, err.msg);
        return;
    }
    json_object_set_new(rec, "key", json_string(key));
    json_object_set_new(rec, "attempts", json_integer(attempts));
    if (reply_to != NULL)
        json_object_set_new(rec, "in_reply_to_id", json_string(reply_to));
    if (mark(p, st, "sending", NULL) < 0) {
        /* Without the intent on disk a crash could post twice: do not send. */
        ck_request_finish(&req);
        fail_step(p, st, "cannot record the intent to post in state.json");
        return;
    }
    struct transfer *t = malloc(sizeof *t);
    if (t == NULL) {
        ck_request_finish(&req);
        retry_later(p, ck_backoff_next(&p->bo), "out of memory");
        return;
    }
    t->p = p;
    set_phase(st, PH_SENDING);
    ck_debug("poster: sending %s (attempt %lld, key %s)", st->label, (long long)attempts, key);
    rc = ck_http_send(p->http, &req, on_reply, t, &err);
    ck_request_finish(&req);
    if (rc < 0) {
        free(t);
        retry_later(p, ck_backoff_next(&p->bo), err.msg[0] ? err.msg : ck_strerror(rc));
        return;
    }
    p->inflight = t;
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
    set_phase(st, PH_QUEUED);
}

static void on_due(void *self, const struct ck_sched_entry *e, int64_t late_ms)
{
    struct ck_poster *p = self;
    struct pstep *st = p->closing ? NULL : find(p, e);
    if (st == NULL)
        return;
    (void)late_ms; /* lateness is measured again when the step is taken up */
    queue(p, st);
    pump(p);
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
        const char *status = rec_str(record(p, st), "status");
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
    pump(p);
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
    if (conf->token == NULL || conf->token[0] == '\0')
        return ck_error_set(err, CK_EAUTH, "poster: posting needs an access token");
    if (conf->ops != NULL && strcmp(conf->ops->name, "mastodon") != 0)
        return ck_error_set(err, CK_EINVAL, "poster: posting on %s is not supported yet",
                            conf->ops->name);
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
                                e->kind != CK_SCHED_CLOSING))
            continue;
        struct pstep *st = &p->steps[p->n++];
        st->e = e;
        ck_sched_label(e, st->label, sizeof st->label);
        st->deadline_ms = e->at_ms + conf->session->missed_step_limit_ms;
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
