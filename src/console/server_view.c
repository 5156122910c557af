/* The console's views (console.h, server_int.h): publishing a snapshot as
 * the whole document and a patch of what changed, and the rooms, views of
 * their own on the same server (serve's sessions). Split from server.c,
 * which runs the daemon and answers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/console.h"
#include "chatkeeper/sbuf.h"

#include "server_int.h"

/* ---- views and rooms -------------------------------------------------------- */

void ck_cs_view_init(struct ck_console *v, struct server *srv)
{
    v->srv = srv;
    pthread_mutex_init(&v->mu, NULL);
    pthread_mutex_init(&v->ctl_mu, NULL);
    pthread_cond_init(&v->cv, NULL);
}

/* The locks, and what a view holds of its last publish (ck_console_publish). */
void ck_cs_view_finish(struct ck_console *v)
{
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    pthread_mutex_destroy(&v->ctl_mu);
    free(v->snap);
    for (size_t i = 0; i < PATCHES; i++)
        free(v->patch[i].text);
    json_decref(v->prev);
    json_decref(v->texts);
}

int ck_cs_is_room(const struct ck_console *v)
{
    return v != &v->srv->own;
}

void ck_cs_room_free(struct ck_console *r)
{
    ck_cs_view_finish(r);
    free(r);
}

/* The live room called id, held (room_put), or NULL. */
struct ck_console *ck_cs_room_get(struct server *srv, const char *id)
{
    pthread_mutex_lock(&srv->own.mu);
    struct ck_console *r = srv->rooms;
    while (r != NULL && strcmp(r->id, id) != 0)
        r = r->next_room;
    if (r != NULL)
        r->refs++;
    pthread_mutex_unlock(&srv->own.mu);
    return r;
}

void ck_cs_room_put(struct ck_console *r)
{
    if (!ck_cs_is_room(r))
        return;
    pthread_mutex_lock(&r->srv->own.mu);
    int gone = --r->refs == 0 && r->dropped;
    pthread_mutex_unlock(&r->srv->own.mu);
    if (gone)
        ck_cs_room_free(r);
}

struct ck_console *ck_console_room(struct ck_console *c, const char *id)
{
    struct ck_console *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    struct server *srv = c->srv;
    snprintf(r->id, sizeof r->id, "%s", id);
    ck_cs_view_init(r, srv);
    pthread_mutex_lock(&srv->own.mu);
    r->next_room = srv->rooms;
    srv->rooms = r;
    pthread_mutex_unlock(&srv->own.mu);
    return r;
}

/* A room's stop: out of the list at once, freed by the last request using it. */
void ck_cs_room_stop(struct ck_console *r)
{
    struct server *srv = r->srv;
    pthread_mutex_lock(&srv->own.mu);
    for (struct ck_console **p = &srv->rooms; *p != NULL; p = &(*p)->next_room)
        if (*p == r) {
            *p = r->next_room;
            break;
        }
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    r->dropped = 1;
    int gone = r->refs == 0;
    pthread_mutex_unlock(&srv->own.mu);
    if (gone)
        ck_cs_room_free(r);
}

/* "KEY":TEXT into b, after a comma unless it is the first. */
static void member(struct ck_sbuf *b, size_t *n, const char *key, const char *text)
{
    json_t *ks = json_string(key);
    char *k = ks != NULL ? json_dumps(ks, JSON_ENCODE_ANY) : NULL;
    json_decref(ks);
    if (k == NULL) {
        b->oom = 1;
        return;
    }
    ck_sbuf_str(b, (*n)++ ? "," : "{");
    ck_sbuf_str(b, k);
    ck_sbuf_str(b, ":");
    ck_sbuf_str(b, text);
    free(k);
}

void ck_console_publish(struct ck_console *c, json_t *snap)
{
    if (c == NULL || !json_is_object(snap)) {
        json_decref(snap);
        return;
    }
    /* Member by member: one that is the very same object as before (the
     * runner's cached questions) or equal to it keeps its text; only the
     * others are written out, once, for the whole view and for the patch. */
    json_t *texts = json_object();
    struct ck_sbuf full = {0}, patch = {0};
    size_t nf = 0, np = 0;
    const char *k;
    json_t *v;
    json_object_foreach(snap, k, v)
    {
        json_t *old = json_object_get(c->prev, k);
        const char *was = json_string_value(json_object_get(c->texts, k));
        int same = was != NULL && old != NULL && (old == v || json_equal(old, v));
        char *dumped = same ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        const char *text = same ? was : dumped;
        if (text == NULL || texts == NULL) {
            full.oom = 1;
            break;
        }
        member(&full, &nf, k, text);
        if (!same)
            member(&patch, &np, k, text);
        json_object_set_new_nocheck(texts, k, json_string_nocheck(text));
        free(dumped);
    }
    json_object_foreach(c->prev, k, v)
    {
        if (json_object_get(snap, k) == NULL)
            member(&patch, &np, k, "null");
    }
    ck_sbuf_str(&full, nf ? "}" : "{}");
    ck_sbuf_str(&patch, np ? "}" : "{}");
    if (full.oom || patch.oom || (c->prev != NULL && np == 0)) {
        /* out of memory, or an unchanged view: nothing is sent */
        free(full.s);
        free(patch.s);
        json_decref(texts);
        json_decref(snap);
        return;
    }
    int first = c->prev == NULL;
    json_decref(c->prev);
    json_decref(c->texts);
    c->prev = snap;
    c->texts = texts;
    pthread_mutex_lock(&c->mu);
    free(c->snap);
    c->snap = full.s;
    c->version++;
    free(c->patch[c->version % PATCHES].text);
    c->patch[c->version % PATCHES].version = c->version;
    c->patch[c->version % PATCHES].text = first ? NULL : patch.s;
    if (first)
        free(patch.s);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}
