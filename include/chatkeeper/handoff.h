/* A console's controls carried out on a libuv loop's thread (console.h):
 * the page's control arrives on an HTTP thread, which hands it to the loop
 * through a uv_async and waits, at most wait_ms, for the answer. The
 * runner's console hook and serve's reviews use it, so a control can never
 * race the loop's own work (a step falling due, an archive rebuilt).
 *
 * The body is copied for the loop, so a page that gave up waiting (503)
 * takes nothing from under it, and an answer made after that is freed. */
#ifndef CHATKEEPER_HANDOFF_H
#define CHATKEEPER_HANDOFF_H

#include <pthread.h>

#include <uv.h>

#include "chatkeeper/console.h"

struct ck_handoff {
    uv_async_t async;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ck_console_handler take; /* runs on the loop; arg is the owner's */
    void *arg;
    int wait_ms;
    void (*closed)(void *arg);
    /* One control at a time (the console serialises them), under mu. */
    const char *body; /* borrowed from the waiting HTTP thread */
    size_t len;
    char *reply;
    int status, done, stopped;
};

/* Ready to take controls on loop: take(arg, ...) answers each there, as a
 * console handler would. Returns 0, or CK_EIO (the async cannot start: h
 * needs no close then). */
int ck_handoff_init(struct ck_handoff *h, uv_loop_t *loop, int wait_ms, ck_console_handler take,
                    void *arg);

/* The console's handler (ck_console_set_handler(con, ck_handoff_handler, h)):
 * the answer take made, or 503 (reply NULL: the console's own words) when
 * the loop did not answer within wait_ms or h was stopped. */
void ck_handoff_handler(void *h, const char *body, size_t len, int *status, char **reply);

/* A page waiting now, or later, gets 503 at once. On the loop's thread. */
void ck_handoff_stop(struct ck_handoff *h);

/* After ck_handoff_stop and once no handler runs (ck_console_set_handler to
 * NULL): closes the async; closed(arg) runs on the loop once h is done with,
 * so the owner may free the memory h lives in there. */
void ck_handoff_close(struct ck_handoff *h, void (*closed)(void *arg));

#endif
