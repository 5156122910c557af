/* The write-up's highlights: picked from every message at once
 * (ck_writeup_pick, what the streaming digest in writeup.c must agree with),
 * and what one shows (who, an excerpt, the link). */
#include "chatkeeper/writeup.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/escape.h"
#include "model.h" /* ck_rquote_link */
#include "writeup_int.h"

#define HIGHLIGHT_MAX_BYTES 280

/* A question post ("Q1 ..."), not an answer (fill_questions marks them in
 * files written before grouping existed). */
static bool is_question_post(const json_t *m)
{
    return strcmp(str(m, "assigned_by"), "question") == 0;
}

/* Usable as an answer to quote or count: not a boost, not deleted, not the question. */
static bool counts_as_answer(const json_t *m, int q, const json_t *deleted)
{
    return answers(m, q) && !json_is_string(json_object_get(m, "boost_of")) &&
           !is_question_post(m) && !in_list(deleted, str(m, "id"));
}

/* Words of at least two letters in [p, end) outside mentions, hashtags
 * and links, counting no further than enough. Bytes above ASCII count as
 * letters: words in other scripts are words. */
static size_t words_in(const char *p, const char *end, size_t enough)
{
    size_t n = 0;
    while (p < end && n < enough) {
        if (*p == '@' || *p == '#' || (end - p >= 4 && strncmp(p, "http", 4) == 0)) {
            while (p < end && *p != ' ' && *p != '\n' && *p != '\t')
                p++;
            continue;
        }
        const char *w = p;
        while (p < end && (isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80))
            p++;
        n += p - w >= 2;
        if (p == w)
            p++;
    }
    return n;
}

bool ck_writeup__own_words(const char *text, const char *quote_of)
{
    size_t start = 0, end = 0, len = strlen(text);
    if (quote_of == NULL || !ck_rquote_link(text, quote_of, &start, &end))
        start = end = len;
    return words_in(text, text + start, OWN_WORDS) + words_in(text + end, text + len, OWN_WORDS) >=
           OWN_WORDS;
}

/* A highlight must make sense on its own (stands_alone, for a record). */
static bool json_stands_alone(const json_t *m)
{
    const char *by = str(m, "assigned_by");
    bool labelled = strcmp(by, "tag") == 0 || strcmp(by, "override") == 0;
    const json_t *quote_of = json_object_get(m, "quote_of");
    return (!json_is_string(json_object_get(m, "reply_to")) || labelled) &&
           (!json_is_string(quote_of) ||
            ck_writeup__own_words(str(m, "text"), json_string_value(quote_of)));
}

static int cmp_liked(const void *a, const void *b)
{
    return cmp_msg(*(const json_t *const *)a, *(const json_t *const *)b);
}

int ck_writeup_pick(const json_t *messages, int q, const json_t *deleted, size_t max, json_t *used,
                    json_t **out)
{
    size_t n = 0, i;
    json_t *m;
    const json_t **c = calloc(json_array_size(messages) + 1, sizeof *c);
    json_t *picked = json_array(), *here = json_object();
    int rc = c && picked && here ? 0 : CK_ENOMEM;
    json_array_foreach(messages, i, m)
    {
        const char *h = str(json_object_get(m, "author"), "handle");
        if (rc == 0 && counts_as_answer(m, q, deleted) && str(m, "text")[0] != '\0' && h[0] &&
            json_stands_alone(m))
            c[n++] = m;
    }
    if (rc == 0)
        qsort(c, n, sizeof *c, cmp_liked);
    /* Pass 0 wants people not quoted anywhere yet; pass 1 settles for people
     * quoted under another question. Nobody is quoted twice under one. */
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (i = 0; i < n && json_array_size(picked) < max && rc == 0; i++) {
            const char *h = str(json_object_get(c[i], "author"), "handle");
            if (json_object_get(here, h) || (pass == 0 && json_object_get(used, h)))
                continue;
            if (json_object_set(here, h, json_true()) != 0 ||
                json_object_set(used, h, json_true()) != 0 ||
                json_array_append(picked, (json_t *)c[i]) != 0)
                rc = CK_ENOMEM;
        }
    }
    free(c);
    json_decref(here);
    if (rc != 0) {
        json_decref(picked);
        picked = NULL;
    }
    *out = picked;
    return rc;
}

const char *ck_writeup__display_name(const json_t *author)
{
    const char *n = str(author, "name");
    return n[0] ? n : str(author, "handle");
}

/* Cut long posts at a word boundary (never inside a UTF-8 sequence). */
static json_t *excerpt(const char *t)
{
    size_t len = strlen(t);
    if (len <= HIGHLIGHT_MAX_BYTES)
        return json_string(t);
    size_t cut = HIGHLIGHT_MAX_BYTES;
    while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
        cut--;
    size_t w = cut;
    while (w > HIGHLIGHT_MAX_BYTES / 2 && t[w] != ' ' && t[w] != '\n')
        w--;
    if (w > HIGHLIGHT_MAX_BYTES / 2)
        cut = w;
    char *buf = malloc(cut + 4);
    if (buf == NULL)
        return NULL;
    memcpy(buf, t, cut);
    memcpy(buf + cut, "\xe2\x80\xa6", 4); /* "…" */
    json_t *s = json_string(buf);
    free(buf);
    return s;
}

json_t *ck_writeup__person(const json_t *author)
{
    const char *url = str(author, "url");
    return json_pack("{s:s s:s s:s}", "name", ck_writeup__display_name(author), "handle",
                     str(author, "handle"), "url", ck_url_safe(url) ? url : "");
}

json_t *ck_writeup__highlight(const json_t *m)
{
    const json_t *a = json_object_get(m, "author");
    const char *url = str(m, "url");
    json_t *h = ck_writeup__person(a);
    if (h != NULL && (json_object_set_new(h, "text", excerpt(str(m, "text"))) != 0 ||
                      json_object_set_new(h, "url", json_string(ck_url_safe(url) ? url : "")) ||
                      json_object_set_new(h, "id", json_string(str(m, "id"))) ||
                      json_object_set_new(h, "likes", json_integer(num(m, "likes"))))) {
        json_decref(h);
        h = NULL;
    }
    return h;
}
