/* Mastodon 4.4 quote posts (issue 14, rule 6): a Status's "quote" is a Quote
 * {"state", "quoted_status": Status|null} or a ShallowQuote {"state",
 * "quoted_status_id"}. Only an accepted quote is shown as one: any other
 * state (pending, revoked, deleted, unauthorized...) leaves the post as its
 * author's server shows it, with its "RE: URL" fallback paragraph. Pure. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mastodon_int.h"

/* ck_fields_str, with the field named by its path ("quote.state"). */
static int str(struct ck_fields *c, const json_t *obj, const char *path, bool required,
               const char **out)
{
    const char *key = strrchr(path, '.') + 1;
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? ck_fields_bad(c, "missing %s", path) : 0;
    if (!json_is_string(v))
        return ck_fields_bad(c, "%s is not a string", path);
    *out = json_string_value(v);
    return 0;
}

int ck_mastodon__quote(struct ck_fields *c, const json_t *raw, struct ck_mastodon_quote *q)
{
    memset(q, 0, sizeof *q);
    const json_t *quote = json_object_get(raw, "quote");
    if (quote == NULL || json_is_null(quote))
        return 0;
    if (!json_is_object(quote))
        return ck_fields_bad(c, "quote is not an object");
    const char *state, *qid;
    if (str(c, quote, "quote.state", false, &state) ||
        str(c, quote, "quote.quoted_status_id", false, &qid))
        return CK_EPARSE;
    const json_t *st = json_object_get(quote, "quoted_status");
    if (st != NULL && !json_is_null(st) && !json_is_object(st))
        return ck_fields_bad(c, "quote.quoted_status is not an object");
    if (json_is_object(st)) {
        const json_t *acc = json_object_get(st, "account");
        if (str(c, st, "quote.quoted_status.id", true, &qid) ||
            str(c, st, "quote.quoted_status.url", false, &q->url) ||
            (q->url == NULL && str(c, st, "quote.quoted_status.uri", false, &q->url)))
            return CK_EPARSE;
        if (json_is_object(acc) &&
            (str(c, acc, "quote.quoted_status.account.acct", false, &q->acct) ||
             str(c, acc, "quote.quoted_status.account.url", false, &q->acc_url)))
            return CK_EPARSE;
    }
    if (state == NULL || strcmp(state, "accepted") != 0 || qid == NULL || qid[0] == '\0') {
        memset(q, 0, sizeof *q);
        return 0;
    }
    q->id = qid;
    return 0;
}

#define QUOTE_INLINE "<p class=\"quote-inline\">"

char *ck_mastodon__drop_quote_inline(const char *html, char **link)
{
    *link = NULL;
    const char *p = strstr(html, QUOTE_INLINE);
    const char *close = p != NULL ? strstr(p, "</p>") : NULL;
    if (close == NULL)
        return strdup(html);
    close += 4;
    /* the link it names: the first href in it, &amp; unescaped */
    const char *h = strstr(p, "href=\"");
    if (h != NULL && h < close) {
        h += 6;
        const char *e = memchr(h, '"', (size_t)(close - h));
        size_t n = e != NULL ? (size_t)(e - h) : 0, k = 0;
        char *u = n > 0 ? malloc(n + 1) : NULL;
        for (size_t i = 0; u != NULL && i < n; i++) {
            u[k++] = h[i];
            if (strncmp(h + i, "&amp;", 5) == 0)
                i += 4;
        }
        if (u != NULL)
            u[k] = '\0';
        *link = u;
    }
    size_t before = (size_t)(p - html), after = strlen(close);
    char *out = malloc(before + after + 1);
    if (out == NULL) {
        free(*link);
        *link = NULL;
        return NULL;
    }
    memcpy(out, html, before);
    memcpy(out + before, close, after + 1);
    return out;
}
