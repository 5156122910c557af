/* What the poster says and the key it says it under: ck_poster_text (the
 * question format, the hashtag added once and never doubled) and ck_poster_key
 * (stable for the same session and step, distinct across steps and sessions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/poster.h"

static struct ck_session session(char *hashtag, char *format)
{
    struct ck_session s;
    memset(&s, 0, sizeof s);
    s.hashtag = hashtag;
    s.question_format = format;
    s.start_ms = 1796328000000; /* 2026-12-03T20:00:00Z */
    s.missed_step_limit_ms = 600000;
    return s;
}

static char *text_of(const struct ck_session *s, enum ck_sched_kind kind, int n, const char *t)
{
    struct ck_step step = {.number = n, .text = (char *)t};
    struct ck_sched_entry e = {.kind = kind, .number = n, .step = &step};
    char *out = ck_poster_text(s, &e);
    assert_non_null(out);
    return out;
}

static void expect_text(const struct ck_session *s, enum ck_sched_kind kind, int n,
                        const char *text, const char *want)
{
    char *got = text_of(s, kind, n, text);
    assert_string_equal(got, want);
    free(got);
}

static void test_default_format(void **state)
{
    struct ck_session s = session("uklibchat", NULL);
    expect_text(&s, CK_SCHED_QUESTION, 3, "What do you read?", "Q3 What do you read? #uklibchat");
    expect_text(&s, CK_SCHED_QUESTION, 12, "caf\xc3\xa9 & tea = 100%?",
                "Q12 caf\xc3\xa9 & tea = 100%? #uklibchat");
    struct ck_session d = session("uklibchat", "Q{n} {text} #{hashtag}");
    expect_text(&d, CK_SCHED_QUESTION, 1, "Why?", "Q1 Why? #uklibchat");
}

static void test_custom_format(void **state)
{
    struct ck_session s =
        session("uklibchat", "#{hashtag} Question {n}: {text} (answer with A{n})");
    expect_text(&s, CK_SCHED_QUESTION, 2, "Best tool?",
                "#uklibchat Question 2: Best tool? (answer with A2)");
    struct ck_session t = session("chat", "{text} {unknown} {n");
    expect_text(&t, CK_SCHED_QUESTION, 1, "x", "x {unknown} {n"); /* left as written */
}

static void test_hashtag_not_doubled(void **state)
{
    struct ck_session s = session("uklibchat", NULL);
    expect_text(&s, CK_SCHED_WELCOME, 0, "Welcome to tonight's chat!",
                "Welcome to tonight's chat! #uklibchat");
    expect_text(&s, CK_SCHED_WELCOME, 0, "Welcome to #UKLibChat, all!",
                "Welcome to #UKLibChat, all!");
    expect_text(&s, CK_SCHED_CLOSING, 0, "Thanks! #uklibchat", "Thanks! #uklibchat");
    /* A longer tag that merely starts with ours is not ours. */
    expect_text(&s, CK_SCHED_CLOSING, 0, "See #uklibchat2 next", "See #uklibchat2 next #uklibchat");
    /* A question that names the tag does not get it again from the format. */
    expect_text(&s, CK_SCHED_QUESTION, 4, "Your #uklibchat highlight?",
                "Q4 Your #uklibchat highlight?");
    expect_text(&s, CK_SCHED_QUESTION, 5, "Ends with #UKLIBCHAT", "Q5 Ends with #UKLIBCHAT");
    /* A hashtag given with its '#' is used once. */
    struct ck_session h = session("#uklibchat", NULL);
    expect_text(&h, CK_SCHED_QUESTION, 1, "Why?", "Q1 Why? #uklibchat");
    expect_text(&h, CK_SCHED_WELCOME, 0, "Hi", "Hi #uklibchat");
}

static void test_no_step(void **state)
{
    struct ck_session s = session("uklibchat", NULL);
    struct ck_sched_entry end = {.kind = CK_SCHED_END};
    assert_null(ck_poster_text(&s, &end));
}

static void key_of(const struct ck_session *s, enum ck_sched_kind kind, int n, char buf[64])
{
    struct ck_step step = {.number = n, .text = "irrelevant"};
    struct ck_sched_entry e = {.kind = kind, .number = n, .at_ms = s->start_ms, .step = &step};
    memset(buf, 'x', 64);
    ck_poster_key(s, &e, buf, 64);
    assert_true(strlen(buf) < 64);
}

static void test_key(void **state)
{
    struct ck_session s = session("uklibchat", NULL);
    char a[64], b[64], c[64], w[64], cl[64];
    key_of(&s, CK_SCHED_QUESTION, 3, a);
    key_of(&s, CK_SCHED_QUESTION, 3, b);
    assert_string_equal(a, b); /* stable */
    assert_int_equal(strncmp(a, "ck-", 3), 0);
    assert_int_equal(strlen(a), strlen("ck-0123456789abcdef-q3"));
    assert_string_equal(a + strlen(a) - 3, "-q3");
    key_of(&s, CK_SCHED_QUESTION, 4, c);
    key_of(&s, CK_SCHED_WELCOME, 0, w);
    key_of(&s, CK_SCHED_CLOSING, 0, cl);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, w);
    assert_string_not_equal(w, cl);
    assert_string_equal(w + strlen(w) - 8, "-welcome");
    /* Another session (a week later, or another tag) never shares a key. */
    struct ck_session later = session("uklibchat", NULL);
    later.start_ms += 7 * 86400000LL;
    key_of(&later, CK_SCHED_QUESTION, 3, b);
    assert_string_not_equal(a, b);
    struct ck_session other = session("otherchat", NULL);
    key_of(&other, CK_SCHED_QUESTION, 3, b);
    assert_string_not_equal(a, b);
    /* The tag's case does not make another chat; the text does not matter. */
    struct ck_session upper = session("UKLibChat", "{text}");
    key_of(&upper, CK_SCHED_QUESTION, 3, b);
    assert_string_equal(a, b);
}

/* A reminder fills its template from the session: the bare tag, the title,
 * the agenda address, and the start's local date and time; nothing is added. */
static void test_reminder(void **state)
{
    (void)state;
    struct ck_session s = session("#uklibchat", NULL);
    s.title = "New year, new skills";
    s.timezone = "Europe/London";
    s.agenda_url = "https://example.org/agenda";
    expect_text(&s, CK_SCHED_REMINDER, 1,
                "Tomorrow at {{time}} ({{date}}): {{title}} #{{hashtag}} {{agenda_url}} {{x}",
                "Tomorrow at 20:00 (2026-12-03): New year, new skills #uklibchat "
                "https://example.org/agenda {{x}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_format),
        cmocka_unit_test(test_custom_format),
        cmocka_unit_test(test_hashtag_not_doubled),
        cmocka_unit_test(test_no_step),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_reminder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
