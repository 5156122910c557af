/* The state grouping works on, shared by group.c (the passes),
 * group_spam.c and group_overrides.c; private to src/group. */
#ifndef CHATKEEPER_GROUP_CTX_H
#define CHATKEEPER_GROUP_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/group.h"

enum { ST_OPEN = 0, ST_DONE = 1, ST_STACK = 2 };

struct qinfo {
    bool exists;   /* in the run sheet, or posted by a facilitator */
    bool known;    /* at is meaningful */
    bool posted;   /* a question post was found */
    int k;         /* index in the run sheet, -1 when not there */
    int64_t at;    /* when it was asked */
    int64_t sched; /* when the run sheet meant to ask it, 0 when unknown */
};

struct ctx {
    const struct ck_group_conf *c;
    struct ck_group_msg *m;
    size_t n;
    size_t cap;   /* hash slots, a power of two */
    size_t *slot; /* message index + 1, 0 empty */
    bool dup_ids; /* some id is on two messages (two platforms' posts) */
    uint8_t *st;
    struct qinfo q[CK_GROUP_MAX_NUMBER + 1];
    uint8_t order[CK_GROUP_MAX_NUMBER]; /* known question numbers by time */
    size_t n_order;
    struct ck_group_scanner *scanner;
};

/* FNV-1a of s. */
uint64_t ck_group__hash_str(const char *s);
/* Index of the message with this id (NULL: none), or SIZE_MAX. */
size_t ck_group__find_id(const struct ctx *x, const char *id);
/* "@Ann" matches "@ann@example.org" (see group.c). */
bool ck_group__same_handle(const char *a, const char *b);
bool ck_group__is_facilitator(const struct ck_group_conf *c, const char *author);

/* group_spam.c: mark spam (CK_BY_SPAM, done) among the open messages.
 * Returns 0 or CK_ENOMEM. */
int ck_group__mark_spam(struct ctx *x);

/* group_overrides.c: overrides.json's shape (0, or CK_EINVAL naming the
 * field), and applying it (moves, hide, opt_out). */
int ck_group__check_overrides(const json_t *ov, struct ck_error *err);
void ck_group__apply_overrides(struct ctx *x, const json_t *ov);

#endif
