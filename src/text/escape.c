/* Escaping for HTML, Markdown and CSV. (The sink they write through is in
 * sink.c, URL allow-listing and finding in url.c.)
 *
 * The escapers take (pointer, length) because message text is borrowed from
 * jansson strings and sliced around URLs without copying. All of them assume
 * valid UTF-8 (jansson guarantees it for parsed strings; the renderer
 * sanitises anything else first): they only look at ASCII bytes and at the
 * three-byte sequences of the bidi controls. */
#include "chatkeeper/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/state.h"

/* ---- shared ---- */

/* Length of a bidi control at p (3) or 0. */
static size_t bidi_at(const unsigned char *p, size_t left)
{
    if (left < 3 || p[0] != 0xE2)
        return 0;
    if (p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) /* U+202A..U+202E */
        return 3;
    if (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9) /* U+2066..U+2069 */
        return 3;
    return 0;
}

/* Whether text holds a byte clean_controls would drop or change. */
static bool has_controls(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            return true;
        if (c == 0xE2 && bidi_at(p + i, len - i) != 0)
            return true;
        if (c == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] < 0xA0)
            return true;
    }
    return false;
}

/* text without the controls a reader never means: C0 but newline and tab
 * (CR LF and a lone CR become a newline), DEL, C1 and the bidi controls.
 * out has room for len bytes; returns the length written. Escapers clean
 * first and escape the result, so a dropped byte can never hide markup from
 * the escaping (a control before "1." once made a Markdown list). */
static size_t clean_controls(const unsigned char *p, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        size_t skip = 0;
        if (c == '\r') {
            if (i + 1 < len && p[i + 1] == '\n')
                continue;
            out[o++] = '\n';
            continue;
        }
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            continue;
        if (c == 0xE2)
            skip = bidi_at(p + i, len - i);
        else if (c == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] < 0xA0)
            skip = 2;
        if (skip != 0) {
            i += skip - 1;
            continue;
        }
        out[o++] = (char)c;
    }
    return o;
}

/* ---- HTML ---- */

/* Bytes ck_html_text looks at: markup, controls, and the lead byte of the
 * bidi controls; every other byte is copied as it is. */
static const bool html_special[256] = {
    [0] = 1,   [1] = 1,   [2] = 1,   [3] = 1,   [4] = 1,   [5] = 1,    [6] = 1,    [7] = 1,
    [8] = 1,   [9] = 1,   [10] = 1,  [11] = 1,  [12] = 1,  [13] = 1,   [14] = 1,   [15] = 1,
    [16] = 1,  [17] = 1,  [18] = 1,  [19] = 1,  [20] = 1,  [21] = 1,   [22] = 1,   [23] = 1,
    [24] = 1,  [25] = 1,  [26] = 1,  [27] = 1,  [28] = 1,  [29] = 1,   [30] = 1,   [31] = 1,
    [127] = 1, ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1, [0xE2] = 1,
};

void ck_html_text(struct ck_sink *s, const char *text, size_t len, bool br)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t run = 0; /* bytes copied verbatim since the last special one */
    for (size_t i = 0; i < len; i++) {
        if (!html_special[p[i]]) {
            run++;
            continue;
        }
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t skip = 0;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\n':
            rep = br ? "<br>\n" : "\n";
            break;
        case '\r':
            rep = (i + 1 < len && p[i + 1] == '\n') ? "" : (br ? "<br>\n" : "\n");
            break;
        case '\t':
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                rep = "";
            else if (c == 0xE2)
                skip = bidi_at(p + i, len - i);
        }
        if (rep == NULL && skip == 0) {
            run++;
            continue;
        }
        ck_sink_put(s, text + i - run, run);
        run = 0;
        if (skip != 0) {
            i += skip - 1;
            continue;
        }
        ck_sink_puts(s, rep);
    }
    ck_sink_put(s, text + len - run, run);
}

void ck_html_text_linked(struct ck_sink *s, const char *text, size_t len)
{
    size_t at = 0, st, ul;
    while (at < len && ck_url_next(text + at, len - at, &st, &ul)) {
        ck_html_text(s, text + at, st, true);
        ck_sink_puts(s, "<a href=\"");
        ck_html_text(s, text + at + st, ul, false);
        ck_sink_puts(s, "\" rel=\"nofollow ugc noopener\">");
        ck_html_text(s, text + at + st, ul, false);
        ck_sink_puts(s, "</a>");
        at += st + ul;
    }
    ck_html_text(s, text + at, len - at, true);
}

/* ---- Markdown ---- */

/* ASCII bytes md_line looks at: what can be Markdown markup somewhere, and
 * control characters (a tab becomes a space, the rest are dropped). Whether
 * one is escaped depends on where it stands (md_escape): only what would
 * otherwise change the rendering gets a backslash, so "#uklibchat" is
 * escaped at the start of a line and nowhere else, and "amara_o", "(yes)" or
 * "co-design" are written as they are. */
static const bool md_special[128] = {
    [0] = 1,   [1] = 1,    [2] = 1,   [3] = 1,   [4] = 1,   [5] = 1,   [6] = 1,   [7] = 1,
    [8] = 1,   [9] = 1,    [10] = 1,  [11] = 1,  [12] = 1,  [13] = 1,  [14] = 1,  [15] = 1,
    [16] = 1,  [17] = 1,   [18] = 1,  [19] = 1,  [20] = 1,  [21] = 1,  [22] = 1,  [23] = 1,
    [24] = 1,  [25] = 1,   [26] = 1,  [27] = 1,  [28] = 1,  [29] = 1,  [30] = 1,  [31] = 1,
    [127] = 1, ['\\'] = 1, ['`'] = 1, ['*'] = 1, ['_'] = 1, ['['] = 1, [']'] = 1, ['<'] = 1,
    ['>'] = 1, ['#'] = 1,  ['|'] = 1, ['~'] = 1, ['&'] = 1, ['-'] = 1, ['+'] = 1, ['='] = 1,
};

static bool md_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "&amp;", "&#38;", "&#x26;": what CommonMark would read as a character
 * reference (a run of letters, digits or '#' closed by ';'). */
static bool md_entity(const unsigned char *p, size_t left)
{
    size_t i = 1;
    while (i < left && i < 34 && (md_alnum(p[i]) || (i == 1 && p[i] == '#')))
        i++;
    return i > 1 && i < left && p[i] == ';';
}

/* Whether the markup byte p[i] of a piece of a line must be escaped. prev,
 * next: the bytes around it, -1 at the line's start or end, -2 where the
 * piece was cut (a link is there: not blank). at_start: p[i] is the line's
 * first visible byte, where block markup starts. link: inside a link's
 * text, where ']' would end it. */
static bool md_escape(const unsigned char *p, size_t i, size_t len, int prev, int next,
                      bool at_start, bool link)
{
    unsigned char c = p[i];
    bool blank_before = prev == -1 || prev == ' ' || prev == '\t';
    bool blank_after = next == -1 || next == ' ' || next == '\t';
    switch (c) {
    case '\\':
    case '`':
    case '[':
    case '<':
    case '|':
        return true; /* escapes, code, links, HTML and autolinks, tables */
    case ']':
        return link;
    case '*': /* emphasis, unless blanks on both sides; a list or rule at the start */
        return at_start || !(blank_before && blank_after);
    case '_': /* no emphasis inside a word ("amara_o") nor between blanks */
        return at_start || !((md_alnum(prev) && md_alnum(next)) || (blank_before && blank_after));
    case '~': /* fences; strikethrough where a renderer has it */
        return at_start || prev == '~' || next == '~';
    case '&':
        return md_entity(p + i, len - i);
    default: /* '#', '>', '-', '+', '=': headings, quotes, lists, setext */
        return at_start;
    }
}

/* Escape one piece of a line (no newlines inside); at_start: it begins a
 * line, where block markup can start; at_end: it ends one (else a link
 * follows it); link: it is a link's text. */
static void md_line(struct ck_sink *s, const unsigned char *p, size_t len, bool at_start,
                    bool at_end, bool link)
{
    if (has_controls(p, len)) {
        char small[256];
        char *clean = len <= sizeof small ? small : malloc(len);
        if (clean == NULL) {
            if (s->rc == 0)
                s->rc = ck_error_set(s->err, CK_ENOMEM, "out of memory");
            return;
        }
        size_t n = clean_controls(p, len, clean);
        md_line(s, (const unsigned char *)clean, n, at_start, at_end, link);
        if (clean != small)
            free(clean);
        return;
    }
    size_t i = 0;
    if (at_start) {
        /* Leading blanks would make an indented code block or change the list. */
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (len - i >= 3 && p[i] == 0xEF && p[i + 1] == 0xBB && p[i + 2] == 0xBF) {
            /* A byte order mark first in the document is dropped by the
             * reader: as a character reference it stays (found by fuzzing). */
            ck_sink_puts(s, "&#xFEFF;");
            i += 3;
        }
        size_t d = i;
        while (d < len && p[d] >= '0' && p[d] <= '9')
            d++;
        if (d > i && d < len && (p[d] == '.' || p[d] == ')')) {
            /* "1. x" or "1) x" would start an ordered list: escape its '.'. */
            ck_sink_put(s, (const char *)p + i, d - i);
            char e[2] = {'\\', (char)p[d]};
            ck_sink_put(s, e, 2);
            i = d + 1;
            at_start = false;
        }
    }
    size_t first = i; /* the line's first visible byte, bidi controls aside */
    while (first + 2 < len && p[first] == 0xE2 && bidi_at(p + first, len - first) != 0)
        first += 3;
    /* Plain bytes are copied in runs; the others are escaped, dropped or,
     * for a tab, made a space. */
    size_t run = i;
    for (; i < len; i++) {
        unsigned char c = p[i];
        if (c > 0x7f ? c != 0xE2 : !md_special[c])
            continue;
        size_t skip = c == 0xE2 ? bidi_at(p + i, len - i) : 0;
        if (c == 0xE2 && skip == 0)
            continue;
        if (c >= 0x20 && c != 0x7f && c != '\t' && skip == 0) {
            int prev = i > 0 ? p[i - 1] : (at_start ? -1 : -2);
            int next = i + 1 < len ? p[i + 1] : (at_end ? -1 : -2);
            if (!md_escape(p, i, len, prev, next, at_start && i == first, link))
                continue;
        }
        ck_sink_put(s, (const char *)p + run, i - run);
        run = i + 1;
        if (skip != 0) {
            i += skip - 1;
            run = i + 1;
        } else if (c == '\t') {
            ck_sink_put(s, " ", 1);
        } else if (c >= 0x20 && c != 0x7f) {
            char e[2] = {'\\', (char)c};
            ck_sink_put(s, e, 2);
        }
    }
    ck_sink_put(s, (const char *)p + run, len - run);
}

/* Markdown for text that may hold newlines; *at_start carries "a line begins
 * here" across calls so text cut around URLs is escaped like whole text. */
/* Where Markdown text stands between lines and calls: whether a line begins
 * (block markup can start there) and whether line breaks are owed. Breaks
 * are written only before the next visible text, so text ending in breaks,
 * or in a line of controls only, never ends in nl (a hard break, "\\\n",
 * ends the paragraph with a literal backslash there). */
struct md_state {
    bool at_start;
    bool started; /* something visible was written */
    bool more;    /* a link follows the text being written */
    unsigned owed;
};

/* Whether a line holds anything md_line would write. */
static bool md_visible(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c <= 0x20 || c == 0x7f)
            continue;
        if (c == 0xE2 && bidi_at(p + i, len - i) != 0) {
            i += 2;
            continue;
        }
        if (c == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] < 0xA0) {
            i++;
            continue;
        }
        return true;
    }
    return false;
}

/* Before visible text: one nl for any run of line breaks, none before the
 * first text. nl is often " " (a transcript line): a run of them at the
 * start, or a blank line of "\\\n"s, would make an indented code block or
 * a stray backslash (found by fuzzing). */
static void md_flush(struct ck_sink *s, const char *nl, struct md_state *st)
{
    if (st->owed > 0 && st->started)
        ck_sink_puts(s, nl);
    st->owed = 0;
    st->started = true;
}

/* Markdown for text that may hold newlines; st carries the state across
 * calls so text cut around URLs is escaped like whole text. */
static void md_text(struct ck_sink *s, const char *text, size_t len, const char *nl,
                    struct md_state *st)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t a = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '\n' && p[i] != '\r')
            continue;
        if (md_visible(p + a, i - a)) {
            md_flush(s, nl, st);
            md_line(s, p + a, i - a, st->at_start, i < len || !st->more, false);
            st->at_start = false;
        }
        if (i < len) {
            if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
                i++;
            st->owed++;
            st->at_start = true;
        }
        a = i + 1;
    }
}

void ck_md_text(struct ck_sink *s, const char *text, size_t len, const char *nl)
{
    struct md_state st = {.at_start = true};
    md_text(s, text, len, nl, &st);
}

/* Bytes besides controls and space that ck_md_url percent-encodes: they
 * would end or confuse a Markdown link destination. */
static const bool md_url_special[256] = {
    ['('] = 1, [')'] = 1, ['<'] = 1, ['>'] = 1, ['\\'] = 1,
    ['`'] = 1, ['"'] = 1, ['['] = 1, [']'] = 1,
};

void ck_md_url(struct ck_sink *s, const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *run = (const unsigned char *)url, *p = run;
    for (; *p != '\0'; p++) {
        unsigned char c = *p;
        if (c <= 0x20 || c == 0x7f || md_url_special[c]) {
            ck_sink_put(s, (const char *)run, (size_t)(p - run));
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ck_sink_put(s, e, 3);
            run = p + 1;
        }
    }
    ck_sink_put(s, (const char *)run, (size_t)(p - run));
}

void ck_md_text_linked(struct ck_sink *s, const char *text, size_t len, const char *nl)
{
    size_t at = 0, st, ul;
    struct md_state state = {.at_start = true};
    while (at < len && ck_url_next(text + at, len - at, &st, &ul)) {
        state.more = true;
        md_text(s, text + at, st, nl, &state);
        state.more = false;
        /* The URL found holds no whitespace, so it is a safe destination once
         * encoded; the visible text is escaped like any other text. */
        char *u = strndup(text + at + st, ul);
        if (u == NULL) {
            if (s->rc == 0)
                s->rc = ck_error_set(s->err, CK_ENOMEM, "out of memory");
            return;
        }
        md_flush(s, nl, &state);
        ck_sink_puts(s, "[");
        md_line(s, (const unsigned char *)u, ul, false, false, true);
        ck_sink_puts(s, "](");
        ck_md_url(s, u);
        ck_sink_puts(s, ")");
        free(u);
        state.at_start = false;
        at += st + ul;
    }
    md_text(s, text + at, len - at, nl, &state);
}

/* ---- CSV ---- */

/* Bytes that make a cell need quotes. */
static const bool csv_special[256] = {[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};

void ck_csv_field(struct ck_sink *s, const char *text, size_t len)
{
    /* Controls (ESC, BEL, ...) and bidi overrides would reach whoever opens
     * the file in a terminal or a spreadsheet: dropped before quoting and
     * before the formula check, which must see the first kept character. */
    if (has_controls((const unsigned char *)text, len)) {
        char *clean = malloc(len + 1);
        if (clean == NULL) {
            if (s->rc == 0)
                s->rc = ck_error_set(s->err, CK_ENOMEM, "out of memory");
            return;
        }
        size_t n = clean_controls((const unsigned char *)text, len, clean);
        ck_csv_field(s, clean, n);
        free(clean);
        return;
    }
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++)
        quote = csv_special[(unsigned char)text[i]];
    bool neutral = len > 0 && strchr("=+-@\t\r", text[0]) != NULL;
    if (quote)
        ck_sink_put(s, "\"", 1);
    if (neutral)
        ck_sink_put(s, "'", 1);
    size_t a = 0;
    const char *q;
    while (quote && (q = memchr(text + a, '"', len - a)) != NULL) {
        size_t i = (size_t)(q - text);
        ck_sink_put(s, text + a, i + 1 - a);
        ck_sink_put(s, "\"", 1);
        a = i + 1;
    }
    ck_sink_put(s, text + a, len - a);
    if (quote)
        ck_sink_put(s, "\"", 1);
}
