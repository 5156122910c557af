/* ck_archive_build on a journal written here: duplicates, an edit, a stale
 * copy, a corrupt line, objects that will not normalise, statuses outside the
 * session's window; twice, same bytes. The record renderer against
 * ck_message_to_json, and the streaming atomic writer it uses. */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/message.h"
#include "chatkeeper/state.h"
#include "chatkeeper/terminal.h"
#include "chatkeeper/timeutil.h"

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

/* A valid session: 20:00 UTC (London in December), 1h30m, lead 15m, grace 30m,
 * so the window is [19:45:00.000, 22:00:00.000]. */
#define SESSION(platform)                                                                          \
    "{\"title\":\"t\",\"hashtag\":\"t\",\"timezone\":\"Europe/London\","                           \
    "\"start\":\"2026-12-03T20:00\",\"duration\":\"1h30m\",\"lead\":\"15m\",\"grace\":\"30m\","    \
    "\"platform\":{\"type\":\"" platform "\",\"base_url\":\"https://glammr.us\"},"                 \
    "\"facilitators\":[\"@t@glammr.us\"],\"post\":false,"                                          \
    "\"questions\":[{\"at\":\"5m\",\"text\":\"Q?\"}]}"

/* Remove path and everything under it (the tests' folders hold files and
 * one level of folders). */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char sub[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

/* A session directory and the temp folder session_dir made around it. */
static void remove_dir(const char *dir)
{
    char top[512];
    snprintf(top, sizeof top, "%s", dir);
    char *slash = strrchr(top, '/');
    if (slash != NULL && strncmp(top, "/tmp/ck-archive-", 16) == 0)
        *slash = '\0';
    remove_tree(top);
    struct stat st;
    assert_int_not_equal(stat(top, &st), 0); /* nothing left behind */
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

/* A session directory inside a fresh temp folder: the archive writes the
 * folder's index.html beside it, which must not land in /tmp itself. */
static void session_dir(char *dir, size_t n)
{
    char top[] = "/tmp/ck-archive-XXXXXX";
    assert_non_null(mkdtemp(top));
    snprintf(dir, n, "%s/session", top);
    assert_int_equal(mkdir(dir, 0755), 0);
}

static void test_build(void **state)
{
    char dir[64];
    session_dir(dir, sizeof dir);
    write_file(dir, "session.json", SESSION("mastodon"));
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
    assert_int_equal(st.outside_window, 0);

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
                        "\"edited_at\":null,\"counts\":{\"replies\":4,\"boosts\":0,\"likes\":0},"
                        "\"questions\":[";
    /* The record, then the grouping that the second pass adds at its end. */
    assert_true(strncmp(first, line1, strlen(line1)) == 0);
    assert_non_null(strstr(first, "\"assigned_by\":"));

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
    char dir[64];
    session_dir(dir, sizeof dir);
    struct ck_error err = {0};
    assert_int_equal(ck_archive_build(dir, NULL, &err), CK_ENOTFOUND); /* no session.json */
    write_file(dir, "session.json", SESSION("mastodon"));
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
    assert_non_null(strstr(err.msg, "session.json"));
    /* Valid JSON but not a session (no start): the loader's message, CK_ECONFIG. */
    write_file(dir, "session.json", "{\"title\":\"t\",\"platform\":{\"type\":\"mastodon\"}}");
    err = (struct ck_error){0};
    assert_int_equal(ck_archive_build(dir, NULL, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "session.json"));
    remove_dir(dir);
    assert_int_equal(ck_archive_build("/nonexistent/ck", NULL, NULL), CK_ENOTFOUND);
}

#define AT(id, when)                                                                               \
    LINE("mastodon",                                                                               \
         "{\"id\":\"" id "\",\"created_at\":\"" when "\"," ALICE ",\"content\":\"<p>x</p>\"}")

/* The window is [start - lead, end + grace] with both bounds kept; an earlier
 * week's status (a catch-up page) and one after the grace are left out and
 * counted once each however often they were fetched. */
static void test_window(void **state)
{
    char dir[64];
    session_dir(dir, sizeof dir);
    write_file(dir, "session.json", SESSION("mastodon"));
    write_file(dir, "journal.jsonl",
               AT("1", "2026-11-26T20:10:00Z")     /* last week's chat */
               AT("2", "2026-12-03T19:44:59.999Z") /* a millisecond early */
               AT("3", "2026-12-03T19:45:00Z")     /* the first instant of the lead */
               AT("4", "2026-12-03T20:30:00Z")
                   AT("5", "2026-12-03T22:00:00.000Z") /* the last instant of the grace */
               AT("6", "2026-12-03T22:00:00.001Z")     /* a millisecond late */
               AT("1", "2026-11-26T20:10:00Z")         /* re-read: still one */
               AT("7", "2026-12-04T09:00:00Z"));       /* the next morning */
    struct ck_archive_stats st;
    struct ck_error err = {0};
    assert_int_equal(ck_archive_build(dir, &st, &err), 0);
    assert_int_equal(st.journal_lines, 8);
    assert_int_equal(st.messages, 3);
    assert_int_equal(st.outside_window, 4);
    assert_int_equal(st.people, 1);
    char *out = read_file(dir, "messages.jsonl");
    const char *p = out;
    const char *ids[] = {"{\"id\":\"3\"", "{\"id\":\"4\"", "{\"id\":\"5\""};
    for (size_t i = 0; i < 3; i++) {
        assert_true(strncmp(p, ids[i], strlen(ids[i])) == 0);
        p = strchr(p, '\n') + 1;
    }
    assert_string_equal(p, "");
    free(out);

    /* Start with its own offset and a time zone: the window follows start. */
    write_file(dir, "session.json",
               "{\"title\":\"t\",\"hashtag\":\"t\",\"timezone\":\"America/New_York\","
               "\"start\":\"2026-12-03T14:30\",\"duration\":\"1h\",\"lead\":\"0m\","
               "\"grace\":\"0m\",\"platform\":{\"type\":\"mastodon\","
               "\"base_url\":\"https://glammr.us\"},\"facilitators\":[\"@t@glammr.us\"],"
               "\"post\":false,\"questions\":[{\"at\":\"5m\",\"text\":\"Q?\"}]}");
    /* 19:30-20:30 UTC */
    assert_int_equal(ck_archive_build(dir, &st, &err), 0);
    assert_int_equal(st.messages, 3); /* 19:44:59.999, 19:45 and 20:30 */
    assert_int_equal(st.outside_window, 4);
    remove_dir(dir);
}

/* Quotes and boosts (issue 14, rule 6): a quote shows its quoted post as a
 * quote, without the bare link; a post only quoted (from outside the window)
 * is not shown a second time; a boost of last week's post shows the post
 * "boosted by"; opting out hides the person's posts, their boosts and their
 * words in others' quotes. */
#define TWEET(id, at, who, extra, text)                                                            \
    LINE("x", "{\"id_str\":\"" id "\",\"created_at\":\"" at "\",\"full_text\":\"" text             \
              "\",\"user\":{\"id_str\":\"u" who "\",\"screen_name\":\"" who "\"}" extra "}")
#define RT(id) ",\"retweeted_status\":{\"id_str\":\"" id "\"}"
#define QT(id) ",\"quoted_status_id_str\":\"" id "\""
static void test_quotes_and_boosts(void **state)
{
    (void)state;
    char dir[64];
    session_dir(dir, sizeof dir);
    write_file(dir, "session.json", SESSION("mastodon"));
    static const char j[] =
        /* last week's post by carol, retweeted by bob tonight */
        TWEET("50", "Thu Nov 26 20:10:00 +0000 2026", "carol", "", "OLDWORDS from last week")
        /* last week's post by alice, only quoted tonight */
        TWEET("51", "Thu Nov 26 20:11:00 +0000 2026", "alice", "", "QUOTEDONLY words")
            TWEET("60", "Thu Dec 03 20:06:00 +0000 2026", "alice", "", "A1 ALICEWORDS here") TWEET(
                "61", "Thu Dec 03 20:07:00 +0000 2026", "bob", RT("50"), "RT @carol: OLDWORDS")
                TWEET("62", "Thu Dec 03 20:08:00 +0000 2026", "bob", QT("60"),
                      "A1 BOBQUOTE so true https://twitter.com/alice/status/60")
                    TWEET("63", "Thu Dec 03 20:09:00 +0000 2026", "carol", QT("51"),
                          "A1 CAROLQUOTE see https://twitter.com/alice/status/51")
                        TWEET("64", "Thu Dec 03 20:10:00 +0000 2026", "carol", RT("60"),
                              "RT @alice: A1 ALICEWORDS")
        /* a quote of a post the journal does not have */
        TWEET("65", "Thu Dec 03 20:11:00 +0000 2026", "dee", QT("70"),
              "A1 DEEQUOTE look https://twitter.com/erin/status/70");
    write_file(dir, "journal.jsonl", j);
    struct ck_error err = {0};
    struct ck_archive_stats st;
    assert_int_equal(ck_archive_build(dir, &st, &err), 0);
    char *msgs = read_file(dir, "messages.jsonl");
    assert_non_null(strstr(msgs, "\"quote_of\":\"60\""));
    free(msgs);
    char *md = read_file(dir, "transcript.md");
    char *html = read_file(dir, "transcript.html");
    /* the quote, with the quoted post inside it and no bare link */
    const char *bq = strstr(md, "BOBQUOTE so true");
    assert_non_null(bq);
    const char *next_item = strstr(bq, "\n- ");
    const char *inner = strstr(bq, "> **");
    assert_non_null(inner);
    assert_true(next_item == NULL || inner < next_item);
    assert_non_null(strstr(inner, "ALICEWORDS"));
    const char *eol = strchr(bq, '\n');
    assert_non_null(eol);
    assert_null(memmem(bq, (size_t)(eol - bq), "status/60", 9)); /* no bare link */
    assert_non_null(strstr(html, "<blockquote class=\"quote\">"));
    /* the post only quoted: once, inside the quote */
    const char *once = strstr(md, "QUOTEDONLY");
    assert_non_null(once);
    assert_null(strstr(once + 1, "QUOTEDONLY"));
    /* last week's boosted post: shown, boosted by bob */
    const char *old = strstr(md, "OLDWORDS");
    assert_non_null(old);
    assert_non_null(strstr(md, "boosted by @bob"));
    /* a quoted post not in the archive: a stub (who, the link), in place of
     * the bare link, in both transcripts */
    const char *dq = strstr(md, "DEEQUOTE look");
    assert_non_null(dq);
    assert_true(strncmp(dq, "DEEQUOTE look\n", 14) == 0 ||
                strncmp(dq, "DEEQUOTE look  \n", 16) == 0);
    assert_non_null(strstr(dq, "> Quoting @erin · [a post not in this "
                               "archive](https://twitter.com/erin/status/70)"));
    assert_non_null(strstr(html,
                           "<blockquote class=\"quote missing\"><p class=\"meta\">Quoting "
                           "<bdi>@erin</bdi> · <a href=\"https://twitter.com/erin/status/70\""));
    free(md);
    free(html);
    /* catch-up shows the same: the quote, the stub, "boosted by", the post
     * only quoted once */
    char *cu = NULL;
    size_t cu_len = 0;
    FILE *f = open_memstream(&cu, &cu_len);
    struct ck_catchup_opts o = {.width = 200};
    assert_int_equal(ck_catchup_render(f, dir, &o, &err), 0);
    fclose(f);
    assert_non_null(strstr(cu, "quoting @erin, a post not in this archive: "
                               "https://twitter.com/erin/status/70"));
    assert_null(strstr(strstr(cu, "DEEQUOTE"), "look https"));
    const char *oldw = strstr(cu, "OLDWORDS from last week\n");
    assert_non_null(oldw);
    assert_true(strncmp(oldw + 24, "  boosted by @bob\n", 18) == 0);
    const char *qo = strstr(cu, "QUOTEDONLY");
    assert_non_null(qo);
    assert_null(strstr(qo + 1, "QUOTEDONLY"));
    free(cu);

    /* alice opts out: her post, its boost and its words in bob's quote go */
    write_file(dir, "overrides.json", "{\"opt_out\": [\"@alice\"]}");
    assert_int_equal(ck_archive_build(dir, &st, &err), 0);
    msgs = read_file(dir, "messages.jsonl");
    assert_null(strstr(msgs, "ALICEWORDS"));
    assert_null(strstr(msgs, "QUOTEDONLY"));
    assert_null(strstr(msgs, "\"id\":\"64\"")); /* carol's boost of alice */
    assert_non_null(strstr(msgs, "BOBQUOTE"));  /* bob's own words stay */
    free(msgs);
    md = read_file(dir, "transcript.md");
    assert_null(strstr(md, "ALICEWORDS"));
    assert_null(strstr(md, "QUOTEDONLY"));
    /* carol's quote of her: a stub that neither names nor links to her */
    assert_non_null(strstr(md, "CAROLQUOTE see"));
    assert_non_null(strstr(md, "> Quoting a post not in this archive"));
    assert_null(strstr(md, "alice/status/51"));
    free(md);
    cu = NULL;
    f = open_memstream(&cu, &cu_len);
    assert_int_equal(ck_catchup_render(f, dir, &o, &err), 0);
    fclose(f);
    assert_non_null(strstr(cu, "quoting a post not in this archive\n"));
    assert_null(strstr(cu, "alice/status/51"));
    free(cu);
    remove_dir(dir);
}

/* The archive writes records itself; they must be byte for byte what
 * ck_message_to_json dumps (JSON_COMPACT), hostile strings included. */
static void test_record_matches_jansson(void **state)
{
    char dir[64];
    session_dir(dir, sizeof dir);
    write_file(dir, "session.json", SESSION("mastodon"));
    write_file(
        dir, "journal.jsonl",
        LINE("mastodon",
             "{\"id\":\"42\",\"created_at\":\"2026-12-03T21:00:00.5+01:00\","
             "\"url\":\"https://glammr.us/@a/42\",\"in_reply_to_id\":\"7\","
             "\"edited_at\":\"2026-12-03T19:10:00Z\",\"replies_count\":9223372036854775807,"
             "\"favourites_count\":-3,\"account\":{\"id\":\"\\\"\\\\\",\"acct\":\"a\\u0001\","
             "\"display_name\":\"<img src=x onerror=alert(1)>\\u202e\\u2028\\u007f\\t\"},"
             "\"content\":\"<p>\\\"quoted\\\" back\\\\slash<br>line é 🙂 &lt;b&gt;\\u0002</p>"
             "<p>para</p>\",\"media_attachments\":[{\"type\":\"image\",\"description\":"
             "\"alt\\r\\n\",\"url\":\"https://x/y.png\"}]}")
            LINE("mastodon", "{\"id\":\"43\",\"created_at\":\"2026-12-03T20:00:00Z\","
                             "\"account\":{\"id\":\"9\",\"username\":\"u\"},\"reblog\":"
                             "{\"id\":\"42\"}}"));
    assert_int_equal(ck_archive_build(dir, NULL, NULL), 0);
    char *out = read_file(dir, "messages.jsonl");
    const char *p = out;
    size_t n = 0;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        json_error_t je;
        json_t *rec = json_loadb(p, (size_t)(nl - p), 0, &je);
        assert_non_null(rec);
        /* Back to a message and through ck_message_to_json: the same bytes. */
        struct ck_message m = {0};
        const json_t *a = json_object_get(rec, "author"), *c = json_object_get(rec, "counts");
        m.id = (char *)json_string_value(json_object_get(rec, "id"));
        m.platform = (char *)json_string_value(json_object_get(rec, "platform"));
        m.url = (char *)json_string_value(json_object_get(rec, "url"));
        m.author.id = (char *)json_string_value(json_object_get(a, "id"));
        m.author.handle = (char *)json_string_value(json_object_get(a, "handle"));
        m.author.name = (char *)json_string_value(json_object_get(a, "name"));
        m.author.url = (char *)json_string_value(json_object_get(a, "url"));
        m.text = (char *)json_string_value(json_object_get(rec, "text"));
        m.reply_to = (char *)json_string_value(json_object_get(rec, "reply_to"));
        m.boost_of = (char *)json_string_value(json_object_get(rec, "boost_of"));
        m.edited_at = (char *)json_string_value(json_object_get(rec, "edited_at"));
        m.replies = (long)json_integer_value(json_object_get(c, "replies"));
        m.boosts = (long)json_integer_value(json_object_get(c, "boosts"));
        m.likes = (long)json_integer_value(json_object_get(c, "likes"));
        assert_int_equal(ck_time_parse_rfc3339(
                             json_string_value(json_object_get(rec, "created_at")), &m.created_ms),
                         0);
        json_t *ref = ck_message_to_json(&m);
        assert_non_null(ref);
        char *dumped = json_dumps(ref, JSON_COMPACT);
        assert_non_null(dumped);
        /* The line is the record with the grouping added before its last brace. */
        size_t len = strlen(dumped) - 1;
        assert_true((size_t)(nl - p) > len);
        assert_memory_equal(dumped, p, len);
        assert_true(strncmp(p + len, ",\"questions\":[", 14) == 0);
        free(dumped);
        json_decref(ref);
        json_decref(rec);
        p = nl + 1;
        n++;
    }
    assert_int_equal(n, 2);
    assert_non_null(strstr(out, "\\u0001")); /* control characters escaped */
    assert_non_null(strstr(out, "\\\"quoted\\\" back\\\\slash"));
    free(out);
    remove_dir(dir);
}

/* ck_atomic_*: commit replaces the file; abort leaves the old one and no temp. */
static void test_atomic_file(void **state)
{
    char dir[] = "/tmp/ck-atomic-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], tmp[600];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    write_file(dir, "f.txt", "old\n");

    /* More than the 64 KB buffer, in pieces of every size, one bigger than it. */
    size_t total = 0;
    char *big = malloc(200000);
    assert_non_null(big);
    for (size_t i = 0; i < 200000; i++)
        big[i] = (char)('a' + i % 26);
    struct ck_atomic_file *f;
    struct ck_error err = {0};
    assert_int_equal(ck_atomic_open(path, &f, &err), 0);
    for (size_t len = 0; total + len <= 200000 - 100000; len += 37) {
        assert_int_equal(ck_atomic_write(f, big + total, len, &err), 0);
        total += len;
    }
    assert_int_equal(ck_atomic_write(f, big + total, 100000, &err), 0);
    total += 100000;
    assert_int_equal(access(tmp, F_OK), 0);
    char *before = read_file(dir, "f.txt");
    assert_string_equal(before, "old\n"); /* nothing visible before the commit */
    free(before);
    assert_int_equal(ck_atomic_commit(f, &err), 0);
    assert_int_equal(access(tmp, F_OK), -1);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    char *back = malloc(total + 1);
    assert_non_null(back);
    assert_int_equal(fread(back, 1, total + 1, in), total);
    fclose(in);
    assert_memory_equal(back, big, total);
    free(back);
    free(big);

    /* Abort: the committed file stays, the temp file goes. */
    write_file(dir, "f.txt", "kept\n");
    assert_int_equal(ck_atomic_open(path, &f, &err), 0);
    assert_int_equal(ck_atomic_write(f, "new\n", 4, &err), 0);
    assert_int_equal(access(tmp, F_OK), 0);
    ck_atomic_abort(f);
    assert_int_equal(access(tmp, F_OK), -1);
    char *after = read_file(dir, "f.txt");
    assert_string_equal(after, "kept\n");
    free(after);
    ck_atomic_abort(NULL);

    /* A folder that does not exist: an error, nothing created. */
    err = (struct ck_error){0};
    assert_true(ck_atomic_open("/nonexistent/ck/f.txt", &f, &err) < 0);
    assert_null(f);
    assert_non_null(strstr(err.msg, "/nonexistent/ck/f.txt"));
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_empty_and_missing),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_quotes_and_boosts),
        cmocka_unit_test(test_record_matches_jansson),
        cmocka_unit_test(test_atomic_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
