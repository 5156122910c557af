/* chatkeeper publish: re-check the quoted posts, render the write-up, then
 * deliver it to each target in the session's "publish" section, recording
 * each result in state.json the moment it exists (see publish.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/log.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/state.h"
#include "chatkeeper/writeup.h"
#include "publish_internal.h"

#define MAX_RECHECK_ROUNDS 8

/* Look up every highlighted post; 404/410 means deleted. Returns 1 when it
 * added ids to deleted, 0 when all exist, or a negative code. */
static int recheck(struct ck_pub *p, const json_t *data, json_t *ok, json_t *deleted,
                   struct ck_error *err)
{
    const struct ck_platform_ops *ops = ck_platform_find(p->s->platform.type);
    if (ops == NULL || ops->status_request == NULL)
        return 0; /* nothing to ask: the platform cannot be asked for one post */
    char *token = NULL;
    struct ck_error te = {0};
    /* Public posts need no token; use a static one when there is one (a
     * sign-in platform's password is not a token). */
    if (ops->signin_request != NULL || ck_session_token(p->s, &token, &te) != 0)
        token = NULL;
    int rc = 0, added = 0;
    size_t i, j;
    json_t *q, *h;
    json_array_foreach(json_object_get(data, "questions"), i, q)
    {
        json_array_foreach(json_object_get(q, "highlights"), j, h)
        {
            const char *id = json_string_value(json_object_get(h, "id"));
            if (rc != 0 || id == NULL || json_object_get(ok, id) != NULL)
                continue;
            struct ck_request req;
            struct ck_response resp = {0};
            rc = ops->status_request(p->s->platform.base_url, token, id, &req, err);
            if (rc == 0)
                rc = ck_pub_send(p, &req, &resp, err);
            int exists = rc == 0 ? ops->parse_exists(&resp, NULL) : rc;
            if (rc == 0 && exists == CK_ENOTFOUND) {
                ck_info("publish: quoted status %s was deleted; leaving it out", id);
                fprintf(p->out, "re-check: status %s is gone (HTTP %ld), left out\n", id,
                        resp.status);
                rc = json_array_append_new(deleted, json_string(id)) ? CK_ENOMEM : 0;
                added = 1;
            } else if (rc == 0 && exists == 0) {
                rc = json_object_set_new(ok, id, json_true()) ? CK_ENOMEM : 0;
            } else if (rc == 0) {
                rc = ck_error_set(err, CK_EHTTP,
                                  "cannot check that quoted status %s still exists: %s answered "
                                  "HTTP %ld (use --no-platform to publish without the check)",
                                  id, p->s->platform.base_url, resp.status);
            }
            ck_request_finish(&req);
            ck_response_finish(&resp);
        }
    }
    ck_pub_secret_free(token);
    if (rc == CK_ENOMEM)
        ck_error_set(err, rc, "out of memory");
    return rc < 0 ? rc : added;
}

static int save_deleted(const char *dir, const json_t *deleted, struct ck_error *err)
{
    char *path = ck_path_join(dir, "deleted.json");
    json_t *doc = json_pack("{s:O s:s}", "deleted", deleted, "note",
                            "statuses quoted in the write-up that the platform no longer has "
                            "(found by chatkeeper publish); leave them out like hidden ones");
    int rc = path && doc ? ck_state_save(path, doc, err) : ck_error_set(err, CK_ENOMEM, "oom");
    free(path);
    json_decref(doc);
    return rc;
}

/* "uklibchat-2026-12-03-online-networks": the ASCII letters and digits of
 * the hashtag, lower-cased, the local date, then the title's words the same
 * way (cut at a word, so the slug stays readable). Two sessions can share
 * one (the same title twice a day, a rehearsal): WordPress then makes it
 * unique, and the key in the content tells the posts apart. */
static void make_slug(const struct ck_session *s, const json_t *data, char *buf, size_t n)
{
    size_t t = 0;
    for (const char *c = s->hashtag; *c != '\0' && t + 1 < n; c++)
        if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
            buf[t++] = *c;
        else if (*c >= 'A' && *c <= 'Z')
            buf[t++] = (char)(*c - 'A' + 'a');
    buf[t] = '\0';
    snprintf(buf + t, n - t, "%s%s", t ? "-" : "chat-",
             json_string_value(json_object_get(data, "date_iso")));
    size_t o = strlen(buf), keep = o, limit = o + 50 < n ? o + 50 : n - 1;
    bool in_word = false, cut = false;
    for (const char *c = s->title; *c != '\0' && !cut; c++) {
        char ch = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) {
            in_word = false;
            continue;
        }
        if (!in_word) {
            keep = o; /* everything before this word is whole */
            in_word = true;
            if (o + 2 > limit)
                cut = true;
            else
                buf[o++] = '-';
        }
        if (o >= limit)
            cut = true;
        else if (!cut)
            buf[o++] = ch;
    }
    buf[cut ? keep : o] = '\0';
}

void ck_pub_key(const struct ck_session *s, char *buf, size_t n)
{
    /* FNV-1a, as the poster's step keys: stable across versions and hosts. */
    char start[32];
    snprintf(start, sizeof start, "%lld", (long long)s->start_ms);
    const char *parts[] = {s->hashtag, start, s->title};
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < 3; i++) {
        for (const unsigned char *c = (const unsigned char *)parts[i]; *c != '\0'; c++) {
            h ^= i == 0 && *c >= 'A' && *c <= 'Z' ? (unsigned char)(*c - 'A' + 'a') : *c;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* a separator no UTF-8 text contains */
        h *= 1099511628211ULL;
    }
    snprintf(buf, n, "ck-%016llx", (unsigned long long)h);
}

void ck_pub_unwrap_html(char *html)
{
    bool pre = false;
    for (char *c = html; *c != '\0'; c++) {
        if (*c == '<') {
            if (strncasecmp(c, "<pre", 4) == 0 && (c[4] == '>' || c[4] == ' '))
                pre = true;
            else if (strncasecmp(c, "</pre>", 6) == 0)
                pre = false;
        } else if (!pre && (*c == '\n' || *c == '\r')) {
            *c = ' ';
        }
    }
}

/* The write-up as it will be published: highlights re-checked until every one
 * left is known to exist, then rendered. */
static int prepare(struct ck_pub *p, bool live, const struct ck_writeup_digest *digest,
                   json_t *deleted, json_t **data, char **md, char **html, struct ck_error *err)
{
    json_t *ok = json_object();
    size_t before = json_array_size(deleted);
    int rc = ok ? 0 : ck_error_set(err, CK_ENOMEM, "out of memory");
    /* Each round drops at least one deleted post, and new highlights take
     * their places (the digest keeps spare candidates for that), so those are
     * checked in the next round. */
    for (int round = 0; rc == 0; round++) {
        json_decref(*data);
        *data = NULL;
        rc = ck_writeup_data(digest, deleted, data, err);
        if (rc != 0 || !live || p->dry_run || round == MAX_RECHECK_ROUNDS)
            break;
        rc = recheck(p, *data, ok, deleted, err);
        if (rc <= 0)
            break;
        rc = 0;
    }
    json_decref(ok);
    if (rc == 0 && json_array_size(deleted) > before) {
        rc = save_deleted(p->dir, deleted, err);
        /* The archive treats deleted.json like hidden posts: rebuild it so the
         * transcripts, CSV and summary drop them as the write-up does. */
        char *journal = ck_path_join(p->dir, "journal.jsonl");
        if (rc == 0 && !p->dry_run && journal != NULL && access(journal, F_OK) == 0)
            rc = ck_archive_build(p->dir, NULL, err);
        else if (rc == 0 && !p->dry_run)
            ck_info("publish: no journal here, so the other outputs keep the deleted posts "
                    "until the archive is rebuilt");
        free(journal);
    }
    if (rc == 0)
        rc = ck_writeup_format(p->s, *data, md, html, err);
    if (rc == 0 && !p->dry_run)
        rc = ck_writeup_render(p->dir, err);
    return rc;
}

static int announce_target(struct ck_pub *p, const json_t *conf, struct ck_error *err)
{
    (void)conf;
    return ck_pub_announce(p, err);
}

/* The targets, in the order they are published: the announcement last, since
 * it links to the posts before it. Each is its key in the session's
 * "publish" section (an object, or true for the announcement) and in
 * state.json's "published". Adding a target is a row here and a file. */
static const struct target {
    const char *name;
    int (*deliver)(struct ck_pub *p, const json_t *conf, struct ck_error *err);
    bool needs_platform; /* posts on the chat's own platform */
} targets[] = {
    {"wordpress", ck_pub_wordpress, false},
    {"micropub", ck_pub_micropub, false},
    {"announce", announce_target, true},
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

static int deliver(struct ck_pub *p, const json_t *conf, bool live, struct ck_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < N_TARGETS && rc == 0; i++) {
        const json_t *c = json_object_get(conf, targets[i].name);
        if (!json_is_object(c) && !json_is_true(c))
            continue;
        if (targets[i].needs_platform && !live) {
            fprintf(p->out, "%s: skipped, this session has no live platform\n", targets[i].name);
            continue;
        }
        rc = targets[i].deliver(p, c, err);
    }
    if (rc != 0 && !p->dry_run) {
        /* Say what is already out there, so nobody thinks nothing happened. */
        struct ck_sbuf done = {0};
        for (size_t i = 0; i < N_TARGETS; i++) {
            if (ck_pub_recorded(p, targets[i].name) == NULL)
                continue;
            if (done.len > 0)
                ck_sbuf_str(&done, ", ");
            ck_sbuf_str(&done, targets[i].name);
        }
        if (done.len > 0 && !done.oom)
            fprintf(p->out, "publish: stopped by an error; already published (state.json): %s\n",
                    done.s);
        free(done.s);
    }
    return rc;
}

int ck_publish_session(const char *dir, const struct ck_publish_opts *opts, struct ck_error *err)
{
    struct ck_publish_opts none = {0};
    struct ck_session s = {0};
    struct ck_pub p = {.dir = dir, .s = &s, .opts = opts ? opts : &none};
    p.out = p.opts->out ? p.opts->out : stdout;
    p.dry_run = p.opts->dry_run;
    struct ck_writeup_digest *digest = NULL;
    json_t *deleted = NULL, *data = NULL;
    char *md = NULL, *html = NULL;
    int rc = ck_writeup_load(dir, &s, &digest, &deleted, err);
    if (rc != 0)
        return rc;
    const json_t *conf = json_object_get(s.json, "publish");
    char title[512], slug[160], key[24];
    bool live = !s.imported && !p.opts->no_platform && s.platform.base_url != NULL;
    if (conf == NULL)
        rc =
            ck_error_set(err, CK_ECONFIG, "%s: no \"publish\" section, nothing to publish", s.path);
    if (rc == 0 && !live)
        fprintf(p.out, "re-check: skipped, %s (quoted posts are not checked on the platform)\n",
                p.opts->no_platform ? "--no-platform given" : "this session has no live platform");
    p.state_path = ck_path_join(dir, "state.json");
    if (rc == 0 && p.state_path == NULL)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0)
        rc = ck_state_load(p.state_path, &p.state, err);
    if (rc == 0 && live && p.dry_run)
        fprintf(p.out, "re-check: would look up each quoted status on %s\n", s.platform.base_url);
    if (rc == 0)
        rc = prepare(&p, live, digest, deleted, &data, &md, &html, err);
    if (rc == 0) {
        snprintf(title, sizeof title, "%s: #%s chat, %s", s.title, s.hashtag,
                 json_string_value(json_object_get(data, "date_local")));
        make_slug(&s, data, slug, sizeof slug);
        ck_pub_key(&s, key, sizeof key);
        /* writeup.html is already written: only what is sent is unwrapped. */
        ck_pub_unwrap_html(html);
        p.title = title;
        p.slug = slug;
        p.key = key;
        p.html = html;
        p.data = data;
        rc = deliver(&p, conf, live, err);
    }
    free(md);
    free(html);
    free(p.state_path);
    json_decref(p.state);
    json_decref(data);
    ck_writeup_digest_destroy(digest);
    json_decref(deleted);
    ck_session_finish(&s);
    return rc;
}
