/* Recurring chats: the rule grammar and expansion to UTC instants across
 * daylight saving. The series file itself is loaded in series_file.c. */
#include "chatkeeper/series.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"

static const char *const weekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};

static int weekday_of(int64_t day)
{
    return (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
}

static int days_in_month(int64_t y, unsigned m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : md[m - 1];
}

/* ---- rules ---- */

static int parse_weekday(const char *w)
{
    size_t len = strlen(w);
    for (int i = 0; i < 7; i++) {
        size_t wl = strlen(weekdays[i]);
        if (strcmp(w, weekdays[i]) == 0 ||
            (len == wl + 1 && strncmp(w, weekdays[i], wl) == 0 && w[wl] == 's'))
            return i;
    }
    return -1;
}

/* A positive decimal number of at most 3 digits, or -1. */
static int parse_small(const char *w)
{
    size_t len = strlen(w);
    if (len == 0 || len > 3 || strspn(w, "0123456789") != len)
        return -1;
    int v = 0;
    for (const char *p = w; *p != '\0'; p++)
        v = v * 10 + (*p - '0');
    return v;
}

#define RULE_FORMS                                                                                 \
    "\"every <weekday>\", \"every other <weekday>\", \"every N weeks on <weekday>\", "             \
    "\"first|second|third|fourth|last <weekday> of the month\" or \"monthly on day N\""

static int rule_fail(struct ck_error *err, const char *text, const char *why)
{
    return ck_error_set(err, CK_EINVAL, "rule \"%s\": %s; expected " RULE_FORMS, text, why);
}

static int want_weekday(struct ck_error *err, const char *text, const char *w, int *out)
{
    *out = parse_weekday(w);
    if (*out < 0)
        return ck_error_set(err, CK_EINVAL,
                            "rule \"%s\": expected a weekday (monday ... sunday), got \"%s\"", text,
                            w);
    return 0;
}

int ck_rule_parse(const char *text, struct ck_rule *out, struct ck_error *err)
{
    static const char *const ordinals[] = {"first", "second", "third", "fourth"};
    char w[6][16];
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (text == NULL)
        return rule_fail(err, "", "empty");
    /* Split into at most 6 lower-cased words; longer texts are no rule of ours. */
    for (const char *p = text; *p != '\0';) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        if (n == 6)
            return rule_fail(err, text, "too many words");
        size_t len = 0;
        while (*p != '\0' && !isspace((unsigned char)*p)) {
            if (len + 1 >= sizeof w[0])
                return rule_fail(err, text, "unknown word");
            w[n][len++] = (char)tolower((unsigned char)*p++);
        }
        w[n++][len] = '\0';
    }
    if (n == 0)
        return rule_fail(err, text, "empty");
    if (strcmp(w[0], "every") == 0) {
        out->kind = CK_RULE_WEEKLY;
        out->interval_weeks = 1;
        if (n == 2)
            return want_weekday(err, text, w[1], &out->weekday);
        if (n == 3 && strcmp(w[1], "other") == 0) {
            out->interval_weeks = 2;
            return want_weekday(err, text, w[2], &out->weekday);
        }
        if (n == 5 && (strcmp(w[2], "weeks") == 0 || strcmp(w[2], "week") == 0) &&
            strcmp(w[3], "on") == 0) {
            int k = parse_small(w[1]);
            if (k < 1 || k > 52)
                return ck_error_set(err, CK_EINVAL,
                                    "rule \"%s\": expected a number of weeks from 1 to 52, got "
                                    "\"%s\"",
                                    text, w[1]);
            out->interval_weeks = k;
            return want_weekday(err, text, w[4], &out->weekday);
        }
        return rule_fail(err, text, "not understood");
    }
    for (int i = 0; i < 5; i++) {
        if (strcmp(w[0], i < 4 ? ordinals[i] : "last") != 0)
            continue;
        if (n != 5 || strcmp(w[2], "of") != 0 || strcmp(w[3], "the") != 0 ||
            strcmp(w[4], "month") != 0)
            return rule_fail(err, text, "expected \"<weekday> of the month\" after the ordinal");
        out->kind = CK_RULE_MONTHLY_NTH;
        out->nth = i < 4 ? i + 1 : -1;
        return want_weekday(err, text, w[1], &out->weekday);
    }
    if (strcmp(w[0], "monthly") == 0) {
        if (n != 4 || strcmp(w[1], "on") != 0 || strcmp(w[2], "day") != 0)
            return rule_fail(err, text, "not understood");
        int d = parse_small(w[3]);
        if (d < 1 || d > 31)
            return ck_error_set(err, CK_EINVAL,
                                "rule \"%s\": expected a day of the month from 1 to 31, got \"%s\"",
                                text, w[3]);
        out->kind = CK_RULE_MONTHLY_DAY;
        out->mday = d;
        return 0;
    }
    return rule_fail(err, text, "not understood");
}

int ck_rule_check(const struct ck_rule *r, struct ck_error *err)
{
    char a[16];
    if (r->kind != CK_RULE_WEEKLY) {
        if (r->has_anchor)
            return ck_error_set(err, CK_EINVAL,
                                "an anchor date only applies to \"every other\" and \"every N "
                                "weeks\" rules");
        return 0;
    }
    if (r->interval_weeks > 1 && !r->has_anchor)
        return ck_error_set(err, CK_EINVAL,
                            "a rule repeating every %d weeks needs an anchor: one date of the "
                            "series, like \"2026-12-03\"",
                            r->interval_weeks);
    if (r->has_anchor && weekday_of(r->anchor_day) != r->weekday) {
        ck_series_day_format(r->anchor_day, a, sizeof a);
        return ck_error_set(err, CK_EINVAL, "the anchor %s is a %s, but the rule says %s", a,
                            weekdays[weekday_of(r->anchor_day)], weekdays[r->weekday]);
    }
    return 0;
}

bool ck_rule_matches(const struct ck_rule *r, int64_t day)
{
    int64_t y;
    unsigned m, d;
    ck_civil_from_days(day, &y, &m, &d);
    switch (r->kind) {
    case CK_RULE_WEEKLY: {
        if (weekday_of(day) != r->weekday)
            return false;
        if (r->interval_weeks <= 1)
            return true;
        int64_t period = 7 * (int64_t)r->interval_weeks;
        int64_t k = (day - r->anchor_day) % period; /* dates before the anchor count too */
        return k == 0;
    }
    case CK_RULE_MONTHLY_NTH:
        if (weekday_of(day) != r->weekday)
            return false;
        if (r->nth < 0)
            return (int)d + 7 > days_in_month(y, m);
        return ((int)d - 1) / 7 + 1 == r->nth;
    case CK_RULE_MONTHLY_DAY:
        return (int)d == r->mday;
    }
    return false;
}

int64_t ck_rule_next(const struct ck_rule *r, int64_t day)
{
    /* The longest gap: 52 weeks, or day 31 skipping two months. */
    for (int64_t i = 0; i < 7 * 53; i++)
        if (ck_rule_matches(r, day + i))
            return day + i;
    return day; /* unreachable for a parsed rule */
}

int ck_series_day_parse(const char *s, int64_t *day)
{
    int v[3] = {0, 0, 0};
    static const int widths[] = {4, 2, 2};
    const char *p = s;
    for (int f = 0; f < 3; f++) {
        for (int i = 0; i < widths[f]; i++, p++) {
            if (!isdigit((unsigned char)*p))
                return CK_EINVAL;
            v[f] = v[f] * 10 + (*p - '0');
        }
        if (*p != (f < 2 ? '-' : '\0'))
            return CK_EINVAL;
        p++;
    }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
        v[2] > days_in_month(v[0], (unsigned)v[1]))
        return CK_EINVAL;
    *day = ck_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]);
    return 0;
}

void ck_series_day_format(int64_t day, char *buf, size_t n)
{
    int64_t y;
    unsigned m, d;
    ck_civil_from_days(day, &y, &m, &d);
    snprintf(buf, n, "%04lld-%02u-%02u", (long long)y, m, d);
}

/* ---- zones ---- */

int ck_series_local_time(const char *tz, int64_t ms, struct ck_local_time *out)
{
    char buf[64];
    int rc = ck_time_format_local(tz, ms, buf, sizeof buf);
    if (rc != 0)
        return rc;
    /* "2026-12-03 20:00:00 GMT": fixed widths up to the abbreviation. */
    int f[6];
    static const int at[] = {0, 5, 8, 11, 14, 17}, w[] = {4, 2, 2, 2, 2, 2};
    if (strlen(buf) < 20)
        return CK_ETZ;
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (int j = 0; j < w[i]; j++) {
            char c = buf[at[i] + j];
            if (!isdigit((unsigned char)c))
                return CK_ETZ;
            f[i] = f[i] * 10 + (c - '0');
        }
    }
    memset(out, 0, sizeof *out);
    out->year = f[0];
    out->month = f[1];
    out->day = f[2];
    out->hour = f[3];
    out->minute = f[4];
    out->second = f[5];
    int64_t lday = ck_days_from_civil(f[0], (unsigned)f[1], (unsigned)f[2]);
    out->weekday = weekday_of(lday);
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    out->offset_s = (int)(lday * 86400 + f[3] * 3600 + f[4] * 60 + f[5] - secs);
    snprintf(out->abbr, sizeof out->abbr, "%.15s", buf + 20);
    return 0;
}

int ck_series_resolve(const char *tz, int64_t day, int hour, int minute, int64_t *ms_out,
                      bool *shifted, bool *repeated)
{
    int64_t naive = day * 86400 + hour * 3600 + minute * 60;
    int64_t cand[3];
    int nc = 0, before_off = 0;
    /* As in tz.c: the offsets in force a day either side cover any one
     * transition; a candidate counts if it reads back as the wall time asked. */
    for (int i = -1; i <= 1; i++) {
        struct ck_local_time lt, back;
        int rc = ck_series_local_time(tz, (naive + i * 86400) * 1000, &lt);
        if (rc != 0)
            return rc;
        if (i == -1)
            before_off = lt.offset_s;
        int64_t c = naive - lt.offset_s;
        rc = ck_series_local_time(tz, c * 1000, &back);
        if (rc != 0)
            return rc;
        if (c + back.offset_s != naive)
            continue;
        bool dup = false;
        for (int k = 0; k < nc; k++)
            dup = dup || cand[k] == c;
        if (!dup)
            cand[nc++] = c;
    }
    if (shifted != NULL)
        *shifted = nc == 0;
    if (repeated != NULL)
        *repeated = nc > 1;
    if (nc == 0) {
        /* Skipped: read the wall time with the offset from before the gap,
         * which lands as far past the gap as the time was into it. */
        *ms_out = (naive - before_off) * 1000;
        return 0;
    }
    int64_t best = cand[0];
    for (int k = 1; k < nc; k++)
        best = cand[k] < best ? cand[k] : best;
    *ms_out = best * 1000;
    return 0;
}

int ck_series_expand(const struct ck_series *s, int64_t from_day, int64_t after_ms,
                     struct ck_occurrence *out, size_t n)
{
    size_t k = 0;
    int64_t day = from_day;
    while (k < n) {
        day = ck_rule_next(&s->rule, day);
        struct ck_occurrence o = {.day = day};
        int rc = ck_series_resolve(s->timezone, day, s->hour, s->minute, &o.start_ms, &o.shifted,
                                   &o.repeated);
        if (rc != 0)
            return rc;
        if (o.start_ms >= after_ms)
            out[k++] = o;
        day++;
    }
    return (int)k;
}
