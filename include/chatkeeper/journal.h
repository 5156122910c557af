/* journal.jsonl: every object the API showed us, one JSON object per line,
 * append-only, flushed (fsync) per page before any cursor moves.
 *
 * Line format (keys in this order):
 *   {"fetched_at":"2026-12-03T20:05:01.123Z","platform":"mastodon",
 *    "source":"timeline","object":{...the object exactly as the API returned it...}}
 * source is "timeline" (forward polling and its overlap), "sweep" (the
 * end-of-session backwards sweep) or "context" (thread fetches), with
 * "+repaired" appended when bytes of the object no JSON parser accepts were
 * replaced by U+FFFD (see ck_json_repair in platform.h).
 *
 * A session with several sources (issue 11, "platforms") adds "from", the
 * source's stable name ("mastodon:https://a.example", or the entry's "name"),
 * after "platform": {"fetched_at":...,"platform":"mastodon","from":"NAME",
 * "source":"timeline","object":{...}}. A one-source session writes no "from"
 * (its journal is as before); a line without one belongs to the first source. */
#ifndef CHATKEEPER_JOURNAL_H
#define CHATKEEPER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"

struct ck_journal;

/* Open (creating) path for appending. A torn last line (a crash mid-write leaves
 * bytes without a final newline) is cut off, with a warning. *out: close with
 * ck_journal_close. */
int ck_journal_open(const char *path, struct ck_journal **out, struct ck_error *err);

/* Append n objects (borrowed) as n lines and fsync. Returns 0 only when all of
 * them are on disk; on error the file is cut back to where it was. */
int ck_journal_append(struct ck_journal *j, const char *platform, const char *source,
                      int64_t fetched_ms, json_t *const *objs, size_t n, struct ck_error *err);

/* The same, with the lines' "from" (NULL: none, as ck_journal_append). */
int ck_journal_append_from(struct ck_journal *j, const char *platform, const char *from,
                           const char *source, int64_t fetched_ms, json_t *const *objs, size_t n,
                           struct ck_error *err);

/* Whether the journal line entry is the source name's: its "from" is name,
 * or it has none and first (name NULL, a one-source session: every line). */
int ck_journal_entry_is_from(const json_t *entry, const char *name, int first);

/* Lines written through this handle plus those present at open. */
size_t ck_journal_lines(const struct ck_journal *j);

void ck_journal_close(struct ck_journal *j);

/* Called for each well-formed line (entry borrowed, valid during the call);
 * lineno counts from 1. A non-zero return stops the read and is returned. */
typedef int (*ck_journal_line_cb)(size_t lineno, const json_t *entry, void *arg);

/* Read path line by line. A corrupt line (not JSON, or without an object
 * "object") is reported on stderr with its line number, counted in *n_corrupt
 * (may be NULL) and skipped: it never stops the read. A missing file reads as
 * empty. Returns 0, a callback's non-zero value, or an I/O error. */
int ck_journal_read(const char *path, ck_journal_line_cb cb, void *arg, size_t *n_corrupt,
                    struct ck_error *err);

/* ck_journal_read for a callback that only reads each entry and keeps nothing
 * jansson allocated once it returns (no copy, no reference, no new JSON value
 * kept): the trees are built in one reused block (jarena.h) instead of a
 * hundred mallocs and frees a line. The archive reads a million lines so. */
int ck_journal_read_transient(const char *path, ck_journal_line_cb cb, void *arg, size_t *n_corrupt,
                              struct ck_error *err);

#endif
