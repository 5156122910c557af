/* ck_link_find (RFC 8288 Link headers) and ck_url_query_param. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/platform.h"

static void expect_link(const char *header, const char *rel, const char *want)
{
    char *got = ck_link_find(header, rel);
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void expect_param(const char *url, const char *name, const char *want)
{
    char *got = ck_url_query_param(url, name);
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* The "link:" line of the recorded exchange, copied out of the fixture. */
static char *recorded_link(void)
{
    const char *dir = getenv("CK_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/mastodon/tag-timeline.headers.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    char *found = NULL;
    while (found == NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "link: ", 6) == 0) {
            line[strcspn(line, "\r\n")] = '\0';
            found = strdup(line + 6);
        }
    }
    fclose(f);
    assert_non_null(found);
    return found;
}

static void test_recorded_header(void **state)
{
    char *h = recorded_link();
    expect_link(h, "next",
                "http://localhost:3000/api/v1/timelines/tag/hoot?max_id=117020593741189701");
    expect_link(h, "prev",
                "http://localhost:3000/api/v1/timelines/tag/hoot?min_id=117020593741189701");
    expect_link(h, "last", NULL);
    char *next = ck_link_find(h, "next");
    expect_param(next, "max_id", "117020593741189701");
    expect_param(next, "min_id", NULL);
    free(next);
    free(h);
}

static void test_variants(void **state)
{
    /* Reversed order, no spaces, unquoted rel. */
    const char *rev = "<https://x/p?min_id=5>;rel=prev,<https://x/n?max_id=1>;rel=next";
    expect_link(rev, "next", "https://x/n?max_id=1");
    expect_link(rev, "prev", "https://x/p?min_id=5");
    /* Extra parameters in any order, a quoted comma and a fake rel inside a title. */
    const char *extra =
        "<https://x/a>; title=\"a, b; rel=next\"; rel=\"prev\"; type=\"text/html\" ,"
        "  <https://x/b> ;  hreflang=en ;REL = \"Next\"";
    expect_link(extra, "prev", "https://x/a");
    expect_link(extra, "next", "https://x/b");
    /* Several relation types in one rel; only the first rel parameter counts. */
    const char *multi = "<https://x/c>; rel=\"prev  next\", <https://x/d>; rel=last; rel=next";
    expect_link(multi, "next", "https://x/c");
    expect_link(multi, "prev", "https://x/c");
    expect_link(multi, "last", "https://x/d");
    /* A target containing commas and semicolons. */
    expect_link("<https://x/e?a=1,2;b>; rel=next", "next", "https://x/e?a=1,2;b");
    /* "nextpage" is not "next". */
    expect_link("<https://x/f>; rel=nextpage", "next", NULL);
}

static void test_garbage(void **state)
{
    expect_link(NULL, "next", NULL);
    expect_link("", "next", NULL);
    expect_link("garbage", "next", NULL);
    expect_link("<https://x/unterminated; rel=next", "next", NULL);
    expect_link("https://x/noangle; rel=next", "next", NULL);
    expect_link("<https://x/g>; rel=next junk", "next", NULL);
    /* Garbage before a good link-value does not hide it. */
    expect_link("junk \"quoted, comma\", <https://x/h>; rel=next", "next", "https://x/h");
    expect_link(",,, <https://x/i>; rel=\"next", "next", "https://x/i"); /* unterminated quote */
    expect_link("<https://x/j>; rel", "next", NULL);
}

static void test_query_param(void **state)
{
    expect_param("https://x/t?max_id=123&limit=40", "max_id", "123");
    expect_param("https://x/t?limit=40&max_id=123#frag", "max_id", "123");
    expect_param("https://x/t?xmax_id=1&max_id=2", "max_id", "2");
    expect_param("https://x/t?max_id=1%32%2f+x", "max_id", "12/ x");
    expect_param("https://x/t?max%5Fid=7", "max_id", "7");
    expect_param("https://x/t?max_id=%zz%4", "max_id", "%zz%4");
    expect_param("https://x/t?max_id", "max_id", "");
    expect_param("https://x/t?max_id=a%00b", "max_id", NULL);
    expect_param("https://x/t?limit=40", "max_id", NULL);
    expect_param("https://x/t#max_id=1", "max_id", NULL);
    expect_param("https://x/t", "max_id", NULL);
    expect_param(NULL, "max_id", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_header),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_query_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
