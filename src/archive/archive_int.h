/* Private to src/archive: the archive's passes. archive.c reads the journal into
 * a spill of binary records and sorts its entries; archive_write.c groups the
 * sorted messages and writes messages.jsonl and every output from the spill. */
#ifndef CHATKEEPER_CORE_ARCHIVE_INT_H
#define CHATKEEPER_CORE_ARCHIVE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chatkeeper/error.h"
#include "chatkeeper/sbuf.h"

#define CK_ARCHIVE_F_BOOST 1u
#define CK_ARCHIVE_F_OUTSIDE 2u /* created outside the window: counted, not written */
#define CK_ARCHIVE_F_URI 4u     /* the message has a canonical uri (merged by it) */

/* A string in the arena under a platform: a message id or an author id. */
struct ck_archive_key {
    uint64_t off;
    uint32_t len;
    uint8_t platform;
    uint8_t flags; /* CK_ARCHIVE_F_ bits, for a message id (in the padding: entries
                      stay 48 bytes) */
};

struct ck_archive_entry {
    struct ck_archive_key id;
    uint32_t author;  /* index into authors */
    uint32_t rec_len; /* record length in the spill (record.h's binary form) */
    uint64_t rec_off; /* record offset in the spill */
    int64_t created_ms;
    int64_t version_ms; /* edited_at, or INT64_MIN if never edited */
};
_Static_assert(sizeof(struct ck_archive_entry) == 48, "an entry per message: keep it small");

/* An unlinked scratch file beside the output (same disk, never /tmp's tmpfs):
 * name is a mkstemp template ("....XXXXXX"). */
int ck_archive_scratch(const char *dir, const char *name, FILE **out, struct ck_error *err);

/* Every other id of a merged message (archive_alias.c): a reply, boost or
 * quote seen only on instance B names its parent by B's id, though the
 * message kept is A's copy (issue 11). _note while reading (platform index,
 * the merged message's entry, its first id, and another id of it), _resolve
 * once reading is done (before the entries move: it reads the kept copies'
 * ids from the spill), _apply to a record being written (its reply_to,
 * boost_of and quote_of then name the kept copy; the strings stay a's). */
struct ck_archive_alias;
struct ck_archive_aliases {
    struct ck_archive_alias *v;
    size_t n, cap;
    struct ck_sbuf ids;
};
int ck_archive_alias_note(struct ck_archive_aliases *a, uint8_t platform, uint32_t entry,
                          const char *first, size_t first_len, const char *id);
int ck_archive_alias_resolve(struct ck_archive_aliases *a, const struct ck_archive_entry *msgs,
                             FILE *spill, struct ck_error *err);
struct ck_record;
void ck_archive_alias_apply(const struct ck_archive_aliases *a, uint8_t platform,
                            struct ck_record *r);
void ck_archive_aliases_finish(struct ck_archive_aliases *a);

/* Group msgs[0..n) (sorted, in the window; their records in spill, of
 * spill_len bytes), write dir/messages.jsonl, every output and the write-up
 * from them, then the archive folder's index. *hidden: messages grouping left
 * out (overrides, opt-outs, deleted posts). aliases: resolved, may be NULL. */
int ck_archive_write(const char *dir, FILE *spill, uint64_t spill_len,
                     const struct ck_archive_entry *msgs, size_t n,
                     const struct ck_archive_aliases *aliases, size_t *hidden,
                     struct ck_error *err);

/* ck_archive_build of dir alone, without its siblings (archive.c). */
struct ck_archive_stats;
int ck_archive_build_one(const char *dir, struct ck_archive_stats *stats, struct ck_error *err);

/* The sessions beside dir in its archive folder, so "returning participants"
 * does not depend on build order (archive_siblings.c): _before builds the
 * earlier ones that have a journal but no messages.jsonl, oldest first, and
 * notes who wrote in dir so far (*people: new, NULL when no later session has
 * outputs; ck_archive_people_free it); _after renders again the later ones
 * that have outputs and one of the people who came or went since before
 * (all of them when before is NULL or dir moved in time). A sibling that
 * fails is logged, not returned; only CK_ENOMEM is. */
struct ck_archive_people;
int ck_archive_siblings_before(const char *dir, struct ck_archive_people **people,
                               struct ck_error *err);
int ck_archive_siblings_after(const char *dir, const struct ck_archive_people *before,
                              struct ck_error *err);
void ck_archive_people_free(struct ck_archive_people *p);

/* Grouping as ck_archive_build runs it (archive_group.c) is declared in
 * chatkeeper/grouping.h, which the console's live view uses too: one set of
 * declarations, so both file a message the same way. */
#include "chatkeeper/grouping.h"

#endif
