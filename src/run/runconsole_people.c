/* The runner's console hook (runconsole.h), the people panels: "say hello to"
 * (newcomers: no message in the series' earlier sessions) and unanswered
 * mentions of the hosts. Built from the live messages on the loop's thread,
 * again only when messages, hosts or dismissals changed.
 *
 * Who the hosts are: the session's facilitators, and whoever wrote the posts
 * the run sheet went out as (their ids are in state.json), so a rehearsal's
 * or a new account's own handle counts without being listed. People are
 * compared by handle, ASCII case folded, as the archive counts them. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chatkeeper/config.h"
#include "chatkeeper/log.h"

#include "runconsole_int.h"

/* Entries each panel sends; the totals count them all. */
#define PANEL_MAX 50

char *ck_rc_lower(const char *s)
{
    char *out = strdup(s);
    for (char *p = out; p != NULL && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

/* ---- people ---------------------------------------------------------------------- */

static size_t phash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static size_t *pslot(const struct ck_runconsole *rc, const char *lhandle)
{
    size_t mask = rc->n_pslots - 1;
    for (size_t i = phash(lhandle) & mask;; i = (i + 1) & mask) {
        size_t *s = &rc->pslots[i];
        if (*s == 0 || strcmp(rc->persons[*s - 1].lhandle, lhandle) == 0)
            return s;
    }
}

long ck_rc_person_find(const struct ck_runconsole *rc, const char *lhandle)
{
    if (rc->n_pslots == 0)
        return -1;
    size_t *s = pslot(rc, lhandle);
    return *s != 0 ? (long)(*s - 1) : -1;
}

long ck_rc_person(struct ck_runconsole *rc, const char *lhandle)
{
    long have = ck_rc_person_find(rc, lhandle);
    if (have >= 0)
        return have;
    if (rc->n_persons + 1 >= rc->cap_persons || (rc->n_persons + 1) * 2 >= rc->n_pslots) {
        size_t cap = rc->cap_persons ? rc->cap_persons * 2 : 128;
        struct rc_person *np = realloc(rc->persons, cap * sizeof *np);
        if (np == NULL)
            return -1;
        rc->persons = np;
        rc->cap_persons = cap;
        size_t *slots = calloc(cap * 2, sizeof *slots);
        if (slots == NULL)
            return -1;
        free(rc->pslots);
        rc->pslots = slots;
        rc->n_pslots = cap * 2;
        for (size_t i = 0; i < rc->n_persons; i++)
            *pslot(rc, rc->persons[i].lhandle) = i + 1;
    }
    char *copy = strdup(lhandle);
    if (copy == NULL)
        return -1;
    struct rc_person *p = &rc->persons[rc->n_persons];
    *p = (struct rc_person){.lhandle = copy,
                            .earlier = (uint8_t)ck_strset_has(&rc->earlier, lhandle),
                            .host = (uint8_t)ck_strset_has(&rc->hosts, lhandle)};
    *pslot(rc, copy) = ++rc->n_persons;
    return (long)(rc->n_persons - 1);
}

/* ---- the series' earlier sessions ----------------------------------------------- */

static void add_lower(struct ck_strset *set, const char *s)
{
    char *l = s != NULL ? ck_rc_lower(s) : NULL;
    if (l != NULL && l[0] != '\0')
        ck_strset_add(set, l);
    free(l);
}

/* Every author handle of a sibling's messages.jsonl (the archive's records). */
static void read_authors(struct ck_strset *set, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_t *r = json_loadb(line, (size_t)len, 0, NULL);
        add_lower(set, json_string_value(json_object_get(json_object_get(r, "author"), "handle")));
        json_decref(r);
    }
    free(line);
    fclose(f);
}

/* The sessions beside this one that follow the same hashtag and started
 * before it: whoever wrote there is not new. */
static void load_earlier(struct ck_runconsole *rc)
{
    char self[PATH_MAX], parent[PATH_MAX];
    if (realpath(rc->v.dir, self) == NULL)
        return;
    memcpy(parent, self, sizeof parent);
    char *slash = strrchr(parent, '/');
    if (slash == NULL)
        return;
    slash[slash == parent ? 1 : 0] = '\0';
    DIR *d = opendir(parent);
    if (d == NULL)
        return;
    const char *tag = rc->v.session->hashtag != NULL ? rc->v.session->hashtag : "";
    tag += tag[0] == '#';
    size_t sessions = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char sub[PATH_MAX], real[PATH_MAX], path[PATH_MAX + 32];
        int k =
            snprintf(sub, sizeof sub, "%s/%s", strcmp(parent, "/") == 0 ? "" : parent, e->d_name);
        if (e->d_name[0] == '.' || k < 0 || (size_t)k >= sizeof sub ||
            realpath(sub, real) == NULL || strcmp(real, self) == 0)
            continue;
        snprintf(path, sizeof path, "%s/session.json", real);
        struct ck_session other = {0};
        if (access(path, R_OK) != 0 || ck_session_load(path, &other, NULL) != 0)
            continue;
        const char *h = other.hashtag != NULL ? other.hashtag : "";
        h += h[0] == '#';
        int earlier = strcasecmp(h, tag) == 0 && other.start_ms < rc->v.session->start_ms;
        ck_session_finish(&other);
        if (!earlier)
            continue;
        snprintf(path, sizeof path, "%s/messages.jsonl", real);
        read_authors(&rc->earlier, path);
        sessions++;
    }
    closedir(d);
    if (sessions > 0)
        ck_debug("console: %zu people in %zu earlier sessions of #%s", rc->earlier.n, sessions,
                 tag);
}

void ck_rc_people_init(struct ck_runconsole *rc)
{
    ck_strset_init(&rc->earlier);
    ck_strset_init(&rc->hosts);
    ck_strset_init(&rc->dismissed_people);
    ck_strset_init(&rc->dismissed_posts);
    ck_strset_init(&rc->shown_posts);
    for (size_t i = 0; i < rc->v.session->n_facilitators; i++)
        add_lower(&rc->hosts, rc->v.session->facilitators[i]);
    rc->hosts_n = rc->hosts.n;
    json_t *d = json_object_get(json_object_get(rc->v.state, "console"), "dismissed");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(d, "people"), i, v)
        add_lower(&rc->dismissed_people, json_string_value(v));
    json_array_foreach(json_object_get(d, "posts"), i, v)
    {
        if (json_is_string(v))
            ck_strset_add(&rc->dismissed_posts, json_string_value(v));
    }
    load_earlier(rc);
    rc->people_dirty = 1;
}

void ck_rc_people_finish(struct ck_runconsole *rc)
{
    ck_strset_finish(&rc->earlier);
    ck_strset_finish(&rc->hosts);
    ck_strset_finish(&rc->dismissed_people);
    ck_strset_finish(&rc->dismissed_posts);
    ck_strset_finish(&rc->shown_posts);
    json_decref(rc->people_cache);
    for (size_t i = 0; i < rc->n_persons; i++)
        free(rc->persons[i].lhandle);
    free(rc->persons);
    free(rc->pslots);
}

/* ---- mentions --------------------------------------------------------------------- */

static int word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static int domain_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':';
}

/* Whether text mentions host ("@local@domain" or "@local", lowercase): "@local"
 * alone (how Mastodon shows a mention) or with the host's own domain, not a
 * longer name ("@locals", "@local.other.social") nor an e-mail address. */
static int mentions(const char *text, const char *host)
{
    const char *local = host[0] == '@' ? host + 1 : host;
    const char *at = strchr(local, '@');
    size_t ll = at != NULL ? (size_t)(at - local) : strlen(local);
    const char *domain = at != NULL ? at + 1 : NULL;
    if (ll == 0)
        return 0;
    for (const char *p = strchr(text, '@'); p != NULL; p = strchr(p + 1, '@')) {
        if ((p > text && (word_char(p[-1]) || p[-1] == '.')) || strncasecmp(p + 1, local, ll) != 0)
            continue;
        const char *q = p + 1 + ll;
        if (word_char(*q) || *q == '-' || (*q == '.' && word_char(q[1])))
            continue;
        if (*q != '@')
            return 1;
        size_t dl = 0;
        while (domain_char(q[1 + dl]))
            dl++;
        while (dl > 0 && q[dl] == '.') /* the end of a sentence */
            dl--;
        if (domain != NULL && dl == strlen(domain) && strncasecmp(q + 1, domain, dl) == 0)
            return 1;
    }
    return 0;
}

void ck_rc_people_scan(const struct ck_runconsole *rc, struct live_msg *m)
{
    m->ask = strchr(m->text, '?') != NULL;
    m->mention = 0;
    for (size_t i = 0; i < rc->hosts.cap && !m->mention; i++)
        if (rc->hosts.slots[i] != NULL)
            m->mention = (uint8_t)mentions(m->text, rc->hosts.slots[i]);
}

/* Every "@name" and "@name@domain" a host's message mentions: the people it
 * greets or answers. */
static void add_mentioned(struct ck_strset *set, const char *text)
{
    for (const char *p = strchr(text, '@'); p != NULL; p = strchr(p + 1, '@')) {
        if (p > text && (word_char(p[-1]) || p[-1] == '.'))
            continue;
        size_t n = 1;
        while (word_char(p[n]) || p[n] == '.' || p[n] == '-')
            n++;
        size_t local = n;
        if (p[n] == '@')
            for (n++; domain_char(p[n]); n++)
                ;
        while (n > 1 && p[n - 1] == '.')
            n--;
        if (local > n)
            local = n;
        char tok[300];
        if (local < 2 || n >= sizeof tok)
            continue;
        memcpy(tok, p, n);
        tok[n] = '\0';
        add_lower(set, tok);
        tok[local] = '\0';
        add_lower(set, tok);
    }
}

/* ---- the panels ------------------------------------------------------------------- */

/* The ids of the posts the run sheet went out as, from every source's steps
 * ("steps", "steps:NAME"), and of those the question posts. */
static void step_ids(const struct ck_runconsole *rc, struct ck_strset *all, struct ck_strset *qs)
{
    const char *key, *label;
    json_t *steps, *rec;
    json_object_foreach(rc->v.state, key, steps)
    {
        if (strncmp(key, "steps", 5) != 0 || !json_is_object(steps))
            continue;
        json_object_foreach(steps, label, rec)
        {
            const char *id = json_string_value(json_object_get(rec, "id"));
            if (id == NULL)
                continue;
            ck_strset_add(all, id);
            if (label[0] == 'Q')
                ck_strset_add(qs, id);
        }
    }
}

static int is_host(const struct ck_runconsole *rc, const struct live_msg *m)
{
    return rc->persons[m->person].host;
}

static int left_out(const struct live_msg *m)
{
    return m->g.hidden || m->g.by == CK_BY_SPAM;
}

/* The hosts: the facilitators, and whoever wrote a post the run sheet went
 * out as (found by its id); a new one is looked for in every message again. */
static void find_hosts(struct ck_runconsole *rc, const struct ck_strset *steps)
{
    for (size_t i = 0; i < steps->cap; i++) {
        const struct live_msg *m = steps->slots[i] ? ck_rc_find(rc, steps->slots[i]) : NULL;
        if (m != NULL && !rc->persons[m->person].host) {
            rc->persons[m->person].host = 1;
            ck_strset_add(&rc->hosts, m->lhandle);
        }
    }
    if (rc->hosts.n != rc->hosts_n) {
        rc->hosts_n = rc->hosts.n;
        for (size_t i = 0; i < rc->n; i++)
            ck_rc_people_scan(rc, rc->msgs[i]);
    }
}

/* One pass over the messages per panel; sets only for what the hosts wrote. */
static void build(struct ck_runconsole *rc)
{
    struct ck_strset steps, qposts, replied, greeted, host_ids;
    ck_strset_init(&steps);
    ck_strset_init(&qposts);
    ck_strset_init(&replied);
    ck_strset_init(&greeted);
    ck_strset_init(&host_ids);
    step_ids(rc, &steps, &qposts);
    find_hosts(rc, &steps);
    uint8_t *answered = calloc(rc->n_persons ? rc->n_persons : 1, 1);
    uint8_t *seen = calloc(rc->n_persons ? rc->n_persons : 1, 1);
    json_t *newcomers = json_array(), *asks = json_array();
    if (answered == NULL || seen == NULL)
        goto out;
    /* What the hosts answered and whom they greeted. */
    for (size_t i = 0; i < rc->n; i++) {
        const struct live_msg *m = rc->msgs[i];
        if (!is_host(rc, m))
            continue;
        ck_strset_add(&host_ids, m->id);
        if (m->g.by == CK_BY_QUESTION) /* a facilitator's own numbered question */
            ck_strset_add(&qposts, m->id);
        if (m->reply_to != NULL) {
            ck_strset_add(&replied, m->reply_to);
            const struct live_msg *to = ck_rc_find(rc, m->reply_to);
            if (to != NULL)
                answered[to->person] = 1;
        }
        add_mentioned(&greeted, m->text);
    }
    ck_strset_finish(&rc->shown_posts);
    ck_strset_init(&rc->shown_posts);
    for (size_t p = 0; p < rc->n_persons; p++)
        rc->persons[p].shown = 0;
    /* Oldest first: each person's first message here is their hello. */
    for (size_t i = 0; i < rc->n; i++) {
        struct live_msg *m = rc->msgs[i];
        struct rc_person *p = &rc->persons[m->person];
        if (p->host || p->earlier || seen[m->person] || left_out(m))
            continue;
        seen[m->person] = 1;
        const char *local = strchr(m->lhandle + 1, '@');
        char shortname[300];
        snprintf(shortname, sizeof shortname, "%.*s",
                 local != NULL ? (int)(local - m->lhandle) : (int)strlen(m->lhandle), m->lhandle);
        if (answered[m->person] || ck_strset_has(&greeted, m->lhandle) ||
            ck_strset_has(&greeted, shortname) || ck_strset_has(&rc->dismissed_people, m->lhandle))
            continue;
        p->shown = 1;
        json_array_append_new(newcomers, ck_rc_message_json(rc, m));
    }
    /* Newest first: what is waiting for a host's answer. A reply carries its
     * parent's author as a mention: an answer (a reply to a question, or
     * tagged A3) is not waiting for a host; a reply to another host post is
     * when it asks something; anything else when it names a host. */
    for (size_t i = rc->n; i-- > 0;) {
        struct live_msg *m = rc->msgs[i];
        if (!m->filed || (!m->mention && !m->ask) || is_host(rc, m) || left_out(m) ||
            ck_strset_has(&replied, m->id) || ck_strset_has(&rc->dismissed_posts, m->id))
            continue;
        const char *kind = NULL;
        int answer = m->g.n_questions > 0 && (m->g.by == CK_BY_TAG || m->g.by == CK_BY_REPLY);
        if (answer || (m->reply_to != NULL && ck_strset_has(&qposts, m->reply_to)))
            kind = NULL;
        else if (m->reply_to != NULL && ck_strset_has(&host_ids, m->reply_to))
            kind = m->ask ? "question" : NULL;
        else if (m->mention)
            kind = m->ask ? "question" : "mention";
        if (kind == NULL)
            continue;
        ck_strset_add(&rc->shown_posts, m->id);
        if (json_array_size(asks) < PANEL_MAX) {
            json_t *shared = ck_rc_message_json(rc, m);
            json_t *o = json_copy(shared); /* shallow: the shared object stays as it is */
            json_decref(shared);
            json_object_set_new(o, "kind", json_string(kind));
            json_array_append_new(asks, o);
        }
    }
out:;
    /* Newest newcomers first, as many as the panel shows. */
    size_t nn = json_array_size(newcomers);
    json_t *shown = json_array();
    for (size_t i = nn; i-- > 0 && json_array_size(shown) < PANEL_MAX;)
        json_array_append(shown, json_array_get(newcomers, i));
    json_decref(newcomers);
    json_decref(rc->people_cache);
    rc->people_cache =
        json_pack("{s:o, s:I, s:o, s:I}", "newcomers", shown, "newcomers_total", (json_int_t)nn,
                  "mentions", asks, "mentions_total", (json_int_t)rc->shown_posts.n);
    free(answered);
    free(seen);
    ck_strset_finish(&steps);
    ck_strset_finish(&qposts);
    ck_strset_finish(&replied);
    ck_strset_finish(&greeted);
    ck_strset_finish(&host_ids);
}

json_t *ck_rc_people_json(struct ck_runconsole *rc)
{
    if (rc->people_cache == NULL || rc->people_dirty || rc->people_gen != rc->gen) {
        build(rc);
        rc->people_dirty = 0;
        rc->people_gen = rc->gen;
    }
    return rc->people_cache;
}
