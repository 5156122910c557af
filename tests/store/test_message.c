/* messages.jsonl records: fixed key order, formats, and the archive order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/message.h"

static char *dump(const struct ck_message *m)
{
    json_t *j = ck_message_to_json(m);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(s);
    return s;
}

static void test_json_full(void **state)
{
    struct ck_message m = {
        .id = "117",
        .platform = "mastodon",
        .url = "https://glammr.us/@bob/117",
        .created_ms = 1764792015250, /* 2025-12-03T20:00:15.250Z */
        .author = {.id = "7",
                   .handle = "@bob@glammr.us",
                   .name = "Bob \xC3\x89",
                   .url = "https://glammr.us/@bob"},
        .text = "A1 \"quoted\"\nline",
        .reply_to = "116",
        .boost_of = NULL,
        .edited_at = "2025-12-03T20:01:00.000Z",
        .replies = 1,
        .boosts = 2,
        .likes = 3,
    };
    char *s = dump(&m);
    assert_string_equal(
        s, "{\"id\":\"117\",\"platform\":\"mastodon\",\"url\":\"https://glammr.us/@bob/117\","
           "\"created_at\":\"2025-12-03T20:00:15.250Z\",\"author\":{\"id\":\"7\","
           "\"handle\":\"@bob@glammr.us\",\"name\":\"Bob "
           "\xC3\x89\",\"url\":\"https://glammr.us/@bob\"},"
           "\"text\":\"A1 \\\"quoted\\\"\\nline\",\"reply_to\":\"116\",\"boost_of\":null,"
           "\"edited_at\":\"2025-12-03T20:01:00.000Z\",\"counts\":{\"replies\":1,\"boosts\":2,"
           "\"likes\":3}}");
    free(s);
}

static void test_json_nulls(void **state)
{
    struct ck_message m = {.id = "1",
                           .platform = "mastodon",
                           .created_ms = 0,
                           .author = {.id = "2", .handle = "@a@b"}};
    char *s = dump(&m);
    assert_string_equal(
        s, "{\"id\":\"1\",\"platform\":\"mastodon\",\"url\":null,\"created_at\":\"1970-01-01T00:00:"
           "00.000Z\","
           "\"author\":{\"id\":\"2\",\"handle\":\"@a@b\",\"name\":\"\",\"url\":null},\"text\":\"\","
           "\"reply_to\":null,\"boost_of\":null,\"edited_at\":null,"
           "\"counts\":{\"replies\":0,\"boosts\":0,\"likes\":0}}");
    free(s);
}

static void test_cmp(void **state)
{
    struct ck_message a = {.id = "100", .platform = "mastodon", .created_ms = 1000};
    struct ck_message b = {.id = "99", .platform = "mastodon", .created_ms = 1000};
    struct ck_message c = {.id = "1", .platform = "mastodon", .created_ms = 2000};
    struct ck_message d = {.id = "100", .platform = "bluesky", .created_ms = 1000};
    assert_true(ck_message_cmp(&b, &a) < 0); /* same time: shorter id first */
    assert_true(ck_message_cmp(&a, &b) > 0);
    assert_true(ck_message_cmp(&a, &c) < 0); /* time before id */
    assert_true(ck_message_cmp(&d, &a) < 0); /* total order across platforms */
    assert_int_equal(ck_message_cmp(&a, &a), 0);
}

static void test_finish(void **state)
{
    struct ck_message m = {0};
    m.id = strdup("x");
    m.text = strdup("y");
    m.author.handle = strdup("@z@w");
    ck_message_finish(&m);
    assert_null(m.id);
    assert_null(m.author.handle);
    ck_message_finish(&m); /* twice is harmless */
    ck_message_finish(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_full),
        cmocka_unit_test(test_json_nulls),
        cmocka_unit_test(test_cmp),
        cmocka_unit_test(test_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
