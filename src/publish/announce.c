/* The announcement: one post on the chat's hashtag that links to the
 * write-up. It is sent with an Idempotency-Key derived from the session, so
 * a retry after a lost answer returns the same status, and recorded in
 * state.json, so publishing again never announces twice. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/mastodon.h"
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
    char *token = NULL;
    struct ck_request req = {0};
    struct ck_response resp = {0};
    int rc = ck_session_token(p->s, &token, err);
    if (rc == 0)
        rc = ck_mastodon_post_request(p->s->platform.base_url, token, text, NULL, key, &req, err);
    ck_pub_secret_free(token);
    if (rc == 0)
        rc = ck_pub_send(p, &req, &resp, err);
    char *id = NULL, *url = NULL;
    if (rc == 0 && ck_mastodon_parse_status(&resp, &id, &url, NULL) != 0) {
        char why[200];
        ck_mastodon_error_text(&resp, why, sizeof why);
        rc = ck_error_set(err, resp.status == 401 || resp.status == 403 ? CK_EAUTH : CK_EHTTP,
                          "announce on %s failed with HTTP %ld%s%s%s", p->s->platform.base_url,
                          resp.status, why[0] ? " (" : "", why, why[0] ? ")" : "");
    }
    if (rc == 0) {
        rc = ck_pub_record(p, "announce", json_pack("{s:s s:s}", "id", id, "url", url), err);
        if (rc == 0)
            fprintf(p->out, "announce: posted %s\n", url);
    }
    free(id);
    free(url);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    return rc;
}
