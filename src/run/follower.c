/* The follower's state machine (see follower.h for the rules it keeps).
 *
 * One timer drives it: every request is "scheduled" at the earliest time the
 * rate-limit pacing allows, clamped to the current deadline, and sent when the
 * timer fires. One request is in flight at most. */
#include "chatkeeper/follower.h"

#include <stdlib.h>
#include <string.h>

#include "chatkeeper/backoff.h"
#include "chatkeeper/log.h"
#include "chatkeeper/ratelimit.h"
#include "chatkeeper/state.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/threads.h"
#include "chatkeeper/timeutil.h"

#define RING_MAX 64

enum fstate { F_IDLE, F_CATCHUP, F_WAIT, F_POLL, F_SWEEP, F_THREADS, F_DONE, F_STOPPED };
static const char *const fstate_names[] = {"idle",     "catch-up", "waiting", "polling",
                                           "sweeping", "threads",  "done",    "stopped"};

/* What the next request asks for. */
enum mode { M_FORWARD, M_BACKWARD };

struct ck_follower {
    uv_loop_t *loop;
    struct ck_http *http;
    struct ck_journal *journal;
    json_t *state;
    struct ck_follower_conf conf;
    uv_timer_t timer;
    enum fstate st;
    ck_follower_done_cb done_cb;
    void *done_arg;
    void (*closed_cb)(void *);
    void *closed_arg;
    int inflight, closing, timer_closed;

    struct ck_strset seen;   /* "id\nversion": what is journaled */
    struct ck_strset ids;    /* distinct ids */
    struct ck_strset people; /* distinct author ids */
    char *ring[RING_MAX];    /* newest ids seen, ascending by id_cmp */
    size_t ring_n;

    /* The request being worked on. */
    enum mode mode;
    char *page_min_id;  /* forward: min_id of the next page (NULL: newest page) */
    char *page_max_id;  /* backward: max_id of the next page (NULL: newest page) */
    const char *source; /* journal source of the pages being fetched */

    struct ck_threads *threads; /* while fetching threads */
    json_t *reply_hints; /* [id, replies_count] seen by the sweep: fresher than the journal's */
    struct ck_ratelimit rl;
    struct ck_backoff backoff;
    struct ck_follower_stats stats;
};

static void set_state(struct ck_follower *f, enum fstate s)
{
    if (f->st != s)
        ck_debug("follower: %s -> %s", fstate_names[f->st], fstate_names[s]);
    f->st = s;
}

static int idcmp(const struct ck_follower *f, const char *a, const char *b)
{
    return f->conf.ops->id_cmp(a, b);
}

/* Keep the RING_MAX newest ids in ascending order. */
static void ring_add(struct ck_follower *f, const char *id)
{
    size_t i = f->ring_n;
    while (i > 0 && idcmp(f, f->ring[i - 1], id) > 0)
        i--;
    if (i > 0 && idcmp(f, f->ring[i - 1], id) == 0)
        return;
    if (f->ring_n == RING_MAX) {
        if (i == 0)
            return; /* older than everything we keep */
        free(f->ring[0]);
        memmove(f->ring, f->ring + 1, (RING_MAX - 1) * sizeof f->ring[0]);
        f->ring_n--;
        i--;
    }
    char *copy = strdup(id);
    if (copy == NULL)
        return; /* the ring only tunes the overlap; losing an entry is harmless */
    memmove(f->ring + i + 1, f->ring + i, (f->ring_n - i) * sizeof f->ring[0]);
    f->ring[i] = copy;
    f->ring_n++;
}

static const char *cursor(const struct ck_follower *f)
{
    return f->ring_n ? f->ring[f->ring_n - 1] : NULL;
}

#define SEEN_KEY_MAX 512

/* The dedupe key "id\nversion" of obj in key; returns the id, or NULL for an
 * object without one or with an absurdly long one (never trusted, never kept). */
static const char *seen_key(const struct ck_follower *f, const json_t *obj, char key[SEEN_KEY_MAX])
{
    const char *id = f->conf.ops->item_id(obj);
    const char *ver = f->conf.ops->item_version(obj);
    if (id == NULL)
        return NULL;
    size_t il = strlen(id), vl = ver ? strlen(ver) : 0;
    if (il + vl + 2 > SEEN_KEY_MAX)
        return NULL;
    memcpy(key, id, il);
    key[il] = '\n';
    memcpy(key + il + 1, ver ? ver : "", vl);
    key[il + 1 + vl] = '\0';
    return id;
}

/* Record an object as journaled. Returns 1 if it is new (or a new version). */
static int remember(struct ck_follower *f, const json_t *obj)
{
    char key[SEEN_KEY_MAX];
    const char *id = seen_key(f, obj, key);
    if (id == NULL || ck_strset_add(&f->seen, key) != 1)
        return 0;
    if (ck_strset_add(&f->ids, id) == 1)
        f->stats.messages++;
    struct ck_message m = {0};
    if (f->conf.ops->normalise(obj, &m, NULL) == 0 && m.author.id != NULL &&
        ck_strset_add(&f->people, m.author.id) == 1)
        f->stats.people++;
    ck_message_finish(&m);
    ring_add(f, id);
    return 1;
}

static int load_cb(size_t lineno, const json_t *entry, void *arg)
{
    struct ck_follower *f = arg;
    (void)lineno;
    const char *plat = json_string_value(json_object_get(entry, "platform"));
    if (plat != NULL && strcmp(plat, f->conf.ops->name) != 0)
        return 0;
    remember(f, json_object_get(entry, "object"));
    return 0;
}

static json_t *fstate_json(struct ck_follower *f)
{
    json_t *o = json_object_get(f->state, "follower");
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(f->state, "follower", o);
    }
    return o;
}

static int save_state(struct ck_follower *f)
{
    json_t *o = fstate_json(f);
    const char *c = cursor(f);
    json_object_set_new(o, "cursor", c ? json_string(c) : json_null());
    json_object_set_new(o, "requests", json_integer((json_int_t)f->stats.requests));
    json_object_set_new(o, "messages", json_integer((json_int_t)f->stats.messages));
    json_object_set_new(o, "people", json_integer((json_int_t)f->stats.people));
    struct ck_error err = {0};
    int rc = ck_state_save(f->conf.state_path, f->state, &err);
    if (rc < 0)
        ck_err("follower: cannot save state: %s", err.msg);
    return rc;
}

int ck_follower_create(uv_loop_t *loop, struct ck_http *http, struct ck_journal *journal,
                       json_t *state, const struct ck_follower_conf *conf, struct ck_follower **out,
                       struct ck_error *err)
{
    *out = NULL;
    struct ck_follower *f = calloc(1, sizeof *f);
    if (f == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    f->loop = loop;
    f->http = http;
    f->journal = journal;
    f->state = state;
    f->conf = *conf;
    if (f->conf.overlap <= 0)
        f->conf.overlap = 20;
    if (f->conf.overlap > RING_MAX - 1)
        f->conf.overlap = RING_MAX - 1;
    if (f->conf.page_limit <= 0 || f->conf.page_limit > 40)
        f->conf.page_limit = 40;
    ck_strset_init(&f->seen);
    ck_strset_init(&f->ids);
    ck_strset_init(&f->people);
    ck_ratelimit_init(&f->rl);
    ck_backoff_init(&f->backoff, 1000, 60000, (uint64_t)ck_time_now_ms() | 1);
    int rc = ck_journal_read(conf->journal_path, load_cb, f, NULL, err);
    if (rc == 0)
        rc = uv_timer_init(loop, &f->timer);
    if (rc < 0) {
        ck_error_set(err, rc, "follower: %s", ck_strerror(rc));
        ck_strset_finish(&f->seen);
        ck_strset_finish(&f->ids);
        ck_strset_finish(&f->people);
        for (size_t i = 0; i < f->ring_n; i++)
            free(f->ring[i]);
        free(f);
        return rc;
    }
    f->timer.data = f;
    if (f->stats.messages)
        ck_info("follower: %zu messages from %zu people already in the journal", f->stats.messages,
                f->stats.people);
    *out = f;
    return 0;
}

static void finish(struct ck_follower *f, int status)
{
    if (f->threads != NULL) {
        ck_threads_close(f->threads);
        f->threads = NULL;
    }
    set_state(f, status == 0 ? F_DONE : F_STOPPED);
    uv_timer_stop(&f->timer);
    if (f->done_cb != NULL)
        f->done_cb(f, status, f->done_arg);
}

static int64_t deadline(const struct ck_follower *f)
{
    return f->st == F_SWEEP ? f->conf.sweep_until_ms : f->conf.follow_until_ms;
}

static void on_timer(uv_timer_t *t);

/* Arrange for the next request at the earliest moment the budget allows after
 * want_ms, never past the deadline: at the deadline the timer fires anyway and
 * on_timer moves on (to the sweep, or to done). */
static void schedule_at(struct ck_follower *f, int64_t want_ms)
{
    int64_t now = ck_time_now_ms();
    int64_t at = ck_ratelimit_next(&f->rl, want_ms, now);
    int64_t dl = deadline(f);
    if (at > dl)
        at = dl;
    uv_timer_start(&f->timer, on_timer, (uint64_t)(at > now ? at - now : 0), 0);
}

static int journal_page(struct ck_follower *f, json_t *items);

static int threads_journal(void *arg, json_t *items)
{
    return journal_page(arg, items);
}

static void on_threads_done(int status, size_t requests, void *arg)
{
    struct ck_follower *f = arg;
    f->stats.requests += requests;
    if (status == 0) {
        json_object_set_new(fstate_json(f), "threads_done", json_true());
        save_state(f);
    }
    finish(f, status);
}

/* After the sweep: the threads under question posts and answers with replies. */
static void start_threads(struct ck_follower *f)
{
    json_t *o = fstate_json(f);
    if (json_is_true(json_object_get(o, "threads_done")) || f->conf.ops->context_request == NULL) {
        finish(f, 0);
        return;
    }
    set_state(f, F_THREADS);
    f->source = "context";
    json_t *roots = json_array();
    const char *label;
    json_t *step;
    json_object_foreach(json_object_get(f->state, "steps"), label, step)
    {
        json_t *id = json_object_get(step, "id");
        if (json_is_string(id))
            json_array_append(roots, id);
    }
    struct ck_threads_conf tc = {
        .ops = f->conf.ops,
        .base_url = f->conf.base_url,
        .token = f->conf.token,
        .journal_path = f->conf.journal_path,
        .extra_roots = roots,
        .reply_hints = f->reply_hints,
        .window_start_ms = f->conf.window_start_ms,
        .window_end_ms =
            f->conf.window_end_ms > 0 ? f->conf.window_end_ms : f->conf.follow_until_ms,
        .deadline_ms = f->conf.sweep_until_ms,
        .rl = &f->rl,
        .journal_new = threads_journal,
        .arg = f,
    };
    struct ck_error err = {0};
    int rc = ck_threads_start(f->loop, f->http, &tc, on_threads_done, f, &f->threads, &err);
    json_decref(roots);
    if (rc < 0) {
        ck_warn("follower: cannot fetch threads: %s", err.msg);
        finish(f, 0);
    }
}

static void start_sweep(struct ck_follower *f)
{
    json_t *o = fstate_json(f);
    if (json_is_true(json_object_get(o, "sweep_done"))) {
        start_threads(f);
        return;
    }
    set_state(f, F_SWEEP);
    f->mode = M_BACKWARD;
    f->source = "sweep";
    free(f->page_max_id);
    const char *resume = json_string_value(json_object_get(o, "sweep_max_id"));
    f->page_max_id = resume ? strdup(resume) : NULL;
    ck_info("follower: sweeping the session window backwards%s", resume ? " (resuming)" : "");
    schedule_at(f, ck_time_now_ms());
}

/* Begin one poll cycle: forward from an anchor `overlap` statuses behind the cursor. */
static void start_poll(struct ck_follower *f)
{
    set_state(f, F_POLL);
    free(f->page_min_id);
    f->page_min_id = NULL;
    if (f->ring_n > 0) {
        size_t back = (size_t)f->conf.overlap;
        size_t i = f->ring_n > back ? f->ring_n - 1 - back : 0;
        f->page_min_id = strdup(f->ring[i]);
    }
    f->mode = f->page_min_id != NULL ? M_FORWARD : M_BACKWARD;
    free(f->page_max_id);
    f->page_max_id = NULL;
    f->source = "timeline";
}

static int64_t poll_interval(const struct ck_follower *f, int64_t now)
{
    if (now >= f->conf.chat_start_ms && now < f->conf.chat_end_ms)
        return f->conf.poll_chat_ms;
    return f->conf.poll_quiet_ms;
}

static void cycle_done(struct ck_follower *f)
{
    int64_t now = ck_time_now_ms();
    if (now >= f->conf.follow_until_ms) {
        start_sweep(f);
        return;
    }
    set_state(f, F_WAIT);
    schedule_at(f, now + poll_interval(f, now));
}

static void retry_later(struct ck_follower *f, const char *why)
{
    f->stats.errors++;
    int64_t delay = ck_backoff_next(&f->backoff);
    ck_warn("follower: %s; retrying in %lld ms", why, (long long)delay);
    schedule_at(f, ck_time_now_ms() + delay);
}

static void on_response(int status, const struct ck_response *resp, const char *errmsg, void *arg);

static void send_request(struct ck_follower *f)
{
    struct ck_timeline_query q = {.limit = f->conf.page_limit};
    if (f->mode == M_FORWARD)
        q.min_id = f->page_min_id;
    else
        q.max_id = f->page_max_id;
    struct ck_request req = {0};
    struct ck_error err = {0};
    int rc = f->conf.ops->timeline_request(f->conf.base_url, f->conf.token, f->conf.hashtag, &q,
                                           &req, &err);
    if (rc == 0)
        rc = ck_http_send(f->http, &req, on_response, f, &err);
    ck_request_finish(&req);
    if (rc < 0) {
        retry_later(f, err.msg[0] ? err.msg : ck_strerror(rc));
        return;
    }
    f->inflight = 1;
    f->stats.requests++;
}

static void on_timer(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    int64_t now = ck_time_now_ms();
    if (f->st == F_SWEEP && now >= f->conf.sweep_until_ms) {
        ck_warn("follower: the sweep ran out of time; statuses below %s were not re-checked",
                f->page_max_id ? f->page_max_id : "the newest");
        finish(f, 0);
        return;
    }
    if (f->st != F_SWEEP && now >= f->conf.follow_until_ms) {
        start_sweep(f);
        return;
    }
    if (f->st == F_WAIT)
        start_poll(f);
    send_request(f);
}

/* The oldest and newest ids in a page, and the oldest created_at. */
static void page_bounds(struct ck_follower *f, json_t *items, const char **lo, const char **hi,
                        int64_t *oldest_ms)
{
    *lo = *hi = NULL;
    *oldest_ms = INT64_MAX;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *id = f->conf.ops->item_id(it);
        if (*lo == NULL || idcmp(f, id, *lo) < 0)
            *lo = id;
        if (*hi == NULL || idcmp(f, id, *hi) > 0)
            *hi = id;
        int64_t ms = f->conf.ops->item_time(it);
        if (ms != INT64_MIN && ms < *oldest_ms)
            *oldest_ms = ms;
    }
}

/* Journal what is new in the page; 0 when it is all on disk. */
static int journal_page(struct ck_follower *f, json_t *items)
{
    size_t n = json_array_size(items), k = 0;
    json_t **fresh = calloc(n ? n : 1, sizeof *fresh);
    if (fresh == NULL)
        return CK_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        char key[SEEN_KEY_MAX];
        const char *id = seen_key(f, it, key);
        if (id == NULL)
            continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++)
            dup = fresh[j] != NULL && strcmp(f->conf.ops->item_id(fresh[j]), id) == 0;
        if (!dup && !ck_strset_has(&f->seen, key))
            fresh[k++] = it;
    }
    int rc = 0;
    if (k > 0) {
        struct ck_error err = {0};
        rc = ck_journal_append(f->journal, f->conf.ops->name, f->source, ck_time_now_ms(), fresh, k,
                               &err);
        if (rc < 0) {
            ck_err("follower: journal: %s", err.msg);
        } else {
            for (size_t j = 0; j < k; j++)
                remember(f, fresh[j]);
            f->stats.journaled += k;
            ck_info("follower: %zu new (%s), %zu messages from %zu people", k, f->source,
                    f->stats.messages, f->stats.people);
        }
    }
    free(fresh);
    return rc;
}

static void handle_page(struct ck_follower *f, struct ck_page *page)
{
    size_t n = json_array_size(page->items);
    const char *lo, *hi;
    int64_t oldest_ms;
    page_bounds(f, page->items, &lo, &hi, &oldest_ms);
    if (journal_page(f, page->items) < 0) {
        retry_later(f, "could not write the journal");
        return;
    }
    f->stats.pages++;
    ck_backoff_reset(&f->backoff);
    int full = n >= (size_t)f->conf.page_limit;

    if (f->mode == M_FORWARD) {
        /* The journal is on disk: now the cursor may move. */
        if (n > 0)
            save_state(f);
        if (full) {
            free(f->page_min_id);
            f->page_min_id = strdup(hi);
            schedule_at(f, ck_time_now_ms());
        } else {
            cycle_done(f);
        }
        return;
    }

    /* Backward: catch-up, a poll without an anchor, or the sweep. */
    int more = full && oldest_ms >= f->conf.window_start_ms;
    if (f->st == F_SWEEP) {
        /* A status journaled early carries the reply count of that moment; the
         * sweep sees the final counts, which decide whose threads to fetch. */
        size_t i;
        json_t *it;
        json_array_foreach(page->items, i, it)
        {
            struct ck_message m = {0};
            if (f->conf.ops->normalise(it, &m, NULL) == 0 && m.replies > 0) {
                if (f->reply_hints == NULL)
                    f->reply_hints = json_array();
                json_array_append_new(f->reply_hints,
                                      json_pack("[sI]", m.id, (json_int_t)m.replies));
            }
            ck_message_finish(&m);
        }
        json_t *o = fstate_json(f);
        if (more)
            json_object_set_new(o, "sweep_max_id", json_string(lo));
        else
            json_object_set_new(o, "sweep_done", json_true());
        save_state(f);
        if (!more) {
            ck_info("follower: sweep complete");
            start_threads(f);
            return;
        }
    } else {
        if (n > 0)
            save_state(f);
        /* Catch-up ends when it reaches what we already have or the window's start. */
        if (more) {
            int overlap = 0;
            size_t i;
            json_t *it;
            json_array_foreach(page->items, i, it)
            {
                if (ck_strset_has(&f->ids, f->conf.ops->item_id(it)) && f->st == F_POLL)
                    overlap = 1;
            }
            more = !overlap;
        }
        if (!more) {
            cycle_done(f);
            return;
        }
    }
    free(f->page_max_id);
    f->page_max_id = strdup(lo);
    schedule_at(f, ck_time_now_ms());
}

static void maybe_free(struct ck_follower *f);

static void on_response(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_follower *f = arg;
    f->inflight = 0;
    if (f->closing) {
        maybe_free(f);
        return;
    }
    if (status == CK_ECANCELED || f->st == F_STOPPED || f->st == F_DONE)
        return;
    if (status != 0) {
        char why[300];
        snprintf(why, sizeof why, "request failed: %s%s%s", ck_strerror(status),
                 errmsg && *errmsg ? ": " : "", errmsg ? errmsg : "");
        retry_later(f, why);
        return;
    }
    ck_ratelimit_update(&f->rl, resp, ck_time_now_ms());
    if (resp->status == 429) {
        f->stats.rate_limited++;
        char until[32];
        ck_time_format_rfc3339(f->rl.blocked_until_ms, until);
        ck_warn("follower: rate limited (429); next request at %s", until);
        schedule_at(f, ck_time_now_ms());
        return;
    }
    if (resp->status < 200 || resp->status > 299) {
        char why[64];
        snprintf(why, sizeof why, "HTTP %ld from the server", resp->status);
        retry_later(f, why);
        return;
    }
    struct ck_page page = {0};
    struct ck_error err = {0};
    if (f->conf.ops->parse_timeline(resp, &page, &err) < 0) {
        char why[300];
        snprintf(why, sizeof why, "malformed response skipped: %s", err.msg);
        ck_page_finish(&page);
        retry_later(f, why);
        return;
    }
    handle_page(f, &page);
    ck_page_finish(&page);
}

static void on_start_timer(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    int64_t now = ck_time_now_ms();
    if (now >= f->conf.follow_until_ms) {
        start_sweep(f);
        return;
    }
    if (f->ring_n == 0) {
        /* Nothing yet: read back from the newest status to the window's start. */
        set_state(f, F_CATCHUP);
        f->mode = M_BACKWARD;
        f->source = "timeline";
        send_request(f);
        return;
    }
    start_poll(f);
    send_request(f);
}

int ck_follower_start(struct ck_follower *f, ck_follower_done_cb cb, void *arg)
{
    if (f->st != F_IDLE)
        return CK_EINVAL;
    f->done_cb = cb;
    f->done_arg = arg;
    set_state(f, F_WAIT);
    return uv_timer_start(&f->timer, on_start_timer, 0, 0);
}

void ck_follower_get_stats(const struct ck_follower *f, struct ck_follower_stats *out)
{
    *out = f->stats;
}

const char *ck_follower_state_name(const struct ck_follower *f)
{
    return fstate_names[f->st];
}

void ck_follower_stop(struct ck_follower *f)
{
    if (f->threads != NULL) {
        ck_threads_close(f->threads);
        f->threads = NULL;
    }
    if (f->st != F_DONE)
        set_state(f, F_STOPPED);
    f->done_cb = NULL;
    uv_timer_stop(&f->timer);
}

static void maybe_free(struct ck_follower *f)
{
    if (f->inflight || !f->timer_closed)
        return;
    void (*cb)(void *) = f->closed_cb;
    void *arg = f->closed_arg;
    ck_strset_finish(&f->seen);
    ck_strset_finish(&f->ids);
    ck_strset_finish(&f->people);
    for (size_t i = 0; i < f->ring_n; i++)
        free(f->ring[i]);
    free(f->page_min_id);
    free(f->page_max_id);
    json_decref(f->reply_hints);
    free(f);
    if (cb != NULL)
        cb(arg);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct ck_follower *f = h->data;
    f->timer_closed = 1;
    maybe_free(f);
}

void ck_follower_close(struct ck_follower *f, void (*closed_cb)(void *arg), void *arg)
{
    if (f == NULL)
        return;
    ck_follower_stop(f);
    f->closing = 1;
    f->closed_cb = closed_cb;
    f->closed_arg = arg;
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}
