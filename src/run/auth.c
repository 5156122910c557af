/* Sign-in state of a run (see auth.h): one sign-in, refreshes before the
 * token runs out, a new sign-in only when a refresh is refused. */
#include "chatkeeper/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/backoff.h"
#include "chatkeeper/log.h"
#include "chatkeeper/secret.h"
#include "chatkeeper/timeutil.h"

#define REFRESH_MARGIN_MS (5 * 60000)
#define SIGNIN_MIN_GAP_MS 60000

/* One per transfer: close sets a to NULL, so a late answer finds no auth. */
struct auth_xfer {
    struct ck_auth *a;
    bool signin;
};

struct ck_auth {
    uv_loop_t *loop;
    struct ck_http *http;
    const struct ck_platform_ops *ops;
    char *base_url, *identifier, *secret;
    char token[CK_AUTH_TOKEN_MAX];
    char refresh[CK_AUTH_TOKEN_MAX];
    char account[256];
    int64_t token_exp_ms;
    int64_t last_signin_ms;
    uv_timer_t timer;
    bool timer_on;
    struct auth_xfer *inflight;
    struct ck_backoff bo;
    struct ck_auth_stats stats;
    /* The first sign-in runs on the loop: who waits for it, whether it is
     * done, and whether its failures were said (once, until one succeeds). */
    ck_auth_ready_cb ready_cb;
    void *ready_arg;
    bool signed_in, refused, failing;
};

static void wipe(char *buf, size_t n)
{
    volatile char *v = buf;
    for (size_t i = 0; i < n; i++)
        v[i] = '\0';
}

/* Take a session into the buffers. CK_ETOOBIG for tokens we cannot hold. */
static int take(struct ck_auth *a, const struct ck_signin *s)
{
    if (s->token == NULL || strlen(s->token) >= sizeof a->token ||
        (s->refresh != NULL && strlen(s->refresh) >= sizeof a->refresh) ||
        (s->account != NULL && strlen(s->account) >= sizeof a->account))
        return CK_ETOOBIG;
    wipe(a->token, sizeof a->token);
    wipe(a->refresh, sizeof a->refresh);
    memcpy(a->token, s->token, strlen(s->token) + 1);
    if (s->refresh != NULL)
        memcpy(a->refresh, s->refresh, strlen(s->refresh) + 1);
    if (s->account != NULL)
        memcpy(a->account, s->account, strlen(s->account) + 1);
    a->token_exp_ms = s->token_exp_ms;
    return 0;
}

static void on_timer(uv_timer_t *t);

static void arm(struct ck_auth *a, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    uv_timer_start(&a->timer, on_timer, (uint64_t)delay_ms, 0);
    a->timer_on = true;
}

/* Refresh halfway through a short-lived token, else 5 minutes before it runs
 * out; an unknown expiry waits for the server to say so. */
static void arm_refresh(struct ck_auth *a)
{
    if (a->token_exp_ms == INT64_MIN || a->refresh[0] == '\0')
        return;
    int64_t now = ck_time_now_ms();
    int64_t life = a->token_exp_ms - now;
    int64_t at = life > 2 * REFRESH_MARGIN_MS ? a->token_exp_ms - REFRESH_MARGIN_MS
                                              : now + (life > 2000 ? life / 2 : 1000);
    arm(a, at - now);
}

static void on_answer(int status, const struct ck_response *resp, const char *errmsg, void *arg);

/* A sign-in or refresh that failed and will be tried again in d ms: said
 * once (a warning), then debug lines until one succeeds, so an unreachable
 * server does not fill the log of a serve that runs for days. */
static void failed(struct ck_auth *a, const char *what, const char *why, int64_t d)
{
    if (!a->failing)
        ck_warn("auth: %s %s failed: %s; trying again in %lld s, then with backoff (said once)",
                a->base_url, what, why, (long long)(d / 1000));
    else
        ck_debug("auth: %s %s failed: %s; trying again in %lld s", a->base_url, what, why,
                 (long long)(d / 1000));
    a->failing = true;
    arm(a, d);
}

static void ready(struct ck_auth *a, int status, const char *msg)
{
    ck_auth_ready_cb cb = a->ready_cb;
    a->ready_cb = NULL;
    if (cb != NULL)
        cb(a->ready_arg, status, msg);
}

static void send_signin(struct ck_auth *a, bool signin)
{
    struct ck_request req = {0};
    struct ck_error err = {0};
    int rc = signin ? a->ops->signin_request(a->base_url, a->identifier, a->secret, &req, &err)
                    : a->ops->refresh_request(a->base_url, a->refresh, &req, &err);
    struct auth_xfer *x = rc == 0 ? malloc(sizeof *x) : NULL;
    if (rc == 0 && x == NULL)
        rc = CK_ENOMEM;
    if (rc == 0) {
        x->a = a;
        x->signin = signin;
        rc = ck_http_send(a->http, &req, on_answer, x, &err);
    }
    if (req.body != NULL)
        wipe(req.body, req.body_len); /* the password */
    ck_request_finish(&req);
    if (rc < 0) {
        free(x);
        failed(a, signin ? "sign-in" : "refresh", err.msg[0] ? err.msg : ck_strerror(rc),
               ck_backoff_next(&a->bo));
        return;
    }
    a->inflight = x;
    if (signin) {
        a->stats.signins++;
        a->last_signin_ms = ck_time_now_ms();
    } else {
        a->stats.refreshes++;
    }
}

/* A new sign-in, but never two within a minute. */
static void signin_again(struct ck_auth *a)
{
    int64_t wait = a->last_signin_ms + SIGNIN_MIN_GAP_MS - ck_time_now_ms();
    if (wait > 0) {
        arm(a, wait);
        return;
    }
    send_signin(a, true);
}

static void on_answer(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct auth_xfer *x = arg;
    struct ck_auth *a = x->a;
    bool signin = x->signin;
    free(x);
    if (a == NULL)
        return;
    a->inflight = NULL; /* x is freed: close must not reach it */
    if (status == CK_ECANCELED)
        return;
    const char *what = signin ? "sign-in" : "refresh";
    if (status != 0) {
        char why[300];
        snprintf(why, sizeof why, "%s%s%.200s", ck_strerror(status), errmsg && *errmsg ? ": " : "",
                 errmsg ? errmsg : "");
        failed(a, what, why, ck_backoff_next(&a->bo));
        return;
    }
    struct ck_signin s;
    struct ck_error err = {0};
    int rc = a->ops->parse_signin(resp, &s, &err);
    if (rc == 0 && take(a, &s) != 0)
        rc = ck_error_set(&err, CK_ETOOBIG, "the server's tokens are too long");
    ck_signin_finish(&s);
    if (rc == 0) {
        ck_backoff_reset(&a->bo);
        if (a->failing || !a->signed_in)
            ck_info("auth: %s on %s done", what, a->base_url);
        else
            ck_debug("auth: %s done", what);
        a->failing = false;
        a->signed_in = true;
        arm_refresh(a);
        ready(a, 0, NULL);
        return;
    }
    /* The first sign-in refused: the handle or the app password is wrong,
     * which trying again cannot mend (and repeated tries can lock the
     * account). Said once, by whoever waits for it. */
    if (signin && !a->signed_in &&
        (rc == CK_EAUTH || (rc == CK_EHTTP && (resp->status == 400 || resp->status == 401)))) {
        char msg[sizeof err.msg + 400];
        snprintf(msg, sizeof msg,
                 "%s refused the sign-in of %s (%.160s): check the handle and the app password",
                 a->base_url, a->identifier, err.msg); /* the server's words, never the password */
        a->refused = true;
        if (a->ready_cb == NULL)
            ck_err("auth: %s", msg);
        ready(a, CK_EAUTH, msg);
        return;
    }
    /* err names fields and the server's words, never a token. */
    if (rc == CK_EAUTH && !signin) {
        ck_warn("auth: the refresh was refused (%s); signing in again", err.msg);
        a->refresh[0] = '\0';
        signin_again(a);
        return;
    }
    failed(a, what, err.msg, ck_backoff_next(&a->bo));
}

static void on_timer_body(uv_timer_t *t);

/* The session's name on every line this callback logs (serve; log.h). */
static void on_timer(uv_timer_t *t)
{
    struct ck_auth *a = t->data;
    const char *was = ck_log_tag_swap(ck_http_log_tag(a->http));
    on_timer_body(t);
    ck_log_tag_swap(was);
}

static void on_timer_body(uv_timer_t *t)
{
    struct ck_auth *a = t->data;
    a->timer_on = false;
    if (a->inflight != NULL || a->refused)
        return;
    if (a->refresh[0] != '\0')
        send_signin(a, false);
    else
        signin_again(a);
}

void ck_auth_expired(void *arg)
{
    struct ck_auth *a = arg;
    if (a == NULL || a->ops->signin_request == NULL || a->inflight != NULL || a->refused)
        return;
    uv_timer_stop(&a->timer);
    a->timer_on = false;
    if (a->refresh[0] != '\0')
        send_signin(a, false);
    else
        signin_again(a);
}

static void free_auth(struct ck_auth *a)
{
    ck_secret_free(a->secret);
    wipe(a->token, sizeof a->token);
    wipe(a->refresh, sizeof a->refresh);
    free(a->base_url);
    free(a->identifier);
    free(a);
}

int ck_auth_create(uv_loop_t *loop, struct ck_http *http, const struct ck_platform_ops *ops,
                   const char *base_url, const char *identifier, const char *secret,
                   struct ck_auth **out, struct ck_error *err)
{
    *out = NULL;
    struct ck_auth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    a->loop = loop;
    a->http = http;
    a->ops = ops;
    a->token_exp_ms = INT64_MIN;
    a->base_url = strdup(base_url != NULL ? base_url : "");
    a->identifier = strdup(identifier != NULL ? identifier : "");
    a->secret = strdup(secret != NULL ? secret : "");
    if (a->base_url == NULL || a->identifier == NULL || a->secret == NULL) {
        free_auth(a);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    ck_backoff_init(&a->bo, 5000, 5 * 60000, (uint64_t)ck_time_now_ms() | 5);
    uv_timer_init(loop, &a->timer);
    a->timer.data = a;
    int rc = 0;
    if (ops->signin_request == NULL) {
        if (strlen(a->secret) >= sizeof a->token) {
            rc = ck_error_set(err, CK_ECONFIG, "the access token is too long");
        } else {
            memcpy(a->token, a->secret, strlen(a->secret) + 1);
        }
    } else {
        /* On the loop, never a fetch that waits here: in serve, one
         * session's sign-in must not hold up the others. */
        send_signin(a, true);
    }
    if (rc == CK_ENOMEM || rc == CK_ECONFIG) {
        ck_auth_close(a);
        return rc;
    }
    *out = a;
    return rc;
}

void ck_auth_on_ready(struct ck_auth *a, ck_auth_ready_cb cb, void *arg)
{
    a->ready_cb = cb;
    a->ready_arg = arg;
}

bool ck_auth_ready(const struct ck_auth *a)
{
    return a->token[0] != '\0';
}

const char *ck_auth_token(const struct ck_auth *a)
{
    return a->token;
}

const char *ck_auth_account(const struct ck_auth *a)
{
    return a->account;
}

void ck_auth_get_stats(const struct ck_auth *a, struct ck_auth_stats *out)
{
    *out = a->stats;
}

static void on_closed(uv_handle_t *h)
{
    free_auth(h->data);
}

void ck_auth_close(struct ck_auth *a)
{
    if (a == NULL)
        return;
    if (a->inflight != NULL)
        a->inflight->a = NULL;
    uv_timer_stop(&a->timer);
    uv_close((uv_handle_t *)&a->timer, on_closed);
}
