/* The simulator as a Bluesky PDS and AppView (issue 11): the same chat the
 * Mastodon API serves, as Bluesky's XRPC methods show it, so one rehearsal can
 * follow and post on both at once.
 *
 *   POST /xrpc/com.atproto.server.createSession  {identifier, password}
 *   POST /xrpc/com.atproto.server.refreshSession (Bearer refreshJwt)
 *   GET  /xrpc/app.bsky.feed.searchPosts  q|tag, sort, since, until, limit, cursor
 *   GET  /xrpc/app.bsky.feed.getPostThread  uri, depth, parentHeight
 *   POST /xrpc/com.atproto.repo.createRecord  {repo, collection, rkey?, record}
 *   GET  /xrpc/com.atproto.repo.getRecord  repo, collection, rkey
 *   GET  /xrpc/com.atproto.identity.resolveHandle  handle
 *
 * Shapes as the lexicons and the recorded answers in ../shared/api-examples
 * have them; errors as {"error", "message"}. What the real services do that a
 * client must cope with is done here too: search shows a post only once it is
 * indexed (the same late visibility as the Mastodon timeline), its cursor is
 * an offset (new posts shift it), an access token expires (400 ExpiredToken),
 * sign-ins are limited (30, then 429), and a createRecord with a record key
 * already taken fails with a 500, as the reference PDS does (atproto#3718):
 * a client must look the record up (getRecord) instead of retrying blindly.
 * Rate-limit headers and faults are the HTTP front's (server.c). */
#include "chatkeeper/sim.h"
#include "bsky_int.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/timeutil.h"

#define ACCESS_TTL_S (2 * 3600)        /* bsky.social: two hours */
#define REFRESH_TTL_S (90 * 24 * 3600) /* and ninety days */
#define MAX_SIGN_INS 30                /* createSession: 30 per 5 minutes on bsky.social */

/* ---- tokens ------------------------------------------------------------------ */

static void b64url(const char *in, size_t n, char *out, size_t cap)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = t[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = t[v & 63];
    }
    out[o] = '\0';
}

static int unb64url(const char *in, size_t n, char *out, size_t cap)
{
    uint32_t v = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p =
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", in[i]);
        if (p == NULL || in[i] == '\0')
            return -1;
        v = v << 6 |
            (uint32_t)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            out[o++] = (char)(v >> bits & 0xFF);
        }
    }
    out[o] = '\0';
    return 0;
}

/* A JWT as the PDS issues them (HS256 header; the signature is a stand-in). */
static json_t *jwt(const char *did, const char *scope, int64_t now_s, int64_t ttl_s, long serial)
{
    char payload[256], head[64], body[400], sig[64], jti[32], *tok;
    snprintf(jti, sizeof jti, "sim-%ld", serial);
    int n = snprintf(payload, sizeof payload,
                     "{\"scope\":\"%s\",\"sub\":\"%s\",\"aud\":\"did:web:bsky.social\","
                     "\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
                     scope, did, (long long)now_s, (long long)(now_s + ttl_s), jti);
    b64url("{\"typ\":\"at+jwt\",\"alg\":\"HS256\"}", 31, head, sizeof head);
    b64url(payload, (size_t)n, body, sizeof body);
    ck_sim_bsky_hashed(body, scope, sig, 43);
    size_t len = strlen(head) + strlen(body) + strlen(sig) + 3;
    tok = malloc(len);
    if (tok == NULL)
        return NULL;
    snprintf(tok, len, "%s.%s.%s", head, body, sig);
    json_t *j = json_string(tok);
    free(tok);
    return j;
}

/* The bearer token's payload when it is one of ours with this scope: 0, or
 * the XRPC error name ("AuthMissing", "InvalidToken", "ExpiredToken"). */
static const char *check_token(const struct ck_sim_request *rq, const char *scope, int64_t now)
{
    const char *a = rq->authorization;
    if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
        return "AuthMissing";
    a += 7;
    const char *d1 = strchr(a, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
    char payload[400];
    if (d2 == NULL || unb64url(d1 + 1, (size_t)(d2 - d1 - 1), payload, sizeof payload) != 0)
        return "InvalidToken";
    json_t *p = json_loads(payload, 0, NULL);
    const char *sc = json_string_value(json_object_get(p, "scope"));
    json_int_t exp = json_integer_value(json_object_get(p, "exp"));
    const char *why = sc == NULL || strcmp(sc, scope) != 0 ? "InvalidToken"
                      : exp * 1000 <= now                  ? "ExpiredToken"
                                                           : NULL;
    json_decref(p);
    return why;
}

static void xrpc_error(struct ck_sim_reply *rep, int status, const char *error, const char *msg)
{
    rep->status = status;
    rep->json = json_pack("{s:s s:s}", "error", error, "message", msg);
}

static int authorised(const struct ck_sim_request *rq, const char *scope, int64_t now,
                      struct ck_sim_reply *rep)
{
    const char *why = check_token(rq, scope, now);
    if (why == NULL)
        return 1;
    if (strcmp(why, "AuthMissing") == 0)
        xrpc_error(rep, 401, why, "Authentication Required");
    else if (strcmp(why, "ExpiredToken") == 0)
        xrpc_error(rep, 400, why, "Token has expired");
    else
        xrpc_error(rep, 400, why, "Token could not be verified");
    return 0;
}

static void session(struct ck_sim *sim, int64_t now, struct ck_sim_reply *rep)
{
    char did[40], handle[128];
    ck_sim_bsky_did(sim, sim->script.self, did);
    ck_sim_bsky_handle_of(sim, sim->script.self, handle, sizeof handle);
    long serial = sim->bsky_sessions + sim->bsky_refreshes;
    rep->status = 200;
    rep->json =
        json_pack("{s:s s:s s:o s:o s:b}", "did", did, "handle", handle, "accessJwt",
                  jwt(did, "com.atproto.access", now / 1000, ACCESS_TTL_S, serial), "refreshJwt",
                  jwt(did, "com.atproto.refresh", now / 1000, REFRESH_TTL_S, serial), "active", 1);
}

static void create_session(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                           struct ck_sim_reply *rep)
{
    json_t *body = json_loads(rq->body, 0, NULL);
    const char *id = json_string_value(json_object_get(body, "identifier"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    if (id == NULL || pw == NULL)
        xrpc_error(rep, 400, "InvalidRequest", "Input must have the property \"identifier\"");
    else if (sim->bsky_sessions >= MAX_SIGN_INS)
        xrpc_error(rep, 429, "RateLimitExceeded", "Rate Limit Exceeded");
    else if (pw[0] == '\0' || strcmp(pw, "wrong-password") == 0)
        xrpc_error(rep, 401, "AuthenticationRequired", "Invalid identifier or password");
    else {
        sim->bsky_sessions++;
        session(sim, now, rep);
    }
    json_decref(body);
}

/* ---- reading ------------------------------------------------------------------- */

/* On the Bluesky side at now (a Mastodon-only post never is). */
static int visible_public(const struct ck_sim_entry *e, int64_t now)
{
    return e->visible_ms <= now && strcmp(e->visibility, "public") == 0 &&
           e->home != CK_SIM_HOME_MASTODON;
}

static int matches(const struct ck_sim *sim, const struct ck_sim_entry *e, const char *tag,
                   const char *q)
{
    if (tag != NULL)
        return strcasecmp(tag, sim->script.hashtag) == 0 && e->has_hashtag;
    if (q == NULL || q[0] == '\0')
        return 0;
    if (q[0] == '#')
        return strcasecmp(q + 1, sim->script.hashtag) == 0 && e->has_hashtag;
    size_t ql = strlen(q);
    for (const char *t = e->text; *t != '\0'; t++)
        if (strncasecmp(t, q, ql) == 0)
            return 1;
    return 0;
}

static int cmp_latest(const void *pa, const void *pb)
{
    const struct ck_sim_entry *a = *(struct ck_sim_entry *const *)pa;
    const struct ck_sim_entry *b = *(struct ck_sim_entry *const *)pb;
    if (a->chat_ms != b->chat_ms)
        return a->chat_ms > b->chat_ms ? -1 : 1;
    return strcmp(b->rkey, a->rkey);
}

static int time_arg(const struct ck_sim_request *rq, const char *name, int64_t *out)
{
    const char *v = rq->arg(rq->arg_ctx, name);
    return v == NULL ? 0 : ck_time_parse_rfc3339(v, out) == 0 ? 1 : -1;
}

static void search(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                   struct ck_sim_reply *rep)
{
    const char *tag = rq->arg(rq->arg_ctx, "tag"), *q = rq->arg(rq->arg_ctx, "q");
    const char *lim = rq->arg(rq->arg_ctx, "limit"), *cur = rq->arg(rq->arg_ctx, "cursor");
    int64_t since = INT64_MIN, until = INT64_MAX;
    if ((q == NULL || q[0] == '\0') && tag == NULL) {
        xrpc_error(rep, 400, "InvalidRequest", "Error: Params must have the property \"q\"");
        return;
    }
    if (time_arg(rq, "since", &since) < 0 || time_arg(rq, "until", &until) < 0) {
        xrpc_error(rep, 400, "InvalidRequest", "since and until must be datetimes");
        return;
    }
    long limit = lim != NULL ? strtol(lim, NULL, 10) : 25;
    long offset = cur != NULL ? strtol(cur, NULL, 10) : 0;
    if (limit < 1 || limit > 100 || offset < 0) {
        xrpc_error(rep, 400, "InvalidRequest", "limit must be 1 to 100, cursor an offset");
        return;
    }
    struct ck_sim_entry **hits = malloc((sim->n_entries + 1) * sizeof *hits);
    if (hits == NULL)
        return;
    size_t n = 0;
    for (size_t i = 0; i < sim->n_entries; i++) {
        struct ck_sim_entry *e = sim->entries[i];
        /* indexed late, like the tag timeline: a post shows once visible */
        if (visible_public(e, now) && matches(sim, e, tag, q) && e->chat_ms >= since &&
            e->chat_ms < until)
            hits[n++] = e;
    }
    qsort(hits, n, sizeof *hits, cmp_latest);
    json_t *posts = json_array();
    for (size_t i = (size_t)offset; i < n && i < (size_t)(offset + limit); i++)
        json_array_append_new(posts, ck_sim_bsky_post_view(sim, hits[i], now));
    rep->status = 200;
    rep->json = json_pack("{s:o}", "posts", posts);
    if (rep->json != NULL && (size_t)(offset + limit) < n)
        json_object_set_new(rep->json, "cursor", json_sprintf("%ld", offset + limit));
    free(hits);
}

/* app.bsky.feed.defs#threadViewPost: e with its parents (up to height) and
 * its visible replies (down to depth). */
static json_t *thread_view(const struct ck_sim *sim, const struct ck_sim_entry *e, int64_t now,
                           long depth, long height, int with_replies)
{
    json_t *t = json_pack("{s:s s:o}", "$type", "app.bsky.feed.defs#threadViewPost", "post",
                          ck_sim_bsky_post_view(sim, e, now));
    if (t == NULL)
        return NULL;
    if (height > 0 && e->parent != NULL && e->parent->visible_ms <= now)
        json_object_set_new(t, "parent", thread_view(sim, e->parent, now, 0, height - 1, 0));
    if (!with_replies)
        return t;
    json_t *replies = json_array();
    for (size_t i = 0; depth > 0 && i < sim->n_entries; i++) {
        const struct ck_sim_entry *r = sim->entries[i];
        if (r->parent == e && visible_public(r, now))
            json_array_append_new(replies, thread_view(sim, r, now, depth - 1, 0, 1));
    }
    json_object_set_new(t, "replies", replies);
    return t;
}

static void post_thread(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                        struct ck_sim_reply *rep)
{
    const char *uri = rq->arg(rq->arg_ctx, "uri");
    const char *d = rq->arg(rq->arg_ctx, "depth"), *h = rq->arg(rq->arg_ctx, "parentHeight");
    struct ck_sim_entry *e = ck_sim_bsky_find_uri(sim, uri);
    if (e == NULL || !visible_public(e, now)) {
        char msg[300];
        snprintf(msg, sizeof msg, "Post not found: %.250s", uri != NULL ? uri : "");
        xrpc_error(rep, 400, "NotFound", msg);
        return;
    }
    long depth = d != NULL ? strtol(d, NULL, 10) : 6, height = h != NULL ? strtol(h, NULL, 10) : 80;
    rep->status = 200;
    rep->json = json_pack("{s:o}", "thread", thread_view(sim, e, now, depth, height, 1));
}

/* ---- writing --------------------------------------------------------------------- */

static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int rkey_ok(const char *k)
{
    size_t n = strlen(k);
    return n >= 1 && n <= 512 && strcmp(k, ".") != 0 && strcmp(k, "..") != 0 &&
           strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:~-") == n;
}

static struct ck_sim_entry *find_rkey(const struct ck_sim *sim, size_t account, const char *rkey)
{
    for (size_t i = 0; i < sim->n_entries; i++)
        if (sim->entries[i]->account == account && strcmp(sim->entries[i]->rkey, rkey) == 0)
            return sim->entries[i];
    return NULL;
}

/* The mention facets a posted record carried, kept as sent: the views show
 * them again (the simulator makes up the tag and link facets itself). */
static void keep_mentions(struct ck_sim_entry *e, const json_t *facets)
{
    size_t i;
    json_t *f;
    json_array_foreach(facets, i, f)
    {
        const char *type = json_string_value(
            json_object_get(json_array_get(json_object_get(f, "features"), 0), "$type"));
        if (type == NULL || strcmp(type, "app.bsky.richtext.facet#mention") != 0)
            continue;
        if (e->bsky_mentions == NULL)
            e->bsky_mentions = json_array();
        json_array_append(e->bsky_mentions, f);
    }
}

static void create_record(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                          struct ck_sim_reply *rep)
{
    json_t *body = json_loads(rq->body, 0, NULL);
    const char *coll = json_string_value(json_object_get(body, "collection"));
    const char *rkey = json_string_value(json_object_get(body, "rkey"));
    const json_t *rec = json_object_get(body, "record");
    const char *text = json_string_value(json_object_get(rec, "text"));
    const char *parent = json_string_value(
        json_object_get(json_object_get(json_object_get(rec, "reply"), "parent"), "uri"));
    struct ck_sim_entry *pe = parent != NULL ? ck_sim_bsky_find_uri(sim, parent) : NULL;
    if (coll == NULL || strcmp(coll, "app.bsky.feed.post") != 0 || text == NULL) {
        xrpc_error(rep, 400, "InvalidRequest",
                   "Invalid app.bsky.feed.post record: Record must have the property \"text\"");
    } else if (rkey != NULL && !rkey_ok(rkey)) {
        xrpc_error(rep, 400, "InvalidRequest", "Invalid record key");
    } else if (rkey != NULL && find_rkey(sim, sim->script.self, rkey) != NULL) {
        /* the reference PDS answers a taken key with a 500 (atproto#3718) */
        sim->bsky_duplicate_rkeys++;
        xrpc_error(rep, 500, "InternalServerError", "Internal Server Error");
    } else if (code_points(text) > 300) {
        xrpc_error(rep, 400, "InvalidRequest",
                   "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 "
                   "graphemes");
    } else if (parent != NULL && pe == NULL) {
        xrpc_error(rep, 400, "InvalidRequest", "Could not find the post replied to");
    } else {
        struct ck_sim_entry *e;
        struct ck_error err = {0};
        if (ck_sim_state_post(sim, text, pe != NULL ? pe->id : NULL, "public", now, &e, &err) !=
            0) {
            xrpc_error(rep, 400, "InvalidRequest", err.msg);
        } else {
            if (rkey != NULL)
                snprintf(e->rkey, sizeof e->rkey, "%s", rkey);
            keep_mentions(e, json_object_get(rec, "facets"));
            if (sim->opts.bluesky_share > 0)
                e->home = CK_SIM_HOME_BLUESKY;
            char uri[160], cid[64], rev[14];
            ck_sim_bsky_uri(sim, e, uri, sizeof uri);
            ck_sim_bsky_cid(e, cid);
            ck_sim_tid(now * 1000, 3, rev);
            rep->status = 200;
            rep->created = 1;
            rep->json = json_pack("{s:s s:s s:{s:s s:s} s:s}", "uri", uri, "cid", cid, "commit",
                                  "cid", cid, "rev", rev, "validationStatus", "valid");
        }
    }
    json_decref(body);
}

static void get_record(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                       struct ck_sim_reply *rep)
{
    const char *repo = rq->arg(rq->arg_ctx, "repo"), *coll = rq->arg(rq->arg_ctx, "collection");
    const char *rkey = rq->arg(rq->arg_ctx, "rkey");
    char uri[300];
    snprintf(uri, sizeof uri, "at://%.80s/%.80s/%.100s", repo != NULL ? repo : "",
             coll != NULL ? coll : "", rkey != NULL ? rkey : "");
    struct ck_sim_entry *e =
        repo != NULL && coll != NULL && rkey != NULL && strcmp(coll, "app.bsky.feed.post") == 0
            ? ck_sim_bsky_find_uri(sim, uri)
            : NULL;
    if (e == NULL || e->visible_ms > now) {
        char msg[340];
        snprintf(msg, sizeof msg, "Could not locate record: %s", uri);
        xrpc_error(rep, 400, "RecordNotFound", msg);
        return;
    }
    char cid[64];
    ck_sim_bsky_cid(e, cid);
    ck_sim_bsky_uri(sim, e, uri, sizeof uri);
    rep->status = 200;
    rep->json =
        json_pack("{s:s s:s s:o}", "uri", uri, "cid", cid, "value", ck_sim_bsky_record(sim, e));
}

/* com.atproto.identity.resolveHandle: the DID of a script account's handle
 * (any case), or the reference PDS's 400 for a handle no account has. */
static void resolve_handle(struct ck_sim *sim, const struct ck_sim_request *rq,
                           struct ck_sim_reply *rep)
{
    const char *h = rq->arg(rq->arg_ctx, "handle");
    if (h == NULL || h[0] == '\0') {
        xrpc_error(rep, 400, "InvalidRequest", "Error: Params must have the property \"handle\"");
        return;
    }
    for (size_t i = 0; i < sim->script.n_accounts; i++) {
        char handle[128], did[40];
        ck_sim_bsky_handle_of(sim, i, handle, sizeof handle);
        if (strcasecmp(handle, h) == 0) {
            ck_sim_bsky_did(sim, i, did);
            rep->status = 200;
            rep->json = json_pack("{s:s}", "did", did);
            return;
        }
    }
    xrpc_error(rep, 400, "InvalidRequest", "Unable to resolve handle");
}

void ck_sim_bsky_handle(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                        struct ck_sim_reply *rep)
{
    const char *m = rq->path + strlen("/xrpc/");
    int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
    int post = strcmp(rq->method, "POST") == 0;
    if (post && strcmp(m, "com.atproto.server.createSession") == 0) {
        create_session(sim, rq, now, rep);
    } else if (post && strcmp(m, "com.atproto.server.refreshSession") == 0) {
        if (authorised(rq, "com.atproto.refresh", now, rep)) {
            sim->bsky_refreshes++;
            session(sim, now, rep);
        }
    } else if (get && strcmp(m, "app.bsky.feed.searchPosts") == 0) {
        if (authorised(rq, "com.atproto.access", now, rep))
            search(sim, rq, now, rep);
    } else if (get && strcmp(m, "app.bsky.feed.getPostThread") == 0) {
        if (authorised(rq, "com.atproto.access", now, rep))
            post_thread(sim, rq, now, rep);
    } else if (post && strcmp(m, "com.atproto.repo.createRecord") == 0) {
        if (authorised(rq, "com.atproto.access", now, rep))
            create_record(sim, rq, now, rep);
    } else if (get && strcmp(m, "com.atproto.identity.resolveHandle") == 0) {
        resolve_handle(sim, rq, rep);
    } else if (get && strcmp(m, "com.atproto.repo.getRecord") == 0) {
        get_record(sim, rq, now, rep);
    } else {
        xrpc_error(rep, 501, "MethodNotImplemented", "Method Not Implemented");
    }
    if (rep->json == NULL)
        xrpc_error(rep, 500, "InternalServerError", "Internal Server Error");
}
