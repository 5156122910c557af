/* Rate-limit headers from servers (X-RateLimit-*, Retry-After), response after
 * response. Input: lines as an HTTP exchange prints them: "HTTP/1.1 429 ..."
 * starts a response, "name: value" adds a header, anything else is skipped
 * (the fixtures' headers files are seeds as they are). Invariants: no wait is
 * longer than CK_RATELIMIT_MAX_WAIT_MS whatever the headers say; the next
 * request never goes before it was wanted; a block never shortens. */
#include <ctype.h>
#include <string.h>

#include "chatkeeper/ratelimit.h"
#include "fuzz.h"

#define MAX_HEADERS 16
#define START_MS INT64_C(1764000000000) /* 2025-11-24 */

struct resp {
    struct ck_response r;
    struct ck_header h[MAX_HEADERS];
};

static void check(struct ck_ratelimit *rl, const struct ck_response *r, int64_t now)
{
    int64_t before = rl->blocked_until_ms;
    ck_ratelimit_update(rl, r, now);
    int64_t cap = now + CK_RATELIMIT_MAX_WAIT_MS;
    FUZZ_CHECK(rl->blocked_until_ms >= before, "a block shortened: %lld -> %lld", (long long)before,
               (long long)rl->blocked_until_ms);
    /* Earlier values were capped at an earlier now, so all stay within this cap. */
    FUZZ_CHECK(rl->blocked_until_ms <= cap, "blocked %lld ms ahead",
               (long long)(rl->blocked_until_ms - now));
    FUZZ_CHECK(rl->reset_ms <= cap, "reset %lld ms ahead", (long long)(rl->reset_ms - now));
    FUZZ_CHECK(rl->capped_from_ms == 0 || rl->capped_from_ms > cap, "capped_from not beyond cap");
    int64_t next = ck_ratelimit_next(rl, now, now);
    FUZZ_CHECK(next >= now, "next request %lld ms in the past", (long long)(now - next));
    FUZZ_CHECK(next <= cap, "next request %lld ms ahead", (long long)(next - now));
    int64_t later = ck_ratelimit_next(rl, now + 3600000, now);
    FUZZ_CHECK(later >= now + 3600000, "a later wish went earlier");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct ck_ratelimit rl;
    ck_ratelimit_init(&rl);
    struct resp cur = {0};
    bool open = false;
    int64_t now = START_MS;
    for (char *line = s; line != NULL;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strncmp(line, "HTTP/", 5) == 0) {
            if (open) {
                check(&rl, &cur.r, now);
                now += 1000;
            }
            memset(&cur, 0, sizeof cur);
            cur.r.headers = cur.h;
            const char *sp = strchr(line, ' ');
            cur.r.status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
            open = true;
        } else if (open && cur.r.n_headers < MAX_HEADERS && strchr(line, ':') != NULL) {
            /* As ck_http hands headers over: name lower-cased, value trimmed. */
            char *colon = strchr(line, ':');
            *colon = '\0';
            for (char *p = line; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = strlen(v);
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
                v[--vl] = '\0';
            cur.h[cur.r.n_headers++] = (struct ck_header){line, v};
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    if (open)
        check(&rl, &cur.r, now);
    free(s);
    return 0;
}
