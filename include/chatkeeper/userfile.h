/* The one reader for files a person wrote: the session file, series files and
 * overrides.json. (Secrets have their own, stricter reader: secret.h.) */
#ifndef CHATKEEPER_USERFILE_H
#define CHATKEEPER_USERFILE_H

#include <stddef.h>

#include "chatkeeper/error.h"

/* A missing file is not an error: ck_read_user_file returns 0 with *out NULL. */
#define CK_USERFILE_OPTIONAL 1u

/* Read the file at path whole. It is opened non-blocking and must be a
 * regular file, so a FIFO or a device cannot hang a command and a directory
 * is named as one. A file over max bytes is refused ("PATH: larger than MAX
 * bytes", then "; not KIND" when kind is not NULL).
 * Returns 0 with *out new (NUL-terminated; free() it) and *len; CK_ENOTFOUND
 * when the file is missing (unless CK_USERFILE_OPTIONAL); CK_ECONFIG for a
 * directory, another non-regular file or one too large; CK_EIO, CK_ENOMEM or
 * a negative errno from open. Every message starts with the path. */
int ck_read_user_file(const char *path, size_t max, const char *kind, unsigned flags, char **out,
                      size_t *len, struct ck_error *err);

#endif
