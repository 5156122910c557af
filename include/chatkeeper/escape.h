/* Escaping for every output format, and the byte sink the renderers write to.
 *
 * Everything a message carries is hostile (a display name like
 * "<img src=x onerror=alert(1)>", a "javascript:" profile link, right-to-left
 * override characters, a CSV cell "=HYPERLINK(...)"). Renderers never write a
 * message's bytes directly: they go through one of the functions below.
 *
 * Bidi policy (HTML and Markdown): the explicit embedding, override and
 * isolate controls (U+202A..U+202E, U+2066..U+2069) are stripped, and the
 * HTML renderer also wraps names in <bdi> and text in dir="auto" blocks, so a
 * right-to-left name still reads correctly but can never reorder the text
 * around it. C0 controls other than newline and tab are dropped. */
#ifndef CHATKEEPER_ESCAPE_H
#define CHATKEEPER_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "chatkeeper/error.h"

struct ck_atomic_file;

/* Where rendered bytes go: a growing memory buffer, or an atomic file (state.h).
 * Errors are sticky: after the first failure every write is a no-op and
 * ck_sink_finish reports it, so renderers need not check each write. */
struct ck_sink {
    struct ck_atomic_file *file; /* NULL for memory */
    char *buf;                   /* memory: the NUL-terminated contents (owned); file: what is
                  not yet handed to the file, in a buffer of cap bytes */
    size_t len, cap;
    int rc; /* first error, 0 if none */
    struct ck_error *err;
};

/* A memory sink. Can't fail (allocation happens on write). */
void ck_sink_init_mem(struct ck_sink *s);

/* A sink writing path atomically. err: borrowed, kept for later errors. */
int ck_sink_open_file(struct ck_sink *s, const char *path, struct ck_error *err);

void ck_sink__put_slow(struct ck_sink *s, const char *data, size_t len);

/* Renderers write a few bytes at a time, millions of times for a big chat:
 * what fits in the buffer is copied here, inline; the rest (a full file
 * buffer, a memory sink that must grow, an error) goes to the slow path. */
static inline void ck_sink_put(struct ck_sink *s, const char *data, size_t len)
{
    if (s->len + len < s->cap && s->rc == 0) {
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        s->buf[s->len] = '\0';
        return;
    }
    ck_sink__put_slow(s, data, len);
}

static inline void ck_sink_puts(struct ck_sink *s, const char *str)
{
    ck_sink_put(s, str, strlen(str));
}
void ck_sink_printf(struct ck_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* File sink: commit (if no error) or abort. Memory sink: keeps buf (the caller
 * frees it with free()) unless an error happened, then frees it.
 * Returns the first error or 0. */
int ck_sink_finish(struct ck_sink *s);

/* Drop everything (file: abort; memory: free). Can't fail. */
void ck_sink_abort(struct ck_sink *s);

/* Whether url may become a link: "http://" or "https://" (any case) followed
 * by a host, and no whitespace or control characters. NULL gives false. */
bool ck_url_safe(const char *url);

/* Find the next http(s) URL in text[0..len): sets *start and *ulen and
 * returns true, or returns false. A URL ends at whitespace, a control
 * character or one of <>"'`; trailing sentence punctuation is not part of it
 * (nor a ')' without a '(' inside the URL). */
bool ck_url_next(const char *text, size_t len, size_t *start, size_t *ulen);

/* Text for an HTML text node or a quoted attribute value: & < > " ' escaped,
 * bidi controls and C0 controls (but \n and \t) dropped. When br is true,
 * newlines become "<br>\n". */
void ck_html_text(struct ck_sink *s, const char *text, size_t len, bool br);

/* A message's text as HTML: escaped as above with newlines as <br>, and
 * http(s) URLs made links with rel="nofollow ugc noopener". */
void ck_html_text_linked(struct ck_sink *s, const char *text, size_t len);

/* Markdown inline text: ASCII markup characters backslash-escaped, a line
 * never starts a block (leading '>' '#' '-' '+' '=' "1." are escaped, leading
 * spaces dropped); bidi and C0 controls dropped; every newline becomes
 * nl (e.g. "  \n    " to keep a line break inside an indented list item). */
void ck_md_text(struct ck_sink *s, const char *text, size_t len, const char *nl);

/* The same with http(s) URLs written as [url](url) links. */
void ck_md_text_linked(struct ck_sink *s, const char *text, size_t len, const char *nl);

/* A link destination for Markdown: bytes that could end or break "(...)"
 * (space, ( ) < > \ ` " and controls) percent-encoded. Only call with
 * ck_url_safe URLs. */
void ck_md_url(struct ck_sink *s, const char *url);

/* One CSV field per RFC 4180: quoted (quotes doubled) when it holds a comma,
 * quote, CR or LF; a field starting with = + - @ tab or CR gets a leading '
 * so a spreadsheet shows it as text instead of running it (OWASP CSV injection).
 * Invalid UTF-8 is not checked here (callers pass sanitised text). */
void ck_csv_field(struct ck_sink *s, const char *text, size_t len);

/* Percent-encode a path segment (all but unreserved bytes) for an href. */
void ck_url_encode_segment(struct ck_sink *s, const char *seg);

#endif
