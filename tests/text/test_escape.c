/* escape.h: HTML, Markdown and CSV escaping, URL allow-listing and finding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/escape.h"

typedef void (*esc_fn)(struct ck_sink *, const char *, size_t);

static char *run(esc_fn f, const char *in)
{
    struct ck_sink s;
    ck_sink_init_mem(&s);
    f(&s, in, strlen(in));
    assert_int_equal(ck_sink_finish(&s), 0);
    return s.buf;
}

static void expect(esc_fn f, const char *in, const char *want)
{
    char *got = run(f, in);
    assert_string_equal(got, want);
    free(got);
}

static void html_plain(struct ck_sink *s, const char *t, size_t n)
{
    ck_html_text(s, t, n, false);
}
static void html_br(struct ck_sink *s, const char *t, size_t n)
{
    ck_html_text(s, t, n, true);
}
static void md_plain(struct ck_sink *s, const char *t, size_t n)
{
    ck_md_text(s, t, n, "  \n  ");
}
static void md_linked(struct ck_sink *s, const char *t, size_t n)
{
    ck_md_text_linked(s, t, n, "  \n  ");
}

static void test_html(void **state)
{
    (void)state;
    expect(html_plain, "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;");
    expect(html_plain, "a\"b'c&d", "a&quot;b&#39;c&amp;d");
    expect(html_br, "one\ntwo\r\nthree", "one<br>\ntwo<br>\nthree");
    /* Bidi overrides and isolates (U+202E, U+2066) and C0 controls go. */
    expect(html_plain, "abc\xE2\x80\xAEgnp.exe\xE2\x81\xA6x\x01y", "abcgnp.exexy");
    /* Other characters in the same block stay (U+2019). */
    expect(html_plain, "it\xE2\x80\x99s", "it\xE2\x80\x99s");
    expect(ck_html_text_linked, "see https://a.org/x?y=1&z=2. <b>",
           "see <a href=\"https://a.org/x?y=1&amp;z=2\" rel=\"nofollow ugc noopener\">"
           "https://a.org/x?y=1&amp;z=2</a>. &lt;b&gt;");
    expect(ck_html_text_linked, "javascript:alert(1) data:text/html,x",
           "javascript:alert(1) data:text/html,x");
    expect(ck_html_text_linked, "x\"https://a.org\"onmouseover=1",
           "x&quot;<a href=\"https://a.org\" rel=\"nofollow ugc noopener\">https://a.org</a>"
           "&quot;onmouseover=1");
}

static void test_url(void **state)
{
    (void)state;
    assert_true(ck_url_safe("https://glammr.us/@a"));
    assert_true(ck_url_safe("HTTP://example.org"));
    assert_false(ck_url_safe("javascript:alert(1)"));
    assert_false(ck_url_safe("JaVaScRiPt:alert(1)"));
    assert_false(ck_url_safe("data:text/html;base64,PHNjcmlwdD4="));
    assert_false(ck_url_safe(" https://a.org"));
    assert_false(ck_url_safe("https://a.org/\tx"));
    assert_false(ck_url_safe("https://"));
    assert_false(ck_url_safe("https:///etc/passwd"));
    assert_false(ck_url_safe("//evil.org"));
    assert_false(ck_url_safe(NULL));

    size_t st, ul;
    const char *t = "(see https://en.wikipedia.org/wiki/Foo_(bar)), and http://x.org/a.";
    assert_true(ck_url_next(t, strlen(t), &st, &ul));
    assert_int_equal(ul, strlen("https://en.wikipedia.org/wiki/Foo_(bar)"));
    assert_memory_equal(t + st, "https://en.wikipedia.org/wiki/Foo_(bar)", ul);
    size_t at = st + ul;
    assert_true(ck_url_next(t + at, strlen(t) - at, &st, &ul));
    assert_memory_equal(t + at + st, "http://x.org/a", ul);
    assert_int_equal(ul, 14);
    assert_false(ck_url_next("no link, xhttp://a.org", 22, &st, &ul));
    assert_false(ck_url_next("https:// nothing", 16, &st, &ul));
}

static void test_markdown(void **state)
{
    (void)state;
    expect(md_plain, "*bold* _u_ [x](javascript:y) <b> #tag `c` a|b !x",
           "\\*bold\\* \\_u\\_ \\[x](javascript:y) \\<b> #tag \\`c\\` a\\|b !x");
    /* Only what would change the rendering is escaped (issue 14): not inside
     * words, not brackets, dashes, hashtags or '&' mid-line. */
    expect(md_plain, "thanks amara_o (and @kev_s) - co-design #uklibchat 2 * 3 R&D +1 A1-",
           "thanks amara_o (and @kev_s) - co-design #uklibchat 2 * 3 R&D +1 A1-");
    expect(md_plain, "#uklibchat A1\n1) one\n~~~\n~~gone~~ &amp; &#38; &x",
           "\\#uklibchat A1  \n  1\\) one  \n  \\~\\~\\~  \n  \\~\\~gone\\~\\~ \\&amp; \\&#38; &x");
    /* A line never starts a block: quote, heading, list, numbered list, setext. */
    expect(md_plain, "> quote\n# h\n- item\n1. one\n===\n    code",
           "\\> quote  \n  \\# h  \n  \\- item  \n  1\\. one  \n  \\===  \n  code");
    expect(md_plain,
           "a\xE2\x80\xAE"
           "b",
           "ab");
    /* A dropped character first on a line must not hide block markup
     * from the escaping (found by fuzzing). */
    expect(md_plain,
           "\x01"
           "1. one\n\x7f    code\n\xE2\x80\xAE===\n\x02"
           "1\x03. two",
           "1\\. one  \n  code  \n  \\===  \n  1\\. two");
    expect(md_linked, "see https://a.org/x_(y) now",
           "see [https://a.org/x\\_(y)](https://a.org/x_%28y%29) now");
    expect(md_linked, "https://a.org/\"x", "[https://a.org/](https://a.org/)\"x");
}

static void test_csv(void **state)
{
    (void)state;
    expect(ck_csv_field, "plain", "plain");
    expect(ck_csv_field, "a,b", "\"a,b\"");
    expect(ck_csv_field, "say \"hi\"", "\"say \"\"hi\"\"\"");
    expect(ck_csv_field, "two\nlines", "\"two\nlines\"");
    expect(ck_csv_field, "=1+2", "'=1+2");
    expect(ck_csv_field, "+1", "'+1");
    expect(ck_csv_field, "-1", "'-1");
    expect(ck_csv_field, "@SUM(A1)", "'@SUM(A1)");
    expect(ck_csv_field, "\tx", "'\tx");
    /* Controls are dropped (a lone CR is a line break) before the formula
     * check, which sees the first kept character. */
    expect(ck_csv_field, "\rx", "\"\nx\"");
    expect(ck_csv_field,
           "\x1b[31mred\x07 \xE2\x80\xAE"
           "evil\x7f",
           "[31mred evil");
    expect(ck_csv_field, "\x07=1+2", "'=1+2");
    expect(ck_csv_field,
           "a\xC2\x9B"
           "b",
           "ab");
    expect(ck_csv_field, "=HYPERLINK(\"http://e\",\"x\")",
           "\"'=HYPERLINK(\"\"http://e\"\",\"\"x\"\")\"");
    expect(ck_csv_field, "", "");
    expect(ck_csv_field, "a=b", "a=b");
}

static void test_sink_error_sticky(void **state)
{
    (void)state;
    struct ck_sink s;
    struct ck_error err = {0};
    /* A folder that does not exist: open fails, and writes after it are no-ops. */
    assert_int_not_equal(ck_sink_open_file(&s, "/nonexistent-dir/x/out.txt", &err), 0);
    ck_sink_puts(&s, "x");
    assert_int_not_equal(ck_sink_finish(&s), 0);
    assert_int_not_equal(err.code, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_sink_error_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
