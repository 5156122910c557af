/* The run's status line and thread tally (runstatus.h): words that are read
 * at a glance, so each case pins the exact line a person sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/runstatus.h"

static void expect_status(const struct ck_run_status *s, const char *want)
{
    char buf[256];
    size_t need = ck_run_status_format(s, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(need, strlen(want));
}

/* Waiting: a space between the phase and the countdown ("waiting9h51m2s" was
 * the defect), and no counts before anything is followed. */
static void test_waiting_counts_down_to_following(void **state)
{
    (void)state;
    struct ck_run_status s = {.clock = "09:08:58",
                              .phase = "waiting",
                              .next = "following starts",
                              .next_in_ms = (9 * 3600 + 51 * 60 + 2) * 1000LL};
    expect_status(&s, "09:08:58  waiting  following starts in 9h51m2s");
}

/* During the chat: the last step, a countdown to the next, the counts, and no
 * request counter (it was always there, mostly "0 requests"). */
static void test_chat_shows_last_and_next_step(void **state)
{
    (void)state;
    struct ck_run_status s = {.clock = "19:23:10",
                              .phase = "chat",
                              .step = "Q2",
                              .next = "Q3",
                              .next_in_ms = 4 * 60000 + 49500,
                              .following = 1,
                              .messages = 120,
                              .people = 34};
    expect_status(&s, "19:23:10  chat Q2  Q3 in 4m50s  120 messages  34 people");
}

/* A countdown is rounded up: "in 0s" while the step is not yet due would lie. */
static void test_countdown_rounds_up(void **state)
{
    (void)state;
    struct ck_run_status s = {.clock = "19:00:00",
                              .phase = "lead",
                              .next = "Welcome",
                              .next_in_ms = 1,
                              .following = 1,
                              .messages = 1,
                              .people = 1};
    expect_status(&s, "19:00:00  lead  Welcome in 1s  1 message  1 person");
    s.next_in_ms = 0;
    expect_status(&s, "19:00:00  lead  Welcome in 0s  1 message  1 person");
}

static void test_trouble_is_shown_only_when_there(void **state)
{
    (void)state;
    struct ck_run_status s = {.clock = "20:41:03",
                              .phase = "sweeping",
                              .following = 1,
                              .messages = 130,
                              .people = 35,
                              .failing = 3};
    expect_status(&s, "20:41:03  sweeping  130 messages  35 people  3 requests failed, retrying");
    s.failing = 1;
    s.rate_limited = 1;
    expect_status(&s, "20:41:03  sweeping  130 messages  35 people  rate limited, waiting"
                      "  1 request failed, retrying");
    char line[256];
    s.failing = 0;
    s.rate_limited = 0;
    ck_run_status_format(&s, line, sizeof line);
    assert_null(strstr(line, "request"));
    assert_null(strstr(line, "rate"));
}

/* A small buffer truncates safely and still reports the length needed. */
static void test_status_truncates(void **state)
{
    (void)state;
    struct ck_run_status s = {
        .clock = "09:08:58", .phase = "waiting", .next = "following starts", .next_in_ms = 1000};
    char buf[12];
    size_t need = ck_run_status_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "09:08:58  w");
    assert_int_equal(need, strlen("09:08:58  waiting  following starts in 1s"));
}

static void expect_tally(const struct ck_replies_tally *t, const char *why, const char *want)
{
    char buf[256];
    size_t need = ck_replies_summary(t, why, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(need, strlen(want));
}

/* "19 thread(s) may hold replies" then "18 thread(s) fetched" left the reader
 * to guess: the tally says where each of the 19 went. */
static void test_threads_tally_accounts_for_every_thread(void **state)
{
    (void)state;
    struct ck_replies_tally t = {.wanted = 19, .fetched = 18, .covered = 1, .requests = 18};
    expect_tally(&t, NULL,
                 "19 thread(s) may hold replies: 18 fetched, 1 already inside a fetched thread");
    t = (struct ck_replies_tally){
        .wanted = 4, .fetched = 1, .covered = 1, .gone = 1, .left = 1, .requests = 5};
    expect_tally(&t, "deadline",
                 "4 thread(s) may hold replies: 1 fetched, 1 already inside a fetched thread, "
                 "1 deleted or private, 1 not fetched (deadline); 5 requests, retries included");
    t = (struct ck_replies_tally){0};
    expect_tally(&t, NULL, "0 thread(s) may hold replies");
    t = (struct ck_replies_tally){.wanted = 2, .fetched = 2, .requests = 2};
    expect_tally(&t, NULL, "2 thread(s) may hold replies: 2 fetched");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiting_counts_down_to_following),
        cmocka_unit_test(test_chat_shows_last_and_next_step),
        cmocka_unit_test(test_countdown_rounds_up),
        cmocka_unit_test(test_trouble_is_shown_only_when_there),
        cmocka_unit_test(test_status_truncates),
        cmocka_unit_test(test_threads_tally_accounts_for_every_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
