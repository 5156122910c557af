/* Rate-limit bookkeeping and pacing.
 *
 * Mastodon (and most servers copying it) send X-RateLimit-Limit, -Remaining
 * and -Reset (an ISO 8601 instant) on every API response, and Retry-After on
 * a 429. We keep the last values seen and turn them into "the earliest time
 * the next request may go":
 *
 *   1. Never before blocked_until (set by a 429; see ck_ratelimit_update).
 *   2. If the window's reset is in the future, keep a reserve of
 *      max(2, limit/10) requests for the end-of-session sweep and for posts,
 *      and spread the rest evenly over the time left: consecutive requests are
 *      at least (reset - now) / (remaining - reserve) apart. The caller asks
 *      right after its previous request completed, so "now + spacing" is that
 *      gap measured from the last request. When the budget is large the
 *      spacing is far below the poll interval and changes nothing; it only
 *      bites when the budget runs low, which is the point.
 *   3. If remaining <= reserve, wait for the reset.
 *   4. A reset in the past means a fresh window: no pacing delay.
 *   5. No wait is longer than CK_RATELIMIT_MAX_WAIT_MS (15 minutes), whatever
 *      the headers say: every form is capped as it is read.
 *
 * Pure: the caller passes wall-clock times, nothing here reads a clock. */
#include "chatkeeper/ratelimit.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "chatkeeper/timeutil.h"

/* With no Retry-After and no usable reset, a 429 blocks us this long. */
#define DEFAULT_BLOCK_MS 60000
/* Integers below this read as seconds from now, not epoch seconds: no real
 * reset lies before 2001, and some servers send a delta in X-RateLimit-Reset. */
#define EPOCH_THRESHOLD_S 1000000000LL
/* Delays beyond this are clamped to it before the arithmetic (no overflow);
 * then every wait is capped at CK_RATELIMIT_MAX_WAIT_MS anyway. */
#define MAX_DELTA_S (366LL * 86400)

void ck_ratelimit_init(struct ck_ratelimit *rl)
{
    rl->known = false;
    rl->limit = 0;
    rl->remaining = 0;
    rl->reset_ms = 0;
    rl->blocked_until_ms = 0;
    rl->capped_from_ms = 0;
}

/* t, or now + the longest wait we accept when t lies beyond it (noted). */
static int64_t cap_wait(struct ck_ratelimit *rl, int64_t t, int64_t now_ms)
{
    if (t - now_ms <= CK_RATELIMIT_MAX_WAIT_MS)
        return t;
    if (t > rl->capped_from_ms)
        rl->capped_from_ms = t;
    return now_ms + CK_RATELIMIT_MAX_WAIT_MS;
}

/* Whole non-negative decimal integer, nothing else (no sign, spaces or
 * suffix). strtoll alone would accept " 12", "+12" and "12abc". */
static int parse_count(const char *s, long long *out)
{
    if (s == NULL || !isdigit((unsigned char)s[0]))
        return -1;
    for (const char *p = s; *p != '\0'; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* X-RateLimit-Reset: ISO 8601, or an integer (epoch seconds; small values
 * are a delta from now, see EPOCH_THRESHOLD_S). */
static int parse_reset(const char *s, int64_t now_ms, int64_t *out)
{
    long long n;
    if (s == NULL)
        return -1;
    if (parse_count(s, &n) == 0) {
        if (n < EPOCH_THRESHOLD_S) {
            *out = now_ms + (int64_t)n * 1000; /* capped by the caller */
        } else {
            if (n > INT64_MAX / 1000)
                return -1;
            *out = (int64_t)n * 1000;
        }
        return 0;
    }
    return ck_time_parse_rfc3339(s, out) == 0 ? 0 : -1;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3). */
static int parse_retry_after(const char *s, int64_t now_ms, int64_t *out)
{
    long long n;
    if (s == NULL)
        return -1;
    if (parse_count(s, &n) == 0) {
        /* Any delay is capped by the caller; beyond this it would overflow. */
        *out = n > MAX_DELTA_S ? now_ms + MAX_DELTA_S * 1000 : now_ms + (int64_t)n * 1000;
        return 0;
    }
    /* curl_getdate also accepts other loose formats; the header is only a hint
     * and a date in the past just means "now", so that looseness is harmless. */
    time_t t = curl_getdate(s, NULL);
    if (t == (time_t)-1)
        return -1;
    /* curl reads years far beyond 9999 ("Oct 665183215"): clamp before
     * multiplying (the caller caps the wait anyway). */
    if ((int64_t)t > MAX_DELTA_S + now_ms / 1000)
        *out = now_ms + MAX_DELTA_S * 1000;
    else
        *out = (int64_t)t < 0 ? 0 : (int64_t)t * 1000;
    return 0;
}

void ck_ratelimit_update(struct ck_ratelimit *rl, const struct ck_response *resp, int64_t now_ms)
{
    long long n;
    int64_t reset = 0, retry = 0;
    bool have_reset = false, have_retry = false;

    rl->capped_from_ms = 0;
    if (resp == NULL)
        return;

    if (parse_count(ck_response_header(resp, "x-ratelimit-limit"), &n) == 0 && n <= LONG_MAX)
        rl->limit = (long)n;
    /* Remaining is what pacing needs; the limit only sizes the reserve. */
    if (parse_count(ck_response_header(resp, "x-ratelimit-remaining"), &n) == 0 && n <= LONG_MAX) {
        rl->remaining = (long)n;
        rl->known = true;
    }
    if (parse_reset(ck_response_header(resp, "x-ratelimit-reset"), now_ms, &reset) == 0) {
        reset = cap_wait(rl, reset, now_ms);
        rl->reset_ms = reset;
        have_reset = true;
    }
    if (parse_retry_after(ck_response_header(resp, "retry-after"), now_ms, &retry) == 0) {
        retry = cap_wait(rl, retry, now_ms);
        have_retry = true;
    }

    int64_t until = 0;
    if (resp->status == 429) {
        /* Retry-After is the server's direct answer; the window reset is the
         * next best; with neither, a conservative minute. */
        if (have_retry)
            until = retry;
        else if (have_reset && reset > now_ms)
            until = reset;
        else
            until = now_ms + DEFAULT_BLOCK_MS;
    } else if (resp->status == 503 && have_retry) {
        /* RFC 9110 lets an overloaded server ask for a pause too. */
        until = retry;
    }
    /* Never shorten an earlier block: a response from a request already in
     * flight must not undo what a 429 told us. */
    if (until > rl->blocked_until_ms)
        rl->blocked_until_ms = until;
}

int64_t ck_ratelimit_next(const struct ck_ratelimit *rl, int64_t want_ms, int64_t now_ms)
{
    int64_t earliest = want_ms;
    if (rl->known && rl->reset_ms > now_ms) {
        long reserve = rl->limit / 10;
        if (reserve < 2)
            reserve = 2;
        if (rl->remaining <= reserve) {
            if (rl->reset_ms > earliest)
                earliest = rl->reset_ms;
        } else {
            int64_t spacing = (rl->reset_ms - now_ms) / (rl->remaining - reserve);
            if (now_ms + spacing > earliest)
                earliest = now_ms + spacing;
        }
    }
    if (rl->blocked_until_ms > earliest)
        earliest = rl->blocked_until_ms;
    return earliest;
}
