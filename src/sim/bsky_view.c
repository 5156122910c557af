/* The simulator's Bluesky side (bsky.c): who is who (DIDs, handles, at://
 * URIs, CIDs, record keys) and what a post looks like as an XRPC view
 * (app.bsky.feed.defs#postView and its record), the same world the
 * Mastodon entities (entity.c) show. */
#include "bsky_int.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"

static const char b32[] = "234567abcdefghijklmnopqrstuvwxyz"; /* base32-sortable */

void ck_sim_tid(int64_t time_us, unsigned clock, char out[14])
{
    uint64_t v = ((uint64_t)time_us << 10 | (clock & 1023u)) & 0x7FFFFFFFFFFFFFFFULL;
    for (int i = 12; i >= 0; i--) {
        out[i] = b32[v & 31];
        v >>= 5;
    }
    out[13] = '\0';
}

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* n base32 characters from a hash of a and b. */
void ck_sim_bsky_hashed(const char *a, const char *b, char *out, size_t n)
{
    uint64_t h = fnv(b, fnv(a, 1469598103934665603ULL));
    for (size_t i = 0; i < n; i++) {
        out[i] = b32[h & 31];
        h = h >> 5 | (h & 31) << 59;
        h = (h ^ i) * 1099511628211ULL;
    }
    out[n] = '\0';
}

/* ---- identities ---------------------------------------------------------- */

void ck_sim_bsky_did(const struct ck_sim *sim, size_t account, char out[40])
{
    const struct ck_sim_account *a = &sim->script.accounts[account];
    memcpy(out, "did:plc:", 8);
    ck_sim_bsky_hashed(a->username, a->domain != NULL ? a->domain : "", out + 8, 24);
}

/* "ann.bsky.social"; a remote account "ann-glammr.bsky.social" (handles are
 * host names: lowercase, no '_'). */
void ck_sim_bsky_handle_of(const struct ck_sim *sim, size_t account, char *out, size_t n)
{
    const struct ck_sim_account *a = &sim->script.accounts[account];
    size_t o = 0;
    for (const char *p = a->username; *p != '\0' && o + 40 < n; p++)
        out[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
    if (a->domain != NULL && o + 40 < n) {
        out[o++] = '-';
        for (const char *p = a->domain; *p != '\0' && *p != '.' && o + 20 < n; p++)
            out[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
    }
    snprintf(out + o, n - o, ".bsky.social");
}

void ck_sim_bsky_uri(const struct ck_sim *sim, const struct ck_sim_entry *e, char *out, size_t n)
{
    char did[40];
    ck_sim_bsky_did(sim, e->account, did);
    snprintf(out, n, "at://%s/app.bsky.feed.post/%s", did, e->rkey);
}

void ck_sim_bsky_cid(const struct ck_sim_entry *e, char out[64])
{
    memcpy(out, "bafyrei", 7);
    ck_sim_bsky_hashed(e->id, e->rkey, out + 7, 52);
}

/* The entry at this at:// URI (by its author's did or handle), or NULL. */
struct ck_sim_entry *ck_sim_bsky_find_uri(const struct ck_sim *sim, const char *uri)
{
    static const char coll[] = "/app.bsky.feed.post/";
    if (uri == NULL || strncmp(uri, "at://", 5) != 0)
        return NULL;
    const char *c = strstr(uri + 5, coll);
    if (c == NULL)
        return NULL;
    size_t alen = (size_t)(c - (uri + 5));
    const char *rkey = c + sizeof coll - 1;
    for (size_t i = 0; i < sim->n_entries; i++) {
        struct ck_sim_entry *e = sim->entries[i];
        char did[40], handle[128];
        if (strcmp(e->rkey, rkey) != 0)
            continue;
        ck_sim_bsky_did(sim, e->account, did);
        ck_sim_bsky_handle_of(sim, e->account, handle, sizeof handle);
        if ((strlen(did) == alen && strncmp(did, uri + 5, alen) == 0) ||
            (strlen(handle) == alen && strncmp(handle, uri + 5, alen) == 0))
            return e;
    }
    return NULL;
}

/* ---- views ----------------------------------------------------------------- */

static int tag_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Facets for the text's hashtags and links, with UTF-8 byte offsets. */
static json_t *facets_of(const char *text)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && text[i] != '\0'; i++) {
        bool start = i == 0 || isspace((unsigned char)text[i - 1]) || text[i - 1] == '(';
        if (!start)
            continue;
        size_t end = i;
        json_t *feature = NULL;
        if (text[i] == '#' && tag_char((unsigned char)text[i + 1])) {
            for (end = i + 1; tag_char((unsigned char)text[end]); end++)
                ;
            feature = json_pack("{s:s s:s%}", "$type", "app.bsky.richtext.facet#tag", "tag",
                                text + i + 1, end - i - 1);
        } else if (strncmp(text + i, "https://", 8) == 0 || strncmp(text + i, "http://", 7) == 0) {
            for (end = i; text[end] != '\0' && !isspace((unsigned char)text[end]); end++)
                ;
            while (end > i && strchr(".,;:!?)", text[end - 1]) != NULL)
                end--;
            feature = json_pack("{s:s s:s%}", "$type", "app.bsky.richtext.facet#link", "uri",
                                text + i, end - i);
        }
        if (feature == NULL)
            continue;
        json_array_append_new(arr,
                              json_pack("{s:{s:I s:I} s:[o]}", "index", "byteStart", (json_int_t)i,
                                        "byteEnd", (json_int_t)end, "features", feature));
        i = end - 1;
    }
    return arr;
}

static json_t *strong_ref(const struct ck_sim *sim, const struct ck_sim_entry *e)
{
    char uri[160], cid[64];
    ck_sim_bsky_uri(sim, e, uri, sizeof uri);
    ck_sim_bsky_cid(e, cid);
    return json_pack("{s:s s:s}", "uri", uri, "cid", cid);
}

json_t *ck_sim_bsky_record(const struct ck_sim *sim, const struct ck_sim_entry *e)
{
    char created[32];
    ck_time_format_rfc3339(e->chat_ms, created);
    json_t *r =
        json_pack("{s:s s:s s:s s:o s:[s]}", "$type", "app.bsky.feed.post", "createdAt", created,
                  "text", e->text, "facets", facets_of(e->text), "langs", e->language);
    if (r != NULL && e->bsky_mentions != NULL)
        json_array_extend(json_object_get(r, "facets"), e->bsky_mentions);
    if (r != NULL && e->parent != NULL) {
        const struct ck_sim_entry *root = e->parent;
        while (root->parent != NULL)
            root = root->parent;
        json_object_set_new(r, "reply",
                            json_pack("{s:o s:o}", "root", strong_ref(sim, root), "parent",
                                      strong_ref(sim, e->parent)));
    }
    if (r != NULL && e->script != NULL && e->script->n_media > 0) {
        json_t *imgs = json_array();
        for (size_t i = 0; i < e->script->n_media; i++)
            json_array_append_new(imgs, json_pack("{s:s s:{s:s s:{s:s} s:s s:i} s:{s:i s:i}}",
                                                  "alt", e->script->media[i], "image", "$type",
                                                  "blob", "ref", "$link", "bafkreiexampleimage",
                                                  "mimeType", "image/png", "size", 41234,
                                                  "aspectRatio", "width", 1200, "height", 800));
        json_object_set_new(
            r, "embed", json_pack("{s:s s:o}", "$type", "app.bsky.embed.images", "images", imgs));
    }
    return r;
}

static json_t *author_of(const struct ck_sim *sim, size_t account)
{
    const struct ck_sim_account *a = &sim->script.accounts[account];
    char did[40], handle[128];
    ck_sim_bsky_did(sim, account, did);
    ck_sim_bsky_handle_of(sim, account, handle, sizeof handle);
    return json_pack("{s:s s:s s:s s:{s:b s:b} s:[] s:s}", "did", did, "handle", handle,
                     "displayName", a->display_name != NULL ? a->display_name : "", "viewer",
                     "muted", 0, "blockedBy", 0, "labels", "createdAt", "2023-04-12T10:00:00.000Z");
}

static json_t *embed_view(const struct ck_sim *sim, const struct ck_sim_entry *e)
{
    char did[40];
    ck_sim_bsky_did(sim, e->account, did);
    json_t *imgs = json_array();
    for (size_t i = 0; i < e->script->n_media; i++) {
        char thumb[200], full[200];
        snprintf(thumb, sizeof thumb,
                 "https://cdn.bsky.app/img/feed_thumbnail/plain/%s/bafkreiexampleimage@jpeg", did);
        snprintf(full, sizeof full,
                 "https://cdn.bsky.app/img/feed_fullsize/plain/%s/bafkreiexampleimage@jpeg", did);
        json_array_append_new(imgs, json_pack("{s:s s:s s:s s:{s:i s:i}}", "thumb", thumb,
                                              "fullsize", full, "alt", e->script->media[i],
                                              "aspectRatio", "width", 1200, "height", 800));
    }
    return json_pack("{s:s s:o}", "$type", "app.bsky.embed.images#view", "images", imgs);
}

/* app.bsky.feed.defs#postView */
json_t *ck_sim_bsky_post_view(const struct ck_sim *sim, const struct ck_sim_entry *e, int64_t now)
{
    char uri[160], cid[64], indexed[32];
    ck_sim_bsky_uri(sim, e, uri, sizeof uri);
    ck_sim_bsky_cid(e, cid);
    ck_time_format_rfc3339(ck_sim_chat_time(sim, e->visible_ms), indexed);
    long replies, reposts, likes;
    ck_sim_entry_counts(sim, e, now, &replies, &reposts, &likes);
    json_t *v = json_pack("{s:s s:s s:o s:o s:i s:i s:i s:i s:s s:{s:b s:b} s:[]}", "uri", uri,
                          "cid", cid, "author", author_of(sim, e->account), "record",
                          ck_sim_bsky_record(sim, e), "replyCount", (int)replies, "repostCount",
                          (int)reposts, "likeCount", (int)likes, "quoteCount", 0, "indexedAt",
                          indexed, "viewer", "threadMuted", 0, "embeddingDisabled", 0, "labels");
    if (v != NULL && e->script != NULL && e->script->n_media > 0)
        json_object_set_new(v, "embed", embed_view(sim, e));
    return v;
}
