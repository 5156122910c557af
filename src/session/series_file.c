/* The series file and its per-date session files: strict loading, and
 * building one date's session by merging JSON documents (series defaults,
 * then the per-date file, then "start") and handing the result to
 * ck_session_load_buffer, so every session rule is enforced in one place.
 * Errors from that load are re-pointed at the file the offending field came
 * from, since the merged text's positions mean nothing to the user. */
#include "chatkeeper/series.h"
#include "chatkeeper/jsonerr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"
#include "chatkeeper/userfile.h"
#include "config_check.h"
#include "config_pos.h"
#include "series_int.h"

#define MAX_FILE_SIZE (1024 * 1024)

/* ---- files ---- */

static int read_all(const char *path, char **buf, size_t *len, struct ck_error *err)
{
    return ck_read_user_file(path, MAX_FILE_SIZE, NULL, 0, buf, len, err);
}

/* Parse text as a JSON object and scan value positions. *root new. */
static int parse_doc(const char *name, const char *text, size_t len, json_t **root,
                     struct ck_jpos *pos, struct ck_error *err)
{
    json_error_t jerr;
    bool oom;
    *root = ck_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (*root == NULL)
        return ck_error_set(err, oom ? CK_ENOMEM : CK_ECONFIG, "%s:%d:%d: %s", name,
                            jerr.line < 1 ? 1 : jerr.line, jerr.column < 1 ? 1 : jerr.column,
                            jerr.text);
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return ck_error_set(err, CK_ECONFIG, "%s:1:1: expected a JSON object { ... }", name);
    }
    int rc = ck_jpos_scan(text, len, pos);
    if (rc != 0) {
        json_decref(*root);
        *root = NULL;
        return ck_error_set(err, rc, "%s: out of memory", name);
    }
    return 0;
}

char *ck_series_join(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s%s%s", rel[0] == '/' || strcmp(dir, ".") == 0 ? "" : dir,
                 rel[0] == '/' || strcmp(dir, ".") == 0 ? "" : "/", rel);
    return p;
}

static int parse_time(const char *t, int *h, int *m)
{
    if (strlen(t) != 5 || !isdigit((unsigned char)t[0]) || !isdigit((unsigned char)t[1]) ||
        t[2] != ':' || !isdigit((unsigned char)t[3]) || !isdigit((unsigned char)t[4]))
        return CK_EINVAL;
    *h = (t[0] - '0') * 10 + (t[1] - '0');
    *m = (t[3] - '0') * 10 + (t[4] - '0');
    return *h < 24 && *m < 60 ? 0 : CK_EINVAL;
}

/* Fields only the series has; everything else is a session default. */
static const char *const series_only[] = {"rule", "anchor", "time", "sessions",
                                          "without_questions"};

static int validate_series(struct ck_cfg_ctx *c, json_t *root, struct ck_series *s)
{
    static const char *const keys[] = {"title",
                                       "description",
                                       "rule",
                                       "anchor",
                                       "time",
                                       "timezone",
                                       "duration",
                                       "lead",
                                       "grace",
                                       "hashtag",
                                       "platform",
                                       "facilitators",
                                       "archive_dir",
                                       "sessions",
                                       "post",
                                       "thread",
                                       "welcome",
                                       "closing",
                                       "question_format",
                                       "missed_step_limit",
                                       "poll",
                                       "publish",
                                       "without_questions",
                                       "reminders",
                                       "agenda_url",
                                       "alerts"};
    int64_t dur;
    char *t = NULL, *anchor = NULL, *sessions = NULL, *wq = NULL;
    json_t *v;
    int rc = ck_cfg_check_keys(c, root, "", keys, sizeof keys / sizeof keys[0]);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "title", 1, &s->title);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "rule", 1, &s->rule_text);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "anchor", 0, &anchor);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "time", 1, &t);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "timezone", 1, &s->timezone);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "hashtag", 1, &s->hashtag);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "sessions", 1, &sessions);
    if (rc == 0)
        rc = ck_cfg_duration(c, root, "", "duration", 0, &dur);
    if (rc == 0)
        rc = ck_cfg_object(c, root, "", "platform", 1, &v);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "without_questions", 0, &wq);
    if (rc != 0)
        goto out;
    if (wq != NULL && strcmp(wq, "skip") != 0 && strcmp(wq, "observe") != 0) {
        rc = ck_cfg_fail(c, "without_questions", 0,
                         "expected \"skip\" (nothing runs on a date without a questions file) "
                         "or \"observe\" (follow and archive, post nothing), got \"%s\"",
                         wq);
        goto out;
    }
    s->without_questions = wq != NULL && strcmp(wq, "observe") == 0 ? CK_WQ_OBSERVE : CK_WQ_SKIP;
    struct ck_error re = {0};
    if (ck_rule_parse(s->rule_text, &s->rule, &re) != 0) {
        rc = ck_cfg_fail(c, "rule", 0, "%s", re.msg);
        goto out;
    }
    if (anchor != NULL && ck_series_day_parse(anchor, &s->rule.anchor_day) != 0) {
        rc = ck_cfg_fail(c, "anchor", 0, "expected a date like \"2026-12-03\", got \"%s\"", anchor);
        goto out;
    }
    s->rule.has_anchor = anchor != NULL;
    if (ck_rule_check(&s->rule, &re) != 0) {
        rc = ck_cfg_fail(c, anchor ? "anchor" : "rule", 0, "%s", re.msg);
        goto out;
    }
    if (parse_time(t, &s->hour, &s->minute) != 0) {
        rc =
            ck_cfg_fail(c, "time", 0, "expected a local time of day like \"19:00\", got \"%s\"", t);
        goto out;
    }
    if (!ck_time_zone_valid(s->timezone)) {
        rc = ck_cfg_fail(c, "timezone", 0,
                         "unknown time zone \"%s\"; expected an IANA name like Europe/London",
                         s->timezone);
        goto out;
    }
    if (!ck_cfg_hashtag_ok(s->hashtag[0] == '#' ? s->hashtag + 1 : s->hashtag)) {
        rc = ck_cfg_fail(c, "hashtag", 0,
                         "expected letters, digits and underscores (like \"uklibchat\"), got "
                         "\"%s\"",
                         s->hashtag);
        goto out;
    }
    s->sessions_dir = ck_series_join(s->dir, sessions);
    s->defaults = json_deep_copy(root);
    if (s->sessions_dir == NULL || s->defaults == NULL) {
        rc = ck_cfg_oom(c);
        goto out;
    }
    for (size_t i = 0; i < sizeof series_only / sizeof series_only[0]; i++)
        json_object_del(s->defaults, series_only[i]);
out:
    free(t);
    free(anchor);
    free(sessions);
    free(wq);
    return rc;
}

int ck_series_split(const char *path, char **p, char **dir)
{
    *p = strdup(path);
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        *dir = strdup(".");
    else if (slash == path)
        *dir = strdup("/");
    else
        *dir = strndup(path, (size_t)(slash - path));
    return *p && *dir ? 0 : CK_ENOMEM;
}

int ck_series_load(const char *path, struct ck_series *s, struct ck_error *err)
{
    memset(s, 0, sizeof *s);
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    struct ck_jpos pos;
    int rc = read_all(path, &text, &len, err);
    if (rc != 0)
        return rc;
    rc = parse_doc(path, text, len, &root, &pos, err);
    free(text);
    if (rc != 0)
        return rc;
    struct ck_cfg_ctx c = {path, &pos, err};
    rc = ck_series_split(path, &s->path, &s->dir);
    rc = rc != 0 ? ck_cfg_oom(&c) : validate_series(&c, root, s);
    ck_jpos_finish(&pos);
    json_decref(root);
    if (rc != 0)
        ck_series_finish(s);
    return rc;
}

void ck_series_finish(struct ck_series *s)
{
    if (s == NULL)
        return;
    free(s->path);
    free(s->dir);
    free(s->title);
    free(s->rule_text);
    free(s->timezone);
    free(s->hashtag);
    free(s->sessions_dir);
    json_decref(s->defaults);
    memset(s, 0, sizeof *s);
}

int ck_series_session_path(const struct ck_series *s, int64_t day, char **out)
{
    char name[32];
    ck_series_day_format(day, name, sizeof name);
    size_t n = strlen(name);
    snprintf(name + n, sizeof name - n, ".json");
    *out = ck_series_join(s->sessions_dir, name);
    return *out ? 0 : CK_ENOMEM;
}

/* The session loader names the merged document after the series file, so
 * its "file:line:column" is meaningless; re-point the message at the field in
 * the file it came from: the per-date file if it has that top-level field (or
 * the field belongs there, like questions), else the series file. */
static int remap_error(const struct ck_series *s, const char *date_path, const json_t *date_root,
                       const struct ck_jpos *date_pos, const struct ck_error *e,
                       struct ck_error *err)
{
    const char *f = strstr(e->msg, "field '");
    const char *end = f ? strchr(f + 7, '\'') : NULL;
    if (e->code != CK_ECONFIG || f == NULL || end == NULL || end[1] != ':')
        return ck_error_set(err, e->code, "%s (for %s)", e->msg, date_path);
    char field[256], top[256];
    snprintf(field, sizeof field, "%.*s", (int)(end - f - 7), f + 7);
    snprintf(top, sizeof top, "%.*s", (int)strcspn(field, ".["), field);
    const char *what = end + 2 + (end[2] == ' ');
    bool in_series = json_object_get(s->defaults, top) != NULL;
    if (json_object_get(date_root, top) != NULL || !in_series) {
        struct ck_cfg_ctx c = {date_path, date_pos, err};
        return ck_cfg_fail(&c, field, 0, "%s", what);
    }
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    struct ck_jpos pos;
    if (read_all(s->path, &text, &len, NULL) != 0)
        return ck_error_set(err, CK_ECONFIG, "%s: field '%s': %s", s->path, field, what);
    int rc = parse_doc(s->path, text, len, &root, &pos, NULL);
    free(text);
    if (rc != 0)
        return ck_error_set(err, CK_ECONFIG, "%s: field '%s': %s", s->path, field, what);
    struct ck_cfg_ctx c = {s->path, &pos, err};
    rc = ck_cfg_fail(&c, field, 0, "%s (for %s)", what, date_path);
    ck_jpos_finish(&pos);
    json_decref(root);
    return rc;
}

static int check_date_file(struct ck_cfg_ctx *c, const json_t *root)
{
    static const char *const keys[] = {"title",
                                       "description",
                                       "duration",
                                       "lead",
                                       "grace",
                                       "facilitators",
                                       "post",
                                       "thread",
                                       "welcome",
                                       "questions",
                                       "closing",
                                       "question_format",
                                       "missed_step_limit",
                                       "poll",
                                       "publish",
                                       "time",
                                       "cancelled",
                                       "reminders",
                                       "agenda_url",
                                       "alerts"};
    static const char *const series_keys[] = {"start",    "timezone",    "hashtag",
                                              "platform", "archive_dir", "rule",
                                              "anchor",   "sessions",    "without_questions"};
    for (size_t i = 0; i < sizeof series_keys / sizeof series_keys[0]; i++)
        if (json_object_get(root, series_keys[i]) != NULL)
            return ck_cfg_fail(c, series_keys[i], 1,
                               i == 0 ? "not allowed in a per-date file: the date comes from the "
                                        "file name and the time from the series (or \"time\")"
                                      : "not allowed in a per-date file: it belongs to the series");
    return ck_cfg_check_keys(c, root, "", keys, sizeof keys / sizeof keys[0]);
}

/* A series date with no file, when the series says observe: follow and
 * archive under the series' title, posting nothing. */
static int placeholder(const struct ck_series *s, json_t *merged)
{
    /* After the welcome (the session format wants the questions after it). */
    int64_t at = 0;
    const char *w =
        json_string_value(json_object_get(json_object_get(s->defaults, "welcome"), "at"));
    if (w != NULL && ck_duration_parse(w, &at) == 0)
        at += 1000;
    char when[32];
    snprintf(when, sizeof when, "%llds", (long long)(at / 1000));
    json_t *q = json_pack("[{s:s, s:s}]", "at", when, "text",
                          "Open chat: no questions were set for this date");
    if (q == NULL || json_object_set_new(merged, "questions", q) != 0 ||
        json_object_set_new(merged, "post", json_false()) != 0)
        return CK_ENOMEM;
    return 0;
}

/* The per-date "time", if any: hour and minute; a time the clocks skip that
 * day is refused at the field (the series' own time follows the policy in
 * series.h, but a time written for one date was meant exactly). */
static int date_time(struct ck_cfg_ctx *c, const struct ck_series *s, json_t *root, int64_t day,
                     int *hour, int *minute, int64_t *ms)
{
    char *t = NULL;
    int rc = ck_cfg_string(c, root, "", "time", 0, &t);
    if (rc != 0 || t == NULL)
        return rc;
    bool shifted = false;
    if (parse_time(t, hour, minute) != 0) {
        rc = ck_cfg_fail(c, "time", 0,
                         "expected that date's local time of day like \"18:30\", got \"%s\"", t);
    } else if ((rc = ck_series_resolve(s->timezone, day, *hour, *minute, ms, &shifted, NULL)) !=
               0) {
        rc = ck_cfg_fail(c, "time", 0, "%s", ck_strerror(rc));
    } else if (shifted) {
        char date[16];
        ck_series_day_format(day, date, sizeof date);
        rc = ck_cfg_fail(c, "time", 0,
                         "%s does not exist on %s in %s (the clocks go forward that night); "
                         "pick a time outside the gap",
                         t, date, s->timezone);
    }
    free(t);
    return rc;
}

static int build(const struct ck_series *s, int64_t day, struct ck_session *out, bool *no_file,
                 bool defaults_only, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (no_file != NULL)
        *no_file = false;
    char date[16], start[32];
    ck_series_day_format(day, date, sizeof date);
    if (!ck_rule_matches(&s->rule, day))
        return ck_error_set(err, CK_EINVAL, "%s is not a date of %s (%s)", date, s->title,
                            s->rule_text);
    char *path = NULL, *text = NULL, *merged_text = NULL;
    size_t len = 0;
    json_t *root = NULL, *merged = NULL;
    struct ck_jpos pos = {0};
    int64_t ms;
    int hour = s->hour, minute = s->minute;
    bool cancelled = false;
    struct ck_error fe = {0}; /* kept out of err unless it is the answer */
    int rc = defaults_only ? CK_ENOTFOUND : ck_series_find(s, day, &path, &fe);
    if (rc == CK_ENOTFOUND && (defaults_only || s->without_questions == CK_WQ_OBSERVE)) {
        rc = ck_series_session_path(s, day, &path);
        if (rc != 0)
            return ck_error_set(err, rc, "out of memory");
        root = json_object();
        if (root == NULL || placeholder(s, root) != 0) {
            rc = ck_error_set(err, CK_ENOMEM, "out of memory");
            goto out;
        }
        if (no_file != NULL)
            *no_file = true;
        rc = ck_series_resolve(s->timezone, day, hour, minute, &ms, NULL, NULL);
        if (rc != 0)
            ck_error_set(err, rc, "%s: %s", s->path, ck_strerror(rc));
    } else {
        if (rc != 0) {
            ck_error_set(err, rc, "%s", fe.msg);
            goto out;
        }
        rc = read_all(path, &text, &len, err);
        if (rc == 0)
            rc = parse_doc(path, text, len, &root, &pos, err);
        if (rc != 0)
            goto out;
        struct ck_cfg_ctx c = {path, &pos, err};
        ms = INT64_MIN;
        rc = check_date_file(&c, root);
        if (rc == 0)
            rc = ck_cfg_bool(&c, root, "", "cancelled", &cancelled);
        if (rc == 0)
            rc = date_time(&c, s, root, day, &hour, &minute, &ms);
        if (rc == 0 && cancelled) {
            rc = ck_error_set(err, CK_ECANCELED, "%s is cancelled (%s says \"cancelled\": true)",
                              date, path);
            goto out;
        }
        if (rc == 0 && ms == INT64_MIN) {
            rc = ck_series_resolve(s->timezone, day, hour, minute, &ms, NULL, NULL);
            if (rc != 0)
                ck_error_set(err, rc, "%s: %s", path, ck_strerror(rc));
        }
        json_object_del(root, "time");
        json_object_del(root, "cancelled");
    }
    if (rc != 0)
        goto out;
    /* An explicit UTC instant: the loader would reject a wall time in the gap. */
    ck_time_format_rfc3339(ms, start);
    merged = json_deep_copy(s->defaults);
    if (merged == NULL || json_object_update(merged, root) != 0 ||
        json_object_set_new(merged, "start", json_string(start)) != 0 ||
        (merged_text = json_dumps(merged, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    struct ck_error le = {0};
    rc = ck_session_load_buffer(s->path, merged_text, strlen(merged_text), out, &le);
    if (rc != 0) {
        remap_error(s, path, root, &pos, &le, err);
        goto out;
    }
    /* The session is this date's file; its folder (for relative paths)
     * stays the series', where archive_dir and token_file were written. */
    free(out->path);
    out->path = path;
    path = NULL;
out:
    free(path);
    free(text);
    free(merged_text);
    json_decref(root);
    json_decref(merged);
    ck_jpos_finish(&pos);
    return rc;
}

int ck_series_session_ex(const struct ck_series *s, int64_t day, struct ck_session *out,
                         bool *no_file, struct ck_error *err)
{
    return build(s, day, out, no_file, false, err);
}

int ck_series_default_session(const struct ck_series *s, int64_t day, struct ck_session *out,
                              struct ck_error *err)
{
    return build(s, day, out, NULL, true, err);
}

int ck_series_check_defaults(const struct ck_series *s, struct ck_error *err)
{
    struct ck_session ses;
    int rc = build(s, ck_rule_next(&s->rule, s->rule.has_anchor ? s->rule.anchor_day : 0), &ses,
                   NULL, true, err);
    if (rc == 0)
        ck_session_finish(&ses);
    return rc;
}

int ck_series_session(const struct ck_series *s, int64_t day, struct ck_session *out,
                      struct ck_error *err)
{
    return ck_series_session_ex(s, day, out, NULL, err);
}

int ck_series_session_at(const char *path, int64_t day, struct ck_session *out,
                         struct ck_error *err)
{
    struct ck_series s;
    memset(out, 0, sizeof *out);
    int rc = ck_series_load(path, &s, err);
    if (rc != 0)
        return rc;
    rc = ck_series_session_ex(&s, day, out, NULL, err);
    ck_series_finish(&s);
    return rc;
}

int ck_series_gap_warnings(const struct ck_series *s, int64_t from_day, int64_t to_day,
                           ck_series_report_fn fn, void *ctx)
{
    int found = 0;
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    struct ck_jpos pos = {0};
    bool parsed = false;
    for (int64_t day = ck_rule_next(&s->rule, from_day); day <= to_day;
         day = ck_rule_next(&s->rule, day + 1)) {
        int64_t ms;
        bool shifted = false;
        if (ck_series_resolve(s->timezone, day, s->hour, s->minute, &ms, &shifted, NULL) != 0 ||
            !shifted)
            continue;
        /* Positions only when needed: the series file is read again. */
        if (!parsed) {
            parsed = true;
            if (read_all(s->path, &text, &len, NULL) != 0 ||
                parse_doc(s->path, text, len, &root, &pos, NULL) != 0)
                root = NULL;
        }
        struct ck_local_time lt;
        char date[16];
        struct ck_error e = {0};
        ck_series_day_format(day, date, sizeof date);
        if (ck_series_local_time(s->timezone, ms, &lt) != 0)
            continue;
        if (root != NULL) {
            struct ck_cfg_ctx c = {s->path, &pos, &e};
            ck_cfg_fail(&c, "time", 0,
                        "warning: %02d:%02d does not exist on %s in %s (the clocks go forward); "
                        "that date starts at %02d:%02d (give that date's file a \"time\" to "
                        "choose another)",
                        s->hour, s->minute, date, s->timezone, lt.hour, lt.minute);
        } else {
            ck_error_set(&e, CK_ECONFIG,
                         "%s: field 'time': warning: %02d:%02d does not exist on %s", s->path,
                         s->hour, s->minute, date);
        }
        if (fn != NULL)
            fn(ctx, e.msg);
        found++;
    }
    free(text);
    json_decref(root);
    ck_jpos_finish(&pos);
    return found;
}
