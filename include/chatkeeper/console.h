/* The facilitators' console: a small local web server (libmicrohttpd) that
 * serves one page, one stylesheet and one script (embedded at build time),
 * pushes the latest view of a run to every open page as server-sent events,
 * and hands the page's controls to whoever owns the state.
 *
 * It knows nothing of runs or sessions: its owner publishes snapshots (JSON
 * documents it builds from its own state: the console keeps no second copy of
 * the truth) and answers controls through a handler. MHD runs a thread per
 * connection; every function here is safe to call from any thread.
 *
 * Access: a fresh random secret per process (getrandom, 24 characters). The
 * page learns it from the URL's fragment (never sent over the network) and
 * sends it in the X-Console-Key header. Every /api/ request without it gets
 * 403 and an empty body. "/", the stylesheet and the script load without it and
 * hold no session data. Every request must name the bound address in Host (a
 * DNS rebinding page names its own) and, when it carries Origin, come from
 * the console's own origin: else 403. */
#ifndef CHATKEEPER_CONSOLE_H
#define CHATKEEPER_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "chatkeeper/error.h"

struct ck_console;

struct ck_console_opts {
    const char *addr;  /* dotted IPv4; NULL: 127.0.0.1 */
    int port;          /* 0: a free port */
    bool public_ok;    /* a non-loopback addr is refused unless this is set */
    const char *title; /* shown before the first snapshot; borrowed, may be NULL */
};

/* A control from the page: body is the POSTed text (len bytes, NUL-terminated;
 * a JSON object with "action" when the page sent it, but anything when someone
 * else did). The handler sets *status (200, 400, 409, ...) and *reply (malloc'd
 * JSON text, an object with at least "message"; the server frees it). Calls are
 * serialised: two pages pressing a button at once are answered one after the
 * other. Runs on an HTTP thread: it must not call jansson there while another
 * thread may have swapped jansson's allocator (the runner's archive refresh
 * does, jsonerr.h); the runner hands the text to its loop's thread. */
typedef void (*ck_console_handler)(void *arg, const char *body, size_t len, int *status,
                                   char **reply);

/* Parse "[ADDR:]PORT" into opts->addr (pointing into spec's copy in buf) and
 * opts->port. Returns 0 or CK_EINVAL. */
int ck_console_parse_listen(const char *spec, char *buf, size_t n, struct ck_console_opts *opts);

/* Bind and start serving. Returns 0, CK_EINVAL (a public address without
 * public_ok, a bad address: err says which), CK_EIO or CK_ENOMEM. */
int ck_console_start(const struct ck_console_opts *opts, struct ck_console **out,
                     struct ck_error *err);

/* "http://127.0.0.1:PORT/#k=SECRET": the one place the secret is shown. Borrowed. */
const char *ck_console_url(const struct ck_console *c);
/* "http://127.0.0.1:PORT" (no secret), for log lines. Borrowed. */
const char *ck_console_origin(const struct ck_console *c);
int ck_console_port(const struct ck_console *c);
/* The secret alone (tests and the bench need it in a header). Borrowed. */
const char *ck_console_secret(const struct ck_console *c);

/* Replace the view every page shows (steals snap; NULL is ignored). A page
 * gets the whole document as an event "state" when it opens (or fell more
 * than a few versions behind), then as events "patch" only the top-level
 * members that changed (a member gone is null): the page merges them. An
 * unchanged document is not resent. Call it from one thread at a time (it
 * compares with the previous document without a lock). */
void ck_console_publish(struct ck_console *c, json_t *snap);

void ck_console_set_handler(struct ck_console *c, ck_console_handler fn, void *arg);

/* Open pages (event streams) now. */
int ck_console_pages(const struct ck_console *c);

/* A room: a console of its own (view, controls, pages) served by c's server
 * for requests naming it, /api/...?s=ID (a page opens it from the view c
 * shows; the key is c's). Every function above works on a room as on a
 * console; ck_console_stop(room) closes its streams and takes it off c at
 * once (a request still using it frees it when done). Stop every room
 * before c. Returns NULL on out of memory. */
struct ck_console *ck_console_room(struct ck_console *c, const char *id);

/* Close the streams, stop the server, free. NULL is a no-op. */
void ck_console_stop(struct ck_console *c);

#endif
