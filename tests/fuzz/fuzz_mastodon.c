/* A Mastodon tag-timeline page from a hostile server: parsed or refused, and
 * every status that normalises gives valid UTF-8 text and a string id. The
 * same bytes as an instance's answer naming its streaming URL. */
#include <string.h>

#include "chatkeeper/platform.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    struct ck_response resp = {.status = 200, .body = body, .body_len = size};
    const struct ck_platform_ops *ops = &ck_platform_mastodon;
    struct ck_page page;
    struct ck_error err = {0};
    if (ops->parse_timeline(&resp, &page, &err) == 0) {
        for (size_t i = 0; i < json_array_size(page.items); i++) {
            const json_t *raw = json_array_get(page.items, i);
            (void)ops->item_time(raw);
            (void)ops->item_version(raw);
            struct ck_message m;
            memset(&m, 0, sizeof m);
            struct ck_error nerr = {0};
            if (ops->normalise(raw, &m, &nerr) == 0) {
                FUZZ_CHECK(m.id != NULL && m.id[0] != '\0', "normalised without an id");
                FUZZ_CHECK(m.text == NULL || fuzz_utf8_ok(m.text, strlen(m.text)),
                           "text not UTF-8");
                FUZZ_CHECK(m.author.name == NULL ||
                               fuzz_utf8_ok(m.author.name, strlen(m.author.name)),
                           "author name not UTF-8");
            }
            ck_message_finish(&m);
        }
        ck_page_finish(&page);
    }
    /* The same bytes as an instance's answer: where its stream is served.
     * Only a secure URL with a host comes out, never a control byte. */
    char *stream = NULL;
    struct ck_error serr = {0};
    if (ops->parse_stream_base(&resp, "https://example.social", &stream, &serr) == 0) {
        FUZZ_CHECK(strncmp(stream, "https://", 8) == 0 && stream[8] != '\0' && stream[8] != '/',
                   "a stream base that is not https with a host");
        for (const char *c = stream; *c != '\0'; c++)
            FUZZ_CHECK((unsigned char)*c > ' ' && *c != 127, "a control byte in the stream base");
    } else {
        FUZZ_CHECK(stream == NULL, "a stream base handed out with an error");
    }
    free(stream);
    free(body);
    return 0;
}
