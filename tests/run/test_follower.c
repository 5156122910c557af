/* The follower (src/run/follower.c) against the fake server of
 * fake_mastodon.h on 127.0.0.1, serving a hashtag timeline by its cursors:
 * new posts arriving while it polls, a 429 that holds the next request until
 * Retry-After, a 503 then a retry after the backoff, and a server whose
 * cursors loop (every page the newest) that must not make it storm. Each
 * run is bounded by a watchdog; what it journals is read back and every
 * status must be there exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/follower.h"
#include "chatkeeper/timeutil.h"
#include "fake_mastodon.h"

#define TAG_PATH "/api/v1/timelines/tag/chat"

static char dir[64], journal_path[128], state_path[128];

static int setup(void **state)
{
    if (fake_start(state) != 0 || fake_tmpdir(dir, sizeof dir, "follower") != 0)
        return -1;
    snprintf(journal_path, sizeof journal_path, "%s/journal.jsonl", dir);
    snprintf(state_path, sizeof state_path, "%s/state.json", dir);
    return 0;
}

static int teardown(void **state)
{
    if (fake_rmdir(dir) != 0)
        return -1;
    return fake_stop(state);
}

/* Status number k (id 1170000000000000k, fixed width), created at ms. */
static void add_status(int k, int64_t ms)
{
    char id[24], at[40];
    snprintf(id, sizeof id, "117%016d", k);
    ck_time_format_rfc3339(ms, at);
    json_t *s =
        json_pack("{s:s s:s s:s s:s s:i s:i s:i s:n s:n s:{s:s s:s s:s s:s s:s}}", "id", id,
                  "created_at", at, "content", "<p>#chat hello</p>", "url", "https://x.org/s",
                  "replies_count", 0, "reblogs_count", 0, "favourites_count", 0, "in_reply_to_id",
                  "reblog", "account", "id", "9", "username", "alice", "acct", "alice@x.org",
                  "display_name", "Alice", "url", "https://x.org/@alice");
    char *text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    fake_timeline_add(id, text);
    free(text);
}

struct run {
    uv_loop_t loop;
    struct ck_http *http;
    struct ck_journal *journal;
    struct ck_follower *f;
    json_t *state;
    uv_timer_t watchdog, later;
    int status, done, timed_out;
    int64_t t0;
    struct ck_follower_stats stats;
};

static void closed(uv_handle_t *h)
{
    (void)h;
}

static void follower_closed(void *arg)
{
    struct run *r = arg;
    ck_http_close(r->http, NULL, NULL);
}

static void done(struct ck_follower *f, int status, void *arg)
{
    struct run *r = arg;
    if (r->done)
        return;
    r->done = 1;
    r->status = status;
    ck_follower_get_stats(f, &r->stats);
    uv_close((uv_handle_t *)&r->watchdog, closed);
    uv_close((uv_handle_t *)&r->later, closed);
    ck_follower_close(f, follower_closed, r);
}

static void on_watchdog(uv_timer_t *h)
{
    struct run *r = h->data;
    r->timed_out = 1;
    ck_follower_stop(r->f);
    done(r->f, -1, r);
}

/* New posts while the follower polls. */
static void on_later(uv_timer_t *h)
{
    (void)h;
    pthread_mutex_lock(&fake.mu);
    add_status(4, ck_time_now_ms());
    add_status(5, ck_time_now_ms());
    pthread_mutex_unlock(&fake.mu);
}

static int adaptive; /* the next run()'s conf.adaptive */

/* Follow from t0 - 60 s until t0 + follow_ms, then sweep (until + 20 s at
 * most) and fetch threads; at most 30 s in all. */
static void run_with(struct run *r, int64_t follow_ms, bool new_posts, int overlap)
{
    memset(r, 0, sizeof *r);
    remove(journal_path);
    remove(state_path);
    r->t0 = ck_time_now_ms();
    struct ck_error err = {0};
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(ck_http_create(&r->loop, NULL, &r->http, &err), 0);
    assert_int_equal(ck_journal_open(journal_path, &r->journal, &err), 0);
    r->state = json_object();
    struct ck_follower_conf c = {.ops = ck_platform_find("mastodon"),
                                 .base_url = fake.base,
                                 .token = FAKE_TOKEN,
                                 .hashtag = "chat",
                                 .journal_path = journal_path,
                                 .state_path = state_path,
                                 .window_start_ms = r->t0 - 60000,
                                 .chat_start_ms = r->t0 - 60000,
                                 .chat_end_ms = r->t0 + follow_ms,
                                 .follow_until_ms = r->t0 + follow_ms,
                                 .sweep_until_ms = r->t0 + follow_ms + 20000,
                                 .poll_chat_ms = 200,
                                 .poll_quiet_ms = 200,
                                 .overlap = overlap,
                                 .page_limit = 2,
                                 .adaptive = adaptive};
    assert_int_equal(ck_follower_create(&r->loop, r->http, r->journal, r->state, &c, &r->f, &err),
                     0);
    assert_int_equal(ck_follower_start(r->f, done, r), 0);
    uv_timer_init(&r->loop, &r->watchdog);
    r->watchdog.data = r;
    uv_timer_start(&r->watchdog, on_watchdog, 30000, 0);
    uv_timer_init(&r->loop, &r->later);
    r->later.data = r;
    if (new_posts)
        uv_timer_start(&r->later, on_later, (uint64_t)follow_ms / 2, 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    ck_journal_close(r->journal);
    json_decref(r->state);
    assert_false(r->timed_out);
    assert_int_equal(r->status, 0);
}

static void run(struct run *r, int64_t follow_ms, bool new_posts)
{
    run_with(r, follow_ms, new_posts, 1); /* re-read less than a page (2) */
}

static int count_cb(size_t lineno, const json_t *entry, void *arg)
{
    json_t *ids = arg;
    const char *id = json_string_value(json_object_get(json_object_get(entry, "object"), "id"));
    json_t *n = json_object_get(ids, id ? id : "?");
    json_object_set_new(ids, id ? id : "?", json_integer(json_integer_value(n) + 1));
    return 0;
}

/* Each of statuses 1..n journaled exactly once, and nothing else. */
static void journaled_once(int n)
{
    json_t *ids = json_object();
    struct ck_error err = {0};
    assert_int_equal(ck_journal_read(journal_path, count_cb, ids, NULL, &err), 0);
    assert_int_equal(json_object_size(ids), (size_t)n);
    for (int k = 1; k <= n; k++) {
        char id[24];
        snprintf(id, sizeof id, "117%016d", k);
        json_t *c = json_object_get(ids, id);
        if (json_integer_value(c) != 1)
            fail_msg("status %s journaled %lld times", id, (long long)json_integer_value(c));
    }
    json_decref(ids);
}

/* The first timeline request after request i, or fails. */
static size_t next_tl(size_t i)
{
    for (size_t k = i + 1; k < fake.n_reqs; k++)
        if (strcmp(fake.reqs[k].path, TAG_PATH) == 0)
            return k;
    fail_msg("no timeline request after request %zu", i);
    return 0;
}

static void follows_through_429_and_503(void **state)
{
    (void)state;
    /* Requests 1 and 2 page back through the first three statuses (two a
     * page), then a 429, then a 503. */
    static const enum fake_tl_fault faults[] = {TL_OK, TL_OK, TL_429, TL_503};
    fake_timeline(TAG_PATH, faults, 4, false);
    fake_script(NULL, 0);
    int64_t now = ck_time_now_ms();
    for (int k = 1; k <= 3; k++)
        add_status(k, now - 30000 + k * 1000);
    struct run r;
    run(&r, 3000, true);
    journaled_once(5);
    assert_true(r.stats.rate_limited >= 1);
    assert_true(r.stats.errors >= 1);
    pthread_mutex_lock(&fake.mu);
    size_t i429 = SIZE_MAX, i503 = SIZE_MAX;
    for (size_t k = 0; k < fake.n_reqs; k++) {
        if (fake.reqs[k].code == 429 && i429 == SIZE_MAX)
            i429 = k;
        if (fake.reqs[k].code == 503 && i503 == SIZE_MAX)
            i503 = k;
        if (strcmp(fake.reqs[k].path, TAG_PATH) == 0)
            assert_string_equal(fake.reqs[k].auth, "Bearer " FAKE_TOKEN);
    }
    assert_true(i429 != SIZE_MAX && i503 != SIZE_MAX);
    /* Nothing before the Retry-After; the backoff after the 503 (1 s, less
     * jitter at most half). */
    assert_true(fake.reqs[next_tl(i429)].at_ms - fake.reqs[i429].at_ms >= 1000 - 2);
    assert_true(fake.reqs[next_tl(i503)].at_ms - fake.reqs[i503].at_ms >= 500);
    pthread_mutex_unlock(&fake.mu);
}

static void looping_cursor_does_not_storm(void **state)
{
    (void)state;
    fake_timeline(TAG_PATH, NULL, 0, true);
    fake_script(NULL, 0);
    /* One page's worth: a server that loops can only ever show its newest page. */
    int64_t now = ck_time_now_ms();
    for (int k = 1; k <= 2; k++)
        add_status(k, now - 30000 + k * 1000);
    struct run r;
    run(&r, 2000, false);
    journaled_once(2);
    /* About one request per 200 ms poll for 2 s, and a sweep that gives up
     * on a page that moves nothing: a few dozen at most, not a storm. */
    pthread_mutex_lock(&fake.mu);
    size_t n = fake_count("GET", TAG_PATH);
    pthread_mutex_unlock(&fake.mu);
    if (n > 40)
        fail_msg("%zu timeline requests in 2 s against a looping server", n);
    assert_true(n >= 3);
}

/* Where reads are billed (X), polls that bring nothing slow the interval
 * down (1, 2, 4, 6 times it): over 4 quiet seconds at 200 ms, far fewer
 * requests than at the fixed interval. */
static size_t quiet_polls(int adapt)
{
    fake_timeline(TAG_PATH, NULL, 0, false);
    fake_script(NULL, 0);
    add_status(1, ck_time_now_ms() - 30000);
    adaptive = adapt;
    struct run r;
    run(&r, 4000, false);
    adaptive = 0;
    journaled_once(1);
    pthread_mutex_lock(&fake.mu);
    size_t n = fake_count("GET", TAG_PATH);
    pthread_mutex_unlock(&fake.mu);
    return n;
}

static void adaptive_polls_slower_when_quiet(void **state)
{
    (void)state;
    size_t fixed = quiet_polls(0);
    size_t adapted = quiet_polls(1);
    if (!(adapted * 2 <= fixed && adapted >= 3))
        fail_msg("%zu requests adaptive, %zu fixed, in 4 quiet seconds", adapted, fixed);
}

static int source_cb(size_t lineno, const json_t *entry, void *arg)
{
    (void)lineno;
    json_t *by_id = arg;
    const char *id = json_string_value(json_object_get(json_object_get(entry, "object"), "id"));
    if (id != NULL && json_object_get(by_id, id) == NULL)
        json_object_set(by_id, id, json_object_get(entry, "source"));
    return 0;
}

/* An overlap longer than a page (3 statuses re-read, 2 a page): the pages of
 * the overlap are all known statuses, which is no stall; the poll must read
 * on through them to the new ones, not leave them to the sweep. */
static void overlap_longer_than_a_page_still_polls(void **state)
{
    (void)state;
    fake_timeline(TAG_PATH, NULL, 0, false);
    fake_script(NULL, 0);
    int64_t now = ck_time_now_ms();
    for (int k = 1; k <= 3; k++)
        add_status(k, now - 30000 + k * 1000);
    struct run r;
    run_with(&r, 3000, true, 3);
    journaled_once(5);
    json_t *by_id = json_object();
    struct ck_error err = {0};
    assert_int_equal(ck_journal_read(journal_path, source_cb, by_id, NULL, &err), 0);
    for (int k = 4; k <= 5; k++) {
        char id[24];
        snprintf(id, sizeof id, "117%016d", k);
        const char *src = json_string_value(json_object_get(by_id, id));
        if (src == NULL || strcmp(src, "timeline") != 0)
            fail_msg("status %d came by %s, not by a poll", k, src ? src : "nothing");
    }
    json_decref(by_id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(follows_through_429_and_503),
        cmocka_unit_test(looping_cursor_does_not_storm),
        cmocka_unit_test(adaptive_polls_slower_when_quiet),
        cmocka_unit_test(overlap_longer_than_a_page_still_polls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
