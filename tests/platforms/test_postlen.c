/* The post length judgement `check` and the console's edit control share
 * (postlen.h): every posting source counts in its own way (Bluesky in
 * graphemes up to 300, Mastodon in code points up to 500), and a text is
 * judged against each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/config.h"
#include "chatkeeper/postlen.h"

#define HEAD                                                                                       \
    "{\"title\": \"T\", \"hashtag\": \"tag\", \"timezone\": \"UTC\", "                             \
    "\"start\": \"2026-12-03T20:00\", \"duration\": \"1h\", \"post\": true, "                      \
    "\"facilitators\": [\"@host@example.org\"], "                                                  \
    "\"questions\": [{\"at\": \"5m\", \"text\": \"Q?\"}], "

static const char BSKY[] = "{\"type\": \"bluesky\", \"base_url\": \"https://bsky.social\", "
                           "\"handle\": \"host.bsky.social\", \"password_env\": \"CK_NONE\"}";
static const char MASTO[] = "{\"type\": \"mastodon\", \"base_url\": \"https://example.org\", "
                            "\"token_env\": \"CK_NONE\"}";

static void load(struct ck_session *s, const char *platforms)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s\"platforms\": [%s]}", HEAD, platforms);
    struct ck_error err = {0};
    int rc = ck_session_load_buffer("s.json", buf, strlen(buf), s, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
}

/* n copies of unit */
static char *rep(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

static void bluesky_counts_graphemes_to_300(void **st)
{
    (void)st;
    struct ck_session s;
    load(&s, BSKY);
    struct ck_postlen pl;
    /* e + COMBINING ACUTE: two code points, one grapheme. */
    char *fits = rep("e\xcc\x81", 300), *over = rep("e\xcc\x81", 301);
    assert_int_equal(ck_postlen_check(&s, fits, &pl), 0);
    assert_int_equal(pl.max, 300);
    assert_int_equal(pl.len, 300);
    assert_int_equal(ck_postlen_check(&s, over, &pl), 1);
    assert_int_equal(pl.len, 301);
    assert_int_equal(pl.max, 300);
    assert_non_null(strstr(pl.source, "bluesky"));
    free(fits);
    free(over);
    ck_session_finish(&s);
}

static void tightest_of_two_sources(void **st)
{
    (void)st;
    struct ck_session s;
    char both[1024];
    snprintf(both, sizeof both, "%s, %s", MASTO, BSKY);
    load(&s, both);
    struct ck_postlen pl;
    char *t = rep("x", 350); /* fine on Mastodon, too long on Bluesky */
    assert_int_equal(ck_postlen_check(&s, t, &pl), 1);
    assert_non_null(strstr(pl.source, "bluesky"));
    assert_int_equal(pl.max, 300);
    free(t);
    t = rep("x", 100);
    assert_int_equal(ck_postlen_check(&s, t, &pl), 0);
    assert_int_equal(pl.max, 300); /* the tightest is what the page shows */
    free(t);
    t = rep("x", 600); /* too long for both: the first named */
    assert_int_equal(ck_postlen_check(&s, t, &pl), 1);
    assert_non_null(strstr(pl.source, "mastodon"));
    assert_int_equal(pl.max, 500);
    assert_string_equal(pl.what, "the platform's default");
    free(t);
    ck_session_finish(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bluesky_counts_graphemes_to_300),
        cmocka_unit_test(tightest_of_two_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
