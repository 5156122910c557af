/* HTML to plain text, the fast path for Mastodon's own HTML (see below and
 * html_text.c, which falls back to libxml2 for anything else). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "chatkeeper/error.h"
#include "html_text_int.h"

/* ---- the fast path: Mastodon's own HTML ----
 *
 * Mastodon sanitises every status to a small, regular subset: paragraphs of
 * text, <br>, links and spans with double-quoted attributes, and the five
 * escapes &amp; &lt; &gt; &quot; &#39;. Most of the archive's time beyond
 * parsing JSON went to libxml2 reading exactly that, so it is read here
 * directly, and anything outside the subset (another tag, a comment, a bare
 * "&", a control character, tags that do not nest, text outside a paragraph)
 * gives up and leaves the fragment to libxml2, from the start. The subset is
 * chosen so that libxml2 builds the same tree for it (no implied or
 * auto-closed elements, no entity it would read differently), which makes the
 * output the same; tests/render/test_text.c compares the two on generated
 * fragments. */

/* Inline elements the fast path reads; all render as their text. */
static const struct {
    const char *name;
    size_t len;
} fast_inline[] = {
#define NAME(s)                                                                                    \
    {                                                                                              \
        s, sizeof s - 1                                                                            \
    }
    NAME("a"),     NAME("b"),    NAME("code"),   NAME("del"), NAME("em"),  NAME("i"), NAME("s"),
    NAME("small"), NAME("span"), NAME("strong"), NAME("sub"), NAME("sup"), NAME("u"),
#undef NAME
};

#define FAST_MAX_DEPTH 32

/* The tag name at s[*i] (lowercase ASCII letters and digits, starting with a
 * letter); its length, or 0. */
static size_t fast_name(const char *s, size_t len, size_t i)
{
    size_t n = 0;
    if (i >= len || s[i] < 'a' || s[i] > 'z')
        return 0;
    while (i + n < len &&
           ((s[i + n] >= 'a' && s[i + n] <= 'z') || (s[i + n] >= '0' && s[i + n] <= '9')))
        n++;
    return n;
}

/* Skip attributes up to and including '>': ( ' '+ name ( '=' '"' value '"' )? )* ' '* '/'? '>'.
 * *self_closing: it ended with "/>". Returns the index after '>', or 0. */
static size_t fast_attrs(const char *s, size_t len, size_t i, bool *self_closing)
{
    *self_closing = false;
    for (;;) {
        size_t sp = i;
        while (i < len && s[i] == ' ')
            i++;
        if (i >= len)
            return 0;
        if (s[i] == '>')
            return i + 1;
        if (s[i] == '/') {
            if (i + 1 < len && s[i + 1] == '>') {
                *self_closing = true;
                return i + 2;
            }
            return 0;
        }
        if (sp == i)
            return 0; /* attributes are separated by spaces */
        size_t n = 0;
        while (i + n < len && ((s[i + n] >= 'a' && s[i + n] <= 'z') || s[i + n] == '-'))
            n++;
        if (n == 0)
            return 0;
        i += n;
        if (i < len && s[i] == '=') {
            if (i + 1 >= len || s[i + 1] != '"')
                return 0;
            const char *q = memchr(s + i + 2, '"', len - (i + 2));
            if (q == NULL)
                return 0;
            i = (size_t)(q - s) + 1;
        }
    }
}

/* The escape at s[i] ('&'): its text into out (at most 4 bytes), the length
 * read in *used. Returns the text's length, or 0 for anything the fast path
 * does not read. */
static size_t fast_entity(const char *s, size_t len, size_t i, char out[4], size_t *used)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t n = strlen(named[k].name);
        if (len - i >= n && memcmp(s + i, named[k].name, n) == 0) {
            out[0] = named[k].c;
            *used = n;
            return 1;
        }
    }
    /* &#39; and other decimal references to printable characters. */
    size_t j = i + 1;
    if (j >= len || s[j] != '#')
        return 0;
    j++;
    uint32_t cp = 0;
    size_t digits = 0;
    while (j < len && s[j] >= '0' && s[j] <= '9' && digits < 7) {
        cp = cp * 10 + (uint32_t)(s[j] - '0');
        j++;
        digits++;
    }
    if (digits == 0 || j >= len || s[j] != ';')
        return 0;
    *used = j + 1 - i;
    /* Printable: no control (C0, DEL, C1), surrogate or U+FFFE/U+FFFF. */
    if ((cp >= 0x20 && cp < 0x7f) || (cp >= 0xA0 && cp < 0xD800) || (cp >= 0xE000 && cp < 0xFFFE) ||
        (cp >= 0x10000 && cp <= 0x10FFFF))
        return ck_utf8_encode(cp, out);
    return 0;
}

/* What a byte means inside a text run: the run goes on, stops ('<', '&'),
 * is left to libxml2 (a control character other than tab, newline and
 * carriage return, or DEL), or may start U+FFFE/U+FFFF (0xEF). */
enum { RUN_ON = 0, RUN_STOP, RUN_BAD, RUN_EF };
static const unsigned char run_class[256] = {
    [0] = RUN_BAD,    [1] = RUN_BAD,    [2] = RUN_BAD,   [3] = RUN_BAD,  [4] = RUN_BAD,
    [5] = RUN_BAD,    [6] = RUN_BAD,    [7] = RUN_BAD,   [8] = RUN_BAD,  [11] = RUN_BAD,
    [12] = RUN_BAD,   [14] = RUN_BAD,   [15] = RUN_BAD,  [16] = RUN_BAD, [17] = RUN_BAD,
    [18] = RUN_BAD,   [19] = RUN_BAD,   [20] = RUN_BAD,  [21] = RUN_BAD, [22] = RUN_BAD,
    [23] = RUN_BAD,   [24] = RUN_BAD,   [25] = RUN_BAD,  [26] = RUN_BAD, [27] = RUN_BAD,
    [28] = RUN_BAD,   [29] = RUN_BAD,   [30] = RUN_BAD,  [31] = RUN_BAD, [127] = RUN_BAD,
    ['<'] = RUN_STOP, ['&'] = RUN_STOP, [0xEF] = RUN_EF,
};

/* Where the text run at s[i] ends ('<', '&' or the end), or SIZE_MAX when it
 * holds a byte the fast path leaves to libxml2: a control character other
 * than tab, newline and carriage return, DEL, or U+FFFE/U+FFFF. */
static size_t fast_text_end(const char *s, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    for (;; i++) {
        while (i < len && run_class[u[i]] == RUN_ON)
            i++;
        if (i >= len || run_class[u[i]] == RUN_STOP)
            return i;
        if (run_class[u[i]] == RUN_BAD)
            return SIZE_MAX;
        if (i + 2 < len && u[i + 1] == 0xBF && (u[i + 2] == 0xBE || u[i + 2] == 0xBF))
            return SIZE_MAX;
    }
}

/* Render s (sanitised UTF-8) into b if it is in the subset; false (b then
 * holds a partial rendering to throw away) if it is not. */
bool ck_text__fast_render(struct textbuf *b, const char *s, size_t len)
{
    const char *open[FAST_MAX_DEPTH]; /* names of the open elements */
    size_t open_len[FAST_MAX_DEPTH];
    int depth = 0;
    bool any = false;
    size_t i = 0;
    while (i < len) {
        if (s[i] == '<' && i + 1 < len && s[i + 1] == '/') {
            size_t n = fast_name(s, len, i + 2);
            size_t end = i + 2 + n;
            if (n == 0 || end >= len || s[end] != '>' || depth == 0 || open_len[depth - 1] != n ||
                memcmp(open[depth - 1], s + i + 2, n) != 0)
                return false;
            depth--;
            if (depth == 0)
                ck_text__tb_break(b, 2); /* leaving the paragraph */
            i = end + 1;
        } else if (s[i] == '<') {
            size_t n = fast_name(s, len, i + 1);
            if (n == 0)
                return false;
            const char *name = s + i + 1;
            bool self_closing, br = n == 2 && memcmp(name, "br", 2) == 0;
            size_t next = fast_attrs(s, len, i + 1 + n, &self_closing);
            if (next == 0 || (self_closing && !br))
                return false;
            if (br) {
                if (depth == 0)
                    return false;
                b->owed_breaks++;
                b->owed_space = false;
            } else {
                if (depth == FAST_MAX_DEPTH)
                    return false;
                if (depth == 0) {
                    if (n != 1 || name[0] != 'p')
                        return false;
                    ck_text__tb_break(b, 2); /* entering the paragraph */
                } else {
                    bool known = false;
                    for (size_t k = 0; k < sizeof fast_inline / sizeof *fast_inline && !known; k++)
                        known =
                            fast_inline[k].len == n && memcmp(fast_inline[k].name, name, n) == 0;
                    /* Spans nest (a mention is a link in a span with a span
                     * in it); a link in a link, or the like, is libxml2's. */
                    bool span = n == 4 && memcmp(name, "span", 4) == 0;
                    for (int k = 0; k < depth && known && !span; k++)
                        known = !(open_len[k] == n && memcmp(open[k], name, n) == 0);
                    if (!known)
                        return false; /* not inline, or nested in itself */
                }
                open[depth] = name;
                open_len[depth++] = n;
                any = true;
            }
            i = next;
        } else if (s[i] == '&') {
            char t[4];
            size_t used, n = fast_entity(s, len, i, t, &used);
            if (n == 0 || depth == 0)
                return false;
            ck_text__emit_text(b, (const unsigned char *)t, n, false);
            i += used;
        } else {
            size_t end = fast_text_end(s, len, i);
            if (end == SIZE_MAX)
                return false;
            if (depth == 0) {
                /* Between paragraphs only blanks, which render as nothing. */
                for (size_t k = i; k < end; k++)
                    if (!is_space((unsigned char)s[k]) || s[k] == '\f')
                        return false;
            } else {
                ck_text__emit_text(b, (const unsigned char *)s + i, end - i, false);
            }
            i = end;
        }
    }
    return depth == 0 && any && !b->sb.oom;
}
