/* Private to the X platform (x.c, x_text.c). */
#ifndef CHATKEEPER_PLATFORMS_X_INT_H
#define CHATKEEPER_PLATFORMS_X_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fields.h"

/* The normaliser's side of ck_platform_x (x.c), for x_ops.c. */
struct ck_message;
struct ck_error;
const char *ck_x_item_id(const json_t *raw);
int64_t ck_x_item_time(const json_t *raw);
const char *ck_x_item_version(const json_t *raw);
int ck_x_normalise(const json_t *raw, struct ck_message *out, struct ck_error *err);

/* An optional array member; absent or null gives NULL, another type an error
 * (CK_EPARSE). */
int ck_x_get_array(struct ck_fields *c, const json_t *obj, const char *key, const json_t **out);

/* The text a reader sees: raw_text with HTML entities decoded once, the t.co
 * links of ents (an entities object, may be NULL) expanded, media links
 * dropped and media (an array of media objects, may be NULL) listed one
 * "[kind: ALT] URL" line each. *out: owned. 0, CK_EPARSE or CK_ENOMEM. */
int ck_x_build_text(struct ck_fields *c, const char *raw_text, const json_t *ents,
                    const json_t *media, char **out);

/* For the live calls (x_search.c, x_post.c, x_oauth.c). */
struct ck_sbuf;
struct ck_request;
struct ck_response;

/* A decimal tweet id of 1-32 digits. */
bool ck_x_id_ok(const char *s);
/* Make *out (zeroed by the caller) a request for url (taken, also on
 * failure) with Accept: application/json and, when bearer is set,
 * Authorization: Bearer. 0, CK_ENOMEM or CK_EINVAL. */
int ck_x_finish_request(const char *method, struct ck_sbuf *url, const char *bearer,
                        struct ck_request *out, struct ck_error *err);
/* "TITLE: DETAIL" (or "message") of one problem object into buf, control
 * bytes as spaces, "" when it has none. */
void ck_x_problem_text(const json_t *e, char *buf, size_t n);
/* The answer's JSON object (*out, new reference). Non-2xx: CK_EAUTH
 * (401/403), CK_ERATELIMIT (429), CK_EHTTP, the first problem in the
 * message; not an object: CK_EPARSE. what names the call. */
int ck_x_load(const struct ck_response *resp, const char *what, json_t **out, struct ck_error *err);

#endif
