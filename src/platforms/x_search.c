/* X API v2 reading: GET /2/tweets/search/recent (the hashtag, or a thread by
 * conversation_id), GET /2/tweets/:id, their answers, and the rate-limit
 * headers. Pure. See x.h. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/sbuf.h"
#include "chatkeeper/timeutil.h"
#include "chatkeeper/x.h"
#include "x_int.h"

/* Everything a message needs, and nothing that costs reads for no use. */
const char ck_x_expansions[] =
    "author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys,"
    "edit_history_tweet_ids";
const char ck_x_tweet_fields[] =
    "id,text,created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "attachments,entities,note_tweet,edit_history_tweet_ids,edit_controls,public_metrics,lang,"
    "withheld";
const char ck_x_user_fields[] = "id,name,username,withheld";
const char ck_x_media_fields[] = "media_key,type,url,preview_image_url,alt_text,width,height";

#define WEEK_MS (7 * 86400000LL)
#define END_LAG_MS 10000 /* X refuses an end_time less than 10 s before the request */

bool ck_x_id_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n >= 1 && n <= 32 && strspn(s, "0123456789") == n;
}

/* A hashtag X's query cannot misread: letters, digits, '_' and any
 * non-ASCII byte (X's hashtags are Unicode letters, marks and digits). */
static bool tag_ok(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 139)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x80 && !isalnum(*p) && *p != '_')
            return false;
    return true;
}

static bool has_line_break(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* X wants whole seconds, "2026-12-03T20:00:00Z". */
static void time_param(struct ck_sbuf *b, const char *name, int64_t ms)
{
    char t[32];
    ck_time_format_rfc3339(ms - (((ms % 1000) + 1000) % 1000), t);
    char *dot = strchr(t, '.');
    if (dot != NULL)
        memcpy(dot, "Z", 2);
    ck_sbuf_param(b, name, t);
}

/* What every reading request checks first: *out zeroed, a base URL, and a
 * bearer token (may be NULL) that cannot add header lines. 0 or CK_EINVAL. */
static int read_request_ok(const char *base_url, const char *bearer, struct ck_request *out,
                           struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || base_url[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "x: base URL is required");
    if (has_line_break(bearer))
        return ck_error_set(err, CK_EINVAL, "x: token contains a line break");
    return 0;
}

static void fields(struct ck_sbuf *b)
{
    ck_sbuf_param(b, "expansions", ck_x_expansions);
    ck_sbuf_param(b, "tweet.fields", ck_x_tweet_fields);
    ck_sbuf_param(b, "user.fields", ck_x_user_fields);
    ck_sbuf_param(b, "media.fields", ck_x_media_fields);
}

/* url (taken) into out with Accept and the bearer token. */
int ck_x_finish_request(const char *method, struct ck_sbuf *url, const char *bearer,
                        struct ck_request *out, struct ck_error *err)
{
    if (url->oom) {
        free(url->s);
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    snprintf(out->method, sizeof out->method, "%s", method);
    out->url = url->s;
    int rc = ck_request_add_header(out, "Accept", "application/json");
    if (rc == 0 && bearer != NULL)
        rc = ck_request_add_bearer(out, bearer);
    if (rc != 0) {
        ck_request_finish(out);
        return ck_error_set(err, rc, "x: %s", ck_strerror(rc));
    }
    return 0;
}

int ck_x_search_request(const char *base_url, const char *bearer, const struct ck_x_search *q,
                        struct ck_request *out, struct ck_error *err)
{
    int rc = read_request_ok(base_url, bearer, out, err);
    if (rc != 0)
        return rc;
    const char *tag = q->hashtag != NULL && q->hashtag[0] == '#' ? q->hashtag + 1 : q->hashtag;
    if (q->conversation_id != NULL ? !ck_x_id_ok(q->conversation_id) : tag == NULL || !tag_ok(tag))
        return ck_error_set(err, CK_EINVAL,
                            q->conversation_id != NULL
                                ? "x: a conversation id is a decimal tweet id"
                                : "x: a hashtag is letters, digits and _ (none of X's operators)");
    if ((q->since_id != NULL && !ck_x_id_ok(q->since_id)) ||
        (q->until_id != NULL && !ck_x_id_ok(q->until_id)))
        return ck_error_set(err, CK_EINVAL, "x: since_id and until_id are decimal tweet ids");
    int64_t start = q->start_ms, end = q->end_ms;
    if (q->now_ms != INT64_MIN) {
        if (end != INT64_MIN && end > q->now_ms - END_LAG_MS)
            end = q->now_ms - END_LAG_MS;
        if (start != INT64_MIN && start < q->now_ms - WEEK_MS + 60000)
            start = q->now_ms - WEEK_MS + 60000;
    }
    if (start != INT64_MIN && end != INT64_MIN && end / 1000 <= start / 1000)
        return ck_error_set(err, CK_EINVAL,
                            "x: the search window is empty (X searches the last 7 days, up to "
                            "10 seconds ago)");
    struct ck_sbuf query = {0};
    if (q->conversation_id != NULL) {
        ck_sbuf_str(&query, "conversation_id:");
        ck_sbuf_str(&query, q->conversation_id);
    } else {
        ck_sbuf_str(&query, "#");
        ck_sbuf_str(&query, tag);
        if (!q->retweets)
            ck_sbuf_str(&query, " -is:retweet");
    }
    char max[16];
    snprintf(max, sizeof max, "%d",
             q->max_results >= CK_X_MIN_RESULTS && q->max_results <= CK_X_MAX_RESULTS
                 ? q->max_results
                 : CK_X_MAX_RESULTS);
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/2/tweets/search/recent");
    ck_sbuf_param(&b, "query", query.s != NULL ? query.s : "");
    b.oom |= query.oom;
    free(query.s);
    ck_sbuf_param(&b, "max_results", max);
    ck_sbuf_param(&b, "since_id", q->since_id);
    ck_sbuf_param(&b, "until_id", q->until_id);
    if (start != INT64_MIN)
        time_param(&b, "start_time", start);
    if (end != INT64_MIN)
        time_param(&b, "end_time", end);
    ck_sbuf_param(&b, "next_token", q->next_token);
    fields(&b);
    return ck_x_finish_request("GET", &b, bearer, out, err);
}

int ck_x_tweet_request(const char *base_url, const char *bearer, const char *id,
                       struct ck_request *out, struct ck_error *err)
{
    int rc = read_request_ok(base_url, bearer, out, err);
    if (rc != 0)
        return rc;
    if (!ck_x_id_ok(id))
        return ck_error_set(err, CK_EINVAL, "x: a tweet id is a decimal string");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/2/tweets/");
    ck_sbuf_str(&b, id);
    fields(&b);
    return ck_x_finish_request("GET", &b, bearer, out, err);
}

/* ---- answers ---- */

void ck_x_page_finish(struct ck_x_page *p)
{
    if (p == NULL)
        return;
    json_decref(p->items);
    free(p->next_token);
    free(p->newest_id);
    free(p->oldest_id);
    memset(p, 0, sizeof *p);
}

/* "TITLE: DETAIL" of an errors[] item (or of a problem object), control
 * bytes as spaces, cut at a whole character. */
void ck_x_problem_text(const json_t *e, char *buf, size_t n)
{
    const char *parts[] = {json_string_value(json_object_get(e, "title")),
                           json_string_value(json_object_get(e, "detail")),
                           json_string_value(json_object_get(e, "message"))};
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        if (parts[i] == NULL || (i == 2 && at > 0))
            continue;
        if (at > 0 && at + 2 < n) {
            memcpy(buf + at, ": ", 3);
            at += 2;
        }
        for (const char *s = parts[i]; *s != '\0' && at + 1 < n; s++)
            buf[at++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
        buf[at] = '\0';
    }
    ck_utf8_trim_partial(buf);
}

int ck_x_load(const struct ck_response *resp, const char *what, json_t **out, struct ck_error *err)
{
    *out = NULL;
    json_t *root = resp->body != NULL && resp->body_len > 0
                       ? json_loadb(resp->body, resp->body_len, 0, NULL)
                       : NULL;
    if (resp->status != 0 && (resp->status < 200 || resp->status > 299)) {
        char text[160] = "";
        const json_t *errs = json_object_get(root, "errors");
        ck_x_problem_text(json_is_array(errs) ? json_array_get(errs, 0) : root, text, sizeof text);
        int code = resp->status == 401 || resp->status == 403 ? CK_EAUTH
                   : resp->status == 429                      ? CK_ERATELIMIT
                                                              : CK_EHTTP;
        json_decref(root);
        return ck_error_set(err, code, "x: %s: HTTP status %ld%s%s", what, resp->status,
                            text[0] != '\0' ? ": " : "", text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return ck_error_set(err, CK_EPARSE, "x: %s: the answer is not a JSON object", what);
    }
    *out = root;
    return 0;
}

static int dup_member(const json_t *obj, const char *key, char **out)
{
    const char *v = json_string_value(json_object_get(obj, key));
    *out = NULL;
    if (v == NULL || v[0] == '\0')
        return 0;
    *out = strdup(v);
    return *out == NULL ? CK_ENOMEM : 0;
}

int ck_x_parse_search(const struct ck_response *resp, struct ck_x_page *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    out->result_count = -1;
    json_t *root;
    int rc = ck_x_load(resp, "search", &root, err);
    if (rc != 0)
        return rc;
    const json_t *data = json_object_get(root, "data");
    const json_t *errors = json_object_get(root, "errors");
    if (json_is_array(errors)) {
        out->n_errors = json_array_size(errors);
        ck_x_problem_text(json_array_get(errors, 0), out->first_error, sizeof out->first_error);
    }
    if (data == NULL && out->n_errors > 0) {
        /* Nothing but problems: a lookup of a tweet that is gone, or worse. */
        const char *title = json_string_value(json_object_get(json_array_get(errors, 0), "title"));
        bool gone = title != NULL && strcmp(title, "Not Found Error") == 0;
        rc = ck_error_set(err, gone ? CK_ENOTFOUND : CK_EHTTP, "x: %s", out->first_error);
        json_decref(root);
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (data != NULL && !json_is_array(data) && !json_is_object(data)) {
        json_decref(root);
        memset(out, 0, sizeof *out);
        return ck_error_set(err, CK_EPARSE, "x: search: data is neither an array nor an object");
    }
    json_t *items = NULL;
    size_t n_own = 0;
    rc = ck_x_page_items(root, &items, &n_own, err);
    /* Keep only objects with a decimal id: a bad item costs itself, not the page. */
    json_t *kept = rc == 0 ? json_array() : NULL;
    size_t own = n_own;
    for (size_t i = 0; kept != NULL && i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        const char *id = json_string_value(json_object_get(it, "id"));
        if (!json_is_object(it) || !ck_x_id_ok(id)) {
            out->skipped++;
            n_own -= i < own ? 1 : 0;
            continue;
        }
        if (json_array_append(kept, it) != 0)
            rc = CK_ENOMEM;
    }
    json_decref(items);
    if (rc == 0 && kept == NULL)
        rc = CK_ENOMEM;
    out->items = kept;
    out->n_own = n_own;
    const json_t *meta = json_object_get(root, "meta");
    const json_t *count = json_object_get(meta, "result_count");
    if (json_is_integer(count) && json_integer_value(count) >= 0 &&
        json_integer_value(count) <= LONG_MAX)
        out->result_count = (long)json_integer_value(count);
    if (rc == 0)
        rc = dup_member(meta, "next_token", &out->next_token);
    if (rc == 0)
        rc = dup_member(meta, "newest_id", &out->newest_id);
    if (rc == 0)
        rc = dup_member(meta, "oldest_id", &out->oldest_id);
    /* Ids a later since_id trusts: decimal or nothing. */
    if (rc == 0 && out->newest_id != NULL && !ck_x_id_ok(out->newest_id)) {
        free(out->newest_id);
        out->newest_id = NULL;
    }
    if (rc == 0 && out->oldest_id != NULL && !ck_x_id_ok(out->oldest_id)) {
        free(out->oldest_id);
        out->oldest_id = NULL;
    }
    json_decref(root);
    if (rc != 0) {
        ck_x_page_finish(out);
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    return 0;
}

/* ---- rate limits ---- */

int ck_x_ratelimit(const struct ck_response *resp, int64_t now_ms, struct ck_ratelimit *rl)
{
    long long limit, remaining, reset;
    if (!ck_response_header_count(resp, "x-rate-limit-limit", &limit) ||
        !ck_response_header_count(resp, "x-rate-limit-remaining", &remaining) ||
        !ck_response_header_count(resp, "x-rate-limit-reset", &reset) || limit > LONG_MAX ||
        remaining > LONG_MAX || reset > INT64_MAX / 1000 - CK_RATELIMIT_MAX_WAIT_MS)
        return CK_EPARSE;
    int64_t reset_ms = (int64_t)reset * 1000;
    if (reset_ms > now_ms + CK_RATELIMIT_MAX_WAIT_MS) {
        rl->capped_from_ms = reset_ms;
        reset_ms = now_ms + CK_RATELIMIT_MAX_WAIT_MS;
    } else {
        rl->capped_from_ms = 0;
    }
    rl->known = true;
    rl->limit = (long)limit;
    rl->remaining = (long)remaining;
    rl->reset_ms = reset_ms;
    if (resp->status == 429)
        rl->blocked_until_ms = reset_ms > now_ms ? reset_ms : now_ms;
    return 0;
}
