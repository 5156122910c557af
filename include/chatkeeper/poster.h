/* The poster: posts the run sheet (welcome, questions, closing) on time, never
 * twice. It plugs into the runner as a step handler (runner.h).
 *
 * Never twice: each step has a key, written to state.json (atomically,
 * fsync'd) with the intent to post before the request is sent. On Mastodon
 * it is a stable idempotency key derived from the session (hashtag, start)
 * and the step, sent as Idempotency-Key, so a retry after a timeout, a 5xx
 * or a kill -9 (even between sending and recording the reply) returns the
 * original post instead of making another. On Bluesky it is the record key
 * (a TID) chosen before sending; a step found "sending" is looked up by it
 * (getRecord) and only sent again when the server says it does not exist.
 *
 * state.json holds, per step label: {"key", "status": "sending"|"posted"|"skipped"|
 * "failed", "reason" (skipped, failed), "id", "url", "version" (Bluesky's cid, for
 * reply refs), "posted_at", "delay_ms" (reply
 * time minus the step's time), "in_reply_to_id" (thread), "attempts"}.
 *
 * Steps go out one at a time in run-sheet order (a thread reply needs the
 * previous id; a question must never land after a later one). Retries (5xx,
 * timeouts, network errors, malformed replies) reuse the key with backoff (1 s
 * base, 30 s cap, jitter) until missed_step_limit past the step's time; a 429
 * waits for its reset; other 4xx give the step up as "failed" with the reason. */
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
    const char *token;   /* borrowed, required; a sign-in platform's
                                         * buffer rewritten in place on refresh */
    const char *account; /* borrowed: the signed-in account (Bluesky DID) */
    /* An answer said the token ran out (may be NULL): refresh it in place. */
    void (*auth_expired)(void *arg);
    void *auth_arg;
    const char *state_path;
    /* NULL, or told (on the loop) when a step is skipped or given up (cause
     * "step:LABEL") and when the server refuses the token (cause "token"):
     * the runner's alerts. text never holds the token. */
    void (*problem)(void *arg, const char *cause, const char *text);
    void *problem_arg;
    /* Several sources (issue 11): where this poster posts (NULL: the session's
     * first platform) and its member of state.json (NULL: "steps"), so each
     * platform's intents and posts are its own. */
    const char *base_url;
    const char *steps_key;
};

/* loop, http, state: borrowed (state: the poster owns its "steps" member and saves
 * the whole object). conf is copied; its pointers are borrowed and must outlive
 * the poster. Returns 0, CK_EINVAL (missing session/schedule/state, or a platform
 * other than Mastodon), CK_EAUTH (no token) or CK_ENOMEM; *out: close with
 * ck_poster_close. */
int ck_poster_create(uv_loop_t *loop, struct ck_http *http, json_t *state,
                     const struct ck_poster_conf *conf, struct ck_poster **out,
                     struct ck_error *err);

/* The step handler to give the runner; self is the poster. */
struct ck_step_handler ck_poster_handler(struct ck_poster *p);

/* Resend any step whose intent was recorded but whose reply was not (a crash
 * between the two), with its original key; and take up the steps that fell due
 * before this run started and have no record (or "failed"): each is posted if
 * less than missed_step_limit late, else skipped with the reason logged. Steps
 * the runner also reports through due() are not taken twice. Call once after
 * create. Returns the number of "sending" steps resent. */
int ck_poster_resume(struct ck_poster *p);

/* Steps queued or still being sent (retries pending); 0 when there is nothing
 * left to wait for (also after the HTTP client was closed under the poster). */
int ck_poster_busy(const struct ck_poster *p);

/* The text a step posts: question_format with {n}, {text}, {hashtag}; the welcome
 * and closing get " #hashtag" unless they already carry it. New string. */
char *ck_poster_text(const struct ck_session *s, const struct ck_sched_entry *e);

/* The idempotency key of a step: stable for the same session and step. buf >= 64. */
void ck_poster_key(const struct ck_session *s, const struct ck_sched_entry *e, char *buf, size_t n);

/* Stop retrying; free after the loop delivers the close; a transfer in flight
 * is ignored when it completes or is cancelled. */
void ck_poster_close(struct ck_poster *p, void (*closed_cb)(void *arg), void *arg);

#endif
