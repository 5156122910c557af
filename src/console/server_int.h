/* Inside the console's server (server.c, server_view.c): the console and
 * its rooms as one struct, the rooms' list, and the published view. */
#ifndef CK_CONSOLE_SERVER_INT_H
#define CK_CONSOLE_SERVER_INT_H

#include <pthread.h>

#include <jansson.h>
#include <microhttpd.h>

#include "chatkeeper/console.h"

#define SECRET_LEN 24
/* The last few changes kept as patches: a page that fell further behind gets
 * the whole document again. */
#define PATCHES 8

struct ck_console {
    struct MHD_Daemon *d;
    char secret[SECRET_LEN + 1];
    char host[64];   /* "127.0.0.1:PORT": what Host must say */
    char alt[64];    /* "localhost:PORT" on loopback, else "" */
    char origin[96]; /* "http://" + host */
    char url[160];
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *snap; /* the latest view, compact JSON; owned */
    unsigned long version;
    /* What changed from version - 1 to version, as compact JSON of the changed
     * top-level members (a removed one null), or NULL: patch[version % PATCHES]. */
    struct {
        unsigned long version;
        char *text;
    } patch[PATCHES];
    json_t *prev;  /* the latest view as published; the publisher's thread only */
    json_t *texts; /* each member of prev as compact JSON text (key -> string); same */
    int pages;
    int stopping;
    char *title;
    pthread_mutex_t ctl_mu;
    ck_console_handler handler;
    void *handler_arg;
    /* Rooms (ck_console_room): views of their own on this server, under
     * ?s=ID. A room has a parent and no daemon; the parent's mu guards the
     * list and each room's refs (requests and streams using it), and the
     * last of the owner's stop and those frees it. */
    struct ck_console *parent, *rooms, *next_room;
    char id[32];
    int refs;
    int dropped; /* a room off its console's list: the last ref frees it */
};

/* server_view.c: what a view holds of its last publish, freed (the console's
 * and each room's); the rooms' list (get holds a ref, put drops it, stop takes
 * a room off the list; the last of stop and the refs frees it). */
void ck_cs_view_free(struct ck_console *c);
void ck_cs_room_free(struct ck_console *r);
struct ck_console *ck_cs_room_get(struct ck_console *c, const char *id);
void ck_cs_room_put(struct ck_console *r);
void ck_cs_room_stop(struct ck_console *r);

#endif
