/* A second, position-only pass over a JSON text that jansson has accepted,
 * so the session file's semantic errors can say file:line:column (see
 * config_pos.h). It trusts the text to be valid JSON and simply stops
 * recording if it meets something it does not follow. */
#include "config_pos.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/error.h"

/* jansson refuses deeper documents, so recursion is bounded by this too. */
#define MAX_DEPTH 2048

struct scan {
    const char *s;
    size_t len, pos;
    int line, col; /* position of s[pos] */
    char *path;    /* the current value's path, NUL-terminated */
    size_t plen, pcap;
    struct ck_jpos *out;
    int depth;
};

static void adv(struct scan *sc)
{
    if (sc->pos >= sc->len)
        return;
    unsigned char c = (unsigned char)sc->s[sc->pos++];
    if (c == '\n') {
        sc->line++;
        sc->col = 1;
    } else if ((c & 0xC0) != 0x80) {
        sc->col++; /* UTF-8 continuation bytes do not start a new column */
    }
}

static int peek(const struct scan *sc)
{
    return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static void skip_ws(struct scan *sc)
{
    int c = peek(sc);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        adv(sc);
        c = peek(sc);
    }
}

/* Append to the current path; returns the old length (for path_pop) or -1. */
static long path_push(struct scan *sc, const char *piece, size_t n, bool dot)
{
    size_t old = sc->plen;
    size_t need = old + n + 2;
    if (need > sc->pcap) {
        size_t cap = sc->pcap ? sc->pcap : 64;
        while (cap < need)
            cap *= 2;
        char *p = realloc(sc->path, cap);
        if (p == NULL)
            return -1;
        sc->path = p;
        sc->pcap = cap;
    }
    if (dot && old > 0)
        sc->path[sc->plen++] = '.';
    memcpy(sc->path + sc->plen, piece, n);
    sc->plen += n;
    sc->path[sc->plen] = '\0';
    return (long)old;
}

static void path_pop(struct scan *sc, long old)
{
    sc->plen = (size_t)old;
    sc->path[sc->plen] = '\0';
}

static int record(struct scan *sc, int line, int col, int kline, int kcol)
{
    struct ck_jpos *o = sc->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 32;
        struct ck_jpos_entry *v = realloc(o->v, cap * sizeof *v);
        if (v == NULL)
            return CK_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    char *p = strdup(sc->path ? sc->path : "");
    if (p == NULL)
        return CK_ENOMEM;
    o->v[o->n++] = (struct ck_jpos_entry){p, line, col, kline, kcol};
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Read a string at s[pos] == '"'. With out != NULL, decode it (keys must
 * match jansson's decoded keys); *out is new. Returns 0, -1 (lost) or CK_ENOMEM. */
static int read_string(struct scan *sc, char **out, size_t *outlen)
{
    adv(sc); /* opening quote */
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] != '"') {
        if (sc->s[sc->pos] == '\\')
            adv(sc);
        adv(sc);
    }
    if (sc->pos >= sc->len)
        return -1;
    size_t end = sc->pos;
    adv(sc); /* closing quote */
    if (out == NULL)
        return 0;
    /* Decoding never makes a string longer than its escaped form. */
    char *d = malloc(end - start + 1);
    if (d == NULL)
        return CK_ENOMEM;
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        char c = sc->s[i];
        if (c != '\\') {
            d[n++] = c;
            continue;
        }
        c = sc->s[++i];
        switch (c) {
        case 'b':
            d[n++] = '\b';
            break;
        case 'f':
            d[n++] = '\f';
            break;
        case 'n':
            d[n++] = '\n';
            break;
        case 'r':
            d[n++] = '\r';
            break;
        case 't':
            d[n++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (i + 4 >= end || hex4(sc->s + i + 1, &cp) != 0)
                break;
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < end && sc->s[i + 1] == '\\' &&
                sc->s[i + 2] == 'u' && hex4(sc->s + i + 3, &lo) == 0 && lo >= 0xDC00 &&
                lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            n += ck_utf8_encode(cp, d + n);
            break;
        }
        default:
            d[n++] = c;
            break; /* \" \\ \/ */
        }
    }
    d[n] = '\0';
    *out = d;
    *outlen = n;
    return 0;
}

static int scan_value(struct scan *sc, int kline, int kcol);

/* Push an object member's key (and eat its ':'), noting where the key stands.
 * Returns the old path length (for path_pop), -1 on bad syntax, or
 * CK_ENOMEM. */
static long push_key(struct scan *sc, int *kline, int *kcol)
{
    skip_ws(sc);
    if (peek(sc) != '"')
        return -1;
    *kline = sc->line;
    *kcol = sc->col;
    char *key = NULL;
    size_t klen = 0;
    int rc = read_string(sc, &key, &klen);
    if (rc != 0)
        return rc;
    skip_ws(sc);
    if (peek(sc) != ':') {
        free(key);
        return -1;
    }
    adv(sc);
    long old = path_push(sc, key, klen, true);
    free(key);
    return old < 0 ? CK_ENOMEM : old;
}

/* An object (close '}') or an array (close ']'), from its opening bracket:
 * each member's path is pushed ("key" after a dot, or "[i]") while its value
 * is scanned. */
static int scan_members(struct scan *sc, int close)
{
    adv(sc);
    skip_ws(sc);
    if (peek(sc) == close) {
        adv(sc);
        return 0;
    }
    for (size_t i = 0;; i++) {
        int kline = 0, kcol = 0;
        long old;
        if (close == '}') {
            old = push_key(sc, &kline, &kcol);
        } else {
            char idx[32];
            int n = snprintf(idx, sizeof idx, "[%zu]", i);
            old = path_push(sc, idx, (size_t)n, false);
            if (old < 0)
                old = CK_ENOMEM;
        }
        if (old < 0)
            return (int)old;
        int rc = scan_value(sc, kline, kcol);
        path_pop(sc, old);
        if (rc != 0)
            return rc;
        skip_ws(sc);
        int c = peek(sc);
        adv(sc);
        if (c == close)
            return 0;
        if (c != ',')
            return -1;
    }
}

/* kline == 0: an array item or the root, whose "key" is the value itself. */
static int scan_value(struct scan *sc, int kline, int kcol)
{
    if (++sc->depth > MAX_DEPTH)
        return -1;
    skip_ws(sc);
    int line = sc->line, col = sc->col;
    int rc = record(sc, line, col, kline ? kline : line, kline ? kcol : col);
    if (rc == 0) {
        int c = peek(sc);
        if (c == '{') {
            rc = scan_members(sc, '}');
        } else if (c == '[') {
            rc = scan_members(sc, ']');
        } else if (c == '"') {
            rc = read_string(sc, NULL, NULL);
        } else {
            /* number, true, false, null */
            while (sc->pos < sc->len && strchr(",]} \t\r\n", sc->s[sc->pos]) == NULL)
                adv(sc);
        }
    }
    sc->depth--;
    return rc;
}

int ck_jpos_scan(const char *text, size_t len, struct ck_jpos *out)
{
    *out = (struct ck_jpos){0};
    struct scan sc = {.s = text, .len = len, .line = 1, .col = 1, .out = out};
    if (path_push(&sc, "", 0, false) < 0)
        return CK_ENOMEM;
    int rc = scan_value(&sc, 0, 0);
    free(sc.path);
    if (rc == CK_ENOMEM) {
        ck_jpos_finish(out);
        return rc;
    }
    return 0; /* a text we lost track of still has the entries recorded so far */
}

const struct ck_jpos_entry *ck_jpos_find(const struct ck_jpos *p, const char *path)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].path, path) == 0)
            return &p->v[i];
    return NULL;
}

void ck_jpos_finish(struct ck_jpos *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].path);
    free(p->v);
    *p = (struct ck_jpos){0};
}
