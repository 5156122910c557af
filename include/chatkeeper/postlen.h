/* How long a post may be on the sources of a session that post: the one
 * judgement `check` (which may also ask a Mastodon instance for its own
 * figure) and the console's "edit a step" control share, so the two never
 * disagree. Each source counts in its own way (ops->text_len: code points on
 * Mastodon, graphemes on Bluesky, X's weights), so a text is judged against
 * every source, not against one number. Pure: no sockets, files or clock. */
#ifndef CHATKEEPER_POSTLEN_H
#define CHATKEEPER_POSTLEN_H

#include <stddef.h>

#include "chatkeeper/config.h"
#include "chatkeeper/platform.h"

struct ck_postlen {
    const char *source; /* the source's name (borrowed from the session) */
    const char *what;   /* whose figure: "the platform", "the platform's default", a rule */
    long max;           /* the longest post it takes */
    size_t len;         /* the text's length as that source counts it */
};

/* The limit ops knows without asking anyone, and whose figure it is (*what,
 * static text). */
long ck_postlen_default(const struct ck_platform_ops *ops, const char **what);

/* Judge text (as it will be posted) against every source of s that posts.
 * Returns 1 with *out the first source it is too long for, 0 with *out the
 * tightest source (the smallest limit) when it fits on all, or CK_ENOTFOUND
 * (no source posts; *out zeroed). */
int ck_postlen_check(const struct ck_session *s, const char *text, struct ck_postlen *out);

#endif
