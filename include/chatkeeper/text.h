/* HTML to plain text with libxml2's HTML parser (never regexes). */
#ifndef CHATKEEPER_TEXT_H
#define CHATKEEPER_TEXT_H

#include <stddef.h>

/* Convert an HTML fragment (a status's content) to plain text: entities decoded,
 * <br> to "\n", paragraphs separated by "\n\n", links and mentions as their
 * visible text, invisible spans (class "invisible") kept so URLs stay whole,
 * "ellipsis" spans without the ellipsis; invalid UTF-8 replaced with U+FFFD;
 * surrounding whitespace trimmed. html may be NULL (gives "").
 * libxml2 is loaded the first time HTML outside Mastodon's subset needs it; if
 * it cannot be (logged once), such HTML gives its text with the tags stripped
 * and only the common entities decoded (src/text/html_strip.c).
 * Not thread-safe: one libxml2 parser is kept between calls.
 * Returns new text (free with free()), or NULL on out of memory. */
char *ck_html_to_text(const char *html, size_t len);

/* The same through libxml2 alone, without the fast path for Mastodon's own
 * HTML subset: the reference the tests hold the fast path to (the stripped
 * text if libxml2 cannot be loaded). */
char *ck_html_to_text_libxml2(const char *html, size_t len);

/* Replace invalid UTF-8 sequences in s (len bytes) with U+FFFD, one per maximal
 * invalid subpart (Unicode's recommended practice); an embedded NUL byte is
 * replaced too, so the result is a whole C string. s may be NULL (gives "").
 * New string (free with free()), or NULL on out of memory. */
char *ck_utf8_sanitize(const char *s, size_t len);

#endif
