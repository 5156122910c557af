/* A recurring chat: a rule ("every other thursday"), a wall-clock time in an
 * IANA zone, the defaults every session shares (hashtag, platform,
 * facilitators, archive folder) and a folder of per-date files holding each
 * date's title and questions.
 *
 * Dates are "local days": days since 1970-01-01 of the calendar date in the
 * series' zone. The rule picks days; the time and zone then give the instant,
 * so 19:00 stays 19:00 local while UTC shifts across daylight saving.
 *
 * Daylight-saving policy (as most calendar applications do):
 *  - a time the clocks skip (01:30 on a spring-forward night in London) is
 *    moved forward by the length of the gap (to 02:30 BST); the occurrence is
 *    flagged `shifted`;
 *  - a time the clocks repeat (01:30 on a fall-back night) is the first of the
 *    two instants; the occurrence is flagged `repeated`. */
#ifndef CHATKEEPER_SERIES_H
#define CHATKEEPER_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/config.h"
#include "chatkeeper/error.h"

enum ck_rule_kind {
    CK_RULE_WEEKLY,      /* every [N weeks on | other] <weekday> */
    CK_RULE_MONTHLY_NTH, /* first..fourth|last <weekday> of the month */
    CK_RULE_MONTHLY_DAY, /* monthly on day N (months without day N are skipped) */
};

struct ck_rule {
    enum ck_rule_kind kind;
    int weekday;        /* 0 = Sunday .. 6 = Saturday (weekly, monthly nth) */
    int interval_weeks; /* weekly: 1, 2 (every other) or N */
    int nth;            /* monthly nth: 1..4, or -1 for last */
    int mday;           /* monthly day: 1..31 */
    bool has_anchor;
    int64_t anchor_day; /* a local day the rule falls on; needed when interval_weeks > 1 */
};

/* Parse rule text, case-insensitively, words separated by any white space:
 *   every <weekday>            every other <weekday>      every N weeks on <weekday>
 *   first|second|third|fourth|last <weekday> of the month  monthly on day N
 * Weekdays are full English names, optionally plural ("thursdays"). The anchor
 * is not part of the text: set has_anchor/anchor_day afterwards and call
 * ck_rule_check. Returns 0 or CK_EINVAL with a message naming what was expected. */
int ck_rule_parse(const char *text, struct ck_rule *out, struct ck_error *err);

/* Whether the anchor agrees with the rule: present when interval_weeks > 1
 * and falling on the rule's weekday. Returns 0 or CK_EINVAL. */
int ck_rule_check(const struct ck_rule *r, struct ck_error *err);

/* Whether local day `day` is one of the rule's dates. Can't fail. */
bool ck_rule_matches(const struct ck_rule *r, int64_t day);

/* The first matching local day >= day. Can't fail (every rule matches at
 * least once in any 12 months). */
int64_t ck_rule_next(const struct ck_rule *r, int64_t day);

/* "2026-12-03" <-> local day. parse returns 0 or CK_EINVAL; buf >= 11. */
int ck_series_day_parse(const char *s, int64_t *day);
void ck_series_day_format(int64_t day, char *buf, size_t n);

/* Wall-clock reading of an instant in a zone. */
struct ck_local_time {
    int year, month, day, hour, minute, second;
    int weekday;  /* 0 = Sunday */
    int offset_s; /* local - UTC, seconds */
    char abbr[16];
};

/* Read ms in zone tz. Lives here because series and the calendar writer both
 * need offsets and abbreviations. Returns 0, CK_ETZ or CK_ENOMEM. */
int ck_series_local_time(const char *tz, int64_t ms, struct ck_local_time *out);

/* Resolve local day + hh:mm in tz to an instant under the policy above.
 * shifted/repeated may be NULL. Returns 0 or CK_ETZ. */
int ck_series_resolve(const char *tz, int64_t day, int hour, int minute, int64_t *ms_out,
                      bool *shifted, bool *repeated);

/* What a date with no per-date file does ("without_questions"). */
enum ck_without_questions {
    CK_WQ_SKIP,    /* nothing runs that date (the default) */
    CK_WQ_OBSERVE, /* follow and archive the hashtag, post nothing */
};

struct ck_series {
    char *path, *dir; /* the file and its folder */
    char *title;
    char *rule_text; /* as written */
    struct ck_rule rule;
    int hour, minute; /* from "time" */
    char *timezone;
    char *hashtag;
    char *sessions_dir; /* resolved against dir */
    json_t *defaults;   /* the session fields the series gives (owned) */
    enum ck_without_questions without_questions;
};

/* Load and validate a series file. Unknown fields and bad values are errors
 * naming file:line:column and the field. On error s is finished. Returns 0,
 * CK_ECONFIG, CK_ENOMEM or -errno. */
int ck_series_load(const char *path, struct ck_series *s, struct ck_error *err);
void ck_series_finish(struct ck_series *s);

struct ck_occurrence {
    int64_t day;      /* local day */
    int64_t start_ms; /* UTC */
    bool shifted;     /* the rule's time was skipped that night; moved forward by the gap */
    bool repeated;    /* the rule's time happened twice that night; first one used */
};

/* Up to n occurrences on local days >= from_day starting at or after
 * after_ms (pass INT64_MIN for no such limit), in order. Returns the number
 * written (n unless the zone broke) or CK_ETZ. */
int ck_series_expand(const struct ck_series *s, int64_t from_day, int64_t after_ms,
                     struct ck_occurrence *out, size_t n);

/* The canonical name of the per-date file for day, for a new file:
 * "<sessions_dir>/YYYY-MM-DD.json". *out new (free()). */
int ck_series_session_path(const struct ck_series *s, int64_t day, char **out);

/* Whether path is a series file rather than a session: a JSON object with a
 * "rule". False for anything unreadable (the session loader then says why). */
bool ck_series_is_series(const char *path);

/* One per-date file of the sessions folder. Files are named
 * "YYYY-MM-DD.json" or "YYYY-MM-DD-any-words.json". */
struct ck_series_file {
    int64_t day;
    char *path;
};

/* Called once per problem found, with a one-line "file:line:column: ..."
 * message. */
typedef void (*ck_series_report_fn)(void *ctx, const char *msg);

/* List the sessions folder, sorted by date. Each problem is reported and
 * counted, and the file concerned left out: a .json whose name is not a
 * date, a date the rule does not produce, two files for one date (both are
 * left out). Hidden files and files not ending in .json are ignored; a
 * missing folder is an empty list. *files new (ck_series_files_free).
 * Returns the number of problems, or CK_ENOMEM / -errno (folder unreadable). */
int ck_series_files(const struct ck_series *s, struct ck_series_file **files, size_t *n,
                    ck_series_report_fn report, void *ctx);
void ck_series_files_free(struct ck_series_file *files, size_t n);

/* The per-date file for day. *path new (free()). Returns 0, CK_ENOTFOUND
 * (none), CK_ECONFIG (two files for that date: err names both), CK_ENOMEM,
 * -errno. */
int ck_series_find(const struct ck_series *s, int64_t day, char **path, struct ck_error *err);

/* Build the full session for local day `day`: the series defaults, overridden
 * by the per-date file (which may give title, description, questions, welcome,
 * closing, duration, lead, grace, facilitators, post, thread, question_format,
 * missed_step_limit, poll, publish, and "time" (that date's local start, "18:30")
 * and "cancelled"; not start, timezone, hashtag, platform or archive_dir, which
 * belong to the series), with start from the rule. Errors name the per-date
 * file (or the series file) with line:column; a "time" the clocks skip that
 * date is an error at that field.
 *
 * With no per-date file: CK_ENOTFOUND when the series says
 * "without_questions": "skip" (the default); with "observe", a session with
 * the series' title, "post": false and one placeholder question (the
 * session format needs one; it only labels the whole chat in the archive),
 * and *no_file (if not NULL) set. A file saying "cancelled": true gives
 * CK_ECANCELED (err says so, naming the file). Returns 0, those, CK_EINVAL
 * (not a date of the rule), CK_ECONFIG, CK_ENOMEM, -errno. */
int ck_series_session_ex(const struct ck_series *s, int64_t day, struct ck_session *out,
                         bool *no_file, struct ck_error *err);
int ck_series_session(const struct ck_series *s, int64_t day, struct ck_session *out,
                      struct ck_error *err);

/* The session the series' defaults make on day alone, ignoring any per-date
 * file: series title, "post": false, one placeholder question. For what every
 * date shares (duration, hashtag, platform) in calendars. Returns as
 * ck_series_session. */
int ck_series_default_session(const struct ck_series *s, int64_t day, struct ck_session *out,
                              struct ck_error *err);

/* Whether the series' defaults make a valid session on their own (with a
 * placeholder question), so a bad default is found before any date needs it.
 * Errors name the series file. Returns 0, CK_ECONFIG, CK_ENOMEM. */
int ck_series_check_defaults(const struct ck_series *s, struct ck_error *err);

/* Report (as a "file:line:column: field 'time': warning: ..." line naming
 * the series file) each rule date in [from_day, to_day] whose time the
 * clocks skip, which then starts later by the gap. Returns how many. */
int ck_series_gap_warnings(const struct ck_series *s, int64_t from_day, int64_t to_day,
                           ck_series_report_fn fn, void *ctx);

/* Load the series at path and build day's session (ck_series_session_ex
 * without no_file): what `run SERIES --date D` runs. */
int ck_series_session_at(const char *path, int64_t day, struct ck_session *out,
                         struct ck_error *err);

/* If path looks like a per-date file (named after a date, in a folder that a
 * series file next to that folder names as its "sessions"), write the
 * command to use into buf ("chatkeeper CMD SERIES.json --date D", or with
 * SERIES.json as a placeholder when no series names the folder) and return
 * true. For the message when such a file is given where a session is wanted. */
bool ck_series_hint(const char *path, const char *cmd, char *buf, size_t n);

#endif
