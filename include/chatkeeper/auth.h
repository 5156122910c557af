/* Sign-in state of a run (run layer): the bearer token every request of the
 * follower, the threads and the poster carries, and on a sign-in platform
 * (Bluesky) the session behind it.
 *
 *  - Static token platforms (Mastodon): the token from the session file's
 *    token_env/token_file, as is; nothing to refresh.
 *  - Sign-in platforms (ops->signin_request): one sign-in (createSession)
 *    with the app password at start; then the access token is refreshed
 *    (refreshSession) before it runs out (halfway through its life, at most
 *    5 minutes before its exp) and when an answer says it ran out
 *    (ck_auth_expired). Only when a refresh is refused is the account signed
 *    in again, at most once a minute and with backoff: never more sign-ins
 *    than needed.
 *
 * The token and the account live in fixed buffers owned by the auth object,
 * rewritten in place on refresh: the follower's and poster's borrowed
 * `token` pointer always reads the current one. Secrets (the app password,
 * both tokens) never reach a log line or an error; they are wiped when the
 * auth object is closed. */
#ifndef CHATKEEPER_AUTH_H
#define CHATKEEPER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chatkeeper/error.h"
#include "chatkeeper/http.h"
#include "chatkeeper/platform.h"

#define CK_AUTH_TOKEN_MAX 8192

struct ck_auth;

struct ck_auth_stats {
    size_t signins;   /* createSession requests sent */
    size_t refreshes; /* refreshSession requests sent */
};

/* New auth for ops on base_url. identifier: the account (Bluesky handle),
 * secret: the static token or the app password (both copied; the copy of the
 * secret is wiped on close). Returns 0 (*out set), CK_ENOMEM or CK_ECONFIG.
 * On a sign-in platform the sign-in starts on the loop and nothing waits
 * for it here (in serve, one session's sign-in never holds up another):
 * ck_auth_ready says when the token is there, ck_auth_on_ready who is told.
 * A server that cannot be reached is tried again with backoff (said once
 * until it answers); a refused first sign-in is final (CK_EAUTH to the
 * ready callback, or an error line when nobody waits). */
int ck_auth_create(uv_loop_t *loop, struct ck_http *http, const struct ck_platform_ops *ops,
                   const char *base_url, const char *identifier, const char *secret,
                   struct ck_auth **out, struct ck_error *err);

/* Called once: status 0 when the first sign-in succeeded, CK_EAUTH with
 * msg (names the handle and the server's words, never a secret) when it
 * was refused. Never called from inside ck_auth_create or ck_auth_on_ready. */
typedef void (*ck_auth_ready_cb)(void *arg, int status, const char *msg);
void ck_auth_on_ready(struct ck_auth *a, ck_auth_ready_cb cb, void *arg);
/* Whether there is a token (always on a static-token platform). */
bool ck_auth_ready(const struct ck_auth *a);

/* The bearer token (borrowed, stable address, "" when none yet) and the
 * account (Bluesky DID; "" when none). */
const char *ck_auth_token(const struct ck_auth *a);
const char *ck_auth_account(const struct ck_auth *a);

/* An answer said the token ran out: refresh now (once; a refresh already
 * under way is not doubled). The signature fits the follower's and poster's
 * auth_expired callback; arg is the struct ck_auth. */
void ck_auth_expired(void *arg);

void ck_auth_get_stats(const struct ck_auth *a, struct ck_auth_stats *out);

/* Stop the timer, wipe the secrets, free after the loop delivers the close.
 * Close the HTTP client first if a refresh may be in flight. */
void ck_auth_close(struct ck_auth *a);

#endif
