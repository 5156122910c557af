/* The archive's outputs, rendered from a session directory's messages.jsonl.
 *
 * Input: DIR/session.json, DIR/messages.jsonl (one message per line, oldest
 * first, with "questions" and "assigned_by" filled by grouping) and, if
 * present, DIR/state.json (posted run-sheet steps). Output, in DIR, each
 * written atomically:
 *   transcript.html  one self-contained page, grouped by question, threads nested
 *   transcript.md    the same in Markdown
 *   messages.csv     RFC 4180, one row per message (boosts included), CSV
 *                    injection neutralised
 *   summary.json     per question and overall statistics
 *   activity.svg     messages per minute with the questions marked
 * Rendering is a pure function of those files and of earlier sessions'
 * messages.jsonl in DIR's parent (for new vs returning participants): the
 * same inputs give the same bytes; the clock is never read.
 *
 * Memory: one pass over an mmap of messages.jsonl keeps ~80 bytes per message
 * (offsets, times, reply links, counts); the transcripts re-parse each line
 * from the map when they write it. The archive hands over the same records
 * as views instead (ck_render_archive), which read without parsing. */
#ifndef CHATKEEPER_RENDER_H
#define CHATKEEPER_RENDER_H

#include <stddef.h>

#include "chatkeeper/error.h"

/* Replies deeper than this are shown at this depth with a "replying to" note,
 * so a 500-reply chain stays readable on a phone. */
#define CK_RENDER_MAX_DEPTH 6
/* Question numbers above this in messages.jsonl are ignored. */
#define CK_RENDER_MAX_QUESTION 999

struct ck_render_stats {
    size_t lines;         /* lines of messages.jsonl */
    size_t corrupt_lines; /* reported (with their line number) and skipped */
    size_t messages;      /* transcribed messages (not boosts) */
    size_t boosts;        /* counted, never transcribed */
    size_t people;        /* distinct authors of messages */
    size_t questions;     /* question sections written */
};

/* Write all five outputs into dir. stats may be NULL.
 * Returns 0; CK_ENOTFOUND (no session.json or messages.jsonl); CK_ECONFIG
 * (session.json does not load); CK_ENOMEM; -errno or CK_EIO on I/O errors.
 * On error err says which file; outputs already written stay (each is whole). */
int ck_render_session(const char *dir, struct ck_render_stats *stats, struct ck_error *err);

/* The archive's way in: the same outputs and the write-up (writeup.md and
 * .html), from the records of the messages.jsonl just written, in the same
 * order (borrowed). Returns as ck_render_session. */
struct ck_record_source;
int ck_render_archive(const char *dir, const struct ck_record_source *records,
                      struct ck_render_stats *stats, struct ck_error *err);

/* Write archive_dir/index.html: every subfolder holding session.json and
 * messages.jsonl, newest start first, with date, title (linked to its
 * transcript.html when that exists, and its writeup.html under it when that
 * exists), hashtag, people and messages (from its summary.json, else counted). Folders whose session.json does not load are
 * left out (and logged). Returns 0, CK_ENOMEM, -errno or CK_EIO. */
int ck_render_index(const char *archive_dir, struct ck_error *err);

#endif
