/* Private to the write-up (writeup.c, writeup_pick.c): reading a message
 * of messages.jsonl as a JSON object, and the order highlights are picked
 * in. */
#ifndef CHATKEEPER_RENDER_WRITEUP_INT_H
#define CHATKEEPER_RENDER_WRITEUP_INT_H

#include <stdbool.h>
#include <string.h>

#include <jansson.h>

static inline const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static inline long num(const json_t *o, const char *k)
{
    return (long)json_integer_value(json_object_get(json_object_get(o, "counts"), k));
}

static inline bool in_list(const json_t *list, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
            return true;
    }
    return false;
}

static inline bool answers(const json_t *m, int q)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(m, "questions"), i, v)
    {
        if (json_integer_value(v) == q)
            return true;
    }
    return false;
}

/* Best liked first: likes, then boosts, then replies, then earliest, then id
 * (a total order, so the candidates kept while streaming are well defined). */
static inline int cmp_msg(const json_t *x, const json_t *y)
{
    static const char *const keys[] = {"likes", "boosts", "replies"};
    for (size_t i = 0; i < 3; i++) {
        long d = num(y, keys[i]) - num(x, keys[i]);
        if (d != 0)
            return d > 0 ? 1 : -1;
    }
    int c = strcmp(str(x, "created_at"), str(y, "created_at"));
    return c != 0 ? c : strcmp(str(x, "id"), str(y, "id"));
}

/* writeup_pick.c: the name to show for author (its name, else its handle);
 * a new person object {name, handle, url}; a new highlight object of
 * message m (person, excerpt of its text, link, likes). NULL: out of
 * memory. */
const char *ck_writeup__display_name(const json_t *author);
json_t *ck_writeup__person(const json_t *author);
json_t *ck_writeup__highlight(const json_t *m);

/* A quote post is an answer like any other when it says something of its
 * own: OWN_WORDS words (of two letters or more, mentions, hashtags and
 * links aside) besides the link to the post it quotes. "THIS." and "so
 * true!" are not; they make no sense without the quoted post. */
#define OWN_WORDS 4
bool ck_writeup__own_words(const char *text, const char *quote_of);

#endif
