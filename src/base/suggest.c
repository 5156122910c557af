/* "Did you mean": edit distance over a handful of names (see suggest.h). */
#include "chatkeeper/suggest.h"

#include <string.h>

size_t ck_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *ck_suggest(const char *word, const char *const *names, size_t n)
{
    size_t best = 0, bestd = 64, len = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = ck_edit_distance(word, names[i]);
        if (d < bestd) {
            bestd = d;
            best = i;
        }
    }
    if (n > 0 && bestd <= (len > 6 ? 3u : 2u))
        return names[best];
    /* "--dry" for "--dry-run": a prefix of exactly one name. */
    const char *only = NULL;
    for (size_t i = 0; i < n && len > 0; i++) {
        if (strncmp(word, names[i], len) == 0) {
            if (only != NULL)
                return NULL;
            only = names[i];
        }
    }
    return only;
}
