/* serve's console (issue 16): one console for every session serve carries.
 * Its own view lists the sessions (title, start, state); each session that
 * runs has a room (console.h: ck_console_room) the runner shows itself on
 * with its live view and controls (runconsole.h), and when it is over the
 * same room holds its review (review.h), controls handed to the loop. Only
 * the last REVIEWS_KEPT finished sessions keep a review open (memory: each
 * holds its messages). Everything here runs on serve's loop. Private to
 * src/run/. */
#ifndef CHATKEEPER_CONSOLE_SERVE_INT_H
#define CHATKEEPER_CONSOLE_SERVE_INT_H

struct serve;
struct slot;
struct ck_console;

/* sv->o->console set: keep sv->console for it (NULL when there is none,
 * or out of memory: serve runs on without). */
void ck_serve_console_open(struct serve *sv);
/* The room sl's runner shows itself on, or NULL. */
struct ck_console *ck_serve_console_running(struct serve *sv, struct slot *sl);
/* sl's runner is gone: its room shows the review of its directory. */
void ck_serve_console_finished(struct serve *sv, struct slot *sl);
/* Publish the list of sessions (unchanged lists are not resent). */
void ck_serve_console_update(struct serve *sv);
/* Before the loop closes: every review and room closed (after the runners). */
void ck_serve_console_close(struct serve *sv);

#endif
