/* HTML to plain text, the way a reader sees a status in a browser.
 *
 * Statuses arrive as HTML fragments written by many servers (Mastodon, Pleroma,
 * GoToSocial, Misskey...), so we parse them with libxml2's forgiving HTML parser
 * instead of matching tags with patterns. We render straight from its SAX
 * events and build no tree: building, walking and freeing one per status took
 * about 40% of the time. The state is a few counters and a bounded stack (no
 * recursion, no depth to exhaust on hostile nesting), and the output is what a
 * walk of the tree libxml2 would have built gives:
 *   - text with whitespace runs collapsed to one space, as CSS "normal" does;
 *   - <br> as a newline, block elements (<p>, <div>, <li>...) as line breaks,
 *     paragraphs separated by a blank line, <pre> text as it is;
 *   - links, mentions and hashtags as their visible text; Mastodon hides parts
 *     of long URLs in <span class="invisible"> and shortens the rest with CSS
 *     (class "ellipsis" adds "…" with ::after), so taking all text as is keeps
 *     the URL whole and adds no ellipsis;
 *   - nothing from <script>, <style>, <template>, <head> or <noscript>.
 * Line breaks and spaces are owed and only written before the next visible
 * character, so output is trimmed without a second pass. */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "chatkeeper/text.h"

#include "chatkeeper/sbuf.h"

/* s (len bytes, not NULL unless len is 0) sanitised into out, which has room
 * for len * 3 + 1 bytes (each bad byte becomes 3 at most); returns the
 * length written before the terminating NUL. */
static size_t sanitize_into(const char *s, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t need = 0;
        uint32_t cp = 0, min = 0;
        if (c >= 0x01 && c < 0x80) {
            /* ASCII is most of any status: find the run eight bytes at a
             * time (no byte with its top bit set, none zero), copy it whole. */
            size_t run = i + 1;
            while (len - run >= 8) {
                uint64_t w;
                memcpy(&w, p + run, 8);
                if ((w & 0x8080808080808080u) != 0 ||
                    ((w - 0x0101010101010101u) & ~w & 0x8080808080808080u) != 0)
                    break;
                run += 8;
            }
            while (run < len && p[run] >= 0x01 && p[run] < 0x80)
                run++;
            memcpy(out + o, p + i, run - i);
            o += run - i;
            i = run;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        }
        /* Decode the longest valid prefix; on failure replace only that
         * prefix (the "maximal subpart" practice of Unicode chapter 3), so a
         * bad byte never swallows the valid character after it. c == 0 also
         * lands here: an embedded NUL would silently cut a C string short. */
        size_t k = 1;
        bool ok = need > 0;
        while (ok && k <= need) {
            if (i + k >= len || (p[i + k] & 0xC0) != 0x80) {
                ok = false;
                break;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
            /* Reject overlongs, surrogates and > U+10FFFF as early as the
             * second byte, so the bytes after stay separate subparts. */
            if (k == 1 && need >= 2) {
                uint32_t top = cp << (6 * (need - 1));
                if (top < min || (top >= 0xD800 && top <= 0xDFFF && need == 2) || top > 0x10FFFF) {
                    ok = false;
                    break;
                }
            }
            k++;
        }
        /* U+FFFE and U+FFFF are well-formed but not characters: libxml2 stops
         * at one inside an attribute and the rest of the status is lost, and
         * no output of ours (HTML, SVG, XML) may carry them. They become
         * U+FFFD like any bad byte, before either parser sees them. */
        if (ok && need == 2 && (cp == 0xFFFE || cp == 0xFFFF))
            ok = false, k = 3;
        if (ok && cp >= min && !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF) {
            memcpy(out + o, p + i, need + 1);
            o += need + 1;
            i += need + 1;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += k;
        }
    }
    out[o] = '\0';
    return o;
}

char *ck_utf8_sanitize(const char *s, size_t len)
{
    if (s == NULL)
        len = 0;
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (out != NULL)
        sanitize_into(s, len, out);
    return out;
}

struct textbuf {
    struct ck_sbuf sb;
    int owed_breaks; /* newlines to write before the next visible character */
    bool owed_space; /* a collapsed whitespace run to write before it */
};

static void tb_put(struct textbuf *b, const char *s, size_t n)
{
    ck_sbuf_put(&b->sb, s, n);
}

/* Write what is owed before visible text. Nothing is owed at the very start:
 * that is the leading trim. */
static void tb_flush_owed(struct textbuf *b)
{
    if (b->sb.len > 0) {
        if (b->owed_breaks > 0) {
            for (int i = 0; i < b->owed_breaks; i++)
                tb_put(b, "\n", 1);
        } else if (b->owed_space && b->sb.s[b->sb.len - 1] != '\n') {
            tb_put(b, " ", 1);
        }
    }
    b->owed_breaks = 0;
    b->owed_space = false;
}

static void tb_break(struct textbuf *b, int n)
{
    if (b->owed_breaks < n)
        b->owed_breaks = n;
}

static const bool space_byte[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\f'] = 1};

static bool is_space(unsigned char c)
{
    return space_byte[c];
}

static void emit_text(struct textbuf *b, const unsigned char *t, size_t len, bool pre)
{
    size_t i = 0;
    while (i < len) {
        if (pre && t[i] == '\n') {
            tb_flush_owed(b);
            tb_put(b, "\n", 1);
            i++;
        } else if (!pre && is_space(t[i])) {
            b->owed_space = true;
            i++;
        } else {
            /* Words separated by single spaces read as they are: one put for
             * the stretch instead of one per word. */
            size_t run = i;
            if (pre) {
                while (run < len && t[run] != '\n')
                    run++;
            } else {
                for (;;) {
                    while (run < len && !is_space(t[run]))
                        run++;
                    if (run + 1 >= len || t[run] != ' ' || is_space(t[run + 1]))
                        break;
                    run += 2; /* a single space, and the visible byte after it */
                }
            }
            tb_flush_owed(b);
            tb_put(b, (const char *)t + i, run - i);
            i = run;
        }
    }
}

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
#define NAME(s) {s, sizeof s - 1}
    NAME("a"),   NAME("b"),     NAME("code"), NAME("del"),    NAME("em"),  NAME("i"),   NAME("s"),
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
    while (i + n < len && ((s[i + n] >= 'a' && s[i + n] <= 'z') || (s[i + n] >= '0' && s[i + n] <= '9')))
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
    if (cp >= 0x20 && cp < 0x7f) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp >= 0xA0 && cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if ((cp >= 0x800 && cp < 0xD800) || (cp >= 0xE000 && cp < 0xFFFE)) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp >= 0x10000 && cp <= 0x10FFFF) {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}

/* What a byte means inside a text run: the run goes on, stops ('<', '&'),
 * is left to libxml2 (a control character other than tab, newline and
 * carriage return, or DEL), or may start U+FFFE/U+FFFF (0xEF). */
enum { RUN_ON = 0, RUN_STOP, RUN_BAD, RUN_EF };
static const unsigned char run_class[256] = {
    [0] = RUN_BAD,  [1] = RUN_BAD,  [2] = RUN_BAD,  [3] = RUN_BAD,  [4] = RUN_BAD,
    [5] = RUN_BAD,  [6] = RUN_BAD,  [7] = RUN_BAD,  [8] = RUN_BAD,  [11] = RUN_BAD,
    [12] = RUN_BAD, [14] = RUN_BAD, [15] = RUN_BAD, [16] = RUN_BAD, [17] = RUN_BAD,
    [18] = RUN_BAD, [19] = RUN_BAD, [20] = RUN_BAD, [21] = RUN_BAD, [22] = RUN_BAD,
    [23] = RUN_BAD, [24] = RUN_BAD, [25] = RUN_BAD, [26] = RUN_BAD, [27] = RUN_BAD,
    [28] = RUN_BAD, [29] = RUN_BAD, [30] = RUN_BAD, [31] = RUN_BAD, [127] = RUN_BAD,
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
static bool fast_render(struct textbuf *b, const char *s, size_t len)
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
            if (n == 0 || end >= len || s[end] != '>' || depth == 0 ||
                open_len[depth - 1] != n || memcmp(open[depth - 1], s + i + 2, n) != 0)
                return false;
            depth--;
            if (depth == 0)
                tb_break(b, 2); /* leaving the paragraph */
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
                    tb_break(b, 2); /* entering the paragraph */
                } else {
                    bool known = false;
                    for (size_t k = 0; k < sizeof fast_inline / sizeof *fast_inline && !known; k++)
                        known = fast_inline[k].len == n && memcmp(fast_inline[k].name, name, n) == 0;
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
            emit_text(b, (const unsigned char *)t, n, false);
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
                emit_text(b, (const unsigned char *)s + i, end - i, false);
            }
            i = end;
        }
    }
    return depth == 0 && any && !b->sb.oom;
}

/* How an element renders. Elements not listed are inline: only their text
 * counts. */
enum kind { INLINE, LINE, PARAGRAPH, PRE, BR, DROPPED };

static const struct {
    const char *name;
    enum kind kind;
} kinds[] = {
    {"p", PARAGRAPH},      {"br", BR},          {"blockquote", PARAGRAPH},
    {"pre", PRE},          {"ul", PARAGRAPH},   {"ol", PARAGRAPH},
    {"h1", PARAGRAPH},     {"h2", PARAGRAPH},   {"h3", PARAGRAPH},
    {"h4", PARAGRAPH},     {"h5", PARAGRAPH},   {"h6", PARAGRAPH},
    {"table", PARAGRAPH},  {"hr", PARAGRAPH},   {"div", LINE},
    {"li", LINE},          {"tr", LINE},        {"dt", LINE},
    {"dd", LINE},          {"section", LINE},   {"article", LINE},
    {"header", LINE},      {"footer", LINE},    {"figure", LINE},
    {"figcaption", LINE},  {"script", DROPPED}, {"style", DROPPED},
    {"template", DROPPED}, {"head", DROPPED},   {"noscript", DROPPED},
};

/* name is the tag name whole, as the HTML parser read it: "o:p" is not <p>
 * (libxml2's tree builder split it at the colon, as XML namespaces do). This
 * runs for every element, so the first letter is compared before the whole
 * name, case-insensitively as ever. */
static enum kind kind_of(const xmlChar *name)
{
    int first = tolower(name[0]);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].name[0] == first && xmlStrcasecmp(name, (const xmlChar *)kinds[i].name) == 0)
            return kinds[i].kind;
    return INLINE;
}

/* Breaks owed when entering or leaving an element of kind k. */
static int breaks_of(enum kind k)
{
    return k == PARAGRAPH || k == PRE ? 2 : k == LINE ? 1 : 0;
}

/* libxml2's tree builder (its xmlParserMaxDepth, without XML_PARSE_HUGE)
 * refuses an element opened while more than this many are open and halts the
 * parse, so nothing from there on was ever shown; we stop at the same element
 * to keep the output unchanged. It also bounds the stack in struct render. */
#define MAX_DEPTH 256

/* Rendering state fed by the parser's SAX events. Every element opened is
 * closed by one end event, implied and auto-closed ones included, so depth
 * and open[] follow the tree libxml2 would have built. */
struct render {
    struct textbuf b;
    int depth;                         /* elements open */
    int dropped_at;                    /* depth of the dropped element we are in, or 0 */
    int pre_depth;                     /* <pre> elements open */
    bool rooted;                       /* the first element, the root, was opened */
    bool detached;                     /* the document does not start with the root */
    bool done;                         /* nothing more of the input is shown */
    bool halted;                       /* the parse was stopped at MAX_DEPTH */
    unsigned char open[MAX_DEPTH + 1]; /* kind of each open element */
};

static void enter(struct render *r, enum kind k)
{
    if (k == BR) {
        r->b.owed_breaks++;
        r->b.owed_space = false;
    }
    tb_break(&r->b, breaks_of(k));
    if (k == PRE)
        r->pre_depth++;
}

static void leave(struct render *r, enum kind k)
{
    tb_break(&r->b, breaks_of(k));
    if (k == PRE)
        r->pre_depth--;
}

/* The parser passes itself as the SAX context (its userData is left at its
 * default); our state rides in its _private. */
static struct render *render_of(void *ctx)
{
    return ((htmlParserCtxtPtr)ctx)->_private;
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    struct render *r = render_of(ctx);
    if (r->done)
        return;
    if (r->depth > MAX_DEPTH) {
        r->done = r->halted = true;
        xmlStopParser(ctx);
        return;
    }
    if (r->depth == 0) {
        /* libxml2 opens a new <html> for anything after </html>. Its tree
         * builder hung that under the document's first node: the root, whose
         * walk then reached it, unless a doctype, comment or processing
         * instruction came first; then it was a sibling never walked. */
        if (r->rooted && r->detached) {
            r->done = true;
            return;
        }
        r->rooted = true;
    }
    enum kind k = kind_of(name);
    r->open[r->depth++] = (unsigned char)k;
    if (r->dropped_at > 0)
        return;
    if (k == DROPPED)
        r->dropped_at = r->depth;
    else
        enter(r, k);
}

static void on_end(void *ctx, const xmlChar *name)
{
    struct render *r = render_of(ctx);
    if (r->done || r->depth == 0)
        return;
    int at = r->depth--;
    enum kind k = r->open[r->depth];
    if (r->dropped_at == at)
        r->dropped_at = 0;
    else if (r->dropped_at == 0)
        leave(r, k);
}

/* Text outside any element (a stray "<" before the first tag) had no node to
 * go into, so it is skipped like text inside dropped elements. */
static void on_text(void *ctx, const xmlChar *text, int len)
{
    struct render *r = render_of(ctx);
    if (r->done || r->depth == 0 || r->dropped_at > 0 || len <= 0)
        return;
    emit_text(&r->b, text, (size_t)len, r->pre_depth > 0);
}

/* A doctype, wherever it appears, went first in the document. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *public_id,
                       const xmlChar *system_id)
{
    render_of(ctx)->detached = true;
}

static void on_comment(void *ctx, const xmlChar *text)
{
    struct render *r = render_of(ctx);
    if (!r->rooted)
        r->detached = true;
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    struct render *r = render_of(ctx);
    if (!r->rooted)
        r->detached = true;
}

/* No ignorableWhitespace: without HTML_PARSE_NOBLANKS libxml2 reports blanks
 * as characters, and the tree builder discarded the rest as we do. CDATA only
 * comes from <script> and <style>, but is text wherever it comes from. */
static const htmlSAXHandler handler = {
    .internalSubset = on_doctype,
    .startElement = on_start,
    .endElement = on_end,
    .characters = on_text,
    .cdataBlock = on_text,
    .comment = on_comment,
    .processingInstruction = on_pi,
};

/* Drop the kept parser after a fragment this large, or once its dictionary
 * holds this many tag and attribute names: a context keeps what its largest
 * parse needed, and hostile input should not pin that for the whole run. */
#define KEEP_MAX_INPUT (64 * 1024)
#define KEEP_MAX_NAMES 1024

/* One parser context serves every call (the program is single-threaded), reset
 * by htmlCtxtReadMemory: creating and freeing one per status, with its
 * dictionary, SAX handler and stacks, took about 7% of the time. Still
 * referenced at exit, so it is no leak. */
static htmlParserCtxtPtr parser;

static htmlParserCtxtPtr parser_get(void)
{
    if (parser == NULL) {
        parser = htmlNewParserCtxt();
        if (parser != NULL)
            memcpy(parser->sax, &handler, sizeof handler);
    }
    return parser;
}

static void parser_drop(void)
{
    htmlFreeParserCtxt(parser);
    parser = NULL;
}

/* Feed html (UTF-8, no NUL) through the parser into r. */
static void parse(struct render *r, const char *html, size_t len)
{
    htmlParserCtxtPtr ctxt = parser_get();
    if (ctxt == NULL) {
        r->b.sb.oom = true;
        return;
    }
    /* NOBLANKS would drop the space in "<a>x</a> <a>y</a>"; NONET keeps the
     * parser off the network; the encoding is UTF-8 after sanitising, whatever
     * a <meta> in the fragment claims. */
    int opts = HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_COMPACT;
    /* libxml2 takes an int length; a status is far below it, and a larger
     * fragment is cut rather than refused. */
    int n = len > INT_MAX ? INT_MAX : (int)len;
    ctxt->_private = r;
    /* With our handler no document is built; free one all the same. */
    xmlFreeDoc(htmlCtxtReadMemory(ctxt, html, n, NULL, "UTF-8", opts));
    ctxt->_private = NULL;
    if (ctxt->errNo == XML_ERR_NO_MEMORY)
        r->b.sb.oom = true;
    /* A stopped or failed parse leaves the context in a state we do not want
     * to reason about: start the next call afresh. */
    if (r->halted || r->b.sb.oom || len > KEEP_MAX_INPUT ||
        xmlDictSize(ctxt->dict) > KEEP_MAX_NAMES)
        parser_drop();
}

/* The sanitised copy of the fragment being converted, kept between calls so
 * a million statuses do not each take and give back a few KB of heap (which
 * showed as cache misses in malloc, and in jansson's parsing beside it). A
 * fragment over 64 KiB gets it freed afterwards. Still referenced at exit. */
static char *scratch;
static size_t scratch_cap;

static char *scratch_for(size_t len)
{
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    size_t need = len * 3 + 1;
    if (need > scratch_cap) {
        size_t cap = scratch_cap != 0 ? scratch_cap : 16384;
        while (cap < need)
            cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
        char *grown = realloc(scratch, cap);
        if (grown == NULL)
            return NULL;
        scratch = grown;
        scratch_cap = cap;
    }
    return scratch;
}

/* html to text, through libxml2 alone unless fast. */
static char *to_text(const char *html, size_t len, bool fast)
{
    if (html == NULL)
        len = 0;
    char *clean = scratch_for(len);
    if (clean == NULL)
        return NULL;
    size_t clean_len = sanitize_into(html, len, clean);
    struct render r = {0};
    /* The text is rarely longer than the HTML: one allocation, usually. */
    r.b.sb.s = malloc(clean_len + 1);
    if (r.b.sb.s == NULL)
        return NULL;
    r.b.sb.cap = clean_len + 1;
    tb_put(&r.b, "", 0);
    if (clean_len > 0 && !(fast && fast_render(&r.b, clean, clean_len))) {
        /* Start again: what the fast path wrote is thrown away. */
        r.b.sb.len = 0;
        if (r.b.sb.s != NULL)
            r.b.sb.s[0] = '\0';
        r.b.owed_breaks = 0;
        r.b.owed_space = false;
        parse(&r, clean, clean_len);
    }
    if (len > 64 * 1024) {
        free(scratch);
        scratch = NULL;
        scratch_cap = 0;
    }
    if (r.b.sb.oom) {
        free(r.b.sb.s);
        return NULL;
    }
    return r.b.sb.s;
}

char *ck_html_to_text(const char *html, size_t len)
{
    return to_text(html, len, true);
}

char *ck_html_to_text_libxml2(const char *html, size_t len)
{
    return to_text(html, len, false);
}
