/* Shared by the grouping files (group.c -> group_scan.c -> group_chatter.c ->
 * group_words.c, one way); not part of the public contract. */
#ifndef CHATKEEPER_GROUP_INTERNAL_H
#define CHATKEEPER_GROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chatkeeper/group.h"

/* Content words of the scanner's k-th question (0 past the last). */
size_t ck_group__qwords(const struct ck_group_scanner *s, size_t k);

/* group_words.c: whether lower-case word w (len bytes, no NUL among them) is
 * a stop word (filler shared by every question). */
bool ck_group__is_stop(const char *w, size_t len);

/* Whether word w (len bytes) is one of list's n words, which are sorted in
 * strcmp order: a binary search. */
bool ck_group__in_sorted(const char *w, size_t len, const char *const *list, size_t n);

/* Does text p start with w? (strncmp(p, w, strlen(w)) == 0 without the strlen:
 * it stops at the first difference, usually the first byte.) */
static inline bool ck_group__starts(const char *p, const char *w)
{
    for (; *w != '\0'; p++, w++)
        if (*p != *w)
            return false;
    return true;
}

/* A byte of a word: letters, digits, the apostrophe of "don't". */
static inline bool ck_group__word_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '\'';
}

/* group_tags.c. Answer labels of lower-case lc (orig: the same text, its
 * case kept; len bytes; the message proper from start) into m's tags; */
void ck_group__scan_tags(const char *lc, const char *orig, size_t start, size_t len,
                         struct ck_group_msg *m);
/* the first "Qn" a text names into m->q_mention (CK_GROUP_F_QREF when it
 * says so without a label); */
void ck_group__scan_qmention(const char *lc, const char *orig, size_t start,
                             struct ck_group_msg *m);
/* whether it is numbered as a later part ("2/2", "(3/3)"). */
bool ck_group__later_part(const char *lc);

/* Chatter level (CK_GROUP_CHATTER_*) of lower-case text lc, whose message
 * proper starts at lc + start (past mentions and the hashtag); adds
 * CK_GROUP_F_META to *flags for a moderator's announcement. Can't fail. */
int ck_group__chatter(const char *lc, size_t start, uint8_t *flags);

#endif
