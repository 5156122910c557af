/* Mastodon 4.4 quote posts (issue 14, rule 6), from statuses in the shape
 * the API docs give (entities/Quote, entities/ShallowQuote): an accepted
 * quote names the quoted post and trades its "RE: URL" fallback paragraph
 * for a quote line; any other state leaves the post as it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/platform.h"

static const struct ck_platform_ops *M = &ck_platform_mastodon;

static json_t *statuses(void)
{
    const char *dir = getenv("CK_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/mastodon/quote-statuses.json", dir);
    json_t *j = json_load_file(path, 0, NULL);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 3);
    return j;
}

static void normalise(const json_t *raw, struct ck_message *m)
{
    struct ck_error err = {0};
    if (M->normalise(raw, m, &err) != 0)
        fail_msg("%s", err.msg);
}

static void test_accepted_with_quoted_status(void **state)
{
    (void)state;
    json_t *all = statuses();
    struct ck_message m;
    normalise(json_array_get(all, 0), &m);
    json_decref(all); /* the message owns its strings */
    assert_string_equal(m.quote_of, "114900000000000042");
    assert_string_equal(m.text, "A1 this, exactly #testchat\n"
                                "[quote: @bob@other.example] https://other.example/@bob/5522");
    ck_message_finish(&m);
}

static void test_accepted_shallow(void **state)
{
    (void)state;
    json_t *all = statuses();
    struct ck_message m;
    normalise(json_array_get(all, 1), &m);
    json_decref(all);
    assert_string_equal(m.quote_of, "114900000000000101");
    /* no quoted status to name its author: the fallback's link */
    assert_string_equal(m.text, "Quoting Ann, shallowly #testchat\n"
                                "[quote] https://mastodon.example/@ann/114900000000000101");
    ck_message_finish(&m);
}

static void test_other_states_keep_the_text(void **state)
{
    (void)state;
    json_t *all = statuses();
    struct ck_message m;
    normalise(json_array_get(all, 2), &m); /* revoked */
    assert_null(m.quote_of);
    assert_non_null(strstr(m.text, "RE: https://other.example/@bob/5522"));
    assert_null(strstr(m.text, "[quote"));
    ck_message_finish(&m);
    static const char *const states[] = {"pending", "rejected", "deleted", "unauthorized"};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
        json_t *s = json_deep_copy(json_array_get(all, 0));
        json_object_set_new(json_object_get(s, "quote"), "state", json_string(states[i]));
        normalise(s, &m);
        json_decref(s);
        assert_null(m.quote_of);
        assert_non_null(strstr(m.text, "RE: "));
        ck_message_finish(&m);
    }
    json_decref(all);
}

static void test_bad_quote_is_an_error(void **state)
{
    (void)state;
    json_t *all = statuses();
    static const char *const bad[] = {"3", "{\"state\": 1}",
                                      "{\"state\": \"accepted\", \"quoted_status\": []}",
                                      "{\"state\": \"accepted\", \"quoted_status\": {}}",
                                      "{\"state\": \"accepted\", \"quoted_status_id\": 5}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *s = json_deep_copy(json_array_get(all, 1));
        json_object_set_new(s, "quote", json_loads(bad[i], JSON_DECODE_ANY, NULL));
        struct ck_message m;
        struct ck_error err = {0};
        int rc = M->normalise(s, &m, &err);
        json_decref(s);
        if (rc != CK_EPARSE)
            fail_msg("accepted quote %s", bad[i]);
        assert_non_null(strstr(err.msg, "quote"));
    }
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_with_quoted_status),
        cmocka_unit_test(test_accepted_shallow),
        cmocka_unit_test(test_other_states_keep_the_text),
        cmocka_unit_test(test_bad_quote_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
