/* Bluesky's write side: facets (UTF-8 byte ranges), grapheme counting for the
 * 300-grapheme limit, and the createRecord request and answer (see bluesky.h).
 *
 * Bluesky has no idempotency key: exactly-once comes from the record key. The
 * caller makes a TID before sending, records it with its intent, and after a
 * restart asks getRecord for that key before sending again; createRecord with
 * a key that exists fails instead of posting twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bluesky_int.h"
#include "chatkeeper/timeutil.h"

/* ---- UTF-8 ---- */

/* Decode one code point at s (n bytes left); *len gets its length. Invalid
 * bytes decode as themselves with length 1 and cp = 0xFFFD. */
static uint32_t decode(const unsigned char *s, size_t n, size_t *len)
{
    unsigned c = s[0];
    size_t need;
    uint32_t cp, min;
    *len = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 2, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 3, cp = c & 0x07, min = 0x10000;
    else
        return 0xFFFD;
    if (need >= n)
        return 0xFFFD;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0xFFFD;
    *len = need + 1;
    return cp;
}

static bool utf8_valid(const char *s)
{
    size_t n = strlen(s), len;
    for (size_t i = 0; i < n; i += len)
        if (decode((const unsigned char *)s + i, n - i, &len) == 0xFFFD &&
            !(len == 3 && memcmp(s + i, "\xEF\xBF\xBD", 3) == 0))
            return false;
    return true;
}

/* Code points that never start a grapheme cluster (they extend the previous
 * one): combining marks of the common scripts, variation selectors, emoji
 * modifiers, tag characters, ZWJ/ZWNJ, Hangul medial and final jamo, and the
 * most frequent Indic/Thai vowel signs and viramas. An approximation of
 * Grapheme_Extend + SpacingMark: rarer scripts' marks count as characters
 * (the count can only be too high there, so a post we accept is accepted). */
static bool extends(uint32_t c)
{
    static const uint32_t ranges[][2] = {
        {0x0300, 0x036F},   {0x0483, 0x0489},   {0x0591, 0x05BD}, {0x05BF, 0x05C7},
        {0x0610, 0x061A},   {0x064B, 0x065F},   {0x0670, 0x0670}, {0x06D6, 0x06ED},
        {0x0900, 0x0903},   {0x093A, 0x094F},   {0x0951, 0x0957}, {0x0962, 0x0963},
        {0x0981, 0x0983},   {0x09BC, 0x09D7},   {0x0A01, 0x0A03}, {0x0A3C, 0x0A51},
        {0x0B01, 0x0B03},   {0x0B3C, 0x0B57},   {0x0BBE, 0x0BCD}, {0x0C00, 0x0C04},
        {0x0C3E, 0x0C56},   {0x0D00, 0x0D03},   {0x0D3E, 0x0D4D}, {0x0E31, 0x0E31},
        {0x0E34, 0x0E3A},   {0x0E47, 0x0E4E},   {0x1160, 0x11FF}, {0x1AB0, 0x1AFF},
        {0x1DC0, 0x1DFF},   {0x200C, 0x200D},   {0x20D0, 0x20FF}, {0x302A, 0x302F},
        {0x3099, 0x309A},   {0xFE00, 0xFE0F},   {0xFE20, 0xFE2F}, {0x1F3FB, 0x1F3FF},
        {0xE0020, 0xE007F}, {0xE0100, 0xE01EF},
    };
    if (c < 0x0300) /* ASCII and Latin-1, most of any text: nothing below extends */
        return false;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return true;
    return false;
}

size_t ck_bluesky_graphemes(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), len, count = 0;
    uint32_t prev = 0;
    bool after_zwj = false, ri_open = false;
    for (size_t i = 0; i < n; i += len) {
        uint32_t c = decode(u + i, n - i, &len);
        bool ri = c >= 0x1F1E6 && c <= 0x1F1FF;
        /* A ZWJ glues whatever follows (👨‍❤️‍👨 is one: we do not check that
         * both sides are pictographs); regional indicators pair into flags. */
        bool ext = extends(c);
        bool joins = i > 0 && ((prev == '\r' && c == '\n') || ext || after_zwj || (ri && ri_open));
        if (!joins)
            count++;
        if (ri)
            ri_open = !(joins && ri_open);
        else if (!ext)
            ri_open = false;
        after_zwj = c == 0x200D;
        prev = c;
    }
    return count;
}

/* ---- facets ---- */

static bool is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 ||
           c == 0x3000 || (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F;
}

static bool trailing_punct(char c)
{
    return strchr(".,;:!?\"'", c) != NULL;
}

/* The code point before byte i (or ' ' at the start). */
static uint32_t before(const char *s, size_t i)
{
    if (i == 0)
        return ' ';
    size_t k = i - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    size_t len;
    return decode((const unsigned char *)s + k, i - k, &len);
}

/* End (byte) of the run of non-space characters starting at i. */
static size_t word_end(const char *s, size_t n, size_t i)
{
    size_t len;
    while (i < n && !is_space(decode((const unsigned char *)s + i, n - i, &len)))
        i += len;
    return i;
}

static int add_facet(json_t *arr, size_t start, size_t end, json_t *feature)
{
    json_t *f = json_pack("{s:{s:I, s:I}, s:[o]}", "index", "byteStart", (json_int_t)start,
                          "byteEnd", (json_int_t)end, "features", feature);
    if (f == NULL)
        return -1;
    return json_array_append_new(arr, f);
}

static bool handle_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

json_t *ck_bluesky_facets(const char *text, ck_bluesky_resolve_fn resolve, void *arg)
{
    json_t *arr = json_array();
    if (arr == NULL || text == NULL)
        return arr;
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        uint32_t b = before(text, i);
        bool at_word = is_space(b) || b == '(';
        if (at_word &&
            (strncmp(text + i, "https://", 8) == 0 || strncmp(text + i, "http://", 7) == 0)) {
            size_t end = word_end(text, n, i);
            while (end > i && trailing_punct(text[end - 1]))
                end--;
            /* A closing parenthesis belongs to the URL only if it closes one
             * opened inside it: "(see https://x.org/a_(b))." */
            for (;;) {
                size_t open = 0, close = 0;
                for (size_t k = i; k < end; k++) {
                    open += text[k] == '(';
                    close += text[k] == ')';
                }
                if (end > i && text[end - 1] == ')' && close > open)
                    end--;
                else if (end > i && trailing_punct(text[end - 1]))
                    end--;
                else
                    break;
            }
            size_t scheme = text[i + 4] == 's' ? 8 : 7;
            if (end > i + scheme) {
                char *uri = strndup(text + i, end - i);
                json_t *feat = uri != NULL ? json_pack("{s:s, s:s}", "$type",
                                                       "app.bsky.richtext.facet#link", "uri", uri)
                                           : NULL;
                free(uri);
                if (feat != NULL)
                    add_facet(arr, i, end, feat);
            }
            i = end > i ? end : i + 1;
            continue;
        }
        if (at_word && (text[i] == '#' || strncmp(text + i, "\xEF\xBC\x83", 3) == 0)) {
            size_t hash = text[i] == '#' ? 1 : 3;
            size_t end = word_end(text, n, i + hash);
            while (end > i + hash && trailing_punct(text[end - 1]))
                end--;
            size_t tag_len = end - i - hash;
            bool digits_only = strspn(text + i + hash, "0123456789") >= tag_len;
            if (tag_len > 0 && tag_len <= 640 && !digits_only) {
                char *tag = strndup(text + i + hash, tag_len);
                json_t *feat = tag != NULL && ck_bluesky_graphemes(tag) <= 64
                                   ? json_pack("{s:s, s:s}", "$type", "app.bsky.richtext.facet#tag",
                                               "tag", tag)
                                   : NULL;
                free(tag);
                if (feat != NULL)
                    add_facet(arr, i, end, feat);
            }
            i = end > i + hash ? end : i + hash;
            continue;
        }
        if (at_word && text[i] == '@' && resolve != NULL) {
            size_t end = i + 1;
            while (end < n && handle_char(text[end]))
                end++;
            while (end > i + 1 && (text[end - 1] == '.' || text[end - 1] == '-'))
                end--;
            size_t hl = end - i - 1;
            if (hl >= 3 && hl <= 253 && memchr(text + i + 1, '.', hl) != NULL) {
                char *handle = strndup(text + i + 1, hl);
                const char *did = handle != NULL ? resolve(handle, arg) : NULL;
                free(handle);
                if (ck_bsky_did_ok(did)) {
                    json_t *feat = json_pack("{s:s, s:s}", "$type",
                                             "app.bsky.richtext.facet#mention", "did", did);
                    if (feat != NULL)
                        add_facet(arr, i, end, feat);
                }
            }
            i = end;
            continue;
        }
        size_t len;
        decode((const unsigned char *)text + i, n - i, &len);
        i += len;
    }
    return arr;
}

static const char *collect_handle(const char *handle, void *arg)
{
    json_t *arr = arg;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(json_string_value(v), handle) == 0)
            return NULL;
    }
    json_array_append_new(arr, json_string(handle));
    return NULL;
}

json_t *ck_bluesky_mention_handles(const char *text)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    /* The facet scanner's own rules find them: what it would ask about is
     * exactly what needs resolving. */
    json_t *facets = ck_bluesky_facets(text, collect_handle, arr);
    if (facets == NULL) {
        json_decref(arr);
        return NULL;
    }
    json_decref(facets);
    return arr;
}

/* ---- createRecord ---- */

static json_t *strong_ref(const struct ck_bluesky_ref *r)
{
    return json_pack("{s:s, s:s}", "uri", r->uri, "cid", r->cid);
}

static bool ref_set(const struct ck_bluesky_ref *r)
{
    return r->uri != NULL && r->cid != NULL && r->uri[0] != '\0' && r->cid[0] != '\0' &&
           ck_bluesky_uri_split(r->uri, NULL, NULL, NULL) == 0;
}

static bool ref_empty(const struct ck_bluesky_ref *r)
{
    return r->uri == NULL && r->cid == NULL;
}

int ck_bluesky_create_record_request(const char *base_url, const char *access_jwt,
                                     const struct ck_bluesky_post *post, struct ck_request *out,
                                     struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (access_jwt == NULL || access_jwt[0] == '\0')
        return ck_error_set(err, CK_EAUTH, "bluesky: posting needs a session");
    if (post == NULL || !ck_bsky_did_ok(post->repo) || !ck_bsky_rkey_ok(post->rkey) ||
        post->text == NULL)
        return ck_error_set(err, CK_EINVAL, "bluesky: posting needs a repo DID, an rkey and text");
    if (!utf8_valid(post->text))
        return ck_error_set(err, CK_EINVAL, "bluesky: post text is not valid UTF-8");
    size_t g = ck_bluesky_graphemes(post->text), bytes = strlen(post->text);
    if (g > CK_BLUESKY_MAX_GRAPHEMES || bytes > CK_BLUESKY_MAX_TEXT_BYTES)
        return ck_error_set(err, CK_EINVAL,
                            "bluesky: post is %zu graphemes (%zu bytes); the limit is %d (%d)", g,
                            bytes, CK_BLUESKY_MAX_GRAPHEMES, CK_BLUESKY_MAX_TEXT_BYTES);
    bool threaded = !ref_empty(&post->root) || !ref_empty(&post->parent);
    if (threaded && (!ref_set(&post->root) || !ref_set(&post->parent)))
        return ck_error_set(err, CK_EINVAL,
                            "bluesky: a reply needs both root and parent (at:// uri and cid)");
    char created[32];
    ck_time_format_rfc3339(post->created_ms, created);
    json_t *record = json_pack("{s:s, s:s, s:s}", "$type", "app.bsky.feed.post", "text", post->text,
                               "createdAt", created);
    json_t *facets = ck_bluesky_facets(post->text, post->resolve, post->resolve_arg);
    bool ok = record != NULL && facets != NULL;
    if (ok && json_array_size(facets) > 0)
        ok = json_object_set(record, "facets", facets) == 0;
    if (ok && post->langs != NULL && post->langs[0] != NULL) {
        json_t *langs = json_array();
        for (size_t i = 0; langs != NULL && post->langs[i] != NULL && i < 3; i++)
            json_array_append_new(langs, json_string(post->langs[i]));
        ok = langs != NULL && json_object_set_new(record, "langs", langs) == 0;
    }
    if (ok && threaded)
        ok = json_object_set_new(record, "reply",
                                 json_pack("{s:o, s:o}", "root", strong_ref(&post->root), "parent",
                                           strong_ref(&post->parent))) == 0;
    json_decref(facets);
    json_t *body = ok ? json_pack("{s:s, s:s, s:s, s:O}", "repo", post->repo, "collection",
                                  "app.bsky.feed.post", "rkey", post->rkey, "record", record)
                      : NULL;
    json_decref(record);
    char *s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (s == NULL)
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    struct ck_sbuf q = {0};
    return ck_bsky_request(base_url, "com.atproto.repo.createRecord", "POST", access_jwt, &q, s,
                           out, err);
}

int ck_bluesky_parse_create_record(const struct ck_response *resp, char **uri_out, char **cid_out,
                                   struct ck_error *err)
{
    *uri_out = NULL;
    *cid_out = NULL;
    json_t *root;
    int rc = ck_bsky_load(resp, "createRecord", &root, err);
    if (rc != 0)
        return rc == CK_ENOTFOUND ? CK_EHTTP : rc;
    const char *uri = json_string_value(json_object_get(root, "uri"));
    const char *cid = json_string_value(json_object_get(root, "cid"));
    if (uri == NULL || ck_bluesky_uri_split(uri, NULL, NULL, NULL) != 0 || cid == NULL ||
        cid[0] == '\0') {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "bluesky: createRecord: no at:// uri or no cid");
    }
    *uri_out = strdup(uri);
    *cid_out = strdup(cid);
    json_decref(root);
    if (*uri_out == NULL || *cid_out == NULL) {
        free(*uri_out);
        free(*cid_out);
        *uri_out = *cid_out = NULL;
        return ck_error_set(err, CK_ENOMEM, "bluesky: out of memory");
    }
    return 0;
}
