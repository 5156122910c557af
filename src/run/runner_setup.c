/* The runner's set-up (runner_int.h): the session as overridden for a
 * rehearsal, its directory and lock, session.json, state and journal; and the
 * dry run, which needs only the first of those. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatkeeper/follower.h"
#include "chatkeeper/log.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/series.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

#include "runner_int.h"

/* ---- set-up ----------------------------------------------------------------- */

int ck_runner_dir_name(const struct ck_session *s, char *buf, size_t n)
{
    char local[64];
    if (ck_time_format_local(s->timezone, s->start_ms, local, sizeof local) != 0)
        ck_time_format_rfc3339(s->start_ms, local);
    size_t off = 0;
    for (size_t i = 0; i < 10 && local[i] && off + 1 < n; i++)
        buf[off++] = local[i];
    int dash = 1;
    buf[off] = '\0';
    if (off + 1 < n)
        buf[off++] = '-';
    for (const char *p = s->title; *p && off + 1 < n && off < 80; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 128) {
            buf[off++] = (char)tolower(c);
            dash = 0;
        } else if (!dash) {
            buf[off++] = '-';
            dash = 1;
        }
    }
    while (off > 11 && buf[off - 1] == '-')
        off--;
    buf[off] = '\0';
    return 0;
}

static int mkdirs(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len >= sizeof tmp)
        return CK_EINVAL;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void scale(int64_t *v, double speed)
{
    *v = (int64_t)((double)*v / speed);
}

/* Rehearsal overrides change the session's times; the copy in the session
 * directory records the times actually used, so `archive` rebuilds the same.
 * A run sped up (--speed) keeps the file's own offsets: its statuses carry the
 * chat's clock, and the archive should look like the chat it rehearsed. */
static json_t *effective_json(const struct ck_session *s, int scaled)
{
    json_t *doc = json_deep_copy(s->json);
    char buf[64];
    ck_time_format_rfc3339(s->start_ms, buf);
    json_object_set_new(doc, "start", json_string(buf));
    json_t *fac = json_array();
    for (size_t i = 0; i < s->n_facilitators; i++)
        json_array_append_new(fac, json_string(s->facilitators[i]));
    json_object_set_new(doc, "facilitators", fac);
    json_t *plat = json_object_get(doc, "platform");
    if (json_is_object(plat))
        json_object_set_new(plat, "base_url", json_string(s->platform.base_url));
    /* Several sources: each keeps its name (what the journal and state.json
     * say); the first one's base URL is where this run went (a rehearsal's
     * simulator), the others' stay as written, so the file stays valid (a
     * source twice is an error) for archive and catchup, which fetch nothing. */
    json_t *plats = json_object_get(doc, "platforms");
    for (size_t i = 0; i < json_array_size(plats) && i < ck_session_n_platforms(s); i++) {
        json_t *e = json_array_get(plats, i);
        json_object_set_new(e, "name", json_string(ck_session_platform_at(s, i)->name));
        if (i == 0)
            json_object_set_new(e, "base_url", json_string(s->platform.base_url));
    }
    if (scaled)
        return doc;
    ck_duration_format(s->duration_ms, buf, sizeof buf);
    json_object_set_new(doc, "duration", json_string(buf));
    ck_duration_format(s->lead_ms, buf, sizeof buf);
    json_object_set_new(doc, "lead", json_string(buf));
    ck_duration_format(s->grace_ms, buf, sizeof buf);
    json_object_set_new(doc, "grace", json_string(buf));
    if (s->has_welcome && json_is_object(json_object_get(doc, "welcome"))) {
        ck_duration_format(s->welcome.at_ms, buf, sizeof buf);
        json_object_set_new(json_object_get(doc, "welcome"), "at", json_string(buf));
    }
    if (s->has_closing && json_is_object(json_object_get(doc, "closing"))) {
        ck_duration_format(s->closing.at_ms, buf, sizeof buf);
        json_object_set_new(json_object_get(doc, "closing"), "at", json_string(buf));
    }
    json_t *qs = json_object_get(doc, "questions");
    for (size_t i = 0; i < s->n_questions && i < json_array_size(qs); i++) {
        ck_duration_format(s->questions[i].at_ms, buf, sizeof buf);
        json_object_set_new(json_array_get(qs, i), "at", json_string(buf));
    }
    return doc;
}

/* On a rehearsal's simulator the facilitators' accounts live on the simulator:
 * "@uklibchat@glammr.us" becomes "@uklibchat@127.0.0.1:PORT", so grouping still
 * knows their posts. */
static void rehome_facilitators(struct ck_session *s)
{
    const char *host = strstr(s->platform.base_url, "://");
    host = host ? host + 3 : s->platform.base_url;
    size_t hl = strcspn(host, "/");
    for (size_t i = 0; i < s->n_facilitators; i++) {
        const char *f = s->facilitators[i];
        const char *at = strchr(f + 1, '@');
        if (at == NULL && strchr(f, '.') != NULL)
            continue; /* a Bluesky handle: not a Mastodon account to move */
        size_t ul = at ? (size_t)(at - f) : strlen(f);
        char *nf = malloc(ul + hl + 2);
        if (nf == NULL)
            continue;
        memcpy(nf, f, ul);
        nf[ul] = '@';
        memcpy(nf + ul + 1, host, hl);
        nf[ul + 1 + hl] = '\0';
        free(s->facilitators[i]);
        s->facilitators[i] = nf;
    }
}

static int ck_runner__apply_overrides(struct runner *r, const struct ck_runner_opts *o)
{
    struct ck_session *s = &r->s;
    r->chat_lead_ms = s->lead_ms;
    r->chat_after_ms = s->duration_ms + s->grace_ms;
    if (o->speed > 1.0) {
        r->scaled = 1;
        scale(&s->duration_ms, o->speed);
        scale(&s->lead_ms, o->speed);
        scale(&s->grace_ms, o->speed);
        scale(&s->welcome.at_ms, o->speed);
        scale(&s->closing.at_ms, o->speed);
        for (size_t i = 0; i < s->n_questions; i++)
            scale(&s->questions[i].at_ms, o->speed);
        for (size_t i = 0; i < s->n_reminders; i++)
            scale(&s->reminders[i].at_ms, o->speed);
    }
    if (o->start_at_ms > 0)
        s->start_ms = o->start_at_ms;
    if (o->poll_ms > 0)
        s->poll_chat_ms = s->poll_quiet_ms = o->poll_ms;
    if (o->base_url != NULL) {
        if (!ck_url_allowed(o->base_url)) {
            ck_err("runner: --base-url %s: only https://, or http:// on loopback", o->base_url);
            return 2;
        }
        /* Every source plays against the one simulator: it serves the chat as
         * each platform's API (Mastodon's, and Bluesky's XRPC). */
        for (size_t i = 0; i < ck_session_n_platforms(s); i++) {
            struct ck_platform_conf *pc = ck_session_platform_mut(s, i);
            char *u = strdup(o->base_url);
            if (u == NULL)
                return 1;
            free(pc->base_url);
            pc->base_url = u;
        }
        if (o->rehearsal)
            rehome_facilitators(s);
    }
    return 0;
}

/* A rehearsal (--start now) continued later keeps its first start time, so a
 * restart resumes the same session instead of starting a new one. */
static void reuse_started(struct runner *r, const struct ck_runner_opts *o)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/session.json", r->dir);
    if (o->start_at_ms <= 0 || access(r->state_path, F_OK) != 0)
        return;
    json_t *doc = json_load_file(path, 0, NULL);
    int64_t ms;
    const char *st = json_string_value(json_object_get(doc, "start"));
    if (st != NULL && ck_time_parse_rfc3339(st, &ms) == 0) {
        r->s.start_ms = ms;
        ck_info("runner: continuing the rehearsal that started at %s", st);
    }
    json_decref(doc);
}

/* The session file, or a series date made whole from the series. */
static int ck_runner__load_session(const struct ck_runner_opts *o, struct ck_session *s,
                                   struct ck_error *err)
{
    if (o->session != NULL) {
        /* Taken over: `serve` keeps the last version that passed check. */
        *s = *o->session;
        memset(o->session, 0, sizeof *o->session);
        return 0;
    }
    if (o->series_date)
        return ck_series_session_at(o->session_path, o->series_day, s, err);
    return ck_session_load(o->session_path, s, err);
}

/* One process per session directory: a second `run` (or `serve`) of the same
 * session would post every step twice. flock, so a process killed with -9
 * leaves no stale lock; taken per open, so two runners in one process exclude
 * each other too. Returns 0 or an exit status. */
static int lock_dir(struct runner *r)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", r->dir);
    r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (r->lock_fd < 0) {
        ck_err("runner: %s: %s", path, strerror(errno));
        return 1;
    }
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            ck_err("runner: %s is already being run by another chatkeeper (its lock %s is "
                   "held); not running it twice",
                   r->dir, path);
        else
            ck_err("runner: %s: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

int ck_runner__prepare(struct runner *r, const struct ck_runner_opts *o)
{
    struct ck_error err = {0};
    int rc = ck_runner__load_session(o, &r->s, &err);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    if (r->s.imported || r->s.platform.base_url == NULL) {
        fprintf(stderr,
                "chatkeeper run: %s was imported from captured data: there is no live "
                "platform to follow (use archive or catchup on its folder)\n",
                o->session_path);
        return 2;
    }
    rc = ck_runner__apply_overrides(r, o);
    if (rc != 0)
        return rc;
    if (o->out_dir != NULL) {
        snprintf(r->dir, sizeof r->dir, "%s", o->out_dir);
    } else {
        char name[128];
        ck_runner_dir_name(&r->s, name, sizeof name);
        snprintf(r->dir, sizeof r->dir, "%s/%s", r->s.archive_dir, name);
    }
    snprintf(r->journal_path, sizeof r->journal_path, "%s/journal.jsonl", r->dir);
    snprintf(r->state_path, sizeof r->state_path, "%s/state.json", r->dir);
    reuse_started(r, o);
    rc = mkdirs(r->dir);
    if (rc < 0) {
        ck_err("runner: %s: %s", r->dir, ck_strerror(rc));
        return 1;
    }
    if ((rc = lock_dir(r)) != 0)
        return rc;
    if (ck_schedule_build(&r->s, &r->sch) < 0)
        return 1;

    /* Posting needs a token; following a public hashtag does not, and a chat
     * that is over has nothing left to post. */
    int over = ck_time_now_ms() >= r->sch.grace_end_ms;
    r->n_src = ck_session_n_platforms(&r->s);
    if (r->n_src > MAX_SOURCES) {
        fprintf(stderr, "chatkeeper: %s: at most %d platforms\n", o->session_path, MAX_SOURCES);
        return 2;
    }
    int any_token = 0;
    for (size_t i = 0; i < r->n_src; i++) {
        struct source *src = &r->src[i];
        src->r = r;
        src->pc = ck_session_platform_at(&r->s, i);
        if (i == 0) {
            snprintf(src->state_key, sizeof src->state_key, "follower");
            snprintf(src->steps_key, sizeof src->steps_key, "steps");
        } else {
            snprintf(src->state_key, sizeof src->state_key, "follower:%s", src->pc->name);
            snprintf(src->steps_key, sizeof src->steps_key, "steps:%s", src->pc->name);
        }
        if (o->rehearsal || (src->pc->token_env == NULL && src->pc->token_file == NULL))
            continue;
        ck_error_clear(&err);
        rc = ck_platform_token(src->pc, &src->token, &err);
        if (rc < 0) {
            if (!o->observe && src->pc->post && !over) {
                fprintf(stderr, "chatkeeper: %s%s%s\n", r->n_src > 1 ? src->pc->name : "",
                        r->n_src > 1 ? ": " : "", err.msg);
                return 2;
            }
            ck_warn("runner: %s; following without a token", err.msg);
        }
        any_token |= src->token != NULL;
    }
    r->no_poster = over && !o->rehearsal && !any_token;

    json_t *doc = effective_json(&r->s, r->scaled);
    char path[4200];
    snprintf(path, sizeof path, "%s/session.json", r->dir);
    rc = ck_state_save(path, doc, &err); /* the same atomic write; keys sorted */
    json_decref(doc);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    rc = ck_state_load(r->state_path, &r->state, &err);
    if (rc == 0)
        rc = ck_journal_open(r->journal_path, &r->journal, &err);
    if (rc < 0) {
        ck_err("runner: %s", err.msg);
        return 1;
    }
    json_t *sess = json_object();
    char ts[32];
    ck_time_format_rfc3339(r->s.start_ms, ts);
    json_object_set_new(sess, "title", json_string(r->s.title));
    json_object_set_new(sess, "hashtag", json_string(r->s.hashtag));
    json_object_set_new(sess, "start", json_string(ts));
    json_object_set_new(r->state, "session", sess);
    json_object_set_new(r->state, "version", json_integer(1));
    return 0;
}

/* What following costs where every read is billed (X): the search requests
 * at the session's poll intervals (an upper bound: the interval slows while
 * the chat is quiet), the final sweep and the question threads, and how
 * often each post is read (each poll re-reads the overlap behind the newest
 * post; the sweep reads everything once more). */
static int64_t slow_poll(int64_t base)
{
    int64_t slow = base * CK_FOLLOW_ADAPT_MAX;
    int64_t cap = base > CK_FOLLOW_ADAPT_CAP_MS ? base : CK_FOLLOW_ADAPT_CAP_MS;
    return slow < cap ? slow : cap;
}

static void read_costs(const struct runner *r, FILE *out)
{
    for (size_t k = 0; k < ck_session_n_platforms(&r->s); k++) {
        const struct ck_platform_conf *pc = ck_session_platform_at(&r->s, k);
        const struct ck_platform_ops *ops = ck_platform_find(pc->type);
        if (ops == NULL || !ops->reads_cost)
            continue;
        int64_t quiet = r->s.poll_quiet_ms > 0 ? r->s.poll_quiet_ms : 20000;
        int64_t chat = r->s.poll_chat_ms > 0 ? r->s.poll_chat_ms : 5000;
        int64_t polls = r->s.lead_ms / quiet + r->s.duration_ms / chat + r->s.grace_ms / quiet;
        int64_t slowest = r->s.lead_ms / slow_poll(quiet) + r->s.duration_ms / slow_poll(chat) +
                          r->s.grace_ms / slow_poll(quiet);
        double per_post = 1.0 + (double)ops->overlap_ms / (double)chat + 1.0;
        fprintf(out,
                "reads on %s (billed per request and per post read): at most %lld searches "
                "while following (%lld if the chat stays quiet: the interval slows up to %dx, "
                "at most to a minute), 1 more per 100 posts for the final sweep and %zu for the "
                "threads under the run sheet's posts; "
                "each post is read about %.0f times (a %lld s overlap at a %lld s poll, and "
                "the sweep)\n",
                pc->name, (long long)polls, (long long)(slowest > 0 ? slowest : 1),
                CK_FOLLOW_ADAPT_MAX, r->s.n_questions + 2, per_post,
                (long long)(ops->overlap_ms / 1000), (long long)(chat / 1000));
    }
}

/* A run that starts after the chat says so plainly: nothing goes out now, and
 * what it does instead is read back what people said. */
int ck_runner_dry_run(const struct ck_runner_opts *o, FILE *out)
{
    struct runner *r = calloc(1, sizeof *r);
    if (r == NULL)
        return 1;
    struct ck_error err = {0};
    int code = 0;
    if (ck_runner__load_session(o, &r->s, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        code = 2;
        goto out;
    }
    code = ck_runner__apply_overrides(r, o);
    if (code != 0 || ck_schedule_build(&r->s, &r->sch) < 0) {
        code = code ? code : 1;
        goto out;
    }
    /* Several sources (issue 11): each step as it goes to each that posts. */
    size_t n_plat = ck_session_n_platforms(&r->s), n_posting = 0;
    const char *where = r->s.platform.base_url;
    for (size_t k = n_plat; k-- > 0;)
        if (ck_session_platform_at(&r->s, k)->post && ++n_posting)
            where = ck_session_platform_at(&r->s, k)->base_url;
    char several[64];
    snprintf(several, sizeof several, "%zu sources", n_posting);
    fprintf(out, "dry run: nothing is posted. %s would post on %s as #%s:\n\n", r->s.title,
            n_posting > 1 ? several : where, r->s.hashtag);
    for (size_t i = 0; i < r->sch.n; i++) {
        const struct ck_sched_entry *e = &r->sch.entries[i];
        if (!ck_runner__is_step(e))
            continue;
        char when[64], utc[32], lbl[16];
        ck_runner__local_time(r, e->at_ms, when, sizeof when);
        ck_time_format_rfc3339(e->at_ms, utc);
        ck_sched_label(e, lbl, sizeof lbl);
        char *text = ck_poster_text(&r->s, e);
        fprintf(out, "%-8s %s (%s)%s\n", lbl, when, utc,
                r->s.thread && e->kind != CK_SCHED_WELCOME ? ", replying to the step before" : "");
        for (size_t k = 0; k < n_plat && n_posting > 1; k++)
            if (ck_session_platform_at(&r->s, k)->post)
                fprintf(out, "  on %s:\n    %s\n", ck_session_platform_at(&r->s, k)->name,
                        text ? text : "(out of memory)");
        if (n_posting <= 1)
            fprintf(out, "  %s\n", text ? text : "(out of memory)");
        fputc('\n', out);
        free(text);
    }
    for (size_t k = 0; k < n_plat && n_posting > 0; k++)
        if (!ck_session_platform_at(&r->s, k)->post)
            fprintf(out, "(%s is followed, never posted to: its entry says \"post\": false)\n",
                    ck_session_platform_at(&r->s, k)->name);
    if (!r->s.post)
        fprintf(out, "(the session file says \"post\": false, so run would only follow)\n");
    read_costs(r, out);
out:
    ck_schedule_finish(&r->sch);
    ck_session_finish(&r->s);
    free(r);
    return code;
}
