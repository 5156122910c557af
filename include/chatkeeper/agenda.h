/* What people read and import before a chat: agenda.md (Markdown) and an
 * iCalendar file (RFC 5545) for calendar applications.
 *
 * Both outputs are deterministic: the same session gives the same bytes.
 * Nothing reads the clock; DTSTAMP is the session's start instant (it has
 * to be some fixed instant from the session file for reproducible output,
 * and the start changes exactly when the event does).
 *
 * Times in the .ics use DTSTART;TZID=<zone> with a VTIMEZONE generated from
 * the zone's actual transitions around the event (found by probing tzdata),
 * so calendars show the chat in its own zone. A local time that would not
 * read back as the same instant (the second pass of a repeated hour) is
 * written in UTC ("...Z") instead, since TZID times resolve to the first.
 *
 * All user text (title, description, questions, handles) is escaped: TEXT
 * escaping in the .ics, backslash escapes for Markdown markup. */
#ifndef CHATKEEPER_AGENDA_H
#define CHATKEEPER_AGENDA_H

#include <stddef.h>
#include <stdio.h>

#include "chatkeeper/config.h"
#include "chatkeeper/error.h"

/* Render agenda.md. *out new (free()), NUL-terminated, *len bytes.
 * Returns 0, CK_ENOMEM or CK_ETZ. */
int ck_agenda_markdown(const struct ck_session *s, char **out, size_t *len);

/* Render the .ics (CRLF line endings, folded). *out as above. Returns 0,
 * CK_ENOMEM or CK_ETZ. */
int ck_agenda_ics(const struct ck_session *s, char **out, size_t *len);

/* The .ics file name without extension: the hashtag's ASCII letters, digits
 * and '_' lower-cased, '-', and the local start date ("uklibchat-2026-12-03").
 * Can't fail; buf >= 64 recommended. */
void ck_agenda_slug(const struct ck_session *s, char *buf, size_t n);

/* The event's UID: "<16 hex digits of a hash of hashtag and start>@chatkeeper";
 * stable for a session however often it is rendered. buf >= 48. Can't fail. */
void ck_agenda_uid(const struct ck_session *s, char *buf, size_t n);

/* Write dir/agenda.md and dir/<slug>.ics (creating dir if needed), each via a
 * temporary file and rename(), so a reader never sees half a file.
 * Returns 0 or a negative code with err set. */
int ck_agenda_write(const struct ck_session *s, const char *dir, struct ck_error *err);

/* ---- a whole series ----
 *
 * The calendar of a series is one .ics: a VEVENT with the rule as an RRULE
 * (FREQ=WEEKLY;INTERVAL=2;BYDAY=TH, FREQ=MONTHLY;BYDAY=1TU or -1TU,
 * FREQ=MONTHLY;BYMONTHDAY=15) from the first date on or after from_day,
 * an EXDATE for each cancelled date, and for each date with its own file a
 * VEVENT with the same UID and a RECURRENCE-ID (its title, questions and
 * time, which may have moved). RFC 5545's rules for a local time the clocks
 * skip or repeat are the series' own (see series.h), so every calendar
 * places each date where run will. Same series files and from_day, same bytes. */

struct ck_series;

/* Render agenda.md for the series: the rule, then the next `count` dates
 * from from_day with each date's title and questions where known
 * ("cancelled", "questions to follow" otherwise), then how to join.
 * Returns 0, CK_ENOMEM, CK_ETZ or a per-date file's error (err set). */
int ck_agenda_series_markdown(const struct ck_series *s, int64_t from_day, size_t count, char **out,
                              size_t *len, struct ck_error *err);

/* Render the series' .ics (above). A problem in the sessions folder (as
 * `check` reports) or a per-date file that does not load is an error, since
 * the calendar would silently leave that date out. */
int ck_agenda_series_ics(const struct ck_series *s, int64_t from_day, char **out, size_t *len,
                         struct ck_error *err);

/* The series .ics file name without extension: "<hashtag>-series". */
void ck_agenda_series_slug(const struct ck_series *s, char *buf, size_t n);

/* Write dir/agenda.md and dir/<slug>.ics for the series, as ck_agenda_write. */
int ck_agenda_series_write(const struct ck_series *s, int64_t from_day, size_t count,
                           const char *dir, struct ck_error *err);

/* iCalendar building blocks (also used by the tests). */

/* RFC 5545 TEXT escaping: '\\' ';' ',' become "\\\\" "\\;" "\\,", a newline
 * (LF or CRLF) becomes "\\n"; other control characters are dropped. *out new
 * (free()). Returns 0 or CK_ENOMEM. */
int ck_ics_escape(const char *text, char **out);

/* Write one content line (without line ending) folded at 75 octets per
 * physical line, never inside a UTF-8 sequence, each ending in CRLF;
 * continuation lines begin with one space. Returns 0 or CK_EIO. */
int ck_ics_fold(FILE *out, const char *line, size_t len);

/* Markdown-escape user text: markup characters get a backslash, line breaks
 * and tabs become spaces, other control characters are dropped. Returns 0 or CK_EIO. */
int ck_agenda_md_escape(FILE *out, const char *text);

#endif
