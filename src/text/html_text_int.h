/* Private to src/text/html_text.c, html_fast.c and html_strip.c: the output
 * buffer every renderer writes into, how elements render, and the entry points
 * of the fast path and of the stripping fallback. */
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

/* ASCII's lower case, whatever the locale says (as libxml2 compares names). */
static inline char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
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

/* How an element renders. Elements not listed in html_text.c are inline: only
 * their text counts. */
enum ck_text_kind { CK_K_INLINE, CK_K_LINE, CK_K_PARAGRAPH, CK_K_PRE, CK_K_BR, CK_K_DROPPED };

/* The kind of the element named name[0..n) (ASCII case-insensitive, the name
 * whole: "o:p" is not <p>). */
enum ck_text_kind ck_text__kind_of(const char *name, size_t n);

/* Line breaks owed when entering or leaving an element of kind k. */
int ck_text__breaks_of(enum ck_text_kind k);

/* The fallback when libxml2 cannot be loaded (html_strip.c): s (sanitised
 * UTF-8) with its tags stripped, into b. */
void ck_text__strip_render(struct textbuf *b, const char *s, size_t len);

#endif
