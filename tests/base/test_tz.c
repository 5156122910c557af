/* Durations, RFC 3339 instants and time zones, daylight saving included:
 * the nights the clocks change in London and New York. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "chatkeeper/timeutil.h"

static int64_t utc(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(ck_time_parse_rfc3339(s, &ms), 0);
    return ms;
}

static void test_durations(void **st)
{
    (void)st;
    static const struct {
        const char *s;
        int64_t ms;
        const char *fmt;
    } ok[] = {{"90s", 90000, "1m30s"},           {"5m", 300000, "5m"},
              {"1h30m", 5400000, "1h30m"},       {"0m", 0, "0s"},
              {"1h30m15s", 5415000, "1h30m15s"}, {"2d", 172800000, "48h"},
              {"1m500ms", 60500, "1m500ms"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        char buf[32];
        assert_int_equal(ck_duration_parse(ok[i].s, &ms), 0);
        assert_int_equal(ms, ok[i].ms);
        ck_duration_format(ms, buf, sizeof buf);
        assert_string_equal(buf, ok[i].fmt);
    }
    static const char *const bad[] = {"",   "5",    "m5",  "5m1h", "1h1h", "5 m",     "-5m",
                                      "5M", "1.5h", "5mm", "h",    "5m ",  "5minutes"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 0;
        if (ck_duration_parse(bad[i], &ms) != CK_EINVAL)
            print_error("accepted \"%s\"\n", bad[i]);
        assert_int_equal(ck_duration_parse(bad[i], &ms), CK_EINVAL);
    }
    assert_int_equal(ck_duration_parse(NULL, &(int64_t){0}), CK_EINVAL);
}

static void test_rfc3339(void **st)
{
    (void)st;
    char buf[32];
    ck_time_format_rfc3339(utc("2026-12-03T20:00:00Z"), buf);
    assert_string_equal(buf, "2026-12-03T20:00:00.000Z");
    ck_time_format_rfc3339(utc("2026-08-01T14:00:00.070144Z"), buf);
    assert_string_equal(buf, "2026-08-01T14:00:00.070Z");
    ck_time_format_rfc3339(utc("2026-03-29T02:30:00+01:00"), buf);
    assert_string_equal(buf, "2026-03-29T01:30:00.000Z");
    ck_time_format_rfc3339(utc("2024-02-29T23:59:59-05:30"), buf);
    assert_string_equal(buf, "2024-03-01T05:29:59.000Z");
    assert_int_equal(utc("1970-01-01T00:00:00Z"), 0);
    ck_time_format_rfc3339(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    /* Round trip: format then parse gives the same instant. */
    for (int64_t ms = 1700000000123; ms < 1900000000000; ms += 12345678901) {
        int64_t back;
        ck_time_format_rfc3339(ms, buf);
        assert_int_equal(ck_time_parse_rfc3339(buf, &back), 0);
        assert_int_equal(back, ms);
    }
    int64_t ms;
    assert_int_equal(ck_time_parse_rfc3339("2026-12-03T20:00", &ms), CK_EINVAL);
    assert_int_equal(ck_time_parse_rfc3339("2026-02-29T20:00:00Z", &ms), CK_EINVAL);
    assert_int_equal(ck_time_parse_rfc3339("2026-12-03T20:00:00Zjunk", &ms), CK_EINVAL);
}

/* ck_time_format_rfc3339 formats by hand: the C library's gmtime_r and
 * printf must agree with it everywhere, before 1970, at the ends of years and
 * centuries, and past the four-digit years it leaves to snprintf. */
static void test_rfc3339_matches_libc(void **st)
{
    (void)st;
    const int64_t year0 = -62167219200000, year10000 = 253402300800000;
    const int64_t edges[] = {year0 - 1,
                             year0,
                             -1,
                             0,
                             1,
                             951782399999,
                             951782400000,
                             978307199999,
                             year10000 - 1,
                             year10000,
                             year10000 + 86400000};
    size_t checked = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass == 0 ? sizeof edges / sizeof edges[0] : 20000;
        for (size_t i = 0; i < n; i++) {
            int64_t ms = pass == 0
                             ? edges[i]
                             : year0 - 86400000 + (int64_t)i * 15840937091 + (int64_t)(i % 1000);
            int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
            time_t t = (time_t)secs;
            struct tm tm;
            assert_non_null(gmtime_r(&t, &tm));
            char want[64], got[32];
            snprintf(want, sizeof want, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(ms - secs * 1000));
            ck_time_format_rfc3339(ms, got);
            assert_string_equal(got, want);
            checked++;
        }
    }
    assert_int_equal(checked, 20011);
}

/* Local wall clock to UTC, and the error kinds. */
static void test_local_to_utc(void **st)
{
    (void)st;
    int64_t ms;
    struct ck_error err = {0};
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-12-03T20:00", &ms, &err), 0);
    assert_int_equal(ms, utc("2026-12-03T20:00:00Z"));
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-07-03T20:00:15", &ms, &err), 0);
    assert_int_equal(ms, utc("2026-07-03T19:00:15Z"));
    /* Repeated hour: the first occurrence, still in BST. */
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-10-25T01:30", &ms, &err), 0);
    assert_int_equal(ms, utc("2026-10-25T00:30:00Z"));
    /* Skipped hour. */
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2027-03-28T01:30", &ms, &err),
                     CK_EINVAL);
    assert_string_equal(err.msg, "2027-03-28T01:30 does not exist in Europe/London (the clocks "
                                 "skip it for daylight saving)");
    ck_error_clear(&err);
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2027-03-28T02:00", &ms, &err), 0);
    assert_int_equal(ms, utc("2027-03-28T01:00:00Z"));
    /* New York: repeated 01:30 on 2026-11-01 is first EDT; 02:30 on 2026-03-08 does not exist. */
    assert_int_equal(ck_time_local_to_utc("America/New_York", "2026-11-01T01:30", &ms, &err), 0);
    assert_int_equal(ms, utc("2026-11-01T05:30:00Z"));
    assert_int_equal(ck_time_local_to_utc("America/New_York", "2026-03-08T02:30", &ms, &err),
                     CK_EINVAL);
    ck_error_clear(&err);
    assert_int_equal(ck_time_local_to_utc("America/New_York", "2026-03-08T03:00", &ms, &err), 0);
    assert_int_equal(ms, utc("2026-03-08T07:00:00Z"));
    /* Southern hemisphere, and a zone with a half-hour offset. */
    assert_int_equal(ck_time_local_to_utc("Australia/Sydney", "2026-01-15T19:00", &ms, &err), 0);
    assert_int_equal(ms, utc("2026-01-15T08:00:00Z"));
    assert_int_equal(ck_time_local_to_utc("Asia/Kolkata", "2026-01-15T19:00", &ms, &err), 0);
    assert_int_equal(ms, utc("2026-01-15T13:30:00Z"));

    assert_int_equal(ck_time_local_to_utc("Europe/Londn", "2026-12-03T20:00", &ms, &err), CK_ETZ);
    ck_error_clear(&err);
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-12-03 8pm", &ms, &err), CK_EINVAL);
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-02-30T20:00", &ms, &err),
                     CK_EINVAL);
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-12-03T24:00", &ms, &err),
                     CK_EINVAL);
}

static void test_zone_names(void **st)
{
    (void)st;
    assert_true(ck_time_zone_valid("Europe/London"));
    assert_true(ck_time_zone_valid("America/New_York"));
    assert_true(ck_time_zone_valid("UTC"));
    assert_false(ck_time_zone_valid("Europe/Londn"));
    assert_false(ck_time_zone_valid(""));
    assert_false(ck_time_zone_valid(NULL));
    assert_false(ck_time_zone_valid("/usr/share/zoneinfo/Europe/London"));
    assert_false(ck_time_zone_valid("../zoneinfo/Europe/London"));
    assert_false(ck_time_zone_valid("Europe"));   /* a folder, not a zone */
    assert_false(ck_time_zone_valid("zone.tab")); /* a file, not TZif */
    char buf[64];
    assert_int_equal(ck_time_format_local("Mars/Olympus", 0, buf, sizeof buf), CK_ETZ);
}

static void test_format_local(void **st)
{
    (void)st;
    char buf[64];
    assert_int_equal(
        ck_time_format_local("Europe/London", utc("2026-12-03T20:00:00Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-12-03 20:00:00 GMT");
    assert_int_equal(
        ck_time_format_local("Europe/London", utc("2026-07-03T19:00:00Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-07-03 20:00:00 BST");
    assert_int_equal(
        ck_time_format_local("America/New_York", utc("2026-11-01T05:30:00Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-11-01 01:30:00 EDT");
    assert_int_equal(
        ck_time_format_local("America/New_York", utc("2026-11-01T06:30:00Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-11-01 01:30:00 EST");
}

/* The caller's TZ, set or unset, survives our calls. */
static void test_tz_restored(void **st)
{
    (void)st;
    char buf[64];
    int64_t ms;
    setenv("TZ", "Asia/Tokyo", 1);
    assert_int_equal(ck_time_format_local("Europe/London", 0, buf, sizeof buf), 0);
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-12-03T20:00", &ms, NULL), 0);
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    unsetenv("TZ");
    assert_int_equal(ck_time_format_local("Europe/London", 0, buf, sizeof buf), 0);
    assert_null(getenv("TZ"));
}

/* A chat on the night the clocks go back: offsets are real elapsed time,
 * so the wall clock shows 01:00 and 01:30 twice, BST then GMT. */
static void test_chat_across_fall_back(void **st)
{
    (void)st;
    int64_t start;
    struct ck_error err = {0};
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2026-10-25T00:30", &start, &err), 0);
    assert_int_equal(start, utc("2026-10-24T23:30:00Z"));
    static const struct {
        int64_t off_min;
        const char *utc, *local;
    } steps[] = {
        {0, "2026-10-24T23:30:00.000Z", "2026-10-25 00:30:00 BST"},
        {30, "2026-10-25T00:00:00.000Z", "2026-10-25 01:00:00 BST"},
        {60, "2026-10-25T00:30:00.000Z", "2026-10-25 01:30:00 BST"},
        {90, "2026-10-25T01:00:00.000Z", "2026-10-25 01:00:00 GMT"},
        {120, "2026-10-25T01:30:00.000Z", "2026-10-25 01:30:00 GMT"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t at = start + steps[i].off_min * 60000;
        char u[32], l[64];
        ck_time_format_rfc3339(at, u);
        assert_string_equal(u, steps[i].utc);
        assert_int_equal(ck_time_format_local("Europe/London", at, l, sizeof l), 0);
        assert_string_equal(l, steps[i].local);
    }
}

/* And the night they go forward: 01:00 GMT is followed by 02:00 BST. */
static void test_chat_across_spring_forward(void **st)
{
    (void)st;
    int64_t start;
    assert_int_equal(ck_time_local_to_utc("Europe/London", "2027-03-28T00:30", &start, NULL), 0);
    assert_int_equal(start, utc("2027-03-28T00:30:00Z"));
    char l[64];
    assert_int_equal(ck_time_format_local("Europe/London", start + 30 * 60000, l, sizeof l), 0);
    assert_string_equal(l, "2027-03-28 02:00:00 BST");
    assert_int_equal(ck_time_format_local("Europe/London", start + 90 * 60000, l, sizeof l), 0);
    assert_string_equal(l, "2027-03-28 03:00:00 BST");
    /* New York, 2026-03-08: 01:30 EST + 1h is 03:30 EDT. */
    assert_int_equal(ck_time_local_to_utc("America/New_York", "2026-03-08T01:30", &start, NULL), 0);
    assert_int_equal(ck_time_format_local("America/New_York", start + 60 * 60000, l, sizeof l), 0);
    assert_string_equal(l, "2026-03-08 03:30:00 EDT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_rfc3339_matches_libc),
        cmocka_unit_test(test_local_to_utc),
        cmocka_unit_test(test_zone_names),
        cmocka_unit_test(test_format_local),
        cmocka_unit_test(test_tz_restored),
        cmocka_unit_test(test_chat_across_fall_back),
        cmocka_unit_test(test_chat_across_spring_forward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
