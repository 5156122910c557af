/* sd_notify(3) without libsystemd (sdnotify.h). The protocol is one datagram
 * of "KEY=value" lines on an AF_UNIX socket named by $NOTIFY_SOCKET (a path,
 * or an abstract name when it starts with '@'). That is a dozen lines, so it
 * is written here rather than linking libsystemd: one more shared library
 * (and its own dependencies) in a hardened service and in every test build,
 * for a sendto(). No fd passing, no barriers: serve needs neither. */
#include "chatkeeper/sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ck_sd_notify(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || path[0] == '\0')
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path)
        return -EINVAL;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract: the length, not a NUL, ends the name */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* MSG_DONTWAIT: a stuck manager must not block the loop that posts. */
    ssize_t sent = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
                          (const struct sockaddr *)&sa, len);
    int rc = sent < 0 ? -errno : 1;
    close(fd);
    return rc;
}

int ck_sd_notifyf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ck_sd_notify(buf);
}

int64_t ck_sd_watchdog_ms(void)
{
    const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (us == NULL)
        return 0;
    /* Set for another process (a parent that did not unset it): not ours. */
    if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end;
    long long v = strtoll(us, &end, 10);
    return end == us || *end != '\0' || v <= 0 ? 0 : (int64_t)(v / 1000);
}
