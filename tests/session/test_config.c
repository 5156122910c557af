/* The session file: every kind of error with its exact file:line:column and
 * field, the defaults, the token rules and the two examples in config/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "chatkeeper/config.h"
#include "chatkeeper/timeutil.h"

/* A valid session; each error test changes one piece of it, keeping the
 * line layout, so positions below can be read off this text. */
static const char BASE[] =
    "{\n"                                  /* 1 */
    "  \"title\": \"Online networks\",\n"  /* 2 */
    "  \"hashtag\": \"#uklibchat\",\n"     /* 3 */
    "  \"timezone\": \"Europe/London\",\n" /* 4 */
    "  \"start\": \"2026-12-03T20:00\",\n" /* 5 */
    "  \"duration\": \"1h30m\",\n"         /* 6 */
    "  \"platform\": {\"type\": \"mastodon\", \"base_url\": \"https://glammr.us/\", "
    "\"token_env\": \"CK_TEST_TOKEN\"},\n"                        /* 7 */
    "  \"welcome\": {\"at\": \"0m\", \"text\": \"Welcome!\"},\n"  /* 8 */
    "  \"questions\": [\n"                                        /* 9 */
    "    {\"at\": \"5m\", \"text\": \"Q one\"},\n"                /* 10 */
    "    {\"at\": \"20m\", \"text\": \"Q two\"}\n"                /* 11 */
    "  ],\n"                                                      /* 12 */
    "  \"closing\": {\"at\": \"1h25m\", \"text\": \"Thanks!\"}\n" /* 13 */
    "}\n";

/* Load BASE with the first occurrence of from replaced by to. */
static int load_with(const char *from, const char *to, struct ck_session *s, struct ck_error *err)
{
    char text[4096];
    const char *at = strstr(BASE, from);
    assert_non_null(at);
    int n = snprintf(text, sizeof text, "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
    assert_true(n > 0 && (size_t)n < sizeof text);
    ck_error_clear(err);
    return ck_session_load_buffer("cfg/t.json", text, (size_t)n, s, err);
}

/* The load must fail with CK_ECONFIG and exactly this message. */
static void expect_error(const char *from, const char *to, const char *msg)
{
    struct ck_session s;
    struct ck_error err = {0};
    int rc = load_with(from, to, &s, &err);
    if (rc != CK_ECONFIG || strcmp(err.msg, msg) != 0)
        print_error("rc %d\n got: %s\nwant: %s\n", rc, err.msg, msg);
    assert_int_equal(rc, CK_ECONFIG);
    assert_string_equal(err.msg, msg);
    assert_null(s.title); /* finished on error */
}

/* "platforms" (issue 11): several sources in one session. */
#define PLAT_LINE                                                                                  \
    "  \"platform\": {\"type\": \"mastodon\", \"base_url\": \"https://glammr.us/\", "              \
    "\"token_env\": \"CK_TEST_TOKEN\"},\n"
#define A_ENTRY                                                                                    \
    "{\"type\": \"mastodon\", \"base_url\": \"https://a.example/\", \"token_env\": \"T\"}"

static void test_platforms_list(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with(PLAT_LINE,
                               "  \"platforms\": [" A_ENTRY ", {\"type\": \"mastodon\", "
                               "\"base_url\": \"https://b.example\", \"post\": false, "
                               "\"name\": \"b\"}],\n",
                               &s, &err),
                     0);
    assert_int_equal(ck_session_n_platforms(&s), 2);
    assert_string_equal(s.platform.base_url, "https://a.example");
    assert_string_equal(s.platform.name, "mastodon:https://a.example");
    assert_true(s.platform.post);
    assert_string_equal(ck_session_platform_at(&s, 1)->base_url, "https://b.example");
    assert_string_equal(ck_session_platform_at(&s, 1)->name, "b");
    assert_false(ck_session_platform_at(&s, 1)->post); /* so it needs no token */
    assert_true(s.post);
    ck_session_finish(&s);
    /* "platform" is a list of one; an entry that does not post makes the session observe */
    assert_int_equal(load_with("\"token_env\": \"CK_TEST_TOKEN\"", "\"post\": false", &s, &err), 0);
    assert_int_equal(ck_session_n_platforms(&s), 1);
    assert_false(s.post);
    ck_session_finish(&s);

    expect_error("  \"platform\"", "  \"platforms\": [" A_ENTRY "],\n  \"platform\"",
                 "cfg/t.json:7:3: field 'platforms': expected either \"platform\" (one) or "
                 "\"platforms\" (a list), not both");
    expect_error(PLAT_LINE, "  \"platforms\": [" A_ENTRY ", " A_ENTRY "],\n",
                 "cfg/t.json:7:91: field 'platforms[1]': the same source as platforms[0] "
                 "(mastodon on https://a.example); expected each source once");
    expect_error(PLAT_LINE,
                 "  \"platforms\": [" A_ENTRY ", {\"type\": \"mastodon\", \"base_url\": "
                 "\"HTTPS://A.example\", \"post\": false}],\n",
                 "cfg/t.json:7:91: field 'platforms[1]': the same source as platforms[0] "
                 "(mastodon on HTTPS://A.example); expected each source once");
    expect_error(PLAT_LINE,
                 "  \"platforms\": [" A_ENTRY ", {\"type\": \"mastodon\", \"base_url\": "
                 "\"https://b.example\", \"name\": \"mastodon:https://a.example\", "
                 "\"post\": false}],\n",
                 "cfg/t.json:7:153: field 'platforms[1].name': the same name as platforms[0] "
                 "(\"mastodon:https://a.example\"); expected names apart");
    expect_error(PLAT_LINE,
                 "  \"platforms\": [" A_ENTRY ", {\"type\": \"friendica\", \"base_url\": "
                 "\"https://b.example\"}],\n",
                 "cfg/t.json:7:100: field 'platforms[1].type': unknown platform \"friendica\"; "
                 "expected \"mastodon\", \"bluesky\" or \"x\"");
    expect_error(PLAT_LINE,
                 "  \"platforms\": [" A_ENTRY ", {\"type\": \"mastodon\", \"base_url\": "
                 "\"http://b.example\", \"post\": false}],\n",
                 "cfg/t.json:7:124: field 'platforms[1].base_url': expected an https:// URL "
                 "(plain http:// only to a loopback host such as http://127.0.0.1:8765), got "
                 "\"http://b.example\"");
    expect_error(PLAT_LINE,
                 "  \"platforms\": [" A_ENTRY ", {\"type\": \"mastodon\", \"base_url\": "
                 "\"https://b.example\"}],\n",
                 "cfg/t.json:7:91: field 'platforms[1]': expected \"token_env\" or "
                 "\"token_file\" (posting needs a token; set \"post\": false to only follow "
                 "the hashtag there)");
    expect_error(PLAT_LINE, "  \"platforms\": [],\n",
                 "cfg/t.json:7:16: field 'platforms': expected a non-empty array of "
                 "{\"type\": ..., \"base_url\": ...}, got an array");
    expect_error(PLAT_LINE, "  \"platforms\": [" A_ENTRY ", 3],\n",
                 "cfg/t.json:7:91: field 'platforms[1]': expected an object {\"type\": ..., "
                 "\"base_url\": ...}, got 3");
}

static void test_valid(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("{", "{", &s, &err), 0);
    assert_string_equal(s.title, "Online networks");
    assert_string_equal(s.hashtag, "uklibchat");
    assert_string_equal(s.platform.base_url, "https://glammr.us");
    assert_string_equal(s.dir, "cfg");
    assert_string_equal(s.archive_dir, "archive"); /* unset: in the current directory */
    assert_string_equal(s.question_format, "Q{n} {text} #{hashtag}");
    int64_t want;
    assert_int_equal(ck_time_parse_rfc3339("2026-12-03T20:00:00Z", &want), 0);
    assert_int_equal(s.start_ms, want);
    assert_int_equal(s.duration_ms, 90 * 60000);
    assert_int_equal(s.lead_ms, 15 * 60000);
    assert_int_equal(s.grace_ms, 30 * 60000);
    assert_int_equal(s.missed_step_limit_ms, 10 * 60000);
    assert_int_equal(s.poll_chat_ms, 5000);
    assert_int_equal(s.poll_quiet_ms, 20000);
    assert_true(s.post);
    assert_false(s.thread);
    assert_int_equal(s.n_questions, 2);
    assert_int_equal(s.questions[1].number, 2);
    assert_int_equal(s.questions[1].at_ms, 20 * 60000);
    assert_string_equal(s.questions[1].text, "Q two");
    assert_true(s.has_welcome && s.has_closing);
    assert_int_equal(s.closing.at_ms, 85 * 60000);
    ck_session_finish(&s);
    ck_session_finish(&s); /* finishing twice is harmless */
}

/* An archive_dir written in the file is relative to the file's folder; unset,
 * it is "archive" where the command runs (the README's paths). */
static void test_archive_dir(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("{\n", "{\n  \"archive_dir\": \"out\",\n", &s, &err), 0);
    assert_string_equal(s.archive_dir, "cfg/out");
    ck_session_finish(&s);
    assert_int_equal(load_with("{\n", "{\n  \"archive_dir\": \"/srv/chats\",\n", &s, &err), 0);
    assert_string_equal(s.archive_dir, "/srv/chats");
    ck_session_finish(&s);
    assert_int_equal(load_with("{\n", "{\n", &s, &err), 0);
    assert_string_equal(s.archive_dir, "archive");
    ck_session_finish(&s);
}

static void test_start_with_offset(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("2026-12-03T20:00", "2026-07-03T20:00:30+01:00", &s, &err), 0);
    int64_t want;
    assert_int_equal(ck_time_parse_rfc3339("2026-07-03T19:00:30Z", &want), 0);
    assert_int_equal(s.start_ms, want);
    ck_session_finish(&s);
    /* Summer in London: local 20:00 is 19:00 UTC. */
    assert_int_equal(load_with("2026-12-03T20:00", "2026-07-03T20:00", &s, &err), 0);
    assert_int_equal(ck_time_parse_rfc3339("2026-07-03T19:00:00Z", &want), 0);
    assert_int_equal(s.start_ms, want);
    ck_session_finish(&s);
}

static void test_unknown_fields(void **st)
{
    (void)st;
    expect_error("\"duration\"", "\"durration\"",
                 "cfg/t.json:6:3: field 'durration': unknown field 'durration' "
                 "(did you mean 'duration'?)");
    expect_error("\"base_url\"", "\"baseurl\"",
                 "cfg/t.json:7:36: field 'platform.baseurl': unknown field 'baseurl' "
                 "(did you mean 'base_url'?)");
    expect_error("\"text\": \"Q two\"", "\"txet\": \"Q two\"",
                 "cfg/t.json:11:19: field 'questions[1].txet': unknown field 'txet' "
                 "(did you mean 'text'?)");
    expect_error("\"title\"", "\"colour\"",
                 "cfg/t.json:2:3: field 'colour': unknown field 'colour'");
}

static void test_secret_in_file(void **st)
{
    (void)st;
    expect_error("\"token_env\": \"CK_TEST_TOKEN\"", "\"token\": \"abc123\"",
                 "cfg/t.json:7:70: field 'platform.token': a token must never be in the session "
                 "file (it gets shared and archived); use \"token_env\" or a mode 0600 "
                 "\"token_file\"");
}

static void test_duplicate_key(void **st)
{
    (void)st;
    /* jansson's own position: the end of the duplicate key. */
    expect_error("\"hashtag\": \"#uklibchat\"", "\"title\": \"#uklibchat\"",
                 "cfg/t.json:3:9: duplicate object key near '\"title\"'");
}

static void test_syntax_error(void **st)
{
    (void)st;
    expect_error("\"Europe/London\",", "\"Europe/London\"",
                 "cfg/t.json:5:9: '}' expected near '\"start\"'");
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(ck_session_load_buffer("x.json", "[1]", 3, &s, &err), CK_ECONFIG);
    assert_string_equal(err.msg, "x.json:1:1: expected a JSON object { ... }");
    ck_error_clear(&err);
    assert_int_equal(ck_session_load_buffer("x.json", "", 0, &s, &err), CK_ECONFIG);
    assert_string_equal(err.msg, "x.json:1:1: '[' or '{' expected near end of file");
}

static void test_wrong_types(void **st)
{
    (void)st;
    expect_error("\"1h30m\"", "90",
                 "cfg/t.json:6:15: field 'duration': expected a duration like 90s, 5m or 1h30m, "
                 "got 90");
    expect_error("\"duration\": \"1h30m\",", "\"duration\": \"1h30m\", \"post\": \"yes\",",
                 "cfg/t.json:6:32: field 'post': expected true or false, got \"yes\"");
    expect_error("\"Online networks\"", "[\"Online networks\"]",
                 "cfg/t.json:2:12: field 'title': expected a non-empty string, got an array");
    expect_error("\"questions\": [\n    {\"at\": \"5m\", \"text\": \"Q one\"},\n"
                 "    {\"at\": \"20m\", \"text\": \"Q two\"}\n  ]",
                 "\"questions\": {\"at\": \"5m\", \"text\": \"Q one\"}",
                 "cfg/t.json:9:16: field 'questions': expected a non-empty array of "
                 "{\"at\": ..., \"text\": ...}, got an object");
}

static void test_bad_values(void **st)
{
    (void)st;
    expect_error("\"20m\"", "\"5 minutes\"",
                 "cfg/t.json:11:12: field 'questions[1].at': expected a duration like 90s, 5m "
                 "or 1h30m, got \"5 minutes\"");
    expect_error("2026-12-03T20:00", "2026-12-03 8pm",
                 "cfg/t.json:5:12: field 'start': expected a local time like 2026-12-03T20:00 "
                 "(seconds and an offset such as Z or +01:00 allowed), got \"2026-12-03 8pm\"");
    expect_error("2026-12-03T20:00", "2027-03-28T01:30",
                 "cfg/t.json:5:12: field 'start': 2027-03-28T01:30 does not exist in "
                 "Europe/London (the clocks skip it for daylight saving)");
    expect_error("Europe/London", "Europe/Londn",
                 "cfg/t.json:4:15: field 'timezone': unknown time zone \"Europe/Londn\"; "
                 "expected an IANA name like Europe/London");
    expect_error("Europe/London", "../../etc/passwd",
                 "cfg/t.json:4:15: field 'timezone': unknown time zone \"../../etc/passwd\"; "
                 "expected an IANA name like Europe/London");
    expect_error("#uklibchat", "#uk-lib-chat",
                 "cfg/t.json:3:14: field 'hashtag': expected letters, digits and underscores "
                 "(like \"uklibchat\"), got \"#uk-lib-chat\"");
    expect_error("\"mastodon\"", "\"x\"",
                 "cfg/t.json:7:15: field 'platform': expected \"user_token_env\" or "
                 "\"oauth1_env\" (or their _file forms): posting on X needs the account's own "
                 "credentials, not the app's bearer token; set \"post\": false to only follow "
                 "the hashtag");
    expect_error("\"mastodon\"", "\"myspace\"",
                 "cfg/t.json:7:24: field 'platform.type': unknown platform \"myspace\"; "
                 "expected \"mastodon\", \"bluesky\" or \"x\"");
    expect_error("{\"at\": \"0m\", \"text\": \"Welcome!\"}", "{\"at\": \"0m\", \"text\": \"\"}",
                 "cfg/t.json:8:35: field 'welcome.text': expected a non-empty string, got \"\"");
}

static void test_urls(void **st)
{
    (void)st;
    expect_error("https://glammr.us/", "http://glammr.us",
                 "cfg/t.json:7:48: field 'platform.base_url': expected an https:// URL (plain "
                 "http:// only to a loopback host such as http://127.0.0.1:8765), got "
                 "\"http://glammr.us\"");
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("https://glammr.us/", "http://127.0.0.1:8765/", &s, &err), 0);
    assert_string_equal(s.platform.base_url, "http://127.0.0.1:8765");
    ck_session_finish(&s);

    assert_true(ck_url_allowed("https://glammr.us"));
    assert_true(ck_url_allowed("HTTPS://example.social:8443/x"));
    assert_true(ck_url_allowed("http://127.0.0.1:8765"));
    assert_true(ck_url_allowed("http://127.10.20.30/"));
    assert_true(ck_url_allowed("http://localhost:3000"));
    assert_true(ck_url_allowed("http://[::1]:8080"));
    assert_false(ck_url_allowed("http://example.com"));
    assert_false(ck_url_allowed("http://127.0.0.1@evil.example/"));
    assert_false(ck_url_allowed("http://127.0.0.1.evil.example/"));
    assert_false(ck_url_allowed("http://128.0.0.1/"));
    assert_false(ck_url_allowed("http://0177.0.0.1/"));
    assert_false(ck_url_allowed("http://localhost.evil.example/"));
    assert_false(ck_url_allowed("http://[::2]/"));
    assert_false(ck_url_allowed("ftp://127.0.0.1/"));
    assert_false(ck_url_allowed("https://"));
    assert_false(ck_url_allowed("http://127.0.0.1:80x/"));
    assert_false(ck_url_allowed(NULL));
}

static void test_missing_required(void **st)
{
    (void)st;
    expect_error("  \"title\": \"Online networks\",\n", "",
                 "cfg/t.json:1:1: field 'title': required field is missing; expected a string");
    expect_error("\"type\": \"mastodon\", ", "",
                 "cfg/t.json:7:15: field 'platform.type': required field is missing; expected "
                 "a string");
    expect_error("\"at\": \"5m\", ", "",
                 "cfg/t.json:10:5: field 'questions[0].at': required field is missing; "
                 "expected a duration like 90s, 5m or 1h30m");
    expect_error("\"questions\": [\n    {\"at\": \"5m\", \"text\": \"Q one\"},\n"
                 "    {\"at\": \"20m\", \"text\": \"Q two\"}\n  ]",
                 "\"questions\": []",
                 "cfg/t.json:9:16: field 'questions': expected a non-empty array of "
                 "{\"at\": ..., \"text\": ...}, got an array");
}

static void test_steps(void **st)
{
    (void)st;
    expect_error("\"20m\"", "\"3m\"",
                 "cfg/t.json:11:12: field 'questions[1].at': out of order: expected later than "
                 "questions[0] (5m), got \"3m\"");
    expect_error("\"20m\"", "\"5m\"",
                 "cfg/t.json:11:12: field 'questions[1].at': at the same time as questions[0] "
                 "(5m); expected a later offset");
    /* duration is the plan: a closing may come in the grace period (issue 14) */
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("\"1h25m\"", "\"1h50m\"", &s, &err), 0);
    assert_int_equal(s.closing.at_ms, 110 * 60000);
    ck_session_finish(&s);
    expect_error("\"1h25m\"", "\"2h5m\"",
                 "cfg/t.json:13:21: field 'closing.at': expected an offset within the chat's "
                 "duration and grace (0s to 2h), got \"2h5m\"");
    expect_error("\"20m\"", "\"1h35m\"",
                 "cfg/t.json:11:12: field 'questions[1].at': expected an offset within the "
                 "chat's duration (0s to 1h30m), got \"1h35m\"");
    expect_error("{\"at\": \"0m\"", "{\"at\": \"5m\"",
                 "cfg/t.json:8:21: field 'welcome.at': at the same time as questions[0] (5m); "
                 "expected an earlier offset");
}

/* The live stream is on unless the platform entry says "streaming": false. */
static void test_streaming_switch(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("\"duration\"", "\"duration\"", &s, &err), 0);
    assert_true(s.platform.streaming);
    ck_session_finish(&s);
    assert_int_equal(load_with("\"token_env\": \"CK_TEST_TOKEN\"",
                               "\"token_env\": \"CK_TEST_TOKEN\", \"streaming\": false", &s, &err),
                     0);
    assert_false(s.platform.streaming);
    ck_session_finish(&s);
    expect_error(
        "\"token_env\": \"CK_TEST_TOKEN\"",
        "\"token_env\": \"CK_TEST_TOKEN\", \"streaming\": \"no\"",
        "cfg/t.json:7:113: field 'platform.streaming': expected true or false, got \"no\"");
}

static void test_facilitators_and_tokens(void **st)
{
    (void)st;
    expect_error(
        "\"duration\": \"1h30m\",",
        "\"duration\": \"1h30m\", \"facilitators\": [\"@a@b.org\", \"uklibchat@glammr.us\"],",
        "cfg/t.json:6:53: field 'facilitators[1]': expected a handle like "
        "\"@user@example.social\", got \"uklibchat@glammr.us\"");
    expect_error("\"token_env\": \"CK_TEST_TOKEN\"", "\"token_env\": \"X\", \"token_file\": \"t\"",
                 "cfg/t.json:7:88: field 'platform.token_file': expected only one of token_env "
                 "and token_file, got both");
    expect_error(", \"token_env\": \"CK_TEST_TOKEN\"", "",
                 "cfg/t.json:7:15: field 'platform': expected \"token_env\" or \"token_file\" "
                 "(posting needs a token; set \"post\": false to only follow the hashtag)");
    /* Observing needs no token. */
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(
        load_with(", \"token_env\": \"CK_TEST_TOKEN\"}", "}, \"post\": false", &s, &err), 0);
    assert_false(s.post);
    assert_null(s.platform.token_env);
    ck_session_finish(&s);
    assert_int_equal(
        load_with("\"duration\": \"1h30m\",",
                  "\"duration\": \"1h30m\", \"facilitators\": [\"@uklibchat@glammr.us\", "
                  "\"@mod_1@127.0.0.1:8765\"],",
                  &s, &err),
        0);
    assert_int_equal(s.n_facilitators, 2);
    assert_string_equal(s.facilitators[1], "@mod_1@127.0.0.1:8765");
    ck_session_finish(&s);
    /* Issue 11: a Bluesky handle in a session without Bluesky is a mistake
     * ("@user.example.org" for "@user@example.org"), said as such. */
    expect_error(
        "\"duration\": \"1h30m\",",
        "\"duration\": \"1h30m\", \"facilitators\": [\"@a@b.org\", \"@name.bsky.social\"],",
        "cfg/t.json:6:53: field 'facilitators[1]': \"@name.bsky.social\" is a Bluesky "
        "handle, and no entry of \"platforms\" is Bluesky; expected a handle like "
        "\"@user@example.social\"");
}

static void test_token_sources(void **st)
{
    (void)st;
    char dir[] = "/tmp/ck-test-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], name[160];
    snprintf(path, sizeof path, "%s/token", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("s3cr3t-token\n", f);
    fclose(f);
    struct ck_session s;
    struct ck_error err = {0};
    snprintf(name, sizeof name, "%s/session.json", dir);
    char text[4096];
    const char *from = "\"token_env\": \"CK_TEST_TOKEN\"";
    const char *at = strstr(BASE, from);
    int n = snprintf(text, sizeof text, "%.*s\"token_file\": \"token\"%s", (int)(at - BASE), BASE,
                     at + strlen(from));
    assert_int_equal(ck_session_load_buffer(name, text, (size_t)n, &s, &err), 0);
    assert_string_equal(s.platform.token_file, path);

    char *tok = NULL;
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(ck_session_token(&s, &tok, &err), CK_EUNSAFE);
    assert_null(tok);
    assert_non_null(strstr(err.msg, "mode 0644"));
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_null(strstr(err.msg, "s3cr3t"));

    ck_error_clear(&err);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(ck_session_token(&s, &tok, &err), 0);
    assert_string_equal(tok, "s3cr3t-token");
    free(tok);
    ck_session_finish(&s);
    unlink(path);
    rmdir(dir);

    assert_int_equal(load_with("{", "{", &s, &err), 0);
    unsetenv("CK_TEST_TOKEN");
    assert_int_equal(ck_session_token(&s, &tok, &err), CK_ECONFIG);
    assert_non_null(strstr(err.msg, "CK_TEST_TOKEN is not set"));
    setenv("CK_TEST_TOKEN", "abc", 1);
    ck_error_clear(&err);
    assert_int_equal(ck_session_token(&s, &tok, &err), 0);
    assert_string_equal(tok, "abc");
    free(tok);
    setenv("CK_TEST_TOKEN", "abc\r\nX-Evil: 1", 1);
    assert_int_equal(ck_session_token(&s, &tok, &err), CK_ECONFIG);
    ck_session_finish(&s);
}

/* A Bluesky entry: a handle and an app password (password_env or
 * password_file), never a token; each mistake named with its place. */
static void test_bluesky_entry(void **st)
{
    (void)st;
    const char *masto = "{\"type\": \"mastodon\", \"base_url\": \"https://glammr.us/\", "
                        "\"token_env\": \"CK_TEST_TOKEN\"}";
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with(masto,
                               "{\"type\": \"bluesky\", \"base_url\": \"https://bsky.social\", "
                               "\"handle\": \"@Name.bsky.social\", \"password_env\": \"BSKY_PW\"}",
                               &s, &err),
                     0);
    assert_string_equal(s.platform.type, "bluesky");
    assert_string_equal(s.platform.handle, "Name.bsky.social");
    assert_string_equal(s.platform.token_env, "BSKY_PW");
    setenv("BSKY_PW", "abcd-efgh-ijkl-mnop", 1);
    char *pw = NULL;
    assert_int_equal(ck_session_token(&s, &pw, &err), 0);
    assert_string_equal(pw, "abcd-efgh-ijkl-mnop");
    free(pw);
    ck_session_finish(&s);
    expect_error(masto,
                 "{\"type\": \"bluesky\", \"base_url\": \"https://bsky.social\", "
                 "\"password_env\": \"BSKY_PW\"}",
                 "cfg/t.json:7:15: field 'platform.handle': required field is missing; expected a "
                 "string");
    expect_error(masto,
                 "{\"type\": \"bluesky\", \"base_url\": \"https://bsky.social\", "
                 "\"handle\": \"a.bsky.social\", \"token_env\": \"T\"}",
                 "cfg/t.json:7:97: field 'platform.token_env': a bluesky entry has no "
                 "\"token_env\"; expected password_env or password_file");
    expect_error(masto,
                 "{\"type\": \"bluesky\", \"base_url\": \"https://bsky.social\", "
                 "\"handle\": \"not a handle\", \"password_env\": \"P\"}",
                 "cfg/t.json:7:80: field 'platform.handle': expected a Bluesky handle like "
                 "name.bsky.social, got \"not a handle\"");
    expect_error(masto,
                 "{\"type\": \"bluesky\", \"base_url\": \"https://bsky.social\", "
                 "\"handle\": \"a.bsky.social\"}",
                 "cfg/t.json:7:15: field 'platform': expected \"password_env\" or "
                 "\"password_file\" (an app password: Bluesky is read and written signed in)");
    expect_error("\"token_env\": \"CK_TEST_TOKEN\"}",
                 "\"token_env\": \"CK_TEST_TOKEN\", \"handle\": \"a.b\"}",
                 "cfg/t.json:7:100: field 'platform.handle': a mastodon entry has no "
                 "\"handle\"; expected token_env or token_file");
}

static void test_examples(void **st)
{
    (void)st;
    const char *root = getenv("CK_SRCDIR");
    assert_non_null(root);
    char path[512];
    struct ck_session s;
    struct ck_error err = {0};

    snprintf(path, sizeof path, "%s/config/uklibchat.json", root);
    if (ck_session_load(path, &s, &err) != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(err.code, 0);
    assert_string_equal(s.hashtag, "uklibchat");
    assert_string_equal(s.platform.base_url, "https://glammr.us");
    assert_string_equal(s.platform.token_env, "CHATKEEPER_TOKEN");
    assert_int_equal(s.n_questions, 6);
    assert_true(s.post);
    /* The README's `chatkeeper archive archive/DATE-TITLE`, typed in the project folder. */
    assert_string_equal(s.archive_dir, "archive");
    ck_session_finish(&s);

    snprintf(path, sizeof path, "%s/config/simulator.json", root);
    if (ck_session_load(path, &s, &err) != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(err.code, 0);
    assert_string_equal(s.platform.base_url, "http://127.0.0.1:8765");
    assert_false(s.post);
    assert_null(s.platform.token_env);
    assert_null(s.platform.token_file);
    assert_int_equal(s.n_questions, 6);
    ck_session_finish(&s);

    snprintf(path, sizeof path, "%s/config/does-not-exist.json", root);
    assert_true(ck_session_load(path, &s, &err) < 0);
}

/* Reminders: parsed as steps before the start; a bad template or duration
 * is an error at its field, on the line the reminder is on (14). */
static void expect_reminder_error(const char *reminders, const char *field, const char *why)
{
    char to[512];
    snprintf(to, sizeof to, "\"Thanks!\"},\n  %s", reminders);
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("\"Thanks!\"}", to, &s, &err), CK_ECONFIG);
    if (strncmp(err.msg, "cfg/t.json:14:", 14) != 0 || strstr(err.msg, field) == NULL ||
        strstr(err.msg, why) == NULL)
        print_error("got: %s\nwant at line 14: %s ... %s\n", err.msg, field, why);
    assert_int_equal(strncmp(err.msg, "cfg/t.json:14:", 14), 0);
    assert_non_null(strstr(err.msg, field));
    assert_non_null(strstr(err.msg, why));
}

static void test_reminders(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(load_with("\"Thanks!\"}",
                               "\"Thanks!\"},\n  \"agenda_url\": \"https://example.org/a\", "
                               "\"reminders\": [{\"before\": \"1d\", \"text\": \"Tomorrow: "
                               "{{title}} #{{hashtag}} {{agenda_url}}\"}, {\"before\": \"1h\", "
                               "\"text\": \"In an hour\"}]",
                               &s, &err),
                     0);
    assert_int_equal(s.n_reminders, 2);
    assert_int_equal(s.reminders[0].at_ms, -86400000);
    assert_int_equal(s.reminders[1].at_ms, -3600000);
    assert_int_equal(s.reminders[1].number, 2);
    assert_string_equal(s.agenda_url, "https://example.org/a");
    ck_session_finish(&s);
    expect_reminder_error("\"reminders\": [{\"before\": \"1d\", \"text\": \"{{titel}}\"}]",
                          "reminders[0].text", "unknown placeholder {{titel}}");
    expect_reminder_error("\"reminders\": [{\"before\": \"1d\", \"text\": \"{{agenda_url}}\"}]",
                          "reminders[0].text", "needs an \"agenda_url\"");
    expect_reminder_error("\"reminders\": [{\"before\": \"0s\", \"text\": \"x\"}]",
                          "reminders[0].before", "before the chat");
    expect_reminder_error("\"reminders\": [{\"text\": \"x\"}]", "before", "");
    expect_reminder_error("\"reminders\": {\"before\": \"1d\"}", "reminders", "expected an array");
}

/* Alerts: a webhook like any address we send to (https, or http on
 * loopback), one plain mail address that cannot add a header. */
static void test_alerts(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_error err = {0};
    assert_int_equal(
        load_with("\"Thanks!\"}",
                  "\"Thanks!\"},\n  \"alerts\": {\"webhook\": "
                  "\"https://ntfy.example.org/chat\", \"email\": \"team@example.org\"}",
                  &s, &err),
        0);
    assert_string_equal(s.alert_webhook, "https://ntfy.example.org/chat");
    assert_string_equal(s.alert_email, "team@example.org");
    ck_session_finish(&s);
    expect_reminder_error("\"alerts\": {\"webhook\": \"http://example.org/hook\"}",
                          "alerts.webhook", "expected an https:// address");
    expect_reminder_error("\"alerts\": {\"email\": \"team@example.org\\nBcc: x@evil.example\"}",
                          "alerts.email", "expected one plain address");
    expect_reminder_error("\"alerts\": {\"email\": \"a@b@example.org\"}", "alerts.email",
                          "expected one plain address");
    expect_reminder_error("\"alerts\": {\"slack\": \"x\"}", "alerts", "unknown field");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_start_with_offset),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_secret_in_file),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_facilitators_and_tokens),
        cmocka_unit_test(test_streaming_switch),
        cmocka_unit_test(test_token_sources),
        cmocka_unit_test(test_bluesky_entry),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_archive_dir),
        cmocka_unit_test(test_reminders),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_platforms_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
