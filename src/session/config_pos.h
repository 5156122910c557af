/* Private to the config module: where each value sits in a JSON text.
 *
 * jansson reports positions only for syntax errors, but a session file's
 * semantic errors must name file:line:column too. After jansson has accepted
 * the text, ck_jpos_scan walks it once more and records, for every value, its
 * path ("platform.base_url", "questions[1].at"; "" is the root) with the
 * line and column of the value's first character and of its key. Lines and
 * columns count from 1; columns count characters, as jansson's do. */
#ifndef CHATKEEPER_CONFIG_POS_H
#define CHATKEEPER_CONFIG_POS_H

#include <stddef.h>

struct ck_jpos_entry {
    char *path;            /* owned */
    int line, col;         /* the value's first character */
    int key_line, key_col; /* the key's opening quote; equal to line/col for array items */
};

struct ck_jpos {
    struct ck_jpos_entry *v;
    size_t n, cap;
};

/* Scan text (which jansson has already accepted). Returns 0 or CK_ENOMEM;
 * on error out is finished. A text it cannot follow just yields fewer entries. */
int ck_jpos_scan(const char *text, size_t len, struct ck_jpos *out);

/* The entry for path, or NULL. Borrowed from p. */
const struct ck_jpos_entry *ck_jpos_find(const struct ck_jpos *p, const char *path);

void ck_jpos_finish(struct ck_jpos *p);

#endif
