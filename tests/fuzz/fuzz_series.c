/* Series files and their rules. The input is written to a series file (the
 * loader reads files, as people give them) and loaded; its first line is also
 * parsed as a rule on its own. Invariants: an error is readable (valid UTF-8)
 * and names the file; a rule's next date matches it and none is skipped; a
 * loaded series expands to dates in order, each on the rule and at the
 * series' local time unless the clocks skipped it; the defaults make a valid
 * session. Per-date files are not read: the sessions folder is the input's. */
#include <string.h>
#include <unistd.h>

#include "chatkeeper/series.h"
#include "fuzz.h"

#define DAY0 INT64_C(20454) /* 2026-01-01 */

static char path[64];

static void check_error(int rc, const struct ck_error *err)
{
    FUZZ_CHECK(err->msg[0] != '\0', "error %d without a message", rc);
    FUZZ_CHECK(fuzz_utf8_ok(err->msg, strlen(err->msg)), "message is not UTF-8: %s", err->msg);
}

static void check_rule(const struct ck_rule *r)
{
    for (int64_t day = DAY0; day < DAY0 + 60; day += 7) {
        int64_t next = ck_rule_next(r, day);
        FUZZ_CHECK(next >= day && next - day <= 366, "next of %lld is %lld", (long long)day,
                   (long long)next);
        FUZZ_CHECK(ck_rule_matches(r, next), "next date %lld does not match", (long long)next);
        for (int64_t d = day; d < next; d++)
            FUZZ_CHECK(!ck_rule_matches(r, d), "%lld matches but next said %lld", (long long)d,
                       (long long)next);
    }
}

static void rule_alone(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl != NULL ? (size_t)(nl - data) : size;
    if (n > 200)
        return;
    char text[201];
    memcpy(text, data, n);
    text[n] = '\0';
    struct ck_rule r;
    struct ck_error err = {0};
    int rc = ck_rule_parse(text, &r, &err);
    if (rc != 0) {
        check_error(rc, &err);
        return;
    }
    if (r.interval_weeks > 1) {
        r.has_anchor = true;
        r.anchor_day = ck_rule_next(
            &(struct ck_rule){.kind = CK_RULE_WEEKLY, .weekday = r.weekday, .interval_weeks = 1},
            DAY0);
    }
    if (ck_rule_check(&r, &err) == 0)
        check_rule(&r);
}

static void series(const struct ck_series *s)
{
    check_rule(&s->rule);
    struct ck_occurrence occ[6];
    int n = ck_series_expand(s, DAY0, INT64_MIN, occ, 6);
    if (n < 0)
        return; /* the zone broke (CK_ETZ) */
    FUZZ_CHECK(n == 6, "%d occurrences", n);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(ck_rule_matches(&s->rule, occ[i].day), "occurrence off the rule");
        if (i > 0)
            FUZZ_CHECK(occ[i].day > occ[i - 1].day && occ[i].start_ms > occ[i - 1].start_ms,
                       "occurrences out of order");
        struct ck_local_time lt;
        if (!occ[i].shifted && ck_series_local_time(s->timezone, occ[i].start_ms, &lt) == 0)
            FUZZ_CHECK(lt.hour == s->hour && lt.minute == s->minute,
                       "occurrence at %02d:%02d, series at %02d:%02d", lt.hour, lt.minute, s->hour,
                       s->minute);
    }
    struct ck_session sess;
    struct ck_error err = {0};
    int rc = ck_series_default_session(s, occ[0].day, &sess, &err);
    if (rc == 0) {
        FUZZ_CHECK(sess.start_ms == occ[0].start_ms, "default session starts elsewhere");
        ck_session_finish(&sess);
    } else {
        check_error(rc, &err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/ck-fuzz-series-%ld.json", (long)getpid());
    rule_alone(data, size);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    size_t w = fwrite(data, 1, size, f);
    fclose(f);
    if (w != size)
        return 0;
    struct ck_series s;
    struct ck_error err = {0};
    int rc = ck_series_load(path, &s, &err);
    if (rc != 0) {
        check_error(rc, &err);
        FUZZ_CHECK(rc == CK_ENOMEM || strstr(err.msg, path) != NULL,
                   "message does not name the file: %s", err.msg);
    } else {
        series(&s);
        ck_series_finish(&s);
    }
    unlink(path);
    return 0;
}
