/* Mastodon's adapters to the platform interface (mastodon_ops.c), for the ops
 * table in mastodon.c. Private to src/platforms/. */
#ifndef CHATKEEPER_MASTODON_INT_H
#define CHATKEEPER_MASTODON_INT_H

#include "chatkeeper/platform.h"

int ck_mastodon_op_post_request(const char *base_url, const char *token, const struct ck_post *p,
                                struct ck_request *out, struct ck_error *err);
int ck_mastodon_op_parse_post(const struct ck_response *resp, struct ck_posted *out,
                              struct ck_error *err);
int ck_mastodon_op_parse_exists(const struct ck_response *resp, struct ck_error *err);
size_t ck_mastodon_op_text_len(const char *s);
void ck_mastodon_op_ratelimit(struct ck_ratelimit *rl, const struct ck_response *resp,
                              int64_t now_ms);

#endif
