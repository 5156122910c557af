/* Rate-limit header parsing and pacing, with fixed clocks (no sleeps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "chatkeeper/ratelimit.h"
#include "chatkeeper/timeutil.h"

#define MAX_H 8

/* A response built on the stack; names lower-cased as http.c delivers them. */
struct fake {
    struct ck_response resp;
    struct ck_header h[MAX_H];
};

static void fake_init(struct fake *f, long status)
{
    f->resp = (struct ck_response){.status = status, .headers = f->h};
}

static void fake_add(struct fake *f, const char *name, const char *value)
{
    assert_true(f->resp.n_headers < MAX_H);
    f->h[f->resp.n_headers].name = (char *)name;
    f->h[f->resp.n_headers].value = (char *)value;
    f->resp.n_headers++;
}

static int64_t at(const char *iso)
{
    int64_t ms = 0;
    assert_int_equal(ck_time_parse_rfc3339(iso, &ms), 0);
    return ms;
}

static void test_parse_good(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");
    ck_ratelimit_init(&rl);
    assert_false(rl.known);
    fake_init(&f, 200);
    fake_add(&f, "x-ratelimit-limit", "300");
    fake_add(&f, "x-ratelimit-remaining", "297");
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T20:05:00.000Z");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_true(rl.known);
    assert_int_equal(rl.limit, 300);
    assert_int_equal(rl.remaining, 297);
    assert_int_equal(rl.reset_ms, now + 300000);
    assert_int_equal(rl.blocked_until_ms, 0);
}

static void test_parse_garbage_keeps_previous(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");
    ck_ratelimit_init(&rl);
    fake_init(&f, 200);
    fake_add(&f, "x-ratelimit-limit", "300");
    fake_add(&f, "x-ratelimit-remaining", "100");
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T20:05:00Z");
    ck_ratelimit_update(&rl, &f.resp, now);

    static const char *const bad[] = {"",   "abc", "12abc", "-5",
                                      "+7", " 12", "1.5",   "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fake_init(&f, 200);
        fake_add(&f, "x-ratelimit-limit", bad[i]);
        fake_add(&f, "x-ratelimit-remaining", bad[i]);
        fake_add(&f, "x-ratelimit-reset", bad[i][0] == '\0' ? "2026-13-01T00:00:00Z" : bad[i]);
        ck_ratelimit_update(&rl, &f.resp, now + 1000);
        assert_int_equal(rl.limit, 300);
        assert_int_equal(rl.remaining, 100);
        assert_int_equal(rl.reset_ms, now + 300000);
    }
    /* A response without any of the headers changes nothing either. */
    fake_init(&f, 200);
    ck_ratelimit_update(&rl, &f.resp, now + 2000);
    assert_int_equal(rl.remaining, 100);
    assert_true(rl.known);
}

static void test_reset_forms(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");

    ck_ratelimit_init(&rl); /* ISO with an offset */
    fake_init(&f, 200);
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T21:01:30+01:00");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.reset_ms, now + 90000);

    ck_ratelimit_init(&rl); /* epoch seconds */
    fake_init(&f, 200);
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)(now / 1000 + 120));
    fake_add(&f, "x-ratelimit-reset", buf);
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.reset_ms, now + 120000);

    ck_ratelimit_init(&rl); /* a small integer is a delta in seconds */
    fake_init(&f, 200);
    fake_add(&f, "x-ratelimit-reset", "45");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.reset_ms, now + 45000);
}

/* A far-future reset or Retry-After, in every form, never holds a request
 * back more than CK_RATELIMIT_MAX_WAIT_MS, and says what the server asked. */
static void expect_capped(long status, const char *name, const char *value, const char *remaining)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");
    int64_t cap = now + CK_RATELIMIT_MAX_WAIT_MS;
    ck_ratelimit_init(&rl);
    fake_init(&f, status);
    fake_add(&f, "x-ratelimit-limit", "300");
    fake_add(&f, "x-ratelimit-remaining", remaining);
    fake_add(&f, name, value);
    ck_ratelimit_update(&rl, &f.resp, now);
    int64_t next = ck_ratelimit_next(&rl, now, now);
    if (next > cap)
        fail_msg("%ld %s: %s: next request %lld s away", status, name, value,
                 (long long)((next - now) / 1000));
    assert_true(rl.capped_from_ms > cap);
    assert_true(rl.reset_ms <= cap);
    assert_true(rl.blocked_until_ms <= cap);
    if (status == 429)
        assert_int_equal(next, cap); /* still honoured, up to the cap */
    /* The next response within bounds says nothing was capped. */
    fake_init(&f, 200);
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T20:05:00Z");
    ck_ratelimit_update(&rl, &f.resp, now + 1000);
    assert_int_equal(rl.capped_from_ms, 0);
}

static void test_far_future_waits_are_capped(void **state)
{
    /* X-RateLimit-Reset: ISO 8601, epoch seconds, a delta; budget spent or not. */
    static const char *const resets[] = {"2999-01-01T00:00:00Z", "2999-01-01T00:00:00.000+02:00",
                                         "32503680000", "31536000", "999999999"};
    for (size_t i = 0; i < sizeof resets / sizeof resets[0]; i++) {
        expect_capped(200, "x-ratelimit-reset", resets[i], "1");
        expect_capped(200, "x-ratelimit-reset", resets[i], "299");
        expect_capped(429, "x-ratelimit-reset", resets[i], "0");
    }
    /* Retry-After: an HTTP date, seconds, absurd seconds; on a 429 and a 503. */
    static const char *const afters[] = {"Tue, 01 Jan 2999 00:00:00 GMT", "86400", "99999999999",
                                         "3600",
                                         /* curl reads year 665183215: overflowed ms (fuzzing) */
                                         "Wed, 22 Oct 665183215"};
    for (size_t i = 0; i < sizeof afters / sizeof afters[0]; i++) {
        expect_capped(429, "retry-after", afters[i], "0");
        expect_capped(503, "retry-after", afters[i], "100");
    }
    /* Within the cap nothing changes and nothing is reported. */
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");
    ck_ratelimit_init(&rl);
    fake_init(&f, 429);
    fake_add(&f, "retry-after", "600");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, now + 600000);
    assert_int_equal(rl.capped_from_ms, 0);
}

static void fill(struct ck_ratelimit *rl, long limit, long remaining, int64_t reset_ms)
{
    ck_ratelimit_init(rl);
    rl->known = true;
    rl->limit = limit;
    rl->remaining = remaining;
    rl->reset_ms = reset_ms;
}

static void test_spreading(void **state)
{
    struct ck_ratelimit rl;
    int64_t now = 1000000;

    /* 300/5 min, 290 left, reserve 30: 260 requests over 300 s -> 1153 ms apart. */
    fill(&rl, 300, 290, now + 300000);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now + 300000 / 260);
    /* A caller already waiting longer (a 5 s poll) is not delayed further. */
    assert_int_equal(ck_ratelimit_next(&rl, now + 5000, now), now + 5000);

    /* 40 left of 300, reserve 30: 10 requests over 100 s -> 10 s apart. */
    fill(&rl, 300, 40, now + 100000);
    assert_int_equal(ck_ratelimit_next(&rl, now + 5000, now), now + 10000);

    /* At the reserve: wait for the reset. */
    fill(&rl, 300, 30, now + 100000);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now + 100000);
    fill(&rl, 300, 0, now + 100000);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now + 100000);

    /* A tiny limit still keeps a reserve of 2. */
    fill(&rl, 5, 2, now + 10000);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now + 10000);
    fill(&rl, 5, 3, now + 10000);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now + 10000);

    /* Nothing known: no delay. */
    ck_ratelimit_init(&rl);
    assert_int_equal(ck_ratelimit_next(&rl, now + 7, now), now + 7);
}

static void test_reset_in_past_is_fresh(void **state)
{
    struct ck_ratelimit rl;
    int64_t now = 1000000;
    fill(&rl, 300, 0, now - 1);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now);
    assert_int_equal(ck_ratelimit_next(&rl, now + 5000, now), now + 5000);
}

static void test_429_retry_after_seconds(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");
    ck_ratelimit_init(&rl);
    fake_init(&f, 429);
    fake_add(&f, "retry-after", "30");
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T20:05:00Z");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, now + 30000);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now + 30000);
    assert_int_equal(ck_ratelimit_next(&rl, now + 40000, now + 1000), now + 40000);
}

static void test_429_retry_after_date(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");
    ck_ratelimit_init(&rl);
    fake_init(&f, 429);
    fake_add(&f, "retry-after", "Thu, 03 Dec 2026 20:02:00 GMT");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, now + 120000);
}

static void test_429_reset_only_and_neither(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");

    ck_ratelimit_init(&rl);
    fake_init(&f, 429);
    fake_add(&f, "x-ratelimit-limit", "300");
    fake_add(&f, "x-ratelimit-remaining", "0");
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T20:03:00Z");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, now + 180000);
    assert_int_equal(ck_ratelimit_next(&rl, now, now), now + 180000);

    ck_ratelimit_init(&rl);
    fake_init(&f, 429);
    fake_add(&f, "retry-after", "soon");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, now + 60000);

    /* A reset already past on a 429 is no answer: also the default minute. */
    ck_ratelimit_init(&rl);
    fake_init(&f, 429);
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T19:59:00Z");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, now + 60000);
}

static void test_never_before_blocked(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = at("2026-12-03T20:00:00Z");
    ck_ratelimit_init(&rl);
    fake_init(&f, 429);
    fake_add(&f, "retry-after", "100");
    ck_ratelimit_update(&rl, &f.resp, now);

    /* A later 200 with a fresh budget (a request that was already in flight)
     * does not lift the block. */
    fake_init(&f, 200);
    fake_add(&f, "x-ratelimit-limit", "300");
    fake_add(&f, "x-ratelimit-remaining", "300");
    fake_add(&f, "x-ratelimit-reset", "2026-12-03T20:00:01Z");
    ck_ratelimit_update(&rl, &f.resp, now + 10);
    assert_int_equal(rl.blocked_until_ms, now + 100000);
    for (int64_t t = now; t < now + 100000; t += 7919) {
        assert_true(ck_ratelimit_next(&rl, t, t) >= now + 100000);
        assert_true(ck_ratelimit_next(&rl, now - 50000, t) >= now + 100000);
    }
    /* After the block, pacing alone decides. */
    assert_int_equal(ck_ratelimit_next(&rl, now + 200000, now + 200000), now + 200000);
}

static void test_503_retry_after(void **state)
{
    struct ck_ratelimit rl;
    struct fake f;
    int64_t now = 5000000;
    ck_ratelimit_init(&rl);
    fake_init(&f, 503);
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, 0); /* no header: backoff's business */
    fake_add(&f, "retry-after", "5");
    ck_ratelimit_update(&rl, &f.resp, now);
    assert_int_equal(rl.blocked_until_ms, now + 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_garbage_keeps_previous),
        cmocka_unit_test(test_reset_forms),
        cmocka_unit_test(test_spreading),
        cmocka_unit_test(test_reset_in_past_is_fresh),
        cmocka_unit_test(test_429_retry_after_seconds),
        cmocka_unit_test(test_429_retry_after_date),
        cmocka_unit_test(test_429_reset_only_and_neither),
        cmocka_unit_test(test_never_before_blocked),
        cmocka_unit_test(test_503_retry_after),
        cmocka_unit_test(test_far_future_waits_are_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
