/* Sending one step of the run sheet, exactly once (see poster.h).
 *
 * The intent {"key", "status": "sending"} is saved (atomic, fsync'd) before
 * the request goes. On a platform whose server deduplicates on the key
 * (Mastodon's Idempotency-Key) a retry or a restart simply resends it. On a
 * platform where the key names the record (Bluesky's rkey, a TID chosen
 * before sending), a step found "sending" is first looked up by its key: if
 * the record exists it was posted and is recorded so; only when the server
 * says it does not is it sent again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/timeutil.h"
#include "poster_int.h"

/* ---- sending ---------------------------------------------------------------- */

static void on_timer_body(uv_timer_t *t);

/* The session's name on every line this callback logs (serve; log.h). */
static void on_timer(uv_timer_t *t)
{
    struct ck_poster *p = t->data;
    const char *was = ck_log_tag_swap(ck_http_log_tag(p->http));
    on_timer_body(t);
    ck_log_tag_swap(was);
}

static void on_timer_body(uv_timer_t *t)
{
    struct ck_poster *p = t->data;
    if (!p->closing && p->cur != NULL)
        ck_pst_attempt(p);
}

/* Wait before the next attempt, or give up if that would pass the deadline. */
static void retry_later(struct ck_poster *p, int64_t wait_ms, const char *why)
{
    struct pstep *st = p->cur;
    int64_t now = ck_time_now_ms();
    if (now + wait_ms > st->deadline_ms) {
        const json_t *rec = ck_pst_record(p, st);
        char reason[256];
        snprintf(reason, sizeof reason,
                 "no success before its limit after %lld attempts (last: %s); the server may "
                 "hold it if it failed after posting",
                 (long long)json_integer_value(json_object_get(rec, "attempts")), why);
        ck_pst_fail(p, st, reason);
        return;
    }
    ck_warn("poster: %s: %s; retrying in %.1f s with the same key", st->label, why,
            (double)wait_ms / 1000.0);
    ck_pst_phase(st, PH_WAITING);
    uv_timer_start(&p->timer, on_timer, (uint64_t)wait_ms, 0);
}

static void posted(struct ck_poster *p, struct pstep *st, struct ck_posted *made, bool found)
{
    int64_t now = ck_time_now_ms();
    json_t *rec = ck_pst_record(p, st);
    char ts[32];
    ck_time_format_rfc3339(now, ts);
    json_object_set_new(rec, "id", json_string(made->id));
    json_object_set_new(rec, "url", json_string(made->url));
    if (made->version != NULL)
        json_object_set_new(rec, "version", json_string(made->version));
    if (!found) {
        json_object_set_new(rec, "posted_at", json_string(ts));
        json_object_set_new(rec, "delay_ms", json_integer(now - st->e->at_ms));
    }
    int64_t att = json_integer_value(json_object_get(rec, "attempts"));
    ck_pst_mark(p, st, "posted", NULL);
    if (found)
        ck_info("poster: %s was posted before the restart (id %s); recorded, not sent again",
                st->label, made->id);
    else
        ck_info("poster: posted %s (id %s) %.2f s after its time%s", st->label, made->id,
                (double)(now - st->e->at_ms) / 1000.0, att > 1 ? " (after retries)" : "");
    ck_posted_finish(made);
    ck_pst_finish(p, st);
}

void ck_pst_rate_update(struct ck_poster *p, const struct ck_response *resp)
{
    if (p->conf.ops->ratelimit_update != NULL)
        p->conf.ops->ratelimit_update(&p->rl, resp, ck_time_now_ms());
    else
        ck_ratelimit_update(&p->rl, resp, ck_time_now_ms());
}

struct ck_poster *ck_pst_take(void *arg)
{
    struct transfer *t = arg;
    struct ck_poster *p = t->p;
    free(t);
    if (p != NULL)
        p->inflight = NULL;
    return p;
}

/* A transfer ended without an answer to act on: 0 when the caller goes on. */
int ck_pst_transfer_ended(struct ck_poster *p, int status, const char *errmsg)
{
    struct pstep *st = p->cur;
    if (status == CK_ECANCELED) {
        ck_warn("poster: sending %s was cancelled; it stays \"sending\" for the next run",
                st->label);
        /* The HTTP client is going away (shutdown): nothing more can be sent. */
        p->cur = NULL;
        p->stopped = true;
        for (size_t i = 0; i < p->n; i++)
            ck_pst_phase(&p->steps[i], p->steps[i].phase == PH_IDLE ? PH_IDLE : PH_DONE);
        return -1;
    }
    if (status < 0) {
        char why[200];
        if (errmsg == NULL)
            errmsg = "";
        snprintf(why, sizeof why, "%s%s%.120s", ck_strerror(status), errmsg[0] ? ": " : "", errmsg);
        retry_later(p, ck_backoff_next(&p->bo), why);
        return -1;
    }
    return 0;
}

/* The answer says the token ran out: the sign-in layer refreshes it in
 * place, and the same request (same key) goes again. */
static int token_ran_out(struct ck_poster *p, const struct ck_response *resp)
{
    if (p->conf.ops->token_expired == NULL || !p->conf.ops->token_expired(resp) ||
        p->conf.auth_expired == NULL)
        return 0;
    p->conf.auth_expired(p->conf.auth_arg);
    retry_later(p, ck_backoff_next(&p->bo), "the access token ran out; refreshing it");
    return 1;
}

/* The poster a finished transfer (arg) answers, its rate-limit headers
 * read; NULL when there is nothing to act on: closed while in flight (the
 * "sending" record lets resume finish it), or the transfer failed
 * (ck_pst_transfer_ended has retried or stopped). */
static struct ck_poster *answered(void *arg, int status, const struct ck_response *resp,
                                  const char *errmsg)
{
    struct ck_poster *p = ck_pst_take(arg);
    if (p == NULL || ck_pst_transfer_ended(p, status, errmsg) < 0)
        return NULL;
    ck_pst_rate_update(p, resp);
    return p;
}

static void on_reply(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_poster *p = answered(arg, status, resp, errmsg);
    if (p == NULL || token_ran_out(p, resp))
        return;
    struct pstep *st = p->cur;
    char why[200];
    if (resp->status >= 200 && resp->status <= 299) {
        struct ck_posted made;
        struct ck_error err = {0};
        if (p->conf.ops->parse_post(resp, &made, &err) < 0) {
            retry_later(p, ck_backoff_next(&p->bo), err.msg);
            return;
        }
        posted(p, st, &made, false);
        return;
    }
    char server[120];
    p->conf.ops->error_text(resp, server, sizeof server);
    snprintf(why, sizeof why, "HTTP %ld%s%s", resp->status, server[0] ? ": " : "", server);
    if (resp->status == 429) {
        int64_t now = ck_time_now_ms();
        int64_t until = ck_ratelimit_next(&p->rl, now, now);
        int64_t wait = until > now ? until - now : ck_backoff_next(&p->bo);
        retry_later(p, wait, why);
    } else if (resp->status >= 500 || resp->status == 408) {
        retry_later(p, ck_backoff_next(&p->bo), why);
    } else {
        /* 401/403 (token), 422 (too long, bad reply id): the same request
         * would fail again, so retrying only delays the next step. */
        char reason[300];
        if ((resp->status == 401 || resp->status == 403) && p->conf.problem != NULL) {
            char tok[400];
            snprintf(tok, sizeof tok,
                     "the server refused the access token when posting %s (%.200s); check it",
                     st->label, why);
            p->conf.problem(p->conf.problem_arg, "token", tok);
        }
        snprintf(reason, sizeof reason, "%s%s", why,
                 resp->status == 401 || resp->status == 403
                     ? " (check the access token and its write:statuses scope)"
                     : "");
        ck_pst_fail(p, st, reason);
    }
}

/* The last step before st that was posted: what a thread replies to (its
 * record), and the first one: a thread's root. NULL when none. */
static const json_t *previous_rec(struct ck_poster *p, const struct pstep *st, bool first)
{
    const json_t *found = NULL;
    for (const struct pstep *o = st; o > p->steps;) {
        o--;
        if (o->e->kind == CK_SCHED_REMINDER)
            continue; /* reminders stand alone; the thread is the run sheet */
        const json_t *rec = ck_pst_record(p, o);
        const char *status = ck_pst_str(rec, "status");
        if (status != NULL && strcmp(status, "posted") == 0 && ck_pst_str(rec, "id") != NULL) {
            found = rec;
            if (!first)
                break;
        }
    }
    return found;
}

/* The post st makes, its strings borrowed from rec, text and the records of
 * the steps before it. */
static struct ck_post the_post(struct ck_poster *p, const struct pstep *st, const json_t *rec,
                               const char *text)
{
    /* A fresh nonce per request (OAuth 1.0a refuses one seen before). */
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[32];
    if (uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL) != 0) {
        uint64_t h = uv_hrtime() ^ (uint64_t)(uintptr_t)p;
        for (size_t i = 0; i < sizeof rnd; i++, h = h * 6364136223846793005u + 1442695040888963407u)
            rnd[i] = (unsigned char)(h >> 33);
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        p->nonce[i] = alnum[rnd[i] % (sizeof alnum - 1)];
    p->nonce[sizeof rnd] = '\0';
    struct ck_post post = {
        .text = text,
        .key = ck_pst_str(rec, "key"),
        .account = p->conf.account != NULL && p->conf.account[0] != '\0' ? p->conf.account
                   : p->account[0] != '\0'                               ? p->account
                                                                         : NULL,
        .created_ms = ck_time_now_ms(),
        .nonce = p->nonce,
        .mentions = p->mentions,
    };
    bool thread = p->conf.session->thread && st->e->kind != CK_SCHED_REMINDER;
    const json_t *prev = thread ? previous_rec(p, st, false) : NULL;
    const json_t *root = thread ? previous_rec(p, st, true) : NULL;
    if (prev != NULL) {
        post.reply_to = (struct ck_post_ref){ck_pst_str(prev, "id"), ck_pst_str(prev, "version")};
        post.root = (struct ck_post_ref){ck_pst_str(root, "id"), ck_pst_str(root, "version")};
    }
    return post;
}

static void send_request(struct ck_poster *p, struct ck_request *req, ck_http_done_cb cb)
{
    struct transfer *t = malloc(sizeof *t);
    if (t == NULL) {
        ck_request_finish(req);
        retry_later(p, ck_backoff_next(&p->bo), "out of memory");
        return;
    }
    t->p = p;
    ck_pst_phase(p->cur, PH_SENDING);
    struct ck_error err = {0};
    int rc = ck_http_send(p->http, req, cb, t, &err);
    ck_request_finish(req);
    if (rc < 0) {
        free(t);
        retry_later(p, ck_backoff_next(&p->bo), err.msg[0] ? err.msg : ck_strerror(rc));
        return;
    }
    p->inflight = t;
}

static void send_post(struct ck_poster *p);

/* The answer to "does the record this step's key names exist?". */
static void on_lookup(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_poster *p = answered(arg, status, resp, errmsg);
    if (p == NULL || token_ran_out(p, resp))
        return;
    struct pstep *st = p->cur;
    char *text = ck_poster_text(p->conf.session, st->e);
    struct ck_post post = the_post(p, st, ck_pst_record(p, st), text);
    struct ck_posted made;
    struct ck_error err = {0};
    int rc = p->conf.ops->parse_post_lookup(resp, &post, &made, &err);
    free(text);
    if (rc == 0) {
        posted(p, st, &made, true);
    } else if (rc == CK_ENOTFOUND) {
        ck_info("poster: %s is not on the server; sending it now with its key", st->label);
        send_post(p);
    } else {
        char why[300];
        snprintf(why, sizeof why, "cannot tell whether it was posted: %s", err.msg);
        retry_later(p, resp->status == 429 ? 5000 : ck_backoff_next(&p->bo), why);
    }
}

/* The answer to "who is the posting account?": then look for the post. */
static void on_account(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_poster *p = answered(arg, status, resp, errmsg);
    if (p == NULL)
        return;
    char *id = NULL;
    struct ck_error err = {0};
    if (p->conf.ops->parse_account(resp, &id, &err) < 0 || strlen(id) >= sizeof p->account) {
        char why[300];
        snprintf(why, sizeof why, "cannot tell whether it was posted: %s",
                 err.msg[0] ? err.msg : "the account id is too long");
        free(id);
        retry_later(p, resp->status == 429 ? 5000 : ck_backoff_next(&p->bo), why);
        return;
    }
    memcpy(p->account, id, strlen(id) + 1);
    free(id);
    ck_pst_attempt(p);
}

static void send_post_now(struct ck_poster *p)
{
    struct pstep *st = p->cur;
    json_t *rec = ck_pst_record(p, st);
    char *text = ck_poster_text(p->conf.session, st->e);
    if (text == NULL) {
        ck_pst_fail(p, st, "out of memory");
        return;
    }
    struct ck_post post = the_post(p, st, rec, text);
    struct ck_request req;
    struct ck_error err = {0};
    int rc = p->conf.ops->post_request(p->conf.base_url, p->conf.token, &post, &req, &err);
    free(text);
    if (rc < 0) {
        ck_pst_fail(p, st, err.msg);
        return;
    }
    if (post.reply_to.id != NULL)
        json_object_set_new(rec, "in_reply_to_id", json_string(post.reply_to.id));
    int64_t attempts = json_integer_value(json_object_get(rec, "attempts")) + 1;
    json_object_set_new(rec, "attempts", json_integer(attempts));
    if (ck_pst_mark(p, st, "sending", NULL) < 0) {
        /* Without the intent on disk a crash could post twice: do not send. */
        ck_request_finish(&req);
        ck_pst_fail(p, st, "cannot record the intent to post in state.json");
        return;
    }
    ck_debug("poster: sending %s (attempt %lld, key %s)", st->label, (long long)attempts, post.key);
    send_request(p, &req, on_reply);
}

/* Mentions first (each handle asked once a run), then the post. */
static void send_post(struct ck_poster *p)
{
    ck_pst_resolve_then(p, send_post_now);
}

/* Record the intent (the key first), save it, and only then send. */
void ck_pst_attempt(struct ck_poster *p)
{
    struct pstep *st = p->cur;
    if (p->conf.token[0] == '\0') {
        /* Not signed in yet (the sign-in runs on the loop and says its own
         * failures): wait quietly, up to the step's limit. */
        if (ck_time_now_ms() + 1000 > st->deadline_ms) {
            retry_later(p, 1000, "not signed in");
            return;
        }
        ck_debug("poster: %s waits for the sign-in", st->label);
        ck_pst_phase(st, PH_WAITING);
        uv_timer_start(&p->timer, on_timer, 1000, 0);
        return;
    }
    json_t *steps = ck_pst_steps(p);
    json_t *rec = ck_pst_record(p, st);
    if (rec == NULL && steps != NULL) {
        rec = json_object();
        json_object_set_new(steps, st->label, rec);
    }
    if (rec == NULL) {
        ck_pst_fail(p, st, "out of memory");
        return;
    }
    /* The recorded key wins over a new one, so a retry after a restart
     * always presents what the server may already have seen. */
    const char *stored = ck_pst_str(rec, "key");
    bool was_sending = stored != NULL && ck_pst_str(rec, "status") != NULL &&
                       strcmp(ck_pst_str(rec, "status"), "sending") == 0;
    if (stored == NULL) {
        char key[64];
        if (p->conf.ops->post_key != NULL) {
            uint32_t rnd = (uint32_t)uv_hrtime() ^ (uint32_t)(uintptr_t)st ^ (uint32_t)p->n;
            if (p->conf.ops->post_key(ck_time_now_ms(), rnd, key, sizeof key) < 0) {
                ck_pst_fail(p, st, "cannot make a record key");
                return;
            }
        } else {
            ck_poster_key(p->conf.session, st->e, key, sizeof key);
        }
        json_object_set_new(rec, "key", json_string(key));
    }
    /* The key names the record: if the intent was recorded before (a restart,
     * a lost answer, a timeout), ask whether the record exists before sending
     * again, every time: only a "not there" answer lets it go (on_lookup). */
    if (was_sending && p->conf.ops->once != CK_ONCE_SERVER_KEY) {
        char *text = ck_poster_text(p->conf.session, st->e);
        struct ck_post post = the_post(p, st, rec, text);
        struct ck_request req;
        struct ck_error err = {0};
        /* Finding our own post needs to know who we are: asked once. */
        bool who = p->conf.ops->account_request != NULL && post.account == NULL;
        int rc =
            text == NULL ? CK_ENOMEM
            : who ? p->conf.ops->account_request(p->conf.base_url, p->conf.token, &post, &req, &err)
                  : p->conf.ops->post_lookup_request(p->conf.base_url, p->conf.token, &post, &req,
                                                     &err);
        free(text);
        if (rc < 0) {
            retry_later(p, ck_backoff_next(&p->bo), err.msg[0] ? err.msg : ck_strerror(rc));
            return;
        }
        ck_debug("poster: %s: %s before sending again", st->label,
                 who ? "asking who we are" : "looking for the post");
        send_request(p, &req, who ? on_account : on_lookup);
        return;
    }
    send_post(p);
}
