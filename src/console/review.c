/* The review of a finished session (review.h): the console's page shows
 * every message of messages.jsonl with its question(s) and how it was filed,
 * and its controls write overrides.json, the file a person would otherwise
 * edit by hand. Each change re-reads the file first (a hand edit since is
 * kept), is checked like the file itself (overrides.h) before it replaces the
 * file atomically, and then the outputs are rebuilt from the journal, so the
 * page, the transcript and the write-up all say the same. */
#include "chatkeeper/review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/config.h"
#include "chatkeeper/jsonerr.h"
#include "chatkeeper/overrides.h"
#include "chatkeeper/state.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/timeutil.h"

#include "review_int.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *g = realloc(buf, cap);
            if (g == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = g;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static json_t *read_messages(const char *dir)
{
    char *path = ck_path_join(dir, "messages.jsonl");
    json_t *arr = json_array();
    FILE *f = path != NULL ? fopen(path, "rb") : NULL;
    free(path);
    if (f == NULL)
        return arr;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *m = json_loads(line, 0, NULL);
        if (json_is_object(m))
            json_array_append_new(arr, m);
        else
            json_decref(m);
    }
    free(line);
    fclose(f);
    return arr;
}

/* The page's view of one record. */
static json_t *view_of(const json_t *m, const struct ck_strset *ids)
{
    const json_t *author = json_object_get(m, "author");
    int64_t created = 0;
    const char *ca = json_string_value(json_object_get(m, "created_at"));
    if (ca != NULL)
        ck_time_parse_rfc3339(ca, &created);
    const char *by = json_string_value(json_object_get(m, "assigned_by"));
    json_t *o =
        json_pack("{s:O, s:O, s:O, s:O, s:O, s:I, s:s, s:O}", "id", json_object_get(m, "id"),
                  "text", json_object_get(m, "text"), "name", json_object_get(author, "name"),
                  "handle", json_object_get(author, "handle"), "url", json_object_get(m, "url"),
                  "created_ms", (json_int_t)created, "by", by != NULL ? by : "none", "questions",
                  json_object_get(m, "questions"));
    const char *rt = json_string_value(json_object_get(m, "reply_to"));
    if (o != NULL && rt != NULL) {
        if (ck_strset_has(ids, rt))
            json_object_set_new(o, "reply_to", json_pack("{s:s, s:s}", "handle", "", "text", rt));
        else
            json_object_set_new(o, "reply_to", json_pack("{s:b}", "missing", 1));
    }
    return o;
}

static void publish(struct ck_review *rv)
{
    json_decref(rv->messages);
    rv->messages = read_messages(rv->dir);
    struct ck_strset ids;
    ck_strset_init(&ids);
    size_t i;
    json_t *m;
    json_array_foreach(rv->messages, i, m)
        ck_strset_add(&ids, json_string_value(json_object_get(m, "id")));
    json_t *list = json_array();
    json_array_foreach(rv->messages, i, m)
    {
        json_t *v = view_of(m, &ids);
        /* The parent's author and opening words, as the live view shows them. */
        json_t *rt = json_object_get(v, "reply_to");
        if (json_is_string(json_object_get(rt, "text"))) {
            const char *pid = json_string_value(json_object_get(rt, "text"));
            size_t k;
            json_t *p;
            json_array_foreach(rv->messages, k, p)
            {
                if (strcmp(json_string_value(json_object_get(p, "id")), pid) != 0)
                    continue;
                const char *t = json_string_value(json_object_get(p, "text"));
                json_object_set_new(
                    rt, "handle",
                    json_copy(json_object_get(json_object_get(p, "author"), "handle")));
                json_object_set_new(rt, "text", ck_review__opening(t));
                break;
            }
        }
        json_array_append_new(list, v);
    }
    ck_strset_finish(&ids);
    char *sess_path = ck_path_join(rv->dir, "session.json");
    json_t *sess = sess_path != NULL ? json_load_file(sess_path, 0, NULL) : NULL;
    free(sess_path);
    json_t *qs = json_array();
    json_t *q;
    json_array_foreach(json_object_get(sess, "questions"), i, q)
    {
        char label[32];
        snprintf(label, sizeof label, "Q%zu", i + 1);
        json_array_append_new(qs, json_pack("{s:I, s:s, s:O}", "number", (json_int_t)(i + 1),
                                            "label", label, "text", json_object_get(q, "text")));
    }
    rv->n_questions = (int)json_array_size(qs);
    char *wpath = ck_path_join(rv->dir, "writeup.md");
    char *writeup = wpath != NULL ? slurp(wpath, NULL) : NULL;
    free(wpath);
    json_t *snap =
        json_pack("{s:s, s:O, s:O, s:o, s:o, s:s}", "mode", "review", "title",
                  json_object_get(sess, "title"), "hashtag", json_object_get(sess, "hashtag"),
                  "questions", qs, "messages", list, "writeup", writeup != NULL ? writeup : "");
    free(writeup);
    if (snap != NULL) {
        json_object_set_new(snap, "publishable",
                            json_boolean(json_is_object(json_object_get(sess, "publish"))));
        json_object_set_new(snap, "published", ck_review__published(rv->dir));
        ck_review__left_out(rv, snap);
    }
    json_decref(sess);
    ck_console_publish(rv->con, snap);
}

/* ---- changes ---------------------------------------------------------------- */

static void reply(int *status, char **out, int code, const char *msg)
{
    *status = code;
    json_t *o = json_pack("{s:s}", "message", msg);
    *out = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
}

static json_t *member(json_t *doc, const char *key, int array)
{
    json_t *m = json_object_get(doc, key);
    if (array ? !json_is_array(m) : !json_is_object(m)) {
        m = array ? json_array() : json_object();
        json_object_set_new(doc, key, m);
    }
    return m;
}

static void add_unique(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i,
                       v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return;
    json_array_append_new(arr, json_string(s));
}

/* The message id and every reply below it, transitively. */
static void thread_of(const json_t *msgs, const char *root, json_t *out)
{
    json_array_append_new(out, json_string(root));
    for (size_t k = 0; k < json_array_size(out); k++) {
        const char *id = json_string_value(json_array_get(out, k));
        size_t i;
        json_t *m;
        json_array_foreach(msgs, i, m)
        {
            const char *rt = json_string_value(json_object_get(m, "reply_to"));
            if (rt != NULL && strcmp(rt, id) == 0)
                json_array_append_new(out, json_copy(json_object_get(m, "id")));
        }
    }
}

static int apply(struct ck_review *rv, json_t *doc, const json_t *req, char *msg, size_t n)
{
    const char *action = json_string_value(json_object_get(req, "action"));
    const char *id = json_string_value(json_object_get(req, "id"));
    if (strcmp(action, "opt_out") == 0) {
        const char *h = json_string_value(json_object_get(req, "handle"));
        if (h == NULL || h[0] != '@')
            return snprintf(msg, n, "opt_out: which person? (\"handle\": \"@user@domain\")"), 400;
        add_unique(member(doc, "opt_out", 1), h);
        return snprintf(msg, n, "%s is left out of every output", h), 200;
    }
    if (strcmp(action, "opt_in") == 0 || strcmp(action, "unhide") == 0 ||
        strcmp(action, "unspam") == 0)
        return ck_review__undo(doc, action, id, req, msg, n);
    if (id == NULL)
        return snprintf(msg, n, "%s: which message? (\"id\")", action), 400;
    if (strcmp(action, "hide") == 0 || strcmp(action, "spam") == 0) {
        ck_review__remember(rv, id);
        add_unique(member(doc, "hide", 1), id);
        if (strcmp(action, "spam") == 0) /* spam answers no question */
            json_object_set_new(member(doc, "move", 0), id, json_array());
        return snprintf(msg, n, "%s is %s", id,
                        action[0] == 's' ? "marked as spam and hidden" : "hidden"),
               200;
    }
    if (strcmp(action, "move") == 0) {
        json_t *q = json_object_get(req, "question");
        if (!json_is_integer(q) || json_integer_value(q) < 0 ||
            json_integer_value(q) > rv->n_questions)
            return snprintf(msg, n, "move: \"question\" must be 0 (none) to %d", rv->n_questions),
                   400;
        json_t *ids = json_array();
        if (json_is_true(json_object_get(req, "thread")))
            thread_of(rv->messages, id, ids);
        else
            json_array_append_new(ids, json_string(id));
        json_t *move = member(doc, "move", 0);
        size_t i;
        json_t *v;
        json_int_t qn = json_integer_value(q);
        json_array_foreach(ids, i, v) json_object_set_new(
            move, json_string_value(v), qn == 0 ? json_array() : json_pack("[I]", qn));
        if (qn == 0)
            snprintf(msg, n, "%zu message(s) moved to no question", json_array_size(ids));
        else
            snprintf(msg, n, "%zu message(s) moved to Q%lld", json_array_size(ids), (long long)qn);
        json_decref(ids);
        return 200;
    }
    return snprintf(msg, n, "unknown action \"%s\"", action), 400;
}

/* One control, where jansson is ours alone: on the HTTP thread of `review`
 * (its main thread waits for a signal) or on serve's loop. Calls are
 * serialised by the console. */
static void handle(void *arg, const char *body, size_t blen, int *status, char **out)
{
    struct ck_review *rv = arg;
    json_t *req = json_loadb(body, blen, 0, NULL);
    if (!json_is_object(req) || !json_is_string(json_object_get(req, "action"))) {
        json_decref(req);
        reply(status, out, 400, "malformed control: expected {\"action\": \"...\"}");
        return;
    }
    if (strcmp(json_string_value(json_object_get(req, "action")), "publish") == 0) {
        json_decref(req);
        char pm[800];
        int code = ck_review__publish(rv->dir, rv->rehearsal, pm, sizeof pm);
        reply(status, out, code, pm);
        publish(rv); /* the write-up as published, and where */
        return;
    }
    struct ck_error err = {0};
    char *path = ck_path_join(rv->dir, "overrides.json");
    size_t len = 0;
    /* Read again now: a hand edit since the page loaded is kept. */
    char *text = path != NULL ? slurp(path, &len) : NULL;
    json_t *doc = json_object();
    if (text != NULL) {
        json_decref(doc);
        bool oom = false;
        json_error_t je;
        doc = ck_json_loadb(text, len, 0, &je, &oom);
        free(text);
        if (!json_is_object(doc)) {
            json_decref(doc);
            json_decref(req);
            free(path);
            reply(status, out, 409,
                  "overrides.json is not a JSON object now: fix the hand edit first "
                  "('chatkeeper archive' names the line)");
            return;
        }
    }
    char msg[300];
    int code = apply(rv, doc, req, msg, sizeof msg);
    if (code == 200) {
        /* Checked like the file itself before it replaces the file. */
        char *dumped = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2));
        struct ck_overrides ov;
        int rc = dumped != NULL ? ck_overrides_parse("overrides.json", dumped, strlen(dumped),
                                                     rv->n_questions, &ov, &err)
                                : CK_ENOMEM;
        free(dumped);
        if (rc == 0) {
            ck_overrides_finish(&ov);
            rc = ck_state_save(path, doc, &err);
        }
        struct ck_archive_stats st;
        if (rc == 0)
            rc = ck_archive_build(rv->dir, &st, &err);
        if (rc != 0) {
            code = rc == CK_ECONFIG ? 400 : 500;
            snprintf(msg, sizeof msg, "%s", err.msg[0] ? err.msg : ck_strerror(rc));
        }
    }
    json_decref(doc);
    json_decref(req);
    free(path);
    reply(status, out, code, msg);
    if (code == 200)
        publish(rv);
}

static int open_on(const char *dir, struct ck_console *con, uv_loop_t *loop, struct ck_review **out,
                   struct ck_error *err)
{
    *out = NULL;
    struct ck_review *rv = calloc(1, sizeof *rv);
    if (rv == NULL || (rv->dir = strdup(dir)) == NULL || (rv->gone = json_object()) == NULL) {
        if (rv != NULL)
            free(rv->dir);
        free(rv);
        return ck_error_set(err, CK_ENOMEM, "review: out of memory");
    }
    rv->con = con;
    rv->loop = loop;
    char *mpath = ck_path_join(dir, "messages.jsonl");
    FILE *f = mpath != NULL ? fopen(mpath, "rb") : NULL;
    free(mpath);
    int rc = 0;
    if (f != NULL) {
        fclose(f);
    } else {
        struct ck_archive_stats st;
        rc = ck_archive_build(dir, &st, err);
    }
    if (rc == 0 && loop != NULL && ck_handoff_init(&rv->ctl, loop, WAIT_MS, handle, rv) != 0)
        rc = ck_error_set(err, CK_EIO, "review: cannot take controls on the loop");
    if (rc != 0) {
        json_decref(rv->gone);
        free(rv->dir);
        free(rv);
        return rc;
    }
    publish(rv);
    /* Without a loop (`chatkeeper review`) the HTTP thread carries it out. */
    if (loop != NULL)
        ck_console_set_handler(con, ck_handoff_handler, &rv->ctl);
    else
        ck_console_set_handler(con, handle, rv);
    *out = rv;
    return 0;
}

int ck_review_open(const char *dir, struct ck_console *con, struct ck_review **out,
                   struct ck_error *err)
{
    return open_on(dir, con, NULL, out, err);
}

int ck_review_open_loop(const char *dir, struct ck_console *con, uv_loop_t *loop,
                        struct ck_review **out, struct ck_error *err)
{
    return open_on(dir, con, loop, out, err);
}

void ck_review_rehearsal(struct ck_review *rv)
{
    rv->rehearsal = true;
}

static void free_review(void *arg)
{
    struct ck_review *rv = arg;
    json_decref(rv->messages);
    json_decref(rv->gone);
    free(rv->dir);
    free(rv);
}

void ck_review_close(struct ck_review *rv)
{
    if (rv == NULL)
        return;
    if (rv->loop != NULL)
        ck_handoff_stop(&rv->ctl);
    /* Returns once no handler runs: none can reach rv after this. */
    ck_console_set_handler(rv->con, NULL, NULL);
    if (rv->loop != NULL)
        ck_handoff_close(&rv->ctl, free_review);
    else
        free_review(rv);
}
