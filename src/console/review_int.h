/* Inside the review (review.h): the publish button's half (review_publish.c). */
#ifndef CHATKEEPER_REVIEW_INT_H
#define CHATKEEPER_REVIEW_INT_H

#include <stddef.h>

#include <jansson.h>

/* What DIR's state.json says was published: [{"target", "url"}] (new). */
json_t *ck_review__published(const char *dir);

/* The page's "publish": what `chatkeeper publish DIR` does, once. When every
 * target the session names is recorded already, nothing is sent and the
 * answer is 409 "already published at URL"; else ck_publish_session runs
 * (its records make a second run update, never duplicate). Returns the HTTP
 * status; msg says what happened (the URL, or the error). */
int ck_review__publish(const char *dir, char *msg, size_t n);

#endif
