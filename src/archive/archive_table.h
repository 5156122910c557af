/* Private to src/archive: the archive's key tables (archive_table.c), split
 * from archive.c unchanged. Keys (message, author and uri ids under a
 * platform) live in an arena; a table indexes the entries that hold them. */
#ifndef CHATKEEPER_ARCHIVE_TABLE_H
#define CHATKEEPER_ARCHIVE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "archive_int.h"
#include "chatkeeper/sbuf.h"

/* An open-addressing set of keys stored elsewhere (stride bytes apart, their
 * bytes in keys). A slot holds the key's index + 1 in its low half and the top
 * of its hash in the high half, so a probe that meets another key mostly
 * tells it apart without reading that key: at a million messages the keys are
 * cache misses. 0 = empty; a power of two, at most half full. */
struct table {
    uint64_t *slots;
    size_t n_slots;
    const struct ck_sbuf *keys; /* the keys' bytes, one after another */
};

/* The library exports only ck_ names; archive.c keeps calling these by the
 * short names they had when they were static there. */
#define key_hash ck_archive_key_hash
#define table_slot ck_archive_table_slot
#define table_reserve ck_archive_table_reserve
#define arena_add ck_archive_arena_add
#define reserve ck_archive_reserve

uint64_t key_hash(uint8_t platform, const char *s, size_t len);

#define KEY_AT(base, stride, i)                                                                    \
    ((const struct ck_archive_key *)(const void *)((const char *)(base) + (i) * (stride)))
#define SLOT_INDEX(v) ((uint32_t)(v)-1)
#define SLOT_TAG(h) ((h)&0xFFFFFFFF00000000ULL)

/* The slot holding (platform, s), whose hash is h, or the empty slot where it
 * would go. */
uint64_t *table_slot(const struct table *t, const void *base, size_t stride, uint8_t platform,
                     const char *s, size_t len, uint64_t h);
/* Make room for one more of n keys: rehash into twice the slots when half full. */
int table_reserve(struct table *t, const void *base, size_t stride, size_t n);
/* Append a key's bytes to a; *off: where they start. */
int arena_add(struct ck_sbuf *a, const char *s, size_t len, uint64_t *off);
/* Grow *arr (of *cap elements of size) to hold one more than n. */
int reserve(void *arr, size_t *cap, size_t n, size_t size);

#endif
