/* The Mastodon platform from recorded payloads: requests, timeline pages,
 * Status normalisation, and every malformed input we can think of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/platform.h"
#include "chatkeeper/timeutil.h"

#include "fixture.h"

static const struct ck_platform_ops *M = &ck_platform_mastodon;

static char *read_fixture(const char *name, size_t *len)
{
    return fixture_read("mastodon", name, len);
}

static json_t *load_fixture(const char *name)
{
    char *text = read_fixture(name, NULL);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

static void request_free(struct ck_request *r)
{
    free(r->url);
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->headers[i]);
    free(r->body);
}

/* ---- requests ---- */

static void test_request_basic(void **state)
{
    struct ck_request r;
    assert_int_equal(M->timeline_request("https://glammr.us", NULL, "uklibchat", NULL, &r, NULL),
                     0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "https://glammr.us/api/v1/timelines/tag/uklibchat?limit=40");
    assert_int_equal(r.n_headers, 1); /* no Authorization without a token */
    assert_string_equal(r.headers[0], "Accept: application/json");
    assert_null(r.body);
    request_free(&r);

    struct ck_timeline_query q = {.after = "1170", .before = "9&x=1", .limit = 100};
    assert_int_equal(
        M->timeline_request("https://glammr.us/", "s3cret", "#caf\xC3\xA9 chat", &q, &r, NULL), 0);
    assert_string_equal(r.url, "https://glammr.us/api/v1/timelines/tag/caf%C3%A9%20chat"
                               "?limit=40&min_id=1170&max_id=9%26x%3D1");
    assert_int_equal(r.n_headers, 2);
    assert_string_equal(r.headers[1], "Authorization: Bearer s3cret");
    request_free(&r);

    /* Time bounds are for cursor-paged platforms; Mastodon pages by id. */
    q = (struct ck_timeline_query){.since_ms = 5000, .limit = 10};
    assert_int_equal(M->timeline_request("http://127.0.0.1:8080", NULL, "t", &q, &r, NULL), 0);
    assert_string_equal(r.url, "http://127.0.0.1:8080/api/v1/timelines/tag/t?limit=10");
    request_free(&r);
}

static void test_request_errors(void **state)
{
    struct ck_request r;
    struct ck_error err = {0};
    assert_int_equal(M->timeline_request("https://x", "tok\r\nX-Evil: 1", "t", NULL, &r, &err),
                     CK_EINVAL);
    assert_null(r.url);
    assert_int_equal(M->timeline_request("https://x", NULL, "#", NULL, &r, NULL), CK_EINVAL);
    assert_int_equal(M->timeline_request(NULL, NULL, "t", NULL, &r, NULL), CK_EINVAL);
}

/* ---- timeline pages ---- */

static void test_parse_recorded(void **state)
{
    size_t len;
    char *body = read_fixture("tag-timeline.response.json", &len);
    struct ck_header hdrs[] = {
        {"content-type", "application/json; charset=utf-8"},
        {"link", "<http://localhost:3000/api/v1/timelines/tag/hoot?max_id=117020593741189701>; "
                 "rel=\"next\", <http://localhost:3000/api/v1/timelines/tag/hoot?min_id="
                 "117020593741189701>; rel=\"prev\""},
    };
    struct ck_response resp = {
        .status = 200, .body = body, .body_len = len, .headers = hdrs, .n_headers = 2};
    struct ck_page page;
    assert_int_equal(M->parse_timeline(&resp, &page, NULL), 0);
    assert_int_equal(json_array_size(page.items), 1);
    assert_string_equal(M->item_id(json_array_get(page.items, 0)), "117020593741189701");
    assert_string_equal(M->item_version(json_array_get(page.items, 0)), "2026-08-01T13:55:55.867Z");
    assert_string_equal(page.older, "117020593741189701");
    assert_string_equal(page.newer, "117020593741189701");
    ck_page_finish(&page);
    assert_null(page.items);

    /* An empty page and no Link header: no cursors. */
    resp = (struct ck_response){.status = 200, .body = "[]", .body_len = 2};
    assert_int_equal(M->parse_timeline(&resp, &page, NULL), 0);
    assert_int_equal(json_array_size(page.items), 0);
    assert_null(page.older);
    assert_null(page.newer);
    ck_page_finish(&page);
    free(body);
}

static void expect_bad_page(const char *body, size_t len, long status, int want)
{
    struct ck_response resp = {.status = status, .body = (char *)body, .body_len = len};
    struct ck_page page;
    struct ck_error err = {0};
    assert_int_equal(M->parse_timeline(&resp, &page, &err), want);
    assert_int_equal(err.code, want);
    assert_true(strlen(err.msg) > 0);
    assert_null(page.items);
}

static void test_parse_malformed(void **state)
{
    const char *cases[] = {
        "not json",
        "{\"error\":\"Record not found\"}",
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>",
        "",
        "[{\"id\":\"1\"}, {\"id\":\"2\"", /* truncated: the older items are missing */
        "[{\"id\":\"1\"}] trailing",
        "\"\xff\"",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad_page(cases[i], strlen(cases[i]), 200, CK_EPARSE);
    size_t len;
    char *body = read_fixture("tag-timeline.response.json", &len);
    expect_bad_page(body, len / 2, 200, CK_EPARSE); /* truncated */
    expect_bad_page(body, len, 500, CK_EHTTP);
    free(body);
    struct ck_response none = {.status = 200};
    struct ck_page page;
    assert_int_equal(M->parse_timeline(&none, &page, NULL), CK_EPARSE);
}

/* ---- one bad status never costs its page ---- */

/* A page of three statuses around a middle one written as mid (a JSON object
 * text, spliced in as bytes). */
static char *page_around(const char *mid)
{
    static const char head[] =
        "[{\"id\":\"103\",\"created_at\":\"2026-12-03T20:03:00.000Z\",\"content\":\"<p>three</p>\","
        "\"account\":{\"id\":\"9\",\"acct\":\"a@b.c\"}},";
    static const char tail[] =
        ",{\"id\":\"101\",\"created_at\":\"2026-12-03T20:01:00.000Z\",\"content\":\"<p>one</p>\","
        "\"account\":{\"id\":\"9\",\"acct\":\"a@b.c\"}}]";
    size_t n = strlen(head) + strlen(mid) + strlen(tail) + 1;
    char *buf = malloc(n);
    assert_non_null(buf);
    strcpy(buf, head);
    strcat(buf, mid);
    strcat(buf, tail);
    return buf;
}

static void parse_page(const char *body, struct ck_page *page)
{
    struct ck_response resp = {.status = 200, .body = (char *)body, .body_len = strlen(body)};
    struct ck_error err = {0};
    int rc = M->parse_timeline(&resp, page, &err);
    if (rc != 0)
        fail_msg("%s: %s", body, err.msg);
}

static const char *text_of(const json_t *item)
{
    return json_string_value(json_object_get(item, "content"));
}

#define STATUS_102(content)                                                                        \
    "{\"id\":\"102\",\"created_at\":\"2026-12-03T20:02:00.000Z\",\"content\":\"" content "\","     \
    "\"account\":{\"id\":\"9\",\"acct\":\"a@b.c\"}}"

static void test_parse_repairs_bad_bytes(void **state)
{
    static const struct {
        const char *mid, *want; /* the middle status's content after repair */
    } cases[] = {
        {STATUS_102("cut \xF0\x9F emoji"), "cut \xEF\xBF\xBD emoji"}, /* truncated UTF-8 */
        {STATUS_102("bad \xFF\xFE bytes"), "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes"},
        {STATUS_102("over \xC0\xAF long"), "over \xEF\xBF\xBD\xEF\xBF\xBD long"},
        {STATUS_102("surrogate \xED\xA0\xBD utf8"),
         "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD utf8"},
        {STATUS_102("nul \\u0000 here"), "nul \xEF\xBF\xBD here"},
        {STATUS_102("js cut \\ud83d"), "js cut \xEF\xBF\xBD"}, /* lone high */
        {STATUS_102("js cut \\ud83d and more"), "js cut \xEF\xBF\xBD and more"},
        {STATUS_102("low \\udc00 alone"), "low \xEF\xBF\xBD alone"},
        {STATUS_102("high twice \\ud83d\\ud83d\\ude00"), "high twice \xEF\xBF\xBD\xF0\x9F\x98\x80"},
        {STATUS_102("bad escape \\x41"), "bad escape \xEF\xBF\xBDx41"},
        {STATUS_102("raw\ttab"), "raw\ttab"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = page_around(cases[i].mid);
        struct ck_page page;
        parse_page(body, &page);
        assert_int_equal(json_array_size(page.items), 3);
        assert_true(page.repairs > 0);
        assert_int_equal(page.skipped, 0);
        assert_non_null(page.repaired);
        /* Only the middle item is marked: its journal line says it was repaired. */
        assert_int_equal(page.repaired[0], 0);
        assert_int_equal(page.repaired[1], 1);
        assert_int_equal(page.repaired[2], 0);
        assert_string_equal(M->item_id(json_array_get(page.items, 1)), "102");
        if (strcmp(text_of(json_array_get(page.items, 1)), cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\"", i, text_of(json_array_get(page.items, 1)));
        assert_string_equal(text_of(json_array_get(page.items, 0)), "<p>three</p>");
        /* And it normalises, so it is journaled and shown. */
        struct ck_message m;
        assert_int_equal(M->normalise(json_array_get(page.items, 1), &m, NULL), 0);
        ck_message_finish(&m);
        ck_page_finish(&page);
        free(body);
    }
    /* A clean page is parsed as it came: nothing marked. */
    char *body = page_around(STATUS_102("caf\xC3\xA9 \\ud83d\\ude00 \\u00e9"));
    struct ck_page page;
    parse_page(body, &page);
    assert_int_equal(json_array_size(page.items), 3);
    assert_int_equal(page.repairs, 0);
    assert_null(page.repaired);
    ck_page_finish(&page);
    free(body);
}

static void test_parse_skips_bad_items(void **state)
{
    static const char *const mids[] = {
        "{\"content\":\"no id\"}",
        "{\"id\":117020593741189702}",
        "{\"id\":\"\"}",
        "\"117020593741189702\"",
        "null",
        "{\"id\":\"102\",\"content\":tru}", /* broken syntax inside one item */
        "{\"id\":\"102\",\"content\":\"x\" \"y\"}",
        "{\"id\":\"102\",\"n\":NaN}",
    };
    for (size_t i = 0; i < sizeof mids / sizeof mids[0]; i++) {
        char *body = page_around(mids[i]);
        struct ck_page page;
        parse_page(body, &page);
        assert_int_equal(json_array_size(page.items), 2);
        assert_int_equal(page.skipped, 1);
        assert_true(strlen(page.skip_why) > 0);
        assert_string_equal(M->item_id(json_array_get(page.items, 0)), "103");
        assert_string_equal(M->item_id(json_array_get(page.items, 1)), "101");
        ck_page_finish(&page);
        free(body);
    }
    /* A bad item and a repaired one in the same page: the flags follow the items. */
    const char *body = "[{\"x\":1}, {\"id\":\"7\",\"t\":\"\\ud83d\"}, {\"id\":\"6\"}]";
    struct ck_page page;
    parse_page(body, &page);
    assert_int_equal(json_array_size(page.items), 2);
    assert_int_equal(page.skipped, 1);
    assert_int_equal(page.repaired[0], 1);
    assert_int_equal(page.repaired[1], 0);
    ck_page_finish(&page);
    /* All bad: an empty page, not an error (the follower moves on). */
    parse_page("[{\"a\":1},{\"b\":2}]", &page);
    assert_int_equal(json_array_size(page.items), 0);
    assert_int_equal(page.skipped, 2);
    ck_page_finish(&page);
}

static void test_parse_context_repairs(void **state)
{
    const char *body = "{\"ancestors\":[],\"descendants\":[{\"id\":\"5\",\"t\":\"a\\u0000b\"},"
                       "{\"nope\":1},{\"id\":\"6\",\"t\":\"\xC3\"}]}";
    struct ck_response resp = {.status = 200, .body = (char *)body, .body_len = strlen(body)};
    struct ck_page page;
    struct ck_error err = {0};
    assert_int_equal(M->parse_context(&resp, &page, &err), 0);
    assert_int_equal(json_array_size(page.items), 2);
    assert_int_equal(page.repairs, 2);
    assert_int_equal(page.skipped, 1);
    assert_non_null(page.repaired);
    assert_string_equal(json_string_value(json_object_get(json_array_get(page.items, 0), "t")),
                        "a\xEF\xBF\xBD"
                        "b");
    ck_page_finish(&page);
    const char *bad = "{\"ancestors\":[]}";
    resp = (struct ck_response){.status = 200, .body = (char *)bad, .body_len = strlen(bad)};
    assert_int_equal(M->parse_context(&resp, &page, &err), CK_EPARSE);
    assert_null(page.items);
}

static void test_json_repair_is_identity_on_valid(void **state)
{
    size_t len;
    char *body = read_fixture("tag-timeline.response.json", &len);
    struct ck_json_repaired fx;
    assert_int_equal(ck_json_repair(body, len, &fx), 0);
    assert_int_equal(fx.repairs, 0);
    assert_int_equal(fx.len, len);
    assert_memory_equal(fx.text, body, len);
    assert_true(fx.array);
    assert_true(fx.complete);
    assert_int_equal(fx.n_spans, 1);
    ck_json_repaired_finish(&fx);
    free(body);
}

/* ---- normalise ---- */

static void normalise_fixture(const char *name, struct ck_message *m)
{
    json_t *raw = load_fixture(name);
    struct ck_error err = {0};
    int rc = M->normalise(raw, m, &err);
    if (rc != 0)
        fail_msg("%s: %s", name, err.msg);
    json_decref(raw); /* the message must own all its strings */
}

static int64_t ms(const char *rfc3339)
{
    int64_t v;
    assert_int_equal(ck_time_parse_rfc3339(rfc3339, &v), 0);
    return v;
}

static void test_normalise_timeline_item(void **state)
{
    json_t *arr = load_fixture("tag-timeline.response.json");
    struct ck_message m;
    assert_int_equal(M->normalise(json_array_get(arr, 0), &m, NULL), 0);
    json_decref(arr);
    assert_string_equal(m.id, "117020593741189701");
    assert_string_equal(m.platform, "mastodon");
    assert_string_equal(m.url, "http://localhost:3000/@mastodonpy_test_2/117020593741189701");
    assert_int_equal(m.created_ms, ms("2026-08-01T13:55:55.867Z"));
    assert_string_equal(m.author.id, "117020566092212359");
    /* A local account: acct has no domain, so it comes from the profile URL. */
    assert_string_equal(m.author.handle, "@mastodonpy_test_2@localhost:3000");
    assert_string_equal(m.author.name, "");
    assert_string_equal(m.author.url, "http://localhost:3000/@mastodonpy_test_2");
    assert_string_equal(m.text, "#hoot (hashtag toot)");
    assert_null(m.reply_to);
    assert_null(m.boost_of);
    assert_null(m.edited_at);
    ck_message_finish(&m);
    assert_null(m.id);
}

static void test_normalise_docs_example(void **state)
{
    struct ck_message m;
    normalise_fixture("status.docs-example.json", &m);
    assert_string_equal(m.author.handle, "@Gargron@mastodon.social");
    assert_string_equal(m.author.name, "Eugen");
    assert_string_equal(m.text,
                        "\"I lost my inheritance with one wrong digit on my sort code\"\n\n"
                        "https://www.theguardian.com/money/2019/dec/07/"
                        "i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code");
    assert_int_equal(m.replies, 5);
    assert_int_equal(m.boosts, 6);
    assert_int_equal(m.likes, 11);
    ck_message_finish(&m);
}

static void test_normalise_delete_and_edit(void **state)
{
    struct ck_message m;
    normalise_fixture("delete-status.response.json", &m); /* "text", no "content" */
    assert_string_equal(m.text, "#hoot (hashtag toot)");
    ck_message_finish(&m);

    json_t *raw = load_fixture("edit-status.response.json");
    assert_string_equal(M->item_version(raw), "2026-08-01T13:54:00.695Z");
    assert_int_equal(M->normalise(raw, &m, NULL), 0);
    json_decref(raw);
    assert_string_equal(m.edited_at, "2026-08-01T13:54:00.695Z");
    assert_string_equal(m.text,
                        "the best editor? why, of course it is the KDE Advanced Text Editor, Kate");
    ck_message_finish(&m);
}

static void test_normalise_boost_and_media(void **state)
{
    struct ck_message m;
    normalise_fixture("boost-status.json", &m);
    assert_string_equal(m.boost_of, "117020599000000000");
    assert_string_equal(m.author.handle, "@alice@example.org");
    assert_string_equal(m.author.name, "Alice \xC3\x89lise");
    assert_string_equal(m.url,
                        "https://example.org/users/alice/statuses/117020600000000001/activity");
    assert_string_equal(m.text, "");
    ck_message_finish(&m);

    normalise_fixture("media-reply.json", &m);
    assert_string_equal(m.reply_to, "117020599000000000");
    assert_string_equal(m.author.handle, "@bob@glammr.us");
    assert_int_equal(m.created_ms, ms("2026-12-03T19:07:15.250Z"));
    assert_string_equal(m.text,
                        "@uklibchat A1 mostly Mastodon & blogs\n"
                        "[image: A chart of CPD hours] https://files.glammr.us/media/1.png\n"
                        "[video] https://example.org/v.mp4");
    ck_message_finish(&m);
}

static void expect_bad_status(const char *json)
{
    json_t *raw = json_loads(json, 0, NULL);
    assert_non_null(raw);
    struct ck_message m;
    struct ck_error err = {0};
    int rc = M->normalise(raw, &m, &err);
    json_decref(raw);
    if (rc != CK_EPARSE)
        fail_msg("accepted: %s", json);
    assert_int_equal(err.code, CK_EPARSE);
    assert_true(strlen(err.msg) > 0);
    assert_null(m.id);
}

#define ACC "\"account\":{\"id\":\"1\",\"acct\":\"a\",\"url\":\"https://x.example/@a\"}"
#define WHEN "\"created_at\":\"2026-12-03T20:00:00Z\""

static void test_normalise_invalid(void **state)
{
    /* The minimal valid status, so each case below fails for its one defect. */
    struct ck_message m;
    json_t *ok = json_loads("{\"id\":\"1\"," WHEN "," ACC "}", 0, NULL);
    assert_int_equal(M->normalise(ok, &m, NULL), 0);
    assert_string_equal(m.author.handle, "@a@x.example");
    assert_null(m.url);
    ck_message_finish(&m);
    json_decref(ok);

    expect_bad_status("[]");
    expect_bad_status("{" WHEN "," ACC "}");
    expect_bad_status("{\"id\":1," WHEN "," ACC "}");
    expect_bad_status("{\"id\":\"\"," WHEN "," ACC "}");
    expect_bad_status("{\"id\":\"1\"," ACC "}");
    expect_bad_status("{\"id\":\"1\",\"created_at\":\"yesterday\"," ACC "}");
    expect_bad_status("{\"id\":\"1\",\"created_at\":1764792000," ACC "}");
    expect_bad_status("{\"id\":\"1\"," WHEN "}");
    expect_bad_status("{\"id\":\"1\"," WHEN ",\"account\":\"a\"}");
    expect_bad_status("{\"id\":\"1\"," WHEN ",\"account\":{\"id\":1,\"acct\":\"a\"}}");
    expect_bad_status("{\"id\":\"1\"," WHEN ",\"account\":{\"id\":\"1\"}}");
    expect_bad_status("{\"id\":\"1\"," WHEN ",\"account\":{\"id\":\"1\",\"acct\":[]}}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"content\":5}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"url\":{}}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"in_reply_to_id\":42}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"reblog\":\"2\"}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"reblog\":{\"id\":2}}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"replies_count\":\"3\"}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"media_attachments\":{}}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"media_attachments\":[1]}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"media_attachments\":[{\"url\":5}]}");
    expect_bad_status("{\"id\":\"1\"," WHEN "," ACC ",\"edited_at\":true}");
    assert_null(M->item_id(NULL));
    assert_null(M->item_version(json_null()));
}

static void test_id_cmp(void **state)
{
    assert_true(M->id_cmp("9", "10") < 0);
    assert_true(M->id_cmp("117020593741189701", "99999999999999999") > 0);
    assert_int_equal(M->id_cmp("42", "42"), 0);
    assert_true(M->id_cmp("01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAW") < 0);
    assert_true(M->id_cmp("01B", "01ARZ3NDEKTSV4RRFFQ69G5FAV") > 0); /* bytes, not length */
}

static void test_registry(void **state)
{
    assert_ptr_equal(ck_platform_find("mastodon"), &ck_platform_mastodon);
    assert_null(ck_platform_find("Mastodon"));
    assert_null(ck_platform_find("myspace"));
    assert_null(ck_platform_find(NULL));
    ck_page_finish(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_basic),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_parse_recorded),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_repairs_bad_bytes),
        cmocka_unit_test(test_parse_skips_bad_items),
        cmocka_unit_test(test_parse_context_repairs),
        cmocka_unit_test(test_json_repair_is_identity_on_valid),
        cmocka_unit_test(test_normalise_timeline_item),
        cmocka_unit_test(test_normalise_docs_example),
        cmocka_unit_test(test_normalise_delete_and_edit),
        cmocka_unit_test(test_normalise_boost_and_media),
        cmocka_unit_test(test_normalise_invalid),
        cmocka_unit_test(test_id_cmp),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
