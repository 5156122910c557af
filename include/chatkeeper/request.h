/* HTTP requests and responses as plain data. Platforms build struct
 * ck_request and parse struct ck_response without knowing how they travel;
 * net/http sends them on the loop. No <uv.h> here: platforms stay pure. */
#ifndef CHATKEEPER_REQUEST_H
#define CHATKEEPER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chatkeeper/error.h"

#define CK_REQUEST_MAX_HEADERS 8

/* A request as data. All strings are owned by the request (ck_request_finish frees them). */
struct ck_request {
    char method[8];                        /* "GET", "POST", ... */
    char *url;                             /* absolute */
    char *headers[CK_REQUEST_MAX_HEADERS]; /* "Name: value" */
    size_t n_headers;
    char *body; /* NULL for none */
    size_t body_len;
};

/* Add a header line (copied). Returns 0, CK_ENOMEM or CK_EINVAL when full. */
int ck_request_add_header(struct ck_request *r, const char *name, const char *value);
/* Add "Authorization: Bearer token". The temporary copy is wiped before it
 * is freed, so the token does not linger in freed memory. Returns as
 * ck_request_add_header (CK_EINVAL for a token with a line break). */
int ck_request_add_bearer(struct ck_request *r, const char *token);
void ck_request_finish(struct ck_request *r);

struct ck_header {
    char *name;  /* lower-cased */
    char *value; /* trimmed */
};

struct ck_response {
    long status; /* HTTP status, 0 when no response */
    char *body;  /* NUL-terminated, body_len bytes before the NUL */
    size_t body_len;
    struct ck_header *headers; /* of the final response only */
    size_t n_headers;
    int64_t elapsed_ms;
};

/* First header named name (case-insensitive), or NULL. Borrowed. */
const char *ck_response_header(const struct ck_response *r, const char *name);
/* The first header named name as a whole non-negative decimal number (no
 * sign, space or suffix; within long long) into *out. False when it is
 * absent or anything else, *out untouched. */
bool ck_response_header_count(const struct ck_response *r, const char *name, long long *out);
void ck_response_finish(struct ck_response *r);

#endif
