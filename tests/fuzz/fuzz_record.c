/* Binary records and messages.jsonl lines: damaged bytes are refused, never
 * read past; what decodes encodes to the same record; a line read and written
 * again gives the same bytes the second time. */
#include <string.h>

#include "chatkeeper/record.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_record r, back;
    size_t used = 0;
    /* Raw bytes as a binary record. */
    if (ck_record_decode((const char *)data, size, &r, &used) == 0) {
        FUZZ_CHECK(used <= size, "used %zu of %zu", used, size);
        struct ck_sbuf a = {0}, b = {0};
        ck_record_write_json(&r, true, &a);
        struct ck_sbuf enc = {0};
        ck_record_encode(&r, &enc);
        FUZZ_CHECK(!enc.oom && ck_record_decode(enc.s, enc.len, &back, &used) == 0,
                   "re-encoded record does not decode");
        ck_record_write_json(&back, true, &b);
        FUZZ_CHECK(a.len == b.len && memcmp(a.s, b.s, a.len) == 0, "round trip differs");
        free(a.s);
        free(b.s);
        free(enc.s);
    }
    /* The same bytes as a messages.jsonl line. */
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, 0, &je);
    if (j != NULL && ck_record_from_json(j, &r) == 0) {
        struct ck_sbuf a = {0}, b = {0};
        ck_record_write_json(&r, true, &a);
        json_t *again = json_loads(a.s, 0, &je);
        FUZZ_CHECK(again != NULL, "written line is not JSON: %s", je.text);
        FUZZ_CHECK(ck_record_from_json(again, &back) == 0, "written line is not a record");
        ck_record_write_json(&back, true, &b);
        FUZZ_CHECK(a.len == b.len && memcmp(a.s, b.s, a.len) == 0, "second write differs");
        json_decref(again);
        free(a.s);
        free(b.s);
    }
    json_decref(j);
    return 0;
}
