/* Thread fetching after the sweep (see replies.h). The roots are worked out
 * once from the journal: statuses in the window whose replies_count is larger
 * than the replies we hold, plus the run sheet's posted steps. A context reply
 * covers the whole subtree, so a root already inside a fetched thread is skipped.
 *
 * The replies we hold are counted per parent in a set of keyed hashes (hset.h):
 * every reply of the chat is scanned, so a copy of each parent's id (and a
 * sort) cost more than the roots themselves. */
#include "chatkeeper/replies.h"

#include <stdlib.h>
#include <string.h>

#include "chatkeeper/backoff.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/log.h"
#include "chatkeeper/message.h"
#include "chatkeeper/runstatus.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/timeutil.h"

struct root {
    char *id;
    long replies; /* as the platform counts them */
    long known;   /* replies we hold */
};

struct ck_replies {
    uv_loop_t *loop;
    struct ck_http *http;
    struct ck_replies_conf conf;
    ck_replies_done_cb cb;
    void *cb_arg;
    uv_timer_t timer;
    struct root *roots;
    size_t n, cap, next;
    struct ck_hset held;      /* parent id -> replies in the window we hold, while scanning */
    struct ck_strset covered; /* ids already inside a fetched thread */
    struct ck_backoff backoff;
    size_t requests;
    struct ck_replies_tally tally; /* where each wanted root went, for the last line */
    int inflight, closing, timer_closed, done;
};

static int root_cmp(const void *a, const void *b)
{
    const struct root *x = a, *y = b;
    int c = ck_id_order(x->id, y->id);
    /* Equal ids: the later journal line (larger known, used as a sequence here) first. */
    return c != 0 ? c : (x->known < y->known) - (x->known > y->known);
}

static int push_root(struct ck_replies *t, const char *id, long replies, long seq)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct root *p = realloc(t->roots, cap * sizeof *p);
        if (p == NULL)
            return CK_ENOMEM;
        t->roots = p;
        t->cap = cap;
    }
    char *copy = strdup(id);
    if (copy == NULL)
        return CK_ENOMEM;
    t->roots[t->n++] = (struct root){copy, replies, seq};
    return 0;
}

/* Collect (id, replies_count) of statuses with replies, with the sweep's
 * fresher count beside it, and count every reply under its parent. */
static int scan_cb(size_t lineno, const json_t *entry, void *arg)
{
    struct ck_replies *t = arg;
    const char *plat = json_string_value(json_object_get(entry, "platform"));
    if ((plat != NULL && strcmp(plat, t->conf.ops->name) != 0) ||
        !ck_journal_entry_is_from(entry, t->conf.source_name, t->conf.first_source))
        return 0;
    struct ck_message m = {0};
    int rc = 0;
    int ok = t->conf.ops->normalise(json_object_get(entry, "object"), &m, NULL) == 0;
    /* The sweep's count wins over every line's (a later sequence sorts
     * first): a status it counted is one root, with that count. */
    uint32_t hint = 0;
    if (ok && m.id != NULL && t->conf.reply_hints != NULL &&
        ck_hset_get(t->conf.reply_hints, m.id, &hint) && hint > 0)
        rc = push_root(t, m.id, (long)hint, 0x7ffffff0);
    if (ok && m.created_ms >= t->conf.window_start_ms && m.created_ms <= t->conf.window_end_ms) {
        if (rc == 0 && m.replies > 0 && hint == 0)
            rc = push_root(t, m.id, m.replies, (long)lineno);
        uint32_t n = 0;
        if (rc == 0 && m.reply_to != NULL) {
            ck_hset_get(&t->held, m.reply_to, &n);
            rc = ck_hset_put(&t->held, m.reply_to, n + 1) < 0 ? CK_ENOMEM : 0;
        }
    }
    ck_message_finish(&m);
    return rc;
}

/* Sort, keep the latest count per id, and count the replies we hold. */
static void settle_roots(struct ck_replies *t)
{
    if (t->n > 1)
        qsort(t->roots, t->n, sizeof *t->roots, root_cmp);
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (w > 0 && strcmp(t->roots[w - 1].id, t->roots[i].id) == 0) {
            free(t->roots[i].id); /* an older copy of the same status */
            continue;
        }
        struct root r = t->roots[i];
        uint32_t held = 0;
        ck_hset_get(&t->held, r.id, &held);
        r.known = (long)held;
        t->roots[w++] = r;
    }
    t->n = w;
    ck_hset_finish(&t->held);
}

static void finish(struct ck_replies *t, int status)
{
    if (t->done)
        return;
    t->done = 1;
    uv_timer_stop(&t->timer);
    if (t->cb != NULL)
        t->cb(status, t->requests, t->cb_arg);
}

static void on_timer(uv_timer_t *h);
static void on_response(int status, const struct ck_response *resp, const char *errmsg, void *arg);

static void schedule(struct ck_replies *t, int64_t want)
{
    int64_t now = ck_time_now_ms();
    int64_t at = t->conf.rl ? ck_ratelimit_next(t->conf.rl, want, now) : want;
    if (at > t->conf.deadline_ms)
        at = t->conf.deadline_ms;
    int64_t held = at - (want > now ? want : now);
    if (held > t->conf.hold_warn_ms) {
        char until[32];
        ck_time_format_rfc3339(at, until);
        ck_warn("threads: the rate limit holds the next request back %lld s, until %s",
                (long long)((held + 999) / 1000), until);
    }
    uv_timer_start(&t->timer, on_timer, (uint64_t)(at > now ? at - now : 0), 0);
}

/* The next root that still needs its thread fetched, or NULL. */
static struct root *next_root(struct ck_replies *t)
{
    while (t->next < t->n) {
        struct root *r = &t->roots[t->next];
        int wanted = r->replies > r->known || r->replies < 0;
        if (wanted && !ck_strset_has(&t->covered, r->id))
            return r;
        if (wanted)
            t->tally.covered++;
        t->next++;
    }
    return NULL;
}

static void on_timer_body(uv_timer_t *h);

/* The session's name on every line this callback logs (serve; log.h). */
static void on_timer(uv_timer_t *h)
{
    struct ck_replies *t = h->data;
    const char *was = ck_log_tag_swap(ck_http_log_tag(t->http));
    on_timer_body(h);
    ck_log_tag_swap(was);
}

static void on_timer_body(uv_timer_t *h)
{
    struct ck_replies *t = h->data;
    struct root *r = next_root(t);
    char line[256];
    if (r == NULL) {
        t->tally.requests = t->requests;
        ck_replies_summary(&t->tally, NULL, line, sizeof line);
        ck_info("threads: %s", line);
        finish(t, 0);
        return;
    }
    if (ck_time_now_ms() >= t->conf.deadline_ms || t->requests >= t->conf.max_requests) {
        /* What is left: the wanted roots not inside a thread fetched already. */
        for (; t->next < t->n; t->next++) {
            const struct root *x = &t->roots[t->next];
            if (x->replies > x->known || x->replies < 0)
                t->tally.left += !ck_strset_has(&t->covered, x->id);
        }
        t->tally.covered = t->tally.wanted - t->tally.fetched - t->tally.gone - t->tally.left;
        t->tally.requests = t->requests;
        ck_replies_summary(&t->tally,
                           t->requests >= t->conf.max_requests ? "request budget" : "deadline",
                           line, sizeof line);
        ck_warn("threads: %s", line);
        finish(t, 0);
        return;
    }
    struct ck_request req = {0};
    struct ck_error err = {0};
    int rc = t->conf.ops->context_request(t->conf.base_url, t->conf.token, r->id, &req, &err);
    if (rc == 0)
        rc = ck_http_send(t->http, &req, on_response, t, &err);
    ck_request_finish(&req);
    if (rc < 0) {
        ck_warn("threads: %s", err.msg);
        schedule(t, ck_time_now_ms() + ck_backoff_next(&t->backoff));
        return;
    }
    t->inflight = 1;
    t->requests++;
}

static void maybe_free(struct ck_replies *t)
{
    if (!t->closing || t->inflight || !t->timer_closed)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->roots[i].id);
    free(t->roots);
    ck_strset_finish(&t->covered);
    free(t);
}

static void on_response(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_replies *t = arg;
    t->inflight = 0;
    if (t->closing) {
        maybe_free(t);
        return;
    }
    if (status == CK_ECANCELED || t->done)
        return;
    int64_t now = ck_time_now_ms();
    if (status == 0 && t->conf.rl != NULL && t->conf.ops->ratelimit_update != NULL)
        t->conf.ops->ratelimit_update(t->conf.rl, resp, now);
    else if (status == 0 && t->conf.rl != NULL)
        ck_ratelimit_update(t->conf.rl, resp, now);
    struct root *r = &t->roots[t->next];
    if (status == 0 && (resp->status == 404 || resp->status == 410)) {
        ck_info("threads: status %s is gone; skipping its thread", r->id);
        t->tally.gone++;
        t->next++;
        schedule(t, now);
        return;
    }
    struct ck_page page = {0};
    struct ck_error err = {0};
    if (status != 0 || resp->status == 429 || t->conf.ops->parse_context(resp, &page, &err) < 0) {
        ck_warn("threads: %s: %s %s", r->id,
                status                ? ck_strerror(status)
                : resp->status == 429 ? "rate limited"
                                      : err.msg,
                errmsg ? errmsg : "");
        schedule(t, now + (status == 0 && resp->status == 429 ? 0 : ck_backoff_next(&t->backoff)));
        return;
    }
    if (page.repairs > 0 || page.skipped > 0)
        ck_warn("threads: %s: %zu byte(s) repaired, %zu item(s) skipped%s%s", r->id, page.repairs,
                page.skipped, page.skip_why[0] ? ": " : "", page.skip_why);
    /* Keep the replies made in the window; all of them mark their subtree covered. */
    json_t *keep = json_array();
    unsigned char *rep = NULL;
    if (page.repaired != NULL)
        rep = calloc(json_array_size(page.items) + 1, 1);
    size_t i;
    json_t *it;
    json_array_foreach(page.items, i, it)
    {
        const char *id = t->conf.ops->item_id(it);
        int64_t ms = t->conf.ops->item_time(it);
        if (id != NULL)
            ck_strset_add(&t->covered, id);
        if (ms >= t->conf.window_start_ms && ms <= t->conf.window_end_ms) {
            if (rep != NULL)
                rep[json_array_size(keep)] = page.repaired[i];
            json_array_append(keep, it);
        }
    }
    /* Out of memory for the flags loses only the note (the warning above stays). */
    int rc = json_array_size(keep) ? t->conf.journal_new(t->conf.arg, keep, rep) : 0;
    free(rep);
    json_decref(keep);
    ck_page_finish(&page);
    if (rc < 0) {
        finish(t, rc);
        return;
    }
    ck_backoff_reset(&t->backoff);
    ck_strset_add(&t->covered, r->id);
    t->tally.fetched++;
    t->next++;
    schedule(t, now);
}

int ck_replies_start(uv_loop_t *loop, struct ck_http *http, const struct ck_replies_conf *conf,
                     ck_replies_done_cb cb, void *cb_arg, struct ck_replies **out,
                     struct ck_error *err)
{
    *out = NULL;
    if (conf->ops->context_request == NULL || conf->ops->parse_context == NULL)
        return ck_error_set(err, CK_EINVAL, "threads: %s cannot fetch threads", conf->ops->name);
    struct ck_replies *t = calloc(1, sizeof *t);
    if (t == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    t->loop = loop;
    t->http = http;
    t->conf = *conf;
    if (t->conf.max_requests == 0)
        t->conf.max_requests = 200;
    if (t->conf.hold_warn_ms <= 0)
        t->conf.hold_warn_ms = 60000;
    t->cb = cb;
    t->cb_arg = cb_arg;
    ck_strset_init(&t->covered);
    ck_backoff_init(&t->backoff, 1000, 30000, (uint64_t)ck_time_now_ms() | 1);
    ck_hset_init(&t->held);
    int rc = ck_journal_read(conf->journal_path, scan_cb, t, NULL, err);
    /* The run sheet's own posts head every thread a chat has: always fetched. */
    for (size_t i = 0; rc == 0 && i < json_array_size(conf->extra_roots); i++) {
        const char *id = json_string_value(json_array_get(conf->extra_roots, i));
        if (id != NULL)
            rc = push_root(t, id, -1, 0x7fffffff);
    }
    if (rc == 0)
        settle_roots(t);
    if (rc == 0)
        rc = uv_timer_init(loop, &t->timer);
    if (rc < 0) {
        t->closing = t->timer_closed = 1;
        ck_hset_finish(&t->held);
        maybe_free(t);
        return ck_error_set(err, rc, "threads: %s", ck_strerror(rc));
    }
    t->timer.data = t;
    size_t wanted = 0;
    for (size_t i = 0; i < t->n; i++)
        wanted += t->roots[i].replies > t->roots[i].known || t->roots[i].replies < 0;
    t->tally.wanted = wanted;
    ck_info("threads: %zu thread(s) may hold replies without the hashtag", wanted);
    schedule(t, ck_time_now_ms());
    *out = t;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct ck_replies *t = h->data;
    t->timer_closed = 1;
    maybe_free(t);
}

void ck_replies_close(struct ck_replies *t)
{
    if (t == NULL)
        return;
    t->done = 1;
    t->closing = 1;
    uv_close((uv_handle_t *)&t->timer, on_closed);
}
