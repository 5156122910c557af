/* String set with linear probing; grows at 50% load so probes stay short. */
#include "chatkeeper/strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/error.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void ck_strset_init(struct ck_strset *s)
{
    s->slots = NULL;
    s->cap = 0;
    s->n = 0;
}

void ck_strset_finish(struct ck_strset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    ck_strset_init(s);
}

static size_t find(char *const *slots, size_t cap, const char *key)
{
    size_t i = (size_t)hash(key) & (cap - 1);
    while (slots[i] != NULL && strcmp(slots[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(struct ck_strset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    char **slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return CK_ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i] != NULL)
            slots[find(slots, cap, s->slots[i])] = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int ck_strset_has(const struct ck_strset *s, const char *key)
{
    if (s->cap == 0)
        return 0;
    return s->slots[find(s->slots, s->cap, key)] != NULL;
}

int ck_strset_add(struct ck_strset *s, const char *key)
{
    if ((s->n + 1) * 2 > s->cap && grow(s) != 0)
        return CK_ENOMEM;
    size_t i = find(s->slots, s->cap, key);
    if (s->slots[i] != NULL)
        return 0;
    char *copy = strdup(key);
    if (copy == NULL)
        return CK_ENOMEM;
    s->slots[i] = copy;
    s->n++;
    return 1;
}
