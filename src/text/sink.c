/* The sticky-error byte sink every renderer writes through: memory, or a file
 * written atomically (state.h). */
#include "chatkeeper/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/state.h"

/* ---- sink ---- */

void ck_sink_init_mem(struct ck_sink *s)
{
    memset(s, 0, sizeof *s);
}

/* A file sink's buffer: big writes reach the file in big pieces. */
#define FILE_BUF (1u << 16)

int ck_sink_open_file(struct ck_sink *s, const char *path, struct ck_error *err)
{
    memset(s, 0, sizeof *s);
    s->err = err;
    s->buf = malloc(FILE_BUF + 1); /* + 1: ck_sink_put ends what it copies with a NUL */
    if (s->buf == NULL) {
        s->rc = ck_error_set(err, CK_ENOMEM, "out of memory");
        return s->rc;
    }
    s->cap = FILE_BUF;
    s->rc = ck_atomic_open(path, &s->file, err);
    if (s->rc != 0) {
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
    }
    return s->rc;
}

/* Hand a file sink's buffer to the file. */
static void file_flush(struct ck_sink *s)
{
    if (s->rc == 0 && s->len > 0)
        s->rc = ck_atomic_write(s->file, s->buf, s->len, s->err);
    s->len = 0;
}

void ck_sink__put_slow(struct ck_sink *s, const char *data, size_t len)
{
    if (s->rc != 0 || len == 0)
        return;
    if (s->file != NULL) {
        file_flush(s);
        if (s->rc != 0)
            return;
        if (len >= s->cap) {
            s->rc = ck_atomic_write(s->file, data, len, s->err);
            return;
        }
        memcpy(s->buf, data, len);
        s->len = len;
        return;
    }
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + len + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (nb == NULL) {
            s->rc = ck_error_set(s->err, CK_ENOMEM, "out of memory");
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->buf[s->len] = '\0';
}

void ck_sink_printf(struct ck_sink *s, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (s->rc == 0)
            s->rc = ck_error_set(s->err, CK_EINVAL, "bad format");
        return;
    }
    if ((size_t)n < sizeof small) {
        ck_sink_put(s, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        if (s->rc == 0)
            s->rc = ck_error_set(s->err, CK_ENOMEM, "out of memory");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ck_sink_put(s, big, (size_t)n);
    free(big);
}

int ck_sink_finish(struct ck_sink *s)
{
    if (s->file != NULL)
        file_flush(s);
    int rc = s->rc;
    if (s->file != NULL) {
        if (rc == 0)
            rc = ck_atomic_commit(s->file, s->err);
        else
            ck_atomic_abort(s->file);
        s->file = NULL;
        free(s->buf);
        s->buf = NULL;
        s->len = s->cap = 0;
    } else if (rc != 0) {
        free(s->buf);
        s->buf = NULL;
        s->len = s->cap = 0;
    } else if (s->buf == NULL) {
        /* An empty memory sink still hands back a string. */
        s->buf = calloc(1, 1);
        if (s->buf == NULL)
            rc = CK_ENOMEM;
    }
    s->rc = rc;
    return rc;
}

void ck_sink_abort(struct ck_sink *s)
{
    if (s->file != NULL)
        ck_atomic_abort(s->file);
    s->file = NULL;
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = 0;
}
