/* Import: build a session directory from data captured elsewhere, so years of
 * past chats get the same archive as live ones.
 *
 * Inputs: plain files, gzip files (known by their magic bytes; one cut short
 * is read up to the cut, with a warning) and "-" for standard input, as
 * twarc reads them; a folder stands for the files in it (ck_src_expand). Formats:
 *   - "mastodon": Mastodon statuses, as one JSON array (a saved timeline
 *     page), one status per line, or a page (array) per line.
 *   - "twarc": twarc 1 files (one API v1.1 tweet per line) and twarc2
 *     files (one API v2 response page per line, {"data":[...],"includes":
 *     {"users":[...],"media":[...]}}, or twarc2's flattened output, one tweet
 *     per line with its "author" embedded).
 * chatkeeper's own journal lines are read too (the object inside each).
 *
 * The format is detected from each file's first objects (ck_import_classify)
 * before anything is written; an explicit format that the files contradict,
 * files of different platforms, or a file in which nothing is a status or a
 * tweet are refused with one line naming what was found and what to type.
 *
 * What goes into DIR/journal.jsonl, one object per line as the follower writes
 * them: platform "mastodon" or "x", source "import", and fetched_at = the
 * object's own created_at (not the clock), so importing the same files gives
 * the same bytes. v1.1 tweets and Mastodon statuses are stored as they are.
 * A v2 tweet is stored in twarc2's flattened shape: the tweet object with its
 * author's includes.users entry added as "author" and its media (from
 * includes.media, by attachments.media_keys) as "attachments.media", and
 * each referenced tweet found in includes.tweets embedded (so flattened) in
 * its referenced_tweets entry; that is the shape the "x" platform
 * normalises. After a page's own tweets come the included tweets they point
 * at: retweeted and quoted originals and the other versions of an edit
 * chain (not replied-to parents). Objects whose (platform, id) is
 * already in the journal are skipped, so re-importing adds nothing. Objects
 * that do not normalise, and lines that are not JSON, are reported on stderr
 * as FILE:LINE (the first 10 of each file) and skipped; a file where they
 * are the majority fails the import once the rest is in (see ck_import_run).
 *
 * Progress: for inputs over 16 MB, a line redrawn on stderr when it is a
 * terminal, else an info line every 64 MB read. */
#ifndef CHATKEEPER_IMPORT_H
#define CHATKEEPER_IMPORT_H

#include <stddef.h>

#include <jansson.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/error.h"

/* What one input object is (see ck_import_classify). */
enum ck_import_kind {
    CK_IMPORT_UNKNOWN = 0, /* not an object, or none of the shapes below */
    CK_IMPORT_MASTODON,    /* a Mastodon status (it has an "account") */
    CK_IMPORT_TWARC1,      /* an API v1.1 tweet (id_str, user) */
    CK_IMPORT_TWARC2,      /* an API v2 response page, or a tweet twarc2 flattened */
    CK_IMPORT_BLUESKY,     /* a Bluesky post view or feed item: not importable yet */
};
#define CK_IMPORT_KINDS 5

/* Classify one parsed value (borrowed; arrays are the caller's to walk). A
 * chatkeeper journal line is classified by its "object". Can't fail. */
enum ck_import_kind ck_import_classify(const json_t *v);
/* For messages: "twarc v1 (API v1.1 tweets)" and so on. Never NULL. */
const char *ck_import_kind_name(enum ck_import_kind k);
/* The format that imports k ("mastodon", "twarc"), or NULL (none does). */
const char *ck_import_kind_format(enum ck_import_kind k);

struct ck_import_opts {
    const char *format;       /* "mastodon", "twarc", or NULL: detected from the files */
    const char *const *files; /* borrowed; "-" is standard input (once at most) */
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
    enum ck_import_kind kind;        /* what the first non-empty file holds */
};

/* Open every input and detect its format, load the session file (import
 * mode), write DIR/session.json (the session as used, with "imported":
 * PLATFORM added so the archive loads it without a platform section), append
 * the inputs' new objects to DIR/journal.jsonl, then build the archive
 * (ck_archive_build). stats may be NULL; it is filled whenever the archive
 * was built. Returns 0; CK_EPARSE, with one line in err and nothing written,
 * when a file holds no status or tweet, or another format than o->format or
 * the other files (the line names the format found and the option to use);
 * CK_EPARSE after the archive is built when in some file the lines or
 * objects that could not be read outnumber those that could (err names the
 * first such file: the objects that could be read are in); CK_EUSAGE
 * (unknown format, "-" twice); CK_ECONFIG (the session file does not load:
 * err says where); CK_ENOTFOUND (an input file cannot be opened: nothing is
 * written); CK_ENOMEM; or an I/O error (CK_EIO also for a corrupt gzip
 * stream). */
int ck_import_run(const struct ck_import_opts *o, struct ck_import_stats *stats,
                  struct ck_error *err);

#endif
