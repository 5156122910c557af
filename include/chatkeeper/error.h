/* Error codes and details shared by every module.
 *
 * Functions return 0 or a negative code. Negative errno values from libuv and
 * the C library pass through unchanged; chatkeeper's own codes start at -10000
 * and are generated, with their messages, from the one table below (as libuv's
 * UV_ERRNO_MAP does).
 *
 * Out of memory policy: every allocation failure is propagated as CK_ENOMEM;
 * nothing aborts. */
#ifndef CHATKEEPER_ERROR_H
#define CHATKEEPER_ERROR_H

#include <stdarg.h>

#define CK_ERRNO_MAP(XX)                                                                           \
    XX(ENOMEM, -10000, "out of memory")                                                            \
    XX(EINVAL, -10001, "invalid argument")                                                         \
    XX(ECONFIG, -10002, "bad session file")                                                        \
    XX(EPARSE, -10003, "malformed data")                                                           \
    XX(EHTTP, -10004, "HTTP error status")                                                         \
    XX(ENET, -10005, "network error")                                                              \
    XX(ETIMEDOUT, -10006, "timed out")                                                             \
    XX(ECANCELED, -10007, "canceled")                                                              \
    XX(ETOOBIG, -10008, "too large")                                                               \
    XX(EIO, -10009, "I/O error")                                                                   \
    XX(ECORRUPT, -10010, "corrupt file")                                                           \
    XX(ERATELIMIT, -10011, "rate limited")                                                         \
    XX(ENOTFOUND, -10012, "not found")                                                             \
    XX(ETZ, -10013, "unknown or invalid time zone")                                                \
    XX(EAUTH, -10014, "authentication failed")                                                     \
    XX(EUNSAFE, -10015, "refused as unsafe")                                                       \
    XX(EUSAGE, -10016, "bad command line")                                                         \
    XX(EDEADLINE, -10017, "deadline reached")

enum {
#define XX(name, value, msg) CK_##name = (value),
    CK_ERRNO_MAP(XX)
#undef XX
};

/* Optional, caller-owned detail for an error. The first error set wins, so a
 * low-level message is not overwritten by a vaguer one on the way up. */
struct ck_error {
    int code;
    char msg[256];
};

/* The message for any code: ours, a negative errno, or 0 ("ok"). Never NULL. */
const char *ck_strerror(int code);

/* Record code and a printf-style message in err unless err is NULL or already
 * holds an error. Returns code, so callers can write `return ck_error_set(...)`. */
int ck_error_set(struct ck_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ck_error_vset(struct ck_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Cut a string that was cut short (snprintf into a fixed buffer) back to its
 * last whole UTF-8 character, so a message never ends in half of one. */
void ck_utf8_trim_partial(char *s);

/* Replace, in place, each byte of s that is not part of well-formed UTF-8
 * (and U+FFFE/U+FFFF) with '?'. ck_error_vset applies it to every message. */
void ck_utf8_scrub(char *s);

/* Clear err (err may be NULL). */
void ck_error_clear(struct ck_error *err);

#endif
