/* The word lists grouping reads, and the look-ups in them: the leaf of
 * grouping, so that group.c -> group_scan.c -> group_chatter.c -> here runs
 * one way (issue 12). */
#include <stdbool.h>
#include <stddef.h>

#include "group_internal.h"

/* Sorted (strcmp order) for binary search. Chat filler ("agree", "great",
 * "question") is here too: it is shared by every question and answer, so it
 * says nothing about which. */
static const char *const stop_words[] = {
    "about",  "above",  "after",    "again",   "agree", "all",     "also",  "always",  "and",
    "answer", "any",    "are",      "because", "been",  "before",  "being", "but",     "can",
    "chat",   "could",  "did",      "does",    "doing", "don't",   "each",  "even",    "every",
    "for",    "from",   "get",      "going",   "good",  "got",     "great", "had",     "has",
    "have",   "her",    "here",     "him",     "his",   "how",     "i'm",   "into",    "it's",
    "its",    "just",   "know",     "like",    "lot",   "make",    "many",  "more",    "most",
    "much",   "need",   "not",      "now",     "one",   "only",    "other", "our",     "out",
    "own",    "people", "question", "really",  "same",  "see",     "she",   "should",  "some",
    "such",   "than",   "that",     "the",     "their", "them",    "then",  "there",   "these",
    "they",   "thing",  "think",    "this",    "those", "through", "today", "tonight", "too",
    "very",   "want",   "was",      "way",     "we're", "well",    "were",  "what",    "when",
    "where",  "which",  "while",    "who",     "why",   "will",    "with",  "would",   "yes",
    "you",    "you're", "your",
};

/* strcmp(w, e) for w of len bytes: only the sign matters. */
static int cmp_word(const char *w, size_t len, const char *e)
{
    for (size_t i = 0; i < len; i++)
        if (w[i] != e[i])
            return (unsigned char)w[i] < (unsigned char)e[i] ? -1 : 1;
    return e[len] == '\0' ? 0 : -1;
}

bool ck_group__in_sorted(const char *w, size_t len, const char *const *list, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_word(w, len, list[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

bool ck_group__is_stop(const char *w, size_t len)
{
    return ck_group__in_sorted(w, len, stop_words, sizeof stop_words / sizeof stop_words[0]);
}
