/* The floor for `chatkeeper archive`: parse every line of a journal with
 * jansson and nothing else (no normalising, no output), reading the file in
 * large blocks so I/O costs as little as it can. bench/archive.py times this
 * against the archive on the same journal.
 * usage: jansson_floor JOURNAL   prints "lines N corrupt N" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: jansson_floor JOURNAL\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
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
    free(buf);
    fclose(f);
    printf("lines %zu corrupt %zu\n", lines, corrupt);
    return 0;
}
