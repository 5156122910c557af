/* Inside the review (review.h): its state, the publish button's half
 * (review_publish.c) and the left-out list with its undo (review_left.c). */
#ifndef CHATKEEPER_REVIEW_INT_H
#define CHATKEEPER_REVIEW_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/console.h"
#include "chatkeeper/handoff.h"

/* How long a page waits for the loop to take its control (serve). */
#define WAIT_MS 120000

struct ck_review {
    struct ck_console *con;
    char *dir;
    int n_questions;
    json_t *messages; /* the last messages.jsonl read: an array */
    json_t *gone;     /* id -> the page's view of a message hidden from here */

    /* With a loop (ck_review_open_loop): a control is handed from the HTTP
     * thread to the loop's (handoff.h), as the runner's console does. */
    uv_loop_t *loop;
    struct ck_handoff ctl;
    bool rehearsal; /* publish is a dry run, as a rehearsal's run does */
};

/* review_left.c: a message's opening words (140 bytes at most, cut at a
 * character); the view's "hidden" and "opted_out"; what the page saw of a
 * message it is about to hide; unhide/unspam/opt_in on doc (the HTTP code,
 * msg says what happened). */
json_t *ck_review__opening(const char *text);
void ck_review__left_out(struct ck_review *rv, json_t *snap);
void ck_review__remember(struct ck_review *rv, const char *id);
int ck_review__undo(json_t *doc, const char *action, const char *id, const json_t *req, char *msg,
                    size_t n);

/* What DIR's state.json says was published: [{"target", "url"}] (new). */
json_t *ck_review__published(const char *dir);

/* The page's "publish": what `chatkeeper publish DIR` does, once. When every
 * target the session names is recorded already, nothing is sent and the
 * answer is 409 "already published at URL"; else ck_publish_session runs
 * (its records make a second run update, never duplicate). Returns the HTTP
 * status; msg says what happened (the URL, or the error). */
int ck_review__publish(const char *dir, bool rehearsal, char *msg, size_t n);

#endif
