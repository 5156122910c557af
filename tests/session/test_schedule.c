/* The timetable: order, labels, and what `check` prints, on the night the
 * clocks go back in London. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/config.h"
#include "chatkeeper/schedule.h"
#include "chatkeeper/timeutil.h"

static const char FALL_BACK[] =
    "{\"title\": \"Clocks\", \"hashtag\": \"uklibchat\", \"timezone\": \"Europe/London\",\n"
    " \"start\": \"2026-10-25T00:30\", \"duration\": \"2h\", \"lead\": \"0m\", \"grace\": "
    "\"10m\",\n"
    " \"platform\": {\"type\": \"mastodon\", \"base_url\": \"http://localhost:8765\"},\n"
    " \"post\": false,\n"
    " \"welcome\": {\"at\": \"0m\", \"text\": \"Hello\"},\n"
    " \"questions\": [{\"at\": \"1h\", \"text\": \"An hour in\\nstill BST?\"},\n"
    "               {\"at\": \"1h30m\", \"text\": \"" /* 61 characters, some not ASCII */
    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 this question is long enough to be cut in the "
    "timetable\"}],\n"
    " \"closing\": {\"at\": \"2h\", \"text\": \"Bye\"}}\n";

static void load(struct ck_session *s, struct ck_schedule *sch)
{
    struct ck_error err = {0};
    int rc = ck_session_load_buffer("fb.json", FALL_BACK, sizeof FALL_BACK - 1, s, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(ck_schedule_build(s, sch), 0);
}

static void test_order(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_schedule sch;
    load(&s, &sch);
    static const struct {
        enum ck_sched_kind kind;
        const char *label, *utc;
    } want[] = {
        {CK_SCHED_LEAD, "lead start", "2026-10-24T23:30:00.000Z"},
        {CK_SCHED_WELCOME, "welcome", "2026-10-24T23:30:00.000Z"},
        {CK_SCHED_QUESTION, "Q1", "2026-10-25T00:30:00.000Z"},
        {CK_SCHED_QUESTION, "Q2", "2026-10-25T01:00:00.000Z"},
        {CK_SCHED_CLOSING, "closing", "2026-10-25T01:30:00.000Z"},
        {CK_SCHED_END, "end", "2026-10-25T01:30:00.000Z"},
        {CK_SCHED_GRACE, "end of grace", "2026-10-25T01:40:00.000Z"},
    };
    assert_int_equal(sch.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sch.n; i++) {
        char label[32], u[32];
        assert_int_equal(sch.entries[i].kind, want[i].kind);
        assert_string_equal(ck_sched_label(&sch.entries[i], label, sizeof label), want[i].label);
        ck_time_format_rfc3339(sch.entries[i].at_ms, u);
        assert_string_equal(u, want[i].utc);
    }
    assert_int_equal(sch.entries[3].number, 2);
    assert_ptr_equal(sch.entries[3].step, &s.questions[1]);
    assert_null(sch.entries[0].step);
    assert_int_equal(sch.end_ms - sch.start_ms, 2 * 3600000);
    ck_schedule_finish(&sch);
    ck_session_finish(&s);
}

static void test_print(void **st)
{
    (void)st;
    struct ck_session s;
    struct ck_schedule sch;
    load(&s, &sch);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(ck_schedule_print(&s, &sch, f), 0);
    fclose(f);
    /* Local time with its abbreviation, UTC, and the text on one line. */
    assert_non_null(strstr(text, "welcome            +0s  2026-10-25 00:30:00 BST     "
                                 "2026-10-24T23:30:00Z  Hello\n"));
    assert_non_null(strstr(text, "Q1                 +1h  2026-10-25 01:30:00 BST     "
                                 "2026-10-25T00:30:00Z  An hour in still BST?\n"));
    assert_non_null(strstr(text,
                           "Q2              +1h30m  2026-10-25 01:00:00 GMT     "
                           "2026-10-25T01:00:00Z  \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
                           "this question is long enough to be cut in the timetabl\xe2\x80\xa6\n"));
    assert_non_null(strstr(text, "end of grace    +2h10m  2026-10-25 01:40:00 GMT     "
                                 "2026-10-25T01:40:00Z\n"));
    free(text);
    ck_schedule_finish(&sch);
    ck_session_finish(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
