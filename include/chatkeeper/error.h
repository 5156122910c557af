/* Error codes and details shared by every module.
 *
 * Functions return 0 or a negative code. Negative errno values from libuv and
 * the C library pass through unchanged; chatkeeper's own codes start at -10000
 * and are generated, with their messages, from the one table below (as libuv's
 * UV_ERRNO_MAP does).
 *
 * The third column is the process exit status a command ends with when that
 * code stops it (ck_exit_status): 2 for bad input, something the person must
 * fix before running the same command again (a session file, overrides.json,
 * a template, a path, a credentials source, a command line); 1 for a failure
 * at run time (network, a server's answer, I/O, memory). Every command uses
 * this one map, so the same problem exits the same way everywhere.
 *
 * Out of memory policy: every allocation failure is propagated as CK_ENOMEM;
 * nothing aborts. */
#ifndef CHATKEEPER_ERROR_H
#define CHATKEEPER_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* XX(name, value, exit status, message) */
#define CK_ERRNO_MAP(XX)                                                                           \
    XX(ENOMEM, -10000, 1, "out of memory")                                                         \
    XX(EINVAL, -10001, 1, "invalid argument")                                                      \
    XX(ECONFIG, -10002, 2, "bad session file")                                                     \
    XX(EPARSE, -10003, 2, "malformed data")                                                        \
    XX(EHTTP, -10004, 1, "HTTP error status")                                                      \
    XX(ENET, -10005, 1, "network error")                                                           \
    XX(ETIMEDOUT, -10006, 1, "timed out")                                                          \
    XX(ECANCELED, -10007, 1, "canceled")                                                           \
    XX(ETOOBIG, -10008, 1, "too large")                                                            \
    XX(EIO, -10009, 1, "I/O error")                                                                \
    XX(ECORRUPT, -10010, 2, "corrupt file")                                                        \
    XX(ERATELIMIT, -10011, 1, "rate limited")                                                      \
    XX(ENOTFOUND, -10012, 2, "not found")                                                          \
    XX(ETZ, -10013, 2, "unknown or invalid time zone")                                             \
    XX(EAUTH, -10014, 1, "authentication failed")                                                  \
    XX(EUNSAFE, -10015, 2, "refused as unsafe")                                                    \
    XX(EUSAGE, -10016, 2, "bad command line")                                                      \
    XX(EDEADLINE, -10017, 1, "deadline reached")

enum {
#define XX(name, value, status, msg) CK_##name = (value),
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

/* cp (at most 0x10FFFF; the caller decides which code points it accepts) as
 * UTF-8 in out; returns its length, 1 to 4. */
size_t ck_utf8_encode(uint32_t cp, char out[4]);

/* Replace, in place, each byte of s that is not part of well-formed UTF-8
 * (and U+FFFE/U+FFFF) with '?'. ck_error_vset applies it to every message. */
void ck_utf8_scrub(char *s);

/* The exit status for a command stopped by code: 0 for 0; the table's
 * column for our codes; for errno values, 2 when a path the person gave is
 * wrong (ENOENT, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG, EACCES), else 1. */
int ck_exit_status(int code);

/* Clear err (err may be NULL). */
void ck_error_clear(struct ck_error *err);

#endif
