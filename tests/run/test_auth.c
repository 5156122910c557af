/* The sign-in (src/run/auth.c) against the fake server of fake_mastodon.h
 * answering createSession: the first sign-in runs on the loop, so creating
 * the auth returns before any answer (in serve, one session's sign-in never
 * holds up the others), the ready callback brings the token and the DID; a
 * refused app password is said once through the callback and never tried
 * again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/auth.h"
#include "chatkeeper/timeutil.h"
#include "fake_mastodon.h"

#define SIGNIN "/xrpc/com.atproto.server.createSession"
#define DID "did:plc:abcdefghijklmnopqrstuvwx"
/* JWTs whose payloads say exp 2100-01-01 (the signature part is a stand-in). */
#define ACCESS                                                                                     \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJzY29wZSI6ImNvbS5hdHByb3RvLmFjY2VzcyIsInN1YiI6ImRpZDpwbGM6YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4" \
    "I"                                                                                            \
    "iwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln"
#define REFRESH                                                                                    \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."                                                        \
    "eyJzY29wZSI6ImNvbS5hdHByb3RvLnJlZnJlc2giLCJzdWIiOiJkaWQ6cGxjOmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3" \
    "e"                                                                                            \
    "CIsImV4cCI6NDEwMjQ0NDgwMH0.c2ln"

struct run {
    uv_loop_t loop;
    struct ck_http *http;
    struct ck_auth *auth;
    uv_timer_t watchdog, tick;
    int calls, status, ticks, ticks_at_ready;
    char msg[600], token[64];
};

static void closed(uv_handle_t *h)
{
    (void)h;
}

static void stop(struct run *r)
{
    uv_timer_stop(&r->watchdog);
    uv_timer_stop(&r->tick);
    ck_auth_close(r->auth);
    ck_http_close(r->http, NULL, NULL);
}

static void on_ready(void *arg, int status, const char *msg)
{
    struct run *r = arg;
    r->calls++;
    r->status = status;
    r->ticks_at_ready = r->ticks;
    snprintf(r->msg, sizeof r->msg, "%s", msg != NULL ? msg : "");
    snprintf(r->token, sizeof r->token, "%s", ck_auth_token(r->auth));
    stop(r);
}

static void on_watchdog(uv_timer_t *t)
{
    stop(t->data);
}

/* The loop goes on while the sign-in is out: another session's work. */
static void on_tick(uv_timer_t *t)
{
    ((struct run *)t->data)->ticks++;
}

static void sign_in(struct run *r, const char *password)
{
    memset(r, 0, sizeof *r);
    struct ck_error err = {0};
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(ck_http_create(&r->loop, NULL, &r->http, &err), 0);
    assert_int_equal(ck_auth_create(&r->loop, r->http, ck_platform_find("bluesky"), fake.base,
                                    "ann.bsky.social", password, &r->auth, &err),
                     0);
    /* Nothing waited for the server: no token yet, no request answered. */
    assert_false(ck_auth_ready(r->auth));
    assert_string_equal(ck_auth_token(r->auth), "");
    ck_auth_on_ready(r->auth, on_ready, r);
    uv_timer_init(&r->loop, &r->watchdog);
    uv_timer_init(&r->loop, &r->tick);
    r->watchdog.data = r->tick.data = r;
    uv_timer_start(&r->watchdog, on_watchdog, 20000, 0);
    uv_timer_start(&r->tick, on_tick, 0, 5);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&r->watchdog, closed);
    uv_close((uv_handle_t *)&r->tick, closed);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

static void signs_in_on_the_loop(void **state)
{
    (void)state;
    static const struct fake_canned c[] = {{"POST", SIGNIN, 200,
                                            "{\"accessJwt\":\"" ACCESS
                                            "\",\"refreshJwt\":\"" REFRESH "\",\"did\":\"" DID
                                            "\",\"handle\":\"ann.bsky.social\",\"active\":true}",
                                            NULL, false}};
    fake_script(c, 1);
    struct run r;
    sign_in(&r, "abcd-efgh-ijkl-mnop");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_true(r.ticks_at_ready >= 1); /* the loop ran before the answer was taken */
    assert_true(strncmp(r.token, ACCESS, sizeof r.token - 1) == 0);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake_count("POST", SIGNIN), 1);
    pthread_mutex_unlock(&fake.mu);
}

static void refused_password_is_final(void **state)
{
    (void)state;
    static const struct fake_canned c[] = {
        {"POST", SIGNIN, 401,
         "{\"error\":\"AuthenticationRequired\",\"message\":\"Invalid identifier or password\"}",
         NULL, true}};
    fake_script(c, 1);
    struct run r;
    sign_in(&r, "wrong-pass-word-0000");
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, CK_EAUTH);
    assert_non_null(strstr(r.msg, "refused the sign-in of ann.bsky.social"));
    assert_non_null(strstr(r.msg, "Invalid identifier or password"));
    assert_null(strstr(r.msg, "wrong-pass"));
    assert_string_equal(r.token, "");
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake_count("POST", SIGNIN), 1);
    pthread_mutex_unlock(&fake.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signs_in_on_the_loop),
        cmocka_unit_test(refused_password_is_final),
    };
    return cmocka_run_group_tests(tests, fake_start, fake_stop);
}
