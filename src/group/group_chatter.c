/* Telling chatter from answers (see group.h, CK_GROUP_CHATTER_*).
 *
 * A careful reader leaves out of the questions what is about the chat rather
 * than about a question: greetings, thanks, apologies, comings and goings,
 * the moderators' announcements ("Q2 in a sec", "please use A1, A2") and
 * replies with nothing in them but a laugh or a wave. Each rule here looks for
 * a clear marker, never for shortness alone: "yes! we do the same with our
 * volunteers" and "Thanks to austerity we lost..." are answers. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "group_internal.h"

/* ---- phrases anywhere in the text ------------------------------------------ */

/* The byte pairs that occur in a text, as a 4096-bit set (pairs that differ
 * only above the low six bits of each byte share a bit). A phrase can only
 * occur if each of its pairs does, so most of the phrases below are ruled out
 * by a bit test or two instead of a search of the whole text. */
struct pairs {
    uint64_t bits[64];
};

static unsigned pair_bit(unsigned char a, unsigned char b)
{
    return (unsigned)(a & 63) << 6 | (b & 63);
}

static void pairs_of(const char *lc, struct pairs *ps)
{
    memset(ps, 0, sizeof *ps);
    for (const char *p = lc; p[0] != '\0' && p[1] != '\0'; p++) {
        unsigned b = pair_bit((unsigned char)p[0], (unsigned char)p[1]);
        ps->bits[b / 64] |= (uint64_t)1 << (b % 64);
    }
}

/* A phrase's pairs as bit numbers, worked out once per list (the first
 * SIG_PAIRS of them: testing fewer only lets more phrases through to strstr). */
#define SIG_PAIRS 40
struct sig {
    uint16_t n;
    uint16_t bit[SIG_PAIRS];
};

struct phrases {
    const char *const *list;
    size_t n;
    struct sig *sigs; /* n of them, filled on first use */
    bool ready;
};

static void prepare(struct phrases *ph)
{
    for (size_t i = 0; i < ph->n; i++) {
        struct sig *sg = &ph->sigs[i];
        sg->n = 0;
        for (const char *p = ph->list[i]; p[0] != '\0' && p[1] != '\0' && sg->n < SIG_PAIRS; p++)
            sg->bit[sg->n++] = (uint16_t)pair_bit((unsigned char)p[0], (unsigned char)p[1]);
    }
    ph->ready = true;
}

static bool may_contain(const struct pairs *ps, const struct sig *sg)
{
    for (uint16_t k = 0; k < sg->n; k++)
        if ((ps->bits[sg->bit[k] / 64] >> (sg->bit[k] % 64) & 1) == 0)
            return false;
    return true;
}

/* Does lc (whose pairs are ps) contain any of ph's phrases? */
static bool any_in(const char *lc, const struct pairs *ps, struct phrases *ph)
{
    if (!ph->ready)
        prepare(ph);
    for (size_t i = 0; i < ph->n; i++) {
        if (!may_contain(ps, &ph->sigs[i]))
            continue;
        /* at a word's start: "here from" is not in "anywhere from" */
        for (const char *p = strstr(lc, ph->list[i]); p != NULL; p = strstr(p + 1, ph->list[i]))
            if (p == lc || !isalnum((unsigned char)p[-1]))
                return true;
    }
    return false;
}

/* ---- announcements --------------------------------------------------------- */

/* Words around a "Qn" that announce it instead of answering it: "Q1 coming
 * up", "Q4 in a sec", "5 minutes to Q5", "@x Q2 is up", "posting Q4 by hand". */
static bool announces(const char *lc, const char *q, const char *after)
{
    /* precise on purpose: "Q1 coming from a school: ...", "Q2 in a nutshell"
     * and "Q2 - next year we ..." answer */
    static const char *const next[] = {
        "coming up",   "coming soon", "coming next", "coming in ", "is up",       "is out",
        "is live",     "is next",     "is posted",   "next!",      "next.",       "next,",
        "next up",     "up next",     "in a sec",    "in a min",   "in a moment", "in a bit",
        "in a couple", "in a few",    "in a tick",   "in 1",       "in 2",        "in 3",
        "in 5",        "in two",      "in five",     "in ten",     "shortly",     "soon!",
        "soon.",       "by hand",     "incoming",
    };
    static const char *const before[] = {
        "minutes to ", "mins to ",   "min to ", "minute to ", "until ",     "till ",     "before ",
        "posting ",    "ready for ", "on to ",  "onto ",      "moving to ", "time for ",
    };
    while (*after == ' ' || *after == '-' || *after == '!' || *after == '.')
        after++;
    if (strcmp(after, "next") == 0 || strcmp(after, "soon") == 0)
        return true;
    for (size_t i = 0; i < sizeof next / sizeof next[0]; i++)
        if (ck_group__starts(after, next[i]))
            return true;
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
        size_t n = strlen(before[i]);
        if ((size_t)(q - lc) >= n && strncmp(q - n, before[i], n) == 0)
            return true;
    }
    return false;
}

/* Moderators' meta talk: the numbers in it are not answer tags. */
static bool is_announcement(const char *lc, const struct pairs *ps, size_t start)
{
    static const char *const phrases[] = {
        "next question",       "last question",      "final question",      "question coming",
        "questions coming",    "quick reminder",     "friendly reminder",   "gentle reminder",
        "just a reminder",     "please use a1",      "please use a 1",      "please answer with a",
        "remember to use a",   "remember to tag",    "don't forget to tag", "tag your answers",
        "number your answers", "label your answers", "the next ?",          "more questions",
        "questions left",      "i'll post it",
    };
    static struct sig sigs[sizeof phrases / sizeof phrases[0]];
    static struct phrases phrase_set = {phrases, sizeof phrases / sizeof phrases[0], sigs, false};
    /* "Reminder: ..." opens a post; "an email reminder: ..." is an answer */
    if (ck_group__starts(lc + start, "reminder") || any_in(lc, ps, &phrase_set))
        return true;
    for (const char *p = strchr(lc, 'q'); p != NULL; p = strchr(p + 1, 'q')) {
        if ((p > lc && isalnum((unsigned char)p[-1])) || !isdigit((unsigned char)p[1]))
            continue;
        const char *r = p + 1;
        while (isdigit((unsigned char)*r))
            r++;
        if (!isalpha((unsigned char)*r) && announces(lc, p, r))
            return true;
    }
    return false;
}

/* ---- empty replies ---------------------------------------------------------- */

/* Words that carry no answer: a laugh, a wave, thanks. Sorted (strcmp order):
 * looked up by binary search, as are agree_words. */
static const char *const chatty_words[] = {
    "aha",     "aww",     "awww",    "bye",     "cheer", "cheers", "evening", "everyone", "folk",
    "folks",   "friend",  "friends", "goodbye", "ha",    "hah",    "haha",    "hahaha",   "heh",
    "hehe",    "hello",   "hey",     "hi",      "hiya",  "hooray", "lmao",    "lol",      "lovely",
    "morning", "night",   "omg",     "ooh",     "oops",  "rofl",   "thank",   "thanks",   "thx",
    "ty",      "welcome", "woo",     "woohoo",  "wow",   "xx",     "y'all",   "yay",
};
/* Agreement adds nothing either, but on its own in a thread it follows the
 * thread ("@ann same here"): it is not a chatter marker. */
static const char *const agree_words[] = {
    "absolutely", "agreed",  "definitely", "exactly", "indeed", "okay", "right",
    "sure",       "totally", "true",       "yeah",    "yep",    "yup",
};

/* "lol yes", "thank you!! 🙏", "@x welcome!", "👏👏": no content word, no
 * number, and a laugh, wave or thanks (or nothing but symbols). */
static bool is_empty_reply(const char *lc)
{
    size_t words = 0, chatty = 0;
    bool symbols = false;
    for (const char *p = lc; *p;) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '@' || ch == '#' || ck_group__starts(p, "http")) { /* mentions, tags, links */
            while (*p && !isspace((unsigned char)*p))
                p++;
            continue;
        }
        if (isdigit(ch))
            return false;
        if (!isalpha(ch)) {
            symbols = symbols || (!isspace(ch) && !ispunct(ch));
            p++;
            continue;
        }
        char w[24];
        size_t len = 0;
        for (; isalpha((unsigned char)*p) || *p == '\''; p++)
            if (len < sizeof w - 1)
                w[len++] = *p;
        w[len] = '\0';
        words++;
        if (ck_group__in_sorted(w, len, chatty_words, sizeof chatty_words / sizeof chatty_words[0]))
            chatty++;
        else if (len >= 3 && !ck_group__is_stop(w, len) &&
                 !ck_group__in_sorted(w, len, agree_words,
                                      sizeof agree_words / sizeof agree_words[0]))
            return false; /* a content word: "cake", "van", "libraries" */
    }
    return chatty > 0 || (words == 0 && symbols);
}

/* ---- comings before an answer ---------------------------------------------- */

/* Content words in p (three letters or more, not filler, not a greeting;
 * mentions, tags and links skipped), counting no further than `enough`. */
static size_t content_words(const char *p, size_t enough)
{
    size_t n = 0;
    while (*p && n < enough) {
        if (*p == '@' || *p == '#' || ck_group__starts(p, "http")) {
            while (*p && !isspace((unsigned char)*p))
                p++;
            continue;
        }
        if (!isalpha((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *w = p;
        while (isalpha((unsigned char)*p) || *p == '\'')
            p++;
        size_t len = (size_t)(p - w);
        n += len >= 3 && !ck_group__is_stop(w, len) &&
             !ck_group__in_sorted(w, len, chatty_words,
                                  sizeof chatty_words / sizeof chatty_words[0]);
    }
    return n;
}

/* Where the clause that q sits in ends: past the next ".", "!", ",", ":",
 * ";", "…" or " - " and the spaces after it (the end of lc when none). */
static const char *clause_end(const char *q)
{
    for (; *q; q++) {
        bool brk = *q == '.' || *q == '!' || *q == ',' || *q == ':' || *q == ';' || *q == '\n' ||
                   ck_group__starts(q, "\xe2\x80\xa6") || ck_group__starts(q, " - ");
        if (brk)
            break;
    }
    while (*q &&
           (ispunct((unsigned char)*q) || isspace((unsigned char)*q) || (unsigned char)*q >= 0x80))
        q++;
    return q;
}

/* An arrival ("late to #critlib", "sorry I'm late", "just joining") is
 * chatter when that is all the post says, or when it goes on to introduce
 * its author; not when a sentence of its own follows it ("Late to
 * #critlib... makerspaces = not 3d print/tech only, but space to
 * experiment, fail, learn"): that is an answer with a preface, filed as
 * answers are (the rule that took the arrival for the whole post lost the
 * answer and every reply to it). Five content words make a sentence. */
#define ANSWER_AFTER_ARRIVAL 5
static bool arrival_only(const char *lc, const struct pairs *ps)
{
    static const char *const arrivals[] = {
        "late to #",
        "late to the chat",
        "late to the party",
        "showing up late",
        "joining late",
        "just joining",
        "sorry i'm late",
        "sorry im late",
        "sorry for being late",
        "sorry to be late",
        "apologies for being late",
        "i'm late",
        "running late",
    };
    static struct sig sigs[sizeof arrivals / sizeof arrivals[0]];
    static struct phrases arrival_set = {arrivals, sizeof arrivals / sizeof arrivals[0], sigs,
                                         false};
    if (!any_in(lc, ps, &arrival_set))
        return false;
    /* the last arrival phrase's clause, then what follows it */
    const char *last = NULL;
    for (size_t i = 0; i < arrival_set.n; i++)
        for (const char *p = strstr(lc, arrivals[i]); p != NULL; p = strstr(p + 1, arrivals[i]))
            if ((p == lc || !isalnum((unsigned char)p[-1])) && p >= (last ? last : lc))
                last = p;
    if (last == NULL)
        return true;
    const char *rest = clause_end(last);
    static const char *const intro[] = {"i'm ", "i am ", "im ", "my name", "this is ", "name's "};
    for (size_t i = 0; i < sizeof intro / sizeof intro[0]; i++)
        if (ck_group__starts(rest, intro[i]))
            return true;
    return content_words(rest, ANSWER_AFTER_ARRIVAL) < ANSWER_AFTER_ARRIVAL;
}

/* ---- levels ----------------------------------------------------------------- */

int ck_group__chatter(const char *lc, size_t start, uint8_t *flags)
{
    struct pairs ps;
    pairs_of(lc, &ps);
    if (is_announcement(lc, &ps, start)) {
        *flags |= CK_GROUP_F_META;
        return CK_GROUP_CHATTER_STRONG;
    }
    /* Meta talk, introductions, comings and goings: chatter wherever posted. */
    static const char *const strong[] = {
        "forgot to tag",
        "forgot the tag",
        "forgot the hashtag",
        "forgot to add the",
        "forgot to use",
        "see you next",
        "see you all next",
        "see everyone next",
        "until next time",
        "thanks all",
        "thanks everyone",
        "thanks, everyone",
        "thanks, all",
        "thank you all",
        "thank you everyone",
        "thanks for hosting",
        "thanks for moderating",
        "thank you for hosting",
        "for facilitating",
        "hats off to",
        "missed #",
        "time to bounce",
        "thanks for a great",
        "thank you for a great",
        "thanks for the great chat",
        "great chat",
        "fab chat",
        "lovely chat",
        "is the chat starting",
        "chat starting",
        "starts soon",
        "starting soon",
        "join us",
        "check out tonight",
        "tuning in to #",
        "welcome to",
        "welcome everyone",
        "welcome all",
        "introduce yourself",
        "introduce yourselves",
        "introductions",
        "lurk",
        "first timer",
        "1st timer",
        "first time here",
        "here from",
        "here for #",
        "happy to be here",
        "glad to be here",
        "excited to be here",
        "joining from",
        "have to go",
        "gotta go",
        "hafta cut",
        "signing off",
        "have to run",
        "got to run",
        "that's a wrap",
        "that's all for",
        "wrapping up",
        "storify",
        "transcript will",
        "archive will",
        "say hi",
        "saying hi",
        "hi all",
        "hi everyone",
        "hello all",
        "hello everyone",
        "evening all",
        "morning all",
        "my name is",
        /* comings and goings, and life at the keyboard */
        "brb",
        "be right back",
        "what did i miss",
        "what have i missed",
        "catching up on q",
        "catching up on the chat",
        "catching up on the thread",
        "catching up on this",
        "gotta run",
        "got to go",
        "must dash",
        "need to dash",
        "off to bed",
        "asleep on me",
        "on my lap",
        "on lap here",
        "cat on lap",
        "dog on lap",
        "just here to say",
        "this chat is",
        "love this chat",
        "love these chats",
        "good luck",
        "anyone else finding",
        "anyone else struggling",
        "or is it just me",
    };
    static struct sig strong_sigs[sizeof strong / sizeof strong[0]];
    static struct phrases strong_set = {strong, sizeof strong / sizeof strong[0], strong_sigs,
                                        false};
    if (any_in(lc, &ps, &strong_set) || arrival_only(lc, &ps))
        return CK_GROUP_CHATTER_STRONG;
    if (is_empty_reply(lc)) {
        *flags |= CK_GROUP_F_EMPTY;
        return CK_GROUP_CHATTER_STRONG;
    }
    /* Opening words of a greeting or thanks: chatter on their own, but a
     * "thanks, good point" inside a thread belongs to the thread. */
    static const char *const weak[] = {
        "hi ",      "hi!",      "hi,",       "hello",        "hey ",         "hey!",
        "hey,",     "howdy",    "greetings", "good morning", "good evening", "good afternoon",
        "evening ", "morning ", "welcome",   "thanks",       "thank you",    "thx",
        "bye",      "back,",    "back!",     "back now",
    };
    const char *p = lc + start;
    if (ck_group__starts(p, "thanks to "))
        return CK_GROUP_CHATTER_NO; /* "thanks to austerity, ..." is an answer */
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++)
        if (ck_group__starts(p, weak[i]))
            return CK_GROUP_CHATTER_WEAK;
    return CK_GROUP_CHATTER_NO;
}
