/* Link headers and URLs from servers: parsed or not, never read past. Input:
 * the header, a newline, a URL. */
#include <string.h>

#include "chatkeeper/platform.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *nl = strchr(s, '\n');
    const char *url = "";
    if (nl != NULL) {
        *nl = '\0';
        url = nl + 1;
    }
    static const char *const rels[] = {"next", "prev"};
    for (size_t i = 0; i < 2; i++) {
        char *u = ck_link_find(s, rels[i]);
        if (u != NULL) {
            char *p = ck_url_query_param(u, "max_id");
            free(p);
        }
        free(u);
    }
    char *p = ck_url_query_param(url, "min_id");
    if (p != NULL)
        FUZZ_CHECK(strlen(p) <= strlen(url), "decoded value longer than the URL");
    free(p);
    free(s);
    return 0;
}
