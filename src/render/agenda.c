/* agenda.md: what participants read before the chat, and writing both
 * agenda files to disk.
 *
 * Everything that came from the session file is passed through
 * ck_agenda_md_escape: a title like "<script>" or "[x](javascript:...)" must
 * render as the characters typed, and a newline must not start a new Markdown
 * block (a heading, a list) that the author never wrote. */
#include "chatkeeper/agenda.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chatkeeper/series.h"
#include "chatkeeper/timeutil.h"
#include "agenda_int.h"

static const char *const day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

int ck_agenda_md_escape(FILE *out, const char *text)
{
    /* The ASCII punctuation that can start or end markup anywhere in a line
     * (CommonMark allows a backslash before any of it); '.', '-', '+' and
     * digits only matter at the start of a line, where user text never is. */
    static const char markup[] = "\\`*_{}[]()<>#!|~&";
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        int rc;
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n' || *p == '\r' || *p == '\t')
            rc = fputc(' ', out);
        else if (*p < 0x20 || *p == 0x7f)
            continue;
        else if (strchr(markup, *p) != NULL)
            rc = fprintf(out, "\\%c", *p);
        else
            rc = fputc(*p, out);
        if (rc < 0)
            return CK_EIO;
    }
    return 0;
}

static int local(const struct ck_session *s, int64_t ms, struct ck_local_time *lt)
{
    return ck_series_local_time(s->timezone, ms, lt);
}

size_t ck_agenda__tag_slug(const char *hashtag, char *buf, size_t n)
{
    size_t k = 0;
    /* ASCII only: the name must be safe in any file system and URL. */
    for (const unsigned char *p = (const unsigned char *)hashtag; *p && k + 1 < n && k < 40; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
            buf[k++] = (char)*p;
        else if (*p >= 'A' && *p <= 'Z')
            buf[k++] = (char)(*p + 32);
    }
    return k;
}

void ck_agenda_slug(const struct ck_session *s, char *buf, size_t n)
{
    if (n == 0)
        return;
    size_t k = ck_agenda__tag_slug(s->hashtag, buf, n);
    struct ck_local_time lt;
    if (local(s, s->start_ms, &lt) != 0)
        lt = (struct ck_local_time){.year = 1970, .month = 1, .day = 1};
    snprintf(buf + k, n - k, "%s%04d-%02d-%02d", k > 0 ? "-" : "chat-", lt.year % 10000,
             lt.month % 100, lt.day % 100);
}

/* The questions as a list, each with its local and UTC time. */
static int questions_md(FILE *m, const struct ck_session *s)
{
    int rc = 0;
    for (size_t i = 0; i < s->n_questions && rc == 0; i++) {
        struct ck_local_time q, uq;
        int64_t at = s->start_ms + s->questions[i].at_ms;
        rc = local(s, at, &q);
        if (rc == 0)
            rc = ck_series_local_time("UTC", at, &uq);
        if (rc != 0)
            break;
        fprintf(m, "- **Q%d** at %02d:%02d %s (%02d:%02d UTC): ", s->questions[i].number, q.hour,
                q.minute, q.abbr, uq.hour, uq.minute);
        ck_agenda_md_escape(m, s->questions[i].text);
        fputs("\n", m);
    }
    return rc;
}

static void how_to_join(FILE *m, const struct ck_session *s)
{
    fputs("\n## How to join\n\n- Follow the hashtag \\#", m);
    ck_agenda_md_escape(m, s->hashtag);
    if (s->platform.base_url != NULL) {
        /* Escaped as text too: Markdown viewers still link a plain URL. */
        fputs(" (", m);
        ck_agenda_md_escape(m, s->platform.base_url);
        fputs("/tags/", m);
        ck_agenda_md_escape(m, s->hashtag);
        fputs(")", m);
    }
    fputs(".\n- The questions are posted as Q1, Q2 and so on: reply to each question post.\n"
          "- Number your answers to match: A1 answers Q1, A2 answers Q2.\n"
          "- Include \\#",
          m);
    ck_agenda_md_escape(m, s->hashtag);
    fputs(" in every post, so everyone following the chat sees it.\n", m);
}

int ck_agenda_markdown(const struct ck_session *s, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    struct ck_local_time a, b, ua, ub;
    int64_t end = s->start_ms + s->duration_ms;
    int rc = local(s, s->start_ms, &a);
    if (rc == 0)
        rc = local(s, end, &b);
    if (rc == 0)
        rc = ck_series_local_time("UTC", s->start_ms, &ua);
    if (rc == 0)
        rc = ck_series_local_time("UTC", end, &ub);
    if (rc != 0)
        return rc;
    FILE *m = open_memstream(out, len);
    if (m == NULL)
        return CK_ENOMEM;
    fputs("# ", m);
    ck_agenda_md_escape(m, s->title);
    fputs("\n\n", m);
    fprintf(m, "- **When:** %s %d %s %d, %02d:%02d to %02d:%02d %s (", day_names[a.weekday], a.day,
            month_names[a.month - 1], a.year, a.hour, a.minute, b.hour, b.minute, b.abbr);
    ck_agenda_md_escape(m, s->timezone);
    fputs(")", m);
    if (b.day != a.day)
        fprintf(m, ", ending %s %d %s", day_names[b.weekday], b.day, month_names[b.month - 1]);
    fprintf(m, "\n- **In UTC:** %04d-%02d-%02d %02d:%02d to ", ua.year, ua.month, ua.day, ua.hour,
            ua.minute);
    if (ub.day != ua.day)
        fprintf(m, "%04d-%02d-%02d ", ub.year, ub.month, ub.day);
    fprintf(m, "%02d:%02d UTC\n- **Hashtag:** ", ub.hour, ub.minute);
    fputs("\\#", m);
    ck_agenda_md_escape(m, s->hashtag);
    fputs("\n", m);
    if (s->description != NULL) {
        fputs("\n", m);
        ck_agenda_md_escape(m, s->description);
        fputs("\n", m);
    }
    fprintf(m, "\n## Questions\n\n");
    rc = questions_md(m, s);
    how_to_join(m, s);
    if (s->n_facilitators > 0) {
        fputs("\n## Facilitators\n\n", m);
        for (size_t i = 0; i < s->n_facilitators; i++) {
            fputs("- ", m);
            ck_agenda_md_escape(m, s->facilitators[i]);
            fputs("\n", m);
        }
    }
    if (ferror(m) && rc == 0)
        rc = CK_ENOMEM;
    if (fclose(m) != 0 && rc == 0)
        rc = CK_ENOMEM;
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}

/* Write via dir/.name.tmp and rename(), so a reader never sees a torn file. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len,
                        struct ck_error *err)
{
    char path[4096], tmp[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= sizeof tmp)
        return ck_error_set(err, CK_EINVAL, "%s: path too long", dir);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        int e = errno;
        return ck_error_set(err, -e, "%s: %s", tmp, strerror(e));
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return ck_error_set(err, ok ? -e : CK_EIO, "%s: %s", path,
                            ok ? strerror(e) : "write failed");
    }
    return 0;
}

int ck_agenda_write(const struct ck_session *s, const char *dir, struct ck_error *err)
{
    char *md = NULL, *ics = NULL, slug[96], name[128];
    size_t md_len = 0, ics_len = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        return ck_error_set(err, -e, "%s: %s", dir, strerror(e));
    }
    int rc = ck_agenda_markdown(s, &md, &md_len);
    if (rc == 0)
        rc = ck_agenda_ics(s, &ics, &ics_len);
    if (rc != 0) {
        ck_error_set(err, rc, "%s: %s", s->path ? s->path : "session", ck_strerror(rc));
        goto out;
    }
    ck_agenda_slug(s, slug, sizeof slug);
    snprintf(name, sizeof name, "%s.ics", slug);
    rc = write_atomic(dir, "agenda.md", md, md_len, err);
    if (rc == 0)
        rc = write_atomic(dir, name, ics, ics_len, err);
out:
    free(md);
    free(ics);
    return rc;
}

/* ---- a whole series ---- */

int ck_agenda_series_markdown(const struct ck_series *s, int64_t from_day, size_t count, char **out,
                              size_t *len, struct ck_error *err)
{
    *out = NULL;
    *len = 0;
    struct ck_occurrence *occ = calloc(count ? count : 1, sizeof *occ);
    if (occ == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    int n = ck_series_expand(s, from_day, INT64_MIN, occ, count);
    struct ck_session base;
    int rc = n < 0 ? ck_error_set(err, n, "%s: %s", s->path, ck_strerror(n))
                   : ck_series_default_session(s, n > 0 ? occ[0].day : from_day, &base, err);
    if (rc != 0) {
        free(occ);
        return rc;
    }
    FILE *m = open_memstream(out, len);
    if (m == NULL) {
        free(occ);
        ck_session_finish(&base);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    fputs("# ", m);
    ck_agenda_md_escape(m, s->title);
    fputs("\n\n- **When:** ", m);
    ck_agenda_md_escape(m, s->rule_text);
    fprintf(m, ", %02d:%02d (", s->hour, s->minute);
    ck_agenda_md_escape(m, s->timezone);
    fputs(")\n- **Hashtag:** \\#", m);
    ck_agenda_md_escape(m, base.hashtag);
    fputs("\n", m);
    const char *d = json_string_value(json_object_get(s->defaults, "description"));
    if (d != NULL) {
        fputs("\n", m);
        ck_agenda_md_escape(m, d);
        fputs("\n", m);
    }
    fputs("\n## Next dates\n", m);
    for (int i = 0; i < n && rc == 0; i++) {
        struct ck_session ses;
        struct ck_local_time a;
        bool no_file = false;
        struct ck_error e = {0};
        int src = ck_series_session_ex(s, occ[i].day, &ses, &no_file, &e);
        if (src != 0 && src != CK_ENOTFOUND && src != CK_ECANCELED) {
            rc = ck_error_set(err, src, "%s", e.msg);
            break;
        }
        rc = ck_series_local_time(s->timezone, src == 0 ? ses.start_ms : occ[i].start_ms, &a);
        if (rc != 0) {
            ck_error_set(err, rc, "%s: %s", s->path, ck_strerror(rc));
        } else {
            fprintf(m, "\n### %s %d %s %d, %02d:%02d %s", day_names[a.weekday], a.day,
                    month_names[a.month - 1], a.year, a.hour, a.minute, a.abbr);
            if (src == CK_ECANCELED) {
                fputs(": cancelled\n", m);
            } else if (src != 0 || no_file) {
                fputs("\n\nQuestions to follow.\n", m);
            } else {
                fputs(": ", m);
                ck_agenda_md_escape(m, ses.title);
                fputs("\n\n", m);
                if (ses.description != NULL && (d == NULL || strcmp(ses.description, d) != 0)) {
                    ck_agenda_md_escape(m, ses.description);
                    fputs("\n\n", m);
                }
                rc = questions_md(m, &ses);
                if (rc != 0)
                    ck_error_set(err, rc, "%s: %s", ses.path, ck_strerror(rc));
            }
        }
        if (src == 0)
            ck_session_finish(&ses);
    }
    how_to_join(m, &base);
    ck_session_finish(&base);
    free(occ);
    if (ferror(m) && rc == 0)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (fclose(m) != 0 && rc == 0)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}

int ck_agenda_series_write(const struct ck_series *s, int64_t from_day, size_t count,
                           const char *dir, struct ck_error *err)
{
    char *md = NULL, *ics = NULL, slug[96], name[128];
    size_t md_len = 0, ics_len = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        return ck_error_set(err, -e, "%s: %s", dir, strerror(e));
    }
    int rc = ck_agenda_series_markdown(s, from_day, count, &md, &md_len, err);
    if (rc == 0)
        rc = ck_agenda_series_ics(s, from_day, &ics, &ics_len, err);
    if (rc == 0) {
        ck_agenda_series_slug(s, slug, sizeof slug);
        snprintf(name, sizeof name, "%s.ics", slug);
        rc = write_atomic(dir, "agenda.md", md, md_len, err);
    }
    if (rc == 0)
        rc = write_atomic(dir, name, ics, ics_len, err);
    free(md);
    free(ics);
    return rc;
}
