/* X (Twitter) tweet text as a reader sees it: HTML entities decoded once,
 * t.co links expanded, media links dropped and the media listed. Shared by
 * the v1.1 and v2 readers in x.c (split out of it for size). Pure. See x.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/error.h"
#include "chatkeeper/sbuf.h"
#include "fields.h"
#include "x_int.h"

/* An optional array member; absent or null gives NULL, another type an error. */
int ck_x_get_array(struct ck_fields *c, const json_t *obj, const char *key, const json_t **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return ck_fields_bad(c, "%s is not an array", key);
    *out = v;
    return 0;
}

/* Twitter escapes only &, < and > in tweet text, but tools re-encode, so the
 * common named and numeric references are decoded too. One pass: "&amp;lt;"
 * stays the literal text "&lt;", as Twitter showed it. */
static void decode_entities(struct ck_sbuf *b, const char *s)
{
    static const struct {
        const char *ent;
        const char *txt;
    } named[] = {{"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
                 {"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}};
    while (*s != '\0') {
        const char *amp = strchr(s, '&');
        if (amp == NULL) {
            ck_sbuf_str(b, s);
            return;
        }
        ck_sbuf_put(b, s, (size_t)(amp - s));
        s = amp;
        bool done = false;
        for (size_t i = 0; i < sizeof named / sizeof named[0] && !done; i++) {
            size_t n = strlen(named[i].ent);
            if (strncmp(s, named[i].ent, n) == 0) {
                ck_sbuf_str(b, named[i].txt);
                s += n;
                done = true;
            }
        }
        if (!done && s[1] == '#') {
            bool hex = s[2] == 'x' || s[2] == 'X';
            char *end;
            unsigned long cp = strtoul(s + (hex ? 3 : 2), &end, hex ? 16 : 10);
            /* Only scalar values other than NUL: a reference must never let a
             * control byte or a surrogate into text that was valid before. */
            if (*end == ';' && end > s + (hex ? 3 : 2) && cp >= 0x20 && cp <= 0x10FFFF &&
                !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0x7F) {
                char u[4];
                ck_sbuf_put(b, u, ck_utf8_encode((uint32_t)cp, u));
                s = end + 1;
                done = true;
            }
        }
        if (!done) {
            ck_sbuf_put(b, "&", 1);
            s++;
        }
    }
}

/* One t.co link and what replaces it ("" to drop a media link). */
struct link {
    const char *from, *to;
    size_t from_len;
};

#define MAX_LINKS 64

/* Collect url -> expanded_url pairs of an entities.urls array. Entities with a
 * media_key (v2) link to the tweet's own photo page: dropped from the text,
 * the media are listed after it. */
static int collect_urls(struct ck_fields *c, const json_t *urls, struct link *links, size_t *n)
{
    for (size_t i = 0; urls != NULL && i < json_array_size(urls); i++) {
        const json_t *u = json_array_get(urls, i);
        const char *from, *to, *media_key;
        if (!json_is_object(u))
            return ck_fields_bad(c, "entities.urls[%zu] is not an object", i);
        if (ck_fields_str(c, u, "url", false, &from) ||
            ck_fields_str(c, u, "expanded_url", false, &to) ||
            ck_fields_str(c, u, "media_key", false, &media_key))
            return CK_EPARSE;
        if (from == NULL || from[0] == '\0' || *n >= MAX_LINKS)
            continue;
        if (media_key != NULL)
            to = "";
        links[(*n)++] = (struct link){from, to != NULL ? to : from, strlen(from)};
    }
    return 0;
}

/* Copy text with every link replaced (longest match first, so a t.co code
 * that prefixes another cannot cut it). */
static void expand_links(struct ck_sbuf *b, const char *text, const struct link *links, size_t n)
{
    const char *p = text;
    while (*p != '\0') {
        const struct link *best = NULL;
        for (size_t i = 0; i < n; i++)
            if (strncmp(p, links[i].from, links[i].from_len) == 0 &&
                (best == NULL || links[i].from_len > best->from_len))
                best = &links[i];
        if (best != NULL) {
            ck_sbuf_str(b, best->to);
            p += best->from_len;
        } else {
            ck_sbuf_put(b, p, 1);
            p++;
        }
    }
}

/* Media are what a reader sees: one "[image: ALT] URL" line each, as for
 * Mastodon. v1.1 names alt text ext_alt_text; v2 alt_text. */
static int append_media(struct ck_fields *c, const json_t *media, struct ck_sbuf *b)
{
    for (size_t i = 0; media != NULL && i < json_array_size(media); i++) {
        const json_t *m = json_array_get(media, i);
        const char *type, *alt, *alt2, *url;
        if (!json_is_object(m))
            continue; /* v2 pages list media_keys; only expanded objects are shown */
        if (ck_fields_str(c, m, "type", false, &type) ||
            ck_fields_str(c, m, "ext_alt_text", false, &alt) ||
            ck_fields_str(c, m, "alt_text", false, &alt2))
            return CK_EPARSE;
        if (ck_fields_str(c, m, "media_url_https", false, &url) ||
            (url == NULL && ck_fields_str(c, m, "url", false, &url)) ||
            (url == NULL && ck_fields_str(c, m, "preview_image_url", false, &url)))
            return CK_EPARSE;
        if (alt == NULL)
            alt = alt2;
        const char *kind = type == NULL                        ? "media"
                           : strcmp(type, "photo") == 0        ? "image"
                           : strcmp(type, "animated_gif") == 0 ? "gifv"
                           : strcmp(type, "video") == 0        ? "video"
                                                               : "media";
        if (b->len > 0)
            ck_sbuf_str(b, "\n");
        ck_sbuf_str(b, "[");
        ck_sbuf_str(b, kind);
        if (alt != NULL && alt[0] != '\0') {
            ck_sbuf_str(b, ": ");
            ck_sbuf_str(b, alt);
        }
        ck_sbuf_str(b, "]");
        if (url != NULL) {
            ck_sbuf_str(b, " ");
            ck_sbuf_str(b, url);
        }
    }
    return 0;
}

/* The text a reader sees: entities decoded, t.co links expanded, media links
 * dropped and the media listed. ents: the entities object (may be NULL);
 * media: an array of media objects (may be NULL). */
int ck_x_build_text(struct ck_fields *c, const char *raw_text, const json_t *ents,
                    const json_t *media, char **out)
{
    struct link links[MAX_LINKS];
    size_t n = 0;
    const json_t *urls = NULL, *ent_media = NULL;
    *out = NULL;
    if (ents != NULL && !json_is_null(ents) && !json_is_object(ents))
        return ck_fields_bad(c, "entities is not an object");
    if (ck_x_get_array(c, ents, "urls", &urls) || collect_urls(c, urls, links, &n) ||
        ck_x_get_array(c, ents, "media", &ent_media))
        return CK_EPARSE;
    /* v1.1 media entities: their t.co link goes; the media are listed below. */
    if (media == NULL)
        media = ent_media;
    for (size_t i = 0; media != NULL && i < json_array_size(media) && n < MAX_LINKS; i++) {
        const char *u = json_string_value(json_object_get(json_array_get(media, i), "url"));
        if (u != NULL && strncmp(u, "https://t.co/", 13) == 0)
            links[n++] = (struct link){u, "", strlen(u)};
    }
    for (size_t i = 0; ent_media != NULL && i < json_array_size(ent_media) && n < MAX_LINKS; i++) {
        const char *u = json_string_value(json_object_get(json_array_get(ent_media, i), "url"));
        if (u != NULL && u[0] != '\0')
            links[n++] = (struct link){u, "", strlen(u)};
    }
    struct ck_sbuf dec = {0}, b = {0};
    ck_sbuf_put(&dec, "", 0);
    decode_entities(&dec, raw_text);
    ck_sbuf_put(&b, "", 0);
    if (!dec.oom)
        expand_links(&b, dec.s, links, n);
    free(dec.s);
    /* A dropped media link leaves the space before it. */
    while (b.len > 0 && (b.s[b.len - 1] == ' ' || b.s[b.len - 1] == '\n'))
        b.s[--b.len] = '\0';
    int rc = append_media(c, media, &b);
    if (rc != 0 || b.oom || dec.oom) {
        free(b.s);
        return rc != 0 ? rc : ck_error_set(c->err, CK_ENOMEM, "x: out of memory");
    }
    *out = b.s;
    return 0;
}
