/* Grouping rules one at a time: the tag scanner (every form, and the prose
 * that must not read as a tag), question posts, chatter, reply chains, the
 * clock and the words, overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/group.h"

#define MIN 60000LL

static const struct ck_group_question questions[] = {
    {1, "What reading groups does your library run, and who comes to them?", 10 * MIN, NULL, NULL,
     0},
    {2, "How do you choose the books, and who gets a say?", 25 * MIN, NULL, NULL, 0},
    {3, "What makes a reading group accessible: large print, audio or online?", 40 * MIN, NULL,
     NULL, 0},
    {4, "What is the hardest thing about keeping a group going?", 55 * MIN, NULL, NULL, 0},
    {5, "What would you tell someone starting their first group?", 70 * MIN, NULL, NULL, 0},
};
static const char *const facilitators[] = {"@host@example.org", "@cohost"};

static struct ck_group_conf conf(void)
{
    struct ck_group_conf c = {questions, 5, facilitators, 2, "#readchat", 0, 90 * MIN};
    return c;
}

static struct ck_group_scanner *scanner(void)
{
    struct ck_group_conf c = conf();
    struct ck_group_scanner *s = NULL;
    assert_int_equal(ck_group_scanner_create(&c, &s, NULL), 0);
    return s;
}

/* Tags of one text as a string "1,2" ("" for none). */
static const char *tags_of(const char *text)
{
    static char out[64];
    struct ck_group_scanner *s = scanner();
    struct ck_group_msg m = {0};
    ck_group_scan_text(s, text, &m);
    ck_group_scanner_destroy(s);
    out[0] = '\0';
    for (size_t i = 0; i < m.n_tags; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%d", i ? "," : "", m.tags[i]);
    }
    return out;
}

static void test_tag_forms(void **st)
{
    (void)st;
    static const char *const cases[][2] = {
        {"A1 a weekly group at lunchtime", "1"},
        {"A1: a weekly group", "1"},
        {"a1. mostly retired people", "1"},
        {"A1 - crime fiction", "1"},
        {"A1- crime fiction", "1"},
        {"A 1 crime fiction", "1"},
        {"A1a and another thing", "1"},
        {"A2.1 following up on my own answer", "2"},
        {"Q1 A: we run three groups", "1"},
        {"Q1A we run three groups", "1"},
        {"Q2: the group votes", "2"},
        {"(A1) we run three groups", "1"},
        {"A1/A2 both really", "1,2"},
        {"A4/5 one step for both", "4,5"},
        {"Q1 and Q2 both, honestly", "1,2"},
        {"@ann @bob@example.org A3 large print", "3"},
        {".@ann A3 large print", "3"},
        {"#readchat A1 a weekly group", "1"},
        {"#ReadChat: A2 they vote", "2"},
        {"#a2 they vote on it", "2"},
        {"our group votes #q2", "2"},
        {"large print and audio, mostly. #readchat A3", "3"},
        {"Agreed with everyone. A3: large print", "3"},
        {"A10 is not a question yet but is a tag", "10"},
        /* a label after a short lead-in and a dash */
        {"Bea again - A2 I meant to add: we vote on it", "2"},
        {"Ann here \u2013 A3 large print", "3"},
        {"@ann sorry: A4 funding, every year", "4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = tags_of(cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("\"%s\": tags \"%s\", want \"%s\"", cases[i][0], got, cases[i][1]);
    }
}

static void test_tag_false_friends(void **st)
{
    (void)st;
    static const char *const prose[] = {
        "a 4-year degree and 20 minutes of induction",
        "A 4-year-old could make a zine",
        "Q1 earnings calls get archived forever",
        "Q1 2015 was a bad quarter",
        "A1 sauce would improve it",
        "our Q1 figures went up",
        "I drove up the A1 to get here",
        "a lot of people come",
        "A100 is too many digits",
        "RT @ann: A2 they vote",
        "Love this. RT @ann: A2 they vote",
        "forgot to tag: that was A3 #readchat",
        "the Q2 answer above",
        "",
    };
    for (size_t i = 0; i < sizeof prose / sizeof prose[0]; i++) {
        const char *got = tags_of(prose[i]);
        if (got[0] != '\0')
            fail_msg("\"%s\": tags \"%s\", want none", prose[i], got);
    }
    assert_string_equal(tags_of(NULL), "");
}

static void test_retweet_and_flags(void **st)
{
    (void)st;
    struct ck_group_scanner *s = scanner();
    struct ck_group_msg m = {0};
    ck_group_scan_text(s, "RT @ann: A2 they vote #readchat", &m);
    assert_true(m.boost);
    assert_int_equal(m.n_tags, 0);
    struct ck_group_msg q = {0};
    ck_group_scan_text(s, "OK, time for Q3! Q3 What makes a group accessible?", &q);
    assert_false(q.boost);
    assert_int_equal(q.q_mention, 3);
    assert_int_equal(q.n_tags, 0); /* "OK," opens it: not a tag */
    assert_true(q.flags & CK_GROUP_F_QMARK);
    assert_false(q.flags & CK_GROUP_F_ANSWERISH);
    struct ck_group_msg a = {0};
    ck_group_scan_text(s, "Q1 for me: three groups, all busy", &a);
    assert_int_equal(a.q_mention, 1);
    assert_true(a.flags & CK_GROUP_F_ANSWERISH);
    struct ck_group_msg b = {0};
    ck_group_scan_text(s, "Q3: I feel like audio helped most", &b);
    assert_true(b.flags & CK_GROUP_F_ANSWERISH);
    /* content words: large print, audio -> Q3 */
    struct ck_group_msg c = {0};
    ck_group_scan_text(s, "Audio books and large print copies for everyone", &c);
    assert_int_equal(c.content_q, 3);
    assert_true(c.hits[2] >= 3);
    ck_group_scanner_destroy(s);
}

static void test_chatter(void **st)
{
    (void)st;
    static const struct {
        const char *text;
        int level;
    } cases[] = {
        {"Hi #readchat! Ann, librarian in Leeds", CK_GROUP_CHATTER_WEAK},
        {"Hello from Cardiff", CK_GROUP_CHATTER_WEAK},
        {"Evening all, lurking tonight", CK_GROUP_CHATTER_STRONG},
        {"forgot to tag Q2, sorry", CK_GROUP_CHATTER_STRONG},
        {"Thanks all, see you next time!", CK_GROUP_CHATTER_STRONG},
        {"is the chat starting? quiet here", CK_GROUP_CHATTER_STRONG},
        {"Thanks for hosting @host", CK_GROUP_CHATTER_STRONG},
        {"@ann thanks, good point", CK_GROUP_CHATTER_WEAK},
        {"Thanks to austerity we lost our book group sets", CK_GROUP_CHATTER_NO},
        {"We read crime fiction, mostly", CK_GROUP_CHATTER_NO},
        /* people's comings and goings */
        {"so sorry I'm late, the bus broke down", CK_GROUP_CHATTER_STRONG},
        {"Late to #readchat, I'm Ann, a school librarian in Leeds", CK_GROUP_CHATTER_STRONG},
        {"just joining! hi all, lovely to see everyone", CK_GROUP_CHATTER_STRONG},
        /* ... but an arrival said in passing before an answer is a preface
         * (real March #critlib: the answer and its reply were lost) */
        {"Late to #critlib... makerspaces=not 3d print/tech only- but space to experiment,fail,"
         "learn,  cross pollinate, collaborate, fabricate",
         CK_GROUP_CHATTER_NO},
        {"sorry I'm late! we run our reading group online since the branch closed",
         CK_GROUP_CHATTER_NO},
        {"brb, phone", CK_GROUP_CHATTER_STRONG},
        {"back! what did I miss?", CK_GROUP_CHATTER_STRONG},
        {"just here to say this chat is always the best bit of my week", CK_GROUP_CHATTER_STRONG},
        {"toddler asleep on me so typing one-handed", CK_GROUP_CHATTER_STRONG},
        {"gotta run, bye for now", CK_GROUP_CHATTER_STRONG},
        {"anyone else finding Q4 tricky?", CK_GROUP_CHATTER_STRONG},
        /* replies with nothing in them */
        {"@ann lol yes", CK_GROUP_CHATTER_STRONG},
        {"haha same", CK_GROUP_CHATTER_STRONG},
        {"thank you!! \U0001F64F", CK_GROUP_CHATTER_STRONG},
        {"@bob welcome!", CK_GROUP_CHATTER_STRONG},
        {"\U0001F44F\U0001F44F", CK_GROUP_CHATTER_STRONG},
        {"good luck with the funding bid!", CK_GROUP_CHATTER_STRONG},
        {"dog on my lap here", CK_GROUP_CHATTER_STRONG},
        {"cat on lap tonight", CK_GROUP_CHATTER_STRONG},
        {"students bring work on laptops", CK_GROUP_CHATTER_NO},
        {"students catching up on reading", CK_GROUP_CHATTER_NO},
        /* agreeing, or agreeing and adding: not chatter markers */
        {"@ann same here", CK_GROUP_CHATTER_NO},
        {"yes! we do the same with our volunteers", CK_GROUP_CHATTER_NO},
        {"(we had a lot of cake)", CK_GROUP_CHATTER_NO},
        {"@ann 100% and 0%", CK_GROUP_CHATTER_NO},
    };
    struct ck_group_scanner *s = scanner();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ck_group_msg m = {0};
        ck_group_scan_text(s, cases[i].text, &m);
        if (m.chatter != cases[i].level)
            fail_msg("\"%s\": chatter %d, want %d", cases[i].text, m.chatter, cases[i].level);
    }
    ck_group_scanner_destroy(s);
}

/* Moderators' announcements: chatter, and their numbers are not tags. */
static void test_announcements(void **st)
{
    (void)st;
    static const char *const meta[] = {
        "Q2 coming up in a moment, thinking caps on",
        "Lovely answers to Q1! Q2 in a couple of minutes",
        "Quick reminder: number your answers A1, A2 so the threads make sense",
        "Q3 is next and @cohost is posting it!",
        "Q4 in a sec, grab a drink",
        "Two mins to Q5",
        "Final question coming up!",
        "@bob Q2 is up, scroll up a bit",
        "Kettle break before Q3",
    };
    struct ck_group_scanner *s = scanner();
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        struct ck_group_msg m = {0};
        ck_group_scan_text(s, meta[i], &m);
        if (m.chatter != CK_GROUP_CHATTER_STRONG || !(m.flags & CK_GROUP_F_META))
            fail_msg("\"%s\": chatter %d, flags %d, want an announcement", meta[i], m.chatter,
                     m.flags);
    }
    /* answers that mention what comes next are not announcements */
    static const char *const answers[] = {
        "A2 our new group is coming along nicely",
        "Q3: I feel like audio is next for us",
        "we remind people a week before",
        "Q1 coming from a school library: lunchtime groups",
        "Q2 in a nutshell: the group votes",
        "Q2 - next year we want the group to choose",
        "A3 we send an email reminder: date, time, book",
    };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        struct ck_group_msg m = {0};
        ck_group_scan_text(s, answers[i], &m);
        if (m.flags & CK_GROUP_F_META)
            fail_msg("\"%s\": read as an announcement", answers[i]);
    }
    ck_group_scanner_destroy(s);
}

/* A small chat built from texts: scan, assign, return the results. */
struct row {
    const char *id, *reply_to, *author;
    int64_t min;
    const char *text;
    bool boost;
};

static void run(struct ck_group_conf *c, const struct row *rows, size_t n, struct ck_group_msg *m,
                const json_t *ov, int want_rc)
{
    struct ck_group_scanner *s = NULL;
    assert_int_equal(ck_group_scanner_create(c, &s, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        memset(&m[i], 0, sizeof m[i]);
        m[i].id = rows[i].id;
        m[i].reply_to = rows[i].reply_to;
        m[i].author = rows[i].author;
        m[i].created_ms = rows[i].min * MIN;
        m[i].boost = rows[i].boost;
        ck_group_scan_text(s, rows[i].text, &m[i]);
    }
    ck_group_scanner_destroy(s);
    struct ck_error err = {0};
    assert_int_equal(ck_group_assign(c, m, n, ov, &err), want_rc);
}

static void expect(const struct ck_group_msg *m, int q, enum ck_assigned_by by)
{
    if (q == 0) {
        if (m->n_questions != 0 || m->by != by)
            fail_msg("%s: got %d questions (first %d) by %d, want none by %d", m->id,
                     m->n_questions, m->questions[0], m->by, by);
        return;
    }
    if (m->n_questions != 1 || m->questions[0] != q || m->by != by)
        fail_msg("%s: got %d questions (first %d) by %d, want [%d] by %d", m->id, m->n_questions,
                 m->questions[0], m->by, q, by);
}

static void test_question_posts(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"w", NULL, "@host@example.org", 1, "Welcome! We'll post Q1, Q2 ... answer with A1", 0},
        {"q1", NULL, "@host@example.org", 10,
         "Q1 What reading groups does your library run, and who comes to them? #readchat", 0},
        {"f1", NULL, "@cohost", 11, "Q1 for me: a crime group and a poetry group", 0},
        {"p1", NULL, "@ann@x.org", 12, "Q1 retired teachers, mostly", 0},
        {"q2", NULL, "@COHOST", 25,
         "OK, time for Q2! Q2 How do you choose the books, and who "
         "gets a say? #readchat",
         0},
        {"r2", NULL, "@host@example.org", 27,
         "Reposting with the tag: how do you choose the "
         "books and who gets a say? #readchat",
         0},
        {"q3", NULL, "@cohost", 40,
         "Q3 Audio? Large print? Online? How accessible are your "
         "groups?",
         0},
        {"f3", NULL, "@cohost", 41, "Q3: I feel like large print matters most", 0},
        {"rt", NULL, "@bob", 42, "RT @cohost: Q3 Audio? Large print? Online?", 0},
        /* shares all of Q2's words, but answers ("I ...") */
        {"f2", NULL, "@host@example.org", 43,
         "Q2: I choose the books and say who gets a say "
         "#readchat",
         0},
        /* someone else's words after "RT @" are not this message's chatter */
        {"qrt", NULL, "@dee", 44, "So true. RT @ann: thanks all, see you next time", 0},
    };
    struct ck_group_msg m[11];
    struct ck_group_conf c = conf();
    run(&c, rows, 11, m, NULL, 0);
    expect(&m[0], 0, CK_BY_NONE);     /* mentions Q1, asks nothing, before Q1 */
    expect(&m[1], 1, CK_BY_QUESTION); /* matches the run sheet */
    expect(&m[2], 1, CK_BY_TAG);      /* a facilitator answering */
    expect(&m[3], 1, CK_BY_TAG);      /* a participant's "Q1 ..." answers */
    expect(&m[4], 2, CK_BY_QUESTION); /* co-host, "OK, time for Q2!" */
    expect(&m[5], 2, CK_BY_QUESTION); /* restated without the number */
    expect(&m[6], 3, CK_BY_QUESTION); /* reworded live, still the first Q3 post */
    expect(&m[7], 3, CK_BY_TAG);
    expect(&m[8], 0, CK_BY_NONE); /* retweet: counted, not assigned */
    expect(&m[9], 2, CK_BY_TAG);
    expect(&m[10], 3, CK_BY_TIME);

    /* Without run-sheet text the first facilitator "Qn" post that asks wins. */
    struct ck_group_question bare[] = {{1, NULL, 0, NULL, NULL, 0}, {2, NULL, 0, NULL, NULL, 0}};
    struct ck_group_conf c2 = {bare, 2, facilitators, 2, "#readchat", 0, 0};
    static const struct row rows2[] = {
        {"a", NULL, "@cohost", 5, "Q1 in a minute!", 0},
        {"b", NULL, "@cohost", 6, "Q1 Who comes to your groups?", 0},
        {"c", NULL, "@cohost", 7, "Q1 for me it's mostly retired teachers", 0},
        {"d", NULL, "@zed", 8, "we get students", 0},
    };
    run(&c2, rows2, 4, m, NULL, 0);
    expect(&m[0], 0, CK_BY_NONE);
    expect(&m[1], 1, CK_BY_QUESTION);
    expect(&m[2], 1, CK_BY_TAG);
    expect(&m[3], 1, CK_BY_TIME);

    /* A promotion before the start repeats the question's words: not the question. */
    struct ck_group_conf c3 = conf();
    c3.start_ms = 30 * MIN;
    static const struct row rows3[] = {
        {"promo", NULL, "@host@example.org", 10,
         "Tonight: what reading groups does your library run and who comes to them #readchat", 0},
        {"q1", NULL, "@host@example.org", 35,
         "Q1 What reading groups does your library run, and who comes to them? #readchat", 0},
    };
    run(&c3, rows3, 2, m, NULL, 0);
    expect(&m[0], 0, CK_BY_NONE);
    expect(&m[1], 1, CK_BY_QUESTION);
}

/* A welcome that repeats the chat's topic is not Q1, and what replies to it
 * is chatter; announcements and people's comings and goings mid-question are
 * chatter too, as are replies with nothing in them. */
static void test_welcome_and_meta_chat(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"w", NULL, "@host@example.org", 1,
         "Welcome to #readchat! Tonight it's all about reading groups: who runs them, who "
         "comes? Introduce yourself!",
         0},
        {"i1", "w", "@ann", 2, "Ann, I run a reading group in Leeds", 0},
        /* asks, and repeats words of Q1 and Q3 alike: neither question's post */
        {"blend", NULL, "@host@example.org", 3,
         "Which reading groups run in your library, and are they accessible for large print "
         "readers?",
         0},
        {"soon", NULL, "@host@example.org", 9, "Q1 coming up!", 0},
        {"q1", NULL, "@host@example.org", 10,
         "Q1 What reading groups does your library run, and who comes to them? #readchat", 0},
        {"i2", "w", "@bob", 12, "Bob, school librarian, reading groups at lunch", 0},
        {"i3", "w", "@cy", 13, "@host A1 we run two, both full of retired teachers", 0},
        {"a", NULL, "@dee", 14, "a crime group, mostly retired teachers", 0},
        {"lol", "a", "@eve", 15, "@dee lol yes", 0},
        {"more", "a", "@fay", 16, "@dee yes! we do the same with our poetry group", 0},
        {"late", NULL, "@gus", 17, "so sorry I'm late, the bus broke down", 0},
        {"next", NULL, "@cohost", 22, "Lovely answers to Q1! Q2 in a couple of minutes", 0},
        {"up", "late", "@cohost", 23, "@gus Q1 is up, scroll up a bit", 0},
        {"hard", NULL, "@hal", 30, "anyone else finding Q2 tricky?", 0},
    };
    struct ck_group_msg m[14];
    struct ck_group_conf c = conf();
    run(&c, rows, 14, m, NULL, 0);
    expect(&m[0], 0, CK_BY_NONE);
    expect(&m[1], 0, CK_BY_NONE);
    expect(&m[2], 0, CK_BY_NONE);
    expect(&m[3], 0, CK_BY_NONE);
    expect(&m[4], 1, CK_BY_QUESTION);
    expect(&m[5], 0, CK_BY_NONE); /* an introduction after Q1 is out, to the welcome */
    expect(&m[6], 1, CK_BY_TAG);  /* ... but one with a tag answers */
    expect(&m[7], 1, CK_BY_TIME);
    expect(&m[8], 1, CK_BY_REPLY); /* "lol yes" in a Q1 thread is part of it (issue 14) */
    expect(&m[9], 1, CK_BY_REPLY);
    expect(&m[10], 0, CK_BY_NONE);
    expect(&m[11], 0, CK_BY_NONE);
    expect(&m[12], 0, CK_BY_NONE); /* "Q1" in it is no tag */
    expect(&m[13], 0, CK_BY_NONE);

    /* Words every question shares are the topic: they point at none. */
    struct ck_group_scanner *s = scanner();
    struct ck_group_msg g = {0};
    ck_group_scan_text(s, "group, groups and more groups", &g);
    assert_int_equal(g.content_q, 0);
    ck_group_scanner_destroy(s);
}

/* A number named without a tag: "ok so, Q2: ..." in a Q1 thread, "still
 * thinking about Q3" after the end; a "Qn" in a question is not one. */
static void test_named_numbers(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"q1", NULL, "@host@example.org", 10,
         "Q1 What reading groups does your library run, and who comes to them?", 0},
        {"a", "q1", "@ann", 11, "retired teachers", 0},
        {"b", "a", "@bob", 27, "@ann ok so, Q2: we let the group vote every month", 0},
        {"c", "a", "@cy", 28, "@ann wait, is Q2 about who picks?", 0},
        {"d", NULL, "@dee", 95,
         "Still thinking about Q3 after the chat: audio made the "
         "difference for us, notes at https://example.org/n",
         0},
        {"e", NULL, "@eve", 96, "Still thinking about the chat, what a night", 0},
        {"f", "a", "@fay", 29, "@ann Fay again - A1 I forgot: a poetry group too", 0},
    };
    struct ck_group_msg m[7];
    struct ck_group_conf c = conf();
    run(&c, rows, 7, m, NULL, 0);
    expect(&m[1], 1, CK_BY_REPLY);
    expect(&m[2], 2, CK_BY_TAG);
    expect(&m[3], 1, CK_BY_REPLY);
    expect(&m[4], 3, CK_BY_TAG);
    expect(&m[5], 0, CK_BY_NONE);
    expect(&m[6], 1, CK_BY_TAG);
}

static void test_posted_id_and_schedule(void **st)
{
    (void)st;
    struct ck_group_question q[] = {{1, "Who comes?", 10 * MIN, "ours1", NULL, 0},
                                    {2, "Who picks?", 20 * MIN, NULL, NULL, 0}};
    struct ck_group_conf c = {q, 2, facilitators, 2, "#readchat", 0, 0};
    static const struct row rows[] = {
        {"ours1", NULL, "@bot@example.org", 12, "First question, posted by us", 0},
        {"x", NULL, "@ann", 11, "early bird", 0},
        {"y", NULL, "@ann", 15, "retired teachers", 0},
        {"z", NULL, "@ann", 21, "the group votes", 0}, /* Q2 never posted: schedule */
    };
    struct ck_group_msg m[4];
    run(&c, rows, 4, m, NULL, 0);
    expect(&m[0], 1, CK_BY_QUESTION);
    expect(&m[1], 0, CK_BY_NONE); /* Q1 opens at its post (12), not its schedule (10) */
    expect(&m[2], 1, CK_BY_TIME);
    expect(&m[3], 2, CK_BY_TIME);
}

/* Issue 11: the same question posted on two sources (ids of their own, or
 * the same id on both) is that question on each. */
static void test_posted_on_two_sources(void **st)
{
    (void)st;
    static const char *const other[] = {"theirs1"};
    struct ck_group_question q[] = {{1, "Who comes?", 10 * MIN, "ours1", other, 1},
                                    {2, "Who picks?", 20 * MIN, "ours2", NULL, 0}};
    struct ck_group_conf c = {q, 2, facilitators, 2, "#readchat", 0, 0};
    static const struct row rows[] = {
        {"ours1", NULL, "@bot@a.example", 12, "First question, posted by us", 0},
        {"theirs1", NULL, "@bot.bsky.social", 12, "First question, posted by us", 0},
        {"ours2", NULL, "@bot@a.example", 20, "Second", 0},
        {"ours2", NULL, "@bot@b.example", 20, "Second", 0}, /* the same id on another source */
    };
    struct ck_group_msg m[4];
    run(&c, rows, 4, m, NULL, 0);
    expect(&m[0], 1, CK_BY_QUESTION);
    expect(&m[1], 1, CK_BY_QUESTION);
    expect(&m[2], 2, CK_BY_QUESTION);
    expect(&m[3], 2, CK_BY_QUESTION);
}

/* Issue 11: one list holds every platform's handles, each matched as its
 * platform writes accounts. A facilitator's "Q1 ..." post is a question post;
 * the same words from someone else are not. */
static void test_facilitators_per_platform(void **st)
{
    (void)st;
    static const char *const fac[] = {"@host@a.example", "@host.bsky.social", "@hostx"};
    struct ck_group_question q[] = {
        {1, "Who comes to your reading group?", 10 * MIN, NULL, NULL, 0}};
    struct ck_group_conf c = {q, 1, fac, 3, "#readchat", 0, 0};
    static const struct row rows[] = {
        {"m", NULL, "@HOST@a.example", 10, "Q1 Who comes to your reading group? #readchat", 0},
        {"b", NULL, "@host.bsky.social", 10, "Q1 Who comes to your reading group? #readchat", 0},
        {"x", NULL, "@hostx", 10, "Q1 Who comes to your reading group? #readchat", 0},
        /* a fediverse account named like the Bluesky handle is someone else */
        {"f", NULL, "@host.bsky.social@evil.example", 10,
         "Q1 Who comes to your reading group? #readchat", 0},
        {"d", NULL, "@host.bsky.social.evil.example", 10,
         "Q1 Who comes to your reading group? #readchat", 0},
    };
    struct ck_group_msg m[5];
    run(&c, rows, 5, m, NULL, 0);
    expect(&m[0], 1, CK_BY_QUESTION);
    expect(&m[1], 1, CK_BY_QUESTION);
    expect(&m[2], 1, CK_BY_QUESTION);
    assert_int_not_equal(m[3].by, CK_BY_QUESTION);
    assert_int_not_equal(m[4].by, CK_BY_QUESTION);
}

static void test_replies(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"q1", NULL, "@host@example.org", 10,
         "Q1 What reading groups does your library run, "
         "and who comes to them?",
         0},
        {"a", "q1", "@ann", 11, "retired teachers", 0},
        {"b", "a", "@bob", 12, "@ann same here", 0},
        {"c", "b", "@ann", 30, "@bob and students lately", 0}, /* Q2 is out: thread wins */
        {"skew", "late", "@cy", 31, "@dee yes!", 0},           /* parent stamped later */
        {"late", "c", "@dee", 32, "@ann students, really?", 0},
        {"orphan", "gone", "@eve", 33, "no parent here", 0}, /* clock decides */
        {"loop1", "loop2", "@f", 34, "cycle", 0},
        {"loop2", "loop1", "@g", 35, "cycle", 0},
        {"hello", "q1", "@h", 36, "@host lurking tonight, hi all", 0}, /* strong chatter */
        {"hi2", "hello", "@host@example.org", 37, "@h welcome!", 0},   /* reply to chatter */
        {"thx", "a", "@i", 38, "Thanks, good point", 0},               /* weak: thread wins */
        {"tag", "a", "@j", 39, "A2 we vote", 0},                       /* own tag wins */
    };
    struct ck_group_msg m[13];
    struct ck_group_conf c = conf();
    run(&c, rows, 13, m, NULL, 0);
    expect(&m[1], 1, CK_BY_REPLY);
    expect(&m[2], 1, CK_BY_REPLY);
    expect(&m[3], 1, CK_BY_REPLY);
    expect(&m[4], 1, CK_BY_REPLY);
    expect(&m[5], 1, CK_BY_REPLY);
    expect(&m[6], 2, CK_BY_TIME);
    expect(&m[7], 2, CK_BY_REPLY); /* cut where the cycle closes, then the clock */
    expect(&m[8], 2, CK_BY_TIME);
    expect(&m[9], 0, CK_BY_NONE);
    expect(&m[10], 0, CK_BY_NONE);
    expect(&m[11], 1, CK_BY_REPLY);
    expect(&m[12], 2, CK_BY_TAG);
}

static void test_time_content_and_limits(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"pre", NULL, "@ann", 5, "we run a crime fiction group", 0},
        {"t1", NULL, "@ann", 12, "retired teachers, mostly", 0},
        {"early", NULL, "@bob", 13, "A5 tell them to bring cake", 0}, /* Q5 not asked yet */
        {"t2", NULL, "@cy", 41, "I think the books matter, and who gets a say in choosing", 0},
        {"late", NULL, "@dee", 88, "A1 late one: students too", 0},
        {"after", NULL, "@eve", 95, "A2 very late but: we vote", 0}, /* after the end: kept */
        {"post", NULL, "@fay", 96, "still thinking about this", 0},  /* after the end: [] */
        {"mid", NULL, "@gus", 42, "Hi all, sorry I'm so late", 0},   /* chatter mid-question */
        {"multi", NULL, "@hal", 43, "A1/A3 large print for the retired teachers", 0},
        {"unknown", NULL, "@ivy", 44, "A9 no such question", 0},
    };
    struct ck_group_msg m[10];
    struct ck_group_conf c = conf();
    run(&c, rows, 10, m, NULL, 0);
    expect(&m[0], 0, CK_BY_NONE);
    expect(&m[1], 1, CK_BY_TIME);
    expect(&m[2], 1, CK_BY_TIME);
    expect(&m[3], 2, CK_BY_CONTENT); /* Q3 open, words are Q2's */
    expect(&m[4], 1, CK_BY_TAG);
    expect(&m[5], 2, CK_BY_TAG);
    expect(&m[6], 0, CK_BY_NONE);
    expect(&m[7], 0, CK_BY_NONE);
    assert_int_equal(m[8].n_questions, 2);
    assert_int_equal(m[8].questions[0], 1);
    assert_int_equal(m[8].questions[1], 3);
    assert_int_equal(m[8].by, CK_BY_TAG);
    expect(&m[9], 3, CK_BY_TIME);
}

/* Issue 14, from the real #critlib chats of March and June 2015 (reworded). */

/* 1. A reply belongs to the conversation it is in, however short or social;
 * only talk about the chat itself stays out of a thread. */
static void test_reply_belongs_to_thread(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"q3", NULL, "@host@example.org", 40,
         "Q3 What makes a reading group accessible: "
         "large print, audio or online?",
         0},
        {"a3", "q3", "@ann", 41, "A3 we read the book aloud, nobody needs to bring a copy", 0},
        {"ooh", "a3", "@bob", 42, "@ann ooh, which one?", 0},
        {"same", "a3", "@cy", 43, "@ann same here 🙌", 0},
        {"exact", "ooh", "@ann", 44, "@bob exactly - how to share that knowledge is the hard part",
         0},
        {"lol", "a3", "@dee", 56, "@ann lol yes", 0}, /* Q4 is out: still Q3's */
        {"bye", "a3", "@eve", 57, "@ann have to run, see you next time!", 0},
        {"intro", "w", "@fay", 45, "@host Fay here, lurking tonight", 0},
        {"w", NULL, "@host@example.org", 1, "Welcome to #readchat! Introduce yourself", 0},
        {"hi", "w", "@gus", 46, "@host Gus, school librarian in Hull", 0},
        {"van", "wel", "@hal", 47, "@ivy we have one, it meets in the library van", 0},
        {"wel", "hi2", "@ivy", 46, "@hal welcome! a van group would be great to hear about", 0},
        {"hi2", NULL, "@hal", 45, "Hello #readchat, Hal here, mobile library driver", 0},
    };
    struct ck_group_msg m[13];
    struct ck_group_conf c = conf();
    run(&c, rows, 13, m, NULL, 0);
    expect(&m[1], 3, CK_BY_TAG);
    expect(&m[2], 3, CK_BY_REPLY);
    expect(&m[3], 3, CK_BY_REPLY);
    expect(&m[4], 3, CK_BY_REPLY);
    expect(&m[5], 3, CK_BY_REPLY);
    expect(&m[6], 0, CK_BY_NONE); /* comings and goings */
    expect(&m[7], 0, CK_BY_NONE);
    expect(&m[9], 0, CK_BY_NONE); /* a direct reply to the welcome: an introduction */
    /* ... but deeper in an introduction's thread, an answer is filed by the clock */
    expect(&m[10], 3, CK_BY_TIME);
    expect(&m[11], 0, CK_BY_NONE);
    expect(&m[12], 0, CK_BY_NONE);
}

/* 2. A reply to a post that is not in the archive is filed as a top-level
 * post would be: its label, else the open question; never left out. */
static void test_reply_to_missing_parent(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"q2", NULL, "@host@example.org", 25,
         "Q2 How do you choose the books, and who gets a "
         "say?",
         0},
        {"m1", "gone1", "@ann", 27, "@bob I think it baffles me, do people push back?", 0},
        {"m2", "gone2", "@cy", 28, "@dee A1 we also run one for carers", 0},
        {"m3", "m1", "@bob", 29, "@ann they do, every month", 0},
        {"m4", "gone3", "@eve", 30, "@fay thanks!", 0}, /* chatter, as at top level */
        {"m5", "gone4", "@gus", 97, "@hal and the books came from the library", 0}, /* after */
    };
    struct ck_group_msg m[6];
    struct ck_group_conf c = conf();
    run(&c, rows, 6, m, NULL, 0);
    expect(&m[1], 2, CK_BY_TIME);
    expect(&m[2], 1, CK_BY_TAG);
    expect(&m[3], 2, CK_BY_REPLY);
    expect(&m[4], 0, CK_BY_NONE);
    expect(&m[5], 0, CK_BY_NONE);
}

/* An answer that opens with its author's arrival ("Late to #readchat...")
 * is filed as an answer, and the reply to it follows it; an arrival alone,
 * or one that goes on to introduce its author, is chatter. */
static void test_arrival_then_answer(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"q2", NULL, "@host@example.org", 25, "Q2 How do you choose the books, and who gets a say?",
         0},
        {"a", NULL, "@ann", 27,
         "Late to #readchat... books = not just the classics, the members vote on a shortlist", 0},
        {"r", "a", "@bob", 28, "@ann So like a book club ballot? who makes the shortlist?", 0},
        {"hi", NULL, "@cy", 29, "Late to #readchat, I'm Cy, a school librarian in Hull", 0},
        {"bus", NULL, "@dee", 30, "so sorry I'm late, the bus broke down", 0},
    };
    struct ck_group_msg m[5];
    struct ck_group_conf c = conf();
    run(&c, rows, 5, m, NULL, 0);
    expect(&m[1], 2, CK_BY_TIME);
    expect(&m[2], 2, CK_BY_REPLY);
    expect(&m[3], 0, CK_BY_NONE);
    expect(&m[4], 0, CK_BY_NONE);
}

/* 3. An explicit answer label wins: for a question already asked, or for the
 * next one when its post is missing or late; "2/2 Q2", "(Q1)" and "sounds
 * like A2" are labels; a later part "2/2" continues the part before it. */
static void test_labels_win(void **st)
{
    (void)st;
    assert_string_equal(tags_of("2/2 Q2 related to how the zine fest felt welcoming"), "2");
    assert_string_equal(tags_of("(1/3) A1 mostly retired teachers"), "1");
    assert_string_equal(tags_of("Hi, I'm Ann, public librarian (Q1) we run three groups"), "1");
    assert_string_equal(tags_of("This sounds like A2 tonight!"), "2");
    assert_string_equal(tags_of("my A3 is large print"), "3");
    assert_string_equal(tags_of("it tastes like a1 sauce"), "");
    assert_string_equal(tags_of("the 2/2 split was fair"), "");

    /* Q2's post was not captured ("forgot to tag"): A2 is trusted at once */
    static const struct row rows[] = {
        {"q1", NULL, "@host@example.org", 10,
         "Q1 What reading groups does your library run, and who comes to them?", 0},
        {"a2", NULL, "@ann", 22, "A2 biggest thing I find is letting the group vote", 0},
        {"a5", NULL, "@bob", 23, "A5 bring cake", 0},      /* far ahead: a slip */
        {"a9", NULL, "@cy", 24, "A9 no such question", 0}, /* not on the run sheet */
        {"p1", NULL, "@dee", 30, "The books matter most to us. 1/2", 0},
        {"p2", NULL, "@dee", 31, "and the biscuits. 2/2", 0},
        {"q4", NULL, "@host@example.org", 58,
         "Q4 What is the hardest thing about keeping a "
         "group going?",
         0},
        {"late", NULL, "@eve", 56, "A4 keeping people coming", 0}, /* post late (55 sched) */
        {"slip", NULL, "@fay", 50, "A4 too early", 0},             /* before schedule: slip */
    };
    struct ck_group_msg m[9];
    struct ck_group_conf c = conf();
    run(&c, rows, 9, m, NULL, 0);
    expect(&m[1], 2, CK_BY_TAG);
    expect(&m[2], 1, CK_BY_TIME);
    expect(&m[3], 1, CK_BY_TIME);
    expect(&m[4], 2, CK_BY_TIME);
    expect(&m[5], 2, CK_BY_REPLY);
    expect(&m[7], 4, CK_BY_TAG);
    expect(&m[8], 3, CK_BY_TIME);
}

/* 5. Spam: the same text from two or more accounts that post nothing else
 * here, riding other hashtags (real June 2015 #critlib: "#KCA #VoteJKT48ID
 * kevinseeber: ..." three times); kept, never assigned; a move says otherwise. */
static void test_spam(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"q1", NULL, "@host@example.org", 10,
         "Q1 What reading groups does your library run, and who comes to them?", 0},
        {"a", NULL, "@kev", 11, "A1 and if the numbers go down, we assume it is broken #readchat",
         0},
        {"b1", NULL, "@bot1", 12, "#KCA #VoteJKT48ID kev: and if the numbers go down #readchat", 0},
        {"b2", NULL, "@bot2", 12, "#KCA #VoteJKT48ID kev: and if the numbers go down #readchat", 0},
        {"b3", NULL, "@bot3", 12, "#KCA #VoteJKT48ID kev: and if the numbers go down #readchat", 0},
        {"one", NULL, "@bot4", 13, "#KCA #VoteJKT48ID something else entirely #readchat", 0},
        {"x1", NULL, "@ann", 14, "crime fiction mostly #bookclub #readchat", 0},
        {"x2", NULL, "@bob", 14, "crime fiction mostly #bookclub #readchat", 0},
        {"x3", NULL, "@bob", 15, "and poetry", 0},
        {"x4", NULL, "@ann", 16, "retired teachers", 0},
    };
    struct ck_group_msg m[10];
    struct ck_group_conf c = conf();
    run(&c, rows, 10, m, NULL, 0);
    expect(&m[1], 1, CK_BY_TAG);
    expect(&m[2], 0, CK_BY_SPAM);
    expect(&m[3], 0, CK_BY_SPAM);
    expect(&m[4], 0, CK_BY_SPAM);
    expect(&m[5], 1, CK_BY_TIME); /* one copy is not a flood */
    expect(&m[6], 1, CK_BY_TIME); /* people who take part are never spam */
    expect(&m[7], 1, CK_BY_TIME);
    assert_string_equal(ck_group_by_name(CK_BY_SPAM), "spam");

    json_t *ov = json_loads("{\"move\": {\"b1\": [1]}}", 0, NULL);
    run(&c, rows, 10, m, ov, 0);
    expect(&m[2], 1, CK_BY_OVERRIDE);
    expect(&m[3], 0, CK_BY_SPAM);
    json_decref(ov);
}

/* A post that says it goes back ("Re: talking to users: ...", real June
 * 2015 #critlib, 2 minutes after Q3) finishes its author's point from before
 * the new question, and so does their next post; without the words, the
 * clock decides as before. */
static void test_going_back(void **st)
{
    (void)st;
    static const struct row rows[] = {
        {"q2", NULL, "@host@example.org", 25, "Q2 How do you choose the books, and who gets a say?",
         0},
        {"a", NULL, "@ann", 38, "A2 we let the group vote on a shortlist", 0},
        {"c", NULL, "@carl", 39, "A2 the library picks for us", 0},
        {"q3", NULL, "@host@example.org", 40,
         "Q3 What makes a reading group accessible: large print, audio or online?", 0},
        {"re", NULL, "@ann", 41, "Re: voting: we do it by secret ballot, quietly", 0},
        {"more", NULL, "@ann", 42, "Secret ballots also stop the loudest member picking", 0},
        {"new", NULL, "@bob", 41, "Our county service sends boxes of them", 0},
        {"c2", NULL, "@carl", 41, "the loudest voice usually wins", 0},
        {"late", NULL, "@ann", 50, "Re: voting again: it works", 0},
    };
    struct ck_group_msg m[9];
    struct ck_group_conf c = conf();
    run(&c, rows, 9, m, NULL, 0);
    expect(&m[1], 2, CK_BY_TAG);
    expect(&m[4], 2, CK_BY_REPLY);
    expect(&m[5], 2, CK_BY_REPLY);
    expect(&m[6], 3, CK_BY_TIME);
    expect(&m[7], 3, CK_BY_TIME); /* no "Re:": the new question */
    expect(&m[8], 3, CK_BY_TIME); /* long after the question came out */
}

/* Labels in other scripts: full-width letters, digits and colon, and
 * Arabic-Indic digits, read as the ASCII ones; a Welsh run sheet ("C1" for
 * cwestiwn, "A1" for ateb) finds its question posts by their words. */
static void test_other_scripts(void **st)
{
    (void)st;
    assert_string_equal(tags_of("Ａ３ large print"), "3");
    assert_string_equal(tags_of("Ａ３：large print"), "3");
    assert_string_equal(tags_of("ａ２ they vote"), "2");
    assert_string_equal(tags_of("A٣ large print"), "3");
    assert_string_equal(tags_of("A۲ they vote"), "2");
    assert_string_equal(tags_of("Ｑ１ Ａ we run three"), "1");
    assert_string_equal(tags_of("٣ مجموعات"), "");
    static const struct ck_group_question cy[] = {
        {1, "Pa grwpiau darllen sydd gan eich llyfrgell?", 10 * MIN, NULL, NULL, 0},
        {2, "Sut ydych chi'n dewis y llyfrau?", 25 * MIN, NULL, NULL, 0},
    };
    struct ck_group_conf c = {cy, 2, facilitators, 2, "#readchat", 0, 90 * MIN};
    static const struct row rows[] = {
        {"c1", NULL, "@host@example.org", 11, "C1 Pa grwpiau darllen sydd gan eich llyfrgell?", 0},
        {"a1", NULL, "@ann", 12, "A1 tri grŵp, bob wythnos", 0},
        {"c2", NULL, "@host@example.org", 26, "C2 Sut ydych chi'n dewis y llyfrau?", 0},
        {"a2", NULL, "@bob", 27, "A2 pleidlais", 0},
        {"a1late", NULL, "@cy", 28, "Ａ１ grŵp trosedd", 0},
    };
    struct ck_group_msg m[5];
    run(&c, rows, 5, m, NULL, 0);
    expect(&m[0], 1, CK_BY_QUESTION);
    expect(&m[1], 1, CK_BY_TAG);
    expect(&m[2], 2, CK_BY_QUESTION);
    expect(&m[3], 2, CK_BY_TAG);
    expect(&m[4], 1, CK_BY_TAG);
}

/* Bad input: never a crash or a hang, filed sensibly. */
static void test_bad_input(void **st)
{
    (void)st;
    /* no question posts at all, and no run sheet: everything is left out */
    struct ck_group_conf none = {NULL, 0, facilitators, 2, "#readchat", 0, 90 * MIN};
    static const struct row rows[] = {
        {"a", NULL, "@ann", 5, "A1 we run three groups", 0},
        {"b", "a", "@bob", 6, "@ann same", 0},
        {"self", "self", "@cy", 7, "replying to myself", 0},
        {"l1", "l3", "@d", 8, "loop", 0},
        {"l2", "l1", "@e", 9, "loop", 0},
        {"l3", "l2", "@f", 10, "loop", 0},
        {"dup", NULL, "@g", 11, "same id", 0},
        {"dup", NULL, "@h", 12, "same id again", 0},
        {"cy", NULL, "@i", 13, "C1 rydyn ni'n rhedeg tri grŵp", 0},
        {"ar", NULL, "@j", 14, "A١ ثلاث مجموعات", 0},
        {"fw", NULL, "@k", 15, "Ａ１ three groups", 0},
        {"nul", NULL, "@l", 16, NULL, 0},
    };
    struct ck_group_msg m[12];
    run(&none, rows, 12, m, NULL, 0);
    for (size_t i = 0; i < 12; i++)
        expect(&m[i], 0, CK_BY_NONE);

    /* duplicate question numbers, a facilitator numbering answers, loops and
     * self-replies with questions: filed, and the loop is cut */
    static const struct row rows2[] = {
        {"q1", NULL, "@host@example.org", 10,
         "Q1 What reading groups does your library run, and who comes to them?", 0},
        {"q1b", NULL, "@cohost", 11,
         "Q1 What reading groups does your library run, and who "
         "comes to them?",
         0},
        {"f", NULL, "@host@example.org", 12, "A1 ours is a crime group", 0},
        {"self", "self", "@cy", 13, "replying to myself", 0},
        {"l1", "l2", "@d", 14, "loop", 0},
        {"l2", "l1", "@e", 15, "loop", 0},
        {"a2", NULL, "@ann", 16, "A2 the group votes", 0},
    };
    struct ck_group_msg m2[7];
    struct ck_group_conf c = conf();
    run(&c, rows2, 7, m2, NULL, 0);
    expect(&m2[0], 1, CK_BY_QUESTION);
    expect(&m2[1], 1, CK_BY_QUESTION);
    expect(&m2[2], 1, CK_BY_TAG);
    expect(&m2[3], 1, CK_BY_TIME);
    assert_int_equal(m2[4].questions[0], 1);
    assert_int_equal(m2[5].questions[0], 1);
    expect(&m2[6], 2, CK_BY_TAG); /* Q2 is next, its post missing */
}

static void test_overrides(void **st)
{
    (void)st;
    struct ck_group_question q[] = {{1, "Who comes?", 10 * MIN, "q1", NULL, 0},
                                    {2, "Who picks?", 20 * MIN, NULL, NULL, 0}};
    struct ck_group_conf c = {q, 2, facilitators, 2, "#readchat", 0, 0};
    static const struct row rows[] = {
        {"q1", NULL, "@host@example.org", 10, "Q1 Who comes?", 0},
        {"a", NULL, "@ann", 11, "A1 retired teachers", 0},
        {"b", "a", "@bob@x.org", 12, "@ann same", 0},
        {"c", NULL, "@Bob", 13, "students", 0},
        {"d", NULL, "@cy", 14, "hmm", 0},
    };
    struct ck_group_msg m[5];
    json_error_t jerr;
    json_t *ov = json_loads("{\"move\": {\"a\": [2, 2], \"q1\": [2], \"nope\": [1], \"d\": []},"
                            " \"hide\": [\"d\", \"missing\"], \"opt_out\": [\"@bob\"]}",
                            0, &jerr);
    assert_non_null(ov);
    run(&c, rows, 5, m, ov, 0);
    json_decref(ov);
    expect(&m[0], 1, CK_BY_QUESTION); /* our own posted question is not moved */
    expect(&m[1], 2, CK_BY_OVERRIDE); /* duplicates collapse */
    expect(&m[2], 2, CK_BY_REPLY);    /* its thread follows it */
    assert_true(m[2].hidden);         /* @bob opted out: any domain */
    assert_true(m[3].hidden);
    expect(&m[4], 0, CK_BY_OVERRIDE);
    assert_true(m[4].hidden);
    assert_false(m[1].hidden);

    static const char *const bad[] = {
        "[]",
        "{\"mvoe\": {}}",
        "{\"move\": []}",
        "{\"move\": {\"a\": 3}}",
        "{\"move\": {\"a\": [0]}}",
        "{\"move\": {\"a\": [\"1\"]}}",
        "{\"hide\": \"a\"}",
        "{\"opt_out\": [1]}",
        "{\"move\": {\"a\": [1,2,3,4,5,6,7,8,9]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = json_loads(bad[i], 0, &jerr);
        assert_non_null(b);
        struct ck_error err = {0};
        int rc = ck_group_assign(&c, m, 5, b, &err);
        if (rc != CK_EINVAL || strstr(err.msg, "overrides.json") == NULL)
            fail_msg("%s: rc %d, \"%s\"", bad[i], rc, err.msg);
        json_decref(b);
    }
}

static void test_misc(void **st)
{
    (void)st;
    assert_string_equal(ck_group_by_name(CK_BY_QUESTION), "question");
    assert_string_equal(ck_group_by_name(CK_BY_OVERRIDE), "override");
    assert_string_equal(ck_group_by_name(CK_BY_TAG), "tag");
    assert_string_equal(ck_group_by_name(CK_BY_REPLY), "reply");
    assert_string_equal(ck_group_by_name(CK_BY_TIME), "time");
    assert_string_equal(ck_group_by_name(CK_BY_CONTENT), "content");
    assert_null(ck_group_by_name(CK_BY_NONE));
    struct ck_group_question q[] = {{0, "x", 0, NULL, NULL, 0}};
    struct ck_group_conf c = {q, 1, NULL, 0, NULL, 0, 0};
    struct ck_group_scanner *s = (struct ck_group_scanner *)&c;
    struct ck_error err = {0};
    assert_int_equal(ck_group_scanner_create(&c, &s, &err), CK_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.msg, "number 0"));
    ck_group_scanner_destroy(NULL);
    /* duplicate ids: the first record wins, so its reply follows it */
    static const struct row dup[] = {
        {"d", NULL, "@ann", 12, "A1 retired teachers", 0},
        {"d", NULL, "@ann", 13, "A2 we vote", 0},
        {"r", "d", "@bob", 14, "@ann same", 0},
    };
    struct ck_group_msg m[3];
    struct ck_group_conf full = conf();
    run(&full, dup, 3, m, NULL, 0);
    expect(&m[2], 1, CK_BY_REPLY);
    /* no messages, no questions: fine */
    struct ck_group_conf empty = {NULL, 0, NULL, 0, NULL, 0, 0};
    assert_int_equal(ck_group_assign(&empty, NULL, 0, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tag_forms),
        cmocka_unit_test(test_tag_false_friends),
        cmocka_unit_test(test_retweet_and_flags),
        cmocka_unit_test(test_chatter),
        cmocka_unit_test(test_arrival_then_answer),
        cmocka_unit_test(test_announcements),
        cmocka_unit_test(test_welcome_and_meta_chat),
        cmocka_unit_test(test_named_numbers),
        cmocka_unit_test(test_question_posts),
        cmocka_unit_test(test_posted_id_and_schedule),
        cmocka_unit_test(test_posted_on_two_sources),
        cmocka_unit_test(test_facilitators_per_platform),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_time_content_and_limits),
        cmocka_unit_test(test_reply_belongs_to_thread),
        cmocka_unit_test(test_reply_to_missing_parent),
        cmocka_unit_test(test_labels_win),
        cmocka_unit_test(test_spam),
        cmocka_unit_test(test_going_back),
        cmocka_unit_test(test_other_scripts),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
