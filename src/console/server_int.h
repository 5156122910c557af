/* Inside the console's server (server.c, server_view.c): the daemon, the
 * views pages open on it (its own and its rooms), and the rooms' list. */
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

struct server;

/* One view pages open, the handle console.h hands out: the server's own (its
 * sessions list in serve, the run or the review elsewhere), or a room, a view
 * of its own on the same server under ?s=ID (ck_console_room). What a page
 * sees and presses, nothing of the daemon: that is the server's. */
struct ck_console {
    struct server *srv;
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
    pthread_mutex_t ctl_mu;
    ck_console_handler handler;
    void *handler_arg;
    /* A room's place on its server (unused on the server's own view): the
     * own view's mu guards the list and each room's refs (requests and
     * streams using it), and the last of the owner's stop and those frees it. */
    struct ck_console *next_room;
    char id[32];
    int refs;
    int dropped; /* a room off its server's list: the last ref frees it */
};

/* The daemon (ck_console_start): its address, its key, its own view (what
 * ck_console_start returns) and the rooms. */
struct server {
    struct ck_console own;
    struct MHD_Daemon *d;
    char secret[SECRET_LEN + 1];
    char host[64];   /* "127.0.0.1:PORT": what Host must say */
    char alt[64];    /* "localhost:PORT" on loopback, else "" */
    char origin[96]; /* "http://" + host */
    char url[160];
    int port;
    char *title;
    struct ck_console *rooms; /* own.mu guards it */
};

/* server_view.c: a view's locks set up for srv, and torn down with what it
 * holds of its last publish; the rooms' list (get holds a ref, put drops it,
 * stop takes a room off the list; the last of stop and the refs frees it). */
void ck_cs_view_init(struct ck_console *v, struct server *srv);
void ck_cs_view_finish(struct ck_console *v);
int ck_cs_is_room(const struct ck_console *v);
void ck_cs_room_free(struct ck_console *r);
struct ck_console *ck_cs_room_get(struct server *srv, const char *id);
void ck_cs_room_put(struct ck_console *r);
void ck_cs_room_stop(struct ck_console *r);

#endif
