/* Mastodon's adapters to the platform interface (mastodon_ops.c), for the ops
 * table in mastodon.c. Private to src/platforms/. */
#ifndef CHATKEEPER_MASTODON_INT_H
#define CHATKEEPER_MASTODON_INT_H

#include "chatkeeper/platform.h"
#include "fields.h"

int ck_mastodon_op_post_request(const char *base_url, const char *token, const struct ck_post *p,
                                struct ck_request *out, struct ck_error *err);
int ck_mastodon_op_parse_post(const struct ck_response *resp, struct ck_posted *out,
                              struct ck_error *err);
int ck_mastodon_op_parse_exists(const struct ck_response *resp, struct ck_error *err);
size_t ck_mastodon_op_text_len(const char *s);
void ck_mastodon_op_ratelimit(struct ck_ratelimit *rl, const struct ck_response *resp,
                              int64_t now_ms);

/* A Mastodon 4.4 quote (mastodon_quote.c). Fields borrowed from the raw
 * status; id NULL when the post is not an accepted quote. */
struct ck_mastodon_quote {
    const char *id;      /* the quoted status's id */
    const char *url;     /* its url (else uri), or NULL for a ShallowQuote */
    const char *acct;    /* its author's acct, or NULL */
    const char *acc_url; /* its author's profile URL, or NULL */
};
int ck_mastodon__quote(struct ck_fields *c, const json_t *raw, struct ck_mastodon_quote *q);
/* html without its first <p class="quote-inline"> fallback paragraph (new
 * string, NULL when out of memory); *link: that paragraph's link, or NULL. */
char *ck_mastodon__drop_quote_inline(const char *html, char **link);

#endif
