/* RFC 8288 Link headers and URL query parameters: how a Mastodon page names
 * the next and previous pages. Servers differ in spacing, quoting, parameter
 * order and how many rels they put on one link, so this parses the grammar
 * rather than matching the one shape Mastodon happens to send today. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/platform.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Read a parameter value (quoted-string or token) at *pp into buf (NUL
 * terminated, truncated to n - 1 bytes: rel values are short). Advances *pp. */
static void read_value(const char **pp, char *buf, size_t n)
{
    const char *p = *pp;
    size_t len = 0;
    if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"') {
            if (*p == '\\' && p[1] != '\0')
                p++;
            if (len + 1 < n)
                buf[len++] = *p;
            p++;
        }
        if (*p == '"')
            p++;
    } else {
        while (*p != '\0' && *p != ';' && *p != ',' && *p != ' ' && *p != '\t') {
            if (len + 1 < n)
                buf[len++] = *p;
            p++;
        }
    }
    buf[len] = '\0';
    *pp = p;
}

/* rel="next prev" holds several relation types separated by whitespace;
 * relation types compare case-insensitively (RFC 8288 section 3.3). */
static bool rel_list_has(const char *list, const char *rel)
{
    size_t want = strlen(rel);
    const char *p = list;
    while (*p != '\0') {
        p = skip_ws(p);
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
        if ((size_t)(p - start) == want && want > 0 && strncasecmp(start, rel, want) == 0)
            return true;
    }
    return false;
}

/* Skip garbage up to the next link-value: the next comma outside quotes and <>. */
static const char *skip_to_comma(const char *p)
{
    bool quoted = false, angled = false;
    for (; *p != '\0'; p++) {
        if (quoted) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                quoted = false;
        } else if (angled) {
            if (*p == '>')
                angled = false;
        } else if (*p == '"') {
            quoted = true;
        } else if (*p == '<') {
            angled = true;
        } else if (*p == ',') {
            return p;
        }
    }
    return p;
}

char *ck_link_find(const char *link_header, const char *rel)
{
    if (link_header == NULL || rel == NULL)
        return NULL;
    const char *p = link_header;
    while (*p != '\0') {
        p = skip_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '<') {
            p = skip_to_comma(p);
            continue;
        }
        const char *uri = p + 1;
        const char *end = strchr(uri, '>');
        if (end == NULL)
            return NULL; /* unterminated target: nothing after it can be trusted */
        size_t uri_len = (size_t)(end - uri);
        p = end + 1;
        bool seen_rel = false, match = false;
        for (;;) {
            p = skip_ws(p);
            if (*p != ';')
                break;
            p = skip_ws(p + 1);
            const char *name = p;
            while (is_tchar(*p))
                p++;
            size_t name_len = (size_t)(p - name);
            p = skip_ws(p);
            char value[256] = "";
            if (*p == '=') {
                p = skip_ws(p + 1);
                read_value(&p, value, sizeof value);
            }
            /* Only the first rel parameter counts (RFC 8288 section 3.3). */
            if (name_len == 3 && strncasecmp(name, "rel", 3) == 0 && !seen_rel) {
                seen_rel = true;
                match = rel_list_has(value, rel);
            }
        }
        if (*p != ',' && *p != '\0') {
            p = skip_to_comma(p); /* trailing garbage: this link-value is unusable */
            continue;
        }
        if (match)
            return strndup(uri, uri_len);
    }
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..len) into a new string. "+" is a space, as forms encode
 * it. A malformed escape is kept literally; an encoded NUL makes the value
 * unusable as a C string, so it gives NULL (as does out of memory). */
static char *pct_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = s[i] == '%' && i + 2 < len ? hexval(s[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
        if (lo >= 0) {
            int c = hi * 16 + lo;
            if (c == 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)c;
            i += 2;
        } else if (s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

char *ck_url_query_param(const char *url, const char *name)
{
    if (url == NULL || name == NULL)
        return NULL;
    const char *q = strchr(url, '?');
    if (q == NULL)
        return NULL;
    q++;
    size_t qlen = strcspn(q, "#");
    const char *end = q + qlen;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        size_t plen = (size_t)((amp != NULL ? amp : end) - q);
        const char *eq = memchr(q, '=', plen);
        size_t klen = eq != NULL ? (size_t)(eq - q) : plen;
        char *key = pct_decode(q, klen);
        bool hit = key != NULL && strcmp(key, name) == 0;
        free(key);
        if (hit) {
            if (eq == NULL)
                return strdup("");
            return pct_decode(eq + 1, plen - klen - 1);
        }
        q += plen;
        if (q < end)
            q++; /* the '&' */
    }
    return NULL;
}
