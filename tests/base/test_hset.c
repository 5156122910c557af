/* The follower's compact dedupe set (hset.h): the hash is the reference
 * SipHash-2-4-128, members stay members across growth, values travel with
 * their keys, and a set of 100,000 ids holds exactly those ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/hset.h"

/* vectors_sip128 of the reference (github.com/veorq/SipHash, vectors.h): the
 * tag of the message 00 01 .. (len-1) under the key 00 01 .. 0f. */
static const struct {
    size_t len;
    uint8_t tag[16];
} VEC[] = {
    {0,
     {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02,
      0x93}},
    {1,
     {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc,
      0x45}},
    {7,
     {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f, 0xf0, 0x82,
      0x39}},
    {8,
     {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97,
      0xb4}},
    {15,
     {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3,
      0xd9}},
    {63,
     {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97, 0x3f, 0xbd,
      0x7c}},
};

static void siphash_reference_vectors(void **st)
{
    (void)st;
    uint8_t key[16], in[64], out[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        in[i] = (uint8_t)i;
    for (size_t v = 0; v < sizeof VEC / sizeof VEC[0]; v++) {
        ck_siphash128(key, in, VEC[v].len, out);
        assert_memory_equal(out, VEC[v].tag, 16);
    }
}

static void add_has_and_grow(void **st)
{
    (void)st;
    struct ck_hset s;
    ck_hset_init(&s);
    assert_false(ck_hset_has(&s, "a"));
    uint32_t v = 7;
    assert_false(ck_hset_get(&s, "a", &v));
    assert_int_equal(v, 7);
    char id[32];
    /* Far past the first table (64 slots) and many doublings. */
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "1134%014d", i);
        assert_int_equal(ck_hset_add(&s, id), 1);
        assert_int_equal(ck_hset_add(&s, id), 0);
    }
    assert_int_equal(s.n, 100000);
    assert_true(s.n * 4 <= s.cap * 3);
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "1134%014d", i);
        assert_true(ck_hset_has(&s, id));
        /* Near misses: one more digit, one fewer, the next id past the end. */
        snprintf(id, sizeof id, "1134%014d0", i);
        assert_false(ck_hset_has(&s, id));
        snprintf(id, sizeof id, "134%014d", i);
        assert_false(ck_hset_has(&s, id));
    }
    snprintf(id, sizeof id, "1134%014d", 100000);
    assert_false(ck_hset_has(&s, id));
    /* The empty string and keys that differ only past a NUL-free prefix. */
    assert_int_equal(ck_hset_add(&s, ""), 1);
    assert_true(ck_hset_has(&s, ""));
    assert_int_equal(ck_hset_add(&s, "109\n2026-01-01T00:00:00Z"), 1);
    assert_false(ck_hset_has(&s, "109\n2026-01-01T00:00:01Z"));
    assert_false(ck_hset_has(&s, "109\n"));
    ck_hset_finish(&s);
    assert_int_equal(s.n, 0);
    assert_false(ck_hset_has(&s, ""));
    ck_hset_finish(&s); /* twice is fine */
}

static void values_follow_their_keys(void **st)
{
    (void)st;
    struct ck_hset s;
    ck_hset_init(&s);
    /* Members added without a value first: they read 0 once values exist. */
    assert_int_equal(ck_hset_add(&s, "plain"), 1);
    char id[64];
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "at://did:plc:abc/app.bsky.feed.post/%u", i);
        assert_int_equal(ck_hset_put(&s, id, i * 3), 1);
    }
    assert_int_equal(ck_hset_put(&s, "at://did:plc:abc/app.bsky.feed.post/9", 1), 0);
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "at://did:plc:abc/app.bsky.feed.post/%u", i);
        uint32_t v = 0xffffffff;
        assert_int_equal(ck_hset_get(&s, id, &v), 1);
        assert_int_equal(v, i == 9 ? 1 : i * 3);
    }
    uint32_t v = 5;
    assert_int_equal(ck_hset_get(&s, "plain", &v), 1);
    assert_int_equal(v, 0);
    assert_int_equal(ck_hset_get(&s, "at://did:plc:abc/app.bsky.feed.post/5000", NULL), 0);
    assert_int_equal(s.n, 5001);
    ck_hset_finish(&s);
}

/* The key depends on every byte and on the length, and is never {0, 0}. */
static void keys_differ(void **st)
{
    (void)st;
    struct ck_hkey a = ck_hset_key("abc", 3), b = ck_hset_key("abc", 2), c = ck_hset_key("abd", 3);
    struct ck_hkey a2 = ck_hset_key("abc", 3);
    assert_true(a.lo == a2.lo && a.hi == a2.hi);
    assert_false(a.lo == b.lo && a.hi == b.hi);
    assert_false(a.lo == c.lo && a.hi == c.hi);
    assert_false(a.lo == 0 && a.hi == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(siphash_reference_vectors),
        cmocka_unit_test(add_has_and_grow),
        cmocka_unit_test(values_follow_their_keys),
        cmocka_unit_test(keys_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
