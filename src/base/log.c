/* Event lines on stderr. One thread, so the level and hook are plain statics:
 * they are set once by main() before the loop runs. */
#include "chatkeeper/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/sbuf.h"
#include "chatkeeper/timeutil.h"

static int level = -1;
static const char *tag;

const char *ck_log_tag_swap(const char *t)
{
    const char *was = tag;
    tag = t != NULL && t[0] != '\0' ? t : NULL;
    return was;
}
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

void ck_log_tag_make(char *buf, size_t n, const char *path)
{
    const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
    size_t i = 0;
    for (; n > 0 && i < n - 1 && base[i] != '\0'; i++) {
        unsigned char c = (unsigned char)base[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_';
        buf[i] = ok ? (char)c : '-';
    }
    if (n > 0)
        buf[i] = '\0';
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

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        need = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        if (s[0] == 0xE0)
            lo = 0xA0;
        else if (s[0] == 0xED)
            hi = 0x9F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        if (s[0] == 0xF0)
            lo = 0x90;
        else if (s[0] == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

void ck_log_escape(struct ck_sbuf *out, const char *text, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x7F && s[run] != '\\')
            run++;
        ck_sbuf_put(out, text + i, run - i);
        i = run;
        if (i >= n)
            break;
        unsigned c = s[i];
        if (c == '\\') {
            ck_sbuf_put(out, "\\\\", 2);
            i++;
            continue;
        }
        size_t len = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
        unsigned cp = 0;
        if (len == 2)
            cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
        else if (len == 3)
            cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
        bool c1 = len == 2 && cp < 0xA0;
        bool bidi = len == 3 && ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
                                 cp == 0x200E || cp == 0x200F || cp == 0x061C);
        if (len > 0 && !c1 && !bidi) {
            ck_sbuf_put(out, text + i, len);
            i += len;
        } else if (c1 || bidi) {
            char u[6] = {
                '\\',        'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                hex[cp & 15]};
            ck_sbuf_put(out, u, sizeof u);
            i += len;
        } else {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (named != NULL)
                ck_sbuf_put(out, named, 2);
            else {
                char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
                ck_sbuf_put(out, x, sizeof x);
            }
            i++;
        }
    }
}

void ck_log(enum ck_log_level l, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info ", "warn ", "error"};
    if ((int)l < threshold())
        return;
    static bool tag_env_read;
    if (!tag_env_read) {
        /* A build serve runs in a child process names its session the same way. */
        const char *t = getenv("CHATKEEPER_LOG_TAG");
        if (tag == NULL && t != NULL && t[0] != '\0')
            tag = t;
        tag_env_read = true;
    }
    char ts[32];
    ck_time_format_rfc3339(ck_time_now_ms(), ts);
    /* Format first, then escape: messages carry server and user strings
     * (status text, error bodies, file names), and a newline or a terminal
     * escape in one must not forge a log line or drive the terminal. */
    char small[1024];
    char *line = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big != NULL) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
            line = big;
        } else
            n = (int)sizeof small - 1; /* out of memory: the line, cut */
    }
    struct ck_sbuf esc = {0};
    ck_log_escape(&esc, line, (size_t)n);
    if (hook != NULL)
        hook(0, hook_arg);
    /* The tag is a directory name (lower-case ASCII, digits, dashes): no escaping. */
    fprintf(stderr, "%s %s %s%s%s%s\n", ts, names[l], tag ? "[" : "", tag ? tag : "",
            tag ? "] " : "",
            esc.oom         ? "(a log line was lost: out of memory)"
            : esc.s != NULL ? esc.s
                            : "");
    if (hook != NULL)
        hook(1, hook_arg);
    free(esc.s);
    if (line != small)
        free(line);
}
