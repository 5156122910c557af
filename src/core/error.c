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
#define XX(name, value, msg)                                                                       \
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

int ck_error_vset(struct ck_error *err, int code, const char *fmt, va_list ap)
{
    if (err == NULL || err->code != 0)
        return code;
    err->code = code;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n >= (int)sizeof err->msg)
        ck_utf8_trim_partial(err->msg);
    return code;
}

void ck_utf8_trim_partial(char *s)
{
    size_t n = strlen(s);
    /* Step back over continuation bytes to the last lead byte, and drop that
     * sequence if the bytes after it are fewer than it announces. */
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && back + 1 < want)
        s[i - 1] = '\0';
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
