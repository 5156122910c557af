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
#include "chatkeeper/replies.h"
#include "chatkeeper/timeutil.h"
#include "follower_int.h"

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

static const char *const fstate_names[] = {"idle",     "catch-up", "waiting", "polling",
                                           "sweeping", "threads",  "done",    "stopped"};

void ck_fl_noisy(struct ck_follower *f, enum noise kind, const char *fmt, ...)
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

void ck_fl_set_state(struct ck_follower *f, enum fstate s)
{
    if (f->st != s)
        ck_debug("follower: %s -> %s", fstate_names[f->st], fstate_names[s]);
    f->st = s;
}

int ck_fl_idcmp(const struct ck_follower *f, const char *a, const char *b)
{
    return f->conf.ops->id_cmp(a, b);
}

/* Keep the RING_MAX newest ids in ascending order. */
static void ring_add(struct ck_follower *f, const char *id)
{
    size_t i = f->ring_n;
    while (i > 0 && ck_fl_idcmp(f, f->ring[i - 1], id) > 0)
        i--;
    if (i > 0 && ck_fl_idcmp(f, f->ring[i - 1], id) == 0)
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

const char *ck_fl_cursor(const struct ck_follower *f)
{
    return f->ring_n ? f->ring[f->ring_n - 1] : NULL;
}

/* Record an object as journaled, with its author's id when the caller has it
 * (NULL: normalised here). Returns 1 if it is new (or a new version). */
int ck_fl_remember(struct ck_follower *f, const json_t *obj, const char *author)
{
    char key[CK_FRESH_KEY_MAX];
    const char *id = ck_fresh_key(f->conf.ops, obj, key);
    if (id == NULL || ck_hset_add(&f->seen, key) != 1)
        return 0;
    if (ck_hset_add(&f->ids, id) == 1)
        f->stats.messages++;
    struct ck_message m = {0};
    if (author == NULL && f->conf.ops->normalise(obj, &m, NULL) == 0)
        author = m.author.id;
    if (author != NULL && ck_hset_add(&f->people, author) == 1)
        f->stats.people++;
    ck_message_finish(&m);
    ring_add(f, id);
    int64_t ms = f->conf.ops->item_time(obj);
    if (ms != INT64_MIN && ms > f->newest_ms)
        f->newest_ms = ms;
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
    ck_fl_remember(f, json_object_get(entry, "object"), NULL);
    return 0;
}

json_t *ck_fl_fstate_json(struct ck_follower *f)
{
    json_t *o = json_object_get(f->state, f->conf.state_key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(f->state, f->conf.state_key, o);
    }
    return o;
}

int ck_fl_save_state(struct ck_follower *f)
{
    json_t *o = ck_fl_fstate_json(f);
    const char *c = ck_fl_cursor(f);
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
    int page_max = conf->ops->page_max > 0 ? conf->ops->page_max : 40;
    if (f->conf.page_limit <= 0 || f->conf.page_limit > page_max)
        f->conf.page_limit = page_max;
    if (f->conf.overlap_ms <= 0)
        f->conf.overlap_ms = 10 * 60000;
    f->page_oldest_ms = INT64_MAX;
    if (f->conf.state_key == NULL)
        f->conf.state_key = "follower";
    if (f->conf.steps_key == NULL)
        f->conf.steps_key = "steps";
    ck_hset_init(&f->seen);
    ck_hset_init(&f->ids);
    ck_hset_init(&f->people);
    ck_hset_init(&f->reply_hints);
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
        ck_hset_finish(&f->seen);
        ck_hset_finish(&f->ids);
        ck_hset_finish(&f->people);
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

void ck_fl_finish(struct ck_follower *f, int status)
{
    ck_fl_stream_stop(f);
    for (int k = 0; k < N_COUNT; k++)
        if (f->noise[k] > 1)
            ck_warn("follower: %zu %s in all (see the first warning)", f->noise[k], noise_names[k]);
    if (f->threads != NULL) {
        ck_replies_close(f->threads);
        f->threads = NULL;
    }
    ck_fl_set_state(f, status == 0 ? F_DONE : F_STOPPED);
    uv_timer_stop(&f->timer);
    if (status == 0) {
        /* Done for good (start needs F_IDLE): nothing more is journaled, so
         * what dedupe kept goes now, before the archive is built (the run's
         * peak memory); the counts stay in stats. */
        ck_hset_finish(&f->seen);
        ck_hset_finish(&f->ids);
        ck_hset_finish(&f->people);
        ck_hset_finish(&f->reply_hints);
    }
    if (f->done_cb != NULL)
        f->done_cb(f, status, f->done_arg);
}

static int64_t deadline(const struct ck_follower *f)
{
    return f->st == F_SWEEP ? f->conf.sweep_until_ms : f->conf.follow_until_ms;
}

static void on_timer(uv_timer_t *t);

int64_t ck_fl_poll_interval(const struct ck_follower *f, int64_t now)
{
    if (f->stream_up)
        return f->conf.stream_poll_ms;
    int64_t base = now >= f->conf.chat_start_ms && now < f->conf.chat_end_ms
                       ? f->conf.poll_chat_ms
                       : f->conf.poll_quiet_ms;
    if (!f->conf.adaptive || f->adapt <= 1)
        return base;
    /* Never slower than a minute: a quiet lead must not hold back the chat's first poll. */
    int64_t slow = base * f->adapt;
    return slow < CK_FOLLOW_ADAPT_CAP_MS   ? slow
           : base > CK_FOLLOW_ADAPT_CAP_MS ? base
                                           : CK_FOLLOW_ADAPT_CAP_MS;
}

/* A poll ended: a quiet one (nothing new) doubles the interval's factor, a
 * busy one puts it back to 1 (conf.adaptive). */
static void adapt_pace(struct ck_follower *f)
{
    size_t fresh = f->stats.journaled - f->journaled_at_poll;
    f->journaled_at_poll = f->stats.journaled;
    if (!f->conf.adaptive)
        return;
    if (f->adapt < 1)
        f->adapt = 1;
    if (fresh == 0)
        f->adapt = f->adapt * 2 > CK_FOLLOW_ADAPT_MAX ? CK_FOLLOW_ADAPT_MAX : f->adapt * 2;
    else if (fresh >= CK_FOLLOW_ADAPT_BUSY)
        f->adapt = 1;
    else if (f->adapt > 1)
        f->adapt /= 2;
}

/* Arrange for the next request at the earliest moment the budget allows after
 * want_ms, never past the deadline: at the deadline the timer fires anyway and
 * on_timer moves on (to the sweep, or to done). Pacing that holds a request
 * back longer than a poll interval is said out loud (unless the caller just
 * said so): a session that waits in silence looks dead. */
void ck_fl_schedule_at_q(struct ck_follower *f, int64_t want_ms, int quiet)
{
    int64_t now = ck_time_now_ms();
    int64_t at = ck_ratelimit_next(&f->rl, want_ms, now);
    int64_t dl = deadline(f);
    if (at > dl)
        at = dl;
    int64_t held = at - (want_ms > now ? want_ms : now);
    if (!quiet && held > ck_fl_poll_interval(f, now)) {
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

void ck_fl_schedule_at(struct ck_follower *f, int64_t want_ms)
{
    ck_fl_schedule_at_q(f, want_ms, 0);
}

/* Begin one poll cycle: forward from an anchor `overlap` statuses behind the cursor. */
static void start_poll(struct ck_follower *f)
{
    ck_fl_set_state(f, F_POLL);
    free(f->page_min_id);
    f->page_min_id = NULL;
    if (f->ring_n > 0) {
        size_t back = (size_t)f->conf.overlap;
        size_t i = f->ring_n > back ? f->ring_n - 1 - back : 0;
        f->page_min_id = strdup(f->ring[i]);
    }
    f->rereading = 0;
    if (f->streamed_since_check && f->check_from != NULL &&
        (f->page_min_id == NULL || ck_fl_idcmp(f, f->check_from, f->page_min_id) < 0)) {
        free(f->page_min_id);
        f->page_min_id = strdup(f->check_from);
        f->rereading = 1;
    }
    f->streamed_since_check = 0;
    f->mode = f->page_min_id != NULL ? M_FORWARD : M_BACKWARD;
    free(f->page_max_id);
    f->page_max_id = NULL;
    f->source = "timeline";
    f->page_oldest_ms = INT64_MAX;
    f->poll_known = 0;
    free(f->poll_top);
    f->poll_top = ck_fl_cursor(f) != NULL ? strdup(ck_fl_cursor(f)) : NULL;
    if (f->covered_top == NULL && f->poll_top != NULL)
        f->covered_top = strdup(f->poll_top); /* catch-up (or the journal) read below it */
    if (f->conf.ops->paging == CK_PAGING_CURSOR) {
        /* No forward paging: read down from the newest to a little before
         * the newest item seen (search indexes late and out of order). */
        f->mode = M_BACKWARD;
        f->since_ms = f->ring_n > 0 && f->newest_ms > 0 ? f->newest_ms - f->conf.overlap_ms
                                                        : f->conf.window_start_ms;
        if (f->since_ms < f->conf.window_start_ms)
            f->since_ms = f->conf.window_start_ms;
    }
}

void ck_fl_cycle_done(struct ck_follower *f)
{
    int64_t now = ck_time_now_ms();
    if (f->ring_n > 0) {
        size_t back = (size_t)f->conf.overlap;
        free(f->check_from);
        f->check_from = strdup(f->ring[f->ring_n > back ? f->ring_n - 1 - back : 0]);
    }
    if (now >= f->conf.follow_until_ms) {
        ck_fl_start_sweep(f);
        return;
    }
    ck_fl_set_state(f, F_WAIT);
    adapt_pace(f);
    if (f->check_pending) {
        /* The stream opened or ended while this cycle ran: check once more
         * from here, so nothing between the two is left to the next poll. */
        f->check_pending = 0;
        ck_fl_schedule_at(f, now);
        return;
    }
    ck_fl_schedule_at(f, now + ck_fl_poll_interval(f, now));
}

void ck_fl_retry_later(struct ck_follower *f, const char *why)
{
    f->stats.errors++;
    /* Kept for the give-up message; cut at a character, never in one. */
    size_t n = strnlen(why, sizeof f->stats.last_error - 1);
    memcpy(f->stats.last_error, why, n);
    f->stats.last_error[n] = '\0';
    ck_utf8_trim_partial(f->stats.last_error);
    int64_t delay = ck_backoff_next(&f->backoff);
    ck_warn("follower: %s; retrying in %lld ms", why, (long long)delay);
    ck_fl_schedule_at(f, ck_time_now_ms() + delay);
}

static void on_response(int status, const struct ck_response *resp, const char *errmsg, void *arg);

static void send_request(struct ck_follower *f)
{
    struct ck_timeline_query q = {.limit = f->conf.page_limit, .reposts = f->conf.reposts};
    if (f->mode == M_FORWARD)
        q.after = f->page_min_id;
    else
        q.before = f->page_max_id;
    if (f->conf.ops->paging == CK_PAGING_CURSOR) {
        q.since_ms = f->since_ms > 0 ? f->since_ms : f->conf.window_start_ms;
        if (f->st == F_SWEEP)
            q.until_ms =
                f->conf.window_end_ms > 0 ? f->conf.window_end_ms : f->conf.follow_until_ms;
    }
    struct ck_request req = {0};
    struct ck_error err = {0};
    int rc = f->conf.ops->timeline_request(f->conf.base_url, f->conf.token, f->conf.hashtag, &q,
                                           &req, &err);
    if (rc == 0)
        rc = ck_http_send(f->http, &req, on_response, f, &err);
    ck_request_finish(&req);
    if (rc < 0) {
        ck_fl_retry_later(f, err.msg[0] ? err.msg : ck_strerror(rc));
        return;
    }
    f->inflight = 1;
    f->stats.requests++;
}

static void on_timer_body(uv_timer_t *t);

/* The session's name on every line this callback logs (serve; log.h). */
static void on_timer(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    const char *was = ck_log_tag_swap(ck_http_log_tag(f->http));
    on_timer_body(t);
    ck_log_tag_swap(was);
}

static void on_timer_body(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    int64_t now = ck_time_now_ms();
    ck_fl_maybe_start_stream(f);
    if (f->st == F_SWEEP && now >= f->conf.sweep_until_ms) {
        ck_warn("follower: the sweep ran out of time; statuses below %s were not re-checked",
                f->page_max_id ? f->page_max_id : "the newest");
        ck_fl_finish(f, 0);
        return;
    }
    if (f->st != F_SWEEP && now >= f->conf.follow_until_ms) {
        ck_fl_start_sweep(f);
        return;
    }
    if (f->st == F_WAIT)
        start_poll(f);
    send_request(f);
}

static void on_response(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_follower *f = arg;
    f->inflight = 0;
    if (ck_fl_answer_unwanted(f, status))
        return;
    if (status != 0) {
        char why[300];
        snprintf(why, sizeof why, "request failed: %s%s%s", ck_strerror(status),
                 errmsg && *errmsg ? ": " : "", errmsg ? errmsg : "");
        ck_fl_retry_later(f, why);
        return;
    }
    if (f->conf.ops->ratelimit_update != NULL)
        f->conf.ops->ratelimit_update(&f->rl, resp, ck_time_now_ms());
    else
        ck_ratelimit_update(&f->rl, resp, ck_time_now_ms());
    if (f->conf.ops->token_expired != NULL && f->conf.ops->token_expired(resp) &&
        f->conf.auth_expired != NULL) {
        /* The sign-in layer refreshes the token in place; ask again after. */
        f->conf.auth_expired(f->conf.auth_arg);
        ck_fl_retry_later(f, "the access token ran out; refreshing it");
        return;
    }
    if (f->rl.capped_from_ms != 0) {
        char asked[32];
        ck_time_format_rfc3339(f->rl.capped_from_ms, asked);
        ck_fl_noisy(
            f, N_RESET_CAPPED,
            "the server's rate-limit headers ask to wait until %s; waiting %d minutes at most",
            asked, (int)(CK_RATELIMIT_MAX_WAIT_MS / 60000));
    }
    if (resp->status == 429) {
        f->stats.rate_limited++;
        char until[32];
        ck_time_format_rfc3339(f->rl.blocked_until_ms, until);
        ck_warn("follower: rate limited (429); next request at %s", until);
        ck_fl_schedule_at_q(f, ck_time_now_ms(), 1);
        return;
    }
    if (resp->status < 200 || resp->status > 299) {
        char why[64];
        snprintf(why, sizeof why, "HTTP %ld from the server", resp->status);
        ck_fl_retry_later(f, why);
        return;
    }
    struct ck_page page = {0};
    struct ck_error err = {0};
    if (f->conf.ops->parse_timeline(resp, &page, &err) < 0) {
        char why[300];
        snprintf(why, sizeof why, "malformed response skipped: %s", err.msg);
        ck_page_finish(&page);
        ck_fl_retry_later(f, why);
        return;
    }
    ck_fl_handle_page(f, &page);
    ck_page_finish(&page);
}

static void on_start_timer_body(uv_timer_t *t);

/* The session's name on every line this callback logs (serve; log.h). */
static void on_start_timer(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    const char *was = ck_log_tag_swap(ck_http_log_tag(f->http));
    on_start_timer_body(t);
    ck_log_tag_swap(was);
}

static void on_start_timer_body(uv_timer_t *t)
{
    struct ck_follower *f = t->data;
    int64_t now = ck_time_now_ms();
    if (now >= f->conf.follow_until_ms) {
        ck_fl_start_sweep(f);
        return;
    }
    ck_fl_maybe_start_stream(f);
    if (f->ring_n == 0) {
        /* Nothing yet: read back from the newest status to the window's start. */
        ck_fl_set_state(f, F_CATCHUP);
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
    ck_fl_set_state(f, F_WAIT);
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
