/* Bluesky answers from a hostile server (searchPosts, feeds, getPostThread,
 * sessions, getRecord, createRecord) and hostile post text for the facet
 * builder: parsed or refused, never trusted. What normalises has an at:// id,
 * a bsky.app URL, a handle without spaces and valid UTF-8 text; facets are in
 * bounds, on character boundaries and in order; error texts are clean. */
#include <string.h>

#include "chatkeeper/bluesky.h"
#include "fuzz.h"

static void check_message(const json_t *raw)
{
    struct ck_message m;
    memset(&m, 0, sizeof m);
    struct ck_error err = {0};
    (void)ck_bluesky_item_id(raw);
    (void)ck_bluesky_item_time(raw);
    (void)ck_bluesky_item_version(raw);
    if (ck_bluesky_normalise(raw, &m, &err) == 0) {
        FUZZ_CHECK(m.id != NULL && strncmp(m.id, "at://", 5) == 0, "id is not an at:// URI");
        FUZZ_CHECK(m.uri != NULL && strcmp(m.uri, m.id) == 0, "uri is not the id");
        FUZZ_CHECK(m.text != NULL && fuzz_utf8_ok(m.text, strlen(m.text)), "text not UTF-8");
        FUZZ_CHECK(m.url != NULL && strncmp(m.url, "https://bsky.app/profile/", 25) == 0 &&
                       strpbrk(m.url, " \t\r\n\"<>") == NULL,
                   "bad url");
        FUZZ_CHECK(m.author.handle != NULL && m.author.handle[0] == '@' &&
                       strpbrk(m.author.handle, " \t\r\n\"<>/") == NULL,
                   "bad handle");
        FUZZ_CHECK(m.author.name != NULL && fuzz_utf8_ok(m.author.name, strlen(m.author.name)),
                   "name not UTF-8");
    } else {
        FUZZ_CHECK(m.id == NULL && m.text == NULL, "failed normalise left fields");
    }
    ck_message_finish(&m);
}

static void check_error_text(const struct ck_response *resp)
{
    char buf[48];
    ck_bluesky_error_text(resp, buf, sizeof buf);
    FUZZ_CHECK(fuzz_utf8_ok(buf, strlen(buf)), "error text not UTF-8");
    for (const char *p = buf; *p != '\0'; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "control character in error text");
    (void)ck_bluesky_error_kind(resp);
}

static const char *resolve(const char *handle, void *arg)
{
    (void)arg;
    return strlen(handle) % 2 == 0 ? "did:plc:ewvi7nxzyoun6zhxrhs64oiz" : NULL;
}

static void check_facets(const char *text)
{
    size_t len = strlen(text);
    (void)ck_bluesky_graphemes(text);
    if (!fuzz_utf8_ok(text, len))
        return;
    json_t *facets = ck_bluesky_facets(text, resolve, NULL);
    json_int_t last_end = 0;
    for (size_t i = 0; i < json_array_size(facets); i++) {
        const json_t *idx = json_object_get(json_array_get(facets, i), "index");
        json_int_t s = json_integer_value(json_object_get(idx, "byteStart"));
        json_int_t e = json_integer_value(json_object_get(idx, "byteEnd"));
        FUZZ_CHECK(s >= last_end && s < e && (size_t)e <= len, "facet %zu out of order/bounds", i);
        FUZZ_CHECK(((unsigned char)text[s] & 0xC0) != 0x80 &&
                       ((size_t)e == len || ((unsigned char)text[e] & 0xC0) != 0x80),
                   "facet %zu splits a character", i);
        last_end = e;
    }
    json_decref(facets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    struct ck_response resp = {.status = 200, .body = body, .body_len = size};

    struct ck_bluesky_page page;
    struct ck_error err = {0};
    if (ck_bluesky_parse_search(&resp, &page, &err) == 0) {
        FUZZ_CHECK(json_array_size(page.posts) <= CK_BLUESKY_MAX_ITEMS, "too many items kept");
        for (size_t i = 0; i < json_array_size(page.posts); i++)
            check_message(json_array_get(page.posts, i));
        ck_bluesky_page_finish(&page);
    } else {
        FUZZ_CHECK(page.posts == NULL && page.cursor == NULL, "failed parse left a page");
    }
    json_t *flat = NULL;
    if (ck_bluesky_parse_thread(&resp, &flat, &err) == 0) {
        for (size_t i = 0; i < json_array_size(flat); i++)
            check_message(json_array_get(flat, i));
    }
    json_decref(flat);

    /* The whole input, and each member of a top-level array, as one item. */
    json_t *j = json_loadb(body, size, JSON_DECODE_ANY, NULL);
    if (j != NULL) {
        check_message(j);
        for (size_t i = 0; i < json_array_size(j); i++)
            check_message(json_array_get(j, i));
        const json_t *text = json_object_get(json_object_get(j, "record"), "text");
        if (json_is_string(text))
            check_facets(json_string_value(text));
        if (json_is_string(json_object_get(j, "text")))
            check_facets(json_string_value(json_object_get(j, "text")));
        json_decref(j);
    }

    struct ck_bluesky_session s;
    if (ck_bluesky_parse_session(&resp, &s, &err) == 0) {
        FUZZ_CHECK(strncmp(s.did, "did:", 4) == 0 && strpbrk(s.access_jwt, "\r\n") == NULL,
                   "bad session accepted");
        (void)ck_bluesky_session_needs_refresh(&s, 0, 300000);
    }
    ck_bluesky_session_finish(&s);
    (void)ck_bluesky_jwt_exp_ms(body);

    struct ck_bluesky_record rec;
    if (ck_bluesky_parse_record(&resp, &rec, &err) == 0)
        FUZZ_CHECK(rec.uri != NULL && strncmp(rec.uri, "at://", 5) == 0, "record without uri");
    ck_bluesky_record_finish(&rec);
    char *uri, *cid;
    if (ck_bluesky_parse_create_record(&resp, &uri, &cid, &err) == 0) {
        FUZZ_CHECK(uri != NULL && cid != NULL, "created without uri or cid");
        free(uri);
        free(cid);
    }

    char *did = NULL;
    int rrc = ck_bluesky_parse_resolve_handle(&resp, &did, &err);
    FUZZ_CHECK((rrc == 0) == (did != NULL), "resolveHandle: a DID without success or none with");
    FUZZ_CHECK(did == NULL || (strncmp(did, "did:", 4) == 0 && strpbrk(did, " \t\r\n\"<>") == NULL),
               "resolveHandle: a bad DID accepted");
    free(did);
    json_t *handles = ck_bluesky_mention_handles(body);
    for (size_t i = 0; i < json_array_size(handles); i++) {
        const char *h = json_string_value(json_array_get(handles, i));
        FUZZ_CHECK(h != NULL && h[0] != '\0' && strchr(h, '.') != NULL &&
                       strpbrk(h, "@ \t\r\n/") == NULL,
                   "mention handle %zu is no handle", i);
    }
    json_decref(handles);

    resp.status = 400;
    check_error_text(&resp);
    did = NULL;
    rrc = ck_bluesky_parse_resolve_handle(&resp, &did, &err);
    FUZZ_CHECK(rrc != 0 && did == NULL, "resolveHandle: a 400 read as a DID");
    check_facets(body);
    free(body);
    return 0;
}
