/* Rebuild a session directory's outputs from session.json, journal.jsonl,
 * state.json (our posted question ids), overrides.json and deleted.json. A
 * pure function of those files: the same inputs give the same bytes. */
#ifndef CHATKEEPER_ARCHIVE_H
#define CHATKEEPER_ARCHIVE_H

#include <stddef.h>

#include "chatkeeper/error.h"

struct ck_archive_stats {
    size_t journal_lines;
    size_t corrupt_lines;   /* reported and skipped */
    size_t skipped_objects; /* objects that would not normalise (reported) */
    size_t hidden;          /* left out by overrides.json (hide, opt_out) */
    size_t outside_window;  /* distinct statuses created outside [start - lead, end + grace]
                               (e.g. an earlier week's chat on a catch-up page): left out */
    size_t messages;        /* records in messages.jsonl */
    size_t boosts;          /* of which boosts */
    size_t people;          /* distinct authors */
};

/* Build dir/messages.jsonl: one normalised message per line for each status
 * created in the session's window [start - lead, end + grace] (bounds
 * included; session.json is read with ck_session_load), deduplicated on
 * (platform, id) (a later journal line, e.g. an edit, replaces an earlier one
 * unless its edited_at is older), oldest first (created_at, then id). Streamed
 * and written atomically; memory is ~100 bytes per message, whatever the
 * journal's size. stats may be NULL.
 * Sessions beside dir count in its "returning participants", whatever the
 * order they were built in: earlier ones with a journal but no
 * messages.jsonl are built first, later ones with outputs are rendered again.
 * Returns 0; CK_ENOTFOUND (no session.json or journal.jsonl); CK_ECONFIG
 * (session.json does not load: err says file:line:column and the field);
 * CK_ENOMEM; or an I/O error (-errno, CK_EIO). */
int ck_archive_build(const char *dir, struct ck_archive_stats *stats, struct ck_error *err);

#endif
