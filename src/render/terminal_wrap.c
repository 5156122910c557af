/* chatkeeper catchup's cleaning and wrapping (terminal.h): nothing from a
 * message that a terminal would obey, and text wrapped to the width with
 * its blank lines kept. Split from terminal.c, which reads and lays out the
 * catch-up. */
#include "chatkeeper/terminal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/text.h"

/* ---- cleaning and wrapping ---- */

static bool dropped(uint32_t cp)
{
    return (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Length of the UTF-8 sequence starting with c (input is valid UTF-8). */
static size_t seq_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static uint32_t decode(const unsigned char *p, size_t n)
{
    if (n == 1)
        return p[0];
    uint32_t cp = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

char *ck_term_clean(const char *s)
{
    /* Valid UTF-8 first, so every sequence below decodes to what it says. */
    char *v = ck_utf8_sanitize(s, s != NULL ? strlen(s) : 0);
    if (v == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; v[i] != '\0';) {
        size_t n = seq_len((unsigned char)v[i]);
        uint32_t cp = decode((const unsigned char *)v + i, n);
        if (cp == '\t')
            v[o++] = ' ';
        else if (!dropped(cp))
            memmove(v + o, v + i, n), o += n;
        i += n;
    }
    v[o] = '\0';
    return v;
}

struct wrap {
    FILE *out;
    size_t indent, avail; /* columns for text after the indent */
    size_t used;          /* columns on the current line */
};

static void wrap_newline(struct wrap *w)
{
    fputc('\n', w->out);
    w->used = 0;
}

static void wrap_word(struct wrap *w, const char *word, size_t bytes, size_t cols)
{
    if (w->used > 0 && w->used + 1 + cols > w->avail)
        wrap_newline(w);
    if (w->used > 0) {
        fputc(' ', w->out);
        w->used++;
    }
    /* A word longer than a line: as much as fits, then the rest on the next. */
    size_t i = 0;
    while (i < bytes) {
        if (w->used == 0)
            fprintf(w->out, "%*s", (int)w->indent, "");
        if (w->used == w->avail) {
            wrap_newline(w);
            continue;
        }
        size_t n = seq_len((unsigned char)word[i]);
        fwrite(word + i, 1, n, w->out);
        w->used++;
        i += n;
    }
}

void ck_term_wrap(FILE *out, const char *text, size_t indent, size_t width)
{
    struct wrap w = {out, indent, width > indent ? width - indent : 1, 0};
    bool blank_owed = false, any = false;
    const char *p = text;
    while (*p != '\0') {
        size_t len = strcspn(p, "\n");
        const char *end = p + len;
        bool empty = true;
        for (const char *q = p; q < end;) {
            while (q < end && *q == ' ')
                q++;
            const char *wstart = q;
            size_t cols = 0;
            while (q < end && *q != ' ') {
                q += seq_len((unsigned char)*q);
                cols++;
            }
            if (q > end)
                q = end; /* never past the line, whatever the input */
            if (cols == 0)
                continue;
            if (empty && blank_owed)
                fputc('\n', out);
            blank_owed = false;
            empty = false;
            any = true;
            wrap_word(&w, wstart, (size_t)(q - wstart), cols);
        }
        if (!empty)
            wrap_newline(&w);
        else if (any)
            blank_owed = true; /* written only if more text follows */
        p = *end == '\n' ? end + 1 : end;
    }
}
