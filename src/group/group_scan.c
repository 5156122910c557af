/* Reading one message's text into grouping evidence (see group.h).
 *
 * Runs once per message while the archive normalises it, so it must be cheap
 * and allocation-free: a bounded lower-case copy on the stack, one pass for
 * answer tags, one for words. Everything here is heuristics learnt from real
 * chats (#critlib, #uklibchat): how people number answers, how facilitators
 * word questions; what greetings and meta talk look like is group_chatter.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/group.h"
#include "group_internal.h"

/* Longer texts are read only this far: tags sit at the start, chatter and
 * question words show early, and it bounds the work per message. */
#define SCAN_MAX 2048
#define MAX_QWORDS 48

struct ck_group_scanner {
    char hashtag[64]; /* lower case, without '#'; "" when none */
    size_t hashtag_len;
    size_t n_q;
    uint8_t number[CK_GROUP_MAX_CONTENT];
    uint8_t n_words[CK_GROUP_MAX_CONTENT];
    uint64_t words[CK_GROUP_MAX_CONTENT][MAX_QWORDS];
    /* Every hash in words as a 1024-bit set (bit h >> 54): most words of a
     * message are in no question and need not be looked for in each. */
    uint64_t any_word[16];
    bool has_words;
};

static bool may_be_qword(const struct ck_group_scanner *s, uint64_t h)
{
    return (s->any_word[h >> 60] >> (h >> 54 & 63) & 1) != 0;
}

static bool is_word_char(unsigned char ch)
{
    return isalnum(ch) || ch == '\'';
}

/* Crude suffix stripping, applied alike to question and message words, so
 * "makerspaces"/"makerspace" and "collecting"/"collected" meet. */
static size_t stem(char *w, size_t len)
{
    if (len > 3 && w[len - 2] == '\'' && w[len - 1] == 's')
        len -= 2;
    if (len > 5 && strncmp(w + len - 3, "ing", 3) == 0)
        len -= 3;
    else if (len > 4 && strncmp(w + len - 3, "ies", 3) == 0) {
        len -= 2;
        w[len - 1] = 'y';
    } else if (len > 4 && strncmp(w + len - 2, "ed", 2) == 0)
        len -= 2;
    else if (len > 3 && w[len - 1] == 's' && w[len - 2] != 's')
        len -= 1;
    w[len] = '\0';
    return len;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Calls fn for each distinct content word of lower-case text lc: no URLs,
 * mentions, stop words, numbers, the chat's hashtag or words under 3 letters. */
typedef void word_fn(void *ctx, uint64_t h);

static void for_each_word(const struct ck_group_scanner *s, const char *lc, word_fn *fn,
                          void *ctx)
{
    uint64_t seen[128];
    size_t n_seen = 0;
    uint64_t seen_bits = 0; /* bit h >> 58 of each hash in seen: most words are new */
    const char *p = lc;
    while (*p) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '@' || ck_group__starts(p, "http")) { /* skip the whole token */
            while (*p && !isspace((unsigned char)*p))
                p++;
            continue;
        }
        bool tag = ch == '#';
        if (tag)
            p++;
        if (!is_word_char((unsigned char)*p)) {
            p++;
            continue;
        }
        char w[32];
        size_t len = 0;
        bool digits = true;
        for (; is_word_char((unsigned char)*p); p++) {
            if (len < sizeof w - 1)
                w[len++] = *p;
            if (!isdigit((unsigned char)*p))
                digits = false;
        }
        w[len] = '\0';
        while (len > 0 && w[len - 1] == '\'')
            w[--len] = '\0';
        if (len < 3 || digits)
            continue;
        if (tag && s->hashtag[0] != '\0' && strcmp(w, s->hashtag) == 0)
            continue;
        /* "a1", "q2", "a3a": answer labels, not content */
        if ((w[0] == 'a' || w[0] == 'q') && isdigit((unsigned char)w[1]))
            continue;
        /* "gets", "things": inflected filler is still filler (a word stem()
         * leaves alone has been looked up already) */
        if (ck_group__is_stop(w, len))
            continue;
        size_t stemmed = stem(w, len);
        if (stemmed < 3 || (stemmed != len && ck_group__is_stop(w, stemmed)))
            continue;
        uint64_t h = fnv1a(w);
        uint64_t bit = (uint64_t)1 << (h >> 58);
        bool dup = false;
        if ((seen_bits & bit) != 0)
            for (size_t i = 0; i < n_seen && !dup; i++)
                dup = seen[i] == h;
        if (dup)
            continue;
        if (n_seen < sizeof seen / sizeof seen[0]) {
            seen[n_seen++] = h;
            seen_bits |= bit;
        }
        fn(ctx, h);
    }
}

/* src's len bytes lower-cased (ASCII: this is the C locale's tolower) into
 * dst, which has room for len + 1. */
static void lower_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (char)(c + ((unsigned char)(c - 'A') < 26 ? 'a' - 'A' : 0));
    }
    dst[len] = '\0';
}

/* The string src (NULL reads as "") lower-cased into dst, cut to cap - 1 bytes. */
static void lower_str(char *dst, size_t cap, const char *src)
{
    lower_copy(dst, src, src != NULL ? strnlen(src, cap - 1) : 0);
}

struct qctx {
    struct ck_group_scanner *s;
    size_t k;
};

static void add_qword(void *ctx, uint64_t h)
{
    struct qctx *q = ctx;
    if (q->s->n_words[q->k] < MAX_QWORDS)
        q->s->words[q->k][q->s->n_words[q->k]++] = h;
}

/* Words in most questions are the chat's topic ("volunteers" in a chat about
 * volunteers): a welcome or a promotion repeats them, so they say nothing
 * about which question a message answers or repeats. */
static void drop_topic_words(struct ck_group_scanner *s)
{
    if (s->n_q < 3)
        return;
    bool drop[CK_GROUP_MAX_CONTENT][MAX_QWORDS] = {{false}};
    for (size_t k = 0; k < s->n_q; k++)
        for (size_t i = 0; i < s->n_words[k]; i++) {
            size_t in = 0;
            for (size_t o = 0; o < s->n_q; o++)
                for (size_t j = 0; j < s->n_words[o]; j++)
                    if (s->words[o][j] == s->words[k][i]) {
                        in++;
                        break;
                    }
            drop[k][i] = in * 2 > s->n_q;
        }
    for (size_t k = 0; k < s->n_q; k++) {
        size_t kept = 0;
        for (size_t i = 0; i < s->n_words[k]; i++)
            if (!drop[k][i])
                s->words[k][kept++] = s->words[k][i];
        s->n_words[k] = (uint8_t)kept;
    }
}

int ck_group_scanner_create(const struct ck_group_conf *c, struct ck_group_scanner **out,
                            struct ck_error *err)
{
    *out = NULL;
    struct ck_group_scanner *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ck_error_set(err, CK_ENOMEM, "grouping: out of memory");
    const char *tag = c->hashtag != NULL ? c->hashtag : "";
    if (tag[0] == '#')
        tag++;
    lower_str(s->hashtag, sizeof s->hashtag, tag);
    s->hashtag_len = strlen(s->hashtag);
    for (size_t k = 0; k < c->n_questions; k++) {
        int num = c->questions[k].number;
        if (num < 1 || num > CK_GROUP_MAX_NUMBER) {
            free(s);
            return ck_error_set(err, CK_EINVAL, "grouping: question %zu has number %d (1..%d)",
                                k + 1, num, CK_GROUP_MAX_NUMBER);
        }
        if (k >= CK_GROUP_MAX_CONTENT)
            continue;
        s->number[k] = (uint8_t)num;
        s->n_q = k + 1;
        char lc[SCAN_MAX];
        lower_str(lc, sizeof lc, c->questions[k].text);
        struct qctx q = {s, k};
        for_each_word(s, lc, add_qword, &q);
    }
    drop_topic_words(s);
    for (size_t k = 0; k < s->n_q; k++) /* see may_be_qword() */
        for (size_t i = 0; i < s->n_words[k]; i++) {
            uint64_t h = s->words[k][i];
            s->any_word[h >> 60] |= (uint64_t)1 << (h >> 54 & 63);
            s->has_words = true;
        }
    *out = s;
    return 0;
}

void ck_group_scanner_destroy(struct ck_group_scanner *s)
{
    free(s);
}

size_t ck_group__qwords(const struct ck_group_scanner *s, size_t k)
{
    return k < s->n_q ? s->n_words[k] : 0;
}

struct mctx {
    const struct ck_group_scanner *s;
    struct ck_group_msg *m;
};

static void count_hit(void *ctx, uint64_t h)
{
    struct mctx *x = ctx;
    if (!may_be_qword(x->s, h))
        return;
    for (size_t k = 0; k < x->s->n_q; k++)
        for (size_t i = 0; i < x->s->n_words[k]; i++)
            if (x->s->words[k][i] == h && x->m->hits[k] < UINT8_MAX) {
                x->m->hits[k]++;
                break;
            }
}

/* ---- answer tags ---------------------------------------------------------- */

/* Words that make "A1"/"Q1" something else: "A1 sauce", "Q1 earnings",
 * "a 4-year degree", "Q1 2015". */
static bool false_friend(const char *p)
{
    static const char *const words[] = {
        "sauce", "steak", "earning", "revenue", "result", "report", "profit", "sales",
        "growth", "forecast", "guidance", "fiscal", "gdp", "loss", "year", "hour", "week",
        "day", "month", "minute", "percent", "times", "visa", "paper", "size", "grade",
        "level", "road", "motorway",
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

/* Where the message proper starts: past ".@x @y", the chat's hashtag and
 * separators, so "@ann #critlib A2: ..." reads as starting with "A2". */
static size_t lead_end(const struct ck_group_scanner *s, const char *lc)
{
    const char *p = lc;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '.' || *p == ':' || *p == '-' ||
               *p == '"' || *p == ',')
            p++;
        if (*p == '@') {
            while (*p && !isspace((unsigned char)*p))
                p++;
            continue;
        }
        /* a thread counter "2/2 Q2 ...", "(1/3) A1 ..." */
        const char *r = p + (*p == '(');
        if (isdigit((unsigned char)r[0])) {
            r += isdigit((unsigned char)r[1]) ? 2 : 1;
            if (*r == '/' && isdigit((unsigned char)r[1])) {
                r += isdigit((unsigned char)r[2]) ? 3 : 2;
                r += *r == ')';
                if (*r == ' ') {
                    p = r;
                    continue;
                }
            }
        }
        size_t hl = s->hashtag_len;
        if (*p == '#' && hl > 0 && strncmp(p + 1, s->hashtag, hl) == 0 &&
            !is_word_char((unsigned char)p[1 + hl])) {
            p += 1 + hl;
            continue;
        }
        return (size_t)(p - lc);
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
            (i == n || !is_word_char((unsigned char)lc[i - n - 1])))
            return true;
    }
    return false;
}

/* start: see lead_end(). lc and orig end where a quoted "RT @x:" began (see
 * ck_group_scan_text), so no label is someone else's. */
static void scan_tags(const char *lc, const char *orig, size_t start, size_t len,
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
        if (c != 'a' && c != 'q' && ((c != '#' && c != '(') || (lc[i + 1] != 'a' && lc[i + 1] != 'q')))
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
        bool dashed = lc[i] == 'a' && isupper((unsigned char)orig[i]) && i <= start + 32 &&
                      after_dash(lc, i);
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
            (q - n == lc || !is_word_char((unsigned char)q[-(ptrdiff_t)n - 1])))
            return true;
    }
    return false;
}

/* Is the post numbered as a later part of several ("2/2", "(2/3)")? Parts
 * of one thought split over posts: the first is 1/n. */
static bool later_part(const char *lc)
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

/* Does lc carry a hashtag other than the chat's? (Spam rides trending tags.) */
static bool other_hashtag(const struct ck_group_scanner *s, const char *lc)
{
    for (const char *p = strchr(lc, '#'); p != NULL; p = strchr(p + 1, '#')) {
        if (!is_word_char((unsigned char)p[1]) || (p > lc && is_word_char((unsigned char)p[-1])))
            continue;
        size_t hl = s->hashtag_len;
        if (hl > 0 && strncmp(p + 1, s->hashtag, hl) == 0 && !is_word_char((unsigned char)p[1 + hl]))
            continue;
        return true;
    }
    return false;
}

/* First "Qn" anywhere ("OK, time for Q3! Q3 ..."), whether it is followed by
 * a first-person answer ("Q1 for me", "Q3: I feel like"), and whether it
 * names the question the message answers without being a tag: a "Q2:" after
 * a short lead-in ("@x ok so, Q2: ...") or "still thinking about Q3: ...".
 * Neither counts when the rest asks something. start: see lead_end(). */
static void scan_qmention(const char *lc, const char *orig, size_t start,
                          struct ck_group_msg *m)
{
    static const char *const answer_words[] = {
        "for me", "i ",  "i'm", "i'd",   "i've", "my ",   "me ",    "we ",    "our ",
        "yes",    "yeah", "agree", "same", "also", "totally", "definitely", "+1",
    };
    for (const char *p = lc; *p; p++) {
        if (*p == 'r' && ck_group__starts(p, "rt @"))
            return;
        if (*p != 'q' || (p > lc && is_word_char((unsigned char)p[-1])))
            continue;
        const char *r = p + 1;
        long v = read_num(&r);
        if (v < 1 || v > CK_GROUP_MAX_NUMBER || isalpha((unsigned char)*r) || false_friend(r))
            continue;
        m->q_mention = (uint8_t)v;
        r = skip_suffix(r);
        bool asks = strchr(r, '?') != NULL;
        size_t at = (size_t)(p - lc);
        bool labelled = (*r == ':' || strncmp(r, " -", 2) == 0) &&
                        isupper((unsigned char)orig[at]);
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

void ck_group_scan_text(const struct ck_group_scanner *s, const char *text,
                        struct ck_group_msg *m)
{
    memset(m->tags, 0, sizeof m->tags);
    memset(m->hits, 0, sizeof m->hits);
    m->n_tags = 0;
    m->q_mention = 0;
    m->flags = 0;
    m->chatter = 0;
    m->content_q = 0;
    m->text_hash = 0;
    if (text == NULL)
        return;
    char orig[SCAN_MAX], lc[SCAN_MAX];
    size_t len = strnlen(text, SCAN_MAX - 1);
    memcpy(orig, text, len);
    orig[len] = '\0';
    lower_copy(lc, orig, len);

    /* Old-style retweet: the whole text is someone else's; count it, read nothing. */
    size_t i = 0;
    while (isspace((unsigned char)lc[i]))
        i++;
    if (strncmp(lc + i, "rt @", 4) == 0) {
        m->flags |= CK_GROUP_F_REPOST;
        m->boost = true;
        return;
    }
    /* A quote-retweet "my comment RT @x: their text": only our part counts. */
    char *rt = strstr(lc, " rt @");
    if (rt != NULL) {
        *rt = '\0';
        orig[rt - lc] = '\0';
        len = (size_t)(rt - lc);
    }
    if (strchr(lc, '?') != NULL)
        m->flags |= CK_GROUP_F_QMARK;
    size_t start = lead_end(s, lc);
    scan_tags(lc, orig, start, len, m);
    scan_qmention(lc, orig, start, m);
    if (later_part(lc))
        m->flags |= CK_GROUP_F_CONT;
    if (other_hashtag(s, lc)) {
        m->flags |= CK_GROUP_F_OTAG;
        uint32_t h = 2166136261u;
        for (const char *p = lc; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        m->text_hash = h;
    }
    m->chatter = (uint8_t)ck_group__chatter(lc, start, &m->flags);

    /* Questions with no content words ("Question 1?") leave nothing to count. */
    struct mctx x = {s, m};
    if (s->has_words)
        for_each_word(s, lc, count_hit, &x);
    unsigned best = 0;
    for (size_t k = 0; k < s->n_q; k++)
        if (m->hits[k] > best) {
            best = m->hits[k];
            m->content_q = s->number[k];
        }
}
