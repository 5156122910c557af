/* Readable event lines on stderr: "2026-12-03T20:00:01Z info  follower: 40 new statuses".
 * The level threshold comes from CHATKEEPER_LOG (debug, info, warn, error); info by default.
 * Never pass a secret to these functions. */
#ifndef CHATKEEPER_LOG_H
#define CHATKEEPER_LOG_H

enum ck_log_level { CK_LOG_DEBUG, CK_LOG_INFO, CK_LOG_WARN, CK_LOG_ERROR };

void ck_log(enum ck_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ck_debug(...) ck_log(CK_LOG_DEBUG, __VA_ARGS__)
#define ck_info(...) ck_log(CK_LOG_INFO, __VA_ARGS__)
#define ck_warn(...) ck_log(CK_LOG_WARN, __VA_ARGS__)
#define ck_err(...) ck_log(CK_LOG_ERROR, __VA_ARGS__)

/* Set the threshold explicitly (overrides CHATKEEPER_LOG). */
void ck_log_set_level(enum ck_log_level level);

/* A hook called before and after each line is written, so a live status line
 * on a terminal can be erased and redrawn around it. NULL to remove. */
typedef void (*ck_log_hook_cb)(int after, void *arg);
void ck_log_set_hook(ck_log_hook_cb cb, void *arg);

#endif
