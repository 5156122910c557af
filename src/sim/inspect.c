/* Inspection endpoints for tests (not Mastodon): what the simulator holds and
 * what it was asked. Never rate-limited, never faulted.
 *
 *   GET /sim/statuses  [{"id", "key", "account", "created_at", "visible_at", "created_ms",
 *                        "visible_ms", "chat_ms", "has_hashtag", "posted", "late",
 *                        "in_reply_to_id", "home" (both|mastodon|bluesky), "rkey"}]
 *                      every script and posted status, in id order; *_ms and *_at in
 *                      real time, chat_ms the created_at the API shows (the chat's clock)
 *   GET /sim/requests  [{"t", "method", "path", "status", "fault"}]   t in epoch ms,
 *                      status 0 when the connection was dropped, fault null or its kind
 *   GET /sim/stats     {"requests", "inspections", "faults": {"5xx", "drop", "slow",
 *                       "truncate", "5xx_after_post", "late_visible"}, "rate_limited",
 *                       "posts_created", "idempotent_replays", "statuses", "hashtag",
 *                       "start_ms", "speed", "now_ms", "bsky_sessions", "bsky_refreshes",
 *                       "x_posts_read" (tweets X's routes returned: what X bills),
 *                       "bsky_duplicate_rkeys"} */
#include "chatkeeper/sim.h"

#include <string.h>

#include "chatkeeper/timeutil.h"

static json_t *statuses_json(const struct ck_sim *sim)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < sim->n_entries; i++) {
        const struct ck_sim_entry *e = sim->entries[i];
        const struct ck_sim_account *a = &sim->script.accounts[e->account];
        char created[32], vis[32];
        ck_time_format_rfc3339(e->created_ms, created);
        ck_time_format_rfc3339(e->visible_ms, vis);
        json_t *acct = a->domain != NULL ? json_sprintf("%s@%s", a->username, a->domain)
                                         : json_string(a->username);
        static const char *const homes[] = {"both", "mastodon", "bluesky"};
        json_array_append_new(
            arr, json_pack("{s:s s:o s:o s:s s:s s:I s:I s:I s:b s:b s:b s:o s:s s:s}", "id", e->id,
                           "key",
                           e->script != NULL && e->script->key != NULL ? json_string(e->script->key)
                                                                       : json_null(),
                           "account", acct, "created_at", created, "visible_at", vis, "created_ms",
                           (json_int_t)e->created_ms, "visible_ms", (json_int_t)e->visible_ms,
                           "chat_ms", (json_int_t)e->chat_ms, "has_hashtag", e->has_hashtag,
                           "posted", e->script == NULL, "late", e->late, "in_reply_to_id",
                           e->parent != NULL ? json_string(e->parent->id) : json_null(), "home",
                           homes[e->home], "rkey", e->rkey));
    }
    return arr;
}

static json_t *requests_json(const struct ck_sim *sim)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < sim->n_log; i++) {
        const struct ck_sim_reqlog *r = &sim->log[i];
        const char *f = ck_sim_fault_name(r->fault);
        json_array_append_new(arr,
                              json_pack("{s:I s:s s:s s:i s:o}", "t", (json_int_t)r->t, "method",
                                        r->method, "path", r->path, "status", r->status, "fault",
                                        f != NULL ? json_string(f) : json_null()));
    }
    return arr;
}

static json_t *stats_json(const struct ck_sim *sim, int64_t now)
{
    json_t *faults = json_object();
    for (int f = 1; faults != NULL && f < CK_SIM_FAULT_COUNT; f++)
        json_object_set_new(faults, ck_sim_fault_name((enum ck_sim_fault)f),
                            json_integer(sim->faults[f]));
    json_object_set_new(faults, "late_visible", json_integer(sim->late_visible));
    long inspections = 0;
    for (size_t i = 0; i < sim->n_log; i++)
        inspections += strncmp(sim->log[i].path, "/sim/", 5) == 0;
    return json_pack("{s:i s:i s:o s:i s:i s:i s:i s:s s:I s:f s:I s:i s:i s:i s:I}", "requests",
                     (int)(sim->requests), "inspections", (int)inspections, "faults", faults,
                     "rate_limited", (int)sim->rate_limited, "posts_created",
                     (int)sim->posts_created, "idempotent_replays", (int)sim->idem_replays,
                     "statuses", (int)sim->n_entries, "hashtag", sim->script.hashtag, "start_ms",
                     (json_int_t)sim->opts.start_ms, "speed", sim->opts.speed, "now_ms",
                     (json_int_t)now, "bsky_sessions", (int)sim->bsky_sessions, "bsky_refreshes",
                     (int)sim->bsky_refreshes, "bsky_duplicate_rkeys",
                     (int)sim->bsky_duplicate_rkeys, "x_posts_read", (json_int_t)sim->x_posts_read);
}

void ck_sim_inspect(struct ck_sim *sim, const char *path, int64_t now, struct ck_sim_reply *rep)
{
    rep->status = 200;
    if (strcmp(path, "/sim/statuses") == 0)
        rep->json = statuses_json(sim);
    else if (strcmp(path, "/sim/requests") == 0)
        rep->json = requests_json(sim);
    else if (strcmp(path, "/sim/stats") == 0)
        rep->json = stats_json(sim, now);
    else
        rep->status = 404;
    if (rep->status == 404)
        rep->json = json_pack("{s:s}", "error", "Not found");
    else if (rep->json == NULL)
        rep->status = 500;
}
