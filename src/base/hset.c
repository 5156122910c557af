/* The compact set of keyed hashes (see hset.h). */
#include "chatkeeper/hset.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "chatkeeper/error.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void store64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void sip128(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len, uint64_t out[2])
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    v1 ^= 0xee;
    const uint8_t *end = in + (len - len % 8);
    for (; in != end; in += 8) {
        uint64_t m = load64(in);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++)
        b |= (uint64_t)in[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xee;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    out[0] = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    out[1] = v0 ^ v1 ^ v2 ^ v3;
}

void ck_siphash128(const uint8_t key[16], const void *data, size_t len, uint8_t out[16])
{
    uint64_t h[2];
    sip128(load64(key), load64(key + 8), data, len, h);
    store64(out, h[0]);
    store64(out + 8, h[1]);
}

static uint64_t secret[2];
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

static void secret_init(void)
{
    uint8_t raw[16];
    if (getrandom(raw, sizeof raw, GRND_NONBLOCK) == (ssize_t)sizeof raw) {
        secret[0] = load64(raw);
        secret[1] = load64(raw + 8);
        return;
    }
    /* No entropy yet (early boot) or no getrandom: still a key nobody chose,
     * if not a secret one; collisions stay as unlikely for honest ids. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    secret[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec;
    secret[1] = (uint64_t)getpid() * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)&ts;
}

struct ck_hkey ck_hset_key(const char *str, size_t len)
{
    pthread_once(&secret_once, secret_init);
    uint64_t h[2];
    sip128(secret[0], secret[1], (const uint8_t *)str, len, h);
    struct ck_hkey k = {h[0], h[1]};
    if (k.lo == 0 && k.hi == 0)
        k.hi = 1; /* {0, 0} marks an empty slot */
    return k;
}

void ck_hset_init(struct ck_hset *s)
{
    memset(s, 0, sizeof *s);
}

void ck_hset_finish(struct ck_hset *s)
{
    free(s->keys);
    free(s->vals);
    ck_hset_init(s);
}

static int empty(struct ck_hkey k)
{
    return k.lo == 0 && k.hi == 0;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t find(const struct ck_hkey *keys, size_t cap, struct ck_hkey k)
{
    size_t i = (size_t)k.lo & (cap - 1);
    while (!empty(keys[i]) && (keys[i].lo != k.lo || keys[i].hi != k.hi))
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(struct ck_hset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct ck_hkey *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = s->vals != NULL ? calloc(cap, sizeof *vals) : NULL;
    if (keys == NULL || (s->vals != NULL && vals == NULL)) {
        free(keys);
        free(vals);
        return CK_ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (empty(s->keys[i]))
            continue;
        size_t j = find(keys, cap, s->keys[i]);
        keys[j] = s->keys[i];
        if (vals != NULL)
            vals[j] = s->vals[i];
    }
    free(s->keys);
    free(s->vals);
    s->keys = keys;
    s->vals = vals;
    s->cap = cap;
    return 0;
}

/* The slot of k, added if absent (*added says which), or -1 out of memory. */
static long slot_of(struct ck_hset *s, struct ck_hkey k, int *added)
{
    *added = 0;
    if (s->cap > 0) {
        size_t i = find(s->keys, s->cap, k);
        if (!empty(s->keys[i]))
            return (long)i;
    }
    /* At most 3/4 full: linear probing stays a few slots long. */
    if ((s->n + 1) * 4 > s->cap * 3 && grow(s) != 0)
        return -1;
    size_t i = find(s->keys, s->cap, k);
    s->keys[i] = k;
    s->n++;
    *added = 1;
    return (long)i;
}

int ck_hset_add_key(struct ck_hset *s, struct ck_hkey k)
{
    int added;
    return slot_of(s, k, &added) < 0 ? CK_ENOMEM : added;
}

int ck_hset_add(struct ck_hset *s, const char *str)
{
    return ck_hset_add_key(s, ck_hset_key(str, strlen(str)));
}

int ck_hset_has_key(const struct ck_hset *s, struct ck_hkey k)
{
    return s->cap > 0 && !empty(s->keys[find(s->keys, s->cap, k)]);
}

int ck_hset_has(const struct ck_hset *s, const char *str)
{
    return ck_hset_has_key(s, ck_hset_key(str, strlen(str)));
}

int ck_hset_put(struct ck_hset *s, const char *str, uint32_t val)
{
    /* The values' table first, so that out of memory leaves the set as it was. */
    if (s->cap == 0 && grow(s) != 0)
        return CK_ENOMEM;
    if (s->vals == NULL && (s->vals = calloc(s->cap, sizeof *s->vals)) == NULL)
        return CK_ENOMEM;
    int added;
    long i = slot_of(s, ck_hset_key(str, strlen(str)), &added);
    if (i < 0)
        return CK_ENOMEM;
    s->vals[i] = val;
    return added;
}

int ck_hset_get(const struct ck_hset *s, const char *str, uint32_t *val)
{
    if (s->cap == 0)
        return 0;
    size_t i = find(s->keys, s->cap, ck_hset_key(str, strlen(str)));
    if (empty(s->keys[i]))
        return 0;
    if (val != NULL)
        *val = s->vals != NULL ? s->vals[i] : 0;
    return 1;
}
