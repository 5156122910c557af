/* ck_archive_build on a journal written here: duplicates, an edit, a stale
 * copy, a corrupt line, objects that will not normalise; twice, same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/archive.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void remove_dir(const char *dir)
{
    const char *names[] = {"session.json", "journal.jsonl", "messages.jsonl"};
    char path[512];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

#define ALICE "\"account\":{\"id\":\"1\",\"acct\":\"alice\",\"url\":\"https://glammr.us/@alice\"}"
#define BOB "\"account\":{\"id\":\"2\",\"acct\":\"bob@example.org\",\"display_name\":\"Bob\"}"
#define CAROL "\"account\":{\"id\":\"3\",\"acct\":\"carol\",\"url\":\"https://glammr.us/@carol\"}"
#define LINE(platform, obj)                                                                        \
    "{\"fetched_at\":\"2026-12-03T20:05:00.000Z\",\"platform\":\"" platform "\","                  \
    "\"source\":\"timeline\",\"object\":" obj "}\n"

static const char journal[] =
    LINE("mastodon", "{\"id\":\"100\",\"created_at\":\"2026-12-03T20:01:00Z\"," ALICE
                     ",\"content\":\"<p>A1 first</p>\"}")
        LINE("mastodon",
             "{\"id\":\"99\",\"created_at\":\"2026-12-03T20:00:00Z\"," BOB
             ",\"content\":\"<p>Q1 hello</p>\"}") "{\"fetched_at\":\"2026-12-03T20:05:01.000Z\","
                                                  "\"platform\":\"masto\n" /* torn: corrupt */
    LINE("mastodon", "{\"id\":\"100\",\"created_at\":\"2026-12-03T20:01:00Z\"," ALICE
                     ",\"content\":\"<p>A1 edited</p>\",\"edited_at\":\"2026-12-03T20:03:00Z\"}")
        LINE("mastodon", "{\"id\":5,\"created_at\":\"2026-12-03T20:01:00Z\"," ALICE "}")
    /* A re-fetch of 99 (the overlap window): same version, newer counts win. */
    LINE("mastodon", "{\"id\":\"99\",\"created_at\":\"2026-12-03T20:00:00Z\"," BOB
                     ",\"content\":\"<p>Q1 hello</p>\",\"replies_count\":4}")
        LINE("mastodon", "{\"id\":\"101\",\"created_at\":\"2026-12-03T20:02:00Z\"," CAROL
                         ",\"content\":\"\",\"reblog\":{\"id\":\"99\"}}")
            LINE("bluesky", "{\"uri\":\"at://did:plc:x/app.bsky.feed.post/1\"}")
                LINE("mastodon", "{\"id\":\"1000\",\"created_at\":\"2026-12-03T20:01:00Z\"," ALICE
                                 ",\"content\":\"<p>A1 again</p>\",\"in_reply_to_id\":\"99\"}")
    /* A stale copy of 100 (fetched later, from before the edit): must not undo it. */
    LINE("mastodon", "{\"id\":\"100\",\"created_at\":\"2026-12-03T20:01:00Z\"," ALICE
                     ",\"content\":\"<p>A1 first</p>\"}");

static void test_build(void **state)
{
    char dir[] = "/tmp/ck-archive-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "session.json", "{\"hashtag\":\"t\",\"platform\":{\"type\":\"mastodon\"}}");
    write_file(dir, "journal.jsonl", journal);

    struct ck_archive_stats st;
    struct ck_error err = {0};
    assert_int_equal(ck_archive_build(dir, &st, &err), 0);
    char *first = read_file(dir, "messages.jsonl");
    assert_int_equal(st.journal_lines, 10);
    assert_int_equal(st.corrupt_lines, 1);
    assert_int_equal(st.skipped_objects, 2); /* id as a number, unknown platform */
    assert_int_equal(st.messages, 4);
    assert_int_equal(st.boosts, 1);
    assert_int_equal(st.people, 3);

    /* Oldest first; same created_at ordered by id, shorter first ("100" < "1000"). */
    const char *ids[] = {"\"id\":\"99\"", "\"id\":\"100\"", "\"id\":\"1000\"", "\"id\":\"101\""};
    const char *p = first;
    for (size_t i = 0; i < 4; i++) {
        assert_true(strncmp(p, "{", 1) == 0);
        assert_true(strncmp(p + 1, ids[i], strlen(ids[i])) == 0);
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    assert_string_equal(p, ""); /* exactly four "\n"-terminated lines */
    assert_non_null(strstr(first, "\"text\":\"A1 edited\""));
    assert_null(strstr(first, "A1 first"));
    assert_non_null(strstr(first, "\"handle\":\"@alice@glammr.us\""));
    assert_non_null(strstr(first, "\"handle\":\"@bob@example.org\""));
    assert_non_null(strstr(first, "\"boost_of\":\"99\""));
    const char *line1 = "{\"id\":\"99\",\"platform\":\"mastodon\",\"url\":null,"
                        "\"created_at\":\"2026-12-03T20:00:00.000Z\",\"author\":{\"id\":\"2\","
                        "\"handle\":\"@bob@example.org\",\"name\":\"Bob\",\"url\":null},"
                        "\"text\":\"Q1 hello\",\"reply_to\":null,\"boost_of\":null,"
                        "\"edited_at\":null,\"counts\":{\"replies\":4,\"boosts\":0,\"likes\":0}}\n";
    assert_true(strncmp(first, line1, strlen(line1)) == 0);

    /* Twice in a row: the same bytes. */
    assert_int_equal(ck_archive_build(dir, NULL, NULL), 0);
    char *second = read_file(dir, "messages.jsonl");
    assert_string_equal(first, second);
    free(first);
    free(second);
    remove_dir(dir);
}

static void test_empty_and_missing(void **state)
{
    char dir[] = "/tmp/ck-archive-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct ck_error err = {0};
    assert_int_equal(ck_archive_build(dir, NULL, &err), CK_ENOTFOUND); /* no session.json */
    write_file(dir, "session.json", "{\"platform\":{\"type\":\"mastodon\"}}");
    err = (struct ck_error){0};
    assert_int_equal(ck_archive_build(dir, NULL, &err), CK_ENOTFOUND); /* no journal */
    assert_non_null(strstr(err.msg, "journal.jsonl"));

    /* An empty journal gives an empty messages.jsonl; lines without a
     * "platform" use the session's. */
    write_file(dir, "journal.jsonl", "");
    struct ck_archive_stats st;
    assert_int_equal(ck_archive_build(dir, &st, NULL), 0);
    assert_int_equal(st.messages, 0);
    char *out = read_file(dir, "messages.jsonl");
    assert_string_equal(out, "");
    free(out);
    write_file(dir, "journal.jsonl",
               "{\"object\":{\"id\":\"7\",\"created_at\":\"2026-12-03T20:00:00Z\"," CAROL "}}\n");
    assert_int_equal(ck_archive_build(dir, &st, NULL), 0);
    assert_int_equal(st.messages, 1);
    assert_int_equal(st.people, 1);

    write_file(dir, "session.json", "{\"platform\": ");
    err = (struct ck_error){0};
    assert_int_equal(ck_archive_build(dir, NULL, &err), CK_ECONFIG);
    remove_dir(dir);
    assert_int_equal(ck_archive_build("/nonexistent/ck", NULL, NULL), CK_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_empty_and_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
