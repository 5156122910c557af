/* Controls carried out on the loop's thread (handoff.h). */
#include "chatkeeper/handoff.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatkeeper/error.h"

static void on_async(uv_async_t *a)
{
    struct ck_handoff *h = a->data;
    pthread_mutex_lock(&h->mu);
    int waiting = !h->done && h->body != NULL;
    size_t len = h->len;
    /* A copy: the waiting thread may give up, and its body go, before take ends. */
    char *body = waiting ? malloc(len + 1) : NULL;
    if (body != NULL) {
        memcpy(body, h->body, len);
        body[len] = '\0';
    }
    pthread_mutex_unlock(&h->mu);
    if (!waiting)
        return;       /* a late wake-up: nothing waits */
    int status = 500; /* out of memory: no copy, no answer of take's */
    char *text = NULL;
    if (body != NULL)
        h->take(h->arg, body, len, &status, &text);
    free(body);
    pthread_mutex_lock(&h->mu);
    if (h->done) { /* the page gave up waiting */
        free(text);
    } else {
        h->reply = text; /* NULL: the console's own answer */
        h->status = status;
        h->done = 1;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
}

int ck_handoff_init(struct ck_handoff *h, uv_loop_t *loop, int wait_ms, ck_console_handler take,
                    void *arg)
{
    memset(h, 0, sizeof *h);
    h->take = take;
    h->arg = arg;
    h->wait_ms = wait_ms;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (uv_async_init(loop, &h->async, on_async) != 0) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        return CK_EIO;
    }
    h->async.data = h;
    return 0;
}
void ck_handoff_handler(void *arg, const char *body, size_t len, int *status, char **reply)
{
    struct ck_handoff *h = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += h->wait_ms / 1000;
    until.tv_nsec += (long)(h->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->mu);
    h->body = body;
    h->len = len;
    h->done = 0;
    h->reply = NULL;
    if (!h->stopped)
        uv_async_send(&h->async);
    int w = 0;
    while (!h->done && !h->stopped && w == 0)
        w = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    *status = h->done ? h->status : 503;
    *reply = h->done ? h->reply : NULL; /* NULL: the console's own fixed answer */
    h->body = NULL;
    h->done = 1; /* a late async finds nothing to do */
    pthread_mutex_unlock(&h->mu);
}

void ck_handoff_stop(struct ck_handoff *h)
{
    pthread_mutex_lock(&h->mu);
    h->stopped = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void on_closed(uv_handle_t *a)
{
    struct ck_handoff *h = a->data;
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    h->closed(h->arg);
}

void ck_handoff_close(struct ck_handoff *h, void (*closed)(void *arg))
{
    h->closed = closed;
    uv_close((uv_handle_t *)&h->async, on_closed);
}
