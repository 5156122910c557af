/* state.json: cursors, counters, posted steps and published posts. Small, and
 * always rewritten whole and atomically (temp file, fsync, rename, fsync dir),
 * so after a crash it is either the old or the new version, never a mix. */
#ifndef CHATKEEPER_STATE_H
#define CHATKEEPER_STATE_H

#include <jansson.h>

#include "chatkeeper/error.h"

/* Load path into *out (new reference). A missing file gives an empty object;
 * a corrupt one is CK_ECORRUPT (never silently reset). */
int ck_state_load(const char *path, json_t **out, struct ck_error *err);

/* Write state (borrowed) to path atomically, keys sorted, indented. */
int ck_state_save(const char *path, const json_t *state, struct ck_error *err);

/* "dir/name", new (free()), or NULL on out of memory: the session folder's
 * files are named this way throughout. */
char *ck_path_join(const char *dir, const char *name);

/* Write any text to path atomically (the same temp+fsync+rename dance). */
int ck_file_write_atomic(const char *path, const char *data, size_t len, struct ck_error *err);

/* The same dance for output too big to hold in memory: bytes stream through a
 * 64 KB buffer into "path.tmp.PID", and only ck_atomic_commit makes them the
 * file at path. Until then readers see the old file (or none). */
struct ck_atomic_file;

/* Create the temp file beside path. *out: new, finish with ck_atomic_commit or
 * ck_atomic_abort. On error *out is NULL and nothing is left on disk. */
int ck_atomic_open(const char *path, struct ck_atomic_file **out, struct ck_error *err);

/* Append len bytes of data (borrowed). After an error the file only accepts
 * ck_atomic_abort (and commit returns the same error). */
int ck_atomic_write(struct ck_atomic_file *f, const void *data, size_t len, struct ck_error *err);

/* Flush, fsync, rename over path, fsync the folder. Always frees f (stolen); on
 * error the temp file is removed and path is untouched. */
int ck_atomic_commit(struct ck_atomic_file *f, struct ck_error *err);

/* Remove the temp file and free f; path is untouched. f may be NULL. Can't fail. */
void ck_atomic_abort(struct ck_atomic_file *f);

#endif
