/* The follower's live stream (see follower.h): statuses journaled as they
 * arrive, the timeline polled as the check when it opens, ends or drops. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/fresh.h"
#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"
#include "follower_int.h"

/* ---- the live stream ---- */

/* Poll the timeline as soon as possible: now if the follower is waiting,
 * else when the current cycle ends (one request in flight at most). */
static void request_check(struct ck_follower *f)
{
    if (f->st == F_WAIT) {
        f->check_pending = 0;
        ck_fl_schedule_at_q(f, ck_time_now_ms(), 1);
    } else if (f->st == F_POLL || f->st == F_CATCHUP) {
        f->check_pending = 1;
    }
}

static void stream_open(struct ck_sse_stream *s, long http_status, void *arg)
{
    struct ck_follower *f = arg;
    (void)s;
    (void)http_status;
    if (!f->stream_on)
        return;
    f->stream_up = 1;
    f->stream_open_ms = ck_time_now_ms();
    f->stats.stream_connects++;
    if (f->stats.stream_connects == 1)
        ck_info("follower: following the live stream of #%s; checking the timeline every %lld s",
                f->conf.hashtag, (long long)(f->conf.stream_poll_ms / 1000));
    else if (f->noise[N_STREAM_DOWN] <= 1) /* said as loudly as the fallback was */
        ck_info("follower: the live stream is back; checking the timeline for what it missed");
    else
        ck_debug("follower: the live stream is back (%zu times in all)",
                 f->stats.stream_connects - 1);
    request_check(f);
}

/* Journal one streamed status at once (journal_page fsyncs before it returns). */
static void journal_streamed(struct ck_follower *f, json_t *item, int repaired)
{
    json_t *items = json_array();
    if (items == NULL || json_array_append(items, item) != 0) {
        json_decref(items);
        request_check(f); /* out of memory: the next poll brings it */
        return;
    }
    unsigned char rep = 1;
    const char *was = f->source;
    f->source = "stream";
    size_t before = f->stats.journaled;
    int rc = ck_fl_journal_page(f, items, repaired ? &rep : NULL, NULL);
    f->stats.streamed += f->stats.journaled - before;
    if (f->stats.journaled > before)
        f->streamed_since_check = 1;
    f->source = was;
    json_decref(items);
    if (rc < 0) {
        /* Nothing moved: the timeline check reads it again from the cursor. */
        ck_err("follower: a streamed status could not be journaled; the timeline check will");
        request_check(f);
    }
}

static int stream_event(struct ck_sse_stream *s, const struct ck_sse_event *ev, void *arg)
{
    struct ck_follower *f = arg;
    (void)s;
    if (!f->stream_on || f->st == F_STOPPED || f->st == F_DONE)
        return 0;
    struct ck_stream_item it;
    struct ck_error err = {0};
    if (f->conf.ops->parse_stream_event(ev->event, ev->data, ev->data_len, &it, &err) < 0) {
        /* Never trusted, never fatal: the timeline shows the status again. */
        ck_fl_noisy(f, N_STREAM_BAD, "a \"%.40s\" stream event skipped: %s", ev->event, err.msg);
        return 0;
    }
    if (it.kind == CK_STREAM_UPDATE || it.kind == CK_STREAM_EDIT) {
        journal_streamed(f, it.item, it.repaired);
    } else if (it.kind == CK_STREAM_DELETE) {
        /* The journal keeps what the API showed; a deletion removes nothing. */
        f->stream_deletes++;
        ck_debug("follower: status %s deleted (kept in the journal)", it.id);
    }
    ck_stream_item_finish(&it);
    return 0;
}

static void stream_close(struct ck_sse_stream *s, int status, long http_status, const char *why,
                         void *arg)
{
    struct ck_follower *f = arg;
    (void)s;
    int was_up = f->stream_up;
    f->stream_up = 0;
    /* Cancelled: by stream_stop, or by the http client closing at shutdown. */
    if (status == CK_ECANCELED || !f->stream_on || f->closing || f->st == F_STOPPED ||
        f->st == F_DONE)
        return;
    int64_t now = ck_time_now_ms();
    /* A stream that lived a while earns a quick retry; one that keeps
     * failing is asked less and less often. */
    if (was_up && now - f->stream_open_ms > 60000)
        ck_backoff_reset(&f->stream_backoff);
    int64_t delay = ck_backoff_next(&f->stream_backoff);
    f->stream_retry_ms = now + delay;
    f->stats.stream_drops++;
    int refused = status == 0 && (http_status < 200 || http_status > 299);
    ck_fl_noisy(f, N_STREAM_DOWN,
                "%s (%s); polling every %lld s instead, and trying the stream again "
                "from time to time",
                refused ? "the server refused the live stream" : "the live stream ended", why,
                (long long)(ck_fl_poll_interval(f, now) / 1000));
    ck_debug("follower: next stream attempt in %lld ms", (long long)delay);
    if (was_up)
        request_check(f); /* what the stream did not bring since its last event */
}

static const struct ck_sse_handlers stream_handlers = {
    .on_open = stream_open,
    .on_event = stream_event,
    .on_close = stream_close,
};

/* ---- where the stream is served ----
 * A big instance runs its streaming API on a host of its own and names it
 * (Mastodon: /api/v2/instance, else /api/v1/instance); asked once, before the
 * first stream. An answer that names none, or a refusal, means the
 * instance's own base URL; a failed request is asked again with the
 * stream's backoff (the polls go on meanwhile). */
enum { SB_UNKNOWN, SB_ASKING, SB_KNOWN };

static void ask_stream_base(struct ck_follower *f);

static void stream_base_known(struct ck_follower *f, char *base, const char *why)
{
    f->stream_base_state = SB_KNOWN;
    free(f->stream_base);
    f->stream_base = base;
    if (base != NULL)
        ck_info("follower: the instance serves its live stream at %s", base);
    else
        ck_debug("follower: the live stream is under the instance's own address (%s)",
                 why != NULL ? why : "not named");
}

static void on_stream_base(int status, const struct ck_response *resp, const char *errmsg,
                           void *arg)
{
    struct ck_follower *f = arg;
    f->stream_base_state = SB_UNKNOWN;
    if (ck_fl_answer_unwanted(f, status))
        return;
    if (status != 0) {
        f->stream_retry_ms = ck_time_now_ms() + ck_backoff_next(&f->stream_backoff);
        ck_debug("follower: cannot ask where the live stream is (%s%s%s); asking again later",
                 ck_strerror(status), errmsg != NULL && *errmsg ? ": " : "",
                 errmsg != NULL ? errmsg : "");
        return;
    }
    char *base = NULL;
    struct ck_error err = {0};
    int rc = f->conf.ops->parse_stream_base(resp, f->conf.base_url, &base, &err);
    if (rc == 0) {
        stream_base_known(f, base, "");
    } else if ((rc == CK_EHTTP || rc == CK_ENOTFOUND) && f->stream_base_attempt == 0) {
        f->stream_base_attempt = 1; /* the older way of asking */
        ask_stream_base(f);
        return;
    } else {
        if (rc == CK_EPARSE) /* never trusted: the stream stays at the instance's own address */
            ck_warn("follower: %s; streaming from %s instead", err.msg, f->conf.base_url);
        stream_base_known(f, NULL, err.msg);
    }
    ck_fl_maybe_start_stream(f);
}

static void ask_stream_base(struct ck_follower *f)
{
    struct ck_request req = {0};
    struct ck_error err = {0};
    int rc = f->conf.ops->stream_base_request(f->conf.base_url, f->stream_base_attempt, &req, &err);
    if (rc == 0)
        rc = ck_http_send(f->http, &req, on_stream_base, f, &err);
    ck_request_finish(&req);
    if (rc < 0) {
        stream_base_known(f, NULL, err.msg);
        return;
    }
    f->stream_base_state = SB_ASKING;
    f->stats.requests++;
}

void ck_fl_maybe_start_stream(struct ck_follower *f)
{
    if (!f->stream_on || f->closing || ck_sse_active(&f->sse))
        return;
    if (f->st == F_SWEEP || f->st == F_THREADS || f->st == F_DONE || f->st == F_STOPPED)
        return;
    int64_t now = ck_time_now_ms();
    if (now < f->stream_retry_ms || now >= f->conf.follow_until_ms)
        return;
    if (f->conf.ops->stream_base_request != NULL && f->stream_base_state != SB_KNOWN) {
        if (f->stream_base_state == SB_UNKNOWN)
            ask_stream_base(f);
        return; /* the stream starts when the answer is in */
    }
    struct ck_request req = {0};
    struct ck_error err = {0};
    const char *base = f->stream_base != NULL ? f->stream_base : f->conf.base_url;
    int rc = f->conf.ops->stream_request(base, f->conf.token, f->conf.hashtag, &req, &err);
    if (rc == 0)
        rc = ck_sse_start(&f->sse, f->http, &req, f->conf.stream_idle_ms, 0, &stream_handlers, f,
                          &err);
    ck_request_finish(&req);
    if (rc < 0) {
        f->stream_retry_ms = now + ck_backoff_next(&f->stream_backoff);
        ck_fl_noisy(f, N_STREAM_DOWN, "cannot start the live stream (%s); polling instead",
                    err.msg);
        return;
    }
    f->stats.requests++;
}

/* No more streaming for this follower (the sweep, done, stopped). */
void ck_fl_stream_stop(struct ck_follower *f)
{
    f->stream_on = 0;
    f->stream_up = 0;
    if (!f->sse_closed)
        ck_sse_cancel(&f->sse);
}

int ck_follower_streaming(const struct ck_follower *f)
{
    return f->stream_up;
}
