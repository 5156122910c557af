/* serve's console (console_serve_int.h). */
#include "console_serve_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "chatkeeper/console.h"
#include "chatkeeper/log.h"
#include "chatkeeper/review.h"
#include "chatkeeper/state.h"

#include "serve_int.h"

#define REVIEWS_KEPT 8

struct room {
    struct ck_console *c; /* NULL: none (yet) */
    struct ck_review *rv; /* the review, once the session is over */
    unsigned long opened; /* when the review opened, to close the oldest */
    int tried;            /* a review was tried (it is not tried again) */
};

struct ck_serve_console {
    struct ck_console *con;
    struct room *rooms; /* by slot index */
    size_t n;
    unsigned long clock;
};

static long slot_index(const struct serve *sv, const struct slot *sl)
{
    for (size_t i = 0; i < sv->n_slots; i++)
        if (sv->slots[i] == sl)
            return (long)i;
    return -1;
}

static struct room *room_of(struct serve *sv, const struct slot *sl)
{
    struct ck_serve_console *sc = sv->console;
    long i = sc != NULL ? slot_index(sv, sl) : -1;
    if (i < 0)
        return NULL;
    if ((size_t)i >= sc->n) {
        size_t n = sv->n_slots;
        struct room *r = realloc(sc->rooms, n * sizeof *r);
        if (r == NULL)
            return NULL;
        memset(r + sc->n, 0, (n - sc->n) * sizeof *r);
        sc->rooms = r;
        sc->n = n;
    }
    struct room *rm = &sc->rooms[i];
    if (rm->c == NULL) {
        char id[32];
        snprintf(id, sizeof id, "%ld", i);
        rm->c = ck_console_room(sc->con, id);
    }
    return rm->c != NULL ? rm : NULL;
}

void ck_serve_console_open(struct serve *sv)
{
    if (sv->o->console == NULL)
        return;
    struct ck_serve_console *sc = calloc(1, sizeof *sc);
    if (sc == NULL) {
        ck_err("serve: out of memory: the console shows no sessions");
        return;
    }
    sc->con = sv->o->console;
    sv->console = sc;
}

struct ck_console *ck_serve_console_running(struct serve *sv, struct slot *sl)
{
    struct room *rm = room_of(sv, sl);
    if (rm == NULL)
        return NULL;
    ck_review_close(rm->rv); /* a session run again after its review opened */
    rm->rv = NULL;
    rm->tried = 0;
    return rm->c;
}

static void close_oldest_review(struct ck_serve_console *sc)
{
    size_t open = 0, oldest = sc->n;
    for (size_t i = 0; i < sc->n; i++) {
        if (sc->rooms[i].rv == NULL)
            continue;
        open++;
        if (oldest == sc->n || sc->rooms[i].opened < sc->rooms[oldest].opened)
            oldest = i;
    }
    if (open < REVIEWS_KEPT)
        return;
    ck_review_close(sc->rooms[oldest].rv);
    sc->rooms[oldest].rv = NULL;
    ck_console_stop(sc->rooms[oldest].c); /* its pages go back to the list */
    sc->rooms[oldest].c = NULL;
}

void ck_serve_console_finished(struct serve *sv, struct slot *sl)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/messages.jsonl", sl->dir);
    if (sv->console == NULL || access(path, F_OK) != 0)
        return; /* nothing archived to review */
    struct room *rm = room_of(sv, sl);
    if (rm == NULL || rm->rv != NULL || rm->tried)
        return;
    rm->tried = 1;
    close_oldest_review(sv->console);
    if ((rm = room_of(sv, sl)) == NULL) /* the oldest may have been this one's room */
        return;
    struct ck_error err = {0};
    if (ck_review_open_loop(sl->dir, rm->c, &sv->loop, &rm->rv, &err) != 0) {
        ck_warn("serve: the console cannot show the review of '%s': %s", sl->title, err.msg);
        return;
    }
    rm->opened = ++sv->console->clock;
    if (sv->o->rehearsal)
        ck_review_rehearsal(rm->rv);
}

void ck_serve_console_update(struct serve *sv)
{
    struct ck_serve_console *sc = sv->console;
    if (sc == NULL)
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < sv->n_slots; i++) {
        struct slot *sl = sv->slots[i];
        if (sl->title[0] == '\0')
            continue; /* never loaded */
        if (sl->finished && sl->runner == NULL && !sv->stopping)
            ck_serve_console_finished(sv, sl);
        const char *state = sl->runner != NULL ? "running"
                            : sl->cancelled    ? "cancelled"
                            : !sl->finished    ? "upcoming"
                            : sl->status != 0  ? "stopped"
                                               : "finished";
        json_t *o =
            json_pack("{s:s, s:s, s:I, s:s}", "title", sl->title, "dir", sl->dir, "start_ms",
                      (json_int_t)(sl->start_ms - sv->shift_ms), "state", state);
        struct room *rm = i < sc->n ? &sc->rooms[i] : NULL;
        if (o != NULL && rm != NULL && rm->c != NULL && (sl->runner != NULL || rm->rv != NULL)) {
            char id[32];
            snprintf(id, sizeof id, "%zu", i);
            json_object_set_new(o, "room", json_string(id));
        }
        json_array_append_new(list, o);
    }
    ck_console_publish(sc->con, json_pack("{s:s, s:s, s:o}", "mode", "serve", "title",
                                          "chatkeeper serve", "sessions", list));
}

void ck_serve_console_close(struct serve *sv)
{
    struct ck_serve_console *sc = sv->console;
    if (sc == NULL)
        return;
    for (size_t i = 0; i < sc->n; i++) {
        ck_review_close(sc->rooms[i].rv);
        ck_console_stop(sc->rooms[i].c);
    }
    free(sc->rooms);
    free(sc);
    sv->console = NULL;
}
