/* HTTP requests and responses as plain data (request.h): no uv, no curl. */
#include "chatkeeper/request.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/secret.h"

/* Reject CR and LF: a value carrying them would smuggle extra header lines. */
static bool header_text_ok(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

int ck_request_add_header(struct ck_request *r, const char *name, const char *value)
{
    if (r == NULL || name == NULL || value == NULL || name[0] == '\0' ||
        strchr(name, ':') != NULL || !header_text_ok(name) || !header_text_ok(value))
        return CK_EINVAL;
    if (r->n_headers >= CK_REQUEST_MAX_HEADERS)
        return CK_EINVAL;
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (line == NULL)
        return CK_ENOMEM;
    snprintf(line, n, "%s: %s", name, value);
    r->headers[r->n_headers++] = line;
    return 0;
}

int ck_request_add_bearer(struct ck_request *r, const char *token)
{
    if (token == NULL)
        return CK_EINVAL;
    size_t n = strlen(token) + sizeof "Bearer ";
    char *value = malloc(n);
    if (value == NULL)
        return CK_ENOMEM;
    snprintf(value, n, "Bearer %s", token);
    int rc = ck_request_add_header(r, "Authorization", value);
    ck_secret_free(value);
    return rc;
}

void ck_request_finish(struct ck_request *r)
{
    if (r == NULL)
        return;
    free(r->url);
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->headers[i]);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

const char *ck_response_header(const struct ck_response *r, const char *name)
{
    if (r == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

bool ck_response_header_count(const struct ck_response *r, const char *name, long long *out)
{
    const char *v = ck_response_header(r, name);
    if (v == NULL || !isdigit((unsigned char)v[0]))
        return false;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = n;
    return true;
}

static void free_headers_all(struct ck_response *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->n_headers = 0;
}

void ck_response_finish(struct ck_response *r)
{
    if (r == NULL)
        return;
    free_headers_all(r);
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}
