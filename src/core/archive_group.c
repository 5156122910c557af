/* The archive's second pass: group messages.jsonl under its questions.
 *
 * Reads the file the first pass wrote (sorted, deduplicated), builds one
 * compact record per message (ids and handles in an arena; the text is scanned
 * once and dropped), assigns questions, then rewrites the file adding
 * "questions" and "assigned_by" to each line, leaving out hidden and opted-out
 * messages. Lines are extended in place (before their closing brace) rather
 * than re-serialised: the bytes of every other key stay exactly as written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/config.h"
#include "chatkeeper/group.h"
#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

struct rec_strings {
    size_t id, reply_to, author; /* offsets into the arena; (size_t)-1 for none */
};

struct pass {
    char *arena;
    size_t arena_len, arena_cap;
    struct ck_group_msg *msgs;
    struct rec_strings *strs;
    size_t n, cap;
};

static size_t arena_add(struct pass *p, const char *s)
{
    if (s == NULL)
        return (size_t)-1;
    size_t len = strlen(s) + 1;
    if (p->arena_len + len > p->arena_cap) {
        size_t cap = p->arena_cap ? p->arena_cap * 2 : 1 << 16;
        while (cap < p->arena_len + len)
            cap *= 2;
        char *a = realloc(p->arena, cap);
        if (a == NULL)
            return (size_t)-2;
        p->arena = a;
        p->arena_cap = cap;
    }
    memcpy(p->arena + p->arena_len, s, len);
    p->arena_len += len;
    return p->arena_len - len;
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Read one line into the next record. */
static int take_line(struct pass *p, const struct ck_group_scanner *sc, const char *line,
                     size_t len, struct ck_error *err, const char *path, size_t lineno)
{
    json_error_t je;
    json_t *m = json_loadb(line, len, 0, &je);
    if (!json_is_object(m)) {
        json_decref(m);
        return ck_error_set(err, CK_ECORRUPT, "%s:%zu: %s", path, lineno,
                            m ? "not an object" : je.text);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        struct ck_group_msg *msgs = realloc(p->msgs, cap * sizeof *msgs);
        if (msgs != NULL)
            p->msgs = msgs;
        struct rec_strings *strs = msgs ? realloc(p->strs, cap * sizeof *strs) : NULL;
        if (strs == NULL) {
            json_decref(m);
            return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        }
        p->strs = strs;
        p->cap = cap;
    }
    struct ck_group_msg *g = &p->msgs[p->n];
    struct rec_strings *s = &p->strs[p->n];
    memset(g, 0, sizeof *g);
    s->id = arena_add(p, json_string_value(json_object_get(m, "id")));
    s->reply_to = arena_add(p, json_string_value(json_object_get(m, "reply_to")));
    s->author =
        arena_add(p, json_string_value(json_object_get(json_object_get(m, "author"), "handle")));
    int64_t ms = 0;
    ck_time_parse_rfc3339(json_string_value(json_object_get(m, "created_at")), &ms);
    g->created_ms = ms;
    g->boost = json_is_string(json_object_get(m, "boost_of"));
    ck_group_scan_text(sc, json_string_value(json_object_get(m, "text")), g);
    json_decref(m);
    if (s->id == (size_t)-2 || s->reply_to == (size_t)-2 || s->author == (size_t)-2)
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    if (s->id == (size_t)-1)
        return ck_error_set(err, CK_ECORRUPT, "%s:%zu: message without an id", path, lineno);
    p->n++;
    return 0;
}

/* The run sheet as grouping sees it: question texts, times, and the ids of the
 * posts chatkeeper made (state.json), which are the surest question posts. */
static int make_conf(const struct ck_session *s, const json_t *state,
                     struct ck_group_question **qs_out, struct ck_group_conf *c)
{
    struct ck_group_question *qs = calloc(s->n_questions ? s->n_questions : 1, sizeof *qs);
    if (qs == NULL)
        return CK_ENOMEM;
    const json_t *steps = json_object_get(state, "steps");
    for (size_t i = 0; i < s->n_questions; i++) {
        char label[16];
        snprintf(label, sizeof label, "Q%d", s->questions[i].number);
        const json_t *st = json_object_get(steps, label);
        qs[i].number = s->questions[i].number;
        qs[i].text = s->questions[i].text;
        qs[i].at_ms = s->start_ms + s->questions[i].at_ms;
        if (json_is_string(json_object_get(st, "status")) &&
            strcmp(json_string_value(json_object_get(st, "status")), "posted") == 0)
            qs[i].posted_id = json_string_value(json_object_get(st, "id"));
    }
    *c = (struct ck_group_conf){
        .questions = qs,
        .n_questions = s->n_questions,
        .facilitators = (const char *const *)s->facilitators,
        .n_facilitators = s->n_facilitators,
        .hashtag = s->hashtag,
        .start_ms = s->start_ms,
        .end_ms = s->start_ms + s->duration_ms,
    };
    *qs_out = qs;
    return 0;
}

/* Second pass: the same lines again, extended with the grouping (or left out). */
static int write_grouped(const char *path, FILE *in, const struct pass *p, size_t *hidden,
                         struct ck_error *err)
{
    struct ck_atomic_file *out = NULL;
    int rc = ck_atomic_open(path, &out, err);
    char *line = NULL;
    size_t cap = 0, i = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&line, &cap, in)) > 0) {
        size_t l = (size_t)len;
        if (line[l - 1] == '\n')
            l--;
        if (l == 0)
            continue;
        if (i >= p->n) {
            rc = ck_error_set(err, CK_EIO, "%s: changed while it was being grouped", path);
            break;
        }
        const struct ck_group_msg *g = &p->msgs[i++];
        if (g->hidden) {
            (*hidden)++;
            continue;
        }
        char extra[128];
        size_t off = (size_t)snprintf(extra, sizeof extra, ",\"questions\":[");
        for (uint8_t k = 0; k < g->n_questions && off < sizeof extra - 16; k++)
            off += (size_t)snprintf(extra + off, sizeof extra - off, "%s%u", k ? "," : "",
                                    g->questions[k]);
        const char *by = ck_group_by_name(g->by);
        off += (size_t)snprintf(extra + off, sizeof extra - off, "],\"assigned_by\":%s%s%s}\n",
                                by ? "\"" : "", by ? by : "null", by ? "\"" : "");
        /* The line ends with the record's closing brace: extend it there. */
        rc = ck_atomic_write(out, line, l - 1, err);
        if (rc == 0)
            rc = ck_atomic_write(out, extra, off, err);
    }
    free(line);
    if (rc != 0) {
        ck_atomic_abort(out);
        return rc;
    }
    return ck_atomic_commit(out, err);
}

/* Merge dir/deleted.json's ids into the overrides' "hide" list (*overrides may
 * be NULL: it is created). A missing file is fine; a corrupt one is an error. */
static int add_deleted(const char *dir, json_t **overrides, struct ck_error *err)
{
    char *path = path_in(dir, "deleted.json");
    if (path == NULL)
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    json_error_t je;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        free(path);
        return 0;
    }
    json_t *doc = json_loadf(f, 0, &je);
    fclose(f);
    json_t *ids = json_object_get(doc, "deleted");
    if (!json_is_array(ids)) {
        json_decref(doc);
        int rc = ck_error_set(err, CK_ECORRUPT, "%s: expected {\"deleted\": [ids]}", path);
        free(path);
        return rc;
    }
    free(path);
    if (*overrides == NULL)
        *overrides = json_object();
    json_t *hide = json_object_get(*overrides, "hide");
    if (hide == NULL) {
        hide = json_array();
        json_object_set_new(*overrides, "hide", hide);
    }
    if (json_is_array(hide))
        json_array_extend(hide, ids);
    json_decref(doc);
    return 0;
}

int ck_archive_group(const char *dir, size_t *hidden_out, struct ck_error *err)
{
    char *sess_path = path_in(dir, "session.json");
    char *state_path = path_in(dir, "state.json");
    char *over_path = path_in(dir, "overrides.json");
    char *msgs_path = path_in(dir, "messages.jsonl");
    struct ck_session s = {0};
    json_t *state = NULL, *overrides = NULL;
    struct ck_group_question *qs = NULL;
    struct ck_group_scanner *sc = NULL;
    struct pass p = {0};
    FILE *in = NULL;
    char *line = NULL;
    size_t cap = 0, hidden = 0;
    int rc = CK_ENOMEM;
    if (sess_path == NULL || state_path == NULL || over_path == NULL || msgs_path == NULL) {
        ck_error_set(err, rc, "archive: out of memory");
        goto out;
    }
    if ((rc = ck_session_load(sess_path, &s, err)) != 0 ||
        (rc = ck_state_load(state_path, &state, err)) != 0)
        goto out;
    json_error_t je;
    FILE *of = fopen(over_path, "rb");
    if (of != NULL) {
        overrides = json_loadf(of, JSON_REJECT_DUPLICATES, &je);
        fclose(of);
        if (overrides == NULL) {
            rc = ck_error_set(err, CK_ECONFIG, "%s:%d:%d: %s", over_path, je.line, je.column,
                              je.text);
            goto out;
        }
    }
    /* Posts found deleted when publishing (deleted.json) leave the archive too. */
    rc = add_deleted(dir, &overrides, err);
    if (rc != 0)
        goto out;
    struct ck_group_conf conf;
    if ((rc = make_conf(&s, state, &qs, &conf)) != 0) {
        ck_error_set(err, rc, "archive: out of memory");
        goto out;
    }
    if ((rc = ck_group_scanner_create(&conf, &sc, err)) != 0)
        goto out;
    in = fopen(msgs_path, "rb");
    if (in == NULL) {
        rc = ck_error_set(err, -errno, "%s: %s", msgs_path, strerror(errno));
        goto out;
    }
    size_t lineno = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&line, &cap, in)) > 0) {
        size_t l = (size_t)len;
        lineno++;
        if (line[l - 1] == '\n')
            l--;
        if (l > 0)
            rc = take_line(&p, sc, line, l, err, msgs_path, lineno);
    }
    if (rc != 0)
        goto out;
    /* The arena has stopped moving: point the records at their strings. */
    for (size_t i = 0; i < p.n; i++) {
        p.msgs[i].id = p.arena + p.strs[i].id;
        p.msgs[i].reply_to = p.strs[i].reply_to == (size_t)-1 ? NULL : p.arena + p.strs[i].reply_to;
        p.msgs[i].author = p.strs[i].author == (size_t)-1 ? "" : p.arena + p.strs[i].author;
    }
    if ((rc = ck_group_assign(&conf, p.msgs, p.n, overrides, err)) != 0) {
        if (rc == CK_EINVAL)
            rc = CK_ECONFIG; /* a bad overrides.json is bad input, like a bad session file */
        goto out;
    }
    rewind(in);
    rc = write_grouped(msgs_path, in, &p, &hidden, err);
    if (rc == 0 && hidden_out != NULL)
        *hidden_out = hidden;
out:
    if (in != NULL)
        fclose(in);
    free(line);
    free(p.arena);
    free(p.msgs);
    free(p.strs);
    ck_group_scanner_destroy(sc);
    free(qs);
    json_decref(overrides);
    json_decref(state);
    ck_session_finish(&s);
    free(sess_path);
    free(state_path);
    free(over_path);
    free(msgs_path);
    return rc;
}
