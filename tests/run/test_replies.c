/* The reply-thread fetcher (src/run/replies.c) against the fake server of
 * fake_mastodon.h on 127.0.0.1: which threads it asks for, what it journals,
 * a 500 then a retry after the backoff, a 429 that holds the next request
 * until Retry-After, a thread gone (404), a root already inside a fetched
 * thread skipped, the request budget and the deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/replies.h"
#include "chatkeeper/timeutil.h"
#include "fake_mastodon.h"

#define T0 "2026-12-03T20:"

static char dir[64], journal_path[128];

static int setup(void **state)
{
    if (fake_start(state) != 0 || fake_tmpdir(dir, sizeof dir, "replies") != 0)
        return -1;
    snprintf(journal_path, sizeof journal_path, "%s/journal.jsonl", dir);
    return 0;
}

static int teardown(void **state)
{
    if (fake_rmdir(dir) != 0)
        return -1;
    return fake_stop(state);
}

/* A Mastodon status as the API sends it (the fields normalise reads). */
static json_t *status(const char *id, const char *mmss, const char *reply_to, int replies)
{
    char at[40];
    snprintf(at, sizeof at, T0 "%s.000Z", mmss);
    json_t *s = json_pack("{s:s s:s s:s s:s s:i s:i s:i s:{s:s s:s s:s s:s s:s}}", "id", id,
                          "created_at", at, "content", "<p>hi</p>", "url", "https://x.org/s",
                          "replies_count", replies, "reblogs_count", 0, "favourites_count", 0,
                          "account", "id", "9", "username", "alice", "acct", "alice@x.org",
                          "display_name", "Alice", "url", "https://x.org/@alice");
    json_object_set_new(s, "in_reply_to_id", reply_to ? json_string(reply_to) : json_null());
    json_object_set_new(s, "reblog", json_null());
    return s;
}

/* The journal the fetcher reads its roots from. */
static void journal(json_t *const *st, size_t n)
{
    remove(journal_path);
    struct ck_journal *j;
    struct ck_error err = {0};
    assert_int_equal(ck_journal_open(journal_path, &j, &err), 0);
    assert_int_equal(ck_journal_append(j, "mastodon", "timeline", 1, st, n, &err), 0);
    ck_journal_close(j);
    for (size_t i = 0; i < n; i++)
        json_decref(st[i]);
}

struct run {
    uv_loop_t loop;
    struct ck_http *http;
    struct ck_replies *t;
    uv_timer_t watchdog;
    int status, done, timed_out;
    size_t requests;
    json_t *journaled; /* ids, in order */
};

static int journal_new(void *arg, json_t *items, const unsigned char *repaired)
{
    struct run *r = arg;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) json_array_append(r->journaled, json_object_get(it, "id"));
    return 0;
}

static void closed(uv_handle_t *h)
{
    (void)h;
}

static void done(int status, size_t requests, void *arg)
{
    struct run *r = arg;
    r->status = status;
    r->requests = requests;
    r->done = 1;
    ck_replies_close(r->t);
    ck_http_close(r->http, NULL, NULL);
    uv_close((uv_handle_t *)&r->watchdog, closed);
}

static void on_watchdog(uv_timer_t *h)
{
    struct run *r = h->data;
    r->timed_out = 1;
    done(-1, 0, r);
}

/* Run the fetcher over the journal with conf's limits to the end (at most 20 s). */
static void run_hinted(struct run *r, const json_t *extra, const struct ck_hset *hints,
                       size_t max_requests, int64_t deadline_ms)
{
    memset(r, 0, sizeof *r);
    r->journaled = json_array();
    assert_int_equal(uv_loop_init(&r->loop), 0);
    struct ck_error err = {0};
    assert_int_equal(ck_http_create(&r->loop, NULL, &r->http, &err), 0);
    struct ck_ratelimit rl;
    ck_ratelimit_init(&rl);
    int64_t w0;
    assert_int_equal(ck_time_parse_rfc3339(T0 "00:00Z", &w0), 0);
    struct ck_replies_conf c = {.ops = ck_platform_find("mastodon"),
                                .base_url = fake.base,
                                .token = FAKE_TOKEN,
                                .journal_path = journal_path,
                                .extra_roots = extra,
                                .reply_hints = hints,
                                .window_start_ms = w0,
                                .window_end_ms = w0 + 3600000,
                                .deadline_ms = deadline_ms,
                                .max_requests = max_requests,
                                .rl = &rl,
                                .journal_new = journal_new,
                                .arg = r};
    assert_int_equal(ck_replies_start(&r->loop, r->http, &c, done, r, &r->t, &err), 0);
    uv_timer_init(&r->loop, &r->watchdog);
    r->watchdog.data = r;
    uv_timer_start(&r->watchdog, on_watchdog, 20000, 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    assert_false(r->timed_out);
}

static void run(struct run *r, const json_t *extra, size_t max_requests, int64_t deadline_ms)
{
    run_hinted(r, extra, NULL, max_requests, deadline_ms);
}

static char *context(json_t *descendants)
{
    json_t *c = json_pack("{s:[] s:o}", "ancestors", "descendants", descendants);
    char *s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

static void fetches_threads(void **state)
{
    (void)state;
    /* 200: a question post with 3 replies, 1 held; 300: 2 replies, none held;
     * 400: no replies; 210: the reply we hold. 100 is the run sheet's post. */
    json_t *st[] = {status("200", "05:00", NULL, 3), status("210", "06:00", "200", 0),
                    status("300", "07:00", NULL, 2), status("400", "08:00", NULL, 0)};
    journal(st, 4);
    /* 100's thread holds 200 and its replies: 200 needs no request of its own. */
    char *ctx100 =
        context(json_pack("[o o o]", status("200", "05:00", "100", 3),
                          status("220", "09:00", "200", 0), status("230", "59:59", "200", 0)));
    /* 230 is in the window; a reply from the next day is not. */
    char *late = context(json_pack("[o]", status("240", "10:00", "100", 0)));
    json_t *l = json_loads(late, 0, NULL);
    json_object_set_new(json_array_get(json_object_get(l, "descendants"), 0), "created_at",
                        json_string("2026-12-04T20:00:00.000Z"));
    free(late);
    const struct fake_canned script[] = {
        {"GET", "/api/v1/statuses/100/context", 500, "{\"error\":\"boom\"}", NULL, false},
        {"GET", "/api/v1/statuses/100/context", 200, ctx100, NULL, false},
        {"GET", "/api/v1/statuses/300/context", 429, "{\"error\":\"Too many requests\"}",
         "Retry-After: 1", false},
        {"GET", "/api/v1/statuses/300/context", 404, "{\"error\":\"Record not found\"}", NULL,
         false},
    };
    fake_script(script, 4);
    json_t *extra = json_pack("[s]", "100");
    struct run r;
    run(&r, extra, 0, ck_time_now_ms() + 60000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.requests, 4);
    /* Journaled: 100's thread in the window (240 is a day late). */
    assert_int_equal(json_array_size(r.journaled), 3);
    assert_string_equal(json_string_value(json_array_get(r.journaled, 0)), "200");
    assert_string_equal(json_string_value(json_array_get(r.journaled, 1)), "220");
    assert_string_equal(json_string_value(json_array_get(r.journaled, 2)), "230");
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(fake.reqs[i].path, script[i].path);
        assert_string_equal(fake.reqs[i].auth, "Bearer " FAKE_TOKEN);
    }
    /* The retry after the 500 waited for the backoff (at least 1 s less
     * jitter), the request after the 429 for its Retry-After. */
    assert_true(fake.reqs[1].at_ms - fake.reqs[0].at_ms >= 500);
    assert_true(fake.reqs[3].at_ms - fake.reqs[2].at_ms >= 1000 - 2);
    pthread_mutex_unlock(&fake.mu);
    json_decref(extra);
    json_decref(l);
    json_decref(r.journaled);
    free(ctx100);
}

static void budget_and_deadline(void **state)
{
    (void)state;
    json_t *st[] = {status("200", "05:00", NULL, 3), status("300", "07:00", NULL, 2)};
    journal(st, 2);
    static const struct fake_canned script[] = {
        {"GET", "/api/v1/statuses/200/context", 200, "{\"ancestors\":[],\"descendants\":[]}", NULL,
         true},
        {"GET", "/api/v1/statuses/300/context", 200, "{\"ancestors\":[],\"descendants\":[]}", NULL,
         true},
    };
    fake_script(script, 2);
    struct run r;
    run(&r, NULL, 1, ck_time_now_ms() + 60000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.requests, 1); /* the budget: one request, then done */
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 1);
    pthread_mutex_unlock(&fake.mu);
    json_decref(r.journaled);

    fake_script(script, 2);
    run(&r, NULL, 0, ck_time_now_ms() - 1); /* past the deadline: nothing is asked */
    assert_int_equal(r.status, 0);
    assert_int_equal(r.requests, 0);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 0);
    pthread_mutex_unlock(&fake.mu);
    json_decref(r.journaled);
}

/* The sweep's counts (reply_hints) are fresher than the journal's, both ways:
 * 200 journaled without replies has 2 now (its thread is fetched); 300
 * journaled with 3 has 1 now, the one we hold (none is fetched); 400 has no
 * hint and the journal's count says fetch. 999 was never journaled: a hint
 * alone is no root. */
static void sweep_counts_win(void **state)
{
    (void)state;
    json_t *st[] = {status("200", "05:00", NULL, 0), status("300", "06:00", NULL, 3),
                    status("310", "07:00", "300", 0), status("400", "08:00", NULL, 2)};
    journal(st, 4);
    struct ck_hset hints;
    ck_hset_init(&hints);
    assert_int_equal(ck_hset_put(&hints, "200", 2), 1);
    assert_int_equal(ck_hset_put(&hints, "300", 1), 1);
    assert_int_equal(ck_hset_put(&hints, "999", 5), 1);
    static const struct fake_canned script[] = {
        {"GET", "/api/v1/statuses/200/context", 200, "{\"ancestors\":[],\"descendants\":[]}", NULL,
         false},
        {"GET", "/api/v1/statuses/400/context", 200, "{\"ancestors\":[],\"descendants\":[]}", NULL,
         false},
    };
    fake_script(script, 2);
    struct run r;
    run_hinted(&r, NULL, &hints, 0, ck_time_now_ms() + 60000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.requests, 2);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.n_reqs, 2);
    assert_string_equal(fake.reqs[0].path, "/api/v1/statuses/200/context");
    assert_string_equal(fake.reqs[1].path, "/api/v1/statuses/400/context");
    pthread_mutex_unlock(&fake.mu);
    json_decref(r.journaled);
    ck_hset_finish(&hints);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fetches_threads),
        cmocka_unit_test(budget_and_deadline),
        cmocka_unit_test(sweep_counts_win),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
