/* libxml2 is loaded the first time HTML outside Mastodon's subset needs it
 * (src/text/xml_load.c), and its absence costs the text its finer points but
 * never a crash or markup in the output (src/text/html_strip.c).
 *   test_xml_load lazy     the library is not in the process until needed
 *   test_xml_load missing  a soname that does not exist: one error, tags stripped
 * Separate runs, because a library once loaded stays. This program is not
 * linked with libxml2 (only tests that check our HTML are). */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/log.h"
#include "chatkeeper/text.h"
#include "xml_load.h"

static const char mastodon[] = "<p>Hello <a href=\"https://m.example/tags/x\" class=\"mention "
                               "hashtag\" rel=\"tag\">#<span>x</span></a> &amp; all</p>";
static const char odd[] = "<div><table><tr><td>odd</td></tr></table><p>x &amp; y</p></div>";

static bool xml_in_process(void)
{
    void *lib = dlopen(CK_XML_SONAME, RTLD_LAZY | RTLD_NOLOAD);
    if (lib != NULL)
        dlclose(lib);
    return lib != NULL;
}

static void expect(char *(*conv)(const char *, size_t), const char *html, const char *want)
{
    char *got = conv(html, strlen(html));
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_loaded_on_first_use(void **state)
{
    assert_false(xml_in_process());
    /* Mastodon's own HTML is the fast path's: libxml2 stays out. */
    for (int i = 0; i < 3; i++)
        expect(ck_html_to_text, mastodon, "Hello #x & all");
    assert_false(xml_in_process());
    /* Outside the subset the real parser is loaded and reads it. */
    expect(ck_html_to_text, odd, "odd\n\nx & y");
    assert_true(xml_in_process());
    expect(ck_html_to_text_libxml2, "<p>a<br>b</p>", "a\nb");
}

/* What stderr got while f ran. */
static char *stderr_of(void (*f)(void))
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_true(saved >= 0 && tmp != NULL);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    f();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    long n = ftell(tmp);
    assert_true(n >= 0);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    rewind(tmp);
    assert_int_equal(fread(text, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return text;
}

static void fast_only(void)
{
    expect(ck_html_to_text, mastodon, "Hello #x & all");
}

static void slow_twice(void)
{
    expect(ck_html_to_text, odd, "odd\n\nx & y");
    expect(ck_html_to_text_libxml2, odd, "odd\n\nx & y");
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_missing_logged_once(void **state)
{
    ck_log_set_level(CK_LOG_INFO);
    /* Nothing to say while the fast path reads everything. */
    char *log = stderr_of(fast_only);
    assert_string_equal(log, "");
    free(log);
    log = stderr_of(slow_twice);
    assert_int_equal(count(log, "\n"), 1);
    assert_int_equal(count(log, "error"), 1);
    assert_non_null(strstr(log, "libxml2 (libchatkeeper-test-no-such-libxml2.so.0)"));
    assert_non_null(strstr(log, "tags stripped"));
    free(log);
    assert_false(xml_in_process());
}

/* Both entry points give the stripped text, the fast path untouched. */
static void both(const char *html, const char *want)
{
    expect(ck_html_to_text, html, want);
    expect(ck_html_to_text_libxml2, html, want);
}

static void test_missing_strips_tags(void **state)
{
    expect(ck_html_to_text, mastodon, "Hello #x & all");
    both("<p>a<br>b</p><script>alert('<p>x</p>')</script><style>p{}</style>c", "a\nb\n\nc");
    both("<P>one</P><P>two</P><o:p>x</o:p>y", "one\n\ntwo\n\nxy");
    both("<ul><li>x</li><li>y</li></ul>after", "x\ny\n\nafter");
    both("<pre>  keep\n this</pre>  x   y", "  keep\n this\n\nx y");
    both("<div>  a \t\n b  </div><div>c</div>", "a b\nc");
    /* Markup never shows, whatever its shape. */
    both("<img src=x onerror=alert(1)>", "");
    both("<a href='x>y'>link</a> <b title=\"a>b\">t</b>", "link t");
    both("<a b'c>d</a>", "d"); /* a quote outside a value quotes nothing */
    both("<!-- <p>hidden</p> -->shown<!DOCTYPE html><?pi x?>", "shown");
    both("a <b", "a");
    both("a <b href=\"", "a");
    both("<!-- open", "");
    both("<script>never", "");
    both("<SCRIPT>x</script >y<noscript><p>z</p></NOSCRIPT>w", "yw");
    /* A "<" that opens nothing is text, as in HTML. */
    both("<div>x < y &amp;&amp; 2<3 <> </ z</div>", "x < y && 2<3 <> </ z");
    /* The common entities decoded; any other left as written. */
    both("<div>&#65;&#x42;&#X43;&lt;b&gt;&quot;&apos;a&nbsp;!</div>", "ABC<b>\"'a\xC2\xA0!");
    both("<div>&#0; &#xD800; &#x110000; &#xFFFE; &#1; &#x9F; &bogus; &eacute; &amp</div>",
         "&#0; &#xD800; &#x110000; &#xFFFE; &#1; &#x9F; &bogus; &eacute; &amp");
    both("<div>&#x1F600;&#233;&#x20AC;</div>", "\xF0\x9F\x98\x80\xC3\xA9\xE2\x82\xAC");
}

static uint64_t seed = 0x5eed;

static unsigned rnd(unsigned n)
{
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return (unsigned)(seed >> 33) % n;
}

/* Whatever the input, the stripped text is valid UTF-8; and as every ASCII
 * letter in these inputs is in markup (a tag, a comment, a dropped element),
 * none shows, unless an "&" could have decoded to one. */
static void test_missing_hostile(void **state)
{
    static const char *const bits[] = {
        "<",      ">",      "</",     "<p>",  "</p>", "<br/>",  "<script>", "</script", "'",
        "\"",     "=",      "<!--",   "-->",  "<!",   "<?",     "&",        "&#",       "1",
        " ",      "\n",     "<pre>",  "é",    ";",    "\xff",   "=\"",      "<a ",      "</pre>",
        "&#x1F;", "&#x41;", "<style", "\x00", "/",    "<P a='", "<!-",      "&lt;",     "-",
    };
    const size_t nbits = sizeof bits / sizeof bits[0];
    char buf[512];
    for (int n = 0; n < 20000; n++) {
        size_t len = 0;
        size_t parts = rnd(40);
        for (size_t i = 0; i < parts; i++) {
            const char *b = bits[rnd((unsigned)nbits)];
            size_t bl = b[0] == '\0' ? 1 : strlen(b); /* "\x00": one NUL byte */
            if (len + bl >= sizeof buf)
                break;
            memcpy(buf + len, b, bl);
            len += bl;
        }
        char *got = ck_html_to_text_libxml2(buf, len);
        assert_non_null(got);
        char *clean = ck_utf8_sanitize(got, strlen(got));
        assert_non_null(clean);
        assert_string_equal(clean, got);
        free(clean);
        if (memchr(buf, '&', len) == NULL) {
            for (const char *p = got; *p != '\0'; p++)
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
                    fail_msg("input %d \"%.*s\" shows markup: \"%s\"", n, (int)len, buf, got);
        }
        free(got);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "lazy") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_loaded_on_first_use),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    if (argc == 2 && strcmp(argv[1], "missing") == 0) {
        ck_text__xml_soname("libchatkeeper-test-no-such-libxml2.so.0");
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_missing_logged_once),
            cmocka_unit_test(test_missing_strips_tags),
            cmocka_unit_test(test_missing_hostile),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    fprintf(stderr, "usage: test_xml_load lazy|missing\n");
    return 2;
}
