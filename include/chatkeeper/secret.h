/* Secrets kept in files: API tokens, application passwords. One reader for
 * all of them, so every secret file is held to the same rules. */
#ifndef CHATKEEPER_SECRET_H
#define CHATKEEPER_SECRET_H

#include <stddef.h>

#include "chatkeeper/error.h"

/* Read the secret in path into *out (malloc'd, NUL-terminated, trailing
 * whitespace removed; free with ck_secret_free). The file must be a regular
 * file (not a link: O_NOFOLLOW; not a FIFO or device: opened non-blocking and
 * checked before reading, so a FIFO cannot hang us), owned by the user we run
 * as, and readable by nobody else (mode 0600 or stricter), and hold at most
 * max bytes. what names it in errors ("token file"); the contents never
 * appear in an error. Returns 0, CK_ECONFIG (cannot be read, not a regular
 * file, too large), CK_EUNSAFE (other users may read it, or it is theirs) or
 * CK_ENOMEM. */
int ck_secret_read_file(const char *path, const char *what, size_t max, char **out,
                        struct ck_error *err);

/* Overwrite a secret's bytes, then free it. NULL is fine. */
void ck_secret_free(char *secret);

#endif
