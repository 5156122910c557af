/* Import: build a session directory from data captured elsewhere, so years of
 * past chats get the same archive as live ones.
 *
 * Inputs, detected per file (and per line):
 *   - format "mastodon": Mastodon statuses, as one JSON array (a saved
 *     timeline page), one status per line, or a page (array) per line.
 *   - format "twarc": twarc 1 files (one API v1.1 tweet per line) and twarc2
 *     files (one API v2 response page per line, {"data":[...],"includes":
 *     {"users":[...],"media":[...]}}, or twarc2's flattened output, one tweet
 *     per line with its "author" embedded).
 *
 * What goes into DIR/journal.jsonl, one object per line as the follower writes
 * them: platform "mastodon" or "x", source "import", and fetched_at = the
 * object's own created_at (not the clock), so importing the same files gives
 * the same bytes. v1.1 tweets and Mastodon statuses are stored as they are.
 * A v2 tweet is stored in twarc2's flattened shape: the tweet object with its
 * author's includes.users entry added as "author" and its media (from
 * includes.media, by attachments.media_keys) as "attachments.media"; that is
 * the shape the "x" platform normalises. Objects whose (platform, id) is
 * already in the journal are skipped, so re-importing adds nothing. Objects
 * that do not normalise, and lines that are not JSON, are reported on stderr
 * as FILE:LINE and skipped. */
#ifndef CHATKEEPER_IMPORT_H
#define CHATKEEPER_IMPORT_H

#include <stddef.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/error.h"

struct ck_import_opts {
    const char *format;       /* "mastodon" or "twarc" */
    const char *const *files; /* borrowed */
    size_t n_files;
    const char *session_path; /* loaded with ck_session_load_import */
    const char *out_dir;      /* created if missing (its parent must exist) */
};

struct ck_import_stats {
    size_t lines;      /* non-blank input lines (a whole-file JSON value counts as 1) */
    size_t objects;    /* statuses / tweets found */
    size_t added;      /* appended to the journal */
    size_t duplicates; /* already in the journal (or earlier in this import) */
    size_t corrupt;    /* lines that are not JSON, or not a shape we know: reported, skipped */
    size_t rejected;   /* objects that do not normalise: reported, skipped */
    struct ck_archive_stats archive; /* from the ck_archive_build run at the end */
};

/* Load the session file (import mode), write DIR/session.json (the session as
 * used, with "imported": PLATFORM added so the archive loads it without a
 * platform section), append the inputs' new objects to DIR/journal.jsonl, then
 * build the archive (ck_archive_build). stats may be NULL. Returns 0 (corrupt
 * input is reported and skipped, never fatal); CK_EUSAGE (unknown format);
 * CK_ECONFIG (the session file does not load: err says where); CK_ENOTFOUND
 * (an input file cannot be opened: nothing is written); CK_ENOMEM; or an I/O
 * error. */
int ck_import_run(const struct ck_import_opts *o, struct ck_import_stats *stats,
                  struct ck_error *err);

#endif
