/* The follower's state machine (see follower.h for the rules it keeps).
 *
 * One timer drives it: every request is "scheduled" at the earliest time the
 * rate-limit pacing allows, clamped to the current deadline, and sent when the
 * timer fires. One request is in flight at most. */
#include "chatkeeper/follower.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/backoff.h"
#include "chatkeeper/fresh.h"
#include "chatkeeper/log.h"
#include "chatkeeper/ratelimit.h"
#include "chatkeeper/sse.h"
#include "chatkeeper/state.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/replies.h"
#include "chatkeeper/timeutil.h"

#define RING_MAX 64
/* A page asked for page_limit items that brings more than this many times as
 * many is hostile (or broken): the rest is left for the next page to bring. */
#define PAGE_CAP_FACTOR 5
/* Pacing holds longer than this are always reported; shorter ones (still
 * longer than a poll interval) at most once per this long. */
#define HOLD_ALWAYS_MS 60000

/* Things a hostile or broken server can make happen on every page: each kind
 * is a warning the first time and a debug line after, with a count, so a bad
 * server cannot flood the log (or the terminal) with one line a request. */
enum noise {
    N_BAD_ITEMS,
    N_REPAIRED,
    N_OVERSIZE,
    N_STUCK_POLL,
    N_STUCK_CATCHUP,
    N_STUCK_SWEEP,
    N_RESET_CAPPED,
    N_STREAM_DOWN,
    N_STREAM_BAD,
    N_COUNT
};
static const char *const noise_names[N_COUNT] = {
    "pages with bad items skipped",
    "pages with bytes repaired",
    "oversized pages cut",
    "poll cycles ended on a full page that moved nothing",
    "catch-ups ended on a full page that moved nothing",
    "sweeps ended on a full page that moved nothing",
    "rate-limit waits capped",
    "falls back from the stream to polling",
    "stream events skipped",
};

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
    size_t noise[N_COUNT];
    int64_t hold_warned_ms; /* when pacing last said it held a request back */

    /* The live stream (see follower.h). */
    struct ck_sse_stream sse;
    int sse_closed;         /* its timer's close callback ran */
    int stream_on;          /* streaming is wanted (conf, platform, not yet sweeping) */
    int stream_up;          /* the server accepted it and it has not ended */
    int check_pending;      /* poll as soon as the current cycle ends */
    int64_t stream_retry_ms; /* no new stream before this */
    int64_t stream_open_ms;
    struct ck_backoff stream_backoff;
    size_t stream_deletes;
    /* Where the last timeline check ended (its overlap anchor), and whether
     * the stream journaled anything since: then the next check reads from
     * there, however many statuses the stream brought in between, so a
     * status the stream missed below the ring's overlap is still read. */
    char *check_from;
    int streamed_since_check;
    int rereading; /* this poll re-reads from check_from: full pages of known statuses are fine */
};

static void noisy(struct ck_follower *f, enum noise kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void noisy(struct ck_follower *f, enum noise kind, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (f->noise[kind]++ == 0)
        ck_warn("follower: %s (further ones are counted at the end)", msg);
    else
        ck_debug("follower: %s", msg);
}

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

/* Record an object as journaled, with its author's id when the caller has it
 * (NULL: normalised here). Returns 1 if it is new (or a new version). */
static int remember(struct ck_follower *f, const json_t *obj, const char *author)
{
    char key[CK_FRESH_KEY_MAX];
    const char *id = ck_fresh_key(f->conf.ops, obj, key);
    if (id == NULL || ck_strset_add(&f->seen, key) != 1)
        return 0;
    if (ck_strset_add(&f->ids, id) == 1)
        f->stats.messages++;
    struct ck_message m = {0};
    if (author == NULL && f->conf.ops->normalise(obj, &m, NULL) == 0)
        author = m.author.id;
    if (author != NULL && ck_strset_add(&f->people, author) == 1)
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
    /* Another source's lines are not ours: the same id there may be another post. */
    if (!ck_journal_entry_is_from(entry, f->conf.source_name, f->conf.first_source))
        return 0;
    remember(f, json_object_get(entry, "object"), NULL);
    return 0;
}

static json_t *fstate_json(struct ck_follower *f)
{
    json_t *o = json_object_get(f->state, f->conf.state_key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(f->state, f->conf.state_key, o);
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
    if (f->conf.state_key == NULL)
        f->conf.state_key = "follower";
    if (f->conf.steps_key == NULL)
        f->conf.steps_key = "steps";
    ck_strset_init(&f->seen);
    ck_strset_init(&f->ids);
    ck_strset_init(&f->people);
    ck_ratelimit_init(&f->rl);
    ck_backoff_init(&f->backoff, 1000, 60000, (uint64_t)ck_time_now_ms() | 1);
    if (f->conf.stream_poll_ms <= 0)
        f->conf.stream_poll_ms = 12 * (f->conf.poll_chat_ms > 0 ? f->conf.poll_chat_ms : 5000);
    if (f->conf.stream_idle_ms <= 0)
        f->conf.stream_idle_ms = 45000; /* Mastodon's heartbeat comes every 15 s */
    f->stream_on = f->conf.streaming && conf->ops->stream_request != NULL &&
                   conf->ops->parse_stream_event != NULL;
    /* A refused stream is asked again after 5 s, then less and less often. */
    ck_backoff_init(&f->stream_backoff, 5000, 5 * 60000, (uint64_t)ck_time_now_ms() | 3);
    int rc = ck_journal_read(conf->journal_path, load_cb, f, NULL, err);
    if (rc == 0)
        rc = uv_timer_init(loop, &f->timer);
    if (rc == 0 && ck_sse_init(loop, &f->sse) < 0) {
        f->stream_on = 0; /* cannot happen on a live loop; polling alone still works */
        f->sse_closed = 1;
    }
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

static void stream_stop(struct ck_follower *f);

static void finish(struct ck_follower *f, int status)
{
    stream_stop(f);
    for (int k = 0; k < N_COUNT; k++)
        if (f->noise[k] > 1)
            ck_warn("follower: %zu %s in all (see the first warning)", f->noise[k],
                    noise_names[k]);
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

static int64_t poll_interval(const struct ck_follower *f, int64_t now)
{
    if (f->stream_up)
        return f->conf.stream_poll_ms;
    if (now >= f->conf.chat_start_ms && now < f->conf.chat_end_ms)
        return f->conf.poll_chat_ms;
    return f->conf.poll_quiet_ms;
}

/* Arrange for the next request at the earliest moment the budget allows after
 * want_ms, never past the deadline: at the deadline the timer fires anyway and
 * on_timer moves on (to the sweep, or to done). Pacing that holds a request
 * back longer than a poll interval is said out loud (unless the caller just
 * said so): a session that waits in silence looks dead. */
static void schedule_at_q(struct ck_follower *f, int64_t want_ms, int quiet)
{
    int64_t now = ck_time_now_ms();
    int64_t at = ck_ratelimit_next(&f->rl, want_ms, now);
    int64_t dl = deadline(f);
    if (at > dl)
        at = dl;
    int64_t held = at - (want_ms > now ? want_ms : now);
    if (!quiet && held > poll_interval(f, now)) {
        /* A long hold is always said; short ones (a budget running low, a
         * request every few seconds) once a minute, not once a request. */
        char until[32];
        ck_time_format_rfc3339(at, until);
        if (held >= HOLD_ALWAYS_MS || now - f->hold_warned_ms >= HOLD_ALWAYS_MS) {
            ck_warn("follower: the rate limit holds the next request back %lld s, until %s",
                    (long long)((held + 999) / 1000), until);
            f->hold_warned_ms = now;
        } else {
            ck_debug("follower: the rate limit holds the next request back until %s", until);
        }
    }
    uv_timer_start(&f->timer, on_timer, (uint64_t)(at > now ? at - now : 0), 0);
}

static void schedule_at(struct ck_follower *f, int64_t want_ms)
{
    schedule_at_q(f, want_ms, 0);
}

static int journal_page(struct ck_follower *f, json_t *items, const unsigned char *repaired,
                        size_t *fresh_out);

static int threads_journal(void *arg, json_t *items, const unsigned char *repaired)
{
    return journal_page(arg, items, repaired, NULL);
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
    json_object_foreach(json_object_get(f->state, f->conf.steps_key), label, step)
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
        .source_name = f->conf.source_name,
        .first_source = f->conf.first_source,
        .extra_roots = roots,
        .reply_hints = f->reply_hints,
        .window_start_ms = f->conf.window_start_ms,
        .window_end_ms =
            f->conf.window_end_ms > 0 ? f->conf.window_end_ms : f->conf.follow_until_ms,
        .deadline_ms = f->conf.sweep_until_ms,
        .rl = &f->rl,
        .hold_warn_ms = f->conf.poll_quiet_ms,
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
    stream_stop(f); /* the sweep reads the whole window: the stream adds nothing */
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
    f->rereading = 0;
    if (f->streamed_since_check && f->check_from != NULL &&
        (f->page_min_id == NULL || idcmp(f, f->check_from, f->page_min_id) < 0)) {
        free(f->page_min_id);
        f->page_min_id = strdup(f->check_from);
        f->rereading = 1;
    }
    f->streamed_since_check = 0;
    f->mode = f->page_min_id != NULL ? M_FORWARD : M_BACKWARD;
    free(f->page_max_id);
    f->page_max_id = NULL;
    f->source = "timeline";
}

static void cycle_done(struct ck_follower *f)
{
    int64_t now = ck_time_now_ms();
    if (f->ring_n > 0) {
        size_t back = (size_t)f->conf.overlap;
        free(f->check_from);
        f->check_from = strdup(f->ring[f->ring_n > back ? f->ring_n - 1 - back : 0]);
    }
    if (now >= f->conf.follow_until_ms) {
        start_sweep(f);
        return;
    }
    set_state(f, F_WAIT);
    if (f->check_pending) {
        /* The stream opened or ended while this cycle ran: check once more
         * from here, so nothing between the two is left to the next poll. */
        f->check_pending = 0;
        schedule_at(f, now);
        return;
    }
    schedule_at(f, now + poll_interval(f, now));
}

static void retry_later(struct ck_follower *f, const char *why)
{
    f->stats.errors++;
    /* Kept for the give-up message; cut at a character, never in one. */
    size_t n = strnlen(why, sizeof f->stats.last_error - 1);
    memcpy(f->stats.last_error, why, n);
    f->stats.last_error[n] = '\0';
    ck_utf8_trim_partial(f->stats.last_error);
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

static void maybe_start_stream(struct ck_follower *f);

static void on_timer(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    int64_t now = ck_time_now_ms();
    maybe_start_stream(f);
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

/* Append the kept items whose repaired flag is want, under the source (with
 * "+repaired" for repaired ones: the journal holds what the API showed, and
 * says where a byte of it had to be replaced). */
static int append_some(struct ck_follower *f, json_t *items, const unsigned char *repaired,
                       const struct ck_fresh *fr, int want, size_t *done)
{
    json_t **objs = malloc((fr->n ? fr->n : 1) * sizeof *objs);
    const char **authors = malloc((fr->n ? fr->n : 1) * sizeof *authors);
    if (objs == NULL || authors == NULL) {
        free(objs);
        free(authors);
        return CK_ENOMEM;
    }
    size_t k = 0;
    for (size_t j = 0; j < fr->n; j++) {
        int rep = repaired != NULL && repaired[fr->idx[j]];
        if (rep == want) {
            objs[k] = json_array_get(items, fr->idx[j]);
            authors[k++] = fr->authors[j];
        }
    }
    int rc = 0;
    if (k > 0) {
        char source[48];
        snprintf(source, sizeof source, "%s%s", f->source, want ? "+repaired" : "");
        struct ck_error err = {0};
        rc = ck_journal_append_from(f->journal, f->conf.ops->name, f->conf.source_name, source,
                                    ck_time_now_ms(), objs, k, &err);
        if (rc < 0) {
            ck_err("follower: journal: %s", err.msg);
        } else {
            for (size_t j = 0; j < k; j++)
                remember(f, objs[j], authors[j]);
            f->stats.journaled += k;
            *done += k;
        }
    }
    free(objs);
    free(authors);
    return rc;
}

/* Journal what is new in the page and normalises; 0 when it is all on disk.
 * repaired (may be NULL) flags the items whose bytes were repaired. */
static int journal_page(struct ck_follower *f, json_t *items, const unsigned char *repaired,
                        size_t *fresh_out)
{
    struct ck_fresh fr;
    if (fresh_out != NULL)
        *fresh_out = 0;
    int rc = ck_fresh_select(f->conf.ops, items, &f->seen, &fr);
    if (rc < 0)
        return rc;
    if (fr.bad > 0)
        noisy(f, N_BAD_ITEMS, "%zu status(es) in a %s page do not read as statuses; skipped (%s)",
              fr.bad, f->source, fr.bad_why);
    size_t done = 0;
    rc = append_some(f, items, repaired, &fr, 0, &done);
    if (rc == 0)
        rc = append_some(f, items, repaired, &fr, 1, &done);
    if (done > 0)
        ck_info("follower: %zu new (%s), %zu messages from %zu people", done, f->source,
                f->stats.messages, f->stats.people);
    if (fresh_out != NULL)
        *fresh_out = fr.n + fr.bad;
    ck_fresh_finish(&fr);
    return rc;
}

/* Keep at most cap items of the page: the oldest when paging forward, the
 * newest when paging backward, so that the next page (from the kept ones'
 * newest or oldest id) brings the rest if the server honours the cursor. */
static void cap_page(struct ck_follower *f, struct ck_page *page, size_t cap)
{
    size_t n = json_array_size(page->items);
    if (n <= cap)
        return;
    size_t lo = n - cap, hi = n; /* items in API order: newest first */
    if (f->mode == M_BACKWARD) {
        lo = 0;
        hi = cap;
    }
    json_t *kept = json_array();
    if (kept == NULL)
        return;
    for (size_t i = lo; i < hi; i++) {
        json_array_append(kept, json_array_get(page->items, i));
        if (page->repaired != NULL)
            page->repaired[i - lo] = page->repaired[i];
    }
    json_decref(page->items);
    page->items = kept;
    noisy(f, N_OVERSIZE, "the server sent %zu statuses for a page of %d; kept %zu", n,
          f->conf.page_limit, cap);
}

/* The server stalled a cycle of kind with a full page that moves nothing:
 * end the cycle (the sweep) rather than ask the same again at full speed. */
static void stalled(struct ck_follower *f, enum noise kind, int repeats, const char *param,
                    const char *value)
{
    const char *then = kind == N_STUCK_SWEEP ? "the sweep ends here" : "waiting for the next poll";
    if (repeats)
        noisy(f, kind, "the server repeated statuses to fill a page (%s=%s); %s", param,
              value != NULL ? value : "(none)", then);
    else
        noisy(f, kind, "the server ignored %s=%s (a full page that moves nothing); %s", param,
              value != NULL ? value : "(none)", then);
}

static void handle_page(struct ck_follower *f, struct ck_page *page)
{
    cap_page(f, page, (size_t)f->conf.page_limit * PAGE_CAP_FACTOR);
    size_t n = json_array_size(page->items);
    const char *lo, *hi;
    int64_t oldest_ms;
    page_bounds(f, page->items, &lo, &hi, &oldest_ms);
    if (page->repairs > 0)
        noisy(f, N_REPAIRED, "%zu byte(s) or escape(s) no JSON parser accepts replaced by U+FFFD "
              "in a %s page (journaled with source \"%s+repaired\")",
              page->repairs, f->source, f->source);
    if (page->skipped > 0)
        noisy(f, N_BAD_ITEMS, "%zu item(s) of a %s page skipped: %s", page->skipped, f->source,
              page->skip_why);
    size_t fresh = 0;
    if (journal_page(f, page->items, page->repaired, &fresh) < 0) {
        retry_later(f, "could not write the journal");
        return;
    }
    f->stats.pages++;
    ck_backoff_reset(&f->backoff);
    /* Full counts distinct ids: a page of one status forty times is not full. */
    struct ck_strset distinct;
    ck_strset_init(&distinct);
    for (size_t i = 0; i < n; i++)
        ck_strset_add(&distinct, f->conf.ops->item_id(json_array_get(page->items, i)));
    int full = distinct.n >= (size_t)f->conf.page_limit;
    int repeats = n >= (size_t)f->conf.page_limit && !full;
    ck_strset_finish(&distinct);

    if (f->mode == M_FORWARD) {
        /* The journal is on disk: now the cursor may move. */
        if (n > 0)
            save_state(f);
        /* A server that ignores min_id hands back the same page for ever. */
        /* (A check re-reading what the stream brought, or racing it, may
         * see full pages of known statuses; the cursor still has to move.) */
        int known_ok = f->rereading || f->stream_up;
        if (repeats || (full && ((fresh == 0 && !known_ok) || f->page_min_id == NULL ||
                                 idcmp(f, hi, f->page_min_id) <= 0))) {
            stalled(f, N_STUCK_POLL, repeats, "min_id", f->page_min_id);
            cycle_done(f);
        } else if (full) {
            free(f->page_min_id);
            f->page_min_id = strdup(hi);
            schedule_at(f, ck_time_now_ms());
        } else {
            cycle_done(f);
        }
        return;
    }

    /* Backward: catch-up, a poll without an anchor, or the sweep. */
    int reached = oldest_ms >= f->conf.window_start_ms;
    int more = full && reached;
    /* A server that ignores max_id hands back the same page for ever. */
    int stuck = reached && (repeats || (full && ((f->page_max_id != NULL &&
                                                  idcmp(f, lo, f->page_max_id) >= 0) ||
                                                 (f->st == F_CATCHUP && fresh == 0))));
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
        if (stuck) {
            stalled(f, N_STUCK_SWEEP, repeats, "max_id", f->page_max_id);
            more = 0;
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
        if (stuck) {
            stalled(f, f->st == F_CATCHUP ? N_STUCK_CATCHUP : N_STUCK_POLL, repeats, "max_id",
                    f->page_max_id);
            more = 0;
        }
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
    if (f->rl.capped_from_ms != 0) {
        char asked[32];
        ck_time_format_rfc3339(f->rl.capped_from_ms, asked);
        noisy(f, N_RESET_CAPPED,
              "the server's rate-limit headers ask to wait until %s; waiting %d minutes at most",
              asked, (int)(CK_RATELIMIT_MAX_WAIT_MS / 60000));
    }
    if (resp->status == 429) {
        f->stats.rate_limited++;
        char until[32];
        ck_time_format_rfc3339(f->rl.blocked_until_ms, until);
        ck_warn("follower: rate limited (429); next request at %s", until);
        schedule_at_q(f, ck_time_now_ms(), 1);
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

/* ---- the live stream ---- */

/* Poll the timeline as soon as possible: now if the follower is waiting,
 * else when the current cycle ends (one request in flight at most). */
static void request_check(struct ck_follower *f)
{
    if (f->st == F_WAIT) {
        f->check_pending = 0;
        schedule_at_q(f, ck_time_now_ms(), 1);
    } else if (f->st == F_POLL || f->st == F_CATCHUP) {
        f->check_pending = 1;
    }
}

static void stream_open(struct ck_sse_stream *s, long http_status, void *arg)
{
    struct ck_follower *f = arg;
    (void)s;
    (void)http_status;
    if (!f->stream_on)
        return;
    f->stream_up = 1;
    f->stream_open_ms = ck_time_now_ms();
    f->stats.stream_connects++;
    if (f->stats.stream_connects == 1)
        ck_info("follower: following the live stream of #%s; checking the timeline every %lld s",
                f->conf.hashtag, (long long)(f->conf.stream_poll_ms / 1000));
    else if (f->noise[N_STREAM_DOWN] <= 1) /* said as loudly as the fallback was */
        ck_info("follower: the live stream is back; checking the timeline for what it missed");
    else
        ck_debug("follower: the live stream is back (%zu times in all)",
                 f->stats.stream_connects - 1);
    request_check(f);
}

/* Journal one streamed status at once (journal_page fsyncs before it returns). */
static void journal_streamed(struct ck_follower *f, json_t *item, int repaired)
{
    json_t *items = json_array();
    if (items == NULL || json_array_append(items, item) != 0) {
        json_decref(items);
        request_check(f); /* out of memory: the next poll brings it */
        return;
    }
    unsigned char rep = 1;
    const char *was = f->source;
    f->source = "stream";
    size_t before = f->stats.journaled;
    int rc = journal_page(f, items, repaired ? &rep : NULL, NULL);
    f->stats.streamed += f->stats.journaled - before;
    if (f->stats.journaled > before)
        f->streamed_since_check = 1;
    f->source = was;
    json_decref(items);
    if (rc < 0) {
        /* Nothing moved: the timeline check reads it again from the cursor. */
        ck_err("follower: a streamed status could not be journaled; the timeline check will");
        request_check(f);
    }
}

static int stream_event(struct ck_sse_stream *s, const struct ck_sse_event *ev, void *arg)
{
    struct ck_follower *f = arg;
    (void)s;
    if (!f->stream_on || f->st == F_STOPPED || f->st == F_DONE)
        return 0;
    struct ck_stream_item it;
    struct ck_error err = {0};
    if (f->conf.ops->parse_stream_event(ev->event, ev->data, ev->data_len, &it, &err) < 0) {
        /* Never trusted, never fatal: the timeline shows the status again. */
        noisy(f, N_STREAM_BAD, "a \"%.40s\" stream event skipped: %s", ev->event, err.msg);
        return 0;
    }
    if (it.kind == CK_STREAM_UPDATE || it.kind == CK_STREAM_EDIT) {
        journal_streamed(f, it.item, it.repaired);
    } else if (it.kind == CK_STREAM_DELETE) {
        /* The journal keeps what the API showed; a deletion removes nothing. */
        f->stream_deletes++;
        ck_debug("follower: status %s deleted (kept in the journal)", it.id);
    }
    ck_stream_item_finish(&it);
    return 0;
}

static void stream_close(struct ck_sse_stream *s, int status, long http_status, const char *why,
                         void *arg)
{
    struct ck_follower *f = arg;
    (void)s;
    int was_up = f->stream_up;
    f->stream_up = 0;
    /* Cancelled: by stream_stop, or by the http client closing at shutdown. */
    if (status == CK_ECANCELED || !f->stream_on || f->closing || f->st == F_STOPPED ||
        f->st == F_DONE)
        return;
    int64_t now = ck_time_now_ms();
    /* A stream that lived a while earns a quick retry; one that keeps
     * failing is asked less and less often. */
    if (was_up && now - f->stream_open_ms > 60000)
        ck_backoff_reset(&f->stream_backoff);
    int64_t delay = ck_backoff_next(&f->stream_backoff);
    f->stream_retry_ms = now + delay;
    f->stats.stream_drops++;
    int refused = status == 0 && (http_status < 200 || http_status > 299);
    noisy(f, N_STREAM_DOWN, "%s (%s); polling every %lld s instead, and trying the stream again "
          "from time to time", refused ? "the server refused the live stream" : "the live stream ended",
          why, (long long)(poll_interval(f, now) / 1000));
    ck_debug("follower: next stream attempt in %lld ms", (long long)delay);
    if (was_up)
        request_check(f); /* what the stream did not bring since its last event */
}

static const struct ck_sse_handlers stream_handlers = {
    .on_open = stream_open,
    .on_event = stream_event,
    .on_close = stream_close,
};

static void maybe_start_stream(struct ck_follower *f)
{
    if (!f->stream_on || f->closing || ck_sse_active(&f->sse))
        return;
    if (f->st == F_SWEEP || f->st == F_THREADS || f->st == F_DONE || f->st == F_STOPPED)
        return;
    int64_t now = ck_time_now_ms();
    if (now < f->stream_retry_ms || now >= f->conf.follow_until_ms)
        return;
    struct ck_request req = {0};
    struct ck_error err = {0};
    int rc = f->conf.ops->stream_request(f->conf.base_url, f->conf.token, f->conf.hashtag, &req,
                                         &err);
    if (rc == 0)
        rc = ck_sse_start(&f->sse, f->http, &req, f->conf.stream_idle_ms, 0, &stream_handlers, f,
                          &err);
    ck_request_finish(&req);
    if (rc < 0) {
        f->stream_retry_ms = now + ck_backoff_next(&f->stream_backoff);
        noisy(f, N_STREAM_DOWN, "cannot start the live stream (%s); polling instead", err.msg);
        return;
    }
    f->stats.requests++;
}

/* No more streaming for this follower (the sweep, done, stopped). */
static void stream_stop(struct ck_follower *f)
{
    f->stream_on = 0;
    f->stream_up = 0;
    if (!f->sse_closed)
        ck_sse_cancel(&f->sse);
}

int ck_follower_streaming(const struct ck_follower *f)
{
    return f->stream_up;
}

static void on_start_timer(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    int64_t now = ck_time_now_ms();
    if (now >= f->conf.follow_until_ms) {
        start_sweep(f);
        return;
    }
    maybe_start_stream(f);
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
    stream_stop(f);
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
    if (f->inflight || !f->timer_closed || !f->sse_closed)
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
    free(f->check_from);
    json_decref(f->reply_hints);
    free(f);
    if (cb != NULL)
        cb(arg);
}

static void on_sse_closed(struct ck_sse_stream *s)
{
    struct ck_follower *f = (struct ck_follower *)((char *)s - offsetof(struct ck_follower, sse));
    f->sse_closed = 1;
    maybe_free(f);
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
    if (!f->sse_closed)
        ck_sse_close(&f->sse, on_sse_closed);
}
