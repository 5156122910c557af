/* HTML to plain text, the way a reader sees a status in a browser.
 *
 * Statuses arrive as HTML fragments written by many servers (Mastodon, Pleroma,
 * GoToSocial, Misskey...), so we parse them with libxml2's forgiving HTML parser
 * and walk the tree instead of matching tags with patterns. The walk is
 * iterative (no recursion depth to exhaust on hostile nesting) and renders:
 *   - text with whitespace runs collapsed to one space, as CSS "normal" does;
 *   - <br> as a newline, block elements (<p>, <div>, <li>...) as line breaks,
 *     paragraphs separated by a blank line;
 *   - links, mentions and hashtags as their visible text; Mastodon hides parts
 *     of long URLs in <span class="invisible"> and shortens the rest with CSS
 *     (class "ellipsis" adds "…" with ::after), so taking every text node as is
 *     keeps the URL whole and adds no ellipsis;
 *   - nothing from <script>, <style>, <template> or <head>.
 * Line breaks and spaces are owed and only written before the next visible
 * character, so output is trimmed without a second pass. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "chatkeeper/text.h"

#include "chatkeeper/sbuf.h"

char *ck_utf8_sanitize(const char *s, size_t len)
{
    if (s == NULL)
        len = 0;
    /* Each bad byte becomes 3 bytes at most. */
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t need = 0;
        uint32_t cp = 0, min = 0;
        if (c >= 0x01 && c < 0x80) {
            out[o++] = (char)c;
            i++;
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

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void emit_text(struct textbuf *b, const unsigned char *t, bool pre)
{
    size_t i = 0;
    while (t[i] != '\0') {
        if (pre && t[i] == '\n') {
            tb_flush_owed(b);
            tb_put(b, "\n", 1);
            i++;
        } else if (!pre && is_space(t[i])) {
            b->owed_space = true;
            i++;
        } else {
            size_t run = i;
            while (t[run] != '\0' && (pre ? t[run] != '\n' : !is_space(t[run])))
                run++;
            tb_flush_owed(b);
            tb_put(b, (const char *)t + i, run - i);
            i = run;
        }
    }
}

static bool name_in(const xmlChar *name, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (xmlStrcasecmp(name, (const xmlChar *)list[i]) == 0)
            return true;
    return false;
}

static const char *const dropped[] = {"script", "style", "template", "head", "noscript", NULL};
static const char *const paragraphs[] = {"p",  "blockquote", "pre", "ul", "ol",    "h1", "h2",
                                         "h3", "h4",         "h5",  "h6", "table", "hr", NULL};
static const char *const lines[] = {"div",    "li",      "tr",         "dt",
                                    "dd",     "section", "article",    "header",
                                    "footer", "figure",  "figcaption", NULL};

/* Break owed when entering or leaving element n (0 for inline elements). */
static int block_breaks(const xmlNode *n)
{
    if (name_in(n->name, paragraphs))
        return 2;
    if (name_in(n->name, lines))
        return 1;
    return 0;
}

static void walk(struct textbuf *b, xmlNode *root)
{
    int pre_depth = 0;
    xmlNode *n = root;
    while (n != NULL && !b->sb.oom) {
        bool descend = false;
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content != NULL)
                emit_text(b, n->content, pre_depth > 0);
        } else if (n->type == XML_ELEMENT_NODE && !name_in(n->name, dropped)) {
            if (xmlStrcasecmp(n->name, (const xmlChar *)"br") == 0) {
                b->owed_breaks++;
                b->owed_space = false;
            }
            tb_break(b, block_breaks(n));
            descend = n->children != NULL;
            /* Only an element we descend into is left through its parent
             * link below, so only that one may count: an empty <pre></pre>
             * would otherwise keep the rest of the status preformatted. */
            if (descend && xmlStrcasecmp(n->name, (const xmlChar *)"pre") == 0)
                pre_depth++;
        }
        if (descend) {
            n = n->children;
            continue;
        }
        /* Leave finished elements upwards until one has a next sibling. */
        while (n != NULL && n != root && n->next == NULL) {
            n = n->parent;
            if (n != NULL && n->type == XML_ELEMENT_NODE) {
                tb_break(b, block_breaks(n));
                if (xmlStrcasecmp(n->name, (const xmlChar *)"pre") == 0)
                    pre_depth--;
            }
        }
        if (n == NULL || n == root)
            break;
        n = n->next;
    }
}

char *ck_html_to_text(const char *html, size_t len)
{
    if (html == NULL)
        len = 0;
    char *clean = ck_utf8_sanitize(html, len);
    if (clean == NULL)
        return NULL;
    size_t clean_len = strlen(clean);
    struct textbuf b = {0};
    tb_put(&b, "", 0);
    if (clean_len == 0) {
        free(clean);
        return b.sb.oom ? NULL : b.sb.s;
    }
    /* NOBLANKS would drop the space in "<a>x</a> <a>y</a>"; NONET keeps the
     * parser off the network; the encoding is UTF-8 after sanitising, whatever
     * a <meta> in the fragment claims. */
    int opts = HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_COMPACT;
    /* libxml2 takes an int length; a status is far below it, and a larger
     * fragment is cut rather than refused. */
    int n = clean_len > INT_MAX ? INT_MAX : (int)clean_len;
    htmlDocPtr doc = htmlReadMemory(clean, n, NULL, "UTF-8", opts);
    free(clean);
    if (doc == NULL) {
        /* libxml2 gives no document for input with no content at all. */
        return b.sb.s;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root != NULL)
        walk(&b, root);
    xmlFreeDoc(doc);
    if (b.sb.oom) {
        free(b.sb.s);
        return NULL;
    }
    return b.sb.s;
}
