/* See jsonerr.h. The watch wraps whatever allocator jansson has at the time
 * (malloc, or the journal's arena), for the length of one load. */
#include "chatkeeper/jsonerr.h"

static json_malloc_t outer_malloc;
static bool failed;

static void *watch_malloc(size_t n)
{
    void *p = outer_malloc(n);
    if (p == NULL)
        failed = true;
    return p;
}

static void watch(json_malloc_t *m, json_free_t *f)
{
    json_get_alloc_funcs(m, f);
    outer_malloc = *m;
    failed = false;
    json_set_alloc_funcs(watch_malloc, *f);
}

static json_t *unwatch(json_t *j, json_malloc_t m, json_free_t f, const json_error_t *e, bool *oom)
{
    json_set_alloc_funcs(m, f);
    *oom = j == NULL && (failed || json_error_code(e) == json_error_out_of_memory);
    return j;
}

json_t *ck_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e, bool *oom)
{
    json_malloc_t m;
    json_free_t f;
    watch(&m, &f);
    return unwatch(json_loadb(buf, len, flags, e), m, f, e, oom);
}

json_t *ck_json_loadf(FILE *fp, size_t flags, json_error_t *e, bool *oom)
{
    json_malloc_t m;
    json_free_t f;
    watch(&m, &f);
    return unwatch(json_loadf(fp, flags, e), m, f, e, oom);
}
