/* Readable event lines on stderr: "2026-12-03T20:00:01Z info  follower: 40 new statuses".
 * The level threshold comes from CHATKEEPER_LOG (debug, info, warn, error); info by default.
 * Never pass a secret to these functions. */
#ifndef CHATKEEPER_LOG_H
#define CHATKEEPER_LOG_H

#include <stddef.h>

struct ck_sbuf;

enum ck_log_level { CK_LOG_DEBUG, CK_LOG_INFO, CK_LOG_WARN, CK_LOG_ERROR };

void ck_log(enum ck_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ck_debug(...) ck_log(CK_LOG_DEBUG, __VA_ARGS__)
#define ck_info(...) ck_log(CK_LOG_INFO, __VA_ARGS__)
#define ck_warn(...) ck_log(CK_LOG_WARN, __VA_ARGS__)
#define ck_err(...) ck_log(CK_LOG_ERROR, __VA_ARGS__)

/* Append text to out as a log line shows it: printable ASCII and well-formed
 * UTF-8 as they are; a backslash doubled; newline, CR and tab as \n \r \t; other
 * C0 bytes, DEL and bytes that are not UTF-8 as \xNN; C1 controls and the bidi
 * controls (U+061C, U+200E-F, U+202A-E, U+2066-9) as \uNNNN. ck_log applies it
 * to every line, so server strings can neither forge lines nor drive a terminal. */
void ck_log_escape(struct ck_sbuf *out, const char *text, size_t n);

/* A name every line carries while it is set ("... info  [2027-01-14-slug] runner:
 * ..."): `serve` runs many sessions on one loop, so each callback of a session's
 * runner, follower, poster and HTTP client sets its session's directory name and
 * puts back what was there (`run` sets none: its lines are unchanged). The string
 * is borrowed until it is swapped out. Returns the tag it replaces. */
const char *ck_log_tag_swap(const char *tag);

/* CHATKEEPER_LOG_TAG in the environment is the tag a process starts with (serve
 * runs archive builds as child processes of its own binary). */

/* A tag from a path: its last component, cut to n - 1 bytes, every byte but
 * ASCII letters, digits, '-', '.' and '_' made '-' (a tag is not escaped). */
void ck_log_tag_make(char *buf, size_t n, const char *path);

/* Set the threshold explicitly (overrides CHATKEEPER_LOG). */
void ck_log_set_level(enum ck_log_level level);

/* A hook called before and after each line is written, so a live status line
 * on a terminal can be erased and redrawn around it. NULL to remove. */
typedef void (*ck_log_hook_cb)(int after, void *arg);
void ck_log_set_hook(ck_log_hook_cb cb, void *arg);

#endif
