/* Grouping as the archive runs it (archive_group.c): the last question runs
 * until the chat ends, not until the scheduled end (issue 14, from the real
 * March 2015 #critlib chat: Q6 "Time for pitches!" at 0:58 and every pitch
 * after 1:00 was filed outside the questions). */
#define _GNU_SOURCE
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
#include "chatkeeper/group.h"

#include "archive_int.h" /* ck_grouping_*: the archive's grouping, private to src/archive */

#define MIN 60000LL
/* 2015-03-10T21:00 New York (EDT) */
#define START 1426035600000LL

static void write_session(const char *dir, const char *closing)
{
    char path[512];
    snprintf(path, sizeof path, "%s/session.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"title\": \"Makerspaces\", \"hashtag\": \"critlib\", \"timezone\": "
            "\"America/New_York\", \"start\": \"2015-03-10T21:00\", \"duration\": \"1h\", "
            "\"grace\": \"30m\", \"platform\": {\"type\": \"mastodon\", \"base_url\": "
            "\"https://example.org\"}, \"post\": false, \"facilitators\": [\"@host@example.org\"], "
            "\"questions\": [{\"at\": \"10m\", \"text\": \"What aspects of makerspaces mesh "
            "well with critical librarianship?\"}, {\"at\": \"58m\", \"text\": \"Time for "
            "pitches! Share links about makerspaces and pedagogy.\"}]%s}\n",
            closing);
    fclose(f);
}

/* Questions of messages at these minutes, as the archive assigns them. */
static void assign(const char *dir, const int64_t *mins, size_t n, struct ck_group_msg *m)
{
    static const char *const ids[] = {"1", "2", "3", "4", "5", "6"};
    struct ck_grouping *g = NULL;
    struct ck_error err = {0};
    assert_int_equal(ck_grouping_open(dir, &g, &err), 0);
    for (size_t i = 0; i < n; i++) {
        memset(&m[i], 0, sizeof m[i]);
        m[i].id = ids[i];
        m[i].author = "@ann";
        m[i].created_ms = START + mins[i] * MIN;
        ck_group_scan_text(ck_grouping_scanner(g), "my pitch: a book on critical making", &m[i]);
    }
    assert_int_equal(ck_grouping_assign(g, m, n, &err), 0);
    ck_grouping_close(g);
}

static void test_last_question_runs_to_closing(void **st)
{
    (void)st;
    char dir[] = "/tmp/ck-archive-group-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const int64_t mins[] = {59, 62, 80, 84};
    struct ck_group_msg m[4];

    /* the closing came in the grace period: pitches until it are Q2's */
    write_session(dir, ", \"closing\": {\"at\": \"1h23m\", \"text\": \"Thanks all!\"}");
    assign(dir, mins, 4, m);
    assert_int_equal(m[0].n_questions, 1);
    assert_int_equal(m[1].n_questions, 1);
    assert_int_equal(m[1].questions[0], 2);
    assert_int_equal(m[2].n_questions, 1);
    assert_int_equal(m[3].n_questions, 0); /* after the closing */

    /* no closing at all: until the end of grace */
    write_session(dir, "");
    assign(dir, mins, 4, m);
    assert_int_equal(m[2].n_questions, 1);
    assert_int_equal(m[3].n_questions, 1);

    /* a closing within the duration: the plan stands */
    write_session(dir, ", \"closing\": {\"at\": \"59m30s\", \"text\": \"Thanks all!\"}");
    assign(dir, mins, 4, m);
    assert_int_equal(m[0].n_questions, 1);
    assert_int_equal(m[1].n_questions, 0);

    char path[512];
    snprintf(path, sizeof path, "%s/session.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_question_runs_to_closing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
