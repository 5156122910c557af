/* Private to the X platform (x.c, x_text.c). */
#ifndef CHATKEEPER_PLATFORMS_X_INT_H
#define CHATKEEPER_PLATFORMS_X_INT_H

#include <jansson.h>

#include "fields.h"

/* An optional array member; absent or null gives NULL, another type an error
 * (CK_EPARSE). */
int ck_x_get_array(struct ck_fields *c, const json_t *obj, const char *key, const json_t **out);

/* The text a reader sees: raw_text with HTML entities decoded once, the t.co
 * links of ents (an entities object, may be NULL) expanded, media links
 * dropped and media (an array of media objects, may be NULL) listed one
 * "[kind: ALT] URL" line each. *out: owned. 0, CK_EPARSE or CK_ENOMEM. */
int ck_x_build_text(struct ck_fields *c, const char *raw_text, const json_t *ents,
                    const json_t *media, char **out);

#endif
