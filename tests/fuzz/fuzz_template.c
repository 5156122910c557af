/* The write-up template: any template renders or fails with a line number,
 * never a crash or a runaway (sections nest, names are looked up). */
#include <string.h>

#include "chatkeeper/template.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *d = json_loads("{\"title\":\"<b>T</b>\",\"n\":3,\"yes\":true,\"no\":false,"
                           "\"list\":[{\"text\":\"a & b\",\"n\":1},{\"text\":\"*c*\",\"n\":2}],"
                           "\"obj\":{\"k\":\"v\"}}",
                           0, &je);
    if (d == NULL)
        return 0;
    struct ck_sink out;
    ck_sink_init_mem(&out);
    struct ck_error err = {0};
    int rc = ck_template_render("fuzz.tmpl", (const char *)data, size, d, &out, &err);
    if (rc != 0 && rc != CK_ENOMEM)
        FUZZ_CHECK(err.msg[0] != '\0', "error %d without a message", rc);
    ck_sink_abort(&out);
    json_decref(d);
    return 0;
}
