/* The iCalendar (RFC 5545) file for one session: one VEVENT, with a
 * VTIMEZONE built from the zone's real transitions around the event.
 *
 * Each content line is first built whole in a memory stream, then folded and
 * written with CRLF; building and folding separately keeps the 75-octet rule
 * in one place. Deterministic by construction: no clock, no randomness,
 * DTSTAMP from the session (see agenda.h). */
#include "chatkeeper/agenda.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/series.h"
#include "chatkeeper/timeutil.h"
#include "agenda_int.h"

#define DAY_MS INT64_C(86400000)

int ck_ics_escape(const char *text, char **out)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++)
        n += strchr("\\;,\n", *p) != NULL ? 2 : 1;
    char *o = malloc(n + 1);
    if (o == NULL)
        return CK_ENOMEM;
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '\\' || *p == ';' || *p == ',') {
            o[k++] = '\\';
            o[k++] = (char)*p;
        } else if (*p == '\n') {
            o[k++] = '\\';
            o[k++] = 'n';
        } else if (*p == '\t') {
            o[k++] = ' ';
        } else if (*p >= 0x20 && *p != 0x7f) {
            o[k++] = (char)*p;
        } /* CR (of CRLF) and other controls are not allowed in TEXT: dropped */
    }
    o[k] = '\0';
    *out = o;
    return 0;
}

int ck_ics_fold(FILE *out, const char *line, size_t len)
{
    size_t pos = 0;
    bool first = true;
    do {
        /* 75 octets per physical line; a continuation's leading space counts. */
        size_t room = first ? 75 : 74;
        size_t take = len - pos <= room ? len - pos : room;
        /* Back up to a character boundary: never end before a continuation byte. */
        while (take > 0 && pos + take < len && ((unsigned char)line[pos + take] & 0xC0) == 0x80)
            take--;
        if (take == 0) /* not UTF-8 at all; cannot happen with valid text */
            take = len - pos <= room ? len - pos : room;
        if ((!first && fputc(' ', out) == EOF) || fwrite(line + pos, 1, take, out) != take ||
            fputs("\r\n", out) == EOF)
            return CK_EIO;
        pos += take;
        first = false;
    } while (pos < len);
    return 0;
}

void ck_agenda_uid(const struct ck_session *s, char *buf, size_t n)
{
    char start[32];
    ck_time_format_rfc3339(s->start_ms, start);
    /* FNV-1a 64 over lower-cased hashtag, '|', start: hashtags compare
     * case-insensitively on the platforms, so #UKLibChat is the same chat. */
    uint64_t h = UINT64_C(14695981039346656037);
    for (const char *p = s->hashtag; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * UINT64_C(1099511628211);
    }
    h = (h ^ '|') * UINT64_C(1099511628211);
    for (const char *p = start; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    snprintf(buf, n, "%016" PRIx64 "@chatkeeper", h);
}

/* One content line, built with printf formatting, then folded. */
struct ics {
    FILE *out;
    int rc;
};

__attribute__((format(printf, 2, 3))) static void line(struct ics *w, const char *fmt, ...)
{
    if (w->rc != 0)
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m == NULL) {
        w->rc = CK_ENOMEM;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(m, fmt, ap);
    va_end(ap);
    if (fclose(m) != 0)
        w->rc = CK_ENOMEM;
    else
        w->rc = ck_ics_fold(w->out, buf, len);
    free(buf);
}

/* NAME:escaped text */
static void text_line(struct ics *w, const char *name, const char *text)
{
    char *esc = NULL;
    if (w->rc == 0 && ck_ics_escape(text, &esc) != 0)
        w->rc = CK_ENOMEM;
    line(w, "%s:%s", name, esc ? esc : "");
    free(esc);
}

static void fmt_utc(int64_t ms, char buf[32])
{
    char r[32];
    ck_time_format_rfc3339(ms, r); /* 2026-12-03T20:00:00.000Z */
    snprintf(buf, 32, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", r, r + 5, r + 8, r + 11, r + 14, r + 17);
}

static void fmt_local(const struct ck_local_time *lt, char buf[32])
{
    snprintf(buf, 32, "%04d%02d%02dT%02d%02d%02d", lt->year % 10000, lt->month % 100, lt->day % 100,
             lt->hour % 100, lt->minute % 100, lt->second % 100);
}

static void fmt_offset(int off, char buf[16])
{
    int a = off < 0 ? -off : off;
    if (a % 60 != 0)
        snprintf(buf, 16, "%c%02d%02d%02d", off < 0 ? '-' : '+', a / 3600 % 100, a / 60 % 60,
                 a % 60);
    else
        snprintf(buf, 16, "%c%02d%02d", off < 0 ? '-' : '+', a / 3600 % 100, a / 60 % 60);
}

/* DTSTART/DTEND: in the zone when that wall time names this instant, else UTC. */
static void date_line(struct ics *w, const char *tz, const char *name, int64_t ms)
{
    struct ck_local_time lt;
    char buf[32], iso[40];
    int64_t back = 0;
    if (w->rc == 0 && ck_series_local_time(tz, ms, &lt) != 0)
        w->rc = CK_ETZ;
    if (w->rc != 0)
        return;
    snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d", lt.year % 10000, lt.month % 100,
             lt.day % 100, lt.hour % 100, lt.minute % 100, lt.second % 100);
    if (ck_time_local_to_utc(tz, iso, &back, NULL) == 0 && back == ms - ms % 1000) {
        fmt_local(&lt, buf);
        line(w, "%s;TZID=%s:%s", name, tz, buf);
    } else {
        fmt_utc(ms, buf);
        line(w, "%s:%s", name, buf);
    }
}

/* The first instant in (lo, hi] whose offset differs from lo's; lo and hi
 * bracket exactly one change. */
static int find_change(const char *tz, int64_t lo, int64_t hi, int64_t *at)
{
    struct ck_local_time a, m;
    if (ck_series_local_time(tz, lo, &a) != 0)
        return CK_ETZ;
    while (hi - lo > 1000) {
        int64_t mid = lo + (hi - lo) / 2;
        mid -= mid % 1000;
        if (ck_series_local_time(tz, mid, &m) != 0)
            return CK_ETZ;
        if (m.offset_s == a.offset_s && strcmp(m.abbr, a.abbr) == 0)
            lo = mid;
        else
            hi = mid;
    }
    *at = hi;
    return 0;
}

/* Wall-clock digits of ms read as if UTC: "20261025T020000". */
static void fmt_naive(int64_t ms, char buf[32])
{
    fmt_utc(ms, buf);
    buf[15] = '\0';
}

/* onset: the wall clock (in the offset before) at which `to` takes effect.
 * DAYLIGHT when `to` is the larger offset of the pair the zone switches
 * between; a zone with one offset gets STANDARD. */
static void observance(struct ics *w, int64_t onset_wall_ms, int from, int to, int other,
                       const char *abbr)
{
    const char *kind = to > other ? "DAYLIGHT" : "STANDARD";
    char dt[32], f[16], t[16];
    fmt_naive(onset_wall_ms, dt);
    fmt_offset(from, f);
    fmt_offset(to, t);
    line(w, "BEGIN:%s", kind);
    line(w, "DTSTART:%s", dt);
    line(w, "TZOFFSETFROM:%s", f);
    line(w, "TZOFFSETTO:%s", t);
    text_line(w, "TZNAME", abbr);
    line(w, "END:%s", kind);
}

/* Transitions from about a year before the event to a year after: enough for
 * any calendar to place it, and the same output for the same event. Changes
 * are found by probing daily, then bisecting to the second. */
static void vtimezone(struct ics *w, const char *tz, int64_t start, int64_t end)
{
    int64_t lo = start - start % DAY_MS - 400 * DAY_MS, hi = end + 400 * DAY_MS;
    int64_t changes[64];
    int n = 0;
    struct ck_local_time prev, cur, first;
    if (w->rc != 0)
        return;
    if (ck_series_local_time(tz, lo, &prev) != 0) {
        w->rc = CK_ETZ;
        return;
    }
    first = prev;
    for (int64_t t = lo + DAY_MS; t <= hi && n < 64; t += DAY_MS) {
        if (ck_series_local_time(tz, t, &cur) != 0 ||
            ((cur.offset_s != prev.offset_s || strcmp(cur.abbr, prev.abbr) != 0) &&
             find_change(tz, t - DAY_MS, t, &changes[n++]) != 0)) {
            w->rc = CK_ETZ;
            return;
        }
        prev = cur;
    }
    line(w, "BEGIN:VTIMEZONE");
    line(w, "TZID:%s", tz);
    /* Without a change before the event (no daylight saving, or a zone that
     * only changes later) the window's opening offset must be stated, or no
     * observance would cover the event. */
    if (n == 0 || changes[0] > start) {
        int other = first.offset_s;
        if (n > 0 && ck_series_local_time(tz, changes[0], &cur) == 0)
            other = cur.offset_s;
        observance(w, lo + (int64_t)first.offset_s * 1000, first.offset_s, first.offset_s, other,
                   first.abbr);
    }
    for (int i = 0; i < n && w->rc == 0; i++) {
        struct ck_local_time before, after;
        if (ck_series_local_time(tz, changes[i] - 1000, &before) != 0 ||
            ck_series_local_time(tz, changes[i], &after) != 0) {
            w->rc = CK_ETZ;
            return;
        }
        observance(w, changes[i] + (int64_t)before.offset_s * 1000, before.offset_s, after.offset_s,
                   before.offset_s, after.abbr);
    }
    line(w, "END:VTIMEZONE");
}

/* The DESCRIPTION: the session's description, the questions with their local
 * times, how to join. Plain text; escaped by text_line. */
static int description(const struct ck_session *s, char **out)
{
    size_t len = 0;
    FILE *m = open_memstream(out, &len);
    if (m == NULL)
        return CK_ENOMEM;
    int rc = 0;
    if (s->description != NULL)
        fprintf(m, "%s\n\n", s->description);
    fprintf(m, "Questions (times in %s):\n", s->timezone);
    for (size_t i = 0; i < s->n_questions && rc == 0; i++) {
        struct ck_local_time lt;
        rc = ck_series_local_time(s->timezone, s->start_ms + s->questions[i].at_ms, &lt);
        fprintf(m, "Q%d %02d:%02d %s: %s\n", s->questions[i].number, lt.hour, lt.minute, lt.abbr,
                s->questions[i].text);
    }
    fprintf(m,
            "\nHow to join: follow #%s, reply to the question posts, number your answers A1, "
            "A2... to match Q1, Q2..., and include #%s in every post.",
            s->hashtag, s->hashtag);
    if (s->n_facilitators > 0) {
        fprintf(m, "\nFacilitators:");
        for (size_t i = 0; i < s->n_facilitators; i++)
            fprintf(m, "%s %s", i ? "," : "", s->facilitators[i]);
    }
    if (fclose(m) != 0 && rc == 0)
        rc = CK_ENOMEM;
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int ck_agenda_ics(const struct ck_session *s, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    char *desc = NULL, buf[64];
    int rc = description(s, &desc);
    if (rc != 0)
        return rc;
    FILE *f = open_memstream(out, len);
    if (f == NULL) {
        free(desc);
        return CK_ENOMEM;
    }
    struct ics w = {f, 0};
    int64_t end = s->start_ms + s->duration_ms;
    line(&w, "BEGIN:VCALENDAR");
    line(&w, "VERSION:2.0");
    line(&w, "PRODID:-//chatkeeper//chatkeeper//EN");
    line(&w, "CALSCALE:GREGORIAN");
    line(&w, "METHOD:PUBLISH");
    vtimezone(&w, s->timezone, s->start_ms, end);
    line(&w, "BEGIN:VEVENT");
    ck_agenda_uid(s, buf, sizeof buf);
    line(&w, "UID:%s", buf);
    fmt_utc(s->start_ms, buf);
    line(&w, "DTSTAMP:%s", buf); /* the start, not now: see agenda.h */
    date_line(&w, s->timezone, "DTSTART", s->start_ms);
    date_line(&w, s->timezone, "DTEND", end);
    text_line(&w, "SUMMARY", s->title);
    text_line(&w, "DESCRIPTION", desc);
    /* The hashtag's timeline on the instance: where the chat happens. */
    if (s->platform.base_url != NULL) {
        /* A URI is ASCII: percent-encode the UTF-8 letters a hashtag may hold. */
        char tag[3 * 256 + 1];
        size_t k = 0;
        for (const unsigned char *p = (const unsigned char *)s->hashtag; *p && k + 4 < sizeof tag;
             p++)
            k += (size_t)snprintf(tag + k, sizeof tag - k, *p >= 0x80 ? "%%%02X" : "%c", *p);
        line(&w, "URL:%s/tags/%s", s->platform.base_url, tag);
    }
    line(&w, "END:VEVENT");
    line(&w, "END:VCALENDAR");
    free(desc);
    if (fclose(f) != 0 && w.rc == 0)
        w.rc = CK_ENOMEM;
    if (w.rc != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return w.rc;
}

/* ---- the calendar of a series ---- */

static void rrule_line(struct ics *w, const struct ck_rule *r)
{
    static const char *const by[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
    int wd = r->weekday >= 0 && r->weekday < 7 ? r->weekday : 0;
    if (r->kind == CK_RULE_WEEKLY && r->interval_weeks > 1)
        line(w, "RRULE:FREQ=WEEKLY;INTERVAL=%d;BYDAY=%s", r->interval_weeks, by[wd]);
    else if (r->kind == CK_RULE_WEEKLY)
        line(w, "RRULE:FREQ=WEEKLY;BYDAY=%s", by[wd]);
    else if (r->kind == CK_RULE_MONTHLY_NTH)
        line(w, "RRULE:FREQ=MONTHLY;BYDAY=%d%s", r->nth, by[wd]);
    else
        line(w, "RRULE:FREQ=MONTHLY;BYMONTHDAY=%d", r->mday);
}

void ck_agenda_series_slug(const struct ck_series *s, char *buf, size_t n)
{
    if (n == 0)
        return;
    size_t k = ck_agenda__tag_slug(s->hashtag, buf, n);
    snprintf(buf + k, n - k, "%sseries", k > 0 ? "-" : "chat-");
}

/* Stable for the series however often rendered: hashtag, rule and time. */
static void series_uid(const struct ck_series *s, char *buf, size_t n)
{
    char key[512];
    snprintf(key, sizeof key, "|%s|%02d:%02d", s->rule_text, s->hour, s->minute);
    uint64_t h = UINT64_C(14695981039346656037);
    for (const char *p = s->hashtag; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * UINT64_C(1099511628211);
    }
    for (const char *p = key; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    snprintf(buf, n, "%016" PRIx64 "-series@chatkeeper", h);
}

static void url_line(struct ics *w, const struct ck_session *s)
{
    if (s->platform.base_url == NULL)
        return;
    char tag[3 * 256 + 1];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s->hashtag; *p && k + 4 < sizeof tag; p++)
        k += (size_t)snprintf(tag + k, sizeof tag - k, *p >= 0x80 ? "%%%02X" : "%c", *p);
    line(w, "URL:%s/tags/%s", s->platform.base_url, tag);
}

/* The series event's DESCRIPTION: what every date shares. */
static int series_description(const struct ck_series *s, const struct ck_session *base, char **out)
{
    size_t len = 0;
    FILE *m = open_memstream(out, &len);
    if (m == NULL)
        return CK_ENOMEM;
    const char *d = json_string_value(json_object_get(s->defaults, "description"));
    if (d != NULL)
        fprintf(m, "%s\n\n", d);
    fprintf(m, "%s at %02d:%02d (%s). Each date's questions are announced before the chat.\n",
            s->rule_text, s->hour, s->minute, s->timezone);
    fprintf(m,
            "\nHow to join: follow #%s, reply to the question posts, number your answers A1, "
            "A2... to match Q1, Q2..., and include #%s in every post.",
            base->hashtag, base->hashtag);
    if (fclose(m) != 0) {
        free(*out);
        *out = NULL;
        return CK_ENOMEM;
    }
    return 0;
}

static void collect_problem(void *ctx, const char *msg)
{
    struct ck_error *err = ctx;
    if (err != NULL && err->code == 0)
        ck_error_set(err, CK_ECONFIG, "%s", msg);
}

int ck_agenda_series_ics(const struct ck_series *s, int64_t from_day, char **out, size_t *len,
                         struct ck_error *err)
{
    *out = NULL;
    *len = 0;
    struct ck_occurrence first;
    if (ck_series_expand(s, from_day, INT64_MIN, &first, 1) != 1)
        return ck_error_set(err, CK_ETZ, "%s: time zone %s", s->path, s->timezone);
    struct ck_session base, ses;
    int rc = ck_series_default_session(s, first.day, &base, err);
    if (rc != 0)
        return rc;
    struct ck_series_file *files = NULL;
    size_t n = 0;
    struct ck_error pe = {0};
    int problems = ck_series_files(s, &files, &n, collect_problem, &pe);
    if (problems != 0) {
        rc = problems < 0
                 ? ck_error_set(err, problems, "%s: %s", s->sessions_dir, ck_strerror(problems))
                 : ck_error_set(err, CK_ECONFIG, "%s", pe.msg);
        ck_session_finish(&base);
        return rc;
    }
    /* Every date's file must load: a calendar silently missing a date is worse
     * than none. Cancelled ones become EXDATEs. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (files[i].day < first.day)
            continue;
        rc = ck_series_session(s, files[i].day, &ses, err);
        if (rc == 0)
            ck_session_finish(&ses);
        else if (rc == CK_ECANCELED)
            rc = 0;
    }
    char *desc = NULL;
    FILE *f = NULL;
    if (rc == 0 && (rc = series_description(s, &base, &desc)) != 0)
        ck_error_set(err, rc, "out of memory");
    if (rc == 0 && (f = open_memstream(out, len)) == NULL)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc != 0) {
        free(desc);
        ck_series_files_free(files, n);
        ck_session_finish(&base);
        return rc;
    }
    struct ics w = {f, 0};
    char uid[64], stamp[32];
    series_uid(s, uid, sizeof uid);
    fmt_utc(first.start_ms, stamp);
    line(&w, "BEGIN:VCALENDAR");
    line(&w, "VERSION:2.0");
    line(&w, "PRODID:-//chatkeeper//chatkeeper//EN");
    line(&w, "CALSCALE:GREGORIAN");
    line(&w, "METHOD:PUBLISH");
    /* Transitions over the next few years: a calendar places later dates by
     * the last observance it is given. */
    vtimezone(&w, s->timezone, first.start_ms, first.start_ms + 3 * 365 * DAY_MS);
    line(&w, "BEGIN:VEVENT");
    line(&w, "UID:%s", uid);
    line(&w, "DTSTAMP:%s", stamp);
    date_line(&w, s->timezone, "DTSTART", first.start_ms);
    date_line(&w, s->timezone, "DTEND", first.start_ms + base.duration_ms);
    rrule_line(&w, &s->rule);
    for (size_t i = 0; i < n && w.rc == 0; i++) {
        if (files[i].day < first.day)
            continue;
        if (ck_series_session(s, files[i].day, &ses, NULL) == 0) {
            ck_session_finish(&ses);
            continue;
        }
        int64_t orig;
        if (ck_series_resolve(s->timezone, files[i].day, s->hour, s->minute, &orig, NULL, NULL) ==
            0)
            date_line(&w, s->timezone, "EXDATE", orig);
    }
    text_line(&w, "SUMMARY", s->title);
    text_line(&w, "DESCRIPTION", desc);
    url_line(&w, &base);
    line(&w, "END:VEVENT");
    /* Each date with its own file: the same UID, the instance it replaces. */
    for (size_t i = 0; i < n && w.rc == 0; i++) {
        int64_t orig;
        char *d = NULL;
        if (files[i].day < first.day || ck_series_session(s, files[i].day, &ses, NULL) != 0)
            continue;
        if (ck_series_resolve(s->timezone, files[i].day, s->hour, s->minute, &orig, NULL, NULL) !=
                0 ||
            description(&ses, &d) != 0) {
            w.rc = CK_ENOMEM;
            ck_session_finish(&ses);
            break;
        }
        line(&w, "BEGIN:VEVENT");
        line(&w, "UID:%s", uid);
        line(&w, "DTSTAMP:%s", stamp);
        date_line(&w, s->timezone, "RECURRENCE-ID", orig);
        date_line(&w, s->timezone, "DTSTART", ses.start_ms);
        date_line(&w, s->timezone, "DTEND", ses.start_ms + ses.duration_ms);
        text_line(&w, "SUMMARY", ses.title);
        text_line(&w, "DESCRIPTION", d);
        url_line(&w, &ses);
        line(&w, "END:VEVENT");
        free(d);
        ck_session_finish(&ses);
    }
    line(&w, "END:VCALENDAR");
    free(desc);
    ck_series_files_free(files, n);
    ck_session_finish(&base);
    if (fclose(f) != 0 && w.rc == 0)
        w.rc = CK_ENOMEM;
    if (w.rc != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
        return ck_error_set(err, w.rc, "%s: %s", s->path, ck_strerror(w.rc));
    }
    return 0;
}
