/* Rebuild a session directory's outputs from session.json + journal.jsonl
 * (and later overrides.json). A pure function of those files: the same inputs
 * give the same bytes. */
#ifndef CHATKEEPER_ARCHIVE_H
#define CHATKEEPER_ARCHIVE_H

#include <stddef.h>

#include "chatkeeper/error.h"

struct ck_archive_stats {
    size_t journal_lines;
    size_t corrupt_lines;  /* reported and skipped */
    size_t skipped_objects; /* objects that would not normalise (reported) */
    size_t messages;       /* records in messages.jsonl */
    size_t boosts;         /* of which boosts */
    size_t people;         /* distinct authors */
};

/* Build dir/messages.jsonl: one normalised message per line, deduplicated on
 * id (a later journal line, e.g. an edit, replaces an earlier one), oldest
 * first (created_at, then id). Written atomically. stats may be NULL. */
int ck_archive_build(const char *dir, struct ck_archive_stats *stats, struct ck_error *err);

#endif
