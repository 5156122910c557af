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
 * secret is wiped on close). On a sign-in platform this signs in at once,
 * waiting for the answer (before the loop runs): CK_EAUTH when the server
 * refuses the password (the session file must change), another code when
 * it cannot be reached (then the loop keeps trying with backoff and requests
 * go out unsigned meanwhile). *out is set in both cases except CK_EAUTH and
 * CK_ENOMEM. */
int ck_auth_create(uv_loop_t *loop, struct ck_http *http, const struct ck_platform_ops *ops,
                   const char *base_url, const char *identifier, const char *secret,
                   struct ck_auth **out, struct ck_error *err);

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
