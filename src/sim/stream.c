/* The simulator's streaming API: GET /api/v1/streaming/hashtag as chunked
 * server-sent events from libmicrohttpd's response-from-callback. MHD runs a
 * thread per connection, so the reader may block: it wakes every few
 * milliseconds, takes sim->mu, sends what became visible since, and sleeps
 * again (never holding the lock while sleeping or writing). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "chatkeeper/sbuf.h"
#include "chatkeeper/sim.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/timeutil.h"

#define TICK_MS 10
/* Mastodon sends ":thump" every 15 s; a shorter beat keeps tests brisk. */
#define HEARTBEAT_MS 5000

struct sconn {
    struct ck_sim *sim;
    char *tag;
    struct ck_strset sent; /* ids already sent, or visible when the stream opened */
    struct ck_sbuf out;
    size_t off;
    int64_t drop_at_ms; /* 0: never */
    int64_t last_write_ms;
};

static int streamable(const struct ck_sim *sim, const struct sconn *c, const struct ck_sim_entry *e,
                      int64_t now)
{
    return e->has_hashtag && e->visible_ms <= now && strcmp(e->visibility, "public") == 0 &&
           e->home != CK_SIM_HOME_BLUESKY && strcasecmp(c->tag, sim->script.hashtag) == 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Under sim->mu: queue an update event for each newly visible status. */
static int collect(struct sconn *c, int64_t now)
{
    struct ck_sim *sim = c->sim;
    if (sim->stopping)
        return -1;
    for (size_t i = 0; i < sim->n_entries; i++) {
        struct ck_sim_entry *e = sim->entries[i];
        if (!streamable(sim, c, e, now) || ck_strset_has(&c->sent, e->id))
            continue;
        if (sim->opts.stream_skip > 0 && ck_sim_random(sim) < sim->opts.stream_skip) {
            /* Lost on the way, as a busy streaming server drops events. */
            if (ck_strset_add(&c->sent, e->id) < 0)
                return -1;
            continue;
        }
        json_t *j = ck_sim_status_json(sim, e, now);
        char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (text == NULL || ck_strset_add(&c->sent, e->id) < 0) {
            free(text);
            return -1;
        }
        ck_sbuf_str(&c->out, "event: update\ndata: ");
        ck_sbuf_str(&c->out, text);
        ck_sbuf_str(&c->out, "\n\n");
        free(text);
    }
    return c->out.oom ? -1 : 0;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sconn *c = cls;
    (void)pos;
    for (;;) {
        if (c->off < c->out.len) {
            size_t n = c->out.len - c->off < max ? c->out.len - c->off : max;
            memcpy(buf, c->out.s + c->off, n);
            c->off += n;
            return (ssize_t)n;
        }
        c->out.len = c->off = 0;
        int64_t now = ck_time_now_ms();
        if (c->drop_at_ms != 0 && now >= c->drop_at_ms)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&c->sim->mu);
        int rc = collect(c, now);
        pthread_mutex_unlock(&c->sim->mu);
        if (rc < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (c->out.len == 0 && now - c->last_write_ms >= HEARTBEAT_MS)
            ck_sbuf_str(&c->out, ":thump\n");
        if (c->out.len > 0) {
            c->last_write_ms = now;
            continue;
        }
        sleep_ms(TICK_MS);
    }
}

static void free_conn(void *cls)
{
    struct sconn *c = cls;
    ck_strset_finish(&c->sent);
    free(c->out.s);
    free(c->tag);
    free(c);
}

struct MHD_Response *ck_sim_stream_response(struct ck_sim *sim, const char *tag, int64_t now)
{
    struct sconn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->sim = sim;
    c->tag = strdup(tag[0] == '#' ? tag + 1 : tag);
    ck_strset_init(&c->sent);
    c->drop_at_ms = sim->opts.stream_drop_ms > 0 ? now + sim->opts.stream_drop_ms : 0;
    c->last_write_ms = now;
    int ok = c->tag != NULL;
    for (size_t i = 0; ok && i < sim->n_entries; i++)
        if (streamable(sim, c, sim->entries[i], now))
            ok = ck_strset_add(&c->sent, sim->entries[i]->id) >= 0;
    /* Mastodon greets a new stream with a comment: the client sees it open at once. */
    ck_sbuf_str(&c->out, ":)\n");
    struct MHD_Response *r =
        ok && !c->out.oom
            ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, c, free_conn)
            : NULL;
    if (r == NULL) {
        free_conn(c);
        return NULL;
    }
    sim->streams_opened++;
    return r;
}
