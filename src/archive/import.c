/* chatkeeper import: statuses and tweets captured by other tools become a
 * session directory, through the same journal the live follower writes.
 *
 * Every input object is checked by the platform's normaliser before it is
 * journaled: an object the archive could not read would otherwise sit in the
 * journal forever and be reported on every rebuild. The journal's fetched_at
 * is the object's created_at, so the output depends only on the inputs.
 * Input files may be huge (a year of a hashtag): they are read line by line;
 * only a file that is one JSON value spread over several lines (a saved
 * timeline array, a pretty-printed status) is loaded whole.
 *
 * A run that reads nothing must not look like one that worked: every input
 * is opened and its format named (import_detect.c) before anything is
 * written, and a file that is mostly unreadable fails the run with one line
 * instead of ending "0 messages", exit 0, after a screenful of warnings. */
#include "chatkeeper/import.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "chatkeeper/config.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/log.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/state.h"
#include "chatkeeper/strset.h"
#include "import_src.h"

/* Per-line problems shown per file; the rest are counted in the summary. */
#define MAX_REPORTS 10

struct imp {
    const struct ck_platform_ops *ops;
    bool twarc;
    struct ck_journal *j;
    struct ck_strset seen; /* ids of our platform already in the journal */
    struct ck_import_stats *st;
    const char *file;
    size_t lineno; /* 0 for a file read whole */
    size_t reports; /* in this file */
    struct ck_error *err;
};

static void report(struct imp *im, const char *raw)
{
    /* jansson quotes the bytes it choked on ("near '...'") and ids come
     * from the input: nothing in them may drive the terminal. */
    char what[300];
    size_t i = 0;
    for (; raw[i] != '\0' && i + 1 < sizeof what; i++) {
        unsigned char c = (unsigned char)raw[i];
        what[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    what[i] = '\0';
    if (++im->reports > MAX_REPORTS) {
        if (im->reports == MAX_REPORTS + 1)
            ck_warn("import: %s: more problems than these; the rest are counted, not shown",
                    im->file);
        return;
    }
    if (im->lineno > 0)
        ck_warn("import: %s:%zu: %s; skipped", im->file, im->lineno, what);
    else
        ck_warn("import: %s: %s; skipped", im->file, what);
}

/* Journal obj (borrowed) unless it is already there or will not normalise. */
static int add_object(struct imp *im, json_t *obj)
{
    im->st->objects++;
    struct ck_message m;
    struct ck_error nerr = {0};
    int rc = im->ops->normalise(obj, &m, &nerr);
    if (rc == CK_ENOMEM)
        return ck_error_set(im->err, rc, "import: out of memory");
    if (rc != 0) {
        report(im, nerr.msg);
        im->st->rejected++;
        return 0;
    }
    ck_message_finish(&m);
    rc = ck_strset_add(&im->seen, im->ops->item_id(obj));
    if (rc < 0)
        return ck_error_set(im->err, rc, "import: out of memory");
    if (rc == 0) {
        im->st->duplicates++;
        return 0;
    }
    /* One append (and fsync) per object: fetched_at differs for each. */
    rc = ck_journal_append(im->j, im->ops->name, "import", im->ops->item_time(obj), &obj, 1,
                           im->err);
    if (rc == 0)
        im->st->added++;
    return rc;
}

/* id -> object for an includes array ("users" by "id", "media" by "media_key"). */
static const json_t *find_by(const json_t *arr, const char *key, const char *value)
{
    for (size_t i = 0; value != NULL && i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(arr, i), key));
        if (v != NULL && strcmp(v, value) == 0)
            return json_array_get(arr, i);
    }
    return NULL;
}

/* A v2 tweet from a response page, in twarc2's flattened shape: "author" from
 * includes.users, attachments.media from includes.media. New reference or NULL. */
static json_t *flatten_one(const json_t *tweet, const json_t *includes)
{
    json_t *t = json_copy((json_t *)tweet); /* shallow: members are shared, not copied */
    if (t == NULL)
        return NULL;
    const json_t *users = json_object_get(includes, "users");
    const json_t *author =
        find_by(users, "id", json_string_value(json_object_get(tweet, "author_id")));
    if (author != NULL && json_object_set(t, "author", (json_t *)author) != 0)
        goto fail;
    const json_t *att = json_object_get(tweet, "attachments");
    const json_t *keys = json_object_get(att, "media_keys");
    const json_t *media = json_object_get(includes, "media");
    if (json_is_array(keys) && json_is_array(media) && json_object_get(att, "media") == NULL) {
        json_t *a = json_copy((json_t *)att);
        json_t *list = json_array();
        if (a == NULL || list == NULL || json_object_set_new(a, "media", list) != 0 ||
            json_object_set_new(t, "attachments", a) != 0) {
            json_decref(a);
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(keys); i++) {
            const json_t *m =
                find_by(media, "media_key", json_string_value(json_array_get(keys, i)));
            if (m != NULL && json_array_append(list, (json_t *)m) != 0)
                goto fail;
        }
    }
    return t;
fail:
    json_decref(t);
    return NULL;
}

/* flatten_one, and each referenced tweet found in includes.tweets embedded
 * in its referenced_tweets entry (flattened too, with its "type"), as twarc2
 * flattens: a retweet then carries its original's whole text, a quote its
 * quoted post, wherever the journal line goes. New reference or NULL. */
static json_t *flatten(const json_t *tweet, const json_t *includes)
{
    json_t *t = flatten_one(tweet, includes);
    const json_t *refs = json_object_get(tweet, "referenced_tweets");
    const json_t *tweets = json_object_get(includes, "tweets");
    if (t == NULL || !json_is_array(refs) || !json_is_array(tweets))
        return t;
    json_t *list = json_array();
    if (list == NULL || json_object_set_new(t, "referenced_tweets", list) != 0)
        goto fail;
    for (size_t i = 0; i < json_array_size(refs); i++) {
        json_t *r = json_array_get(refs, i);
        const json_t *full = find_by(tweets, "id", json_string_value(json_object_get(r, "id")));
        json_t *e = full != NULL ? flatten_one(full, includes) : json_incref(r);
        json_t *type = json_object_get(r, "type"); /* may be absent: the normaliser says so */
        if (e != NULL && full != NULL && type != NULL && json_object_set(e, "type", type) != 0) {
            json_decref(e);
            e = NULL;
        }
        if (e == NULL || json_array_append_new(list, e) != 0) /* append_new steals e */
            goto fail;
    }
    return t;
fail:
    json_decref(t);
    return NULL;
}

/* Flatten a v2 tweet with its page's includes and journal it. */
static int add_flat(struct imp *im, const json_t *tweet, const json_t *includes)
{
    json_t *t = flatten(tweet, includes);
    if (t == NULL)
        return ck_error_set(im->err, CK_ENOMEM, "import: out of memory");
    int rc = add_object(im, t);
    json_decref(t);
    return rc;
}

/* Journal the tweets a page's tweet points at from includes.tweets: the
 * original of a retweet and a quoted post (so a retweet is a boost under its
 * original, not a boost of nothing) and the other versions of an edited
 * tweet (so the latest version is the message). Replied-to parents are not:
 * they are context the hashtag's search did not return. */
static int add_included(struct imp *im, const json_t *tweet, const json_t *includes)
{
    const json_t *tweets = json_object_get(includes, "tweets");
    const json_t *refs = json_object_get(tweet, "referenced_tweets");
    const json_t *hist = json_object_get(tweet, "edit_history_tweet_ids");
    size_t nrefs = json_array_size(refs);
    for (size_t i = 0; i < nrefs + json_array_size(hist); i++) {
        const char *id;
        if (i < nrefs) {
            const json_t *r = json_array_get(refs, i);
            const char *type = json_string_value(json_object_get(r, "type"));
            if (type == NULL || (strcmp(type, "retweeted") != 0 && strcmp(type, "quoted") != 0))
                continue;
            id = json_string_value(json_object_get(r, "id"));
        } else {
            id = json_string_value(json_array_get(hist, i - nrefs));
        }
        const json_t *full = find_by(tweets, "id", id);
        if (full == NULL || ck_strset_has(&im->seen, id))
            continue;
        int rc = add_flat(im, full, includes);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A page's "errors" beside its "data" are objects the API could not show
 * (a suspended author, a deleted quoted tweet): said once, not fatal. */
static void note_errors(struct imp *im, const json_t *page)
{
    const json_t *errors = json_object_get(page, "errors");
    if (!json_is_array(errors) || json_array_size(errors) == 0)
        return;
    const char *detail = json_string_value(json_object_get(json_array_get(errors, 0), "detail"));
    char what[300];
    snprintf(what, sizeof what, "the page reports %zu API error%s beside its tweets (first: %.120s)",
             json_array_size(errors), json_array_size(errors) == 1 ? "" : "s",
             detail != NULL ? detail : "no detail");
    for (char *p = what; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    ck_info("import: %s:%zu: %s; the tweets are imported, those objects are missing", im->file,
            im->lineno, what);
}

static int add_page(struct imp *im, json_t *page)
{
    json_t *data = json_object_get(page, "data");
    const json_t *includes = json_object_get(page, "includes");
    if (json_is_object(data)) {
        /* A single-tweet lookup (or a stream line) answers with "data": {...}. */
        int rc = add_flat(im, data, includes);
        note_errors(im, page);
        return rc != 0 ? rc : add_included(im, data, includes);
    }
    if (!json_is_array(data)) {
        if (data == NULL && json_object_get(page, "errors") != NULL) {
            report(im, "an API error response, not tweets");
            im->st->corrupt++;
        }
        return 0; /* a page with no results has no "data" */
    }
    note_errors(im, page);
    for (size_t i = 0; i < json_array_size(data); i++) {
        json_t *tweet = json_array_get(data, i);
        if (!json_is_object(tweet)) {
            report(im, "a v2 page's data item is not an object");
            im->st->corrupt++;
            continue;
        }
        int rc = add_flat(im, tweet, includes);
        if (rc != 0)
            return rc;
    }
    /* After the page's own tweets, so those are journaled as the search gave them. */
    for (size_t i = 0; i < json_array_size(data); i++) {
        int rc = add_included(im, json_array_get(data, i), includes);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* One parsed input value: an object (status, tweet, v2 page) or an array of them. */
static int add_value(struct imp *im, json_t *v)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int rc = add_value(im, json_array_get(v, i));
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (!json_is_object(v)) {
        report(im, "not a JSON object");
        im->st->corrupt++;
        return 0;
    }
    /* A chatkeeper journal line: its object is what the API returned. */
    json_t *inner = json_object_get(v, "object");
    if (json_is_object(inner) && json_is_string(json_object_get(v, "platform")) &&
        json_is_string(json_object_get(v, "fetched_at")))
        return add_value(im, inner);
    if (im->twarc && json_object_get(v, "data") != NULL && json_object_get(v, "id") == NULL)
        return add_page(im, v);
    /* A saved answer (a Bluesky search page, a thread): its items. */
    json_t *items = im->ops->unwrap_saved != NULL ? im->ops->unwrap_saved(v) : NULL;
    if (items != NULL) {
        int rc = add_value(im, items);
        json_decref(items);
        return rc;
    }
    return add_object(im, v);
}

static int import_file(struct imp *im, struct ck_src *src)
{
    const char *line;
    size_t n;
    int rc = 0, more = 0;
    im->lineno = 0;
    im->reports = 0;
    ck_src_seek(src, 0); /* the sniff read ahead; the source was held */
    while (rc == 0 && (more = ck_src_line(src, &line, &n, im->err)) == 1) {
        im->lineno++;
        ck_src_progress(src, im->st->objects);
        if (ck_src_blank(line, n))
            continue;
        json_error_t jerr;
        json_t *v = json_loadb(line, n, 0, &jerr);
        if (v == NULL && src->held) {
            /* A first line that is not JSON alone may start a value spread
             * over the file; if the file is not that either, the line is
             * just corrupt and line mode carries on after it. */
            uint64_t after = ck_src_tell(src);
            ck_src_seek(src, 0);
            json_t *w = ck_src_load_rest(src, NULL);
            if (w != NULL) {
                im->st->lines++;
                im->lineno = 0;
                rc = add_value(im, w);
                json_decref(w);
                break;
            }
            ck_src_seek(src, after);
        }
        ck_src_release(src);
        im->st->lines++;
        if (v == NULL) {
            char what[300];
            /* A capture stopped while it wrote (twarc2 stream, kill): the
             * last line has no newline and ends early; the rest is good. */
            if (line[n - 1] != '\n' && src->eof && src->pos == src->end)
                snprintf(what, sizeof what,
                         "the last line is cut short (the capture stopped while writing it)");
            else
                snprintf(what, sizeof what, "not JSON (%s)", jerr.text);
            report(im, what);
            im->st->corrupt++;
            continue;
        }
        rc = add_value(im, v);
        json_decref(v);
    }
    if (rc == 0 && more < 0)
        rc = more;
    ck_src_progress_end(src);
    if (rc == 0 && src->truncated)
        ck_warn("import: %s: the gzip file is cut short; read up to the cut", im->file);
    return rc;
}

static int remember_line(size_t lineno, const json_t *entry, void *arg)
{
    struct imp *im = arg;
    const char *p = json_string_value(json_object_get(entry, "platform"));
    if (p == NULL || strcmp(p, im->ops->name) != 0)
        return 0;
    const char *id = im->ops->item_id(json_object_get(entry, "object"));
    if (id == NULL)
        return 0;
    return ck_strset_add(&im->seen, id) < 0 ? CK_ENOMEM : 0;
}

/* DIR/session.json: the session as used, marked "imported" so it loads
 * without a platform section (see ck_session_load_import). */
static int write_session(const struct ck_session *s, const char *platform, const char *path,
                         struct ck_error *err)
{
    json_t *doc = json_copy(s->json);
    if (doc == NULL || json_object_set_new(doc, "imported", json_string(platform)) != 0) {
        json_decref(doc);
        return ck_error_set(err, CK_ENOMEM, "import: out of memory");
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (text == NULL)
        return ck_error_set(err, CK_ENOMEM, "import: out of memory");
    struct ck_atomic_file *out;
    int rc = ck_atomic_open(path, &out, err);
    if (rc == 0) {
        rc = ck_atomic_write(out, text, strlen(text), err);
        if (rc == 0)
            rc = ck_atomic_write(out, "\n", 1, err);
        if (rc == 0)
            rc = ck_atomic_commit(out, err);
        else
            ck_atomic_abort(out);
    }
    free(text);
    return rc;
}

/* After file's import (counts from before to st): one line in err when
 * what could not be read outnumbers what could. */
static void judge_file(const char *name, const struct ck_import_stats *before,
                       const struct ck_import_stats *st, struct ck_error *verdict)
{
    size_t bad = (st->corrupt - before->corrupt) + (st->rejected - before->rejected);
    size_t good = (st->added - before->added) + (st->duplicates - before->duplicates);
    if (bad <= good)
        return;
    ck_error_set(verdict, CK_EPARSE,
                 "%s: most of it could not be read: %zu corrupt lines and %zu rejected objects, "
                 "against %zu objects read (those are imported)",
                 name, st->corrupt - before->corrupt, st->rejected - before->rejected, good);
}

int ck_import_run(const struct ck_import_opts *o, struct ck_import_stats *stats,
                  struct ck_error *err)
{
    struct ck_import_stats st = {0};
    struct imp im = {.st = &st, .err = err};
    struct ck_session s = {0};
    struct ck_src *src = NULL;
    struct ck_sniff *sn = NULL;
    struct ck_error verdict = {0};
    char *session_out = NULL, *journal_path = NULL;
    char **files = NULL;
    size_t n_files = 0;
    const char *format = NULL;
    int rc;
    if (o->format != NULL && strcmp(o->format, "mastodon") != 0 &&
        strcmp(o->format, "bluesky") != 0 && strcmp(o->format, "twarc") != 0)
        return ck_error_set(err, CK_EUSAGE, "unknown format \"%s\" (mastodon, bluesky or twarc)",
                            o->format);
    for (size_t i = 0, stdin_seen = 0; i < o->n_files; i++)
        if (strcmp(o->files[i], "-") == 0 && stdin_seen++ > 0)
            return ck_error_set(err, CK_EUSAGE, "\"-\" (standard input) can be read once only");
    ck_strset_init(&im.seen);
    rc = ck_src_expand(o->files, o->n_files, &files, &n_files, err);
    if (rc != 0)
        goto out;
    rc = ck_session_load_import(o->session_path, &s, err);
    if (rc != 0) {
        rc = rc == CK_ENOMEM ? rc : CK_ECONFIG;
        goto out;
    }
    src = calloc(n_files + 1, sizeof *src);
    sn = calloc(n_files + 1, sizeof *sn);
    session_out = ck_path_join(o->out_dir, "session.json");
    journal_path = ck_path_join(o->out_dir, "journal.jsonl");
    if (src == NULL || sn == NULL || session_out == NULL || journal_path == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "import: out of memory");
        goto out;
    }
    /* Every input opens, and shows what it is, before anything is written:
     * a typo in one name or a wrong --platform should not leave a
     * half-made directory behind. */
    for (size_t i = 0; i < n_files; i++) {
        rc = ck_src_open(&src[i], files[i], err);
        if (rc != 0)
            goto out;
    }
    rc = ck_sniff_choose(src, sn, n_files, o->format, &format, &st.kind, err);
    if (rc != 0)
        goto out;
    for (size_t i = 0; i < n_files; i++)
        if (sn[i].lines == 0)
            ck_warn("import: %s: empty; nothing in it", src[i].name);
    im.twarc = strcmp(format, "twarc") == 0;
    im.ops = ck_platform_find(im.twarc ? "x" : format);
    if (im.ops == NULL) {
        rc = ck_error_set(err, CK_EUSAGE, "import: no platform reads %s", format);
        goto out;
    }
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) {
        rc = ck_error_set(err, -errno, "%s: %s", o->out_dir, strerror(errno));
        goto out;
    }
    rc = write_session(&s, im.ops->name, session_out, err);
    if (rc == 0)
        rc = ck_journal_open(journal_path, &im.j, err);
    if (rc == 0)
        rc = ck_journal_read(journal_path, remember_line, &im, NULL, err);
    if (rc == CK_ENOMEM)
        ck_error_set(err, rc, "import: out of memory");
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        struct ck_import_stats before = st;
        im.file = src[i].name;
        rc = import_file(&im, &src[i]);
        if (rc == 0)
            judge_file(src[i].name, &before, &st, &verdict);
    }
    ck_journal_close(im.j);
    im.j = NULL;
    if (rc == 0)
        rc = ck_archive_build(o->out_dir, &st.archive, err);
    if (rc == 0 && stats != NULL)
        *stats = st;
    if (rc == 0 && verdict.code != 0)
        rc = ck_error_set(err, verdict.code, "%s", verdict.msg);
out:
    for (size_t i = 0; src != NULL && i < n_files; i++)
        ck_src_close(&src[i]);
    ck_src_expand_free(files, n_files);
    free(src);
    free(sn);
    free(journal_path);
    free(session_out);
    ck_strset_finish(&im.seen);
    ck_session_finish(&s);
    return rc;
}
