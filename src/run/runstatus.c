/* The run's words for the person watching it (see runstatus.h). A small
 * appender keeps each piece optional without a ladder of snprintf offsets. */
#include "chatkeeper/runstatus.h"

#include <stdarg.h>
#include <stdio.h>

#include "chatkeeper/timeutil.h"

struct out {
    char *buf;
    size_t n, len; /* len: what the whole line needs, even past n */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->n ? o->n - o->len : 0;
    int k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->len += (size_t)k;
}

static void count(struct out *o, size_t v, const char *one, const char *many)
{
    put(o, "  %zu %s", v, v == 1 ? one : many);
}

size_t ck_run_status_format(const struct ck_run_status *s, char *buf, size_t n)
{
    struct out o = {buf, n, 0};
    if (n > 0)
        buf[0] = '\0';
    put(&o, "%s  %s", s->clock ? s->clock : "", s->phase ? s->phase : "");
    if (s->step != NULL && s->step[0] != '\0')
        put(&o, " %s", s->step);
    if (s->next != NULL && s->next[0] != '\0') {
        /* Rounded up: "in 0s" would claim something is due that is not yet. */
        int64_t ms = s->next_in_ms > 0 ? (s->next_in_ms + 999) / 1000 * 1000 : 0;
        char d[32];
        ck_duration_format(ms, d, sizeof d);
        put(&o, "  %s in %s", s->next, d);
    }
    if (s->following) {
        count(&o, s->messages, "message", "messages");
        count(&o, s->people, "person", "people");
    }
    if (s->rate_limited)
        put(&o, "  rate limited, waiting");
    if (s->failing > 0)
        put(&o, "  %zu %s failed, retrying", s->failing, s->failing == 1 ? "request" : "requests");
    return o.len;
}

size_t ck_replies_summary(const struct ck_replies_tally *t, const char *left_why, char *buf,
                          size_t n)
{
    struct out o = {buf, n, 0};
    if (n > 0)
        buf[0] = '\0';
    put(&o, "%zu thread(s) may hold replies", t->wanted);
    const char *sep = ": ";
    if (t->wanted > 0 || t->fetched > 0) {
        put(&o, "%s%zu fetched", sep, t->fetched);
        sep = ", ";
    }
    if (t->covered > 0) {
        put(&o, "%s%zu already inside a fetched thread", sep, t->covered);
        sep = ", ";
    }
    if (t->gone > 0) {
        put(&o, "%s%zu deleted or private", sep, t->gone);
        sep = ", ";
    }
    if (t->left > 0)
        put(&o, "%s%zu not fetched (%s)", sep, t->left, left_why ? left_why : "stopped");
    if (t->requests > t->fetched + t->gone)
        put(&o, "; %zu requests, retries included", t->requests);
    return o.len;
}
