/* Backoff: every delay within [upper/2, upper] for attempts 0..20, the cap
 * holds, reset starts over, and the jitter actually varies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chatkeeper/backoff.h"

static int64_t expected_upper(int64_t base, int64_t cap, unsigned attempt)
{
    int64_t u = base;
    for (unsigned i = 0; i < attempt && u < cap; i++)
        u *= 2;
    return u < cap ? u : cap;
}

static void test_bounds(void **state)
{
    struct ck_backoff b;
    ck_backoff_init(&b, 1000, 60000, 42);
    for (unsigned a = 0; a <= 20; a++) {
        int64_t upper = expected_upper(1000, 60000, a);
        int64_t d = ck_backoff_next(&b);
        assert_true(d >= upper / 2);
        assert_true(d <= upper);
        assert_true(d <= 60000);
    }
    assert_int_equal(b.attempt, 21);
}

static void test_bounds_many_seeds(void **state)
{
    for (uint64_t seed = 1; seed < 200; seed++) {
        struct ck_backoff b;
        ck_backoff_init(&b, 250, 10000, seed * 7919);
        for (unsigned a = 0; a <= 20; a++) {
            int64_t upper = expected_upper(250, 10000, a);
            int64_t d = ck_backoff_next(&b);
            assert_in_range(d, upper / 2, upper);
        }
    }
}

static void test_cap_and_huge_attempts(void **state)
{
    struct ck_backoff b;
    ck_backoff_init(&b, 1000, 30000, 7);
    for (int i = 0; i < 200; i++) { /* far past 2^63: must not overflow */
        int64_t d = ck_backoff_next(&b);
        assert_true(d > 0);
        assert_true(d <= 30000);
    }
    /* Saturated at the cap: the lower bound is cap/2. */
    assert_true(ck_backoff_next(&b) >= 15000);
}

static void test_reset(void **state)
{
    struct ck_backoff b;
    ck_backoff_init(&b, 1000, 60000, 99);
    for (int i = 0; i < 10; i++)
        ck_backoff_next(&b);
    ck_backoff_reset(&b);
    assert_int_equal(b.attempt, 0);
    int64_t d = ck_backoff_next(&b);
    assert_in_range(d, 500, 1000);
}

static void test_jitter_varies_and_seed_repeats(void **state)
{
    struct ck_backoff a, b;
    ck_backoff_init(&a, 1000, 60000, 12345);
    ck_backoff_init(&b, 1000, 60000, 12345);
    int distinct = 0;
    int64_t first = -1;
    for (int i = 0; i < 50; i++) {
        ck_backoff_reset(&a);
        ck_backoff_reset(&b);
        int64_t da = ck_backoff_next(&a), db = ck_backoff_next(&b);
        assert_int_equal(da, db); /* same seed, same sequence */
        if (first < 0)
            first = da;
        else if (da != first)
            distinct++;
    }
    assert_true(distinct > 0);
}

static void test_zero_seed_and_bad_params(void **state)
{
    struct ck_backoff b;
    ck_backoff_init(&b, 0, -5, 0); /* clamped to base 1, cap 1 */
    assert_true(b.rng != 0);
    for (int i = 0; i < 10; i++)
        assert_in_range(ck_backoff_next(&b), 0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_bounds_many_seeds),
        cmocka_unit_test(test_cap_and_huge_attempts),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_jitter_varies_and_seed_repeats),
        cmocka_unit_test(test_zero_seed_and_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
