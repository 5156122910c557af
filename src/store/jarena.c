/* See jarena.h. */
#include "chatkeeper/jarena.h"

#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "chatkeeper/error.h"

static struct {
    char *p;
    size_t len, cap;
    json_malloc_t old_malloc;
    json_free_t old_free;
} a;

static void *arena_malloc(size_t n)
{
    n = (n + 15) & ~(size_t)15; /* malloc's alignment */
    if (n != 0 && n <= a.cap - a.len) {
        void *p = a.p + a.len;
        a.len += n;
        return p;
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    /* Block memory comes back with the reset; anything else is malloc's. */
    if ((uintptr_t)p - (uintptr_t)a.p < a.cap)
        return;
    free(p);
}

int ck_jarena_begin(size_t cap)
{
    a.p = malloc(cap);
    if (a.p == NULL)
        return CK_ENOMEM;
    a.len = 0;
    a.cap = cap;
    json_get_alloc_funcs(&a.old_malloc, &a.old_free);
    json_set_alloc_funcs(arena_malloc, arena_free);
    return 0;
}

void ck_jarena_reset(void)
{
    a.len = 0;
}

void ck_jarena_end(void)
{
    if (a.p == NULL)
        return;
    json_set_alloc_funcs(a.old_malloc, a.old_free);
    free(a.p);
    a.p = NULL;
    a.len = a.cap = 0;
}
