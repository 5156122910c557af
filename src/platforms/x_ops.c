/* X on the whole platform interface (platform.h): following with
 * search/recent (next_token as the opaque cursor, start_time bounding the
 * window), threads with conversation_id: searches, one tweet by id, posting
 * (POST /2/tweets, reply.in_reply_to_tweet_id for threads), finding our own
 * post after a restart (GET /2/users/:id/tweets), x-rate-limit-* headers.
 * The pure builders and parsers are x_search.c, x_post.c, x_oauth.c; the
 * normaliser x.c; this file only adapts them.
 *
 * A credential reaches these ops as one string, as every platform's token
 * does: a bearer token (the app's, or an OAuth 2.0 user token), or OAuth
 * 1.0a keys "consumer_key:consumer_secret:access_token:access_token_secret".
 * A bearer token never holds ':' (RFC 6750's b64token has none), so the
 * colon tells them apart. OAuth 1.0a signs each request with the nonce and
 * time the caller puts in struct ck_post (platforms have no clock or
 * randomness), so only the calls that get one (posting, the lookup, the
 * account) can use it: reading needs a bearer token. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/platform.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/secret.h"
#include "chatkeeper/timeutil.h"
#include "chatkeeper/x.h"
#include "x_int.h"

#define LOOKUP_SLACK_MS (5 * 60000) /* clocks differ: look this far before the intent */
#define OVERLAP_MS 20000            /* each poll re-reads this much: every post read is billed */

static bool is_oauth1(const char *token)
{
    return token != NULL && strchr(token, ':') != NULL;
}

/* A bearer token for a read, or CK_EINVAL for OAuth keys (they sign only
 * the calls that carry a nonce). */
static int read_token(const char *token, struct ck_error *err)
{
    if (is_oauth1(token))
        return ck_error_set(err, CK_EINVAL,
                            "x: reading needs a bearer token (token_env or user_token_env); "
                            "OAuth 1.0a keys sign posts only");
    return 0;
}

/* Finish a GET of url (taken) for token: a bearer header, or an OAuth 1.0a
 * signature over the URL with its query, from p's nonce and time. */
static int finish_signed(struct ck_sbuf *url, const char *token, const struct ck_post *p,
                         struct ck_request *out, struct ck_error *err)
{
    if (!is_oauth1(token))
        return ck_x_finish_request("GET", url, token, out, err);
    if (p == NULL || p->nonce == NULL) {
        free(url->s);
        return ck_error_set(err, CK_EINVAL, "x: OAuth 1.0a needs a nonce");
    }
    struct ck_x_oauth1 keys = {0};
    int rc = ck_x_oauth1_parse(token, &keys, err);
    char *oauth = NULL;
    if (rc == 0 && !url->oom)
        rc = ck_x_oauth1_header(&keys, "GET", url->s, NULL, 0, p->nonce, p->created_ms / 1000,
                                &oauth, err);
    ck_x_oauth1_finish(&keys);
    if (rc != 0) {
        free(url->s);
        return rc;
    }
    rc = ck_x_finish_request("GET", url, NULL, out, err);
    if (rc == 0 && ck_request_add_header(out, "Authorization", oauth) != 0) {
        ck_request_finish(out);
        rc = ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    ck_secret_free(oauth);
    return rc;
}

/* ---- following ---- */

/* No end_time: X refuses one less than 10 s old and the follower asks for
 * the window's end as it closes; a few posts past the end cost nothing and
 * the archive keeps to the window. */
static int ops_timeline_request(const char *base_url, const char *token, const char *hashtag,
                                const struct ck_timeline_query *q, struct ck_request *out,
                                struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (read_token(token, err) != 0)
        return CK_EINVAL;
    int limit = q != NULL ? q->limit : 0;
    struct ck_x_search s = {
        .hashtag = hashtag,
        .retweets = q != NULL && q->reposts,
        .start_ms = q != NULL && q->since_ms > 0 ? q->since_ms : INT64_MIN,
        .end_ms = INT64_MIN,
        .now_ms = INT64_MIN,
        .max_results = limit < CK_X_MIN_RESULTS   ? CK_X_MIN_RESULTS
                       : limit > CK_X_MAX_RESULTS ? CK_X_MAX_RESULTS
                                                  : limit,
        .next_token = q != NULL ? q->before : NULL,
    };
    return ck_x_search_request(base_url, token, &s, out, err);
}

/* A search page as a platform page: its tweets, then the originals they
 * carry (n_own marks where those start); X's problems beside the data
 * (deleted or withheld referenced tweets) are reported as skipped. */
static int ops_parse_page(const struct ck_response *resp, struct ck_page *out, struct ck_error *err)
{
    struct ck_x_page page;
    memset(out, 0, sizeof *out);
    int rc = ck_x_parse_search(resp, &page, err);
    if (rc != 0)
        return rc;
    out->items = page.items;
    page.items = NULL;
    out->older = page.next_token;
    page.next_token = NULL;
    out->n_own = page.n_own < json_array_size(out->items) ? page.n_own : 0; /* 0: all */
    out->skipped = page.skipped + page.n_errors;
    if (page.n_errors > 0) {
        snprintf(out->skip_why, sizeof out->skip_why, "X could not show %zu object(s): %.100s",
                 page.n_errors, page.first_error);
        ck_utf8_trim_partial(out->skip_why);
    } else if (page.skipped > 0)
        snprintf(out->skip_why, sizeof out->skip_why, "not a tweet (no decimal string id)");
    ck_x_page_finish(&page);
    return 0;
}

/* The replies under a tweet, hashtag or not: a conversation_id: search
 * (X keeps a week of them; one page of 100, the busiest threads first). */
static int ops_context_request(const char *base_url, const char *token, const char *id,
                               struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (read_token(token, err) != 0)
        return CK_EINVAL;
    struct ck_x_search s = {
        .conversation_id = id,
        .start_ms = INT64_MIN,
        .end_ms = INT64_MIN,
        .now_ms = INT64_MIN,
        .max_results = CK_X_MAX_RESULTS,
    };
    return ck_x_search_request(base_url, token, &s, out, err);
}

/* ---- one tweet ---- */

static int ops_status_request(const char *base_url, const char *token, const char *id,
                              struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (read_token(token, err) != 0)
        return CK_EINVAL;
    return ck_x_tweet_request(base_url, token, id, out, err);
}

static int ops_parse_exists(const struct ck_response *resp, struct ck_error *err)
{
    struct ck_x_page page;
    int rc = ck_x_parse_search(resp, &page, err);
    if (rc == 0 && page.n_own == 0)
        rc = ck_error_set(err, CK_ENOTFOUND, "x: the tweet is gone");
    ck_x_page_finish(&page);
    return rc;
}

/* ---- posting ---- */

/* "x" MILLISECONDS "-" 8 hex digits: X takes no key, so this only marks the
 * intent, and says when it was made (the lookup's window). */
static int ops_post_key(int64_t now_ms, uint32_t random, char *buf, size_t n)
{
    int w = snprintf(buf, n, "x%" PRId64 "-%08" PRIx32, now_ms, random);
    return w < 0 || (size_t)w >= n ? CK_EINVAL : 0;
}

static int64_t key_time(const char *key)
{
    if (key == NULL || key[0] != 'x')
        return INT64_MIN;
    char *end;
    long long v = strtoll(key + 1, &end, 10);
    return end != key + 1 && *end == '-' ? (int64_t)v : INT64_MIN;
}

static int ops_post_request(const char *base_url, const char *token, const struct ck_post *p,
                            struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (token == NULL || token[0] == '\0')
        return ck_error_set(err, CK_EAUTH,
                            "x: posting needs the account's user token or OAuth 1.0a keys");
    struct ck_x_oauth1 keys = {0};
    struct ck_x_auth auth = {.user_token = token};
    if (is_oauth1(token)) {
        int rc = ck_x_oauth1_parse(token, &keys, err);
        if (rc != 0)
            return rc;
        auth = (struct ck_x_auth){
            .oauth1 = &keys, .nonce = p->nonce, .timestamp = p->created_ms / 1000};
    }
    int rc = ck_x_post_request(base_url, &auth, p->text, p->reply_to.id, out, err);
    ck_x_oauth1_finish(&keys);
    return rc;
}

/* X's id-only link resolves whoever the author is. */
static int posted_from(const char *id, struct ck_posted *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    struct ck_sbuf b = {0};
    ck_sbuf_str(&b, "https://x.com/i/web/status/");
    ck_sbuf_str(&b, id);
    out->url = b.s;
    out->id = strdup(id);
    if (b.oom || out->id == NULL) {
        ck_posted_finish(out);
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    return 0;
}

static int ops_parse_post(const struct ck_response *resp, struct ck_posted *out,
                          struct ck_error *err)
{
    char *id = NULL;
    memset(out, 0, sizeof *out);
    int rc = ck_x_parse_post(resp, &id, NULL, err);
    if (rc == 0)
        rc = posted_from(id, out, err);
    free(id);
    return rc;
}

static int ops_account_request(const char *base_url, const char *token, const struct ck_post *p,
                               struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (token == NULL || token[0] == '\0')
        return ck_error_set(err, CK_EAUTH, "x: no user credential to ask who we are");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/2/users/me");
    return finish_signed(&b, token, p, out, err);
}

static int ops_parse_account(const struct ck_response *resp, char **account, struct ck_error *err)
{
    json_t *root;
    *account = NULL;
    int rc = ck_x_load(resp, "users/me", &root, err);
    if (rc != 0)
        return rc;
    const char *id = json_string_value(json_object_get(json_object_get(root, "data"), "id"));
    if (!ck_x_id_ok(id))
        rc = ck_error_set(err, CK_EPARSE, "x: users/me: the answer has no data.id");
    else if ((*account = strdup(id)) == NULL)
        rc = ck_error_set(err, CK_ENOMEM, "x: out of memory");
    json_decref(root);
    return rc;
}

/* Our own recent posts since a little before the intent: X keeps no
 * idempotency key, so the post is found by its text (steps never repeat
 * one: X refuses duplicates). */
static int ops_lookup_request(const char *base_url, const char *token, const struct ck_post *p,
                              struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (token == NULL || token[0] == '\0')
        return ck_error_set(err, CK_EAUTH, "x: no user credential to look for our post");
    if (p->account == NULL || !ck_x_id_ok(p->account))
        return ck_error_set(err, CK_EINVAL, "x: looking for our post needs the account's id");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/2/users/");
    ck_sbuf_str(&b, p->account);
    ck_sbuf_str(&b, "/tweets?max_results=100&tweet.fields=created_at,entities,referenced_tweets,"
                    "conversation_id");
    int64_t since = key_time(p->key);
    if (since != INT64_MIN && since > LOOKUP_SLACK_MS) {
        char t[32];
        int64_t ms = since - LOOKUP_SLACK_MS;
        ck_time_format_rfc3339(ms - ms % 1000, t);
        char *dot = strchr(t, '.');
        if (dot != NULL)
            memcpy(dot, "Z", 2);
        ck_sbuf_str(&b, "&start_time=");
        ck_sbuf_pct(&b, t);
    }
    return finish_signed(&b, token, p, out, err);
}

/* s without the white space at its ends: [*start, *start + *n). */
static void trimmed(const char *s, const char **start, size_t *n)
{
    size_t len = strlen(s);
    while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
        len--;
    while (len > 0 && strchr(" \t\r\n", *s) != NULL)
        s++, len--;
    *start = s;
    *n = len;
}

/* Whether tweet (from the lookup) is p: its text as a reader sees it (t.co
 * links expanded, entities decoded once) is p's text. */
static bool same_post(const json_t *tweet, const struct ck_post *p)
{
    const char *raw = json_string_value(json_object_get(tweet, "text"));
    if (raw == NULL || p->text == NULL)
        return false;
    struct ck_error e = {0};
    struct ck_fields c = {"x tweet", NULL, &e};
    char *text = NULL;
    if (ck_x_build_text(&c, raw, json_object_get(tweet, "entities"), NULL, &text) != 0)
        return false;
    const char *a, *b;
    size_t na, nb;
    trimmed(text, &a, &na);
    trimmed(p->text, &b, &nb);
    bool same = na == nb && memcmp(a, b, na) == 0;
    free(text);
    return same;
}

static int ops_parse_lookup(const struct ck_response *resp, const struct ck_post *p,
                            struct ck_posted *out, struct ck_error *err)
{
    json_t *root;
    memset(out, 0, sizeof *out);
    int rc = ck_x_load(resp, "users/:id/tweets", &root, err);
    if (rc != 0)
        return rc;
    const json_t *data = json_object_get(root, "data");
    const json_t *meta = json_object_get(root, "meta");
    if (data != NULL && !json_is_array(data)) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "x: users/:id/tweets: data is not an array");
    }
    if (!json_is_object(meta) || !json_is_integer(json_object_get(meta, "result_count"))) {
        /* Without meta nothing says the list is whole: never "not there". */
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "x: users/:id/tweets: no meta.result_count");
    }
    size_t i;
    const json_t *t;
    json_array_foreach(data, i, t)
    {
        const char *id = json_string_value(json_object_get(t, "id"));
        if (ck_x_id_ok(id) && same_post(t, p)) {
            rc = posted_from(id, out, err);
            json_decref(root);
            return rc;
        }
    }
    bool more = json_is_string(json_object_get(meta, "next_token"));
    json_decref(root);
    if (more)
        return ck_error_set(err, CK_EHTTP,
                            "x: more than 100 posts of ours since the intent; cannot tell "
                            "whether this one was made");
    return ck_error_set(err, CK_ENOTFOUND, "x: not among our recent posts");
}

static void ops_error_text(const struct ck_response *resp, char *buf, size_t n)
{
    buf[0] = '\0';
    json_t *root = resp->body != NULL && resp->body_len > 0
                       ? json_loadb(resp->body, resp->body_len, 0, NULL)
                       : NULL;
    const json_t *errs = json_object_get(root, "errors");
    ck_x_problem_text(json_is_array(errs) ? json_array_get(errs, 0) : root, buf, n);
    json_decref(root);
}

/* x-rate-limit-* (reset in epoch seconds); a 429 waits for the reset, or
 * for Retry-After and the default when X sends no headers. */
static void ops_ratelimit(struct ck_ratelimit *rl, const struct ck_response *resp, int64_t now_ms)
{
    ck_ratelimit_update(rl, resp, now_ms);
    (void)ck_x_ratelimit(resp, now_ms, rl);
}

const struct ck_platform_ops ck_platform_x = {
    .name = "x",
    .paging = CK_PAGING_CURSOR,
    .overlap_ms = OVERLAP_MS,
    .reads_cost = true,
    .page_max = CK_X_MAX_RESULTS, /* a poll that re-reads its overlap in one request */
    .timeline_request = ops_timeline_request,
    .parse_timeline = ops_parse_page,
    .context_request = ops_context_request,
    .parse_context = ops_parse_page,
    .item_id = ck_x_item_id,
    .item_time = ck_x_item_time,
    .item_version = ck_x_item_version,
    .normalise = ck_x_normalise,
    .id_cmp = ck_id_order,
    .status_request = ops_status_request,
    .parse_exists = ops_parse_exists,
    .once = CK_ONCE_FIND_OWN,
    .post_key = ops_post_key,
    .post_request = ops_post_request,
    .parse_post = ops_parse_post,
    .post_lookup_request = ops_lookup_request,
    .parse_post_lookup = ops_parse_lookup,
    .account_request = ops_account_request,
    .parse_account = ops_parse_account,
    .error_text = ops_error_text,
    .max_post_len = CK_X_MAX_WEIGHTED,
    .text_len = ck_x_weighted_length,
    .len_rule = "X (links count 23, CJK and emoji 2)",
    .ratelimit_update = ops_ratelimit,
};
