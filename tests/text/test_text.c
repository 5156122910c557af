/* ck_html_to_text and ck_utf8_sanitize: what a reader of the archive sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/text.h"

/* Both ways give want: the fast path for Mastodon's own HTML (when it takes
 * the fragment) and libxml2 alone. */
static void check_n(const char *html, size_t len, const char *want)
{
    char *got = ck_html_to_text(html, len);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    got = ck_html_to_text_libxml2(html, len);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void check(const char *html, const char *want)
{
    check_n(html, html != NULL ? strlen(html) : 0, want);
}

static void test_entities(void **state)
{
    check("<p>&quot;fish &amp; chips&quot; &lt;3 &#39;x&#39; &#x1F600; caf&eacute;</p>",
          "\"fish & chips\" <3 'x' \xF0\x9F\x98\x80 caf\xC3\xA9");
    check("a&nbsp;b", "a\xC2\xA0"
                      "b"); /* a no-break space is not collapsed */
}

static void test_breaks_and_paragraphs(void **state)
{
    check("<p>one<br>two<br/>three</p>", "one\ntwo\nthree");
    check("<p>one</p><p>two</p>", "one\n\ntwo");
    check("<p>a<br><br>b</p>", "a\n\nb");
    check("<p>a<br></p><p>b</p>", "a\n\nb");
    check("<p>line</p>\n\n<p>  next   line </p>", "line\n\nnext line");
    check("<div>a</div><div>b</div>", "a\nb");
    check("<ul><li>x</li><li>y</li></ul>after", "x\ny\n\nafter");
    check("<pre>keep   this\n  indent</pre>", "keep   this\n  indent");
    check("<pre></pre>a   b", "a b"); /* an empty <pre> ends where it starts */
    check("<pre/>a   b", "a b");
}

static void test_whitespace(void **state)
{
    check("  <p>  hello \t\n  world  </p>  ", "hello world");
    check("<a href=\"x\">x</a> <a href=\"y\">y</a>", "x y");
    check("<b>bold</b>text", "boldtext");
    check("<p>a <br> b</p>", "a\nb");
}

static void test_mentions_hashtags(void **state)
{
    check("<p><span class=\"h-card\"><a href=\"https://glammr.us/@bob\" class=\"u-url "
          "mention\">@<span>bob</span></a></span> A1: yes <a "
          "href=\"https://glammr.us/tags/uklibchat\" class=\"mention hashtag\" "
          "rel=\"tag\">#<span>uklibchat</span></a></p>",
          "@bob A1: yes #uklibchat");
}

static void test_links_invisible_ellipsis(void **state)
{
    /* Mastodon's own markup for a long link (from the Status docs example). */
    check("<p><a href=\"https://www.theguardian.com/money/2019/dec/07/x\" rel=\"nofollow\">"
          "<span class=\"invisible\">https://www.</span><span class=\"ellipsis\">"
          "theguardian.com/money/2019/dec</span><span class=\"invisible\">/07/x</span></a></p>",
          "https://www.theguardian.com/money/2019/dec/07/x");
    check("see <a href=\"https://a.example/\">the site</a>.", "see the site.");
}

static void test_dropped(void **state)
{
    check("<p>hi<script>alert('x')</script> there</p><style>p{color:red}</style>", "hi there");
    check("<template><p>no</p></template>yes", "yes");
}

static void test_invalid_utf8(void **state)
{
    check("caf\xE9 ok", "caf\xEF\xBF\xBD ok");                         /* Latin-1 byte */
    check("<p>\xC3</p>", "\xEF\xBF\xBD");                              /* truncated sequence */
    check("a\xED\xA0\x80z", "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz"); /* surrogate */
    check("\xF0\x9F\x98", "\xEF\xBF\xBD"); /* cut-off emoji: one U+FFFD */
    /* Noncharacters: libxml2 stopped at U+FFFE in an attribute and lost the
     * rest, while the fast path read on; both now read on, as U+FFFD. */
    check("<p>before <a href=\"https://x/\xEF\xBF\xBE\">link</a> after</p>", "before link after");
    check("<p>x \xEF\xBF\xBF y</p>", "x \xEF\xBF\xBD y");
    check_n("a\0b", 3,
            "a\xEF\xBF\xBD"
            "b"); /* embedded NUL */
}

static void test_sanitize(void **state)
{
    struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain", 5, "plain"},
        {"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
        {"\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD"}, /* overlong '/' */
        {"\xE0\x80\xAF", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xF4\x90\x80\x80", 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xE2\x82x", 3, "\xEF\xBF\xBDx"}, /* maximal subpart: one U+FFFD */
        {"\xFF", 1, "\xEF\xBF\xBD"},
        {"\xEF\xBF\xBE\xEF\xBF\xBF", 6, "\xEF\xBF\xBD\xEF\xBF\xBD"}, /* noncharacters */
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = ck_utf8_sanitize(cases[i].in, cases[i].len);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void test_empty(void **state)
{
    check(NULL, "");
    check("", "");
    check("   \n ", "");
    check("<p></p><br>", "");
    check("just text", "just text");
}

static void test_deterministic_and_hostile(void **state)
{
    /* Deep nesting must not exhaust the stack (the walk is iterative); libxml2
     * stops building the tree past its depth limit, which is fine for hostile
     * input as long as the result is the same every time. */
    size_t depth = 5000;
    char *deep = malloc(depth * 5 + 16);
    assert_non_null(deep);
    size_t o = 0;
    for (size_t i = 0; i < depth; i++) {
        memcpy(deep + o, "<div>", 5);
        o += 5;
    }
    memcpy(deep + o, "deep", 5);
    char *a = ck_html_to_text(deep, strlen(deep));
    char *b = ck_html_to_text(deep, strlen(deep));
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(deep);
    /* Text before hostile nesting survives it. */
    char *deeper = malloc(16 + depth * 5 + 16);
    assert_non_null(deeper);
    o = 0;
    memcpy(deeper + o, "<p>before</p>", 13);
    o += 13;
    for (size_t i = 0; i < depth; i++) {
        memcpy(deeper + o, "<div>", 5);
        o += 5;
    }
    memcpy(deeper + o, "deep", 5);
    char *c = ck_html_to_text(deeper, strlen(deeper));
    assert_non_null(c);
    assert_memory_equal(c, "before", 6);
    free(c);
    free(deeper);
    check("<p>after a halted parse</p>", "after a halted parse");
    check("<p>unclosed <b>bold <i>both</p>after", "unclosed bold both\n\nafter");
    check("<p>a</p></html>  b", "a\n\nb"); /* libxml2 reopens <html> for "b" */
    check("<html><body>x</body></html>y", "x\n\ny");
    check("<p>x<noscript>no<p>never</p></noscript> y</p>", "x y");
    check("<script><pre>  </pre></script>a   b", "a b");
    check("x &bogus; y </p>", "x &bogus; y");
    check("1 > 0 & 2 >= 1", "1 > 0 & 2 >= 1");
}

static void test_prefixed_names(void **state)
{
    /* An HTML parser takes "o:p" as one unknown, inline name, as browsers do
     * (Word pastes <o:p>); it is neither <p> nor a reason to drop text. */
    check("<p>a<o:p>b</o:p>c</p>", "abc");
    check("<x:script>shown</x:script>", "shown");
    check("<p>one <a:1>two</a:1> three &amp; four</p>", "one two three & four");
}

static void test_many_calls(void **state)
{
    /* One parser serves every call; it is replaced after a large fragment or
     * once it has met many distinct tag names, and output never depends on
     * what came before. */
    char html[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(html, sizeof html, "<x%d class=c%d>t%d</x%d> <p>p</p>", i, i, i % 10, i);
        char want[16];
        snprintf(want, sizeof want, "t%d\n\np", i % 10);
        check(html, want);
    }
    size_t big = 200 * 1024;
    char *large = malloc(big + 1);
    assert_non_null(large);
    for (size_t i = 0; i < big; i++)
        large[i] = i % 8 == 7 ? ' ' : 'w';
    large[big] = '\0';
    char *got = ck_html_to_text(large, big);
    assert_non_null(got);
    assert_int_equal(strlen(got), big - 1); /* the trailing space is trimmed */
    free(got);
    free(large);
    check("<p>one</p><p>two</p>", "one\n\ntwo");
}

/* ---- the fast path against libxml2, on generated fragments ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void put(char *buf, size_t *len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n < cap) {
        memcpy(buf + *len, s, n);
        *len += n;
        buf[*len] = '\0';
    }
}

/* Pieces of Mastodon's HTML (first in each list, up to its _ok count) and of
 * everything around it the fast path must leave to libxml2 (other tags,
 * quoting, entities, stray characters). */
static const char *const texts[] = {
    "A1 ",
    "hello",
    " world ",
    "  ",
    "\n",
    "\t",
    "\r\n",
    "caf\xC3\xA9",
    "\xF0\x9F\x99\x82",
    "a > b",
    "http://example.org/x?a=1",
    "Q2:",
    "#tag",
    "@user",
    "x\x01y",
    "\x7f",
    "\xEF\xBF\xBE",
    "\f",
};
#define TEXTS_OK 14
static const char *const entities[] = {
    "&amp;",  "&lt;",   "&gt;",     "&quot;",   "&#39;",    "&#8230;", "&#128512;", "&#160;",
    "&#x27;", "&nbsp;", "&hellip;", "&",        "& ",       "&amp",    "&#0;",      "&#1114112;",
    "&#31;",  "&#127;", "&bogus;",  "&#55296;", "&#65534;", "&#159;",
};
#define ENTITIES_OK 8
static const char *const inline_tags[] = {
    "a",   "span",  "b",    "strong", "i",    "em", "code", "del", "s",      "u",   "sub",
    "sup", "small", "font", "q",      "SPAN", "p",  "div",  "pre", "script", "o:p", "li"};
#define INLINE_OK 13
static const char *const attrs[] = {"",
                                    " class=\"invisible\"",
                                    " href=\"https://example.org/a?b=1&amp;c=2\"",
                                    " rel=\"nofollow noopener\" translate=\"no\"",
                                    " target=\"_blank\"",
                                    " data-x=\"a>b\"",
                                    "  class=\"h-card\"",
                                    " class='x'",
                                    " class=x",
                                    " hidden",
                                    " CLASS=\"x\"",
                                    "/",
                                    " /",
                                    " class=\"a\"b=\"c\""};
#define ATTRS_OK 8

/* One of list, from its first ok entries unless this piece strays. */
static const char *pick(const char *const *list, size_t n, size_t ok, int stray)
{
    return (int)rnd(100) < stray ? list[rnd((uint32_t)n)] : list[rnd((uint32_t)ok)];
}
#define PICK(list, ok, stray) pick(list, sizeof list / sizeof *list, ok, stray)

/* Inline content at depth (1 inside a paragraph); stray: percent of pieces
 * drawn from everything rather than from the subset. */
static void fragment(char *buf, size_t cap, int depth, int stray)
{
    size_t len = strlen(buf);
    int parts = 1 + (int)rnd(depth <= 1 ? 6 : 3);
    for (int i = 0; i < parts; i++) {
        switch (rnd(10)) {
        case 0:
        case 1:
        case 2:
        case 3:
            put(buf, &len, cap, PICK(texts, TEXTS_OK, stray));
            break;
        case 4:
            put(buf, &len, cap, PICK(entities, ENTITIES_OK, stray));
            break;
        case 5:
            put(buf, &len, cap, rnd(4) ? "<br>" : rnd(2) ? "<br />" : "<br/>");
            break;
        case 6:
            if ((int)rnd(100) < stray) {
                put(buf, &len, cap, rnd(2) ? "<" : rnd(2) ? "<!-- c -->" : "</p>");
                break;
            }
            __attribute__((fallthrough));
        default: {
            const char *t = PICK(inline_tags, INLINE_OK, stray);
            put(buf, &len, cap, "<");
            put(buf, &len, cap, t);
            put(buf, &len, cap, PICK(attrs, ATTRS_OK, stray));
            put(buf, &len, cap, ">");
            if (depth < 4 && rnd(3) != 0)
                fragment(buf, cap, depth + 1, stray);
            len = strlen(buf);
            if ((int)rnd(100) >= stray / 2) {
                put(buf, &len, cap, "</");
                put(buf, &len, cap, (int)rnd(100) < stray / 4 ? "span" : t);
                put(buf, &len, cap, ">");
            }
        }
        }
    }
}

/* Mostly what Mastodon writes, paragraphs of inline content, each piece of
 * which may stray from the subset; otherwise anything. */
static bool document(char *buf, size_t cap)
{
    buf[0] = '\0';
    int stray = rnd(3) == 0 ? 0 : (int)rnd(40);
    if (rnd(5) == 0) {
        fragment(buf, cap, 0, 50); /* text and tags outside any paragraph */
        return false;
    }
    size_t len = 0;
    int paras = 1 + (int)rnd(3);
    for (int i = 0; i < paras; i++) {
        put(buf, &len, cap, rnd(8) ? "<p>" : "<p class=\"x\">");
        fragment(buf, cap, 1, stray);
        len = strlen(buf);
        put(buf, &len, cap, "</p>");
        if (rnd(6) == 0)
            put(buf, &len, cap, rnd(2) ? "\n" : " ");
    }
    return true;
}

/* Whatever the fragment, the fast path gives libxml2's text or leaves it to
 * libxml2: the same output either way. */
static void test_fast_path_matches_libxml2(void **state)
{
    char buf[4096];
    size_t mastodon_like = 0;
    for (int n = 0; n < 30000; n++) {
        bool paragraphs = document(buf, sizeof buf);
        char *fast = ck_html_to_text(buf, strlen(buf));
        char *ref = ck_html_to_text_libxml2(buf, strlen(buf));
        assert_non_null(fast);
        assert_non_null(ref);
        if (strcmp(fast, ref) != 0)
            fail_msg("fragment %d: %s\nfast:    \"%s\"\nlibxml2: \"%s\"", n, buf, fast, ref);
        mastodon_like += paragraphs;
        free(fast);
        free(ref);
    }
    assert_true(mastodon_like > 5000); /* the generator does reach the subset */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_breaks_and_paragraphs),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_mentions_hashtags),
        cmocka_unit_test(test_links_invisible_ellipsis),
        cmocka_unit_test(test_dropped),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_deterministic_and_hostile),
        cmocka_unit_test(test_prefixed_names),
        cmocka_unit_test(test_many_calls),
        cmocka_unit_test(test_fast_path_matches_libxml2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
