/* Exponential backoff with full jitter (pure: the caller supplies the state). */
#ifndef CHATKEEPER_BACKOFF_H
#define CHATKEEPER_BACKOFF_H

#include <stdint.h>

struct ck_backoff {
    int64_t base_ms; /* first delay's upper bound, e.g. 1000 */
    int64_t cap_ms;  /* largest delay, e.g. 60000 */
    unsigned attempt;
    uint64_t rng; /* xorshift state, seed non-zero */
};

void ck_backoff_init(struct ck_backoff *b, int64_t base_ms, int64_t cap_ms, uint64_t seed);
/* Next delay: uniform in [upper/2, upper], upper = min(cap, base * 2^attempt). */
int64_t ck_backoff_next(struct ck_backoff *b);
void ck_backoff_reset(struct ck_backoff *b);

#endif
