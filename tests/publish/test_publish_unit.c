/* Helpers private to src/publish/: the HTML without line breaks that is
 * sent (ck_pub_unwrap_html). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "publish_internal.h"

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
        cmocka_unit_test(test_unwrap_keeps_pre),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
