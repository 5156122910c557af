/* The poster: posts the run sheet (welcome, questions, closing) on time, never
 * twice. It plugs into the runner as a step handler (runner.h).
 *
 * Never twice: each step has a stable idempotency key derived from the session
 * (hashtag, start) and the step ("welcome", "q3", "closing"). The intent to post
 * is written to state.json (atomically, fsync'd) before the request is sent, and
 * the request carries the key as Idempotency-Key, so a retry after a timeout, a
 * 5xx or a kill -9 (even between sending and recording the reply) returns the
 * original post instead of making another.
 *
 * state.json holds, per step label: {"key", "status": "sending"|"posted"|"skipped",
 * "reason" (skipped), "id", "url", "posted_at", "attempts"}. */
#ifndef CHATKEEPER_POSTER_H
#define CHATKEEPER_POSTER_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "chatkeeper/config.h"
#include "chatkeeper/error.h"
#include "chatkeeper/http.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/runner.h"
#include "chatkeeper/schedule.h"

struct ck_poster;

struct ck_poster_conf {
    const struct ck_session *session;   /* borrowed */
    const struct ck_schedule *schedule; /* borrowed */
    const struct ck_platform_ops *ops;
    const char *token;                  /* borrowed, required */
    const char *state_path;
};

/* loop, http, state: borrowed (state: the poster owns its "steps" member and saves
 * the whole object). */
int ck_poster_create(uv_loop_t *loop, struct ck_http *http, json_t *state,
                     const struct ck_poster_conf *conf, struct ck_poster **out,
                     struct ck_error *err);

/* The step handler to give the runner; self is the poster. */
struct ck_step_handler ck_poster_handler(struct ck_poster *p);

/* Resend any step whose intent was recorded but whose reply was not (a crash
 * between the two), with its original key. Call once after create. */
int ck_poster_resume(struct ck_poster *p);

/* Steps still being sent (retries pending). */
int ck_poster_busy(const struct ck_poster *p);

/* The text a step posts: question_format with {n}, {text}, {hashtag}; the welcome
 * and closing get " #hashtag" unless they already carry it. New string. */
char *ck_poster_text(const struct ck_session *s, const struct ck_sched_entry *e);

/* The idempotency key of a step: stable for the same session and step. buf >= 64. */
void ck_poster_key(const struct ck_session *s, const struct ck_sched_entry *e, char *buf,
                   size_t n);

/* Stop retrying; free after the loop delivers the close; a transfer in flight
 * is ignored when it completes or is cancelled. */
void ck_poster_close(struct ck_poster *p, void (*closed_cb)(void *arg), void *arg);

#endif
