/* systemd's service notifications (sd_notify(3)): "READY=1", "STATUS=...",
 * "STOPPING=1", "WATCHDOG=1", sent to $NOTIFY_SOCKET when systemd set it
 * (Type=notify), and nothing otherwise. Never pass a secret: systemctl
 * status shows STATUS= to anyone. */
#ifndef CHATKEEPER_SDNOTIFY_H
#define CHATKEEPER_SDNOTIFY_H

#include <stdint.h>

/* Send one notification (lines "KEY=value" joined by '\n'). Returns 1 when
 * sent, 0 when NOTIFY_SOCKET is unset, or a negative errno (not fatal: the
 * service runs on, systemd then times out the start). */
int ck_sd_notify(const char *msg);

/* printf-style ck_sd_notify: the formatted text is cut at 1 KB. */
int ck_sd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd asked for (WatchdogSec=, as WATCHDOG_USEC,
 * for this process when WATCHDOG_PID is set), in ms; 0 when none. */
int64_t ck_sd_watchdog_ms(void);

#endif
