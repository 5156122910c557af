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

static void for_each_word(const struct ck_group_scanner *s, const char *lc, word_fn *fn, void *ctx)
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
        if (!ck_group__word_char((unsigned char)*p)) {
            p++;
            continue;
        }
        char w[32];
        size_t len = 0;
        bool digits = true;
        for (; ck_group__word_char((unsigned char)*p); p++) {
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

/* Labels in other scripts read as ASCII ones: full-width letters, digits and
 * colon ("Ａ３：" is "A3:") and Arabic-Indic digits ("A٣" is "A3"), folded
 * into dst (at least len + 1 bytes: folding only shortens). Returns the new
 * length. Only texts with such lead bytes pay for more than one scan. */
static size_t fold_scripts(char *dst, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == 0xEF && i + 2 < len && p[i + 1] == 0xBC && p[i + 2] >= 0x90 && p[i + 2] <= 0xBF) {
            dst[o++] = (char)(p[i + 2] - 0x90 + '0'); /* U+FF10.. "０".."９" ":" .. "Ａ".. */
            i += 2;
        } else if (c == 0xEF && i + 2 < len && p[i + 1] == 0xBD && p[i + 2] >= 0x80 &&
                   p[i + 2] <= 0x9A) {
            dst[o++] = (char)(p[i + 2] - 0x80 + '`'); /* U+FF40.. "ａ".."ｚ" */
            i += 2;
        } else if ((c == 0xD9 && i + 1 < len && p[i + 1] >= 0xA0 && p[i + 1] <= 0xA9) ||
                   (c == 0xDB && i + 1 < len && p[i + 1] >= 0xB0 && p[i + 1] <= 0xB9)) {
            dst[o++] = (char)((p[i + 1] & 0x0F) + '0'); /* U+0660.., U+06F0.. */
            i += 1;
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o] = '\0';
    return o;
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

/* ---- answer tags: group_tags.c ------------------------------------------- */

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
            !ck_group__word_char((unsigned char)p[1 + hl])) {
            p += 1 + hl;
            continue;
        }
        return (size_t)(p - lc);
    }
}

/* Does lc carry a hashtag other than the chat's? (Spam rides trending tags.) */
static bool other_hashtag(const struct ck_group_scanner *s, const char *lc)
{
    for (const char *p = strchr(lc, '#'); p != NULL; p = strchr(p + 1, '#')) {
        if (!ck_group__word_char((unsigned char)p[1]) ||
            (p > lc && ck_group__word_char((unsigned char)p[-1])))
            continue;
        size_t hl = s->hashtag_len;
        if (hl > 0 && strncmp(p + 1, s->hashtag, hl) == 0 &&
            !ck_group__word_char((unsigned char)p[1 + hl]))
            continue;
        return true;
    }
    return false;
}

void ck_group_scan_text(const struct ck_group_scanner *s, const char *text, struct ck_group_msg *m)
{
    memset(m->tags, 0, sizeof m->tags);
    memset(m->hits, 0, sizeof m->hits);
    m->n_tags = 0;
    m->q_mention = 0;
    m->flags = 0;
    m->chatter = 0;
    m->content_q = 0;
    m->text_hash = 0;
    m->back = false;
    if (text == NULL)
        return;
    char orig[SCAN_MAX], lc[SCAN_MAX];
    size_t len = strnlen(text, SCAN_MAX - 1);
    if (memchr(text, 0xEF, len) != NULL || memchr(text, 0xD9, len) != NULL ||
        memchr(text, 0xDB, len) != NULL) {
        len = fold_scripts(orig, text, len);
    } else {
        memcpy(orig, text, len);
        orig[len] = '\0';
    }
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
    ck_group__scan_tags(lc, orig, start, len, m);
    ck_group__scan_qmention(lc, orig, start, m);
    if (ck_group__later_part(lc))
        m->flags |= CK_GROUP_F_CONT;
    m->back = strncmp(lc + start, "re:", 3) == 0 || strncmp(lc + start, "back to ", 8) == 0 ||
              strncmp(lc + start, "going back to ", 14) == 0;
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
