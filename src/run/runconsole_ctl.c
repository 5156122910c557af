/* The runner's console hook (runconsole.h), the controls half. A control
 * arrives on an HTTP thread, is handed to the loop (handoff.h) and carried
 * out there (ck_rc_take), on the thread that owns the schedule, the state and
 * the poster, so it can never race a step falling due; the HTTP thread waits
 * for the answer. Each control is written down (journal event,
 * state.json) before it takes effect. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/poster.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

#include "runconsole_int.h"

int ck_rc_is_step(const struct ck_sched_entry *e)
{
    return e->kind == CK_SCHED_WELCOME || e->kind == CK_SCHED_QUESTION ||
           e->kind == CK_SCHED_CLOSING;
}

int ck_rc_postlen(const struct ck_runconsole *rc, const char *text, struct ck_postlen *out)
{
    return ck_postlen_check(rc->v.session, text, out);
}

long ck_rc_find_step(const struct ck_runconsole *rc, const char *label)
{
    for (size_t i = 0; label != NULL && i < rc->v.sch->n; i++) {
        char l[16];
        if (ck_rc_is_step(&rc->v.sch->entries[i]) &&
            strcmp(ck_sched_label(&rc->v.sch->entries[i], l, sizeof l), label) == 0)
            return (long)i;
    }
    return -1;
}

const char *ck_rc_step_status(const struct ck_runconsole *rc, const char *label)
{
    json_t *rec = json_object_get(json_object_get(rc->v.state, "steps"), label);
    return json_string_value(json_object_get(rec, "status"));
}

static json_t *console_obj(struct ck_runconsole *rc, const char *member)
{
    json_t *c = json_object_get(rc->v.state, "console");
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(rc->v.state, "console", c);
    }
    json_t *m = json_object_get(c, member);
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(c, member, m);
    }
    return m;
}

/* ---- recording -------------------------------------------------------------- */

/* The journal keeps what the facilitator did, beside what the API showed us;
 * state.json what must hold after a restart. Both before the effect. */
static int record(struct ck_runconsole *rc, json_t *event)
{
    struct ck_error err = {0};
    int64_t now = ck_time_now_ms();
    char ts[32];
    ck_time_format_rfc3339(now, ts);
    json_object_set_new(event, "type", json_string("console"));
    json_object_set_new(event, "at", json_string(ts));
    int rc1 = ck_journal_append(rc->v.journal, "chatkeeper", "console", now, &event, 1, &err);
    json_decref(event);
    if (rc1 == 0)
        rc1 = ck_state_save(rc->v.state_path, rc->v.state, &err);
    if (rc1 != 0)
        ck_err("console: cannot record a control: %s", err.msg);
    return rc1;
}

__attribute__((format(printf, 3, 4))) static json_t *answer(int *status, int code, const char *fmt,
                                                            ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *status = code;
    return json_pack("{s:s}", "message", msg);
}

/* Why a step can no longer be the subject of a control, or NULL. */
static const char *not_upcoming(const struct ck_runconsole *rc, long i, const char *label)
{
    const char *st = ck_rc_step_status(rc, label);
    if (st != NULL)
        return st; /* "posted", "sending", "skipped", "failed" */
    if ((size_t)i < *rc->v.next_step)
        return "already due";
    return NULL;
}

/* The index of the upcoming step called label, or -1 with *reply saying why
 * not: 400 no such step, 409 no longer upcoming ("Q3 is posted: " refused). */
static long upcoming(struct ck_runconsole *rc, const char *label, const char *refused, int *status,
                     json_t **reply)
{
    long i = ck_rc_find_step(rc, label);
    const char *why = i >= 0 ? not_upcoming(rc, i, label) : NULL;
    if (i < 0)
        *reply = answer(status, 400, "there is no step %s", label);
    else if (why != NULL)
        *reply = answer(status, 409, "%s is %s: %s", label, why, refused);
    return i < 0 || why != NULL ? -1 : i;
}

/* ---- the controls ----------------------------------------------------------- */

static json_t *post_now(struct ck_runconsole *rc, const char *label, int *status)
{
    json_t *refusal = NULL;
    long i = upcoming(rc, label, "not posted again", status, &refusal);
    if (i < 0)
        return refusal;
    struct ck_schedule *sch = rc->v.sch;
    for (size_t k = *rc->v.next_step; k < (size_t)i; k++) {
        if (ck_rc_is_step(&sch->entries[k])) {
            char l[16];
            ck_sched_label(&sch->entries[k], l, sizeof l);
            if (ck_rc_step_status(rc, l) == NULL)
                return answer(status, 409, "%s comes before %s: post it first, or skip it", l,
                              label);
        } else if (sch->entries[k].kind == CK_SCHED_LEAD) {
            return answer(status, 409,
                          "following has not started yet: %s cannot go out before "
                          "the lead time",
                          label);
        }
    }
    int64_t now = ck_time_now_ms();
    json_t *moved = console_obj(rc, "at");
    json_object_set_new(moved, label, json_integer(now));
    if (record(rc, json_pack("{s:s, s:s}", "action", "post_now", "step", label)) != 0)
        return answer(status, 500, "could not record the control; %s was not posted", label);
    ck_info("console: %s posted now by a facilitator", label);
    struct ck_sched_entry *e = &sch->entries[i];
    e->at_ms = now;
    *rc->v.next_step = (size_t)i + 1;
    /* The same path as a step falling due: the poster saves its intent first. */
    rc->v.handler->due(rc->v.handler->self, e, 0);
    if (!rc->held)
        rc->v.rearm(rc->v.runner);
    return answer(status, 200, "%s is being posted", label);
}

static json_t *skip(struct ck_runconsole *rc, const char *label, int *status)
{
    json_t *refusal = NULL;
    long i = upcoming(rc, label, "it cannot be skipped now", status, &refusal);
    if (i < 0)
        return refusal;
    /* The poster honours a "skipped" record when the step falls due. */
    json_t *steps = json_object_get(rc->v.state, "steps");
    if (!json_is_object(steps)) {
        steps = json_object();
        json_object_set_new(rc->v.state, "steps", steps);
    }
    json_object_set_new(steps, label,
                        json_pack("{s:s, s:s}", "status", "skipped", "reason",
                                  "skipped by a facilitator from the console"));
    if (record(rc, json_pack("{s:s, s:s}", "action", "skip", "step", label)) != 0)
        return answer(status, 500, "could not record the control");
    ck_info("console: %s skipped by a facilitator", label);
    return answer(status, 200, "%s will not be posted", label);
}

static json_t *edit(struct ck_runconsole *rc, const char *label, const char *text, int *status)
{
    long i = ck_rc_find_step(rc, label);
    if (i < 0)
        return answer(status, 400, "there is no step %s", label);
    if (text == NULL || text[0] == '\0')
        return answer(status, 400, "edit: the new text is missing");
    const char *why = not_upcoming(rc, i, label);
    if (why != NULL)
        return answer(status, 409, "%s is %s: its text can no longer change", label, why);
    struct ck_step *step = (struct ck_step *)rc->v.sch->entries[i].step;
    char *fresh = strdup(text);
    if (step == NULL || fresh == NULL) {
        free(fresh);
        return answer(status, 500, "out of memory");
    }
    char *old = step->text;
    step->text = fresh;
    /* The platform's own limit and way of counting, per posting source, as
     * `check` judges the run sheet (postlen.h). */
    char *as_posted = ck_poster_text(rc->v.session, &rc->v.sch->entries[i]);
    struct ck_postlen pl;
    int over = as_posted != NULL ? ck_rc_postlen(rc, as_posted, &pl) : -1;
    free(as_posted);
    if (over != 0 && over != CK_ENOTFOUND) {
        step->text = old;
        free(fresh);
        if (over < 0)
            return answer(status, 500, "out of memory");
        return answer(status, 400, "%s is too long for %s: %zu characters as posted; %s allows %ld",
                      label, pl.source, pl.len, pl.what, pl.max);
    }
    json_object_set_new(console_obj(rc, "edits"), label, json_string(text));
    if (record(rc, json_pack("{s:s, s:s, s:s}", "action", "edit", "step", label, "text", text)) !=
        0) {
        step->text = old;
        free(fresh);
        return answer(status, 500, "could not record the control");
    }
    free(old);
    rc->gen++; /* the question's text in the view */
    return answer(status, 200, "%s will say the new text", label);
}

static json_t *hold(struct ck_runconsole *rc, int *status)
{
    if (rc->held)
        return answer(status, 409, "the run sheet is already held");
    int64_t now = ck_time_now_ms();
    json_t *c = json_object_get(rc->v.state, "console");
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(rc->v.state, "console", c);
    }
    json_object_set_new(c, "held_since_ms", json_integer(now));
    if (record(rc, json_pack("{s:s}", "action", "hold")) != 0)
        return answer(status, 500, "could not record the control");
    rc->held = 1;
    rc->held_since_ms = now;
    uv_timer_stop(rc->v.step_timer);
    ck_info("console: the run sheet is held by a facilitator");
    return answer(status, 200, "held: no step goes out until you resume");
}

static json_t *resume(struct ck_runconsole *rc, int shift, int *status)
{
    if (!rc->held)
        return answer(status, 409, "the run sheet is not held");
    int64_t dt = ck_time_now_ms() - rc->held_since_ms;
    json_t *moved = console_obj(rc, "at");
    struct ck_schedule *sch = rc->v.sch;
    for (size_t i = 0; rc->parked != NULL && i < sch->n; i++)
        if (rc->parked[i] != 0)
            sch->entries[i].at_ms = rc->parked[i];
    free(rc->parked);
    rc->parked = NULL;
    for (size_t i = *rc->v.next_step; shift && i < sch->n; i++) {
        struct ck_sched_entry *e = &sch->entries[i];
        char l[16];
        if (!ck_rc_is_step(e) || ck_rc_step_status(rc, ck_sched_label(e, l, sizeof l)) != NULL)
            continue;
        e->at_ms += dt;
        json_object_set_new(moved, l, json_integer(e->at_ms));
    }
    json_object_del(json_object_get(rc->v.state, "console"), "held_since_ms");
    if (record(rc, json_pack("{s:s, s:b, s:I}", "action", "resume", "shift", shift, "held_ms",
                             (json_int_t)dt)) != 0)
        return answer(status, 500, "could not record the control");
    rc->held = 0;
    rc->v.rearm(rc->v.runner);
    ck_info("console: the run sheet resumes (%s)",
            shift ? "later steps moved by the time held" : "steps keep their times");
    return answer(status, 200,
                  shift ? "resumed; later steps moved by the time held"
                        : "resumed; steps keep their times");
}

/* Take a newcomer (handle) or a post (id) off its panel for good: recorded
 * like every control, so a restart and every other page agree. */
static json_t *dismiss(struct ck_runconsole *rc, const json_t *req, int *status)
{
    const char *handle = json_string_value(json_object_get(req, "handle"));
    const char *id = json_string_value(json_object_get(req, "id"));
    if ((handle == NULL) == (id == NULL))
        return answer(status, 400,
                      "dismiss: a \"handle\" (say hello to) or an \"id\" (a mention), one of them");
    ck_rc_people_json(rc); /* what the panels show now */
    char *key = handle != NULL ? ck_rc_lower(handle) : strdup(id);
    if (key == NULL)
        return answer(status, 500, "out of memory");
    long person = handle != NULL ? ck_rc_person_find(rc, key) : -1;
    int shown = handle != NULL ? person >= 0 && rc->persons[person].shown
                               : ck_strset_has(&rc->shown_posts, key);
    struct ck_strset *gone = handle != NULL ? &rc->dismissed_people : &rc->dismissed_posts;
    const char *what = handle != NULL ? "the newcomers" : "the unanswered mentions";
    json_t *out;
    if (!shown) {
        out = answer(status, 409, "%.200s is not in %s panel (answered or dismissed already?)",
                     handle != NULL ? handle : id, what);
    } else {
        json_t *c = json_object_get(rc->v.state, "console");
        if (!json_is_object(c)) {
            c = json_object();
            json_object_set_new(rc->v.state, "console", c);
        }
        json_t *d = json_object_get(c, "dismissed");
        if (!json_is_object(d)) {
            d = json_object();
            json_object_set_new(c, "dismissed", d);
        }
        const char *member = handle != NULL ? "people" : "posts";
        json_t *list = json_object_get(d, member);
        if (!json_is_array(list)) {
            list = json_array();
            json_object_set_new(d, member, list);
        }
        json_array_append_new(list, json_string(key));
        json_t *ev = handle != NULL ? json_pack("{s:s, s:s}", "action", "dismiss", "handle", handle)
                                    : json_pack("{s:s, s:s}", "action", "dismiss", "id", id);
        if (record(rc, ev) != 0) {
            json_array_remove(list, json_array_size(list) - 1);
            out = answer(status, 500, "could not record the control");
        } else {
            ck_strset_add(gone, key);
            rc->people_dirty = 1;
            out = answer(status, 200, "%.200s is off %s panel", handle != NULL ? handle : id, what);
        }
    }
    free(key);
    return out;
}

static json_t *dispatch(struct ck_runconsole *rc, const json_t *req, int *status)
{
    const char *action = json_string_value(json_object_get(req, "action"));
    const char *step = json_string_value(json_object_get(req, "step"));
    if (strcmp(action, "dismiss") == 0) /* the panels work on an observing run too */
        return dismiss(rc, req, status);
    if (!rc->v.posting)
        return answer(status, 409, "this run only observes: nothing is posted");
    if (strcmp(action, "post_now") == 0 || strcmp(action, "skip") == 0 ||
        strcmp(action, "edit") == 0) {
        if (step == NULL)
            return answer(status, 400, "%s: which step? (\"step\": \"Q3\")", action);
        if (strcmp(action, "post_now") == 0)
            return post_now(rc, step, status);
        if (strcmp(action, "skip") == 0)
            return skip(rc, step, status);
        return edit(rc, step, json_string_value(json_object_get(req, "text")), status);
    }
    if (strcmp(action, "hold") == 0)
        return hold(rc, status);
    if (strcmp(action, "resume") == 0)
        return resume(rc, json_is_true(json_object_get(req, "shift")), status);
    return answer(status, 400, "unknown action \"%s\"", action);
}

/* ---- a control, on the loop ---------------------------------------------- */

void ck_rc_take(void *arg, const char *body, size_t len, int *status, char **text)
{
    struct ck_runconsole *rc = arg;
    /* Parsed here, on the loop: jansson is never used on an HTTP thread. */
    json_t *req = json_loadb(body, len, 0, NULL);
    json_t *reply;
    if (!json_is_object(req) || !json_is_string(json_object_get(req, "action")))
        reply = answer(status, 400, "malformed control: expected {\"action\": \"...\"}");
    else
        reply = dispatch(rc, req, status);
    json_decref(req);
    *text = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    ck_rc_publish(rc); /* every page sees the effect at once */
}

/* ---- after a restart -------------------------------------------------------- */

void ck_rc_restore(struct ck_runconsole *rc)
{
    json_t *c = json_object_get(rc->v.state, "console");
    const char *label;
    json_t *v;
    json_object_foreach(json_object_get(c, "edits"), label, v)
    {
        long i = ck_rc_find_step(rc, label);
        char *t = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
        if (i < 0 || t == NULL || rc->v.sch->entries[i].step == NULL) {
            free(t);
            continue;
        }
        struct ck_step *step = (struct ck_step *)rc->v.sch->entries[i].step;
        free(step->text);
        step->text = t;
    }
    json_object_foreach(json_object_get(c, "at"), label, v)
    {
        long i = ck_rc_find_step(rc, label);
        if (i >= 0 && json_is_integer(v) && ck_rc_step_status(rc, label) == NULL &&
            (size_t)i >= *rc->v.next_step)
            rc->v.sch->entries[i].at_ms = json_integer_value(v);
    }
    if (json_is_integer(json_object_get(c, "held_since_ms"))) {
        rc->held = 1;
        rc->held_since_ms = json_integer_value(json_object_get(c, "held_since_ms"));
        uv_timer_stop(rc->v.step_timer);
        /* The runner takes up steps already due at start-up (ck_poster_resume):
         * a held step must not be one of them. */
        rc->parked = calloc(rc->v.sch->n ? rc->v.sch->n : 1, sizeof *rc->parked);
        for (size_t i = *rc->v.next_step; rc->parked != NULL && i < rc->v.sch->n; i++) {
            struct ck_sched_entry *e = &rc->v.sch->entries[i];
            char l[16];
            if (!ck_rc_is_step(e) || ck_rc_step_status(rc, ck_sched_label(e, l, sizeof l)))
                continue;
            rc->parked[i] = e->at_ms;
            e->at_ms = INT64_MAX / 4;
        }
    }
}
