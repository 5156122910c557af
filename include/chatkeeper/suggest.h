/* "Did you mean": the closest of a few known names to a word someone typed,
 * for unknown fields in the session file and overrides.json and for unknown
 * command-line options, so every such error suggests the same way. */
#ifndef CHATKEEPER_SUGGEST_H
#define CHATKEEPER_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance; words longer than 63 bytes count as far from all. */
size_t ck_edit_distance(const char *a, const char *b);

/* The name in names[0..n) closest to word, if close enough to be a likely
 * typo (at most 2 edits, 3 for words longer than 6), or the one name word is
 * a prefix of; else NULL. Borrowed from names. Can't fail. */
const char *ck_suggest(const char *word, const char *const *names, size_t n);

#endif
