/* The text/event-stream parser against Mastodon's documented stream
 * (tests/fixtures/mastodon/streaming-hashtag.sse.txt) cut at every byte, with
 * every line ending, and against the spec's corner cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/sse.h"

struct got {
    char names[16][64];
    char *data[16];
    size_t n;
    int stop_at; /* return 7 from this event (1-based), 0: never */
};

static int collect(const struct ck_sse_event *ev, void *arg)
{
    struct got *g = arg;
    assert_true(g->n < 16);
    snprintf(g->names[g->n], sizeof g->names[0], "%s", ev->event);
    assert_int_equal(strlen(ev->data), ev->data_len);
    g->data[g->n] = strndup(ev->data, ev->data_len);
    g->n++;
    return g->stop_at != 0 && (int)g->n == g->stop_at ? 7 : 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->data[i]);
    memset(g, 0, sizeof *g);
}

static char *read_fixture(size_t *len)
{
    const char *dir = getenv("CK_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/mastodon/streaming-hashtag.sse.txt", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* Feed text in pieces of at most step bytes, the first cut at first. */
static void feed_cut(const char *text, size_t len, size_t first, size_t step, struct got *g,
                     size_t *comments)
{
    struct ck_sse_parser p;
    ck_sse_parser_init(&p, 0);
    size_t at = 0;
    if (first > 0 && first < len) {
        assert_int_equal(ck_sse_feed(&p, text, first, collect, g), 0);
        at = first;
    }
    while (at < len) {
        size_t n = len - at < step ? len - at : step;
        assert_int_equal(ck_sse_feed(&p, text + at, n, collect, g), 0);
        at += n;
    }
    if (comments != NULL)
        *comments = p.comments;
    ck_sse_parser_finish(&p);
}

static void check_fixture_events(const struct got *g, const struct got *want)
{
    assert_int_equal(g->n, want->n);
    for (size_t i = 0; i < g->n; i++) {
        assert_string_equal(g->names[i], want->names[i]);
        assert_string_equal(g->data[i], want->data[i]);
    }
}

static void test_fixture_whole(void **state)
{
    (void)state;
    size_t len;
    char *text = read_fixture(&len);
    struct got g = {0};
    feed_cut(text, len, 0, len, &g, NULL);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.names[0], "update");
    assert_string_equal(g.names[1], "delete");
    assert_string_equal(g.names[2], "status.update");
    assert_string_equal(g.data[1], "108914430312582020");
    assert_true(strncmp(g.data[0], "{\"id\":\"108914430312582020\"", 26) == 0);
    assert_int_equal(g.data[0][strlen(g.data[0]) - 1], '}');
    assert_true(strncmp(g.data[2], "{\"id\":\"109348684737626801\"", 26) == 0);
    got_free(&g);
    free(text);
}

/* Two pieces cut at every byte, and one byte at a time: the same events. */
static void test_fixture_split_anywhere(void **state)
{
    (void)state;
    size_t len;
    char *text = read_fixture(&len);
    struct got want = {0};
    feed_cut(text, len, 0, len, &want, NULL);
    for (size_t cut = 1; cut < len; cut++) {
        struct got g = {0};
        feed_cut(text, len, cut, len, &g, NULL);
        check_fixture_events(&g, &want);
        got_free(&g);
    }
    struct got g = {0};
    feed_cut(text, len, 0, 1, &g, NULL);
    check_fixture_events(&g, &want);
    got_free(&g);
    got_free(&want);
    free(text);
}

/* The same stream with CRLF, then CR, line ends, with heartbeats between
 * events, cut at every byte (a CR at the end of one chunk and its LF at the
 * start of the next is one line end, not two). */
static void test_line_ends_and_heartbeats(void **state)
{
    (void)state;
    size_t len;
    char *text = read_fixture(&len);
    struct got want = {0};
    feed_cut(text, len, 0, len, &want, NULL);
    for (int mode = 0; mode < 2; mode++) {
        char *conv = malloc(2 * len + 64);
        assert_non_null(conv);
        size_t k = 0;
        memcpy(conv, ":thump\n", 7);
        k = 7;
        for (size_t i = 0; i < len; i++) {
            if (text[i] == '\n') {
                conv[k++] = '\r';
                if (mode == 0)
                    conv[k++] = '\n';
            } else {
                conv[k++] = text[i];
            }
        }
        memcpy(conv + k, ":)\r\n", 4);
        k += 4;
        for (size_t cut = 1; cut < k; cut += 7) {
            struct got g = {0};
            size_t comments = 0;
            feed_cut(conv, k, cut, 13, &g, &comments);
            check_fixture_events(&g, &want);
            assert_int_equal(comments, 2);
            got_free(&g);
        }
        free(conv);
    }
    got_free(&want);
    free(text);
}

static void test_spec_corners(void **state)
{
    (void)state;
    static const char s[] = "data: a\n"
                            "data:b\n"
                            "data:  c\n"
                            "\n"
                            "event: only-a-name\n"
                            "\n"
                            "data\n"
                            "\n"
                            "id: 5\nretry: 100\nfoo: bar\nevent: x\ndata: {\"k\":1}\n\n"
                            "data: never dispatched (no blank line)\n";
    struct got g = {0};
    feed_cut(s, sizeof s - 1, 0, sizeof s, &g, NULL);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.names[0], "message");
    assert_string_equal(g.data[0], "a\nb\n c");
    assert_string_equal(g.names[1], "message");
    assert_string_equal(g.data[1], "");
    assert_string_equal(g.names[2], "x");
    assert_string_equal(g.data[2], "{\"k\":1}");
    got_free(&g);
}

static void test_too_big_and_stop(void **state)
{
    (void)state;
    struct ck_sse_parser p;
    ck_sse_parser_init(&p, 16);
    struct got g = {0};
    assert_int_equal(ck_sse_feed(&p, "data: 0123456789abcdef", 22, collect, &g), CK_ETOOBIG);
    ck_sse_parser_finish(&p);
    /* Many short data lines add up: the event is capped as a whole. */
    ck_sse_parser_init(&p, 16);
    assert_int_equal(ck_sse_feed(&p, "data: 01234\ndata: 56789\ndata: wxyz\n", 36, collect, &g),
                     CK_ETOOBIG);
    ck_sse_parser_finish(&p);
    assert_int_equal(g.n, 0);

    ck_sse_parser_init(&p, 0);
    g.stop_at = 1;
    assert_int_equal(ck_sse_feed(&p, "data: 1\n\ndata: 2\n\n", 18, collect, &g), 7);
    assert_int_equal(g.n, 1);
    ck_sse_parser_finish(&p);
    got_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_whole),
        cmocka_unit_test(test_fixture_split_anywhere),
        cmocka_unit_test(test_line_ends_and_heartbeats),
        cmocka_unit_test(test_spec_corners),
        cmocka_unit_test(test_too_big_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
