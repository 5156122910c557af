/* Growable strings (see sbuf.h). */
#include "chatkeeper/sbuf.h"

#include <stdlib.h>
#include <string.h>

/* ck_sbuf_put when the buffer must grow first (or is out of memory). */
void ck_sbuf__grow_put(struct ck_sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->s, cap);
        if (grown == NULL) {
            b->oom = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void ck_sbuf_str(struct ck_sbuf *b, const char *s)
{
    ck_sbuf_put(b, s, strlen(s));
}

void ck_sbuf_pct(struct ck_sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        int unreserved = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                         (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
                         *p == '~';
        if (unreserved) {
            ck_sbuf_put(b, (const char *)p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ck_sbuf_put(b, esc, 3);
        }
    }
}

void ck_sbuf_url(struct ck_sbuf *b, const char *base_url, const char *path)
{
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    ck_sbuf_put(b, base_url, n);
    ck_sbuf_str(b, path);
}

void ck_sbuf_param(struct ck_sbuf *b, const char *name, const char *value)
{
    if (value == NULL)
        return;
    ck_sbuf_str(b, strchr(b->s != NULL ? b->s : "", '?') != NULL ? "&" : "?");
    ck_sbuf_str(b, name);
    ck_sbuf_str(b, "=");
    ck_sbuf_pct(b, value);
}
