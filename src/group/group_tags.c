/* Answer labels in a message's text: "A1", "a1.", "Q1 A", "A1/A2",
 * "2/2 Q2", "(Q1)", "sounds like A2", after mentions or the hashtag, never
 * "a 4-year degree" or "Q1 earnings"; and a question a text names without a
 * label. Split from group_scan.c, which calls these on the lower-cased
 * text lc and the original orig (same offsets). */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/group.h"
#include "group_internal.h"

/* Words that make "A1"/"Q1" something else: "A1 sauce", "Q1 earnings",
 * "a 4-year degree", "Q1 2015". */
static bool false_friend(const char *p)
{
    static const char *const words[] = {
        "sauce",  "steak",    "earning",  "revenue", "result",   "report", "profit", "sales",
        "growth", "forecast", "guidance", "fiscal",  "gdp",      "loss",   "year",   "hour",
        "week",   "day",      "month",    "minute",  "percent",  "times",  "visa",   "paper",
        "size",   "grade",    "level",    "road",    "motorway",
    };
    while (*p == ' ' || *p == '-')
        p++;
    if (isdigit((unsigned char)*p))
        return true; /* "Q1 2015", "A 4 5" */
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (ck_group__starts(p, words[i]))
            return true;
    return false;
}

static void add_tag(struct ck_group_msg *m, long v)
{
    if (v < 1 || v > CK_GROUP_MAX_NUMBER)
        return;
    for (size_t i = 0; i < m->n_tags; i++)
        if (m->tags[i] == v)
            return;
    if (m->n_tags < CK_GROUP_MAX_TAGS)
        m->tags[m->n_tags++] = (uint8_t)v;
}

/* Reads 1-2 digits at *pp; returns the value or -1 (3+ digits are years, ids...). */
static long read_num(const char **pp)
{
    const char *p = *pp;
    long v = 0;
    int n = 0;
    while (isdigit((unsigned char)p[n]) && n < 3) {
        v = v * 10 + (p[n] - '0');
        n++;
    }
    if (n == 0 || n > 2)
        return -1;
    *pp = p + n;
    return v;
}

/* After the number: "A1a", "A1.2", "A2.1" keep the main number. */
static const char *skip_suffix(const char *p)
{
    if (isalpha((unsigned char)p[0]) && !isalnum((unsigned char)p[1]))
        return p + 1;
    if (p[0] == '.' && isdigit((unsigned char)p[1])) {
        p++;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p;
}

/* One label at lc: [#|(] (A n | A␠n | Q n [␠]A | Q n) [suffix] then a delimiter.
 * orig is the same position in the original text (case matters for "A 1").
 * leading: at the message's start, where a bare "Qn" is an answer number too.
 * Returns the end of the label, or NULL when it is not one. */
static const char *parse_label(const char *lc, const char *orig, bool leading, long *out)
{
    const char *p = lc;
    if (*p == '#' || *p == '(')
        p++;
    char kind = *p;
    if (kind != 'a' && kind != 'q')
        return NULL;
    bool upper = isupper((unsigned char)orig[p - lc]) != 0;
    p++;
    if (*p == ' ' && kind == 'a') {
        /* "A 1" only capitalised: "a 4-year degree" is prose */
        if (!upper)
            return NULL;
        p++;
    }
    long v = read_num(&p);
    if (v < 0)
        return NULL;
    if (*p == '-' && isalpha((unsigned char)p[1]) && !(kind == 'q' && p[1] == 'a'))
        return NULL; /* "a4-year", "A1-rated" */
    if (kind == 'q') {
        /* "Q1 A:", "Q1A", "Q1-A" answer Q1; a bare "Q1" does only at the start */
        const char *r = p;
        if (*r == ' ' || *r == '-')
            r++;
        if (*r == 'a' && !isalnum((unsigned char)r[1]))
            p = r + 1;
        else if (!leading && lc[0] != '#' && !(lc[0] == '(' && *skip_suffix(p) == ')'))
            return NULL; /* "(Q1)" in an introduction labels it too */
        else
            p = skip_suffix(p);
    } else {
        p = skip_suffix(p);
    }
    if (isalnum((unsigned char)*p))
        return NULL;
    if (false_friend(p))
        return NULL;
    *out = v;
    return p;
}

/* "A1/A2", "A4/5", "A1 & A2", "Q1 and Q2": more numbers after the first. */
static const char *parse_more(const char *p, struct ck_group_msg *m)
{
    for (;;) {
        const char *r = p;
        if (strncmp(r, " and ", 5) == 0)
            r += 5;
        else if (strncmp(r, " & ", 3) == 0)
            r += 3;
        else if (*r == '/' || *r == '&' || *r == ',')
            r++;
        else
            return p;
        if (*r == 'a' || *r == 'q')
            r++;
        long v = read_num(&r);
        if (v < 0 || isalnum((unsigned char)*r))
            return p;
        r = skip_suffix(r);
        add_tag(m, v);
        p = r;
    }
}

/* Is everything from p on just hashtags, URLs and spaces? ("... #critlib A2") */
static bool only_trailer(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p) || *p == '.' || *p == '!')
            p++;
        if (*p == '\0')
            return true;
        if (*p != '#' && strncmp(p, "http", 4) != 0)
            return false;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
}

/* A closing label follows a sentence end or a hashtag ("... aware of. #critlib
 * A2"), not prose ("driving up the A1."). */
static bool after_break(const char *lc, size_t i)
{
    size_t j = i;
    while (j > 0 && isspace((unsigned char)lc[j - 1]))
        j--;
    if (j == 0)
        return true;
    if (strchr(".!?)", lc[j - 1]) != NULL)
        return true;
    while (j > 0 && !isspace((unsigned char)lc[j - 1]))
        j--;
    return lc[j] == '#';
}

/* Is lc[i] preceded by "- ", ": " or an en/em dash and a space? */
static bool after_dash(const char *lc, size_t i)
{
    if (i < 2 || lc[i - 1] != ' ')
        return false;
    unsigned char c = (unsigned char)lc[i - 2];
    if (c == '-' || c == ':')
        return true;
    /* U+2013, U+2014 are e2 80 93 and e2 80 94 */
    return i >= 4 && (c == 0x93 || c == 0x94) && (unsigned char)lc[i - 3] == 0x80 &&
           (unsigned char)lc[i - 4] == 0xe2;
}

/* Is lc[i] preceded by "like ", "my " or "for " (a word of its own)? */
static bool owns_label(const char *lc, size_t i)
{
    static const char *const words[] = {"like ", "my ", "for "};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        size_t n = strlen(words[k]);
        if (i >= n && strncmp(lc + i - n, words[k], n) == 0 &&
            (i == n || !ck_group__word_char((unsigned char)lc[i - n - 1])))
            return true;
    }
    return false;
}

/* start: see lead_end(). lc and orig end where a quoted "RT @x:" began (see
 * ck_group_scan_text), so no label is someone else's. */
void ck_group__scan_tags(const char *lc, const char *orig, size_t start, size_t len,
                         struct ck_group_msg *m)
{
    long v;
    const char *e = parse_label(lc + start, orig + start, true, &v);
    if (e != NULL) {
        add_tag(m, v);
        parse_more(e, m);
    }
    /* Elsewhere only clearly delimited labels: "#a2", "(A2)", "A2:" or a
     * closing "A2". */
    for (size_t i = start + 1; i < len; i++) {
        /* A label starts with a or q, after '#' or '(' or not (parse_label):
         * most positions are ruled out by that alone. */
        char c = lc[i];
        if (c != 'a' && c != 'q' &&
            ((c != '#' && c != '(') || (lc[i + 1] != 'a' && lc[i + 1] != 'q')))
            continue;
        if (!isspace((unsigned char)lc[i - 1]) && lc[i - 1] != '(' && lc[i] != '#')
            continue;
        if (lc[i] == '#' && i > 0 && !isspace((unsigned char)lc[i - 1]))
            continue;
        e = parse_label(lc + i, orig + i, false, &v);
        if (e == NULL)
            continue;
        bool hashtag = lc[i] == '#';
        bool paren = lc[i] == '(' && *e == ')';
        bool colon = *e == ':' && isupper((unsigned char)orig[i]);
        bool closing = lc[i] == 'a' && isupper((unsigned char)orig[i]) && only_trailer(e) &&
                       after_break(lc, i);
        /* "Name again - A1 I forgot: ...": a label after a short lead-in
         * and a dash or colon, near the start */
        bool dashed =
            lc[i] == 'a' && isupper((unsigned char)orig[i]) && i <= start + 32 && after_dash(lc, i);
        /* "This sounds like A2 tonight!", "my A3 is ...": a capitalised An
         * the text calls its own */
        bool named = lc[i] == 'a' && isupper((unsigned char)orig[i]) && owns_label(lc, i);
        if (hashtag || paren || colon || closing || dashed || named) {
            add_tag(m, v);
            parse_more(e, m);
        }
        i = (size_t)(e - lc) - 1;
    }
}

/* Does a reference to a question end right before q: "about Q3", "re Q2"? */
static bool refers(const char *lc, const char *q)
{
    static const char *const words[] = {"about ", "re ", "re: ", "regarding ", "back to "};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(q - lc) >= n && strncmp(q - n, words[i], n) == 0 &&
            (q - n == lc || !ck_group__word_char((unsigned char)q[-(ptrdiff_t)n - 1])))
            return true;
    }
    return false;
}

/* Is the post numbered as a later part of several ("2/2", "(2/3)")? Parts
 * of one thought split over posts: the first is 1/n. */
bool ck_group__later_part(const char *lc)
{
    for (const char *p = strchr(lc, '/'); p != NULL; p = strchr(p + 1, '/')) {
        if (p == lc || !isdigit((unsigned char)p[-1]) || !isdigit((unsigned char)p[1]))
            continue;
        const char *b = p - 1;
        if (b > lc && (isalnum((unsigned char)b[-1]) || b[-1] == '/'))
            continue; /* "12/2", "a2/2", dates "1/2/15" */
        if (isalnum((unsigned char)p[2]) || p[2] == '/')
            continue;
        if (b[0] > '1' && b[0] <= p[1])
            return true;
    }
    return false;
}

/* First "Qn" anywhere ("OK, time for Q3! Q3 ..."), whether it is followed by
 * a first-person answer ("Q1 for me", "Q3: I feel like"), and whether it
 * names the question the message answers without being a tag: a "Q2:" after
 * a short lead-in ("@x ok so, Q2: ...") or "still thinking about Q3: ...".
 * Neither counts when the rest asks something. start: see lead_end(). */
void ck_group__scan_qmention(const char *lc, const char *orig, size_t start, struct ck_group_msg *m)
{
    static const char *const answer_words[] = {
        "for me", "i ",   "i'm",   "i'd",  "i've", "my ",     "me ",        "we ", "our ",
        "yes",    "yeah", "agree", "same", "also", "totally", "definitely", "+1",
    };
    for (const char *p = lc; *p; p++) {
        if (*p == 'r' && ck_group__starts(p, "rt @"))
            return;
        if (*p != 'q' || (p > lc && ck_group__word_char((unsigned char)p[-1])))
            continue;
        const char *r = p + 1;
        long v = read_num(&r);
        if (v < 1 || v > CK_GROUP_MAX_NUMBER || isalpha((unsigned char)*r) || false_friend(r))
            continue;
        m->q_mention = (uint8_t)v;
        r = skip_suffix(r);
        bool asks = strchr(r, '?') != NULL;
        size_t at = (size_t)(p - lc);
        bool labelled = (*r == ':' || strncmp(r, " -", 2) == 0) && isupper((unsigned char)orig[at]);
        if (!asks && ((labelled && at > start && at <= start + 24) || refers(lc, p)))
            m->flags |= CK_GROUP_F_QREF;
        while (*r == ' ' || *r == ':' || *r == '.' || *r == '-' || *r == ',')
            r++;
        for (size_t i = 0; i < sizeof answer_words / sizeof answer_words[0]; i++)
            if (ck_group__starts(r, answer_words[i]) && !asks)
                m->flags |= CK_GROUP_F_ANSWERISH;
        return;
    }
}
