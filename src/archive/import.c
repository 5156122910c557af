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
#include "chatkeeper/x.h"
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
    size_t lineno;  /* 0 for a file read whole */
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

/* A tweet and the originals it carries inside (ck_x_embedded): a retweet in
 * a twarc 1 file or a twarc2 flattened file is a boost under its original
 * only if the original is journaled too, and often no line holds it. */
static int add_tweet(struct imp *im, json_t *obj)
{
    int rc = add_object(im, obj);
    json_t *inside = NULL;
    if (rc == 0 && json_is_object(obj))
        rc = ck_x_embedded(obj, &inside, im->err);
    for (size_t i = 0; rc == 0 && i < json_array_size(inside); i++) {
        json_t *t = json_array_get(inside, i);
        const char *id = im->ops->item_id(t);
        if (id != NULL && !ck_strset_has(&im->seen, id))
            rc = add_object(im, t);
    }
    json_decref(inside);
    return rc;
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
    snprintf(what, sizeof what,
             "the page reports %zu API error%s beside its tweets (first: %.120s)",
             json_array_size(errors), json_array_size(errors) == 1 ? "" : "s",
             detail != NULL ? detail : "no detail");
    for (char *p = what; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    ck_info("import: %s:%zu: %s; the tweets are imported, those objects are missing", im->file,
            im->lineno, what);
}

/* A v2 page's tweets, flattened with what they point at (ck_x_page_items:
 * the same objects the live follower journals). */
static int add_page(struct imp *im, json_t *page)
{
    json_t *data = json_object_get(page, "data");
    if (!json_is_array(data) && !json_is_object(data)) {
        if (data == NULL && json_object_get(page, "errors") != NULL) {
            report(im, "an API error response, not tweets");
            im->st->corrupt++;
        }
        return 0; /* a page with no results has no "data" */
    }
    note_errors(im, page);
    json_t *items;
    size_t n_own;
    int rc = ck_x_page_items(page, &items, &n_own, im->err);
    for (size_t i = 0; rc == 0 && i < json_array_size(items); i++) {
        json_t *t = json_array_get(items, i);
        const char *id = json_string_value(json_object_get(t, "id"));
        if (!json_is_object(t)) {
            report(im, "a v2 page's data item is not an object");
            im->st->corrupt++;
        } else if (i < n_own || id == NULL || !ck_strset_has(&im->seen, id)) {
            /* An included original already journaled is not counted again. */
            rc = add_object(im, t);
        }
    }
    json_decref(items);
    return rc;
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
    return im->twarc ? add_tweet(im, v) : add_object(im, v);
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
