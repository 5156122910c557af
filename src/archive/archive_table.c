/* The archive's key tables (archive_table.h), split from archive.c
 * unchanged: FNV-1a over (platform, key), open addressing with the hash's
 * top half in the slot, an arena of key bytes, and growing arrays. */
#include "archive_table.h"

#include <stdlib.h>
#include <string.h>

#include "chatkeeper/error.h"

uint64_t key_hash(uint8_t platform, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    h = (h ^ platform) * 1099511628211ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The slot holding (platform, s), whose hash is h, or the empty slot where it
 * would go. */
uint64_t *table_slot(const struct table *t, const void *base, size_t stride, uint8_t platform,
                     const char *s, size_t len, uint64_t h)
{
    size_t mask = t->n_slots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t v = t->slots[i];
        if (v == 0)
            return &t->slots[i];
        if (SLOT_TAG(v) != SLOT_TAG(h))
            continue;
        const struct ck_archive_key *k = KEY_AT(base, stride, SLOT_INDEX(v));
        if (k->platform == platform && k->len == len && memcmp(t->keys->s + k->off, s, len) == 0)
            return &t->slots[i];
    }
}

/* Make room for one more of n keys: rehash into twice the slots when half full. */
int table_reserve(struct table *t, const void *base, size_t stride, size_t n)
{
    if (n >= UINT32_MAX - 1)
        return CK_ENOMEM;
    if ((n + 1) * 2 <= t->n_slots)
        return 0;
    size_t n_slots = t->n_slots != 0 ? t->n_slots * 2 : 1024;
    uint64_t *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return CK_ENOMEM;
    free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    for (size_t i = 0; i < n; i++) {
        const struct ck_archive_key *k = KEY_AT(base, stride, i);
        const char *key = t->keys->s + k->off;
        uint64_t h = key_hash(k->platform, key, k->len);
        *table_slot(t, base, stride, k->platform, key, k->len, h) = SLOT_TAG(h) | ((uint64_t)i + 1);
    }
    return 0;
}

/* Append a key's bytes to a; *off: where they start. */
int arena_add(struct ck_sbuf *a, const char *s, size_t len, uint64_t *off)
{
    *off = a->len;
    ck_sbuf_put(a, s, len);
    return a->oom ? CK_ENOMEM : 0;
}

/* Grow *arr (of *cap elements of size) to hold one more than n. */
int reserve(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap != 0 ? *cap * 2 : 1024;
    void *grown = realloc(*(void **)arr, ncap * size);
    if (grown == NULL)
        return CK_ENOMEM;
    *(void **)arr = grown;
    *cap = ncap;
    return 0;
}
