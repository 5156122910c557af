/* The text/event-stream parser (see sse.h). Pure and incremental: all state
 * between chunks lives in struct ck_sse_parser, so a chunk boundary anywhere
 * gives the same events as the whole stream at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/sse.h"

#define DEFAULT_MAX_EVENT ((size_t)1 << 20)

void ck_sse_parser_init(struct ck_sse_parser *p, size_t max_event)
{
    memset(p, 0, sizeof *p);
    p->max_event = max_event ? max_event : DEFAULT_MAX_EVENT;
}

void ck_sse_parser_finish(struct ck_sse_parser *p)
{
    free(p->line.s);
    free(p->data.s);
    memset(p, 0, sizeof *p);
}

static void reset_event(struct ck_sse_parser *p)
{
    p->data.len = 0;
    if (p->data.s != NULL)
        p->data.s[0] = '\0';
    p->event[0] = '\0';
    p->has_data = 0;
}

/* A blank line: dispatch the event if it has data (the spec drops the rest). */
static int dispatch(struct ck_sse_parser *p, ck_sse_event_cb cb, void *arg)
{
    if (!p->has_data) {
        reset_event(p);
        return 0;
    }
    size_t n = p->data.len;
    if (n > 0 && p->data.s[n - 1] == '\n')
        p->data.s[--n] = '\0';
    struct ck_sse_event ev = {
        .event = p->event[0] != '\0' ? p->event : "message",
        .data = p->data.s != NULL ? p->data.s : "",
        .data_len = n,
    };
    p->events++;
    int rc = cb(&ev, arg);
    reset_event(p);
    return rc;
}

/* One complete line (without its end), NUL-terminated in p->line. */
static int process_line(struct ck_sse_parser *p, ck_sse_event_cb cb, void *arg)
{
    const char *l = p->line.s != NULL ? p->line.s : "";
    size_t n = p->line.len;
    if (n == 0)
        return dispatch(p, cb, arg);
    if (l[0] == ':') {
        p->comments++;
        return 0;
    }
    const char *colon = memchr(l, ':', n);
    size_t name_len = colon != NULL ? (size_t)(colon - l) : n;
    const char *v = colon != NULL ? colon + 1 : l + n;
    if (v < l + n && *v == ' ')
        v++;
    size_t vlen = (size_t)(l + n - v);
    if (name_len == 4 && memcmp(l, "data", 4) == 0) {
        if (p->data.len + vlen + 1 > p->max_event)
            return CK_ETOOBIG;
        ck_sbuf_put(&p->data, v, vlen);
        ck_sbuf_put(&p->data, "\n", 1);
        if (p->data.oom)
            return CK_ENOMEM;
        p->has_data = 1;
    } else if (name_len == 5 && memcmp(l, "event", 5) == 0) {
        /* Names we act on are short; a longer one is cut and so matches none. */
        snprintf(p->event, sizeof p->event, "%.*s", (int)vlen, v);
    }
    /* id, retry and unknown fields: nothing we need (the REST check finds
     * what a reconnect missed, so Last-Event-ID is not used). */
    return 0;
}

int ck_sse_feed(struct ck_sse_parser *p, const char *buf, size_t len, ck_sse_event_cb cb, void *arg)
{
    size_t i = 0;
    while (i < len) {
        if (p->after_cr) {
            p->after_cr = 0;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        /* The run of bytes up to the next line end goes into the line at once. */
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j > i) {
            if (p->line.len + (j - i) > p->max_event)
                return CK_ETOOBIG;
            ck_sbuf_put(&p->line, buf + i, j - i);
            if (p->line.oom)
                return CK_ENOMEM;
        }
        if (j == len)
            break;
        p->after_cr = buf[j] == '\r';
        i = j + 1;
        int rc = process_line(p, cb, arg);
        p->line.len = 0;
        if (p->line.s != NULL)
            p->line.s[0] = '\0';
        if (rc != 0)
            return rc;
    }
    return 0;
}
