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
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n >= (int)sizeof err->msg)
        ck_utf8_trim_partial(err->msg);
    /* Messages quote input (jansson's "near '...'" quotes raw bytes of the
     * file): whatever it held, the message a user reads is UTF-8. */
    ck_utf8_scrub(err->msg);
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

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static size_t seq_len(const unsigned char *s)
{
    unsigned lo = 0x80, hi = 0xBF;
    size_t need;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        need = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        lo = s[0] == 0xE0 ? 0xA0 : 0x80;
        hi = s[0] == 0xED ? 0x9F : 0xBF;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        lo = s[0] == 0xF0 ? 0x90 : 0x80;
        hi = s[0] == 0xF4 ? 0x8F : 0xBF;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    /* U+FFFE and U+FFFF: not characters. */
    if (need == 3 && s[0] == 0xEF && s[1] == 0xBF && s[2] >= 0xBE)
        return 0;
    return need;
}

size_t ck_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

void ck_utf8_scrub(char *text)
{
    unsigned char *s = (unsigned char *)text;
    while (*s != '\0') {
        size_t n = seq_len(s);
        if (n == 0)
            *s++ = '?';
        else
            s += n;
    }
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
