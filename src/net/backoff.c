/* Exponential backoff with "full jitter" (as in the AWS architecture blog's
 * comparison): the n-th retry waits a random time in [upper/2, upper] with
 * upper = min(cap, base * 2^n). The lower half is cut off so a retry never
 * fires almost immediately after a failure, while the random spread keeps
 * several clients (or several followers) from retrying in lock-step.
 *
 * Pure: the generator state lives in the struct, so tests are repeatable
 * with a fixed seed and no clock is read here. */
#include "chatkeeper/backoff.h"

/* Any non-zero constant works; xorshift is stuck at 0 forever. */
#define DEFAULT_SEED UINT64_C(0x9e3779b97f4a7c15)

void ck_backoff_init(struct ck_backoff *b, int64_t base_ms, int64_t cap_ms, uint64_t seed)
{
    /* Clamp nonsense rather than fail: a zero base would mean "retry in a busy loop". */
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    b->base_ms = base_ms;
    b->cap_ms = cap_ms;
    b->attempt = 0;
    b->rng = seed != 0 ? seed : DEFAULT_SEED;
}

/* Marsaglia's xorshift64 (13, 7, 17): fast, and plenty for spreading retries. */
static uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* min(cap, base * 2^attempt) without overflowing for large attempt counts. */
static int64_t upper_bound(const struct ck_backoff *b)
{
    int64_t upper = b->base_ms;
    for (unsigned i = 0; i < b->attempt; i++) {
        if (upper >= b->cap_ms / 2)
            return b->cap_ms;
        upper *= 2;
    }
    return upper < b->cap_ms ? upper : b->cap_ms;
}

int64_t ck_backoff_next(struct ck_backoff *b)
{
    if (b->rng == 0)
        b->rng = DEFAULT_SEED; /* a zeroed struct must still jitter */
    int64_t upper = upper_bound(b);
    int64_t lower = upper / 2;
    uint64_t span = (uint64_t)(upper - lower) + 1;
    int64_t delay = lower + (int64_t)(xorshift64(&b->rng) % span);
    /* Saturate instead of wrapping: after wrap-around the delays would restart small. */
    if (b->attempt < 64)
        b->attempt++;
    return delay;
}

void ck_backoff_reset(struct ck_backoff *b)
{
    b->attempt = 0;
}
