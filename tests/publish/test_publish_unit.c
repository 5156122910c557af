/* Helpers private to src/publish/: the session key
 * (ck_pub_key), how publishing knows its own posts, and the HTML without
 * line breaks that is sent (ck_pub_unwrap_html). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "publish_internal.h"

static void key_of(const char *tag, long long start, const char *title, char *buf, size_t n)
{
    struct ck_session s = {.hashtag = (char *)tag, .start_ms = start, .title = (char *)title};
    ck_pub_key(&s, buf, n);
}

static void test_key_names_one_session(void **state)
{
    (void)state;
    char a[24], b[24];
    key_of("uklibchat", 1796328000000LL, "Online networks", a, sizeof a);
    assert_int_equal(strlen(a), 19);
    assert_memory_equal(a, "ck-", 3);
    key_of("UKLibChat", 1796328000000LL, "Online networks", b, sizeof b);
    assert_string_equal(a, b); /* one chat, however the tag is spelt */
    key_of("uklibchat", 1796328000000LL + 60000, "Online networks", b, sizeof b);
    assert_string_not_equal(a, b); /* a rehearsal starts at another time */
    key_of("uklibchat", 1796328000000LL, "Reading lists", b, sizeof b);
    assert_string_not_equal(a, b); /* another chat */
    key_of("uklibcha", 1796328000000LL, "tOnline networks", b, sizeof b);
    assert_string_not_equal(a, b); /* the parts do not run into each other */
}

static void test_unwrap_keeps_pre(void **state)
{
    (void)state;
    char html[] = "<p>one\ntwo<br />\nthree</p>\n<pre><code>a\nb\n</code></pre>\n<PRE>c\nd</PRE>"
                  "<p>e\r\nf</p><preview>g\nh</preview>";
    ck_pub_unwrap_html(html);
    assert_string_equal(html, "<p>one two<br /> three</p> <pre><code>a\nb\n</code></pre> "
                              "<PRE>c\nd</PRE><p>e  f</p><preview>g h</preview>");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_names_one_session),
        cmocka_unit_test(test_unwrap_keeps_pre),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
