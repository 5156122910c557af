/* The sources of one session (issue 11: "platforms"): each has its own
 * sign-in, follower (cursor, rate limit, backoff) and poster, all on the
 * runner's loop and HTTP client. One source down does not stop the others;
 * the run sheet goes to every source that posts, each exactly once. */
#include "runner_int.h"

#include <stdio.h>
#include <string.h>

#include "chatkeeper/auth.h"
#include "chatkeeper/log.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/timeutil.h"

void ck_runner__all_stats(const struct runner *r, struct ck_follower_stats *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < r->n_src; i++) {
        struct ck_follower_stats st;
        if (r->src[i].follower == NULL)
            continue;
        ck_follower_get_stats(r->src[i].follower, &st);
        out->messages += st.messages;
        out->people += st.people;
        out->requests += st.requests;
        out->pages += st.pages;
        out->errors += st.errors;
        out->rate_limited += st.rate_limited;
        out->journaled += st.journaled;
        out->streamed += st.streamed;
        /* the source named first (cut short when long: it is a log line) */
        if (st.last_error[0] != '\0' && snprintf(out->last_error, sizeof out->last_error, "%s%s%s",
                                                 r->n_src > 1 ? r->src[i].pc->name : "",
                                                 r->n_src > 1 ? ": " : "", st.last_error) < 0)
            out->last_error[0] = '\0';
    }
}

const char *ck_runner__all_state(const struct runner *r)
{
    static const char *const order[] = {"sweeping", "threads", "catch-up", "polling", "waiting"};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < r->n_src; i++)
            if (r->src[i].follower != NULL &&
                strcmp(ck_follower_state_name(r->src[i].follower), order[k]) == 0)
                return order[k];
    return r->follower != NULL ? ck_follower_state_name(r->follower) : "idle";
}

int ck_runner__posters_busy(const struct runner *r)
{
    int busy = 0;
    for (size_t i = 0; i < r->n_src; i++)
        if (r->src[i].poster != NULL)
            busy += ck_poster_busy(r->src[i].poster);
    return busy;
}

void ck_runner__fan_out_due(void *self, const struct ck_sched_entry *e, int64_t late_ms)
{
    struct runner *r = self;
    for (size_t i = 0; i < r->n_handlers; i++)
        r->handlers[i].due(r->handlers[i].self, e, late_ms);
}

/* The first sign-in of src ended: a follower that waited for it starts; a
 * refused password is bad input, as it was when the sign-in came first
 * (exit 2; in serve, that session ends and the others go on). */
static void on_signed_in(void *arg, int status, const char *msg)
{
    struct source *src = arg;
    struct runner *r = src->r;
    if (r->stopping)
        return;
    if (status != 0) {
        ck_err("runner: %s%s%s", r->n_src > 1 ? src->pc->name : "", r->n_src > 1 ? ": " : "",
               msg != NULL ? msg : ck_strerror(status));
        ck_runner__shutdown(r, 2);
        return;
    }
    if (src->follow_pending)
        ck_runner__start_follower(r, src);
}

/* A sign-in platform turns the app password into a session here; a refused
 * password is bad input, an unreachable server is not. A rehearsal signs in
 * to its simulator with a made-up password: the real one is never sent there. */
static int sign_in(struct runner *r, struct source *src, const struct ck_platform_ops *ops,
                   const struct ck_runner_opts *o)
{
    const char *secret = src->token;
    if (o->rehearsal && ops->signin_request != NULL)
        secret = "rehearsal";
    if (secret == NULL)
        return 0;
    struct ck_error err = {0};
    int rc = ck_auth_create(r->loop, r->http, ops, src->pc->base_url, src->pc->handle, secret,
                            &src->auth, &err);
    if (rc == CK_ECONFIG) {
        fprintf(stderr, "chatkeeper: %s%s%s\n", r->n_src > 1 ? src->pc->name : "",
                r->n_src > 1 ? ": " : "", err.msg);
        return 2;
    }
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    /* The sign-in runs on the loop; the source waits for it. */
    if (ops->signin_request != NULL)
        ck_auth_on_ready(src->auth, on_signed_in, src);
    return 0;
}

/* An X entry's posting credential (user_token_* or oauth1_*): read now, so
 * a missing one is bad input before anything starts. Reading X needs a
 * bearer token: OAuth 1.0a keys alone cannot follow. */
static int x_credentials(struct runner *r, struct source *src, const struct ck_runner_opts *o)
{
    const struct ck_platform_conf *pc = src->pc;
    if (strcmp(pc->type, "x") != 0)
        return 0;
    const char *who = r->n_src > 1 ? pc->name : "";
    const char *sep = r->n_src > 1 ? ": " : "";
    if (o->rehearsal) {
        /* The rehearsal's one simulator speaks Mastodon's API, not X's. */
        fprintf(stderr,
                "chatkeeper: %s%s--rehearse does not play X yet: run `chatkeeper simulate "
                "SCRIPT --x` and point the entry's base_url at it\n",
                who, sep);
        return 2;
    }
    bool oauth1 = pc->oauth1_env != NULL || pc->oauth1_file != NULL;
    bool user = pc->user_token_env != NULL || pc->user_token_file != NULL;
    if (user || oauth1) {
        struct ck_error err = {0};
        int rc = user ? ck_session_secret(pc->user_token_env, pc->user_token_file, "user token",
                                          &src->post_token, &err)
                      : ck_session_secret(pc->oauth1_env, pc->oauth1_file, "OAuth 1.0a keys",
                                          &src->post_token, &err);
        if (rc < 0 && pc->post && !o->observe) {
            fprintf(stderr, "chatkeeper: %s%s%s\n", who, sep, err.msg);
            return 2;
        }
        if (rc < 0)
            ck_warn("runner: %s%s%s", who, sep, err.msg);
    }
    if (src->token == NULL && !user) {
        fprintf(stderr,
                "chatkeeper: %s%sfollowing X needs a bearer token: set \"token_env\" (the app's "
                "bearer token) or \"user_token_env\"; OAuth 1.0a keys only sign posts\n",
                who, sep);
        return 2;
    }
    return 0;
}

int ck_runner__create_source(struct runner *r, struct source *src, const struct ck_runner_opts *o,
                             int64_t now)
{
    struct ck_error err = {0};
    const struct ck_platform_ops *ops = ck_platform_find(src->pc->type);
    if (ops == NULL) {
        fprintf(stderr, "chatkeeper: platform %s is not supported\n", src->pc->type);
        return 2;
    }
    int rc = x_credentials(r, src, o);
    if (rc == 0)
        rc = sign_in(r, src, ops, o);
    if (rc != 0)
        return rc;
    const char *token = src->auth != NULL ? ck_auth_token(src->auth) : NULL;
    /* X reads with the app's bearer token, or else the user's OAuth 2.0
     * token (OAuth 1.0a keys sign only posts); it posts as the user. */
    const char *post_token = src->post_token != NULL ? src->post_token : token;
    if (token == NULL && src->post_token != NULL && strchr(src->post_token, ':') == NULL)
        token = src->post_token;
    int first = src == &r->src[0];
    struct ck_follower_conf fc = {
        .ops = ops,
        .base_url = src->pc->base_url,
        .token = token,
        .auth_expired = src->auth != NULL ? ck_auth_expired : NULL,
        .auth_arg = src->auth,
        .hashtag = r->s.hashtag,
        .journal_path = r->journal_path,
        .state_path = r->state_path,
        .window_start_ms = r->scaled ? r->s.start_ms - r->chat_lead_ms : r->sch.lead_ms,
        .window_end_ms = r->scaled ? r->s.start_ms + r->chat_after_ms : 0,
        .chat_start_ms = r->sch.start_ms,
        .chat_end_ms = r->sch.end_ms,
        .follow_until_ms = r->sch.grace_end_ms,
        /* The sweep's budget starts when the sweep does: at the end of grace,
         * or now for a chat that is already over. */
        .sweep_until_ms = (now > r->sch.grace_end_ms ? now : r->sch.grace_end_ms) + 10 * 60000,
        .overlap_ms = ops->overlap_ms,
        .adaptive = ops->reads_cost,
        .reposts = src->pc->retweets,
        .poll_chat_ms = r->s.poll_chat_ms,
        .poll_quiet_ms = r->s.poll_quiet_ms,
        .streaming = src->pc->streaming,
        .source_name = r->n_src > 1 ? src->pc->name : NULL,
        .first_source = first,
        .state_key = src->state_key,
        .steps_key = src->steps_key,
    };
    rc = ck_follower_create(r->loop, r->http, r->journal, r->state, &fc, &src->follower, &err);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    if (o->observe || !r->s.post || r->no_poster || !src->pc->post)
        return 0;
    struct ck_poster_conf pc = {
        .session = &r->s,
        .schedule = &r->sch,
        .ops = ops,
        /* A rehearsal's simulator takes any token; the real one is never sent there. */
        .token = o->rehearsal && post_token == NULL ? "rehearsal" : post_token,
        .account = src->auth != NULL ? ck_auth_account(src->auth) : NULL,
        .auth_expired = src->auth != NULL ? ck_auth_expired : NULL,
        .auth_arg = src->auth,
        .state_path = r->state_path,
        .base_url = src->pc->base_url,
        .steps_key = src->steps_key,
        .problem = ck_runner__problem,
        .problem_arg = r,
    };
    rc = ck_poster_create(r->loop, r->http, r->state, &pc, &src->poster, &err);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return rc == CK_EAUTH ? 2 : 1;
    }
    r->handlers[r->n_handlers++] = ck_poster_handler(src->poster);
    r->posting = 1;
    return 0;
}
