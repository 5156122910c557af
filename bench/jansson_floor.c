/* The floor for `chatkeeper archive`: parse every line of a journal with
 * jansson and nothing else (no normalising, no output), reading the file in
 * large blocks so I/O costs as little as it can. bench/archive.py times this
 * against the archive on the same journal.
 *
 * --arena builds each line's tree in the one reused block the archive's
 * journal pass uses (jarena.h) instead of with malloc: the floor for jansson
 * as the archive runs it, so the archive's own work can be told from the
 * allocator's share.
 * usage: jansson_floor [--arena] JOURNAL   prints "lines N corrupt N" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/jarena.h"

int main(int argc, char **argv)
{
    int arena = argc == 3 && strcmp(argv[1], "--arena") == 0;
    if (argc != 2 + arena) {
        fprintf(stderr, "usage: jansson_floor [--arena] JOURNAL\n");
        return 2;
    }
    const char *path = argv[1 + arena];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    if (arena && ck_jarena_begin(1 << 20) != 0)
        return 1;
    size_t cap = 1 << 20, len = 0, lines = 0, corrupt = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return 1;
    for (;;) {
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        int eof = r == 0;
        size_t start = 0;
        char *nl;
        while ((nl = memchr(buf + start, '\n', len - start)) != NULL) {
            size_t n = (size_t)(nl - (buf + start));
            if (n > 0) {
                json_error_t je;
                json_t *v = json_loadb(buf + start, n, 0, &je);
                lines++;
                if (v == NULL)
                    corrupt++;
                json_decref(v);
                if (arena)
                    ck_jarena_reset();
            }
            start += n + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (eof)
            break;
        if (len == cap) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL)
                return 1;
            buf = grown;
            cap *= 2;
        }
    }
    if (arena)
        ck_jarena_end();
    free(buf);
    fclose(f);
    printf("lines %zu corrupt %zu\n", lines, corrupt);
    return 0;
}
