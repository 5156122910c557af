/* Session files: any bytes give a session or an error with a readable
 * message (valid UTF-8, never cut in half of a character), never a crash. */
#include <string.h>

#include "chatkeeper/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_session s;
    memset(&s, 0, sizeof s);
    struct ck_error err = {0};
    int rc = ck_session_load_buffer("fuzz.json", (const char *)data, size, &s, &err);
    if (rc != 0) {
        FUZZ_CHECK(err.code != 0 && err.msg[0] != '\0', "error %d without a message", rc);
        FUZZ_CHECK(fuzz_utf8_ok(err.msg, strlen(err.msg)), "message is not UTF-8: %s", err.msg);
    }
    ck_session_finish(&s);
    return 0;
}
