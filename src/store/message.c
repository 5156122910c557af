/* Normalised messages: the one shape every platform's objects take, and its
 * messages.jsonl record. The record's key order is fixed (jansson keeps
 * insertion order), so the archive's bytes depend only on the messages. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/message.h"
#include "chatkeeper/timeutil.h"

void ck_message_finish(struct ck_message *m)
{
    if (m == NULL)
        return;
    free(m->id);
    free(m->platform);
    free(m->url);
    free(m->author.id);
    free(m->author.handle);
    free(m->author.name);
    free(m->author.url);
    free(m->text);
    free(m->reply_to);
    free(m->boost_of);
    free(m->edited_at);
    free(m->uri);
    free(m->quote_of);
    memset(m, 0, sizeof *m);
}

static void noncharacters(char *s)
{
    /* 0xEF is only ever a lead byte, so EF BF BE/BF is U+FFFE/U+FFFF itself. */
    for (unsigned char *p = (unsigned char *)s; p != NULL && *p != '\0'; p++)
        if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
            p[2] = 0xBD;
}

void ck_message_noncharacters(struct ck_message *m)
{
    /* Not the ids (id, uri, reply_to, ...): two posts must never become one. */
    char *fields[] = {m->text, m->author.name, m->author.handle,
                      m->url,  m->author.url,  m->edited_at};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        noncharacters(fields[i]);
}

/* A string or JSON null for NULL. NULL only on out of memory (our strings
 * are valid UTF-8: they come from jansson or through ck_utf8_sanitize). */
static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* Set key on obj, stealing v; false when v is NULL (out of memory) or the set fails. */
static int set(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

json_t *ck_message_to_json(const struct ck_message *m)
{
    char created[32];
    ck_time_format_rfc3339(m->created_ms, created);
    json_t *o = json_object();
    json_t *author = json_object();
    json_t *counts = json_object();
    if (o == NULL || author == NULL || counts == NULL)
        goto fail;
    int ok = set(author, "id", str_or_null(m->author.id)) &&
             set(author, "handle", str_or_null(m->author.handle)) &&
             set(author, "name", json_string(m->author.name != NULL ? m->author.name : "")) &&
             set(author, "url", str_or_null(m->author.url)) &&
             set(counts, "replies", json_integer(m->replies)) &&
             set(counts, "boosts", json_integer(m->boosts)) &&
             set(counts, "likes", json_integer(m->likes));
    if (!ok)
        goto fail;
    ok = set(o, "id", str_or_null(m->id)) && set(o, "platform", str_or_null(m->platform)) &&
         set(o, "url", str_or_null(m->url)) && set(o, "created_at", json_string(created));
    if (!ok)
        goto fail;
    /* json_object_set_new steals its value even when it fails. */
    ok = set(o, "author", author);
    author = NULL;
    if (!ok)
        goto fail;
    ok = set(o, "text", json_string(m->text != NULL ? m->text : "")) &&
         set(o, "reply_to", str_or_null(m->reply_to)) &&
         set(o, "boost_of", str_or_null(m->boost_of)) &&
         set(o, "edited_at", str_or_null(m->edited_at)) &&
         (m->uri == NULL || set(o, "uri", json_string(m->uri))) &&
         (m->quote_of == NULL || set(o, "quote_of", json_string(m->quote_of)));
    if (!ok)
        goto fail;
    ok = set(o, "counts", counts);
    counts = NULL;
    if (!ok)
        goto fail;
    return o;
fail:
    json_decref(counts);
    json_decref(author);
    json_decref(o);
    return NULL;
}

int ck_id_order(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

int ck_message_cmp(const struct ck_message *a, const struct ck_message *b)
{
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    int c = ck_id_order(a->id, b->id);
    if (c != 0)
        return c;
    /* The same id on two platforms: still a total order, so sorting is deterministic. */
    return ck_id_order(a->platform, b->platform);
}
