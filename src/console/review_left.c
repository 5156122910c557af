/* The review's left-out list and its undo (review_int.h): what
 * overrides.json leaves out, shown so the page can take each back, and the
 * controls that do. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/state.h"

#include "review_int.h"

/* A message's opening words for the page: at most 140 bytes, cut at a
 * character (a cut inside one is no valid string: jansson refuses it). */
json_t *ck_review__opening(const char *t)
{
    size_t n = t != NULL ? strlen(t) : 0;
    if (n > 140) {
        n = 140;
        while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(t != NULL ? t : "", n);
}

/* What overrides.json leaves out, so the page can take it back: hidden
 * messages (with what the page saw of them, when it hid them) and whether
 * each was marked as spam, and the people opted out. */
void ck_review__left_out(struct ck_review *rv, json_t *snap)
{
    char *path = ck_path_join(rv->dir, "overrides.json");
    json_t *ov = path != NULL ? json_load_file(path, 0, NULL) : NULL;
    free(path);
    json_t *hidden = json_array(), *opted = json_array();
    const json_t *move = json_object_get(ov, "move");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ov, "hide"), i, v)
    {
        const char *id = json_string_value(v);
        if (id == NULL)
            continue;
        const json_t *mv = json_object_get(move, id);
        json_t *o = json_pack("{s:s, s:b}", "id", id, "spam",
                              json_is_array(mv) && json_array_size(mv) == 0);
        const json_t *seen = json_object_get(rv->gone, id);
        if (o != NULL && seen != NULL) {
            json_object_set(o, "handle", json_object_get(seen, "handle"));
            json_object_set(o, "text", json_object_get(seen, "text"));
        }
        json_array_append_new(hidden, o);
    }
    json_array_foreach(json_object_get(ov, "opt_out"), i, v) if (json_is_string(v))
        json_array_append(opted, v);
    json_object_set_new(snap, "hidden", hidden);
    json_object_set_new(snap, "opted_out", opted);
    json_decref(ov);
}

/* Take s out of arr; whether it was there. */
static bool remove_str(json_t *arr, const char *s)
{
    bool found = false;
    for (size_t i = json_array_size(arr); i-- > 0;) {
        const char *v = json_string_value(json_array_get(arr, i));
        if (v != NULL && strcmp(v, s) == 0) {
            json_array_remove(arr, i);
            found = true;
        }
    }
    return found;
}

/* Remember what the page showed of a message it is about to hide: the
 * outputs drop it, and the page still names it under "hidden". */
void ck_review__remember(struct ck_review *rv, const char *id)
{
    size_t i;
    json_t *m;
    json_array_foreach(rv->messages, i, m)
    {
        const char *mid = json_string_value(json_object_get(m, "id"));
        if (mid == NULL || strcmp(mid, id) != 0)
            continue;
        json_object_set_new(
            rv->gone, id,
            json_pack("{s:O, s:o}", "handle",
                      json_object_get(json_object_get(m, "author"), "handle"), "text",
                      ck_review__opening(json_string_value(json_object_get(m, "text")))));
        return;
    }
}

/* The page's undo of hide, spam and opt-out: each takes back exactly what
 * the control (or a hand edit) put in overrides.json. */
int ck_review__undo(json_t *doc, const char *action, const char *id, const json_t *req, char *msg,
                    size_t n)
{
    if (strcmp(action, "opt_in") == 0) {
        const char *h = json_string_value(json_object_get(req, "handle"));
        if (h == NULL)
            return snprintf(msg, n, "opt_in: which person? (\"handle\": \"@user@domain\")"), 400;
        if (!remove_str(json_object_get(doc, "opt_out"), h))
            return snprintf(msg, n, "%s is not opted out", h), 409;
        return snprintf(msg, n, "%s is in every output again", h), 200;
    }
    if (id == NULL)
        return snprintf(msg, n, "%s: which message? (\"id\")", action), 400;
    json_t *move = json_object_get(doc, "move");
    const json_t *mv = json_object_get(move, id);
    bool spam = json_is_array(mv) && json_array_size(mv) == 0;
    if (strcmp(action, "unspam") == 0) {
        if (!spam)
            return snprintf(msg, n, "%s is not marked as spam", id), 409;
        json_object_del(move, id); /* grouping files it again */
        remove_str(json_object_get(doc, "hide"), id);
        return snprintf(msg, n, "%s is no longer spam, and shown", id), 200;
    }
    if (!remove_str(json_object_get(doc, "hide"), id))
        return snprintf(msg, n, "%s is not hidden", id), 409;
    return snprintf(msg, n, "%s is shown again%s", id, spam ? " (in no question)" : ""), 200;
}
