/* A recorded payload of tests/fixtures (the directory meson passes in
 * CK_FIXTURES) read whole for a platform test. Include after <cmocka.h>. */
#ifndef CK_TEST_PLATFORMS_FIXTURE_H
#define CK_TEST_PLATFORMS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

/* tests/fixtures/SUB/NAME: malloc'ed and NUL-terminated, its size in *len
 * (len may be NULL); the test fails naming the path if it cannot be read. */
static inline char *fixture_read(const char *sub, const char *name, size_t *len)
{
    const char *dir = getenv("CK_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - 1 - n, f)) > 0) {
        n += got;
        if (n == cap - 1) {
            char *more = realloc(buf, cap *= 2);
            assert_non_null(more);
            buf = more;
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

#endif
