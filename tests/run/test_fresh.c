/* The follower's per-page dedupe (src/run/fresh.c): what is journaled from a
 * page, and that a hostile page of 100,000 items costs linear time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "chatkeeper/fresh.h"

static const struct ck_platform_ops *M = &ck_platform_mastodon;

static json_t *status(long id, const char *edited)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%ld", id);
    json_t *s = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "id", ids, "created_at",
                          "2026-12-03T20:01:00.000Z", "content", "<p>hello</p>", "account", "id",
                          "9", "acct", "someone@example.social");
    assert_non_null(s);
    if (edited != NULL)
        json_object_set_new(s, "edited_at", json_string(edited));
    return s;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_select_basic(void **state)
{
    json_t *items = json_array();
    json_array_append_new(items, status(3, NULL));
    json_array_append_new(items, status(2, NULL));
    json_array_append_new(items, status(3, NULL));                       /* twice in the page */
    json_array_append_new(items, json_pack("{s:s}", "id", "99999999"));  /* bare: not a status */
    json_array_append_new(items, status(1, NULL));                       /* already journaled */
    json_array_append_new(items, status(2, "2026-12-03T20:05:00.000Z")); /* same id again */
    struct ck_hset seen;
    ck_hset_init(&seen);
    char key[CK_FRESH_KEY_MAX];
    json_t *one = status(1, NULL);
    assert_non_null(ck_fresh_key(M, one, key));
    assert_int_equal(ck_hset_add(&seen, key), 1);
    json_decref(one);

    struct ck_fresh fr;
    assert_int_equal(ck_fresh_select(M, items, &seen, &fr), 0);
    assert_int_equal(fr.n, 2);
    assert_int_equal(fr.idx[0], 0);
    assert_int_equal(fr.idx[1], 1);
    assert_string_equal(fr.authors[0], "9");
    /* Each kept item normalised, for the console's hook (follower.h). */
    assert_string_equal(fr.msgs[0].id,
                        json_string_value(json_object_get(json_array_get(items, 0), "id")));
    assert_string_equal(fr.msgs[1].id,
                        json_string_value(json_object_get(json_array_get(items, 1), "id")));
    assert_ptr_equal(fr.authors[1], fr.msgs[1].author.id);
    assert_int_equal(fr.duplicates, 2);
    assert_int_equal(fr.known, 1);
    assert_int_equal(fr.bad, 1);
    assert_non_null(strstr(fr.bad_why, "item 3"));
    ck_fresh_finish(&fr);
    ck_hset_finish(&seen);
    json_decref(items);
}

/* 100,000 distinct ids, then 100,000 copies of one, then 100,000 bare ids:
 * linear, so far below the bound (the old pairwise check took minutes). */
static void test_select_huge_page(void **state)
{
    enum { N = 100000 };
    struct ck_hset seen;
    ck_hset_init(&seen);
    json_t *distinct = json_array(), *same = json_array(), *bare = json_array();
    json_t *one = status(5, NULL);
    for (long i = 0; i < N; i++) {
        json_array_append_new(distinct, status(1000000 + i, NULL));
        json_array_append(same, one);
        char ids[32];
        snprintf(ids, sizeof ids, "%ld", 1000000 + i);
        json_array_append_new(bare, json_pack("{s:s}", "id", ids));
    }
    json_decref(one);
    struct ck_fresh fr;
    double t0 = seconds();
    assert_int_equal(ck_fresh_select(M, distinct, &seen, &fr), 0);
    assert_int_equal(fr.n, N);
    assert_int_equal(fr.duplicates, 0);
    ck_fresh_finish(&fr);
    assert_int_equal(ck_fresh_select(M, same, &seen, &fr), 0);
    assert_int_equal(fr.n, 1);
    assert_int_equal(fr.duplicates, N - 1);
    ck_fresh_finish(&fr);
    assert_int_equal(ck_fresh_select(M, bare, &seen, &fr), 0);
    assert_int_equal(fr.n, 0); /* journal only what normalises */
    assert_int_equal(fr.bad, N);
    ck_fresh_finish(&fr);
    double took = seconds() - t0;
    /* A generous bound for a sanitizer build on a busy machine; bench/ has figures. */
    if (took > 10.0)
        fail_msg("three pages of %d items took %.1f s", N, took);
    json_decref(distinct);
    json_decref(same);
    json_decref(bare);
    ck_hset_finish(&seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_basic),
        cmocka_unit_test(test_select_huge_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
