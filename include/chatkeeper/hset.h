/* A set of strings kept as 128-bit keyed hashes, for the follower's dedupe
 * (what it has journaled: every status of a chat, for hours).
 *
 * A member costs 16 bytes in one table (open addressing, linear probing, at
 * most 3/4 full), whatever the string's length, with no copy of it and no
 * allocation of its own: about 27 bytes a member on average, where a set of
 * copies (strset.h) costs a pointer slot, a malloc chunk and the string
 * (about 60 bytes for a Mastodon id, over 150 for a Bluesky at:// URI and cid).
 *
 * It does not keep the strings, so two strings whose hashes are equal would
 * be one member, and a false "already journaled" would lose a message. The
 * hash is SipHash-2-4 with a 128-bit output under a key drawn from getrandom()
 * once per process: with n members the chance that any two collide is about
 * n^2 / 2^128 (10^-27 for a million statuses), and since the key is secret
 * a hostile server cannot choose ids that collide (as it could with FNV or
 * any hash of a known seed).
 *
 * A member may carry a 32-bit value (ck_hset_put/get): the table of values is
 * only allocated when one is put. No iteration: nothing may depend on order. */
#ifndef CHATKEEPER_HSET_H
#define CHATKEEPER_HSET_H

#include <stddef.h>
#include <stdint.h>

struct ck_hkey {
    uint64_t lo, hi; /* {0, 0}: an empty slot (no key is ever that) */
};

struct ck_hset {
    struct ck_hkey *keys;
    uint32_t *vals; /* NULL until a value is put */
    size_t cap;     /* 0 or a power of two */
    size_t n;
};

void ck_hset_init(struct ck_hset *s);
void ck_hset_finish(struct ck_hset *s);

/* The key of a string (len bytes) under this process's secret key. */
struct ck_hkey ck_hset_key(const char *str, size_t len);

/* Returns 1 if added, 0 if already present, CK_ENOMEM (the set unchanged). */
int ck_hset_add(struct ck_hset *s, const char *str);
int ck_hset_add_key(struct ck_hset *s, struct ck_hkey k);
int ck_hset_has(const struct ck_hset *s, const char *str);
int ck_hset_has_key(const struct ck_hset *s, struct ck_hkey k);

/* Add str if absent and set its value: 1 added, 0 replaced, CK_ENOMEM. A
 * member added without a value has 0. */
int ck_hset_put(struct ck_hset *s, const char *str, uint32_t val);
/* 1 and *val when str is a member, else 0 (*val untouched). */
int ck_hset_get(const struct ck_hset *s, const char *str, uint32_t *val);

/* SipHash-2-4 with a 128-bit output (the reference's vectors_sip128), out in
 * little-endian byte order as the reference writes it: for the tests. */
void ck_siphash128(const uint8_t key[16], const void *data, size_t len, uint8_t out[16]);

#endif
