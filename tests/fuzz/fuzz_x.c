/* X: a tweet object (twarc v1) or a page's data (twarc2 / API v2) normalises
 * or is refused; what normalises has an id and UTF-8 text. */
#include <string.h>

#include "chatkeeper/platform.h"
#include "fuzz.h"

static void one(const json_t *raw)
{
    struct ck_message m;
    memset(&m, 0, sizeof m);
    struct ck_error err = {0};
    if (ck_platform_x.normalise(raw, &m, &err) == 0) {
        FUZZ_CHECK(m.id != NULL && m.id[0] != '\0', "normalised without an id");
        FUZZ_CHECK(m.text == NULL || fuzz_utf8_ok(m.text, strlen(m.text)), "text not UTF-8");
        FUZZ_CHECK(m.author.name == NULL || fuzz_utf8_ok(m.author.name, strlen(m.author.name)),
                   "author name not UTF-8");
    }
    ck_message_finish(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
    if (j == NULL)
        return 0;
    one(j);
    const json_t *list = json_object_get(j, "data");
    for (size_t i = 0; i < json_array_size(list); i++)
        one(json_array_get(list, i));
    json_decref(j);
    return 0;
}
