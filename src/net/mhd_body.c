/* A capped request body across libmicrohttpd's handler calls (mhd_body.h). */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/mhd_body.h"

int ck_mhd_body_feed(struct ck_mhd_body *b, const char *upload, size_t *upload_size, size_t cap)
{
    if (*upload_size == 0)
        return 0;
    size_t n = *upload_size;
    *upload_size = 0;
    /* Once too big, always too big: the rest is read and dropped. */
    if (b->too_big || n > cap || b->len > cap - n) {
        b->too_big = 1;
        return 1;
    }
    char *nb = realloc(b->body, b->len + n + 1);
    if (nb == NULL)
        return -1;
    memcpy(nb + b->len, upload, n);
    b->body = nb;
    b->len += n;
    b->body[b->len] = '\0';
    return 1;
}

void ck_mhd_body_free(struct ck_mhd_body *b)
{
    free(b->body);
    b->body = NULL;
    b->len = 0;
    b->too_big = 0;
}

int ck_mhd_body_take(void **con_cls, const char *upload, size_t *upload_size, size_t cap,
                     const struct ck_mhd_body **out)
{
    struct ck_mhd_body *b = *con_cls;
    if (b == NULL) { /* the headers: the body, if any, comes in the next calls */
        b = calloc(1, sizeof *b);
        if (b == NULL)
            return -1;
        *con_cls = b;
        return 1;
    }
    int more = ck_mhd_body_feed(b, upload, upload_size, cap);
    if (more == 0)
        *out = b;
    return more;
}

void ck_mhd_body_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)mc;
    (void)toe;
    struct ck_mhd_body *b = *con_cls;
    if (b != NULL) {
        ck_mhd_body_free(b);
        free(b);
        *con_cls = NULL;
    }
}
