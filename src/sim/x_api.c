/* The simulator's X mode (chatkeeper simulate --x): the X API v2 routes
 * chatkeeper's X platform uses, shaped as X's documentation and recorded
 * answers show them (tests/fixtures/x): GET /2/tweets/search/recent (the
 * hashtag, or conversation_id:ID), GET /2/tweets/:id, POST /2/tweets with
 * X's refusal of duplicate text. The script's statuses are tweets: a late
 * status (world.c's late-visibility fault) is indexed late, so a search
 * misses it at first and returns it among older ones later, as X's search
 * does. Rate limits and faults are the front's (server.c), which sends
 * x-rate-limit-* headers in this mode. Caller holds sim->mu. */
#include "sim_x.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/timeutil.h"
#include "chatkeeper/x.h"

/* Returns 0, so a route can end with it. */
static int problem(struct ck_sim_reply *rep, int status, const char *title, const char *detail)
{
    rep->status = status;
    rep->json = json_pack("{s:s s:s s:s s:i}", "title", title, "detail", detail, "type",
                          "about:blank", "status", status);
    return 0;
}

static int visible(const struct ck_sim_entry *e, int64_t now)
{
    return e != NULL && e->visible_ms <= now;
}

/* X's usernames are [A-Za-z0-9_]{1,15}: a script's other names are mapped. */
static json_t *username(const struct ck_sim_account *a)
{
    char u[16];
    size_t n = 0;
    for (const char *p = a->username; *p != '\0' && n < 15; p++)
        u[n++] = isalnum((unsigned char)*p) ? *p : '_';
    if (n == 0)
        u[n++] = '_';
    u[n] = '\0';
    return json_string(u);
}

/* The text X shows: plain, with &, < and > as entities. Script statuses have
 * their plain text; posted and HTML ones are read back from their HTML
 * (tags dropped, line breaks kept; HTML's entities are X's). */
static json_t *tweet_text(const struct ck_sim_entry *e)
{
    /* Posted through the API: the text as sent (X shows it so, links aside). */
    const char *plain = e->script != NULL ? e->script->text : e->text;
    size_t cap = (plain != NULL ? strlen(plain) * 5 : strlen(e->html)) + 1;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    if (plain != NULL) {
        for (const char *p = plain; *p != '\0'; p++) {
            const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
            if (rep != NULL) {
                memcpy(out + n, rep, strlen(rep));
                n += strlen(rep);
            } else {
                out[n++] = *p;
            }
        }
    } else {
        for (const char *p = e->html; *p != '\0'; p++) {
            if (*p != '<') {
                out[n++] = *p;
                continue;
            }
            if (strncmp(p, "<br", 3) == 0)
                out[n++] = '\n';
            else if (strncmp(p, "</p><p>", 7) == 0)
                out[n++] = '\n', out[n++] = '\n';
            const char *end = strchr(p, '>');
            if (end == NULL)
                break;
            p = end;
        }
    }
    out[n] = '\0';
    json_t *j = json_string(out);
    free(out);
    return j;
}

static const struct ck_sim_entry *root_of(const struct ck_sim_entry *e)
{
    while (e->parent != NULL)
        e = e->parent;
    return e;
}

/* A v2 tweet object with the fields chatkeeper asks for. New reference. */
static json_t *tweet_json(const struct ck_sim *sim, const struct ck_sim_entry *e)
{
    char created[32];
    ck_time_format_rfc3339(e->chat_ms, created);
    long boosts = e->script != NULL ? e->script->boosts : 0;
    long likes = e->script != NULL ? e->script->likes : 0;
    json_t *t = json_pack("{s:s s:o s:s s:s s:s s:[s] s:{s:i s:i s:i s:i} s:s}", "id", e->id,
                          "text", tweet_text(e), "created_at", created, "author_id",
                          sim->script.accounts[e->account].id, "conversation_id", root_of(e)->id,
                          "edit_history_tweet_ids", e->id, "public_metrics", "retweet_count",
                          (int)boosts, "reply_count", 0, "like_count", (int)likes, "quote_count", 0,
                          "lang", e->language != NULL ? e->language : "en");
    if (t != NULL && e->parent != NULL)
        json_object_set_new(t, "referenced_tweets",
                            json_pack("[{s:s s:s}]", "type", "replied_to", "id", e->parent->id));
    return t;
}

/* includes.users for the tweets in data (each author once). */
static json_t *users_of(const struct ck_sim *sim, json_t *data)
{
    json_t *users = json_array();
    unsigned char *seen = calloc(sim->script.n_accounts + 1, 1);
    /* By each tweet's entry (found by id): a page costs its own size, not the chat's. */
    for (size_t k = 0; users != NULL && seen != NULL && k < json_array_size(data); k++) {
        const char *id = json_string_value(json_object_get(json_array_get(data, k), "id"));
        const struct ck_sim_entry *e = id != NULL ? ck_sim_state_find(sim, id) : NULL;
        if (e == NULL || seen[e->account])
            continue;
        seen[e->account] = 1;
        const struct ck_sim_account *a = &sim->script.accounts[e->account];
        json_array_append_new(users, json_pack("{s:s s:o s:s}", "id", a->id, "username",
                                               username(a), "name", a->display_name));
    }
    free(seen);
    return users;
}

static bool decimal(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 0 && n <= 32 && strspn(s, "0123456789") == n;
}

/* s is a decimal id followed by exactly tail. */
static bool decimal_prefix(const char *s, const char *tail)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n <= 32 && strcmp(s + n, tail) == 0;
}

/* A time parameter: absent is fine, present must be RFC 3339. */
static bool time_arg(const struct ck_sim_request *rq, const char *name, int64_t *out)
{
    const char *v = rq->arg(rq->arg_ctx, name);
    *out = INT64_MIN;
    return v == NULL || ck_time_parse_rfc3339(v, out) == 0;
}

/* Which tweets a page of search or of an account's timeline holds, newest
 * first, and how it is answered. */
struct page {
    const char *since, *older_than; /* ids, exclusive bounds; NULL: none */
    int64_t start, end;             /* chat time [start, end); INT64_MIN: none */
    long max;                       /* tweets a page; one more means next_token */
    bool with_users;                /* includes.users (search does, timelines do not) */
    long account;                   /* >= 0: that account's tweets (any visibility) */
    const char *conv;               /* else public ones: this conversation's, */
    bool tag;                       /* or (conv NULL) the hashtag's when tag */
};

static bool page_has(const struct page *pg, const struct ck_sim_entry *e)
{
    if (pg->account >= 0 ? e->account != (size_t)pg->account
                         : strcmp(e->visibility, "public") != 0 ||
                               (pg->conv != NULL ? strcmp(root_of(e)->id, pg->conv) != 0
                                                 : !(pg->tag && e->has_hashtag)))
        return false;
    return (pg->since == NULL || ck_sim_id_cmp(e->id, pg->since) > 0) &&
           (pg->older_than == NULL || ck_sim_id_cmp(e->id, pg->older_than) < 0) &&
           (pg->start == INT64_MIN || e->chat_ms >= pg->start) &&
           (pg->end == INT64_MIN || e->chat_ms < pg->end);
}

/* A 200 with the page's tweets newest first (as X answers) and its meta:
 * result_count, newest_id, oldest_id, and next_token ("n" + the oldest id)
 * when more are left. Returns 0. */
static int page_reply(struct ck_sim *sim, const struct page *pg, int64_t now,
                      struct ck_sim_reply *rep)
{
    json_t *data = json_array();
    size_t n = 0;
    bool more = false;
    for (size_t i = sim->n_entries; data != NULL && i-- > 0;) {
        const struct ck_sim_entry *e = sim->entries[i];
        if (!visible(e, now) || !page_has(pg, e))
            continue;
        if (n == (size_t)pg->max) {
            more = true;
            break;
        }
        json_array_append_new(data, tweet_json(sim, e));
        n++;
    }
    sim->x_posts_read += (long long)n;
    json_t *meta = json_pack("{s:i}", "result_count", (int)n);
    if (n > 0) {
        const char *newest = json_string_value(json_object_get(json_array_get(data, 0), "id"));
        const char *oldest = json_string_value(json_object_get(json_array_get(data, n - 1), "id"));
        json_object_set_new(meta, "newest_id", json_string(newest));
        json_object_set_new(meta, "oldest_id", json_string(oldest));
        if (more)
            json_object_set_new(meta, "next_token", json_sprintf("n%s", oldest));
    }
    rep->status = 200;
    if (n == 0) {
        json_decref(data);
        rep->json = json_pack("{s:o}", "meta", meta);
    } else if (pg->with_users) {
        rep->json = json_pack("{s:o s:{s:o} s:o}", "data", data, "includes", "users",
                              users_of(sim, data), "meta", meta);
    } else {
        rep->json = json_pack("{s:o s:o}", "data", data, "meta", meta);
    }
    return 0;
}

static int search(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                  struct ck_sim_reply *rep)
{
    const char *query = rq->arg(rq->arg_ctx, "query");
    const char *since = rq->arg(rq->arg_ctx, "since_id");
    const char *until = rq->arg(rq->arg_ctx, "until_id");
    const char *token = rq->arg(rq->arg_ctx, "next_token");
    const char *max_s = rq->arg(rq->arg_ctx, "max_results");
    long max = max_s != NULL ? strtol(max_s, NULL, 10) : 10;
    int64_t start, end;
    if (query == NULL || query[0] == '\0')
        return problem(rep, 400, "Invalid Request", "The `query` query parameter can not be empty");
    if (max < 10 || max > 100)
        return problem(rep, 400, "Invalid Request",
                       "The `max_results` query parameter value is not between 10 and 100");
    if ((since != NULL && !decimal(since)) || (until != NULL && !decimal(until)) ||
        (token != NULL && (token[0] != 'n' || !decimal(token + 1))))
        return problem(rep, 400, "Invalid Request",
                       "One or more parameters to your request was "
                       "invalid.");
    if (!time_arg(rq, "start_time", &start) || !time_arg(rq, "end_time", &end))
        return problem(rep, 400, "Invalid Request", "Invalid start_time or end_time");
    /* X refuses an end_time within 10 s of the request (its clock: the chat's). */
    int64_t chat_now = ck_sim_chat_time(sim, now);
    if (end != INT64_MIN && end > chat_now - 10000)
        return problem(rep, 400, "Invalid Request",
                       "Invalid 'end_time':'...'. 'end_time' must be a minimum of 10 seconds "
                       "prior to the request time.");
    const char *conv = NULL;
    bool tag = false;
    char want[160];
    if (strncmp(query, "conversation_id:", 16) == 0 && decimal(query + 16)) {
        conv = query + 16;
    } else if (query[0] == '#') {
        size_t n = strcspn(query + 1, " ");
        const char *rest = query + 1 + n;
        if (n == 0 || n >= sizeof want || (rest[0] != '\0' && strcmp(rest, " -is:retweet") != 0))
            return problem(rep, 400, "Invalid Request",
                           "The simulator knows \"#tag\", \"#tag "
                           "-is:retweet\" and "
                           "\"conversation_id:ID\" queries");
        memcpy(want, query + 1, n);
        want[n] = '\0';
        tag = strcasecmp(want, sim->script.hashtag) == 0;
    } else {
        return problem(rep, 400, "Invalid Request",
                       "The simulator knows \"#tag\", \"#tag "
                       "-is:retweet\" and \"conversation_id:ID\" "
                       "queries");
    }
    struct page pg = {.since = since,
                      .older_than = token != NULL ? token + 1 : until,
                      .start = start,
                      .end = end,
                      .max = max,
                      .with_users = true,
                      .conv = conv,
                      .tag = tag,
                      .account = -1};
    return page_reply(sim, &pg, now, rep);
}

static void lookup(struct ck_sim *sim, const char *id, int64_t now, struct ck_sim_reply *rep)
{
    struct ck_sim_entry *e = decimal(id) ? ck_sim_state_find(sim, id) : NULL;
    rep->status = 200;
    if (!visible(e, now)) {
        rep->json = json_pack("{s:[{s:s s:s s:s s:s}]}", "errors", "value", id, "detail",
                              "Could not find tweet with id.", "title", "Not Found Error", "type",
                              "https://api.twitter.com/2/problems/resource-not-found");
        return;
    }
    json_t *data = json_pack("[o]", tweet_json(sim, e));
    rep->json = json_pack("{s:O s:{s:o}}", "data", json_array_get(data, 0), "includes", "users",
                          users_of(sim, data));
    json_decref(data);
}

static int post(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                struct ck_sim_reply *rep)
{
    const char *a = rq->authorization;
    if (a == NULL || (strncmp(a, "Bearer ", 7) != 0 && strncmp(a, "OAuth ", 6) != 0))
        return problem(rep, 401, "Unauthorized", "Unauthorized");
    json_t *body = json_loads(rq->body, 0, NULL);
    const char *text = json_string_value(json_object_get(body, "text"));
    const json_t *reply = json_object_get(body, "reply");
    const char *parent = json_string_value(json_object_get(reply, "in_reply_to_tweet_id"));
    if (text == NULL || (reply != NULL && !decimal(parent))) {
        json_decref(body);
        return problem(rep, 400, "Invalid Request",
                       "One or more parameters to your request was "
                       "invalid.");
    }
    if (ck_x_weighted_length(text) > CK_X_MAX_WEIGHTED) {
        json_decref(body);
        return problem(rep, 403, "Forbidden", "Your Tweet text is too long.");
    }
    /* X refuses a text its author has posted before. */
    char *html = ck_sim_render_html(&sim->script, text, sim->base, NULL, NULL);
    for (size_t i = 0; html != NULL && i < sim->n_entries; i++) {
        const struct ck_sim_entry *e = sim->entries[i];
        if (e->script == NULL && e->account == sim->script.self && strcmp(e->html, html) == 0) {
            free(html);
            json_decref(body);
            return problem(rep, 403, "Forbidden",
                           "You are not allowed to create a Tweet with duplicate content.");
        }
    }
    free(html);
    struct ck_sim_entry *e;
    struct ck_error err = {0};
    int rc = ck_sim_state_post(sim, text, parent, "public", now, &e, &err);
    if (rc == CK_ENOTFOUND) {
        problem(rep, 403, "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.");
    } else if (rc != 0) {
        problem(rep, rc == CK_ENOMEM ? 500 : 400, "Invalid Request", err.msg);
    } else {
        rep->status = 201;
        rep->json = json_pack("{s:{s:s s:[s] s:s}}", "data", "id", e->id, "edit_history_tweet_ids",
                              e->id, "text", text);
        rep->created = 1;
    }
    json_decref(body);
    return 0;
}

/* GET /2/users/me: the account the API's credential acts as (the script's self). */
static void me(struct ck_sim *sim, const struct ck_sim_request *rq, struct ck_sim_reply *rep)
{
    const char *a = rq->authorization;
    if (a == NULL || (strncmp(a, "Bearer ", 7) != 0 && strncmp(a, "OAuth ", 6) != 0)) {
        problem(rep, 401, "Unauthorized", "Unauthorized");
        return;
    }
    const struct ck_sim_account *acc = &sim->script.accounts[sim->script.self];
    rep->status = 200;
    rep->json = json_pack("{s:{s:s s:o s:s}}", "data", "id", acc->id, "username", username(acc),
                          "name", acc->display_name);
}

/* GET /2/users/:id/tweets: an account's own posts, newest first, since
 * start_time (the chat's clock), max_results a page, next_token beyond. */
static int user_tweets(struct ck_sim *sim, const struct ck_sim_request *rq, const char *uid,
                       int64_t now, struct ck_sim_reply *rep)
{
    const char *max_s = rq->arg(rq->arg_ctx, "max_results");
    const char *token = rq->arg(rq->arg_ctx, "pagination_token");
    long max = max_s != NULL ? strtol(max_s, NULL, 10) : 10;
    int64_t start, end;
    if (max < 5 || max > 100)
        return problem(rep, 400, "Invalid Request",
                       "The `max_results` query parameter value is not between 5 and 100");
    if (!time_arg(rq, "start_time", &start) || !time_arg(rq, "end_time", &end) ||
        (token != NULL && (token[0] != 'n' || !decimal(token + 1))))
        return problem(rep, 400, "Invalid Request",
                       "One or more parameters to your request was invalid.");
    long who = -1;
    size_t ulen = strspn(uid, "0123456789");
    for (size_t i = 0; i < sim->script.n_accounts && who < 0; i++)
        if (strlen(sim->script.accounts[i].id) == ulen &&
            strncmp(sim->script.accounts[i].id, uid, ulen) == 0)
            who = (long)i;
    if (who < 0) {
        rep->status = 200;
        rep->json = json_pack("{s:[{s:s% s:s s:s s:s}]}", "errors", "value", uid, ulen, "detail",
                              "Could not find user with id.", "title", "Not Found Error", "type",
                              "https://api.twitter.com/2/problems/resource-not-found");
        return 0;
    }
    struct page pg = {.older_than = token != NULL ? token + 1 : NULL,
                      .start = start,
                      .end = end,
                      .max = max,
                      .account = who};
    return page_reply(sim, &pg, now, rep);
}

void ck_sim_x_handle(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                     struct ck_sim_reply *rep)
{
    const char *p = rq->path;
    size_t plen = strlen(p);
    bool get = strcmp(rq->method, "GET") == 0;
    bool one_tweet =
        plen > 10 && memcmp(p, "/2/tweets/", 10) == 0 && memchr(p + 10, '/', plen - 10) == NULL;
    if (get && strcmp(p, "/2/tweets/search/recent") == 0)
        search(sim, rq, now, rep);
    else if (get && one_tweet)
        lookup(sim, p + 10, now, rep);
    else if (get && strcmp(p, "/2/users/me") == 0)
        me(sim, rq, rep);
    else if (get && strncmp(p, "/2/users/", 9) == 0 && decimal_prefix(p + 9, "/tweets"))
        user_tweets(sim, rq, p + 9, now, rep);
    else if (strcmp(rq->method, "POST") == 0 && strcmp(p, "/2/tweets") == 0)
        post(sim, rq, now, rep);
    else
        problem(rep, 404, "Not Found Error", "The simulator's X mode has no such route.");
    if (rep->json == NULL && rep->status != 0) {
        rep->status = 500;
        rep->json = json_pack("{s:s}", "title", "out of memory");
    }
}
