/* The runner (src/run/runner*.c) whole, on a real uv loop, against the fake
 * Mastodon of fake_mastodon.h on 127.0.0.1: a session file with a welcome, a
 * question and a closing, played at 60x (0.5 s lead, 3 s chat, 0.5 s grace).
 *
 *  - each step is posted once, not before its time, with the intent on disk
 *    before its POST (the fake counts violations), and state.json records the
 *    post's id and time: the steps the fake made are the steps recorded;
 *  - others' statuses on the hashtag timeline end up in messages.jsonl;
 *  - a run stopped after the welcome (SIGTERM's path: ck_runner_stop) and
 *    started again posts the rest, each once;
 *  - the same command once the chat is over posts nothing more.
 * Nothing real: no simulator process, no network beyond loopback. Each run is
 * bounded by a watchdog; waits are for conditions, never fixed sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "chatkeeper/log.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/timeutil.h"
#include "fake_mastodon.h"

#define TAG_PATH "/api/v1/timelines/tag/ckrunner"
#define SPEED 60.0
#define WATCHDOG_MS 90000

static char dir[64], session_path[128], out_dir[128], state_path[160];

static int setup(void **state)
{
    if (fake_start(state) != 0)
        return -1;
    ck_log_set_level(CK_LOG_WARN);
    setenv("CK_RUNNER_TEST_TOKEN", FAKE_TOKEN, 1);
    return 0;
}

static int teardown(void **state)
{
    return fake_stop(state);
}

/* A fresh folder, session file and fake for each test. The chat starts
 * start_in_ms from now; its run sheet is the welcome (0m), Q1 (1m) and the
 * closing (2m) of a 3-minute chat with 30 s of lead and grace. */
static int64_t fresh(int64_t start_in_ms)
{
    assert_int_equal(fake_tmpdir(dir, sizeof dir, "runner"), 0);
    snprintf(session_path, sizeof session_path, "%s/session.json", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(state_path, sizeof state_path, "%s/state.json", out_dir);
    int64_t start = (ck_time_now_ms() + start_in_ms) / 1000 * 1000;
    char at[40];
    ck_time_format_rfc3339(start, at);
    json_t *doc = json_pack(
        "{s:s s:s s:s s:s s:s s:s s:s s:{s:s s:s s:s s:b} s:[s] s:b s:{s:s s:s}"
        " s:{s:s s:s} s:[{s:s s:s}] s:{s:s s:s}}",
        "title", "Runner test", "hashtag", "ckrunner", "timezone", "Europe/London", "start", at,
        "duration", "3m", "lead", "30s", "grace", "30s", "platform", "type", "mastodon", "base_url",
        fake.base, "token_env", "CK_RUNNER_TEST_TOKEN", "streaming", 0, "facilitators",
        "@host@127.0.0.1", "post", 1, "poll", "chat", "1s", "quiet", "1s", "welcome", "at", "0m",
        "text", "Welcome to the runner test", "questions", "at", "1m", "text",
        "What does the runner post?", "closing", "at", "2m", "text", "Thanks, runner");
    assert_non_null(doc);
    assert_int_equal(json_dump_file(doc, session_path, JSON_INDENT(2)), 0);
    json_decref(doc);
    fake_reset(state_path, NULL, 0);
    fake_script(NULL, 0);
    fake_timeline(TAG_PATH, NULL, 0, false);
    return start;
}

static void cleanup(void)
{
    assert_int_equal(fake_rmdir(dir), 0);
}

/* Others' status number k on the timeline, created at ms. */
static void add_status(int k, int64_t ms)
{
    char id[24], at[40], text[64];
    snprintf(id, sizeof id, "118%016d", k);
    snprintf(text, sizeof text, "<p>#ckrunner answer %d</p>", k);
    ck_time_format_rfc3339(ms, at);
    json_t *s = json_pack("{s:s s:s s:s s:s s:i s:i s:i s:n s:n s:{s:s s:s s:s s:s s:s}}", "id", id,
                          "created_at", at, "content", text, "url", "https://x.org/s",
                          "replies_count", 0, "reblogs_count", 0, "favourites_count", 0,
                          "in_reply_to_id", "reblog", "account", "id", "7", "username", "bob",
                          "acct", "bob@x.org", "display_name", "Bob", "url", "https://x.org/@bob");
    char *json = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    pthread_mutex_lock(&fake.mu);
    fake_timeline_add(id, json);
    pthread_mutex_unlock(&fake.mu);
    free(json);
}

struct run {
    uv_loop_t loop;
    uv_timer_t watchdog, check;
    struct ck_runner *r;
    int status, done, timed_out;
    size_t stop_at_posts; /* 0, or stop the runner once the fake made this many */
};

static void closed(uv_handle_t *h)
{
    (void)h;
}

static void on_done(struct ck_runner *r, int status, void *arg)
{
    (void)r;
    struct run *x = arg;
    x->done = 1;
    x->status = status;
    uv_close((uv_handle_t *)&x->watchdog, closed);
    uv_close((uv_handle_t *)&x->check, closed);
}

static void on_watchdog(uv_timer_t *h)
{
    struct run *x = h->data;
    x->timed_out = 1;
    ck_runner_stop(x->r, 1);
}

/* The condition to stop on, polled: the fake has made stop_at_posts posts. */
static void on_check(uv_timer_t *h)
{
    struct run *x = h->data;
    pthread_mutex_lock(&fake.mu);
    size_t n = fake.n_st;
    pthread_mutex_unlock(&fake.mu);
    if (x->stop_at_posts > 0 && n >= x->stop_at_posts) {
        uv_timer_stop(&x->check);
        ck_runner_stop(x->r, 143);
    }
}

/* Run the session to its end (or until stop_at_posts) on a loop of its own;
 * returns the runner's exit status. */
static int run_session(int64_t start, size_t stop_at_posts)
{
    struct run x = {.stop_at_posts = stop_at_posts};
    assert_int_equal(uv_loop_init(&x.loop), 0);
    struct ck_runner_opts o = {.session_path = session_path,
                               .out_dir = out_dir,
                               .start_at_ms = start,
                               .speed = SPEED,
                               .status_line = 0,
                               .build_here = true}; /* this binary is no `chatkeeper archive` */
    assert_int_equal(ck_runner_start(&x.loop, &o, on_done, &x, &x.r), 0);
    uv_timer_init(&x.loop, &x.watchdog);
    x.watchdog.data = &x;
    uv_timer_start(&x.watchdog, on_watchdog, WATCHDOG_MS, 0);
    uv_timer_init(&x.loop, &x.check);
    x.check.data = &x;
    uv_timer_start(&x.check, on_check, 20, 20);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    assert_true(x.done);
    assert_false(x.timed_out);
    ck_runner_free(x.r);
    assert_int_equal(uv_loop_close(&x.loop), 0);
    return x.status;
}

static const char *str(const json_t *j)
{
    return json_is_string(j) ? json_string_value(j) : "";
}

/* Whether state.json records the step as posted, with its id and time. */
static size_t recorded(const char *label, char *id, size_t id_n, int64_t *posted_ms)
{
    json_t *st = json_load_file(state_path, 0, NULL);
    assert_non_null(st);
    json_t *step = json_object_get(json_object_get(st, "steps"), label);
    size_t n = 0;
    if (json_is_object(step) && strcmp(str(json_object_get(step, "status")), "posted") == 0) {
        n = 1;
        snprintf(id, id_n, "%s", str(json_object_get(step, "id")));
        assert_int_equal(ck_time_parse_rfc3339(str(json_object_get(step, "posted_at")), posted_ms),
                         0);
    }
    json_decref(st);
    return n;
}

/* Every step made once by the fake, recorded with the id it made, and not
 * early. strict: no POST was sent twice either (a run stopped with a POST in
 * flight resends it with the same Idempotency-Key, which the fake answers
 * with the post it made: once on the server, two requests). */
static void check_each_step_once(int64_t start, bool strict)
{
    static const struct {
        const char *label, *text;
        int64_t at_ms;
    } steps[] = {{"welcome", "Welcome to the runner test", 0},
                 {"Q1", "What does the runner post?", 60000},
                 {"closing", "Thanks, runner", 120000}};
    if (strict)
        assert_int_equal(fake.posts, 3); /* POSTs that reached it: none repeated */
    assert_int_equal(fake.n_st, 3);
    assert_int_equal(fake.intent_violations, 0);
    assert_int_equal(fake.bad_requests, 0);
    for (size_t i = 0; i < 3; i++) {
        char id[32] = "";
        int64_t posted = 0;
        assert_int_equal(recorded(steps[i].label, id, sizeof id, &posted), 1);
        const struct fake_status *made = NULL;
        for (size_t k = 0; k < fake.n_st; k++)
            if (strcmp(fake.st[k].id, id) == 0)
                made = &fake.st[k];
        assert_non_null(made); /* the id recorded is the post the fake made */
        assert_non_null(strstr(made->text, steps[i].text));
        int64_t due = start + (int64_t)((double)steps[i].at_ms / SPEED);
        assert_true(posted >= due - 5); /* never before its time (ms rounding) */
    }
}

static size_t messages(void)
{
    char path[192], line[4096];
    snprintf(path, sizeof path, "%s/messages.jsonl", out_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, "ckrunner answer") != NULL;
    fclose(f);
    return n;
}

static void posts_due_steps_once_and_records_them(void **state)
{
    (void)state;
    int64_t start = fresh(1500);
    add_status(1, start - 200);
    add_status(2, start + 500);
    add_status(3, start + 1500);
    assert_int_equal(run_session(start, 0), 0);
    check_each_step_once(start, true);
    assert_int_equal(messages(), 3);
    /* The same command after the chat: nothing posted again. */
    assert_int_equal(run_session(start, 0), 0);
    check_each_step_once(start, true);
    cleanup();
}

static void stopped_after_the_welcome_continues_once(void **state)
{
    (void)state;
    int64_t start = fresh(1500);
    add_status(1, start + 500);
    assert_int_equal(run_session(start, 1), 143); /* stopped once the welcome was made */
    pthread_mutex_lock(&fake.mu);
    size_t made = fake.n_st;
    pthread_mutex_unlock(&fake.mu);
    assert_true(made >= 1 && made < 3);
    assert_int_equal(run_session(start, 0), 0);
    check_each_step_once(start, false);
    cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(posts_due_steps_once_and_records_them),
        cmocka_unit_test(stopped_after_the_welcome_continues_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
