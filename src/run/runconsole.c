/* The runner's console hook (runconsole.h), the messages half and its life:
 * takes each message the followers journal (handed over already normalised,
 * never read back from the journal but once at attach), files every message
 * with the archive's own grouping (grouping.h: the same session.json,
 * state.json and overrides.json), keeps each source's capture health, and
 * attaches, ticks and detaches the hook. All on the loop's thread; the
 * snapshot each tick publishes is built in runconsole_snapshot.c. */
#include "chatkeeper/runconsole.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatkeeper/log.h"
#include "chatkeeper/message.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/timeutil.h"

#include "runconsole_int.h"

/* Filing every message again takes at most 1/REGROUP_SHARE of the loop's time:
 * 0.1% of a core, so a view of 3,000 messages is filed again every second or two. */
#define REGROUP_SHARE 1000
/* How long a page waits for the loop to carry out its control. */
#define WAIT_MS 20000

/* ---- messages ------------------------------------------------------------- */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* By id; pointers, so sorting the messages leaves the table as it is. */
static struct live_msg **slot_of(struct ck_runconsole *rc, const char *id)
{
    size_t mask = rc->n_slots - 1;
    for (size_t i = hash(id) & mask;; i = (i + 1) & mask) {
        struct live_msg **s = &rc->slots[i];
        if (*s == NULL || strcmp((*s)->id, id) == 0)
            return s;
    }
}

struct live_msg *ck_rc_find(struct ck_runconsole *rc, const char *id)
{
    if (rc->n_slots == 0 || id == NULL)
        return NULL;
    return *slot_of(rc, id);
}

static int grow(struct ck_runconsole *rc)
{
    if (rc->n + 1 < rc->cap && (rc->n + 1) * 2 < rc->n_slots)
        return 0;
    size_t cap = rc->cap ? rc->cap * 2 : 256;
    struct live_msg **m = realloc(rc->msgs, cap * sizeof *m);
    if (m == NULL)
        return -1;
    rc->msgs = m;
    rc->cap = cap;
    struct live_msg **slots = calloc(cap * 2, sizeof *slots);
    if (slots == NULL)
        return -1;
    free(rc->slots);
    rc->slots = slots;
    rc->n_slots = cap * 2;
    for (size_t i = 0; i < rc->n; i++)
        *slot_of(rc, rc->msgs[i]->id) = rc->msgs[i];
    return 0;
}

static char *dup0(const char *s)
{
    return strdup(s != NULL ? s : "");
}

static void free_msg(struct live_msg *m)
{
    if (m == NULL)
        return;
    free(m->id);
    free(m->reply_to);
    free(m->handle);
    free(m->lhandle);
    free(m->name);
    free(m->text);
    free(m->url);
    json_decref(m->js);
    free(m);
}

/* Take one normalised message: new, or a later version of one we have. */
static void take(struct ck_runconsole *rc, const struct ck_message *m)
{
    if (m->boost_of != NULL || grow(rc) != 0)
        return; /* boosts are counted by the archive, never filed */
    struct live_msg **slot = slot_of(rc, m->id);
    struct live_msg *lm = calloc(1, sizeof *lm);
    if (lm == NULL)
        return;
    lm->id = dup0(m->id);
    lm->reply_to = m->reply_to != NULL ? strdup(m->reply_to) : NULL;
    lm->handle = dup0(m->author.handle);
    lm->lhandle = ck_rc_lower(lm->handle != NULL ? lm->handle : "");
    lm->name = dup0(m->author.name);
    lm->text = dup0(m->text);
    lm->url = dup0(m->url);
    lm->created_ms = m->created_ms;
    if (lm->id == NULL || lm->handle == NULL || lm->lhandle == NULL || lm->name == NULL ||
        lm->text == NULL || lm->url == NULL || (m->reply_to != NULL && lm->reply_to == NULL)) {
        free_msg(lm);
        return;
    }
    long person = ck_rc_person(rc, lm->lhandle);
    if (person < 0) {
        free_msg(lm);
        return;
    }
    lm->person = (size_t)person;
    lm->seq = ++rc->seq;
    lm->g.id = lm->id;
    lm->g.reply_to = lm->reply_to;
    lm->g.author = lm->handle;
    lm->g.created_ms = lm->created_ms;
    if (rc->grouping != NULL)
        ck_group_scan_text(ck_grouping_scanner(rc->grouping), lm->text, &lm->g);
    ck_rc_people_scan(rc, lm);
    if (*slot != NULL) { /* an edit (rare): the newer version replaces the older */
        for (size_t i = 0; i < rc->n; i++)
            if (rc->msgs[i] == *slot)
                rc->msgs[i] = lm;
        free_msg(*slot);
    } else {
        rc->msgs[rc->n++] = lm;
    }
    *slot = lm;
    rc->regroup = 1;
}

/* Read the journal's whole lines once, at attach (a restart, or a console
 * started on a run under way); from then on the followers hand each message
 * over as they journal it (on_message). */
static void read_journal(struct ck_runconsole *rc)
{
    FILE *f = fopen(rc->v.journal_path, "rb");
    if (f == NULL || fseek(f, rc->journal_off, SEEK_SET) != 0) {
        if (f != NULL)
            fclose(f);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break;
        rc->journal_off += len;
        json_t *e = json_loadb(line, (size_t)len, 0, NULL);
        /* Every source's lines (several platforms): each read by its own platform. */
        const char *plat = json_string_value(json_object_get(e, "platform"));
        const struct ck_platform_ops *ops = plat != NULL ? ck_platform_find(plat) : NULL;
        struct ck_message m = {0};
        if (ops != NULL && ops->normalise(json_object_get(e, "object"), &m, NULL) == 0)
            take(rc, &m);
        ck_message_finish(&m);
        json_decref(e);
    }
    free(line);
    fclose(f);
}

/* ---- the followers' hook and the sources ------------------------------------ */

static struct rc_source *source_of(struct ck_runconsole *rc, const struct ck_follower *f)
{
    for (size_t i = 0; i < rc->n_src; i++)
        if (rc->src[i].f == f)
            return &rc->src[i];
    return NULL;
}

/* On the loop, right after the follower journaled m. */
static void on_message(void *arg, const struct ck_follower *f, const char *source,
                       const struct ck_message *m)
{
    struct ck_runconsole *rc = arg;
    struct rc_source *s = source_of(rc, f);
    (void)source;
    if (s != NULL) {
        int64_t now = ck_time_now_ms();
        s->taken++;
        s->last_ok_ms = now;
        /* Lag: how old the newest message was when it reached us. */
        if (m->created_ms > s->newest_ms) {
            s->newest_ms = m->created_ms;
            s->lag_ms = now > m->created_ms ? now - m->created_ms : 0;
        }
    }
    take(rc, m);
}

/* The run's sources now (a follower may come later than attach): each
 * follower gets the hook once. */
static void sync_sources(struct ck_runconsole *rc)
{
    size_t n = 0;
    for (size_t i = 0; i < RC_MAX_SOURCES; i++) {
        const char *name = NULL, *type = NULL;
        struct ck_follower *f = NULL;
        if (rc->v.source_at != NULL) {
            if (!rc->v.source_at(rc->v.runner, i, &f, &name, &type))
                break;
        } else if (i == 0) {
            f = *rc->v.follower;
        } else {
            break;
        }
        struct rc_source *s = &rc->src[n++];
        if (s->f != f) {
            if (f != NULL && rc->awake)
                ck_follower_on_message(f, on_message, rc);
            s->f = f;
        }
        snprintf(s->name, sizeof s->name, "%s", name != NULL ? name : "");
        snprintf(s->type, sizeof s->type, "%s", type != NULL ? type : "");
    }
    rc->n_src = n;
}

static int cmp_msg(const void *pa, const void *pb)
{
    const struct live_msg *a = *(struct live_msg *const *)pa, *b = *(struct live_msg *const *)pb;
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    return ck_id_order(a->id, b->id);
}

static size_t posted_count(const struct ck_runconsole *rc)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(rc->v.state, "steps"), k, v)
    {
        const char *st = json_string_value(json_object_get(v, "status"));
        n += st != NULL && strcmp(st, "posted") == 0;
    }
    return n;
}

/* Grouping sees the question posts by their ids in state.json: opened again
 * when a step went out (state.json is saved before the poster moves on). */
static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void regroup(struct ck_runconsole *rc)
{
    int reopened = 0;
    size_t posted = posted_count(rc);
    if (rc->grouping == NULL || posted != rc->posted_seen) {
        struct ck_grouping *g = NULL;
        struct ck_error err = {0};
        if (ck_grouping_open(rc->v.dir, &g, &err) != 0) {
            ck_debug("console: grouping: %s", err.msg);
        } else {
            ck_grouping_close(rc->grouping);
            rc->grouping = g;
            rc->posted_seen = posted;
            for (size_t i = 0; i < rc->n; i++)
                ck_group_scan_text(ck_grouping_scanner(g), rc->msgs[i]->text, &rc->msgs[i]->g);
            rc->regroup = 1;
            reopened = 1;
        }
    }
    /* Filing every message again costs time in proportion to the chat: in a
     * busy one it runs less often than once a tick, so that it takes at most
     * 1/REGROUP_SHARE of the loop's time (a step posted files at once). */
    int64_t now_ns = mono_ns();
    if (!rc->regroup || (now_ns < rc->regroup_after_ns && !reopened))
        return;
    if (rc->n > 1)
        qsort(rc->msgs, rc->n, sizeof *rc->msgs, cmp_msg);
    if (rc->grouping == NULL) { /* grouping cannot open: the panels still see the messages */
        for (size_t i = 0; i < rc->n; i++)
            rc->msgs[i]->filed = 1;
        rc->regroup = 0;
        rc->gen++;
        return;
    }
    struct ck_group_msg *g = malloc((rc->n ? rc->n : 1) * sizeof *g);
    if (g == NULL)
        return;
    for (size_t i = 0; i < rc->n; i++)
        g[i] = rc->msgs[i]->g;
    struct ck_error err = {0};
    if (ck_grouping_assign(rc->grouping, g, rc->n, &err) == 0) {
        for (size_t i = 0; i < rc->n; i++) {
            rc->msgs[i]->g = g[i];
            rc->msgs[i]->filed = 1;
        }
        rc->regroup = 0;
        rc->gen++;
    } else {
        ck_debug("console: grouping: %s", err.msg);
    }
    free(g);
    rc->regroup_after_ns = now_ns + (mono_ns() - now_ns) * REGROUP_SHARE;
}

/* ---- life ------------------------------------------------------------------- */

/* The messages from here on: the journal read once (what was there before),
 * then each source's hook brings the rest. Both on the loop, one after the
 * other, so no line is missed or taken twice. */
static void wake(struct ck_runconsole *rc)
{
    rc->awake = 1;
    read_journal(rc);
    for (size_t i = 0; i < rc->n_src; i++)
        if (rc->src[i].f != NULL)
            ck_follower_on_message(rc->src[i].f, on_message, rc);
}

struct ck_runconsole *ck_runconsole_attach(struct ck_console *con,
                                           const struct ck_runconsole_view *v)
{
    struct ck_runconsole *rc = calloc(1, sizeof *rc);
    if (rc == NULL || ck_handoff_init(&rc->ctl, v->loop, WAIT_MS, ck_rc_take, rc) != 0) {
        free(rc);
        return NULL;
    }
    rc->con = con;
    rc->v = *v;
    ck_rc_restore(rc);
    ck_rc_people_init(rc);
    sync_sources(rc);
    if (!v->lazy)
        wake(rc);
    ck_console_set_handler(con, ck_handoff_handler, &rc->ctl);
    ck_runconsole_tick(rc);
    return rc;
}

void ck_runconsole_tick(struct ck_runconsole *rc)
{
    if (rc == NULL || rc->detached)
        return;
    if (rc->held) /* held across a restart: the runner armed the timer before */
        uv_timer_stop(rc->v.step_timer);
    if (!rc->awake && ck_console_pages(rc->con) > 0)
        wake(rc);
    sync_sources(rc);
    regroup(rc);
    ck_rc_publish(rc);
}

static void on_closed(void *arg)
{
    struct ck_runconsole *rc = arg;
    for (size_t i = 0; i < rc->n; i++)
        free_msg(rc->msgs[i]);
    free(rc->msgs);
    free(rc->slots);
    free(rc->parked);
    json_decref(rc->q_cache);
    ck_rc_people_finish(rc);
    ck_grouping_close(rc->grouping);
    free(rc);
}

void ck_runconsole_detach(struct ck_runconsole *rc)
{
    if (rc == NULL)
        return;
    for (size_t i = 0; i < rc->n_src; i++) /* the followers outlive the hook */
        if (rc->src[i].f != NULL)
            ck_follower_on_message(rc->src[i].f, NULL, NULL);
    rc->detached = 1;
    ck_handoff_stop(&rc->ctl);
    /* Returns once no handler runs: none can reach rc after this. */
    ck_console_set_handler(rc->con, NULL, NULL);
    ck_handoff_close(&rc->ctl, on_closed);
}
