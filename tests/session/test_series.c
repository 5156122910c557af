/* Series rules, expansion across daylight saving (London and New York, both
 * directions, the missing and the repeated hour), and building a date's
 * session from the series file and the per-date file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/series.h"
#include "chatkeeper/timeutil.h"

static int64_t utc(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(ck_time_parse_rfc3339(s, &ms), 0);
    return ms;
}

static int64_t day(const char *s)
{
    int64_t d = 0;
    assert_int_equal(ck_series_day_parse(s, &d), 0);
    return d;
}

static void rule(const char *text, struct ck_rule *r)
{
    struct ck_error err = {0};
    int rc = ck_rule_parse(text, r, &err);
    if (rc != 0)
        fail_msg("%s: %s", text, err.msg);
}

static void test_rule_forms(void **st)
{
    (void)st;
    struct ck_rule r;
    rule("every Thursday", &r);
    assert_int_equal(r.kind, CK_RULE_WEEKLY);
    assert_int_equal(r.weekday, 4);
    assert_int_equal(r.interval_weeks, 1);
    rule("  EVERY   other\tthursdays ", &r);
    assert_int_equal(r.interval_weeks, 2);
    assert_int_equal(r.weekday, 4);
    rule("every 3 weeks on Monday", &r);
    assert_int_equal(r.interval_weeks, 3);
    assert_int_equal(r.weekday, 1);
    rule("first tuesday of the month", &r);
    assert_int_equal(r.kind, CK_RULE_MONTHLY_NTH);
    assert_int_equal(r.nth, 1);
    assert_int_equal(r.weekday, 2);
    rule("Fourth Sunday of the Month", &r);
    assert_int_equal(r.nth, 4);
    assert_int_equal(r.weekday, 0);
    rule("last friday of the month", &r);
    assert_int_equal(r.nth, -1);
    assert_int_equal(r.weekday, 5);
    rule("monthly on day 15", &r);
    assert_int_equal(r.kind, CK_RULE_MONTHLY_DAY);
    assert_int_equal(r.mday, 15);
}

static void test_rule_errors(void **st)
{
    (void)st;
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"", "empty"},
        {"every thursdy", "expected a weekday (monday ... sunday), got \"thursdy\""},
        {"every other", "got \"other\""},
        {"every 0 weeks on monday", "number of weeks from 1 to 52"},
        {"every 53 weeks on monday", "number of weeks from 1 to 52"},
        {"fifth monday of the month", "not understood"},
        {"first monday", "of the month"},
        {"monthly on day 32", "day of the month from 1 to 31"},
        {"monthly on day x", "day of the month from 1 to 31"},
        {"sometimes on tuesdays", "expected \"every <weekday>\""},
        {"every thursday at 7pm please", "expected \"every <weekday>\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ck_rule r;
        struct ck_error err = {0};
        assert_int_equal(ck_rule_parse(bad[i].text, &r, &err), CK_EINVAL);
        if (strstr(err.msg, bad[i].says) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, err.msg, bad[i].says);
    }
    /* The anchor must be present for every-other and fall on the weekday. */
    struct ck_rule r;
    struct ck_error err = {0};
    rule("every other thursday", &r);
    assert_int_equal(ck_rule_check(&r, &err), CK_EINVAL);
    assert_non_null(strstr(err.msg, "needs an anchor"));
    r.has_anchor = true;
    r.anchor_day = day("2026-12-04");
    ck_error_clear(&err);
    assert_int_equal(ck_rule_check(&r, &err), CK_EINVAL);
    assert_string_equal(err.msg, "the anchor 2026-12-04 is a friday, but the rule says thursday");
    r.anchor_day = day("2026-12-03");
    assert_int_equal(ck_rule_check(&r, NULL), 0);
    rule("monthly on day 3", &r);
    r.has_anchor = true;
    assert_int_equal(ck_rule_check(&r, NULL), CK_EINVAL);
}

/* A series held in memory: rule text, zone, time. */
static void mk(struct ck_series *s, const char *text, const char *tz, int h, int m,
               const char *anchor)
{
    memset(s, 0, sizeof *s);
    rule(text, &s->rule);
    if (anchor != NULL) {
        s->rule.has_anchor = true;
        s->rule.anchor_day = day(anchor);
    }
    assert_int_equal(ck_rule_check(&s->rule, NULL), 0);
    s->timezone = (char *)tz;
    s->hour = h;
    s->minute = m;
}

/* Expand n from `from` and compare with expected instants (and flags). */
static void expect(const struct ck_series *s, const char *from, const char *const *want, size_t n,
                   int shifted_at, int repeated_at)
{
    struct ck_occurrence o[16];
    assert_true(n <= 16);
    assert_int_equal(ck_series_expand(s, day(from), INT64_MIN, o, n), (int)n);
    for (size_t i = 0; i < n; i++) {
        char got[32];
        ck_time_format_rfc3339(o[i].start_ms, got);
        if (o[i].start_ms != utc(want[i]))
            fail_msg("occurrence %zu: got %s, want %s", i, got, want[i]);
        assert_int_equal(o[i].shifted, (int)i == shifted_at);
        assert_int_equal(o[i].repeated, (int)i == repeated_at);
    }
}

static void test_london_dst(void **st)
{
    (void)st;
    struct ck_series s;
    mk(&s, "every thursday", "Europe/London", 19, 0, NULL);
    /* Clocks go forward on Sunday 2027-03-28: 19:00 stays 19:00, UTC moves. */
    static const char *const spring[] = {"2027-03-25T19:00:00Z", "2027-04-01T18:00:00Z"};
    expect(&s, "2027-03-19", spring, 2, -1, -1);
    /* And back on Sunday 2027-10-31. */
    static const char *const autumn[] = {"2027-10-28T18:00:00Z", "2027-11-04T19:00:00Z"};
    expect(&s, "2027-10-22", autumn, 2, -1, -1);
}

static void test_new_york_dst(void **st)
{
    (void)st;
    struct ck_series s;
    mk(&s, "every thursday", "America/New_York", 19, 0, NULL);
    /* EST is UTC-5, so 19:00 is midnight UTC; EDT from Sunday 2027-03-14. */
    static const char *const spring[] = {"2027-03-12T00:00:00Z", "2027-03-18T23:00:00Z"};
    expect(&s, "2027-03-08", spring, 2, -1, -1);
    static const char *const autumn[] = {"2027-11-04T23:00:00Z", "2027-11-12T00:00:00Z"};
    expect(&s, "2027-11-01", autumn, 2, -1, -1);
}

static void test_missing_hour(void **st)
{
    (void)st;
    struct ck_series s;
    /* 01:30 on 2027-03-28 does not exist in London: moved by the gap to 02:30 BST. */
    mk(&s, "last sunday of the month", "Europe/London", 1, 30, NULL);
    static const char *const ldn[] = {"2027-02-28T01:30:00Z", "2027-03-28T01:30:00Z",
                                      "2027-04-25T00:30:00Z"};
    expect(&s, "2027-02-01", ldn, 3, 1, -1);
    struct ck_local_time lt;
    assert_int_equal(ck_series_local_time("Europe/London", utc(ldn[1]), &lt), 0);
    assert_int_equal(lt.hour, 2);
    assert_int_equal(lt.minute, 30);
    assert_string_equal(lt.abbr, "BST");
    /* 02:30 on 2027-03-14 does not exist in New York: 03:30 EDT. */
    mk(&s, "second sunday of the month", "America/New_York", 2, 30, NULL);
    static const char *const ny[] = {"2027-02-14T07:30:00Z", "2027-03-14T07:30:00Z",
                                     "2027-04-11T06:30:00Z"};
    expect(&s, "2027-02-01", ny, 3, 1, -1);
    /* The loader's own conversion refuses that time: our policy is the shift. */
    int64_t ms;
    assert_int_equal(ck_time_local_to_utc("America/New_York", "2027-03-14T02:30", &ms, NULL),
                     CK_EINVAL);
}

static void test_repeated_hour(void **st)
{
    (void)st;
    struct ck_series s;
    /* 01:30 on 2027-10-31 happens twice in London: the first is 01:30 BST. */
    mk(&s, "last sunday of the month", "Europe/London", 1, 30, NULL);
    static const char *const ldn[] = {"2027-09-26T00:30:00Z", "2027-10-31T00:30:00Z",
                                      "2027-11-28T01:30:00Z"};
    expect(&s, "2027-09-01", ldn, 3, -1, 1);
    /* 01:30 on 2027-11-07 twice in New York: the first is 01:30 EDT. */
    mk(&s, "first sunday of the month", "America/New_York", 1, 30, NULL);
    static const char *const ny[] = {"2027-10-03T05:30:00Z", "2027-11-07T05:30:00Z",
                                     "2027-12-05T06:30:00Z"};
    expect(&s, "2027-10-01", ny, 3, -1, 1);
    /* Agrees with the loader, which also takes the first occurrence. */
    int64_t ms;
    assert_int_equal(ck_time_local_to_utc("America/New_York", "2027-11-07T01:30", &ms, NULL), 0);
    assert_int_equal(ms, utc(ny[1]));
}

static void test_last_weekday(void **st)
{
    (void)st;
    struct ck_series s;
    /* December 2026 has five Thursdays, January and February 2027 four. */
    mk(&s, "last thursday of the month", "Europe/London", 19, 0, NULL);
    static const char *const last[] = {"2026-12-31T19:00:00Z", "2027-01-28T19:00:00Z",
                                       "2027-02-25T19:00:00Z"};
    expect(&s, "2026-12-01", last, 3, -1, -1);
    mk(&s, "fourth thursday of the month", "Europe/London", 19, 0, NULL);
    static const char *const fourth[] = {"2026-12-24T19:00:00Z", "2027-01-28T19:00:00Z"};
    expect(&s, "2026-12-01", fourth, 2, -1, -1);
    /* Day 31 skips the months without one. */
    mk(&s, "monthly on day 31", "UTC", 12, 0, NULL);
    static const char *const d31[] = {"2027-01-31T12:00:00Z", "2027-03-31T12:00:00Z",
                                      "2027-05-31T12:00:00Z"};
    expect(&s, "2027-01-01", d31, 3, -1, -1);
}

static void test_every_other(void **st)
{
    (void)st;
    struct ck_series s;
    mk(&s, "every other thursday", "Europe/London", 19, 0, "2026-12-03");
    static const char *const after[] = {"2026-12-17T19:00:00Z", "2026-12-31T19:00:00Z",
                                        "2027-01-14T19:00:00Z"};
    expect(&s, "2026-12-04", after, 3, -1, -1);
    /* Dates before the anchor follow the same fortnightly beat. */
    static const char *const before[] = {"2026-11-05T19:00:00Z", "2026-11-19T19:00:00Z",
                                         "2026-12-03T19:00:00Z"};
    expect(&s, "2026-11-01", before, 3, -1, -1);
    mk(&s, "every 3 weeks on monday", "UTC", 9, 15, "2027-01-04");
    static const char *const three[] = {"2027-01-04T09:15:00Z", "2027-01-25T09:15:00Z",
                                        "2027-02-15T09:15:00Z"};
    expect(&s, "2027-01-01", three, 3, -1, -1);
    /* after_ms drops occurrences that have already started. */
    struct ck_occurrence o;
    assert_int_equal(ck_series_expand(&s, day("2027-01-01"), utc("2027-01-04T09:15:01Z"), &o, 1),
                     1);
    assert_int_equal(o.start_ms, utc("2027-01-25T09:15:00Z"));
}

static char *src_path(const char *rel)
{
    const char *root = getenv("CK_SRCDIR");
    assert_non_null(root);
    size_t n = strlen(root) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", root, rel);
    return p;
}

static void test_series_file_and_merge(void **st)
{
    (void)st;
    char *path = src_path("config/series-uklibchat.json");
    struct ck_series s;
    struct ck_error err = {0};
    if (ck_series_load(path, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.rule_text, "every other thursday");
    assert_int_equal(s.hour, 19);
    struct ck_session ses;
    if (ck_series_session(&s, day("2027-01-14"), &ses, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(ses.title, "New year, new skills");      /* per-date */
    assert_string_equal(ses.hashtag, "uklibchat");               /* series */
    assert_int_equal(ses.start_ms, utc("2027-01-14T19:00:00Z")); /* rule + time + zone */
    assert_int_equal(ses.duration_ms, 90 * 60000);
    assert_int_equal(ses.n_questions, 5);
    assert_true(ses.has_welcome && ses.has_closing); /* series defaults */
    assert_int_equal(ses.n_facilitators, 1);
    assert_non_null(strstr(ses.path, "uklibchat-sessions/2027-01-14.json"));
    assert_non_null(strstr(ses.archive_dir, "config/archive")); /* relative to the series */
    ck_session_finish(&ses);
    /* After the clocks change the same 19:00 is 18:00 UTC. */
    assert_int_equal(ck_series_session(&s, day("2027-04-08"), &ses, &err), 0);
    assert_int_equal(ses.start_ms, utc("2027-04-08T18:00:00Z"));
    ck_session_finish(&ses);
    assert_int_equal(ck_series_session(&s, day("2027-01-28"), &ses, NULL), CK_ENOTFOUND);
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-01-07"), &ses, &err), CK_EINVAL);
    assert_non_null(strstr(err.msg, "not a date of"));
    ck_series_finish(&s);
    free(path);
}

/* Write text to dir/name. */
static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    int n = snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof p);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#define SERIES_HEAD                                                                                \
    "{\n  \"title\": \"T\",\n  \"rule\": \"every thursday\",\n  \"time\": \"19:00\",\n"            \
    "  \"timezone\": \"Europe/London\",\n  \"duration\": \"1h\",\n  \"hashtag\": \"t\",\n"         \
    "  \"platform\": {\"type\": \"mastodon\", \"base_url\": \"https://x.example\"},\n"             \
    "  \"post\": false,\n  \"sessions\": \"s\""

static void test_series_errors(void **st)
{
    (void)st;
    char dir[] = "/tmp/ck-series-XXXXXX", path[600], sub[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/series.json", dir);
    snprintf(sub, sizeof sub, "%s/s", dir);
    struct ck_series s;
    struct ck_error err = {0};
    /* Unknown field, with the position of its key and a suggestion. */
    put(dir, "series.json", SERIES_HEAD ",\n  \"anchr\": \"2026-12-03\"\n}\n");
    assert_int_equal(ck_series_load(path, &s, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "series.json:11:3: field 'anchr': unknown field 'anchr' "
                                    "(did you mean 'anchor'?)"));
    /* A rule we do not know. */
    put(dir, "series.json",
        "{\"title\": \"T\", \"rule\": \"every blue moon\", \"time\": \"19:00\", \"timezone\": "
        "\"UTC\", \"hashtag\": \"t\", \"platform\": {}, \"sessions\": \"s\"}");
    ck_error_clear(&err);
    assert_int_equal(ck_series_load(path, &s, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, ":1:24: field 'rule': rule \"every blue moon\""));
    /* Bad time of day. */
    put(dir, "series.json",
        "{\"title\": \"T\", \"rule\": \"every thursday\", \"time\": \"7pm\", \"timezone\": "
        "\"UTC\", \"hashtag\": \"t\", \"platform\": {}, \"sessions\": \"s\"}");
    ck_error_clear(&err);
    assert_int_equal(ck_series_load(path, &s, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "field 'time': expected a local time of day like \"19:00\", "
                                    "got \"7pm\""));
    /* every other without an anchor */
    put(dir, "series.json",
        "{\"title\": \"T\", \"rule\": \"every other thursday\", \"time\": \"19:00\", "
        "\"timezone\": \"UTC\", \"hashtag\": \"t\", \"platform\": {}, \"sessions\": \"s\"}");
    ck_error_clear(&err);
    assert_int_equal(ck_series_load(path, &s, &err), CK_ECONFIG);
    assert_non_null(
        strstr(err.msg, "field 'rule': a rule repeating every 2 weeks needs an anchor"));
    /* A good series; then per-date files with problems. */
    put(dir, "series.json", SERIES_HEAD "\n}\n");
    ck_error_clear(&err);
    if (ck_series_load(path, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(mkdir(sub, 0700), 0);
    struct ck_session ses;
    put(sub, "2027-01-07.json", "{\"title\": \"X\", \"hashtag\": \"other\", \"questions\": []}");
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-01-07"), &ses, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "s/2027-01-07.json:1:16: field 'hashtag': not allowed in a "
                                    "per-date file: it belongs to the series"));
    /* A session error points into the per-date file... */
    put(sub, "2027-01-07.json",
        "{\n  \"title\": \"X\",\n  \"questions\": [\n    {\"at\": \"5x\", \"text\": \"q\"}\n  "
        "]\n}\n");
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-01-07"), &ses, &err), CK_ECONFIG);
    if (strstr(err.msg, "s/2027-01-07.json:4:12: field 'questions[0].at'") == NULL)
        fail_msg("%s", err.msg);
    /* ... or into the series file, for a default the series gave. */
    ck_series_finish(&s);
    put(dir, "series.json", SERIES_HEAD ",\n  \"lead\": \"soon\"\n}\n");
    assert_int_equal(ck_series_load(path, &s, NULL), 0);
    put(sub, "2027-01-07.json",
        "{\"title\": \"X\", \"questions\": [{\"at\": \"5m\", \"text\": \"q\"}]}");
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-01-07"), &ses, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "series.json:11:11: field 'lead'"));
    assert_non_null(strstr(err.msg, "(for "));
    ck_series_finish(&s);
    /* With the series fixed, the same file loads. */
    put(dir, "series.json", SERIES_HEAD "\n}\n");
    assert_int_equal(ck_series_load(path, &s, NULL), 0);
    assert_int_equal(ck_series_session(&s, day("2027-01-07"), &ses, NULL), 0);
    assert_string_equal(ses.title, "X");
    ck_session_finish(&ses);
    ck_series_finish(&s);
    char p[700];
    snprintf(p, sizeof p, "%s/2027-01-07.json", sub);
    unlink(p);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
}

struct problems {
    int n;
    char msg[8][600];
};

static void collect(void *ctx, const char *msg)
{
    struct problems *p = ctx;
    if (p->n < 8)
        snprintf(p->msg[p->n], sizeof p->msg[0], "%s", msg);
    p->n++;
}

static bool has(const struct problems *p, const char *needle)
{
    for (int i = 0; i < p->n && i < 8; i++)
        if (strstr(p->msg[i], needle) != NULL)
            return true;
    return false;
}

static void rm_all(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A session is a series date: the per-date file gives only what changes. */
static void test_series_dates(void **st)
{
    (void)st;
    char dir[] = "/tmp/ck-series-XXXXXX", path[600], sub[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/series.json", dir);
    snprintf(sub, sizeof sub, "%s/s", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    /* every sunday: 2027-03-28 is the night London's clocks go forward. */
    put(dir, "series.json",
        "{\n  \"title\": \"T\",\n  \"rule\": \"every sunday\",\n  \"time\": \"19:00\",\n"
        "  \"timezone\": \"Europe/London\",\n  \"duration\": \"1h\",\n  \"hashtag\": \"t\",\n"
        "  \"platform\": {\"type\": \"mastodon\", \"base_url\": \"https://x.example\", "
        "\"token_env\": \"CK_TEST_TOKEN\"},\n"
        "  \"welcome\": {\"at\": \"0m\", \"text\": \"hi\"},\n"
        "  \"sessions\": \"s\",\n  \"without_questions\": \"observe\"\n}\n");
    struct ck_series s;
    struct ck_error err = {0};
    if (ck_series_load(path, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.without_questions, CK_WQ_OBSERVE);
    assert_int_equal(ck_series_check_defaults(&s, &err), 0);
    struct ck_session ses;
    /* No file, observe: the series' title, nothing posted, still followed. */
    bool no_file = false;
    if (ck_series_session_ex(&s, day("2027-01-10"), &ses, &no_file, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(no_file);
    assert_string_equal(ses.title, "T");
    assert_false(ses.post);
    assert_int_equal(ses.start_ms, utc("2027-01-10T19:00:00Z"));
    ck_session_finish(&ses);
    /* A moved time, and a file name with words after the date. */
    put(sub, "2027-01-17-moved.json",
        "{\"title\": \"M\", \"time\": \"18:30\", \"questions\": [{\"at\": \"5m\", \"text\": "
        "\"q\"}]}");
    if (ck_series_session_ex(&s, day("2027-01-17"), &ses, &no_file, &err) != 0)
        fail_msg("%s", err.msg);
    assert_false(no_file);
    assert_string_equal(ses.title, "M");
    assert_true(ses.post);
    assert_int_equal(ses.start_ms, utc("2027-01-17T18:30:00Z"));
    assert_non_null(strstr(ses.path, "s/2027-01-17-moved.json"));
    ck_session_finish(&ses);
    /* Cancelled: nothing else is needed in the file. */
    put(sub, "2027-01-24.json", "{\"cancelled\": true}");
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-01-24"), &ses, &err), CK_ECANCELED);
    assert_non_null(strstr(err.msg, "2027-01-24 is cancelled"));
    /* A time in the DST gap of that date: an error at the field. */
    put(sub, "2027-03-28.json",
        "{\n  \"title\": \"G\",\n  \"time\": \"01:30\",\n  \"questions\": [{\"at\": \"5m\", "
        "\"text\": \"q\"}]\n}\n");
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-03-28"), &ses, &err), CK_ECONFIG);
    if (strstr(err.msg, "s/2027-03-28.json:3:11: field 'time': 01:30 does not exist on "
                        "2027-03-28 in Europe/London") == NULL)
        fail_msg("%s", err.msg);
    /* Series fields are refused in a per-date file. */
    put(sub, "2027-04-04.json", "{\"title\": \"X\",\n \"rule\": \"every monday\"}");
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-04-04"), &ses, &err), CK_ECONFIG);
    if (strstr(err.msg, "s/2027-04-04.json:2:2: field 'rule': not allowed in a per-date file") ==
        NULL)
        fail_msg("%s", err.msg);
    /* The folder: a name that is no date, a date the rule does not give,
     * two files for one date. Each is reported with its file, and left out. */
    put(sub, "notes.json", "{}");
    put(sub, "2027-01-12.json", "{}");
    put(sub, "2027-01-31.json", "{\"title\": \"A\"}");
    put(sub, "2027-01-31-again.json", "{\"title\": \"B\"}");
    put(sub, "README.md", "not a session");
    struct problems pr = {0};
    struct ck_series_file *files = NULL;
    size_t n = 0;
    assert_int_equal(ck_series_files(&s, &files, &n, collect, &pr), 3);
    assert_int_equal(pr.n, 3);
    assert_true(has(&pr, "s/notes.json:1:1: not named after a date"));
    if (!has(&pr, "s/2027-01-12.json:1:1: 2027-01-12 is not a date of the series (\"every "
                  "sunday\" in "))
        fail_msg("%s", pr.msg[0]);
    assert_true(has(&pr, "the nearest are 2027-01-10 and 2027-01-17"));
    assert_true(has(&pr, "s/2027-01-31-again.json:1:1: two files for 2027-01-31: this one and "));
    assert_int_equal(n, 4); /* 01-17, 01-24, 03-28, 04-04 */
    assert_int_equal(files[0].day, day("2027-01-17"));
    assert_int_equal(files[3].day, day("2027-04-04"));
    ck_series_files_free(files, n);
    ck_error_clear(&err);
    assert_int_equal(ck_series_session(&s, day("2027-01-31"), &ses, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "two files for 2027-01-31"));
    /* A per-date file given where a session is wanted: the command to use. */
    char p[700], hint[1200];
    snprintf(p, sizeof p, "%s/2027-01-17-moved.json", sub);
    assert_true(ck_series_hint(p, "run", hint, sizeof hint));
    char want[1400];
    snprintf(want, sizeof want, "chatkeeper run %s/series.json --date 2027-01-17", dir);
    assert_string_equal(hint, want);
    assert_false(ck_series_hint(path, "run", hint, sizeof hint));
    /* A folder given as "." cannot be trimmed as text: the series' real path. */
    snprintf(p, sizeof p, "%s/./2027-01-17-moved.json", sub);
    assert_true(ck_series_hint(p, "agenda", hint, sizeof hint));
    if (strncmp(hint, "chatkeeper agenda /", 19) != 0 ||
        strstr(hint, "/series.json --date 2027-01-17") == NULL)
        fail_msg("%s", hint);
    /* No series names the folder: a placeholder; check takes no --date. */
    put(dir, "2027-01-17.json", "{\"title\": \"loose\"}");
    snprintf(p, sizeof p, "%s/2027-01-17.json", dir);
    assert_true(ck_series_hint(p, "check", hint, sizeof hint));
    assert_string_equal(hint, "chatkeeper check SERIES.json");
    ck_series_finish(&s);
    /* A bad "without_questions". */
    put(dir, "series.json", SERIES_HEAD ",\n  \"without_questions\": \"post\"\n}\n");
    ck_error_clear(&err);
    assert_int_equal(ck_series_load(path, &s, &err), CK_ECONFIG);
    if (strstr(err.msg, "series.json:11:24: field 'without_questions': expected \"skip\"") == NULL)
        fail_msg("%s", err.msg);
    rm_all(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_forms),
        cmocka_unit_test(test_rule_errors),
        cmocka_unit_test(test_london_dst),
        cmocka_unit_test(test_new_york_dst),
        cmocka_unit_test(test_missing_hour),
        cmocka_unit_test(test_repeated_hour),
        cmocka_unit_test(test_last_weekday),
        cmocka_unit_test(test_every_other),
        cmocka_unit_test(test_series_file_and_merge),
        cmocka_unit_test(test_series_errors),
        cmocka_unit_test(test_series_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
