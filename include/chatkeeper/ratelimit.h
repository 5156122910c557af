/* A request budget from X-RateLimit-Limit / -Remaining / -Reset and
 * Retry-After, and the pacing that keeps it from running out. Pure: times are
 * passed in (wall-clock ms). */
#ifndef CHATKEEPER_RATELIMIT_H
#define CHATKEEPER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "chatkeeper/request.h"

/* No wait the headers ask for lasts longer than this: a reset in 2999 (or a
 * Retry-After of a day) would otherwise park a session in silence. A server
 * that really needs longer answers 429 again, and we wait again. */
#define CK_RATELIMIT_MAX_WAIT_MS (15 * 60000LL)

struct ck_ratelimit {
    bool known; /* headers seen at least once */
    long limit;
    long remaining;
    int64_t reset_ms;         /* when the window resets (UTC ms), at most now + MAX_WAIT */
    int64_t blocked_until_ms; /* after a 429: no request before this (capped too) */
    /* Set by each ck_ratelimit_update: the time the server asked for when it
     * lay beyond the cap (so the caller can say so), else 0. */
    int64_t capped_from_ms;
};

void ck_ratelimit_init(struct ck_ratelimit *rl);

/* Take the headers of a response received at now_ms. A 429 sets blocked_until
 * from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (ISO 8601, epoch
 * seconds, or a delta in seconds). Every form is capped at now_ms +
 * CK_RATELIMIT_MAX_WAIT_MS. Malformed headers are ignored (the previous
 * knowledge is kept). */
void ck_ratelimit_update(struct ck_ratelimit *rl, const struct ck_response *resp, int64_t now_ms);

/* The earliest time (UTC ms) the next request may go, given that the caller
 * wants to send at want_ms. Spreads what remains over the rest of the window,
 * keeping a reserve of 10% of the limit (at least 2) for the end-of-session
 * sweep and posts; never before blocked_until. */
int64_t ck_ratelimit_next(const struct ck_ratelimit *rl, int64_t want_ms, int64_t now_ms);

#endif
