/* The announcement: one post on the chat's hashtag that links to the
 * write-up. Its key is derived from the session: Mastodon's Idempotency-Key
 * returns the same status on a retry after a lost answer; on a record-keyed
 * platform (Bluesky) the record is looked up before sending. It is recorded
 * in state.json, so publishing again never announces twice. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/timeutil.h"
#include "publish_internal.h"

/* The public address of the write-up: a WordPress post only once it is
 * published (a draft's link shows nothing to readers), else Micropub's. */
static const char *public_link(const struct ck_pub *p)
{
    const json_t *wp = ck_pub_recorded(p, "wordpress");
    const char *st = json_string_value(json_object_get(wp, "status"));
    if (st != NULL && strcmp(st, "publish") == 0)
        return json_string_value(json_object_get(wp, "link"));
    return json_string_value(json_object_get(ck_pub_recorded(p, "micropub"), "url"));
}

/* Was the post p's key names made already (a record-keyed platform)? Fills
 * *out when it was; 0 with *out empty when it was not. */
static int lookup(const struct ck_pub *p, const struct ck_platform_ops *ops,
                  const struct ck_signin *who, const struct ck_post *post, struct ck_posted *out,
                  struct ck_error *err)
{
    struct ck_request req = {0};
    struct ck_response resp = {0};
    int rc = ops->post_lookup_request(p->s->platform.base_url, who->token, post, &req, err);
    if (rc == 0)
        rc = ck_pub_send(p, &req, &resp, err);
    if (rc == 0) {
        struct ck_error le = {0};
        rc = ops->parse_post_lookup(&resp, post, out, &le);
        if (rc == CK_ENOTFOUND)
            rc = 0;
        else if (rc != 0)
            rc = ck_error_set(err, rc, "announce: cannot tell whether it was posted already: %s",
                              le.msg);
    }
    ck_request_finish(&req);
    ck_response_finish(&resp);
    return rc;
}

int ck_pub_announce(struct ck_pub *p, struct ck_error *err)
{
    const json_t *done = ck_pub_recorded(p, "announce");
    if (done != NULL) {
        fprintf(p->out, "announce: already posted (%s)\n",
                json_string_value(json_object_get(done, "url")));
        return 0;
    }
    const char *link = public_link(p);
    if (link == NULL || link[0] == '\0') {
        fprintf(p->out, "announce: skipped, the write-up has no public address yet (a WordPress "
                        "draft is not announced; publish it, or set status \"publish\")\n");
        return 0;
    }
    char text[1024], key[160];
    snprintf(text, sizeof text, "The write-up of our #%s chat \"%s\" (%s) is on the blog: %s",
             p->s->hashtag, p->s->title, json_string_value(json_object_get(p->data, "date_local")),
             link);
    snprintf(key, sizeof key, "chatkeeper-announce-%s-%" PRId64, p->s->hashtag, p->s->start_ms);
    if (p->dry_run) {
        fprintf(p->out, "announce: would post to %s (Idempotency-Key %s): %s\n",
                p->s->platform.base_url, key, text);
        return 0;
    }
    const struct ck_platform_ops *ops = ck_platform_find(p->s->platform.type);
    if (ops == NULL || ops->post_request == NULL)
        return ck_error_set(err, CK_ECONFIG, "announce: cannot post on platform \"%s\"",
                            p->s->platform.type ? p->s->platform.type : "");
    struct ck_signin who = {0};
    int rc = ck_pub_signin(p, ops, &who, err);
    /* A record-keyed platform gets a key derived from the session too, so a
     * second publish finds the first announcement instead of posting again. */
    char rkey[32];
    struct ck_post post = {
        .text = text, .key = key, .account = who.account, .created_ms = ck_time_now_ms()};
    if (rc == 0 && ops->post_key != NULL) {
        uint32_t h = 2166136261u;
        for (const char *c = key; *c != '\0'; c++)
            h = (h ^ (unsigned char)*c) * 16777619u;
        rc = ops->post_key(p->s->start_ms, h, rkey, sizeof rkey);
        post.key = rkey;
    }
    struct ck_posted done_post = {0};
    if (rc == 0 && ops->once == CK_ONCE_RECORD_KEY)
        rc = lookup(p, ops, &who, &post, &done_post, err);
    struct ck_request req = {0};
    struct ck_response resp = {0};
    if (rc == 0 && done_post.id == NULL) {
        rc = ops->post_request(p->s->platform.base_url, who.token, &post, &req, err);
        if (rc == 0)
            rc = ck_pub_send(p, &req, &resp, err);
        if (rc == 0 && ops->parse_post(&resp, &done_post, NULL) != 0) {
            char why[200];
            ops->error_text(&resp, why, sizeof why);
            rc = ck_error_set(err, resp.status == 401 || resp.status == 403 ? CK_EAUTH : CK_EHTTP,
                              "announce on %s failed with HTTP %ld%s%s%s", p->s->platform.base_url,
                              resp.status, why[0] ? " (" : "", why, why[0] ? ")" : "");
        }
    }
    ck_signin_finish(&who);
    const char *id = done_post.id, *url = done_post.url;
    if (rc == 0) {
        rc = ck_pub_record(p, "announce", json_pack("{s:s s:s}", "id", id, "url", url), err);
        if (rc == 0)
            fprintf(p->out, "announce: posted %s\n", url);
    }
    ck_posted_finish(&done_post);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    return rc;
}
