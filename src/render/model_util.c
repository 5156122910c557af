/* Small pieces of the render model: the id/handle hash, counted strings
 * (links shared, hashtags used) and local time with a per-15-minute cache of
 * the zone's offset (a million messages must not mean a million tzset()s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/escape.h"
#include "chatkeeper/log.h"
#include "chatkeeper/series.h"
#include "chatkeeper/timeutil.h"
#include "model.h"

uint64_t ck_rhash(const char *s, size_t len, bool fold)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (fold && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        h = (h ^ c) * 1099511628211ULL;
    }
    h ^= h >> 29; /* FNV's low bits are weak; we index tables with them */
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h != 0 ? h : 1;
}

/* ---- counted strings ---- */

int ck_rcount_add(struct ck_rcount *c, const char *key, size_t len)
{
    if ((c->n + 1) * 2 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct ck_rcount_slot *ns = calloc(cap, sizeof *ns);
        if (ns == NULL)
            return CK_ENOMEM;
        for (size_t i = 0; i < c->cap; i++) {
            if (c->slots[i].key == NULL)
                continue;
            size_t j = ck_rhash(c->slots[i].key, strlen(c->slots[i].key), false) & (cap - 1);
            while (ns[j].key != NULL)
                j = (j + 1) & (cap - 1);
            ns[j] = c->slots[i];
        }
        free(c->slots);
        c->slots = ns;
        c->cap = cap;
    }
    size_t j = ck_rhash(key, len, false) & (c->cap - 1);
    while (c->slots[j].key != NULL) {
        if (strncmp(c->slots[j].key, key, len) == 0 && c->slots[j].key[len] == '\0') {
            c->slots[j].count++;
            return 0;
        }
        j = (j + 1) & (c->cap - 1);
    }
    char *k = strndup(key, len);
    if (k == NULL)
        return CK_ENOMEM;
    c->slots[j].key = k;
    c->slots[j].count = 1;
    c->n++;
    return 0;
}

static int slot_cmp(const void *a, const void *b)
{
    const struct ck_rcount_slot *x = *(struct ck_rcount_slot *const *)a;
    const struct ck_rcount_slot *y = *(struct ck_rcount_slot *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

int ck_rcount_top(const struct ck_rcount *c, size_t max, struct ck_rcount_slot ***top, size_t *n)
{
    *top = NULL;
    *n = 0;
    if (c->n == 0)
        return 0;
    struct ck_rcount_slot **all = malloc(c->n * sizeof *all);
    if (all == NULL)
        return CK_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].key != NULL)
            all[k++] = &c->slots[i];
    qsort(all, k, sizeof *all, slot_cmp);
    *top = all;
    *n = k < max ? k : max;
    return 0;
}

void ck_rcount_finish(struct ck_rcount *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].key);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

/* ---- time ---- */

int ck_rmodel_local(struct ck_rmodel *m, int64_t ms, struct ck_rlocal *out)
{
    const int64_t bucket_ms = 15 * 60 * 1000;
    int64_t b = ms >= 0 ? ms / bucket_ms : (ms - bucket_ms + 1) / bucket_ms;
    int offset;
    if (b == m->zone_bucket) {
        offset = m->zone_offset_s;
        memcpy(out->abbr, m->zone_abbr, sizeof out->abbr);
    } else {
        struct ck_local_time a, z;
        int rc = ck_series_local_time(m->s->timezone, b * bucket_ms, &a);
        if (rc == 0)
            rc = ck_series_local_time(m->s->timezone, (b + 1) * bucket_ms - 1, &z);
        if (rc != 0)
            return rc;
        if (a.offset_s == z.offset_s) {
            m->zone_bucket = b;
            m->zone_offset_s = a.offset_s;
            memcpy(m->zone_abbr, a.abbr, sizeof m->zone_abbr);
        } else {
            /* A transition inside this bucket: ask for the exact instant. */
            rc = ck_series_local_time(m->s->timezone, ms, &a);
            if (rc != 0)
                return rc;
        }
        offset = a.offset_s;
        memcpy(out->abbr, a.abbr, sizeof out->abbr);
        out->abbr[sizeof out->abbr - 1] = '\0';
    }
    int64_t secs = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + offset;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned mo, d;
    ck_civil_from_days(days, &y, &mo, &d);
    out->year = (int)y;
    out->month = (int)mo;
    out->day = (int)d;
    out->hour = (int)(rem / 3600);
    out->minute = (int)(rem / 60 % 60);
    out->second = (int)(rem % 60);
    out->weekday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    out->offset_s = offset;
    return 0;
}

void ck_rlocal_iso(const struct ck_rlocal *lt, char *buf, size_t n)
{
    /* By hand, not snprintf: this runs for every message. */
    char tmp[32], *p = tmp;
    int off = lt->offset_s < 0 ? -lt->offset_s : lt->offset_s;
    p = ck_time_digits_put(p, lt->year % 10000 < 0 ? 0 : lt->year % 10000, 4);
    *p++ = '-';
    p = ck_time_digits_put(p, lt->month % 100, 2);
    *p++ = '-';
    p = ck_time_digits_put(p, lt->day % 100, 2);
    *p++ = 'T';
    p = ck_time_digits_put(p, lt->hour % 100, 2);
    *p++ = ':';
    p = ck_time_digits_put(p, lt->minute % 100, 2);
    *p++ = ':';
    p = ck_time_digits_put(p, lt->second % 100, 2);
    *p++ = lt->offset_s < 0 ? '-' : '+';
    p = ck_time_digits_put(p, off / 3600 % 100, 2);
    *p++ = ':';
    p = ck_time_digits_put(p, off / 60 % 60, 2);
    *p = '\0';
    snprintf(buf, n, "%s", tmp);
}

void ck_rlocal_hhmm(const struct ck_rlocal *lt, char buf[6])
{
    char *p = ck_time_digits_put(buf, lt->hour % 100, 2);
    *p++ = ':';
    p = ck_time_digits_put(p, lt->minute % 100, 2);
    *p = '\0';
}

const char *ck_rlocal_month(const struct ck_rlocal *lt)
{
    static const char *const names[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    return names[(lt->month + 11) % 12];
}

size_t ck_rfmt_int(char buf[24], int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    size_t len = 0;
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

/* The host of url (http, https, wss, at:// ...) into buf, or false. */
static bool url_host(const char *url, char *buf, size_t n)
{
    const char *p = url != NULL ? strstr(url, "://") : NULL;
    if (p == NULL || n == 0)
        return false;
    p += 3;
    size_t end = strcspn(p, "/?#\\");
    const char *at = memchr(p, '@', end); /* user info: not the host */
    while (at != NULL) {
        end -= (size_t)(at + 1 - p);
        p = at + 1;
        at = memchr(p, '@', end);
    }
    size_t len = end;
    /* A port (":digits" at the end, outside an IPv6 literal's brackets). */
    size_t colon = len;
    while (colon > 0 && p[colon - 1] >= '0' && p[colon - 1] <= '9')
        colon--;
    if (colon > 0 && colon < len && p[colon - 1] == ':' && p[0] != '[')
        len = colon - 1;
    else if (colon > 0 && colon < len && p[colon - 1] == ':' && p[colon - 2] == ']')
        len = colon - 1;
    if (len == 0 || len >= n)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c == 127)
            return false; /* not a host; nothing of it is shown */
        buf[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    buf[len] = '\0';
    return true;
}

void ck_rsource_label(const struct ck_record *r, char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    const char *named = strcmp(r->platform, "bluesky") == 0 ? "Bluesky"
                        : strcmp(r->platform, "x") == 0     ? "X"
                                                            : NULL;
    if (named != NULL) {
        snprintf(buf, n, "%s", named);
        return;
    }
    if (!url_host(r->url, buf, n) && !url_host(r->uri, buf, n) && !url_host(r->author_url, buf, n))
        buf[0] = '\0';
}

bool ck_rfor_each_author(const char *path, void (*each)(void *arg, const char *handle), void *arg)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_t *j = json_loadb(line, (size_t)len, 0, NULL);
        const char *boost = json_string_value(json_object_get(j, "boost_of"));
        struct ck_record r;
        /* spam is nobody's participation (issue 14) */
        bool spam = j != NULL && ck_record_from_json(j, &r) == 0 && ck_record_is_spam(&r);
        if (j != NULL && (boost == NULL || boost[0] == '\0') && !spam)
            each(arg, json_string_value(json_object_get(json_object_get(j, "author"), "handle")));
        json_decref(j);
    }
    free(line);
    fclose(f);
    return true;
}

/* ---- links and hashtags in a message's text (summary.json lists them) ---- */

static bool tag_byte(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
        return true;
    if (c < 0x80)
        return false;
    /* Non-ASCII letters belong to a tag, but Latin-1 punctuation (U+0080..U+00BF)
     * and General Punctuation (U+2000..U+206F: quotes, ellipsis, bidi controls)
     * end it, so "#uklibchat’s" is #uklibchat. */
    if (c == 0xC2)
        return false;
    if (c == 0xE2 && left >= 2 && (p[1] == 0x80 || p[1] == 0x81))
        return false;
    return true;
}

static void scan_tags(struct ck_rcount *tags, const char *own_tag, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '#')
            continue;
        /* Only at the start of a word: not "C#", "&#39;", "page#x" or "##x". */
        unsigned char b = i > 0 ? p[i - 1] : ' ';
        if (b >= 0x80 || b == '&' || b == '/' || b == '#' || tag_byte(&b, 1))
            continue;
        size_t e = i + 1;
        bool letter = false;
        while (e < len && tag_byte(p + e, len - e)) {
            letter = letter || p[e] < '0' || p[e] > '9';
            e++;
        }
        /* Back off a partial UTF-8 sequence at the end (tag_byte stops at C2 etc.). */
        while (e > i + 1 && (p[e - 1] & 0xC0) == 0xC0)
            e--;
        size_t tl = e - i - 1;
        if (!letter || tl == 0 || tl > 100) {
            i = e - 1;
            continue;
        }
        char tag[101];
        for (size_t k = 0; k < tl; k++) {
            unsigned char c = p[i + 1 + k];
            tag[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        tag[tl] = '\0';
        if (strcasecmp(tag, own_tag) != 0 && ck_rcount_add(tags, tag, tl) != 0)
            ck_warn("render: out of memory counting hashtags");
        i = e - 1;
    }
}

void ck_rscan_text(struct ck_rcount *links, struct ck_rcount *tags, const char *own_tag,
                   const char *text, size_t len)
{
    size_t at = 0, st, ul;
    while (at < len && ck_url_next(text + at, len - at, &st, &ul)) {
        scan_tags(tags, own_tag, text + at, st); /* never inside a URL ("#fragment") */
        if (ck_rcount_add(links, text + at + st, ul) != 0)
            ck_warn("render: out of memory counting links");
        at += st + ul;
    }
    scan_tags(tags, own_tag, text + at, len - at);
}
