/* Private to src/text/html_text.c and html_fast.c: the output buffer both
 * renderers write into, and the fast path's entry point. */
#ifndef CK_TEXT_HTML_TEXT_INT_H
#define CK_TEXT_HTML_TEXT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "chatkeeper/sbuf.h"

struct textbuf {
    struct ck_sbuf sb;
    int owed_breaks; /* newlines to write before the next visible character */
    bool owed_space; /* a collapsed whitespace run to write before it */
};

static const bool space_byte[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\f'] = 1};

static inline bool is_space(unsigned char c)
{
    return space_byte[c];
}

/* Owe n line breaks (the larger of what is owed and n) before the next
 * visible character. */
void ck_text__tb_break(struct textbuf *b, int n);

/* Text t[0..len) as a reader sees it: whitespace runs collapsed to one owed
 * space unless pre. */
void ck_text__emit_text(struct textbuf *b, const unsigned char *t, size_t len, bool pre);

/* The fast path (html_fast.c): render s (sanitised UTF-8) into b if it is in
 * Mastodon's subset; false (b then holds garbage) when libxml2 must read it. */
bool ck_text__fast_render(struct textbuf *b, const char *s, size_t len);

#endif
