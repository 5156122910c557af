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

/* Write any text to path atomically (the same temp+fsync+rename dance). */
int ck_file_write_atomic(const char *path, const char *data, size_t len, struct ck_error *err);

#endif
