/* What the platform tests share about the requests a platform builds and the
 * responses it is handed. Include after <cmocka.h>. */
#ifndef CK_TEST_PLATFORMS_REQRESP_H
#define CK_TEST_PLATFORMS_REQRESP_H

#include <stdint.h>
#include <string.h>

#include "chatkeeper/request.h"
#include "chatkeeper/timeutil.h"

/* An RFC 3339 time in ms (the test fails if it does not parse). */
static inline int64_t iso(const char *s)
{
    int64_t ms;
    assert_int_equal(ck_time_parse_rfc3339(s, &ms), 0);
    return ms;
}

/* The value of header name in r ("Name: value"), or NULL. */
static inline const char *header(const struct ck_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
            return r->headers[i] + n + 2;
    return NULL;
}

/* A response borrowing body (no headers). */
static inline struct ck_response answer(long status, const char *body)
{
    struct ck_response r = {0};
    r.status = status;
    r.body = (char *)body;
    r.body_len = body != NULL ? strlen(body) : 0;
    return r;
}

#endif
