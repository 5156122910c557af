/* The review of a finished session directory on the console (console.h):
 * every message with its question(s) and how it was filed; the page's
 * controls write overrides.json and rebuild the outputs:
 *
 *   {"action": "move", "id": "ID", "question": 3, "thread": true}  (0: none)
 *   {"action": "hide", "id": "ID"}   {"action": "spam", "id": "ID"} (hidden, no question)
 *   {"action": "opt_out", "handle": "@user@domain"}
 *   {"action": "unhide", "id": "ID"}  {"action": "unspam", "id": "ID"}  (409 when it is not)
 *   {"action": "opt_in", "handle": "@user@domain"}   each takes back what the one above put in
 *   {"action": "publish"}   what `chatkeeper publish DIR` does (publish.h); when every
 *                           target is recorded in state.json: 409 "already published at URL"
 *
 * The view lists what overrides.json leaves out ("hidden": [{id, spam}],
 * "opted_out": [handles]) and what state.json says was published.
 *
 * overrides.json is read again before each change (a hand edit is kept),
 * the result is checked as the file is (overrides.h) and written atomically;
 * a file a hand edit left broken is answered 409 and left alone. */
#ifndef CHATKEEPER_REVIEW_H
#define CHATKEEPER_REVIEW_H

#include <uv.h>

#include "chatkeeper/console.h"
#include "chatkeeper/error.h"

struct ck_review;

/* Build the outputs if dir has none yet, publish the first view and take
 * the console's controls (con borrowed, must outlive the review). Returns 0
 * or what ck_archive_build returns (bad session file: CK_ECONFIG). */
int ck_review_open(const char *dir, struct ck_console *con, struct ck_review **out,
                   struct ck_error *err);
/* The same where another thread of the process uses jansson (serve's loop):
 * the controls are handed to loop's thread and carried out there. Open and
 * close it on that thread; close frees once the loop closes its handle. */
int ck_review_open_loop(const char *dir, struct ck_console *con, uv_loop_t *loop,
                        struct ck_review **out, struct ck_error *err);
/* A rehearsal's session: "publish" is a dry run (nothing sent), answered 409. */
void ck_review_rehearsal(struct ck_review *rv);
void ck_review_close(struct ck_review *rv); /* NULL is a no-op */

#endif
