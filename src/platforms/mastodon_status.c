/* One status looked up by id (GET /api/v1/statuses/:id): publish uses it to
 * check that a post quoted in the write-up still exists. Pure: the request is
 * data, sending it is net/http's job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/mastodon.h"
#include "chatkeeper/sbuf.h"

/* Ids are opaque, but this one becomes a path segment: letters, digits and
 * a few marks (numeric ids, ULIDs) only, so it can never walk the path. */
static int id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n < 128 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

int ck_mastodon_status_request(const char *base_url, const char *token, const char *id,
                               struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || base_url[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "mastodon: base URL is required");
    if (!id_ok(id))
        return ck_error_set(err, CK_EINVAL, "mastodon: status id \"%.64s\" is not a plain id",
                            id ? id : "");
    struct ck_sbuf b = {0};
    ck_sbuf_url(&b, base_url, "/api/v1/statuses/");
    ck_sbuf_str(&b, id);
    /* An empty token is none: no "Authorization: Bearer " is sent. */
    return ck_mastodon_get_request(&b, token != NULL && token[0] != '\0' ? token : NULL,
                                   "application/json", out, err);
}
