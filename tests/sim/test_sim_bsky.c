/* The simulator as a Bluesky PDS (issue 11), read and written by chatkeeper's
 * own Bluesky request builders and parsers (src/platforms/bluesky*.c): every
 * request here is built by ck_bluesky_*_request, handed to the simulator's
 * XRPC routes as the HTTP front would, and its answer parsed and normalised
 * by the same code that will read the real service. What one side writes the
 * other must read: the shapes meet here. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatkeeper/bluesky.h"
#include "chatkeeper/message.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/sim.h"
#include "chatkeeper/timeutil.h"
#include "bsky_int.h"

static const char *script_path;

#define BASE "http://127.0.0.1:9"
#define MAX_ARGS 16

/* A ck_request as the simulator's front would hand it over. */
struct call {
    char path[256];
    char names[MAX_ARGS][32], values[MAX_ARGS][512];
    size_t n;
};

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
}

static const char *get_arg(void *ctx, const char *name)
{
    struct call *c = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->values[i];
    return NULL;
}

static const char *header(const struct ck_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
            return r->headers[i] + n + 2;
    return NULL;
}

/* Send req to sim at now; *resp holds the answer as libcurl would. */
static void send_to(struct ck_sim *sim, const struct ck_request *req, int64_t now,
                    struct ck_response *resp)
{
    struct call c = {0};
    assert_true(strncmp(req->url, BASE, strlen(BASE)) == 0);
    const char *p = req->url + strlen(BASE), *q = strchr(p, '?');
    snprintf(c.path, sizeof c.path, "%.*s", (int)(q ? q - p : (long)strlen(p)), p);
    while (q != NULL && c.n < MAX_ARGS) {
        const char *k = q + 1, *eq = strchr(k, '='), *amp = strchr(k, '&');
        assert_non_null(eq);
        decode(k, (size_t)(eq - k), c.names[c.n], sizeof c.names[0]);
        size_t vl = amp ? (size_t)(amp - eq - 1) : strlen(eq + 1);
        decode(eq + 1, vl, c.values[c.n], sizeof c.values[0]);
        c.n++;
        q = amp;
    }
    struct ck_sim_request rq = {
        .method = req->method,
        .path = c.path,
        .authorization = header(req, "Authorization"),
        .content_type = header(req, "Content-Type"),
        .body = req->body != NULL ? req->body : "",
        .arg = get_arg,
        .arg_ctx = &c,
    };
    struct ck_sim_reply rep = {0};
    ck_sim_api_handle(sim, &rq, now, &rep);
    memset(resp, 0, sizeof *resp);
    resp->status = rep.status;
    resp->body = json_dumps(rep.json, JSON_COMPACT);
    assert_non_null(resp->body);
    resp->body_len = strlen(resp->body);
    json_decref(rep.json);
    free(rep.link);
}

struct world {
    struct ck_sim sim;
    int64_t now;
    struct ck_bluesky_session s;
};

static void world_open_share(struct world *w, int64_t now, double share);

static void world_open(struct world *w, int64_t now)
{
    world_open_share(w, now, 0);
}

static void world_open_share(struct world *w, int64_t now, double share)
{
    struct ck_sim_script script;
    struct ck_error err = {0};
    assert_int_equal(ck_sim_script_load(script_path, &script, &err), 0);
    /* started three hours ago at 60x: the whole chat is visible */
    struct ck_sim_opts o = {
        .speed = 60, .seed = 3, .start_ms = now - 3 * 3600000, .bluesky_share = share};
    assert_int_equal(ck_sim_state_init(&w->sim, &o, &script, BASE, &err), 0);
    w->now = now;
    struct ck_request req;
    struct ck_response resp;
    assert_int_equal(ck_bluesky_create_session_request(BASE, "host.bsky.social",
                                                       "abcd-efgh-ijkl-mnop", &req, &err),
                     0);
    send_to(&w->sim, &req, now, &resp);
    ck_request_finish(&req);
    assert_int_equal(resp.status, 200);
    assert_int_equal(ck_bluesky_parse_session(&resp, &w->s, &err), 0);
    ck_response_finish(&resp);
}

static void world_close(struct world *w)
{
    ck_bluesky_session_finish(&w->s);
    ck_sim_state_finish(&w->sim);
}

static void test_session_and_refresh(void **st)
{
    (void)st;
    struct world w;
    int64_t now = ck_time_now_ms();
    world_open(&w, now);
    assert_non_null(strstr(w.s.did, "did:plc:"));
    assert_non_null(strstr(w.s.handle, ".bsky.social"));
    /* the access token's exp is read from the JWT: two hours on */
    assert_true(w.s.access_exp_ms > now + 7000000 && w.s.access_exp_ms <= now + 7200000);
    assert_false(ck_bluesky_session_needs_refresh(&w.s, now, 60000));
    assert_true(ck_bluesky_session_needs_refresh(&w.s, now + 7200000, 60000));
    /* past its exp the access token is refused as the PDS does: ExpiredToken */
    struct ck_request req;
    struct ck_response resp;
    struct ck_error err = {0};
    struct ck_bluesky_search q = {
        .hashtag = "uklibchat", .since_ms = INT64_MIN, .until_ms = INT64_MIN, .limit = 10};
    assert_int_equal(ck_bluesky_search_request(BASE, w.s.access_jwt, &q, &req, &err), 0);
    send_to(&w.sim, &req, now + 7300000, &resp);
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_error_kind(&resp), CK_BLUESKY_ERR_EXPIRED);
    ck_response_finish(&resp);
    /* refreshSession with the refresh token gives a new pair */
    assert_int_equal(ck_bluesky_refresh_session_request(BASE, w.s.refresh_jwt, &req, &err), 0);
    send_to(&w.sim, &req, now + 7300000, &resp);
    ck_request_finish(&req);
    struct ck_bluesky_session s2;
    assert_int_equal(ck_bluesky_parse_session(&resp, &s2, &err), 0);
    ck_response_finish(&resp);
    assert_true(s2.access_exp_ms > now + 7300000);
    assert_int_equal(w.sim.bsky_refreshes, 1);
    /* an access token is no refresh token */
    assert_int_equal(ck_bluesky_refresh_session_request(BASE, s2.access_jwt, &req, &err), 0);
    send_to(&w.sim, &req, now + 7300000, &resp);
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_error_kind(&resp), CK_BLUESKY_ERR_INVALID_TOKEN);
    ck_response_finish(&resp);
    ck_bluesky_session_finish(&s2);
    world_close(&w);
}

/* Every tagged, visible post of the chat, page by page with the cursor, each
 * normalised; as many as the world shows on its Mastodon side. */
static void test_search_pages_and_normalise(void **st)
{
    (void)st;
    struct world w;
    world_open(&w, ck_time_now_ms());
    size_t want = 0;
    for (size_t i = 0; i < w.sim.n_entries; i++)
        want += w.sim.entries[i]->has_hashtag && w.sim.entries[i]->visible_ms <= w.now;
    assert_true(want > 200);
    char *cursor = NULL;
    size_t got = 0, pages = 0, with_facets = 0, replies = 0;
    int64_t last = INT64_MAX;
    do {
        struct ck_bluesky_search q = {.hashtag = "uklibchat",
                                      .tag_filter = true,
                                      .since_ms = w.sim.opts.start_ms - 3600000,
                                      .until_ms = INT64_MIN,
                                      .limit = 100,
                                      .cursor = cursor};
        struct ck_request req;
        struct ck_response resp;
        struct ck_error err = {0};
        assert_int_equal(ck_bluesky_search_request(BASE, w.s.access_jwt, &q, &req, &err), 0);
        send_to(&w.sim, &req, w.now, &resp);
        ck_request_finish(&req);
        struct ck_bluesky_page page;
        assert_int_equal(ck_bluesky_parse_search(&resp, &page, &err), 0);
        assert_int_equal(page.skipped, 0);
        for (size_t i = 0; i < json_array_size(page.posts); i++) {
            struct ck_message m;
            const json_t *pv = json_array_get(page.posts, i);
            if (ck_bluesky_normalise(pv, &m, &err) != 0)
                fail_msg("a simulated post does not normalise: %s", err.msg);
            assert_true(m.created_ms <= last); /* sort=latest */
            last = m.created_ms;
            assert_non_null(m.uri);
            assert_true(strncmp(m.url, "https://bsky.app/profile/", 25) == 0);
            assert_non_null(strstr(m.text, "#uklibchat"));
            with_facets +=
                json_array_size(json_object_get(json_object_get(pv, "record"), "facets")) > 0;
            replies += m.reply_to != NULL;
            ck_message_finish(&m);
            got++;
        }
        free(cursor);
        cursor = page.cursor != NULL ? strdup(page.cursor) : NULL;
        ck_bluesky_page_finish(&page);
        ck_response_finish(&resp);
        pages++;
    } while (cursor != NULL && pages < 20);
    assert_int_equal(got, want);
    assert_true(pages >= 3);
    assert_int_equal(with_facets, got);
    assert_true(replies > 20);
    world_close(&w);
}

/* The thread under a question post: its replies, tagged or not. */
static void test_thread(void **st)
{
    (void)st;
    struct world w;
    world_open(&w, ck_time_now_ms());
    const struct ck_sim_entry *root = NULL;
    size_t want = 0;
    for (size_t i = 0; i < w.sim.n_entries && root == NULL; i++) {
        size_t n = 0;
        for (size_t j = 0; j < w.sim.n_entries; j++)
            n += w.sim.entries[j]->parent == w.sim.entries[i];
        if (n >= 2 && w.sim.entries[i]->parent == NULL) {
            root = w.sim.entries[i];
            want = n;
        }
    }
    assert_non_null(root);
    char uri[160]; /* the post's at:// URI, from a search hit */
    struct ck_request req;
    struct ck_response resp;
    struct ck_error err = {0};
    struct ck_bluesky_search q = {
        .q = root->text, .since_ms = INT64_MIN, .until_ms = INT64_MIN, .limit = 5};
    assert_int_equal(ck_bluesky_search_request(BASE, w.s.access_jwt, &q, &req, &err), 0);
    send_to(&w.sim, &req, w.now, &resp);
    ck_request_finish(&req);
    struct ck_bluesky_page page;
    assert_int_equal(ck_bluesky_parse_search(&resp, &page, &err), 0);
    assert_true(json_array_size(page.posts) >= 1);
    snprintf(uri, sizeof uri, "%s",
             json_string_value(json_object_get(json_array_get(page.posts, 0), "uri")));
    ck_bluesky_page_finish(&page);
    ck_response_finish(&resp);
    assert_int_equal(ck_bluesky_thread_request(BASE, w.s.access_jwt, uri, 10, &req, &err), 0);
    send_to(&w.sim, &req, w.now, &resp);
    ck_request_finish(&req);
    json_t *items = NULL;
    assert_int_equal(ck_bluesky_parse_thread(&resp, &items, &err), 0);
    ck_response_finish(&resp);
    assert_true(json_array_size(items) >= want);
    for (size_t i = 0; i < json_array_size(items); i++) {
        struct ck_message m;
        assert_int_equal(ck_bluesky_normalise(json_array_get(items, i), &m, &err), 0);
        assert_non_null(m.reply_to);
        ck_message_finish(&m);
    }
    json_decref(items);
    world_close(&w);
}

/* createRecord with a record key chosen before sending; the same key again is
 * refused (a 500, as the reference PDS answers); getRecord finds the post,
 * and a key never used is RecordNotFound (safe to send). */
static void test_post_exactly_once_by_rkey(void **st)
{
    (void)st;
    struct world w;
    world_open(&w, ck_time_now_ms());
    char rkey[14], never[14];
    assert_int_equal(ck_bluesky_tid(w.now * 1000, 5, rkey), 0);
    assert_int_equal(ck_bluesky_tid(w.now * 1000 + 1, 5, never), 0);
    struct ck_bluesky_post post = {.repo = w.s.did,
                                   .rkey = rkey,
                                   .text = "Q1 How do you use online networks? #uklibchat "
                                           "https://example.org/q1",
                                   .created_ms = w.now};
    struct ck_request req;
    struct ck_response resp;
    struct ck_error err = {0};
    char *uri = NULL, *cid = NULL;
    assert_int_equal(ck_bluesky_create_record_request(BASE, w.s.access_jwt, &post, &req, &err), 0);
    send_to(&w.sim, &req, w.now, &resp);
    assert_int_equal(ck_bluesky_parse_create_record(&resp, &uri, &cid, &err), 0);
    ck_response_finish(&resp);
    char *rk = NULL;
    assert_int_equal(ck_bluesky_uri_split(uri, NULL, NULL, &rk), 0);
    assert_string_equal(rk, rkey);
    free(rk);
    long before = w.sim.posts_created;
    send_to(&w.sim, &req, w.now + 1000, &resp); /* a blind retry */
    ck_request_finish(&req);
    assert_int_equal(resp.status, 500);
    ck_response_finish(&resp);
    assert_int_equal(w.sim.posts_created, before);
    assert_int_equal(w.sim.bsky_duplicate_rkeys, 1);
    /* what a restart does instead: look the key up */
    struct ck_bluesky_record rec;
    assert_int_equal(ck_bluesky_get_record_request(BASE, w.s.access_jwt, w.s.did, rkey, &req, &err),
                     0);
    send_to(&w.sim, &req, w.now + 2000, &resp);
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_parse_record(&resp, &rec, &err), 0);
    ck_response_finish(&resp);
    assert_string_equal(rec.uri, uri);
    assert_string_equal(rec.cid, cid);
    assert_string_equal(rec.text, post.text);
    ck_bluesky_record_finish(&rec);
    assert_int_equal(
        ck_bluesky_get_record_request(BASE, w.s.access_jwt, w.s.did, never, &req, &err), 0);
    send_to(&w.sim, &req, w.now + 2000, &resp);
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_parse_record(&resp, &rec, &err), CK_ENOTFOUND);
    ck_response_finish(&resp);
    /* a reply to it (root and parent refs) is threaded on both sides of the world */
    char rkey2[14];
    assert_int_equal(ck_bluesky_tid(w.now * 1000 + 7, 5, rkey2), 0);
    struct ck_bluesky_post reply = {.repo = w.s.did,
                                    .rkey = rkey2,
                                    .text = "Q2 And next? #uklibchat",
                                    .created_ms = w.now + 3000,
                                    .root = {uri, cid},
                                    .parent = {uri, cid}};
    assert_int_equal(ck_bluesky_create_record_request(BASE, w.s.access_jwt, &reply, &req, &err), 0);
    send_to(&w.sim, &req, w.now + 3000, &resp);
    ck_request_finish(&req);
    char *uri2 = NULL, *cid2 = NULL;
    assert_int_equal(ck_bluesky_parse_create_record(&resp, &uri2, &cid2, &err), 0);
    ck_response_finish(&resp);
    const struct ck_sim_entry *posted = NULL;
    for (size_t i = 0; i < w.sim.n_entries; i++)
        if (strcmp(w.sim.entries[i]->rkey, rkey2) == 0)
            posted = w.sim.entries[i];
    assert_non_null(posted);
    assert_non_null(posted->parent);
    assert_string_equal(posted->parent->rkey, rkey);
    /* the same post on the Mastodon side: the world is one */
    json_t *status = ck_sim_status_json(&w.sim, posted, w.now + 3000);
    assert_string_equal(json_string_value(json_object_get(status, "in_reply_to_id")),
                        posted->parent->id);
    json_decref(status);
    free(uri);
    free(cid);
    free(uri2);
    free(cid2);
    world_close(&w);
}

/* resolveHandle: an account's handle (any case) is its DID, as the post
 * views show it; a handle no account has is the PDS's 400, which reads as
 * "not found". A post whose mention resolved keeps its mention facet. */
static void test_resolve_handle_and_mention(void **st)
{
    (void)st;
    struct world w;
    world_open(&w, ck_time_now_ms());
    char handle[128], did[40], upper[128];
    ck_sim_bsky_handle_of(&w.sim, 1, handle, sizeof handle);
    ck_sim_bsky_did(&w.sim, 1, did);
    for (size_t i = 0; i <= strlen(handle); i++)
        upper[i] = (char)toupper((unsigned char)handle[i]);
    struct ck_request req;
    struct ck_response resp;
    struct ck_error err = {0};
    char *got = NULL;
    assert_int_equal(ck_bluesky_resolve_handle_request(BASE, NULL, upper, &req, &err), 0);
    assert_null(header(&req, "Authorization"));
    send_to(&w.sim, &req, w.now, &resp);
    ck_request_finish(&req);
    assert_int_equal(ck_bluesky_parse_resolve_handle(&resp, &got, &err), 0);
    ck_response_finish(&resp);
    assert_string_equal(got, did);
    free(got);
    assert_int_equal(
        ck_bluesky_resolve_handle_request(BASE, NULL, "nobody.example.org", &req, &err), 0);
    send_to(&w.sim, &req, w.now, &resp);
    ck_request_finish(&req);
    assert_int_equal(resp.status, 400);
    assert_int_equal(ck_bluesky_parse_resolve_handle(&resp, &got, &err), CK_ENOTFOUND);
    assert_null(got);
    ck_response_finish(&resp);
    /* the post: "Hi @HANDLE ..." with the facet the resolver gives */
    char text[300], rkey[14];
    snprintf(text, sizeof text, "Hi \xc3\xa9 @%s and @nobody.example.org #uklibchat", handle);
    json_t *known = json_pack("{s:s}", handle, did);
    assert_int_equal(ck_bluesky_tid(w.now * 1000, 9, rkey), 0);
    json_t *handles = ck_bluesky_mention_handles(text);
    assert_int_equal(json_array_size(handles), 2);
    assert_string_equal(json_string_value(json_array_get(handles, 0)), handle);
    json_decref(handles);
    const struct ck_platform_ops *ops = ck_platform_find("bluesky");
    struct ck_post post = {
        .text = text, .key = rkey, .account = w.s.did, .created_ms = w.now, .mentions = known};
    assert_int_equal(ops->post_request(BASE, w.s.access_jwt, &post, &req, &err), 0);
    send_to(&w.sim, &req, w.now, &resp);
    ck_request_finish(&req);
    assert_int_equal(resp.status, 200);
    ck_response_finish(&resp);
    json_decref(known);
    const struct ck_sim_entry *e = NULL;
    for (size_t i = 0; i < w.sim.n_entries; i++)
        if (strcmp(w.sim.entries[i]->rkey, rkey) == 0)
            e = w.sim.entries[i];
    assert_non_null(e);
    json_t *rec = ck_sim_bsky_record(&w.sim, e);
    json_t *facets = json_object_get(rec, "facets");
    size_t i, mentions = 0;
    json_t *f;
    json_array_foreach(facets, i, f)
    {
        json_t *feat = json_array_get(json_object_get(f, "features"), 0);
        const char *type = json_string_value(json_object_get(feat, "$type"));
        if (strcmp(type, "app.bsky.richtext.facet#mention") != 0)
            continue;
        mentions++;
        assert_string_equal(json_string_value(json_object_get(feat, "did")), did);
        /* UTF-8 byte offsets: e-acute before it is two bytes, one character */
        json_t *ix = json_object_get(f, "index");
        size_t at = (size_t)(strchr(text, '@') - text);
        assert_int_equal(at, 6);
        assert_int_equal(json_integer_value(json_object_get(ix, "byteStart")), at);
        assert_int_equal(json_integer_value(json_object_get(ix, "byteEnd")),
                         at + 1 + strlen(handle));
    }
    assert_int_equal(mentions, 1);
    json_decref(rec);
    world_close(&w);
}

/* --bluesky-share: the participants split between the platforms, each side
 * shows its own people's posts (the host's on both), none on both otherwise. */
static void test_bluesky_share_splits_the_chat(void **st)
{
    (void)st;
    struct world w;
    world_open_share(&w, ck_time_now_ms(), 0.4);
    size_t bsky = 0, masto = 0, both = 0;
    for (size_t i = 0; i < w.sim.n_entries; i++) {
        const struct ck_sim_entry *e = w.sim.entries[i];
        if (!e->has_hashtag || e->visible_ms > w.now)
            continue;
        bsky += e->home == CK_SIM_HOME_BLUESKY;
        masto += e->home == CK_SIM_HOME_MASTODON;
        both += e->home == CK_SIM_HOME_BOTH;
    }
    assert_true(bsky > 40 && masto > 40);
    size_t got = 0;
    char *cursor = NULL;
    do {
        struct ck_bluesky_search q = {.hashtag = "uklibchat",
                                      .since_ms = INT64_MIN,
                                      .until_ms = INT64_MIN,
                                      .limit = 100,
                                      .cursor = cursor};
        struct ck_request req;
        struct ck_response resp;
        struct ck_error err = {0};
        assert_int_equal(ck_bluesky_search_request(BASE, w.s.access_jwt, &q, &req, &err), 0);
        send_to(&w.sim, &req, w.now, &resp);
        ck_request_finish(&req);
        struct ck_bluesky_page page;
        assert_int_equal(ck_bluesky_parse_search(&resp, &page, &err), 0);
        got += json_array_size(page.posts);
        free(cursor);
        cursor = page.cursor != NULL ? strdup(page.cursor) : NULL;
        ck_bluesky_page_finish(&page);
        ck_response_finish(&resp);
    } while (cursor != NULL);
    assert_int_equal(got, bsky + both);
    /* a Bluesky-only post is not on the Mastodon side */
    for (size_t i = 0; i < w.sim.n_entries; i++) {
        const struct ck_sim_entry *e = w.sim.entries[i];
        if (e->home != CK_SIM_HOME_BLUESKY || e->visible_ms > w.now)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/api/v1/statuses/%s", e->id);
        static struct call none;
        struct ck_sim_request rq = {
            .method = "GET", .path = path, .body = "", .arg = get_arg, .arg_ctx = &none};
        struct ck_sim_reply rep = {0};
        ck_sim_api_handle(&w.sim, &rq, w.now, &rep);
        assert_int_equal(rep.status, 404);
        json_decref(rep.json);
        break;
    }
    world_close(&w);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_sim_bsky SCRIPT\n");
        return 2;
    }
    script_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_and_refresh),
        cmocka_unit_test(test_search_pages_and_normalise),
        cmocka_unit_test(test_thread),
        cmocka_unit_test(test_post_exactly_once_by_rkey),
        cmocka_unit_test(test_resolve_handle_and_mention),
        cmocka_unit_test(test_bluesky_share_splits_the_chat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
