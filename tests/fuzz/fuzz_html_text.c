/* HTML to text: the fast path and libxml2 give the same text for any input
 * (or the fast path leaves it to libxml2), and the text is valid UTF-8. */
#include <string.h>

#include "chatkeeper/text.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *fast = ck_html_to_text((const char *)data, size);
    char *ref = ck_html_to_text_libxml2((const char *)data, size);
    FUZZ_CHECK(fast != NULL && ref != NULL, "no text");
    FUZZ_CHECK(strcmp(fast, ref) == 0, "fast path \"%s\" != libxml2 \"%s\"", fast, ref);
    FUZZ_CHECK(fuzz_utf8_ok(fast, strlen(fast)), "not UTF-8");
    free(fast);
    free(ref);
    return 0;
}
