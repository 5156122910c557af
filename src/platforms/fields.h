/* Typed reads of fields from a platform's JSON, for the normalisers: a wrong
 * type or a missing required field is CK_EPARSE with a message naming the
 * object ("mastodon status 123: created_at is not a string"), never a crash.
 * Private to src/platforms/. */
#ifndef CHATKEEPER_PLATFORMS_FIELDS_H
#define CHATKEEPER_PLATFORMS_FIELDS_H

#include <stdbool.h>

#include <jansson.h>

#include "chatkeeper/error.h"

struct ck_fields {
    const char *what; /* "mastodon status", "x tweet" */
    const char *id;   /* the object's id once known, for messages; borrowed */
    struct ck_error *err;
};

/* Record a CK_EPARSE naming the object; returns CK_EPARSE. */
int ck_fields_bad(struct ck_fields *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* *out = obj[key] as a borrowed string; absent or null gives NULL (an error
 * when required); any other type is an error. Returns 0 or CK_EPARSE. */
int ck_fields_str(struct ck_fields *c, const json_t *obj, const char *key, bool required,
                  const char **out);

/* Copy s (may be NULL: *dst = NULL) into *dst; false on out of memory. */
bool ck_fields_dup(char **dst, const char *s);

#endif
