/* A growable string for building URLs, headers and bodies. Out of memory
 * latches in oom, so a builder checks once at the end. */
#ifndef CHATKEEPER_SBUF_H
#define CHATKEEPER_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct ck_sbuf {
    char *s; /* NUL-terminated once anything was put; owned (free with free()) */
    size_t len, cap;
    bool oom;
};

/* Append n bytes of s. */
void ck_sbuf_put(struct ck_sbuf *b, const char *s, size_t n);
/* Append a C string. */
void ck_sbuf_str(struct ck_sbuf *b, const char *s);
/* Append s percent-encoded: everything but RFC 3986 unreserved ASCII becomes
 * %XX, byte by byte (UTF-8 included), since hashtags may be non-ASCII and ids
 * and form values come from people and servers we do not trust. */
void ck_sbuf_pct(struct ck_sbuf *b, const char *s);

#endif
