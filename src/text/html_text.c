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
 * character, so output is trimmed without a second pass.
 * libxml2 is loaded the first time it is needed (xml_load.c); if it cannot
 * be, such HTML is shown with its tags stripped (html_strip.c). */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/text.h"

#include "chatkeeper/sbuf.h"
#include "html_text_int.h"
#include "xml_load.h"

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

void ck_text__tb_break(struct textbuf *b, int n)
{
    if (b->owed_breaks < n)
        b->owed_breaks = n;
}

void ck_text__emit_text(struct textbuf *b, const unsigned char *t, size_t len, bool pre)
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

/* The kinds of html_text_int.h (the stripper shares them), named short here. */
enum kind {
    INLINE = CK_K_INLINE,
    LINE = CK_K_LINE,
    PARAGRAPH = CK_K_PARAGRAPH,
    PRE = CK_K_PRE,
    BR = CK_K_BR,
    DROPPED = CK_K_DROPPED
};

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
 * runs for every element, so each name is left at its first differing letter;
 * ASCII case-insensitively, as libxml2 compares (never the locale's way). */
enum ck_text_kind ck_text__kind_of(const char *name, size_t n)
{
    if (n == 0)
        return CK_K_INLINE;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *k = kinds[i].name;
        size_t j = 0;
        while (j < n && k[j] != '\0' && ascii_lower(name[j]) == k[j])
            j++;
        if (j == n && k[j] == '\0')
            return (enum ck_text_kind)kinds[i].kind;
    }
    return CK_K_INLINE;
}

static enum kind kind_of(const xmlChar *name)
{
    return (enum kind)ck_text__kind_of((const char *)name, strlen((const char *)name));
}

int ck_text__breaks_of(enum ck_text_kind k)
{
    return k == CK_K_PARAGRAPH || k == CK_K_PRE ? 2 : k == CK_K_LINE ? 1 : 0;
}

static int breaks_of(enum kind k)
{
    return ck_text__breaks_of((enum ck_text_kind)k);
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
    ck_text__tb_break(&r->b, breaks_of(k));
    if (k == PRE)
        r->pre_depth++;
}

static void leave(struct render *r, enum kind k)
{
    ck_text__tb_break(&r->b, breaks_of(k));
    if (k == PRE)
        r->pre_depth--;
}

/* libxml2's functions, once loaded (parse() sets it before each parse). */
static const struct ck_xml *lx;

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
        lx->xmlStopParser(ctx);
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
    ck_text__emit_text(&r->b, text, (size_t)len, r->pre_depth > 0);
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
        parser = lx->htmlNewParserCtxt();
        if (parser != NULL)
            memcpy(parser->sax, &handler, sizeof handler);
    }
    return parser;
}

static void parser_drop(void)
{
    lx->htmlFreeParserCtxt(parser);
    parser = NULL;
}

/* Feed html (UTF-8, no NUL) through the parser into r; without libxml2,
 * through the tag stripper. */
static void parse(struct render *r, const char *html, size_t len)
{
    lx = ck_text__xml();
    if (lx == NULL) {
        ck_text__strip_render(&r->b, html, len);
        return;
    }
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
    lx->xmlFreeDoc(lx->htmlCtxtReadMemory(ctxt, html, n, NULL, "UTF-8", opts));
    ctxt->_private = NULL;
    if (ctxt->errNo == XML_ERR_NO_MEMORY)
        r->b.sb.oom = true;
    /* A stopped or failed parse leaves the context in a state we do not want
     * to reason about: start the next call afresh. */
    if (r->halted || r->b.sb.oom || len > KEEP_MAX_INPUT ||
        lx->xmlDictSize(ctxt->dict) > KEEP_MAX_NAMES)
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
    if (clean_len > 0 && !(fast && ck_text__fast_render(&r.b, clean, clean_len))) {
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
