/* ck_import_classify: the shape of an object names the tool that wrote it.
 * Real records from tests/fixtures (a recorded Mastodon page, twarc2 lines
 * from DocNow's test data, v1.1 tweets in twarc 1's shape) and the edge
 * cases: journal lines, Bluesky, objects of no known shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/import.h"

/* The first line of a fixture file (one JSON value per line, or one value). */
static json_t *first_value(const char *name)
{
    const char *dir = getenv("CK_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t jerr;
    json_t *v = json_load_file(path, JSON_DISABLE_EOF_CHECK, &jerr);
    if (v == NULL)
        fail_msg("%s: %s", path, jerr.text);
    return v;
}

static enum ck_import_kind kind_of(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fail_msg("%s: %s", text, jerr.text);
    enum ck_import_kind k = ck_import_classify(v);
    json_decref(v);
    return k;
}

static void real_files(void **state)
{
    static const struct {
        const char *file;
        enum ck_import_kind kind;
    } cases[] = {
        {"import/twarc1.jsonl", CK_IMPORT_TWARC1},
        {"x/v1-retweet.json", CK_IMPORT_TWARC1},
        {"import/twarc2-page.jsonl", CK_IMPORT_TWARC2},
        {"import/twarc2-stream.jsonl", CK_IMPORT_TWARC2},
        {"x/v2-tweet.json", CK_IMPORT_TWARC2},
        {"mastodon/boost-status.json", CK_IMPORT_MASTODON},
        {"mastodon/post-status.response.json", CK_IMPORT_MASTODON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = first_value(cases[i].file);
        if (ck_import_classify(v) != cases[i].kind)
            fail_msg("%s: kind %d, expected %d", cases[i].file, ck_import_classify(v),
                     cases[i].kind);
        json_decref(v);
    }
    /* A saved timeline page is an array: its caller classifies each status. */
    json_t *page = first_value("mastodon/tag-timeline.response.json");
    assert_int_equal(ck_import_classify(page), CK_IMPORT_UNKNOWN);
    assert_int_equal(ck_import_classify(json_array_get(page, 0)), CK_IMPORT_MASTODON);
    json_decref(page);
}

static void edge_cases(void **state)
{
    /* chatkeeper's journal: the object inside decides. */
    assert_int_equal(
        kind_of("{\"fetched_at\":\"2026-12-03T20:05:01.123Z\",\"platform\":\"mastodon\","
                "\"source\":\"timeline\",\"object\":{\"id\":\"1\",\"account\":{}}}"),
        CK_IMPORT_MASTODON);
    assert_int_equal(kind_of("{\"fetched_at\":\"2015-03-11T02:38:57.000Z\",\"platform\":\"x\","
                             "\"source\":\"import\",\"object\":{\"id_str\":\"5\"}}"),
                     CK_IMPORT_TWARC1);
    /* A v2 page with one tweet (the filtered stream), and a flattened tweet. */
    assert_int_equal(kind_of("{\"data\":{\"id\":\"1\",\"text\":\"t\"},\"matching_rules\":[]}"),
                     CK_IMPORT_TWARC2);
    assert_int_equal(kind_of("{\"id\":\"1\",\"text\":\"t\",\"author_id\":\"9\"}"),
                     CK_IMPORT_TWARC2);
    /* Bluesky: a post view and a feed item. */
    assert_int_equal(kind_of("{\"uri\":\"at://did:plc:abc/app.bsky.feed.post/3k\",\"record\":{}}"),
                     CK_IMPORT_BLUESKY);
    assert_int_equal(kind_of("{\"post\":{\"uri\":\"at://did:plc:abc/app.bsky.feed.post/3k\"}}"),
                     CK_IMPORT_BLUESKY);
    /* Nothing known: an API error, a bare id, a string, a Mastodon status
     * whose account is not an object. */
    assert_int_equal(kind_of("{\"errors\":[{\"title\":\"Not Found Error\"}]}"), CK_IMPORT_UNKNOWN);
    assert_int_equal(kind_of("{\"id\":\"1\"}"), CK_IMPORT_UNKNOWN);
    assert_int_equal(kind_of("\"tweet\""), CK_IMPORT_UNKNOWN);
    assert_int_equal(kind_of("{\"id\":\"1\",\"account\":\"me\"}"), CK_IMPORT_UNKNOWN);
    assert_null(ck_import_kind_format(CK_IMPORT_UNKNOWN));
    assert_string_equal(ck_import_kind_format(CK_IMPORT_BLUESKY), "bluesky");
    assert_string_equal(ck_import_kind_format(CK_IMPORT_TWARC2), "twarc");
    assert_string_equal(ck_import_kind_format(CK_IMPORT_MASTODON), "mastodon");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_files),
        cmocka_unit_test(edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
