/* Mastodon's Status and Account entities for simulator entries, shaped like
 * the recorded responses in shared/api-examples. Counts grow over script time
 * (a status gathers its likes and boosts over ten script minutes), so a later
 * fetch of the same status can differ, as on a live server. */
#include "chatkeeper/sim.h"

#include <string.h>

#include "chatkeeper/timeutil.h"

static json_t *host_url(const struct ck_sim *sim, const struct ck_sim_account *a, const char *path)
{
    if (a->domain != NULL)
        return json_sprintf("https://%s%s", a->domain, path);
    return json_sprintf("%s%s", sim->base, path);
}

json_t *ck_sim_account_json(const struct ck_sim *sim, size_t account)
{
    const struct ck_sim_account *a = &sim->script.accounts[account];
    json_t *acct = a->domain != NULL ? json_sprintf("%s@%s", a->username, a->domain)
                                     : json_string(a->username);
    json_t *url = a->domain != NULL ? json_sprintf("https://%s/@%s", a->domain, a->username)
                                    : json_sprintf("%s/@%s", sim->base, a->username);
    json_t *uri = a->domain != NULL ? json_sprintf("https://%s/users/%s", a->domain, a->username)
                                    : json_sprintf("%s/users/%s", sim->base, a->username);
    json_t *avatar = host_url(sim, a, "/avatars/original/missing.png");
    json_t *header = host_url(sim, a, "/headers/original/missing.png");
    long statuses = 0;
    for (size_t i = 0; i < sim->script.n_statuses; i++)
        statuses += sim->script.statuses[i].account == account;
    return json_pack("{s:s s:s s:o s:s s:b s:b s:b s:b s:b s:s s:s s:o s:o s:o s:O s:o s:O"
                     " s:i s:i s:i s:s s:[] s:[] s:[]}",
                     "id", a->id, "username", a->username, "acct", acct, "display_name",
                     a->display_name, "locked", 0, "bot", a->bot, "discoverable", 1, "indexable", 1,
                     "group", 0, "created_at", "2022-11-07T00:00:00.000Z", "note", a->note, "url",
                     url, "uri", uri, "avatar", avatar, "avatar_static", avatar, "header", header,
                     "header_static", header, "followers_count", 120, "following_count", 80,
                     "statuses_count", (int)statuses, "last_status_at", "2026-12-03", "emojis",
                     "roles", "fields");
}

static json_t *media_json(const struct ck_sim *sim, const struct ck_sim_entry *e)
{
    json_t *arr = json_array();
    if (e->script == NULL || arr == NULL)
        return arr;
    for (size_t i = 0; i < e->script->n_media; i++) {
        const char *alt = e->script->media[i];
        json_t *m = json_pack("{s:s+ s:s s:s+++ s:s+++ s:n s:n s:{s:{s:i s:i s:s s:f}} s:o s:s}",
                              "id", e->id, i == 0 ? "1" : "2", "type", "image", "url", sim->base,
                              "/system/media_attachments/files/", e->id, "/original.png",
                              "preview_url", sim->base, "/system/media_attachments/files/", e->id,
                              "/small.png", "remote_url", "text_url", "meta", "original", "width",
                              1200, "height", 800, "size", "1200x800", "aspect", 1.5, "description",
                              alt[0] != '\0' ? json_string(alt) : json_null(), "blurhash",
                              "UFGt?]t7~qxu%MofRjWB_3Rjofj[xuWBRjWB");
        json_array_append_new(arr, m);
    }
    return arr;
}

/* A count that reaches its final value ten script minutes after the status shows. */
static long grown(const struct ck_sim *sim, long final, const struct ck_sim_entry *e, int64_t now)
{
    double span = 600000.0 / sim->opts.speed;
    double f = (double)(now - e->visible_ms) / span;
    if (f <= 0)
        return 0;
    return f >= 1 ? final : (long)((double) final * f);
}

void ck_sim_entry_counts(const struct ck_sim *sim, const struct ck_sim_entry *e, int64_t now,
                         long *replies, long *boosts, long *likes)
{
    *replies = 0;
    for (size_t i = 0; i < sim->n_entries; i++)
        *replies += sim->entries[i]->parent == e && sim->entries[i]->visible_ms <= now;
    *boosts = e->script != NULL ? grown(sim, e->script->boosts, e, now) : 0;
    *likes = e->script != NULL ? grown(sim, e->script->likes, e, now) : 0;
}

json_t *ck_sim_status_json(const struct ck_sim *sim, const struct ck_sim_entry *e, int64_t now)
{
    const struct ck_sim_account *a = &sim->script.accounts[e->account];
    char created[32];
    /* On the chat's clock, not the wall's: a rehearsal at 90x must archive
     * as the 90-minute chat it plays, not as a one-minute burst. */
    ck_time_format_rfc3339(e->chat_ms, created);
    long replies = 0;
    for (size_t i = 0; i < sim->n_entries; i++)
        replies += sim->entries[i]->parent == e && sim->entries[i]->visible_ms <= now;
    json_t *url, *uri;
    if (a->domain != NULL) {
        url = json_sprintf("https://%s/@%s/%s", a->domain, a->username, e->id);
        uri = json_sprintf("https://%s/users/%s/statuses/%s", a->domain, a->username, e->id);
    } else {
        url = json_sprintf("%s/@%s/%s", sim->base, a->username, e->id);
        uri = json_sprintf("%s/users/%s/statuses/%s", sim->base, a->username, e->id);
    }
    const struct ck_sim_entry *p = e->parent;
    long boosts = e->script != NULL ? grown(sim, e->script->boosts, e, now) : 0;
    long likes = e->script != NULL ? grown(sim, e->script->likes, e, now) : 0;
    return json_pack(
        "{s:s s:s s:o s:o s:b s:s s:s s:s s:o s:o s:i s:i s:i s:n s:b s:b s:b s:b s:b s:s s:[]"
        " s:n s:o s:o s:o s:O s:O s:[] s:n s:n}",
        "id", e->id, "created_at", created, "in_reply_to_id",
        p != NULL ? json_string(p->id) : json_null(), "in_reply_to_account_id",
        p != NULL ? json_string(sim->script.accounts[p->account].id) : json_null(), "sensitive", 0,
        "spoiler_text", "", "visibility", e->visibility, "language", e->language, "uri", uri, "url",
        url, "replies_count", (int)replies, "reblogs_count", (int)boosts, "favourites_count",
        (int)likes, "edited_at", "favourited", 0, "reblogged", 0, "muted", 0, "bookmarked", 0,
        "pinned", 0, "content", e->html, "filtered", "reblog", "application",
        e->script == NULL ? json_pack("{s:s s:n}", "name", "chatkeeper", "website") : json_null(),
        "account", ck_sim_account_json(sim, e->account), "media_attachments", media_json(sim, e),
        "mentions", e->mentions, "tags", e->tags, "emojis", "card", "poll");
}
