/* agenda.md and the .ics: TEXT escaping, folding at 75 octets on UTF-8
 * character boundaries, CRLF, hostile text, VTIMEZONE, deterministic bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/agenda.h"
#include "chatkeeper/timeutil.h"

static void test_escape(void **st)
{
    (void)st;
    char *out = NULL;
    assert_int_equal(ck_ics_escape("a\\b;c,d\ne\r\nf\tg\x01h", &out), 0);
    assert_string_equal(out, "a\\\\b\\;c\\,d\\ne\\nf gh");
    free(out);
    /* A literal backslash before 'n' stays two characters, not a newline. */
    assert_int_equal(ck_ics_escape("C:\\new", &out), 0);
    assert_string_equal(out, "C:\\\\new");
    free(out);
    assert_int_equal(ck_ics_escape("", &out), 0);
    assert_string_equal(out, "");
    free(out);
}

/* Fold `line` and check every physical line: <= 75 octets, CRLF, a leading
 * space on continuations, no split UTF-8 sequence; unfolding gives it back. */
static char *fold(const char *line, size_t *n_lines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(ck_ics_fold(m, line, strlen(line)), 0);
    assert_int_equal(fclose(m), 0);
    char *unfolded = calloc(len + 1, 1);
    assert_non_null(unfolded);
    size_t k = 0, n = 0;
    for (char *p = buf; *p != '\0'; n++) {
        char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        size_t octets = (size_t)(eol - p);
        assert_true(octets <= 75);
        const char *body = p;
        if (n > 0) {
            assert_int_equal(*p, ' ');
            body++;
        }
        /* A physical line never starts or ends inside a UTF-8 character. */
        assert_false(((unsigned char)*body & 0xC0) == 0x80 && body < eol);
        memcpy(unfolded + k, body, (size_t)(eol - body));
        k += (size_t)(eol - body);
        p = eol + 2;
    }
    assert_string_equal(unfolded, line);
    free(unfolded);
    *n_lines = n;
    return buf;
}

static void test_fold(void **st)
{
    (void)st;
    char line[400];
    size_t n;
    memset(line, 'x', 75);
    line[75] = '\0';
    free(fold(line, &n));
    assert_int_equal(n, 1); /* exactly 75 fits */
    line[75] = 'y';
    line[76] = '\0';
    char *out = fold(line, &n);
    assert_int_equal(n, 2);
    assert_string_equal(out + 77, " y\r\n");
    free(out);
    /* 2-, 3- and 4-byte characters at every alignment. */
    const char *chars[] = {"\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x8e\x89"};
    for (size_t c = 0; c < 3; c++) {
        for (size_t lead = 0; lead < 4; lead++) {
            size_t k = 0;
            k += (size_t)snprintf(line, sizeof line, "SUMMARY:%.*s", (int)lead, "abc");
            while (k + 4 < 300) {
                memcpy(line + k, chars[c], strlen(chars[c]));
                k += strlen(chars[c]);
            }
            line[k] = '\0';
            free(fold(line, &n));
            assert_true(n >= 4);
        }
    }
}

static const char *const plain_json =
    "{\"title\": \"Online networks\", \"hashtag\": \"uklibchat\", \"timezone\": "
    "\"Europe/London\", \"start\": \"2026-12-03T20:00\", \"duration\": \"1h30m\", "
    "\"platform\": {\"type\": \"mastodon\", \"base_url\": \"https://glammr.us\"}, \"post\": "
    "false, \"facilitators\": [\"@uklibchat@glammr.us\"], \"questions\": [{\"at\": \"5m\", "
    "\"text\": \"How do you use online networks?\"}]}";

static void load(const char *json, struct ck_session *s)
{
    struct ck_error err = {0};
    if (ck_session_load_buffer("mem.json", json, strlen(json), s, &err) != 0)
        fail_msg("%s", err.msg);
}

/* The .ics with folding undone, for searching. */
static char *unfold(const char *ics)
{
    char *u = strdup(ics);
    assert_non_null(u);
    size_t k = 0;
    for (const char *p = ics; *p != '\0'; p++) {
        if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
            p += 2;
            continue;
        }
        u[k++] = *p;
    }
    u[k] = '\0';
    return u;
}

static void test_ics_plain(void **st)
{
    (void)st;
    struct ck_session s;
    load(plain_json, &s);
    char *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    assert_int_equal(ck_agenda_ics(&s, &a, &al), 0);
    assert_int_equal(ck_agenda_ics(&s, &b, &bl), 0);
    assert_int_equal(al, bl); /* deterministic: same bytes */
    assert_memory_equal(a, b, al);
    /* CRLF everywhere, never a bare LF. */
    for (size_t i = 0; i < al; i++)
        if (a[i] == '\n')
            assert_int_equal(a[i - 1], '\r');
    assert_int_equal(strncmp(a, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:", 37), 0);
    char *u = unfold(a);
    assert_non_null(strstr(u, "\r\nCALSCALE:GREGORIAN\r\n"));
    assert_non_null(strstr(u, "\r\nDTSTART;TZID=Europe/London:20261203T200000\r\n"));
    assert_non_null(strstr(u, "\r\nDTEND;TZID=Europe/London:20261203T213000\r\n"));
    assert_non_null(strstr(u, "\r\nDTSTAMP:20261203T200000Z\r\n"));
    assert_non_null(strstr(u, "\r\nTZID:Europe/London\r\n"));
    /* The observance in force at the event: GMT since 2026-10-25. */
    assert_non_null(strstr(u, "BEGIN:STANDARD\r\nDTSTART:20261025T020000\r\nTZOFFSETFROM:+0100"
                              "\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT\r\nEND:STANDARD"));
    assert_non_null(strstr(u, "\r\nURL:https://glammr.us/tags/uklibchat\r\n"));
    char uid[64], line[96];
    ck_agenda_uid(&s, uid, sizeof uid);
    snprintf(line, sizeof line, "\r\nUID:%s\r\n", uid);
    assert_non_null(strstr(u, line));
    assert_int_equal(strlen(uid), 16 + strlen("@chatkeeper"));
    /* The UID depends on the start, not on the title. */
    struct ck_session t;
    load(plain_json, &t);
    free(t.title);
    t.title = strdup("Another title");
    char uid2[64];
    ck_agenda_uid(&t, uid2, sizeof uid2);
    assert_string_equal(uid, uid2);
    t.start_ms += 7 * 86400000LL;
    ck_agenda_uid(&t, uid2, sizeof uid2);
    assert_string_not_equal(uid, uid2);
    char slug[64];
    ck_agenda_slug(&s, slug, sizeof slug);
    assert_string_equal(slug, "uklibchat-2026-12-03");
    ck_session_finish(&t);
    free(u);
    free(a);
    free(b);
    ck_session_finish(&s);
}

static const char *const hostile_json =
    "{\"title\": \"<script>alert(1)</script>, x; y\\\\z\\n# not a heading [a](javascript:x)\", "
    "\"hashtag\": \"Evil_Tag\", \"timezone\": \"America/New_York\", \"start\": "
    "\"2027-07-08T19:00\", \"duration\": \"1h\", \"platform\": {\"type\": \"mastodon\", "
    "\"base_url\": \"https://example.social\"}, \"post\": false, \"questions\": [{\"at\": "
    "\"5m\", \"text\": \"a, b; c\\nd *e* _f_\"}]}";

static void test_hostile(void **st)
{
    (void)st;
    struct ck_session s;
    load(hostile_json, &s);
    char *ics = NULL, *md = NULL;
    size_t il = 0, ml = 0;
    assert_int_equal(ck_agenda_ics(&s, &ics, &il), 0);
    assert_int_equal(ck_agenda_markdown(&s, &md, &ml), 0);
    char *u = unfold(ics);
    assert_non_null(strstr(u, "\r\nSUMMARY:<script>alert(1)</script>\\, x\\; y\\\\z\\n# not a "
                              "heading [a](javascript:x)\r\n"));
    assert_non_null(strstr(u, "Q1 19:05 EDT: a\\, b\\; c\\nd *e* _f_\\n"));
    assert_non_null(strstr(u, "\r\nDTSTART;TZID=America/New_York:20270708T190000\r\n"));
    assert_non_null(strstr(u, "TZOFFSETTO:-0400\r\nTZNAME:EDT"));
    /* Markdown: one heading line, markup escaped, no raw tag. */
    assert_null(strstr(md, "<script>"));
    static const char heading[] = "# \\<script\\>alert\\(1\\)\\</script\\>, x; y\\\\z \\# not a "
                                  "heading \\[a\\]\\(javascript:x\\)\n\n";
    assert_int_equal(strncmp(md, heading, strlen(heading)), 0);
    assert_non_null(strstr(md, "**Q1** at 19:05 EDT (23:05 UTC): a, b; c d \\*e\\* \\_f\\_\n"));
    assert_non_null(strstr(md, "\\#Evil\\_Tag"));
    assert_non_null(strstr(md, "2027-07-08 23:00 to 2027-07-09 00:00 UTC"));
    char slug[64];
    ck_agenda_slug(&s, slug, sizeof slug);
    assert_string_equal(slug, "evil_tag-2027-07-08");
    free(u);
    free(ics);
    free(md);
    ck_session_finish(&s);
}

/* The second 01:30 of a fall-back night cannot be written with TZID (that
 * reads as the first), so it is written in UTC. */
static void test_repeated_start_in_utc(void **st)
{
    (void)st;
    static const char *json =
        "{\"title\": \"Late\", \"hashtag\": \"late\", \"timezone\": \"Europe/London\", "
        "\"start\": \"2027-10-31T01:30:00+00:00\", \"duration\": \"20m\", \"platform\": "
        "{\"type\": \"mastodon\", \"base_url\": \"https://x.example\"}, \"post\": false, "
        "\"questions\": [{\"at\": \"5m\", \"text\": \"q\"}]}";
    struct ck_session s;
    load(json, &s);
    char *ics = NULL;
    size_t il = 0;
    assert_int_equal(ck_agenda_ics(&s, &ics, &il), 0);
    assert_non_null(strstr(ics, "\r\nDTSTART:20271031T013000Z\r\n"));
    assert_non_null(strstr(ics, "\r\nDTEND:20271031T015000Z\r\n"));
    free(ics);
    ck_session_finish(&s);
}

static void test_md_escape(void **st)
{
    (void)st;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(ck_agenda_md_escape(m, "<b>*x*</b>\r\n[y](z) `c` | ~ & \\ #\x07!"), 0);
    fclose(m);
    assert_string_equal(buf,
                        "\\<b\\>\\*x\\*\\</b\\> \\[y\\]\\(z\\) \\`c\\` \\| \\~ \\& \\\\ \\#\\!");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_ics_plain),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_repeated_start_in_utc),
        cmocka_unit_test(test_md_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
