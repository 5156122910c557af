/* The runner's console hook (runconsole.h), the snapshot: what a page shows,
 * built on the loop's thread from the live messages (runconsole.c files them)
 * and the runner's own structures: the run sheet and the next step, the
 * questions with their counts and newest answers (rebuilt only when the
 * messages were filed again), each source's capture health and the people
 * panels (runconsole_people.c). The console sends the pages what changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/poster.h"
#include "chatkeeper/timeutil.h"

#include "runconsole_int.h"

/* Newest messages shown under each question. */
#define NEWEST 6

static const char *kind_name(enum ck_sched_kind k)
{
    return k == CK_SCHED_WELCOME ? "welcome" : k == CK_SCHED_CLOSING ? "closing" : "question";
}

json_t *ck_rc_message_json(struct ck_runconsole *rc, struct live_msg *m)
{
    const struct live_msg *p = m->reply_to != NULL ? ck_rc_find(rc, m->reply_to) : NULL;
    unsigned long pseq = p != NULL ? p->seq : 0;
    if (m->js != NULL && m->js_by == (int)m->g.by && m->js_parent == pseq)
        return json_incref(m->js);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id", m->id, "text", m->text,
                          "name", m->name, "handle", m->handle, "url", m->url, "created_ms",
                          (json_int_t)m->created_ms, "by",
                          ck_group_by_name(m->g.by) ? ck_group_by_name(m->g.by) : "none");
    if (o != NULL && m->reply_to != NULL) {
        json_t *ctx = json_object();
        if (p != NULL) {
            json_object_set_new(ctx, "handle", json_string(p->handle));
            json_object_set_new(
                ctx, "text", json_stringn(p->text, strlen(p->text) > 140 ? 140 : strlen(p->text)));
        } else {
            json_object_set_new(ctx, "missing", json_true());
        }
        json_object_set_new(o, "reply_to", ctx);
    }
    if (o == NULL)
        return NULL;
    json_decref(m->js);
    m->js = o;
    m->js_by = (int)m->g.by;
    m->js_parent = pseq;
    return json_incref(o);
}

/* Every question's answers, people and newest answers in one pass over the
 * messages, newest first (a bit per person and question counts people). */
static json_t *questions_json(struct ck_runconsole *rc)
{
    const struct ck_session *s = rc->v.session;
    size_t nq = s->n_questions, words = (rc->n_persons + 63) / 64;
    int qi_of[256];
    for (size_t k = 0; k < 256; k++)
        qi_of[k] = -1;
    for (size_t qi = 0; qi < nq; qi++)
        if (s->questions[qi].number >= 0 && s->questions[qi].number < 256)
            qi_of[s->questions[qi].number] = (int)qi;
    size_t *answers = calloc(nq ? nq : 1, sizeof *answers);
    size_t *people = calloc(nq ? nq : 1, sizeof *people);
    uint64_t *bits = calloc((nq ? nq : 1) * (words ? words : 1), sizeof *bits);
    json_t **newest = calloc(nq ? nq : 1, sizeof *newest);
    json_t *qs = json_array();
    if (answers == NULL || people == NULL || bits == NULL || newest == NULL) {
        free(answers);
        free(people);
        free(bits);
        free(newest);
        return qs;
    }
    for (size_t qi = 0; qi < nq; qi++)
        newest[qi] = json_array();
    for (size_t i = rc->n; i-- > 0;) {
        struct live_msg *m = rc->msgs[i];
        if (m->g.hidden || m->g.by == CK_BY_QUESTION)
            continue;
        for (size_t k = 0; k < m->g.n_questions; k++) {
            int qi = qi_of[m->g.questions[k]];
            if (qi < 0)
                continue;
            answers[qi]++;
            uint64_t *w = &bits[(size_t)qi * words + m->person / 64];
            uint64_t bit = 1ull << (m->person % 64);
            if (!(*w & bit)) {
                *w |= bit;
                people[qi]++;
            }
            if (json_array_size(newest[qi]) < NEWEST)
                json_array_append_new(newest[qi], ck_rc_message_json(rc, m));
        }
    }
    for (size_t qi = 0; qi < nq; qi++) {
        int num = s->questions[qi].number;
        char label[16];
        snprintf(label, sizeof label, "Q%d", num);
        const char *st = ck_rc_step_status(rc, label);
        json_t *rec = json_object_get(json_object_get(rc->v.state, "steps"), label);
        json_t *q =
            json_pack("{s:i, s:s, s:s, s:b, s:I, s:I, s:o}", "number", num, "label", label, "text",
                      s->questions[qi].text ? s->questions[qi].text : "", "asked",
                      st != NULL && strcmp(st, "posted") == 0, "answers", (json_int_t)answers[qi],
                      "people", (json_int_t)people[qi], "newest", newest[qi]);
        if (q != NULL && json_is_string(json_object_get(rec, "url")))
            json_object_set(q, "url", json_object_get(rec, "url"));
        json_array_append_new(qs, q);
    }
    free(answers);
    free(people);
    free(bits);
    free(newest);
    return qs;
}

static json_t *steps_json(const struct ck_runconsole *rc, json_t **next)
{
    json_t *steps = json_array();
    json_t *recs = json_object_get(rc->v.state, "steps");
    *next = json_null();
    for (size_t i = 0; i < rc->v.sch->n; i++) {
        const struct ck_sched_entry *e = &rc->v.sch->entries[i];
        if (!ck_rc_is_step(e))
            continue;
        char label[16];
        ck_sched_label(e, label, sizeof label);
        const json_t *rec = json_object_get(recs, label);
        const char *st = json_string_value(json_object_get(rec, "status"));
        char *text = ck_poster_text(rc->v.session, e);
        if (st == NULL)
            st = i < *rc->v.next_step ? "due" : "upcoming";
        int64_t at = rc->parked != NULL && rc->parked[i] != 0 ? rc->parked[i] : e->at_ms;
        struct ck_postlen pl; /* the platform's limit, as the edit control judges it */
        ck_rc_postlen(rc, text ? text : "", &pl);
        json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s, s:I, s:I}", "label", label, "kind",
                              kind_name(e->kind), "number", e->number, "at_ms", (json_int_t)at,
                              "status", st, "text", text ? text : "", "chars", (json_int_t)pl.len,
                              "max", (json_int_t)pl.max);
        free(text);
        if (o == NULL)
            continue;
        json_object_set_new(o, "raw", json_string(e->step && e->step->text ? e->step->text : ""));
        for (const char *const *k = (const char *const[]){"url", "reason", "id", NULL}; *k; k++)
            if (json_is_string(json_object_get(rec, *k)))
                json_object_set(o, *k, json_object_get(rec, *k));
        if (json_is_null(*next) && strcmp(st, "upcoming") == 0)
            *next = json_pack("{s:s, s:I}", "label", label, "at_ms", (json_int_t)at);
        json_array_append_new(steps, o);
    }
    return steps;
}

/* One object per source: what it is doing, when it last read well, how late
 * the newest message came, its request budget, its errors. */
static json_t *sources_json(struct ck_runconsole *rc, int64_t now)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < rc->n_src; i++) {
        struct rc_source *s = &rc->src[i];
        struct ck_follower_stats st = {0};
        struct ck_ratelimit rl = {0};
        if (s->f != NULL) {
            ck_follower_get_stats(s->f, &st);
            ck_follower_get_ratelimit(s->f, &rl);
        }
        /* A page that came back well, or a status by the stream. */
        if (st.pages != s->pages_seen || st.streamed != s->streamed_seen) {
            s->pages_seen = st.pages;
            s->streamed_seen = st.streamed;
            s->last_ok_ms = now;
        }
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "name", s->name, "type",
            s->type, "state", s->f ? ck_follower_state_name(s->f) : "stopped", "streaming",
            s->f != NULL && ck_follower_streaming(s->f), "requests", (json_int_t)st.requests,
            "pages", (json_int_t)st.pages, "errors", (json_int_t)st.errors, "rate_limited",
            (json_int_t)st.rate_limited, "messages", (json_int_t)st.messages, "streamed",
            (json_int_t)st.streamed, "last_error", st.last_error);
        if (o == NULL)
            continue;
        if (s->last_ok_ms != 0)
            json_object_set_new(o, "last_ok_ms", json_integer(s->last_ok_ms));
        if (s->newest_ms != 0)
            json_object_set_new(o, "lag_ms", json_integer(s->lag_ms));
        if (rl.known)
            json_object_set_new(o, "rate_limit",
                                json_pack("{s:I, s:I, s:I, s:I}", "remaining",
                                          (json_int_t)rl.remaining, "limit", (json_int_t)rl.limit,
                                          "reset_ms", (json_int_t)rl.reset_ms, "blocked_until_ms",
                                          (json_int_t)rl.blocked_until_ms));
        json_array_append_new(arr, o);
    }
    return arr;
}

void ck_rc_publish(struct ck_runconsole *rc)
{
    int64_t now = ck_time_now_ms();
    const struct ck_schedule *sch = rc->v.sch;
    const char *phase = now < sch->lead_ms        ? "waiting"
                        : now < sch->start_ms     ? "lead"
                        : now < sch->end_ms       ? "chat"
                        : now < sch->grace_end_ms ? "grace"
                                                  : "after";
    json_t *next;
    json_t *steps = steps_json(rc, &next);
    if (rc->q_cache == NULL || rc->cached_gen != rc->gen) {
        json_decref(rc->q_cache);
        rc->q_cache = questions_json(rc);
        rc->cached_gen = rc->gen;
        rc->unfiled = 0;
        for (size_t i = 0; i < rc->n; i++)
            rc->unfiled += rc->msgs[i]->g.n_questions == 0 && !rc->msgs[i]->g.hidden;
        rc->people = rc->n_persons;
    }
    json_t *snap = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I}", "mode",
        "live", "title", rc->v.session->title, "hashtag", rc->v.session->hashtag, "phase", phase,
        "posting", rc->v.posting, "held", rc->held, "held_since_ms", (json_int_t)rc->held_since_ms,
        "start_ms", (json_int_t)sch->start_ms, "end_ms", (json_int_t)sch->end_ms, "steps", steps,
        "next", next, "questions", json_incref(rc->q_cache), "sources", sources_json(rc, now),
        "messages", (json_int_t)rc->n, "people", (json_int_t)rc->people, "unfiled",
        (json_int_t)rc->unfiled);
    json_t *people = ck_rc_people_json(rc);
    if (snap != NULL && people != NULL)
        json_object_update(snap, people);
    ck_console_publish(rc->con, snap);
}
