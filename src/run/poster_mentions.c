/* Mentions resolved before a step is sent (platforms with resolve_request:
 * Bluesky links a mention by the account's DID, so "@name.bsky.social" in a
 * step's text is asked for once per run with com.atproto.identity.resolveHandle
 * and the post carries a mention facet). A handle that resolves to no account
 * stays plain text, said once; a fault leaves it plain text in this post only
 * (the step goes on time) and the next step that names it asks again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "poster_int.h"

static void resolve_next(struct ck_poster *p);

static void on_resolved(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_poster *p = ck_pst_take(arg);
    if (p == NULL)
        return;
    const char *handle = p->resolving;
    if (status == CK_ECANCELED) {
        ck_pst_transfer_ended(p, status, errmsg); /* the client is going away */
        return;
    }
    char *id = NULL;
    struct ck_error err = {0};
    int rc = status < 0 ? status : p->conf.ops->parse_resolve(resp, &id, &err);
    if (status == 0)
        ck_pst_rate_update(p, resp);
    if (rc == 0) {
        ck_debug("poster: @%s is %s", handle, id);
        json_object_set_new(p->mentions, handle, json_string(id));
    } else if (rc == CK_ENOTFOUND) {
        ck_warn("poster: @%s is no %s account; it stays plain text", handle, p->conf.ops->name);
        json_object_set_new(p->mentions, handle, json_null());
    } else {
        ck_warn("poster: cannot look up @%s (%s); plain text in %s", handle,
                status < 0 ? (errmsg != NULL && *errmsg ? errmsg : ck_strerror(status)) : err.msg,
                p->cur->label);
        json_object_set_new(p->mention_faults, handle, json_true());
    }
    free(id);
    resolve_next(p);
}

/* The next handle of the step's text neither known nor failed in this step,
 * or NULL. Borrowed from handles. */
static const char *next_handle(struct ck_poster *p, const json_t *handles)
{
    size_t i;
    json_t *v;
    json_array_foreach(handles, i, v)
    {
        const char *h = json_string_value(v);
        if (h != NULL && json_object_get(p->mentions, h) == NULL &&
            json_object_get(p->mention_faults, h) == NULL)
            return h;
    }
    return NULL;
}

static void resolve_next(struct ck_poster *p)
{
    if (p->closing || p->cur == NULL)
        return;
    char *text = ck_poster_text(p->conf.session, p->cur->e);
    json_t *handles = text != NULL ? p->conf.ops->mention_handles(text) : NULL;
    free(text);
    const char *h = next_handle(p, handles);
    if (h == NULL) {
        json_decref(handles);
        json_object_clear(p->mention_faults);
        p->resolve_done(p);
        return;
    }
    snprintf(p->resolving, sizeof p->resolving, "%s", h);
    json_decref(handles);
    struct ck_request req;
    struct ck_error err = {0};
    /* resolveHandle is public: no token goes with it. */
    int rc = p->conf.ops->resolve_request(p->conf.base_url, NULL, p->resolving, &req, &err);
    struct transfer *t = rc == 0 ? malloc(sizeof *t) : NULL;
    if (rc == 0 && t == NULL) {
        ck_request_finish(&req);
        rc = CK_ENOMEM;
    }
    if (rc == 0) {
        t->p = p;
        rc = ck_http_send(p->http, &req, on_resolved, t, &err);
        ck_request_finish(&req);
        if (rc < 0)
            free(t);
        else
            p->inflight = t;
    }
    if (rc < 0) {
        ck_warn("poster: cannot look up @%s (%s); plain text in %s", p->resolving,
                err.msg[0] ? err.msg : ck_strerror(rc), p->cur->label);
        json_object_set_new(p->mention_faults, p->resolving, json_true());
        resolve_next(p);
    }
}

void ck_pst_resolve_then(struct ck_poster *p, void (*then)(struct ck_poster *p))
{
    if (p->conf.ops->mention_handles == NULL || p->conf.ops->resolve_request == NULL ||
        p->conf.ops->parse_resolve == NULL) {
        then(p);
        return;
    }
    if (p->mentions == NULL)
        p->mentions = json_object();
    if (p->mention_faults == NULL)
        p->mention_faults = json_object();
    if (p->mentions == NULL || p->mention_faults == NULL) {
        then(p); /* out of memory: the mentions stay plain text */
        return;
    }
    p->resolve_done = then;
    ck_pst_phase(p->cur, PH_SENDING);
    resolve_next(p);
}
