/* Shared by the bluesky*.c files; private to src/platforms/. */
#ifndef CHATKEEPER_PLATFORMS_BLUESKY_INT_H
#define CHATKEEPER_PLATFORMS_BLUESKY_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "chatkeeper/bluesky.h"
#include "chatkeeper/sbuf.h"

/* Append "?name=value" or "&name=value" (percent-encoded) to a query; NULL value: nothing. */
void ck_bsky_param(struct ck_sbuf *query, const char *name, const char *value);
/* Build an XRPC request: base_url/xrpc/method + query (consumed), body (owned,
 * consumed, may be NULL), Bearer token when not NULL. */
int ck_bsky_request(const char *base_url, const char *method, const char *http_method,
                    const char *token, struct ck_sbuf *query, char *body, struct ck_request *out,
                    struct ck_error *err);
/* The JSON object of a 2xx answer (status 0 counts as 2xx), or CK_EAUTH /
 * CK_ENOTFOUND / CK_ERATELIMIT / CK_EHTTP / CK_EPARSE with the server's words. */
int ck_bsky_load(const struct ck_response *resp, const char *what, json_t **out,
                 struct ck_error *err);
bool ck_bsky_rkey_ok(const char *s);
bool ck_bsky_did_ok(const char *s);

#endif
