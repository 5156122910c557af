/* What every target (wordpress.c, micropub.c, announce.c) uses to send a
 * request and to record what it published in state.json the moment it
 * exists. A leaf below the targets, so publish.c -> targets -> here runs one
 * way (issue 12). */
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "publish_internal.h"

int ck_pub_send(const struct ck_pub *p, const struct ck_request *req, struct ck_response *resp,
                struct ck_error *err)
{
    struct ck_http_opts o = {.total_timeout_ms = p->opts ? p->opts->timeout_ms : 0};
    return ck_http_fetch(req, &o, resp, err);
}

json_t *ck_pub_recorded(const struct ck_pub *p, const char *target)
{
    json_t *v = json_object_get(json_object_get(p->state, "published"), target);
    return json_is_object(v) ? v : NULL;
}

int ck_pub_record(struct ck_pub *p, const char *target, json_t *rec, struct ck_error *err)
{
    if (rec == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    json_t *pub = json_object_get(p->state, "published");
    if (!json_is_object(pub)) {
        pub = json_object();
        if (pub == NULL || json_object_set_new(p->state, "published", pub) != 0) {
            json_decref(rec);
            return ck_error_set(err, CK_ENOMEM, "out of memory");
        }
    }
    if (json_object_set_new(pub, target, rec) != 0)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    int rc = ck_state_save(p->state_path, p->state, err);
    if (rc != 0)
        /* The post exists but we could not note it: say so loudly, the next
         * run must not be trusted to find it (WordPress will, by slug). */
        ck_err("publish: %s was published but state.json could not be written", target);
    return rc;
}

int ck_pub_signin(const struct ck_pub *p, const struct ck_platform_ops *ops, struct ck_signin *out,
                  struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    char *secret = NULL;
    int rc = ck_session_token(p->s, &secret, err);
    if (rc != 0 || ops->signin_request == NULL) {
        out->token = secret; /* the static token (or NULL on failure) */
        return rc;
    }
    struct ck_request req = {0};
    struct ck_response resp = {0};
    rc = ops->signin_request(p->s->platform.base_url, p->s->platform.handle, secret, &req, err);
    ck_pub_secret_free(secret);
    if (rc == 0)
        rc = ck_pub_send(p, &req, &resp, err);
    if (rc == 0)
        rc = ops->parse_signin(&resp, out, err);
    /* The request's body held the password: wipe it before it is freed. */
    if (req.body != NULL)
        memset(req.body, 0, req.body_len);
    ck_request_finish(&req);
    ck_response_finish(&resp);
    return rc;
}
