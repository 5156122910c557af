/* A growable string for building URLs, headers and bodies. Out of memory
 * latches in oom, so a builder checks once at the end. */
#ifndef CHATKEEPER_SBUF_H
#define CHATKEEPER_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct ck_sbuf {
    char *s; /* NUL-terminated once anything was put; owned (free with free()) */
    size_t len, cap;
    bool oom;
};

void ck_sbuf__grow_put(struct ck_sbuf *b, const char *s, size_t n);

/* Append n bytes of s: inline when they fit (records are built a field at a
 * time, millions of times for a big archive). */
static inline void ck_sbuf_put(struct ck_sbuf *b, const char *s, size_t n)
{
    if (b->len + n < b->cap && !b->oom) {
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = '\0';
        return;
    }
    ck_sbuf__grow_put(b, s, n);
}
/* Append a C string. */
void ck_sbuf_str(struct ck_sbuf *b, const char *s);
/* Append s percent-encoded: everything but RFC 3986 unreserved ASCII becomes
 * %XX, byte by byte (UTF-8 included), since hashtags may be non-ASCII and ids
 * and form values come from people and servers we do not trust. */
void ck_sbuf_pct(struct ck_sbuf *b, const char *s);
/* Append base_url without its trailing slashes, then path: a configured
 * "https://example.social/" and "https://example.social" give one URL. */
void ck_sbuf_url(struct ck_sbuf *b, const char *base_url, const char *path);
/* Append a query parameter, name=value with value percent-encoded, after "?"
 * when b has none yet, else after "&". A NULL value appends nothing, so an
 * optional parameter needs no test at the call. */
void ck_sbuf_param(struct ck_sbuf *b, const char *name, const char *value);

#endif
