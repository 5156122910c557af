/* The poster against a fake Mastodon started inside the test
 * (fake_mastodon.h: honours Idempotency-Key, injects faults, checks that the
 * intent was on disk before each POST), on a real uv loop with the real ck_http.
 *
 * Steps are driven the way the runner drives them: a timer per step calls the
 * handler's due() at the step's time (never before). Every test ends with the
 * close sequence and uv_loop_close() == 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "chatkeeper/log.h"
#include "chatkeeper/poster.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"
#include "fake_mastodon.h"

/* ---- the harness: a session, a schedule and a runner-like driver ------------- */

#define MAX_STEPS 8

struct run {
    uv_loop_t loop;
    struct ck_http *http;
    struct ck_poster *p;
    struct ck_session s;
    char base_url[64], hashtag[32];
    struct ck_step steps[MAX_STEPS];
    struct ck_sched_entry entries[MAX_STEPS];
    struct ck_schedule sch;
    json_t *state;
    char dir[64], state_path[128];
    uv_timer_t due[MAX_STEPS], check;
    size_t due_pending;
    int64_t t0, give_up_ms;
    long timeout_ms; /* the HTTP client's total timeout; 0: default */
    bool due_past;   /* the driver also calls due() at once for steps already past */
    bool resume;
    bool timed_out;
    int64_t stop_after_ms; /* 0, or close everything this long after start, busy or not */
    int closed;
};

static void run_init(struct run *r)
{
    memset(r, 0, sizeof *r);
    r->t0 = ck_time_now_ms();
    snprintf(r->base_url, sizeof r->base_url, "http://127.0.0.1:%u", fake.port);
    snprintf(r->hashtag, sizeof r->hashtag, "ckTest");
    r->s.hashtag = r->hashtag;
    r->s.start_ms = r->t0;
    r->s.missed_step_limit_ms = 10 * 60000;
    r->s.platform.base_url = r->base_url;
    r->s.post = true;
    snprintf(r->dir, sizeof r->dir, "/tmp/ck-poster-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->state_path, sizeof r->state_path, "%s/state.json", r->dir);
    r->state = json_object();
    r->sch.entries = r->entries;
}

/* Add a step due offset_ms from now (negative: already past). In time order. */
static void add_step(struct run *r, enum ck_sched_kind kind, int number, int64_t offset_ms,
                     const char *text)
{
    size_t i = r->sch.n++;
    r->steps[i] = (struct ck_step){.kind = kind == CK_SCHED_WELCOME    ? CK_STEP_WELCOME
                                           : kind == CK_SCHED_QUESTION ? CK_STEP_QUESTION
                                                                       : CK_STEP_CLOSING,
                                   .number = number,
                                   .at_ms = r->t0 + offset_ms - r->s.start_ms,
                                   .text = (char *)text};
    r->entries[i] = (struct ck_sched_entry){
        .kind = kind, .number = number, .at_ms = r->t0 + offset_ms, .step = &r->steps[i]};
}

static void on_poster_closed(void *arg)
{
    ((struct run *)arg)->closed++;
}

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void shutdown_run(struct run *r)
{
    ck_poster_close(r->p, on_poster_closed, r);
    ck_http_close(r->http, NULL, NULL);
    for (size_t i = 0; i < r->sch.n; i++)
        uv_close((uv_handle_t *)&r->due[i], on_handle_closed);
    uv_close((uv_handle_t *)&r->check, on_handle_closed);
}

static void on_check(uv_timer_t *t)
{
    struct run *r = t->data;
    if (uv_is_closing((uv_handle_t *)t))
        return;
    bool done = r->due_pending == 0 && ck_poster_busy(r->p) == 0;
    if (r->stop_after_ms > 0)
        done = ck_time_now_ms() >= r->t0 + r->stop_after_ms;
    else if (!done && ck_time_now_ms() > r->give_up_ms)
        r->timed_out = true;
    if (done || r->timed_out)
        shutdown_run(r);
}

static void on_due_timer(uv_timer_t *t)
{
    struct run *r = t->data;
    size_t i = (size_t)(t - r->due);
    int64_t early = r->entries[i].at_ms - ck_time_now_ms();
    if (early > 0) { /* as the runner does: never before the step's time */
        uv_timer_start(t, on_due_timer, (uint64_t)early, 0);
        return;
    }
    struct ck_step_handler h = ck_poster_handler(r->p);
    h.due(h.self, &r->entries[i], ck_time_now_ms() - r->entries[i].at_ms);
    r->due_pending--;
}

/* Create the client and the poster, drive every step, run to the end. */
static void run_go(struct run *r, int64_t budget_ms)
{
    assert_int_equal(uv_loop_init(&r->loop), 0);
    struct ck_error err = {0};
    struct ck_http_opts ho = {.total_timeout_ms = r->timeout_ms, .connect_timeout_ms = 2000};
    assert_int_equal(ck_http_create(&r->loop, r->timeout_ms ? &ho : NULL, &r->http, &err), 0);
    struct ck_poster_conf conf = {.session = &r->s,
                                  .schedule = &r->sch,
                                  .ops = &ck_platform_mastodon,
                                  .token = FAKE_TOKEN,
                                  .state_path = r->state_path};
    assert_int_equal(ck_poster_create(&r->loop, r->http, r->state, &conf, &r->p, &err), 0);
    uv_update_time(&r->loop); /* timers count from the loop's cached time */
    int64_t now = ck_time_now_ms();
    r->give_up_ms = now + budget_ms;
    for (size_t i = 0; i < r->sch.n; i++) {
        uv_timer_init(&r->loop, &r->due[i]);
        r->due[i].data = r;
        int64_t d = r->entries[i].at_ms - now;
        /* Like the runner: steps long past are left to resume unless due_past. */
        if (d < -2000 && !r->due_past)
            continue;
        r->due_pending++;
        uv_timer_start(&r->due[i], on_due_timer, (uint64_t)(d > 0 ? d : 0), 0);
    }
    uv_timer_init(&r->loop, &r->check);
    r->check.data = r;
    uv_timer_start(&r->check, on_check, 20, 20);
    if (r->resume)
        ck_poster_resume(r->p);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(r->closed, 1);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    assert_false(r->timed_out);
}

static void run_finish(struct run *r)
{
    json_decref(r->state);
    unlink(r->state_path);
    rmdir(r->dir);
}

static const json_t *rec(const struct run *r, const char *label)
{
    return json_object_get(json_object_get(r->state, "steps"), label);
}

static const char *rec_s(const struct run *r, const char *label, const char *key)
{
    return json_string_value(json_object_get(rec(r, label), key));
}

static int64_t rec_i(const struct run *r, const char *label, const char *key)
{
    return json_integer_value(json_object_get(rec(r, label), key));
}

/* The label's record is "posted" with the id the server made for its key. */
static const struct fake_status *assert_posted(const struct run *r, const char *label)
{
    const char *status = rec_s(r, label, "status");
    if (status == NULL || strcmp(status, "posted") != 0)
        fail_msg("%s: status %s, reason %s", label, status ? status : "(none)",
                 rec_s(r, label, "reason") ? rec_s(r, label, "reason") : "(none)");
    const char *key = rec_s(r, label, "key");
    assert_non_null(key);
    for (size_t i = 0; i < fake.n_st; i++) {
        if (strcmp(fake.st[i].key, key) == 0) {
            assert_string_equal(rec_s(r, label, "id"), fake.st[i].id);
            assert_non_null(strstr(rec_s(r, label, "url"), fake.st[i].id));
            return &fake.st[i];
        }
    }
    fail_msg("%s: no status on the server with key %s", label, key);
    return NULL;
}

static void assert_status(const struct run *r, const char *label, const char *status,
                          const char *reason_part)
{
    const char *s = rec_s(r, label, "status");
    if (s == NULL || strcmp(s, status) != 0)
        fail_msg("%s: status %s, wanted %s", label, s ? s : "(none)", status);
    if (reason_part != NULL) {
        const char *why = rec_s(r, label, "reason");
        if (why == NULL || strstr(why, reason_part) == NULL)
            fail_msg("%s: reason \"%s\" lacks \"%s\"", label, why ? why : "(none)", reason_part);
    }
}

/* What is on disk is what is in memory. */
static void assert_saved(const struct run *r)
{
    json_t *disk = NULL;
    assert_int_equal(ck_state_load(r->state_path, &disk, NULL), 0);
    assert_true(json_equal(json_object_get(disk, "steps"), json_object_get(r->state, "steps")));
    json_decref(disk);
}

/* ---- cases -------------------------------------------------------------------- */

static void test_on_time(void **state)
{
    struct run r;
    run_init(&r);
    fake_reset(r.state_path, NULL, 0);
    add_step(&r, CK_SCHED_WELCOME, 0, 1000, "Welcome all!");
    add_step(&r, CK_SCHED_QUESTION, 1, 2000, "What brought you here?");
    add_step(&r, CK_SCHED_QUESTION, 2, 3000, "What's next? #CKtest");
    add_step(&r, CK_SCHED_CLOSING, 0, 4000, "Thanks all, see you #cktest soon");
    run_go(&r, 15000);

    assert_int_equal(fake.n_st, 4);
    assert_int_equal(fake.posts, 4);
    assert_int_equal(fake.intent_violations, 0);
    assert_int_equal(fake.bad_requests, 0);
    assert_string_equal(assert_posted(&r, "welcome")->text, "Welcome all! #ckTest");
    assert_string_equal(assert_posted(&r, "Q1")->text, "Q1 What brought you here? #ckTest");
    assert_string_equal(assert_posted(&r, "Q2")->text, "Q2 What's next? #CKtest");
    assert_string_equal(assert_posted(&r, "closing")->text, "Thanks all, see you #cktest soon");
    const char *labels[] = {"welcome", "Q1", "Q2", "closing"};
    for (size_t i = 0; i < 4; i++) {
        /* Each step within one second of its time, measured from the reply. */
        int64_t delay = rec_i(&r, labels[i], "delay_ms");
        if (delay < 0 || delay >= 1000)
            fail_msg("%s posted %lld ms after its time", labels[i], (long long)delay);
        int64_t posted_at;
        assert_int_equal(ck_time_parse_rfc3339(rec_s(&r, labels[i], "posted_at"), &posted_at), 0);
        assert_true(posted_at >= r.entries[i].at_ms && posted_at < r.entries[i].at_ms + 1000);
        assert_int_equal(rec_i(&r, labels[i], "attempts"), 1);
        assert_string_equal(fake.st[i].reply_to, ""); /* not a thread */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(fake.st[i].key, fake.st[j].key);
    }
    assert_saved(&r);
    run_finish(&r);
}

static void test_thread(void **state)
{
    struct run r;
    run_init(&r);
    r.s.thread = true;
    fake_reset(r.state_path, NULL, 0);
    add_step(&r, CK_SCHED_WELCOME, 0, 300, "Hello");
    add_step(&r, CK_SCHED_QUESTION, 1, 600, "One?");
    add_step(&r, CK_SCHED_QUESTION, 2, 900, "Two?");
    add_step(&r, CK_SCHED_CLOSING, 0, 1200, "Bye");
    run_go(&r, 10000);
    assert_int_equal(fake.n_st, 4);
    assert_string_equal(assert_posted(&r, "welcome")->reply_to, "");
    assert_string_equal(assert_posted(&r, "Q1")->reply_to, rec_s(&r, "welcome", "id"));
    assert_string_equal(assert_posted(&r, "Q2")->reply_to, rec_s(&r, "Q1", "id"));
    assert_string_equal(assert_posted(&r, "closing")->reply_to, rec_s(&r, "Q2", "id"));
    assert_string_equal(rec_s(&r, "closing", "in_reply_to_id"), rec_s(&r, "Q2", "id"));
    run_finish(&r);
}

/* Q1 meets fault f once, Q2 none: Q1 is retried with the same key, and the
 * server holds exactly one status per step. */
static void fault_case(enum fake_fault f, long timeout_ms)
{
    struct run r;
    run_init(&r);
    r.timeout_ms = timeout_ms;
    fake_reset(r.state_path, &f, 1);
    add_step(&r, CK_SCHED_QUESTION, 1, 200, "One?");
    add_step(&r, CK_SCHED_QUESTION, 2, 3500, "Two?");
    run_go(&r, 20000);
    assert_int_equal(fake.posts, 3);
    assert_int_equal(fake.n_st, 2); /* a retry under a new key would have made a third */
    assert_int_equal(fake.intent_violations, 0);
    assert_posted(&r, "Q1");
    assert_posted(&r, "Q2");
    assert_int_equal(rec_i(&r, "Q1", "attempts"), 2);
    assert_int_equal(rec_i(&r, "Q2", "attempts"), 1);
    assert_true(rec_i(&r, "Q2", "delay_ms") < 1000);
    assert_saved(&r);
    run_finish(&r);
}

static void test_503_after_creating(void **state)
{
    fault_case(F_503_AFTER, 0);
}

static void test_500_before_creating(void **state)
{
    fault_case(F_500_BEFORE, 0);
}

static void test_dropped_connection(void **state)
{
    fault_case(F_DROP_AFTER, 0);
}

static void test_slow_reply(void **state)
{
    fault_case(F_SLOW_AFTER, 700);
}

static void test_rate_limited(void **state)
{
    struct run r;
    run_init(&r);
    enum fake_fault f = F_429;
    fake_reset(r.state_path, &f, 1);
    add_step(&r, CK_SCHED_QUESTION, 1, 200, "One?");
    run_go(&r, 10000);
    assert_int_equal(fake.posts, 2);
    assert_int_equal(fake.n_st, 1);
    assert_posted(&r, "Q1");
    assert_true(rec_i(&r, "Q1", "delay_ms") >= 900); /* it waited for Retry-After: 1 */
    run_finish(&r);
}

static void client_error_case(enum fake_fault f, const char *reason_part)
{
    struct run r;
    run_init(&r);
    fake_reset(r.state_path, &f, 1);
    add_step(&r, CK_SCHED_QUESTION, 1, 200, "One?");
    add_step(&r, CK_SCHED_QUESTION, 2, 600, "Two?");
    run_go(&r, 10000);
    assert_int_equal(fake.posts, 2); /* never retried */
    assert_int_equal(fake.n_st, 1);
    assert_status(&r, "Q1", "failed", reason_part);
    assert_posted(&r, "Q2");
    assert_saved(&r);
    run_finish(&r);
}

static void test_422_gives_up(void **state)
{
    client_error_case(F_422, "HTTP 422: Validation failed: Text character limit");
}

static void test_401_gives_up(void **state)
{
    client_error_case(F_401, "access token");
}

static void test_late_start(void **state)
{
    struct run r;
    run_init(&r);
    r.due_past = true; /* the runner's "at once if late", and resume: both, never doubled */
    r.resume = true;
    fake_reset(r.state_path, NULL, 0);
    add_step(&r, CK_SCHED_QUESTION, 1, -15 * 60000, "One?");
    add_step(&r, CK_SCHED_QUESTION, 2, -2 * 60000, "Two?");
    add_step(&r, CK_SCHED_QUESTION, 3, 300, "Three?");
    run_go(&r, 10000);
    assert_status(&r, "Q1", "skipped", "15 minutes late (limit 10m)");
    assert_posted(&r, "Q2");
    assert_posted(&r, "Q3");
    assert_int_equal(fake.n_st, 2);
    assert_int_equal(fake.posts, 2);
    assert_saved(&r);
    run_finish(&r);
}

static void test_never_after_a_later_question(void **state)
{
    struct run r;
    run_init(&r);
    r.resume = true;
    r.s.thread = true;
    fake_reset(r.state_path, NULL, 0);
    add_step(&r, CK_SCHED_QUESTION, 2, -60000, "Two?");
    add_step(&r, CK_SCHED_QUESTION, 3, -30000, "Three?");
    add_step(&r, CK_SCHED_QUESTION, 4, 300, "Four?");
    json_t *q3 = json_pack("{s:s, s:s, s:s, s:s}", "key", "ck-earlier-q3", "status", "posted", "id",
                           "999", "url", "https://a.test/999");
    json_object_set_new(r.state, "steps", json_pack("{s:o}", "Q3", q3));
    run_go(&r, 10000);
    assert_status(&r, "Q2", "skipped", "Q3 was already posted");
    assert_status(&r, "Q3", "posted", NULL);
    assert_non_null(rec_s(&r, "Q3", "id"));
    assert_string_equal(rec_s(&r, "Q3", "id"), "999");
    assert_string_equal(assert_posted(&r, "Q4")->reply_to, "999");
    assert_int_equal(fake.n_st, 1);
    assert_int_equal(fake.posts, 1);
    run_finish(&r);
}

static void test_resume_sending(void **state)
{
    struct run r;
    run_init(&r);
    r.resume = true;
    fake_reset(r.state_path, NULL, 0);
    add_step(&r, CK_SCHED_QUESTION, 1, -40000, "One?");
    add_step(&r, CK_SCHED_QUESTION, 2, -20000, "Two?");
    add_step(&r, CK_SCHED_QUESTION, 3, 300, "Three?");
    /* Q1 reached the server before the kill; Q2 did not. */
    char k1[64];
    ck_poster_key(&r.s, &r.entries[0], k1, sizeof k1);
    pthread_mutex_lock(&fake.mu);
    struct fake_status *seeded = fake_create_or_find(k1, "status=Q1%20One%3F&visibility=public");
    char seeded_id[32];
    snprintf(seeded_id, sizeof seeded_id, "%s", seeded->id);
    pthread_mutex_unlock(&fake.mu);
    json_object_set_new(r.state, "steps",
                        json_pack("{s:{s:s, s:s, s:i}, s:{s:s, s:s, s:i}}", "Q1", "key", k1,
                                  "status", "sending", "attempts", 1, "Q2", "key",
                                  "ck-stored-key-q2", "status", "sending", "attempts", 1));
    run_go(&r, 10000);
    assert_posted(&r, "Q1");
    assert_string_equal(rec_s(&r, "Q1", "id"), seeded_id);
    assert_int_equal(rec_i(&r, "Q1", "attempts"), 2);
    assert_string_equal(rec_s(&r, "Q2", "key"), "ck-stored-key-q2"); /* the recorded key wins */
    assert_posted(&r, "Q2");
    assert_posted(&r, "Q3");
    assert_int_equal(fake.n_st, 3); /* the seeded one and two new */
    assert_int_equal(fake.posts, 3);
    assert_int_equal(fake.intent_violations, 0);
    run_finish(&r);
}

/* Closing while a reply is outstanding: nothing crashes, the loop closes
 * cleanly, and the step stays "sending" for the next run to resume. */
static void test_close_in_flight(void **state)
{
    struct run r;
    run_init(&r);
    r.stop_after_ms = 500;
    enum fake_fault f = F_SLOW_AFTER;
    fake_reset(r.state_path, &f, 1);
    add_step(&r, CK_SCHED_QUESTION, 1, 0, "One?");
    run_go(&r, 5000);
    assert_int_equal(fake.posts, 1);
    assert_status(&r, "Q1", "sending", NULL);
    assert_saved(&r);
    run_finish(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_on_time),
        cmocka_unit_test(test_thread),
        cmocka_unit_test(test_503_after_creating),
        cmocka_unit_test(test_500_before_creating),
        cmocka_unit_test(test_dropped_connection),
        cmocka_unit_test(test_slow_reply),
        cmocka_unit_test(test_rate_limited),
        cmocka_unit_test(test_422_gives_up),
        cmocka_unit_test(test_401_gives_up),
        cmocka_unit_test(test_late_start),
        cmocka_unit_test(test_never_after_a_later_question),
        cmocka_unit_test(test_resume_sending),
        cmocka_unit_test(test_close_in_flight),
    };
    ck_log_set_level(getenv("CK_TEST_VERBOSE") ? CK_LOG_DEBUG : CK_LOG_WARN);
    return cmocka_run_group_tests(tests, fake_start, fake_stop);
}
