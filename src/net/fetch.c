/* One request, waited for: for commands that ask a single question of a server
 * (check's instance limits, publish's look-ups) and have no loop of their own.
 * It runs a private loop to completion, so the loop rules still hold. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/http.h"

struct fetch {
    int status;
    struct ck_response *out;
    char errmsg[256];
};

static int copy_response(struct ck_response *dst, const struct ck_response *src)
{
    memset(dst, 0, sizeof *dst);
    dst->status = src->status;
    dst->elapsed_ms = src->elapsed_ms;
    dst->body = malloc(src->body_len + 1);
    dst->headers = calloc(src->n_headers ? src->n_headers : 1, sizeof *dst->headers);
    if (dst->body == NULL || dst->headers == NULL)
        return CK_ENOMEM;
    if (src->body_len)
        memcpy(dst->body, src->body, src->body_len);
    dst->body[src->body_len] = '\0';
    dst->body_len = src->body_len;
    for (size_t i = 0; i < src->n_headers; i++) {
        dst->headers[i].name = strdup(src->headers[i].name);
        dst->headers[i].value = strdup(src->headers[i].value);
        dst->n_headers = i + 1;
        if (dst->headers[i].name == NULL || dst->headers[i].value == NULL)
            return CK_ENOMEM;
    }
    return 0;
}

static void on_done(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct fetch *f = arg;
    f->status = status;
    if (errmsg != NULL)
        snprintf(f->errmsg, sizeof f->errmsg, "%s", errmsg);
    if (status == 0)
        f->status = copy_response(f->out, resp);
}

int ck_http_fetch(const struct ck_request *req, const struct ck_http_opts *opts,
                  struct ck_response *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc < 0)
        return ck_error_set(err, rc, "%s", uv_strerror(rc));
    struct ck_http *h = NULL;
    struct fetch f = {.status = CK_ECANCELED, .out = out};
    rc = ck_http_create(&loop, opts, &h, err);
    if (rc == 0) {
        rc = ck_http_send(h, req, on_done, &f, err);
        if (rc == 0) {
            uv_run(&loop, UV_RUN_DEFAULT);
            rc = f.status;
            if (rc < 0)
                ck_error_set(err, rc, "%s: %s%s%s", req->url, ck_strerror(rc),
                             f.errmsg[0] ? ": " : "", f.errmsg);
        }
        ck_http_close(h, NULL, NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0 && rc == 0)
        rc = ck_error_set(err, CK_EIO, "a loop handle was left open");
    if (rc < 0)
        ck_response_finish(out);
    return rc;
}
