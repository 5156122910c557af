/* The simulator's world: the script placed on the real clock, plus statuses
 * posted through the API. Entries are kept sorted by id so timelines are a
 * filter and a binary search. Callers hold sim->mu while serving. */
#include "chatkeeper/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"

static const char *const fault_names[CK_SIM_FAULT_COUNT] = {
    NULL, "5xx", "drop", "slow", "truncate", "5xx_after_post",
};

const char *ck_sim_fault_name(enum ck_sim_fault f)
{
    return (unsigned)f < CK_SIM_FAULT_COUNT ? fault_names[f] : NULL;
}

double ck_sim_random(struct ck_sim *sim)
{
    /* splitmix64: tiny, good enough, and reproducible from --seed. */
    uint64_t z = (sim->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

int64_t ck_sim_chat_time(const struct ck_sim *sim, int64_t real_ms)
{
    int64_t start = sim->opts.start_ms;
    return start + llround((double)(real_ms - start) * sim->opts.speed);
}

static void entry_free(struct ck_sim_entry *e)
{
    if (e == NULL)
        return;
    free(e->html);
    free(e->text);
    json_decref(e->mentions);
    json_decref(e->bsky_mentions);
    json_decref(e->tags);
    free(e->language);
    free(e->visibility);
    free(e);
}

static int entry_cmp_created(const void *a, const void *b)
{
    const struct ck_sim_entry *x = *(const struct ck_sim_entry *const *)a;
    const struct ck_sim_entry *y = *(const struct ck_sim_entry *const *)b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return x->script < y->script ? -1 : x->script > y->script;
}

/* The text of the script's raw HTML, for Bluesky (which has no HTML): tags
 * dropped, a paragraph or line break a newline, the five entities decoded. */
static char *plain_of(const char *html)
{
    size_t n = strlen(html), o = 0;
    char *t = malloc(n + 1);
    if (t == NULL)
        return NULL;
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    for (size_t i = 0; i < n;) {
        if (html[i] == '<') {
            const char *end = strchr(html + i, '>');
            if ((strncmp(html + i, "<br", 3) == 0 || strncmp(html + i, "</p>", 4) == 0) && o > 0)
                t[o++] = '\n';
            i = end != NULL ? (size_t)(end - html) + 1 : n;
            continue;
        }
        size_t k = 0;
        while (k < 5 && strncmp(html + i, ent[k][0], strlen(ent[k][0])) != 0)
            k++;
        if (k < 5) {
            t[o++] = ent[k][1][0];
            i += strlen(ent[k][0]);
        } else {
            t[o++] = html[i++];
        }
    }
    while (o > 0 && t[o - 1] == '\n')
        o--;
    t[o] = '\0';
    return t;
}

/* Render text (or take the script's raw HTML) into e. */
static int entry_render(struct ck_sim *sim, struct ck_sim_entry *e, const char *text,
                        const char *html)
{
    e->mentions = json_array();
    e->tags = json_array();
    e->text = text != NULL ? strdup(text) : plain_of(html);
    if (e->mentions == NULL || e->tags == NULL || e->text == NULL)
        return CK_ENOMEM;
    if (html != NULL) {
        e->html = strdup(html);
        if (e->has_hashtag)
            json_array_append_new(e->tags,
                                  json_pack("{s:s s:s++}", "name", sim->script.hashtag, "url",
                                            sim->base, "/tags/", sim->script.hashtag));
    } else {
        e->html = ck_sim_render_html(&sim->script, text, sim->base, e->mentions, e->tags);
    }
    return e->html != NULL ? 0 : CK_ENOMEM;
}

/* Which side a participant is on: with a Bluesky share, a stable draw from the
 * account's name (the host, who posts through the API, is on both). */
static int home_of(const struct ck_sim *sim, size_t account)
{
    if (sim->opts.bluesky_share <= 0 || account == sim->script.self)
        return CK_SIM_HOME_BOTH;
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = sim->script.accounts[account].key; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (double)(h % 1000) < sim->opts.bluesky_share * 1000.0 ? CK_SIM_HOME_BLUESKY
                                                                 : CK_SIM_HOME_MASTODON;
}

int ck_sim_state_init(struct ck_sim *sim, const struct ck_sim_opts *opts,
                      struct ck_sim_script *script, const char *base, struct ck_error *err)
{
    memset(sim, 0, sizeof *sim);
    sim->script = *script;
    memset(script, 0, sizeof *script);
    sim->opts = *opts;
    if (sim->opts.speed <= 0)
        sim->opts.speed = 1;
    if (sim->opts.start_ms == 0)
        sim->opts.start_ms = ck_time_now_ms();
    if (sim->opts.seed == 0)
        sim->opts.seed = (uint64_t)ck_time_now_ms();
    sim->rng = sim->opts.seed;
    snprintf(sim->base, sizeof sim->base, "%s", base);
    pthread_mutex_init(&sim->mu, NULL);

    size_t n = sim->script.n_statuses;
    sim->entries = calloc(n + 1, sizeof *sim->entries);
    struct ck_sim_entry **by_script = calloc(n + 1, sizeof *by_script);
    if (sim->entries == NULL || by_script == NULL)
        goto oom;
    sim->cap_entries = n + 1;
    double speed = sim->opts.speed;
    for (size_t i = 0; i < n; i++) {
        const struct ck_sim_status *st = &sim->script.statuses[i];
        struct ck_sim_entry *e = calloc(1, sizeof *e);
        if (e == NULL)
            goto oom;
        sim->entries[sim->n_entries++] = e;
        by_script[i] = e;
        e->script = st;
        e->account = st->account;
        e->has_hashtag = st->has_hashtag;
        e->created_ms = sim->opts.start_ms + llround((double)st->at_ms / speed);
        e->chat_ms = sim->opts.start_ms + st->at_ms;
        int64_t delay = st->delay_ms;
        if (sim->opts.fault_rate > 0 && ck_sim_random(sim) < sim->opts.fault_rate) {
            delay += 10000 + (int64_t)(ck_sim_random(sim) * 50000.0);
            e->late = 1;
            sim->late_visible++;
        }
        e->visible_ms = e->created_ms + llround((double)delay / speed);
        e->home = home_of(sim, st->account);
        e->language = strdup(st->language);
        e->visibility = strdup("public");
        if (e->language == NULL || e->visibility == NULL ||
            entry_render(sim, e, st->text, st->html) != 0)
            goto oom;
    }
    for (size_t i = 0; i < n; i++)
        if (sim->script.statuses[i].reply_to >= 0)
            by_script[i]->parent = by_script[sim->script.statuses[i].reply_to];
    free(by_script);
    qsort(sim->entries, sim->n_entries, sizeof *sim->entries, entry_cmp_created);
    unsigned seq = 0;
    for (size_t i = 0; i < sim->n_entries; i++) {
        struct ck_sim_entry *e = sim->entries[i];
        seq = i > 0 && sim->entries[i - 1]->created_ms == e->created_ms ? seq + 1 : 0;
        ck_sim_id_make(e->created_ms, seq, e->id);
        ck_sim_tid(e->created_ms * 1000 + seq, 7, e->rkey);
    }
    return 0;
oom:
    free(by_script);
    ck_sim_state_finish(sim);
    return ck_error_set(err, CK_ENOMEM, "out of memory placing the script");
}

void ck_sim_state_finish(struct ck_sim *sim)
{
    if (sim == NULL)
        return;
    for (size_t i = 0; i < sim->n_entries; i++)
        entry_free(sim->entries[i]);
    free(sim->entries);
    for (size_t i = 0; i < sim->n_idem; i++)
        free(sim->idem[i].key);
    free(sim->idem);
    for (size_t i = 0; i < sim->n_log; i++)
        free(sim->log[i].path);
    free(sim->log);
    ck_sim_script_finish(&sim->script);
    pthread_mutex_destroy(&sim->mu);
    memset(sim, 0, sizeof *sim);
}

static size_t lower_index(const struct ck_sim *sim, const char *id)
{
    size_t lo = 0, hi = sim->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ck_sim_id_cmp(sim->entries[mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct ck_sim_entry *ck_sim_state_find(const struct ck_sim *sim, const char *id)
{
    size_t i = lower_index(sim, id);
    if (i < sim->n_entries && strcmp(sim->entries[i]->id, id) == 0)
        return sim->entries[i];
    return NULL;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int ck_sim_state_post(struct ck_sim *sim, const char *text, const char *in_reply_to_id,
                      const char *visibility, int64_t now, struct ck_sim_entry **out,
                      struct ck_error *err)
{
    const char *p = text;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p == '\0')
        return ck_error_set(err, CK_EINVAL, "Validation failed: Text can't be blank");
    if (utf8_chars(text) > 500)
        return ck_error_set(err, CK_EINVAL,
                            "Validation failed: Text character limit of 500 exceeded");
    struct ck_sim_entry *parent = NULL;
    if (in_reply_to_id != NULL && in_reply_to_id[0] != '\0') {
        parent = ck_sim_state_find(sim, in_reply_to_id);
        if (parent == NULL || parent->visible_ms > now)
            return ck_error_set(err, CK_ENOTFOUND, "Record not found");
    }
    if (sim->n_entries + 1 >= sim->cap_entries) {
        size_t cap = sim->cap_entries * 2 + 16;
        struct ck_sim_entry **ne = realloc(sim->entries, cap * sizeof *ne);
        if (ne == NULL)
            return ck_error_set(err, CK_ENOMEM, "out of memory");
        sim->entries = ne;
        sim->cap_entries = cap;
    }
    struct ck_sim_entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    e->created_ms = now;
    e->visible_ms = now;
    e->chat_ms = ck_sim_chat_time(sim, now);
    e->account = sim->script.self;
    e->parent = parent;
    e->has_hashtag = ck_sim_text_has_tag(text, sim->script.hashtag);
    e->language = strdup("en");
    e->visibility = strdup(visibility != NULL && visibility[0] != '\0' ? visibility : "public");
    if (e->language == NULL || e->visibility == NULL || entry_render(sim, e, text, NULL) != 0) {
        entry_free(e);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    /* A script status may already own this millisecond: take the next free seq. */
    for (unsigned seq = 0;; seq++) {
        ck_sim_id_make(now, seq, e->id);
        if (ck_sim_state_find(sim, e->id) == NULL) {
            ck_sim_tid(now * 1000 + seq, 7, e->rkey);
            break;
        }
    }
    size_t at = lower_index(sim, e->id);
    memmove(sim->entries + at + 1, sim->entries + at, (sim->n_entries - at) * sizeof *sim->entries);
    sim->entries[at] = e;
    sim->n_entries++;
    sim->posts_created++;
    *out = e;
    return 0;
}
