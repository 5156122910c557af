/* A set of strings (open addressing, FNV-1a), for dedupe on opaque ids. */
#ifndef CHATKEEPER_STRSET_H
#define CHATKEEPER_STRSET_H

#include <stddef.h>

struct ck_strset {
    char **slots; /* owned copies, NULL for empty */
    size_t cap;   /* power of two */
    size_t n;
};

void ck_strset_init(struct ck_strset *s);
void ck_strset_finish(struct ck_strset *s);

/* Add a copy of key. Returns 1 if added, 0 if already present, CK_ENOMEM. */
int ck_strset_add(struct ck_strset *s, const char *key);
int ck_strset_has(const struct ck_strset *s, const char *key);

#endif
