/* The follower's stop and close (follower.h): its handles closed, and the
 * follower freed once the timer, the stream and any request in flight have
 * all finished (ck_fl_maybe_free). Split from follower.c, which polls. */
#include <stddef.h>
#include <stdlib.h>

#include "chatkeeper/follower.h"
#include "chatkeeper/replies.h"
#include "chatkeeper/sse.h"
#include "follower_int.h"

void ck_follower_stop(struct ck_follower *f)
{
    ck_fl_stream_stop(f);
    if (f->threads != NULL) {
        ck_replies_close(f->threads);
        f->threads = NULL;
    }
    if (f->st != F_DONE)
        ck_fl_set_state(f, F_STOPPED);
    f->done_cb = NULL;
    uv_timer_stop(&f->timer);
}

void ck_fl_maybe_free(struct ck_follower *f)
{
    if (f->inflight || f->stream_base_state == 1 || !f->timer_closed || !f->sse_closed)
        return;
    void (*cb)(void *) = f->closed_cb;
    void *arg = f->closed_arg;
    ck_hset_finish(&f->seen);
    ck_hset_finish(&f->ids);
    ck_hset_finish(&f->people);
    for (size_t i = 0; i < f->ring_n; i++)
        free(f->ring[i]);
    free(f->page_min_id);
    free(f->page_max_id);
    free(f->check_from);
    free(f->poll_top);
    free(f->covered_top);
    free(f->stream_base);
    ck_hset_finish(&f->reply_hints);
    free(f);
    if (cb != NULL)
        cb(arg);
}

bool ck_fl_answer_unwanted(struct ck_follower *f, int status)
{
    if (f->closing) {
        ck_fl_maybe_free(f);
        return true;
    }
    return status == CK_ECANCELED || f->st == F_STOPPED || f->st == F_DONE;
}

static void on_sse_closed(struct ck_sse_stream *s)
{
    struct ck_follower *f = (struct ck_follower *)((char *)s - offsetof(struct ck_follower, sse));
    f->sse_closed = 1;
    ck_fl_maybe_free(f);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct ck_follower *f = h->data;
    f->timer_closed = 1;
    ck_fl_maybe_free(f);
}

void ck_follower_close(struct ck_follower *f, void (*closed_cb)(void *arg), void *arg)
{
    if (f == NULL)
        return;
    ck_follower_stop(f);
    f->closing = 1;
    f->closed_cb = closed_cb;
    f->closed_arg = arg;
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
    if (!f->sse_closed)
        ck_sse_close(&f->sse, on_sse_closed);
}
