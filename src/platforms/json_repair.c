/* Bytes a JSON parser rejects, repaired to U+FFFD (see platform.h).
 *
 * Real servers send them: invalid UTF-8 from a bad transcoder, "\u0000" from a
 * client that pasted a NUL, and lone surrogates ("\ud83d") from servers written
 * in JavaScript that cut a string in the middle of an emoji. jansson rightly
 * refuses all three, and refusing a page means never moving past it, so one
 * bad status used to stop following for the rest of the chat.
 *
 * One pass, byte by byte, with just enough of a JSON lexer to know whether a
 * byte is inside a string and which element of a top-level array it belongs
 * to. Nothing else is changed, so a well-formed document comes out identical. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/platform.h"
#include "chatkeeper/sbuf.h"

#define FFFD_RAW "\xEF\xBF\xBD"
#define FFFD_ESC "\\ufffd"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The code unit of "\uXXXX" at p (p[0] is the backslash), or -1. */
static long escape_unit(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence at p (Unicode 15, table 3-7), or,
 * negated, the length of its maximal ill-formed subpart (at least 1), which
 * is what one U+FFFD replaces (the W3C/WHATWG practice). */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return -1;
    }
    for (int i = 1; i < n; i++) {
        if (p + i >= end || p[i] < lo || p[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return n;
}

struct scan {
    struct ck_sbuf out;
    struct ck_json_repaired *r;
    size_t cap_spans;
    int open; /* an element of the top-level array is open */
};

static void note_repair(struct scan *s)
{
    s->r->repairs++;
    if (s->open)
        s->r->spans[s->r->n_spans - 1].repaired = true;
}

static void span_open(struct scan *s)
{
    struct ck_json_repaired *r = s->r;
    if (r->n_spans == s->cap_spans) {
        size_t cap = s->cap_spans ? s->cap_spans * 2 : 64;
        struct ck_json_span *p = realloc(r->spans, cap * sizeof *p);
        if (p == NULL) {
            s->out.oom = true;
            return;
        }
        r->spans = p;
        s->cap_spans = cap;
    }
    r->spans[r->n_spans++] = (struct ck_json_span){s->out.len, s->out.len, false};
    s->open = 1;
}

static void span_close(struct scan *s)
{
    if (s->open)
        s->r->spans[s->r->n_spans - 1].end = s->out.len;
    s->open = 0;
}

/* Inside a string at p: copy or repair one lexical unit; returns bytes consumed. */
static size_t string_unit(struct scan *s, const unsigned char *p, const unsigned char *end,
                          int *in_string)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = p[0];
    if (c == '"') {
        *in_string = 0;
        ck_sbuf_put(&s->out, "\"", 1);
        return 1;
    }
    if (c == '\\') {
        if (p + 1 < end && strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0') {
            ck_sbuf_put(&s->out, (const char *)p, 2);
            return 2;
        }
        long u = escape_unit(p, end);
        if (u > 0 && (u < 0xD800 || u > 0xDFFF)) {
            ck_sbuf_put(&s->out, (const char *)p, 6);
            return 6;
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            long lo = escape_unit(p + 6, end);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                ck_sbuf_put(&s->out, (const char *)p, 12);
                return 12;
            }
        }
        /* "\u0000", a lone surrogate, or a broken escape: the backslash and
         * whatever made a valid escape become one U+FFFD. */
        ck_sbuf_put(&s->out, FFFD_ESC, 6);
        note_repair(s);
        return u >= 0 ? 6 : 1;
    }
    if (c < 0x20) {
        /* A raw control character: escaped (lossless), but a NUL is dropped
         * like "\u0000", since C strings end there. */
        if (c == 0) {
            ck_sbuf_put(&s->out, FFFD_ESC, 6);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ck_sbuf_put(&s->out, esc, 6);
        }
        note_repair(s);
        return 1;
    }
    int n = utf8_len(p, end);
    if (n > 0) {
        ck_sbuf_put(&s->out, (const char *)p, (size_t)n);
        return (size_t)n;
    }
    ck_sbuf_put(&s->out, FFFD_RAW, 3);
    note_repair(s);
    return (size_t)-n;
}

int ck_json_repair(const char *text, size_t len, struct ck_json_repaired *out)
{
    memset(out, 0, sizeof *out);
    struct scan s = {.r = out};
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    int in_string = 0, depth = 0, root_array = 0;
    ck_sbuf_put(&s.out, "", 0);
    while (p < end && !s.out.oom) {
        if (in_string) {
            p += string_unit(&s, p, end, &in_string);
            continue;
        }
        unsigned char c = *p;
        int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (depth == 1 && root_array && !s.open && !ws && c != ',' && c != ']')
            span_open(&s);
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (depth == 0 && out->root_end == 0 && c == '[')
                root_array = 1;
            depth++;
        } else if (c == ']' || c == '}') {
            if (depth == 1 && root_array)
                span_close(&s);
            if (depth > 0 && --depth == 0)
                out->root_end = s.out.len + 1;
        } else if (c == ',' && depth == 1 && root_array) {
            span_close(&s);
        } else if (c >= 0x80) {
            /* Not JSON outside a string whatever its encoding; repaired anyway so
             * the parser's error is about the syntax, not the bytes. */
            int n = utf8_len(p, end);
            if (n < 0) {
                ck_sbuf_put(&s.out, FFFD_RAW, 3);
                note_repair(&s);
                p += -n;
                continue;
            }
            ck_sbuf_put(&s.out, (const char *)p, (size_t)n);
            p += n;
            continue;
        }
        ck_sbuf_put(&s.out, (const char *)p, 1);
        p++;
    }
    if (s.out.oom) {
        free(s.out.s);
        free(out->spans);
        memset(out, 0, sizeof *out);
        return CK_ENOMEM;
    }
    span_close(&s);
    out->text = s.out.s;
    out->len = s.out.len;
    out->array = root_array;
    /* Only whitespace may follow the root for the spans to be the whole story. */
    out->complete = out->root_end > 0 && !in_string;
    for (size_t i = out->root_end; out->complete && i < out->len; i++)
        out->complete = strchr(" \t\r\n", out->text[i]) != NULL && out->text[i] != '\0';
    return 0;
}

void ck_json_repaired_finish(struct ck_json_repaired *r)
{
    free(r->text);
    free(r->spans);
    memset(r, 0, sizeof *r);
}
