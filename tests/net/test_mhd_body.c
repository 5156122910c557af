/* The request body helper both libmicrohttpd servers use (net/mhd_body.c):
 * chunks joined and NUL-terminated, the end of the body told apart from a
 * chunk, the cap held whatever the chunking (nothing kept past it, the rest
 * still consumed), and a body exactly at the cap accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/mhd_body.h"

static int feed(struct ck_mhd_body *b, const char *s, size_t cap)
{
    size_t n = strlen(s);
    int rc = ck_mhd_body_feed(b, s, &n, cap);
    assert_int_equal(n, 0); /* always consumed, as libmicrohttpd requires */
    return rc;
}

static void chunks_are_joined(void **state)
{
    (void)state;
    struct ck_mhd_body b = {0};
    assert_int_equal(feed(&b, "", 16), 0); /* no data: the body is complete (empty) */
    assert_null(b.body);
    assert_int_equal(feed(&b, "{\"action\":", 64), 1);
    assert_int_equal(feed(&b, "\"hold\"}", 64), 1);
    assert_int_equal(feed(&b, "", 64), 0);
    assert_string_equal(b.body, "{\"action\":\"hold\"}");
    assert_int_equal(b.len, 17);
    assert_false(b.too_big);
    ck_mhd_body_free(&b);
    assert_null(b.body);
    assert_int_equal(b.len, 0);
}

static void the_cap_holds(void **state)
{
    (void)state;
    struct ck_mhd_body b = {0};
    assert_int_equal(feed(&b, "12345678", 10), 1);
    assert_int_equal(feed(&b, "12", 10), 1); /* exactly the cap: kept */
    assert_false(b.too_big);
    assert_int_equal(b.len, 10);
    assert_int_equal(feed(&b, "x", 10), 1); /* one past: dropped, too big */
    assert_true(b.too_big);
    assert_int_equal(b.len, 10);
    assert_int_equal(feed(&b, "more", 10), 1); /* and stays so; still consumed */
    assert_true(b.too_big);
    assert_int_equal(feed(&b, "", 10), 0);
    assert_string_equal(b.body, "1234567812");
    ck_mhd_body_free(&b);

    /* One chunk larger than the cap on its own: nothing is allocated. */
    assert_int_equal(feed(&b, "0123456789abc", 10), 1);
    assert_true(b.too_big);
    assert_null(b.body);
    ck_mhd_body_free(&b);
    assert_false(b.too_big);
}

static void a_huge_size_does_not_wrap(void **state)
{
    (void)state;
    struct ck_mhd_body b = {0};
    assert_int_equal(feed(&b, "abc", 16), 1);
    size_t n = SIZE_MAX - 1; /* len + n would wrap: refused by the cap, not read */
    assert_int_equal(ck_mhd_body_feed(&b, "", &n, 16), 1);
    assert_int_equal(n, 0);
    assert_true(b.too_big);
    assert_int_equal(b.len, 3);
    ck_mhd_body_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunks_are_joined),
        cmocka_unit_test(the_cap_holds),
        cmocka_unit_test(a_huge_size_does_not_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
