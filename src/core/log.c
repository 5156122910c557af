/* Event lines on stderr. One thread, so the level and hook are plain statics:
 * they are set once by main() before the loop runs. */
#include "chatkeeper/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"

static int level = -1;
static ck_log_hook_cb hook;
static void *hook_arg;

static int threshold(void)
{
    if (level < 0) {
        const char *e = getenv("CHATKEEPER_LOG");
        level = CK_LOG_INFO;
        if (e != NULL) {
            if (strcmp(e, "debug") == 0)
                level = CK_LOG_DEBUG;
            else if (strcmp(e, "warn") == 0)
                level = CK_LOG_WARN;
            else if (strcmp(e, "error") == 0)
                level = CK_LOG_ERROR;
        }
    }
    return level;
}

void ck_log_set_level(enum ck_log_level l)
{
    level = (int)l;
}

void ck_log_set_hook(ck_log_hook_cb cb, void *arg)
{
    hook = cb;
    hook_arg = arg;
}

void ck_log(enum ck_log_level l, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info ", "warn ", "error"};
    if ((int)l < threshold())
        return;
    char ts[32];
    ck_time_format_rfc3339(ck_time_now_ms(), ts);
    if (hook != NULL)
        hook(0, hook_arg);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s %s ", ts, names[l]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (hook != NULL)
        hook(1, hook_arg);
}
