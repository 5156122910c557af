/* Error codes to messages, and the first-error-wins detail record. */
#include "chatkeeper/error.h"

#include <stdio.h>
#include <string.h>

#include <uv.h>

const char *ck_strerror(int code)
{
    if (code == 0)
        return "ok";
    switch (code) {
#define XX(name, value, status, msg)                                                               \
    case CK_##name:                                                                                \
        return msg;
        CK_ERRNO_MAP(XX)
#undef XX
    default:
        break;
    }
    /* libuv knows every errno it passes through; it returns "Unknown system error" otherwise. */
    return uv_strerror(code);
}

int ck_exit_status(int code)
{
    if (code == 0)
        return 0;
    switch (code) {
#define XX(name, value, status, msg)                                                               \
    case CK_##name:                                                                                \
        return status;
        CK_ERRNO_MAP(XX)
#undef XX
    case UV_ENOENT:
    case UV_ENOTDIR:
    case UV_EISDIR:
    case UV_ELOOP:
    case UV_ENAMETOOLONG:
    case UV_EACCES:
        return 2;
    default:
        return 1;
    }
}

int ck_error_vset(struct ck_error *err, int code, const char *fmt, va_list ap)
{
    if (err == NULL || err->code != 0)
        return code;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

int ck_error_set(struct ck_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void ck_error_clear(struct ck_error *err)
{
    if (err == NULL)
        return;
    err->code = 0;
    err->msg[0] = '\0';
}
