/* Mastodon on the whole platform interface (platform.h): the write side, one
 * status by id, the instance's limit and its rate-limit headers, adapted from
 * mastodon_post.c and mastodon_status.c. Pure, like the rest of the platform. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/mastodon.h"
#include "chatkeeper/platform.h"
#include "mastodon_int.h"

int ck_mastodon_op_post_request(const char *base_url, const char *token, const struct ck_post *p,
                                struct ck_request *out, struct ck_error *err)
{
    return ck_mastodon_post_request(base_url, token, p->text, p->reply_to.id, p->key, out, err);
}

int ck_mastodon_op_parse_post(const struct ck_response *resp, struct ck_posted *out,
                              struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    return ck_mastodon_parse_status(resp, &out->id, &out->url, err);
}

int ck_mastodon_op_parse_exists(const struct ck_response *resp, struct ck_error *err)
{
    if (resp->status >= 200 && resp->status <= 299)
        return 0;
    if (resp->status == 404 || resp->status == 410)
        return ck_error_set(err, CK_ENOTFOUND, "mastodon: status is gone (HTTP %ld)", resp->status);
    return ck_error_set(err, resp->status == 401 || resp->status == 403 ? CK_EAUTH : CK_EHTTP,
                        "mastodon: HTTP %ld", resp->status);
}

/* Characters as Mastodon counts them, near enough: code points. */
size_t ck_mastodon_op_text_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void ck_mastodon_op_ratelimit(struct ck_ratelimit *rl, const struct ck_response *resp,
                              int64_t now_ms)
{
    ck_ratelimit_update(rl, resp, now_ms);
}
