/* Growable strings (src/base/sbuf.c): the URL pieces every platform builds
 * its requests from, ck_sbuf_url and ck_sbuf_param. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "chatkeeper/sbuf.h"

static void test_url_drops_trailing_slashes(void **state)
{
    (void)state;
    const char *bases[] = {"https://example.social", "https://example.social/",
                           "https://example.social///"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        struct ck_sbuf b = {0};
        ck_sbuf_url(&b, bases[i], "/api/v1/instance");
        assert_false(b.oom);
        assert_string_equal(b.s, "https://example.social/api/v1/instance");
        free(b.s);
    }
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, "", "");
    assert_string_equal(b.s, "");
    free(b.s);
}

static void test_param_picks_its_separator(void **state)
{
    (void)state;
    struct ck_sbuf b = {0};
    ck_sbuf_param(&b, "none", NULL); /* an optional parameter not given */
    assert_null(b.s);
    ck_sbuf_url(&b, "https://h/", "/x");
    ck_sbuf_param(&b, "q", "#tag a&b=c");
    ck_sbuf_param(&b, "skip", NULL);
    ck_sbuf_param(&b, "since", "2026-12-03T20:00:00Z");
    ck_sbuf_param(&b, "empty", "");
    assert_false(b.oom);
    assert_string_equal(b.s, "https://h/x?q=%23tag%20a%26b%3Dc&since=2026-12-03T20%3A00%3A00Z"
                             "&empty=");
    free(b.s);
    /* A query built on its own, to be appended later, starts with "?". */
    struct ck_sbuf q = {0};
    ck_sbuf_param(&q, "é", "ü");
    assert_string_equal(q.s, "?é=%C3%BC");
    free(q.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_drops_trailing_slashes),
        cmocka_unit_test(test_param_picks_its_separator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
