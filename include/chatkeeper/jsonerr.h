/* Loading JSON so that out of memory is told apart from bad input. jansson
 * 2.14 reports an allocation failure inside its lexer as a syntax error
 * ("invalid token", or no text at all), so a reader would skip a good
 * journal line as corrupt, or tell a user their good session file is wrong.
 * These wrappers watch jansson's allocator during the load instead. */
#ifndef CHATKEEPER_JSONERR_H
#define CHATKEEPER_JSONERR_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* json_loadb / json_loadf, and *oom: whether a NULL result was for want of
 * memory (then the error in e says nothing about the input). */
json_t *ck_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e, bool *oom);
json_t *ck_json_loadf(FILE *f, size_t flags, json_error_t *e, bool *oom);

#endif
