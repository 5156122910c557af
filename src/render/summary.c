/* summary.json: counts and statistics per question and overall (the links
 * and hashtags it lists are counted by ck_rscan_text as the model is built).
 *
 * Definitions, so the numbers can be checked by hand:
 * - a question's "messages" are the messages filed under it, minus its
 *   question posts; "people" their distinct authors;
 * - "asked_at" is the first question post's time, else the posted_at that
 *   state.json recorded, else the run sheet's time;
 * - "time_to_first_answer_s" is from asked_at to the first of those messages
 *   posted at or after it (null when none);
 * - overall "messages" excludes boosts (counted in "boosts"); "participants"
 *   are distinct authors of messages (boosting alone does not count);
 * - "returning_participants" also wrote a message in an earlier session
 *   (session.json start before ours, the same hashtag) of the same archive
 *   folder. */
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"
#include "model.h"

#define MAX_LINKS 50
#define MAX_TAGS 50
#define MAX_CONTRIBUTORS 10

/* ---- new and returning ---- */

static int by_handle(const void *a, const void *b)
{
    return strcasecmp((*(struct ck_rauthor *const *)a)->handle,
                      (*(struct ck_rauthor *const *)b)->handle);
}

struct marking {
    struct ck_rauthor **sorted;
    size_t n;
};

/* Mark the author of handle returning, if they wrote in this session. */
static void mark(void *arg, const char *handle)
{
    const struct marking *mk = arg;
    if (handle == NULL)
        return;
    struct ck_rauthor key = {.handle = (char *)handle}, *kp = &key;
    struct ck_rauthor **hit = bsearch(&kp, mk->sorted, mk->n, sizeof *mk->sorted, by_handle);
    if (hit != NULL)
        (*hit)->returning = true;
}

int ck_rsummary_returning(struct ck_rmodel *m, struct ck_error *err)
{
    char self[PATH_MAX], parent[PATH_MAX];
    if (m->nauth == 0 || realpath(m->dir, self) == NULL)
        return 0;
    memcpy(parent, self, sizeof parent);
    const char *pdir = dirname(parent);
    DIR *d = opendir(pdir);
    if (d == NULL)
        return 0;
    struct ck_rauthor **sorted = malloc(m->nauth * sizeof *sorted);
    if (sorted == NULL) {
        closedir(d);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->nauth; i++)
        sorted[i] = &m->authors[i];
    qsort(sorted, m->nauth, sizeof *sorted, by_handle);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX], real[PATH_MAX], path[PATH_MAX + 32];
        int n = snprintf(sub, sizeof sub, "%s/%s", pdir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof sub || realpath(sub, real) == NULL ||
            strcmp(real, self) == 0)
            continue;
        snprintf(path, sizeof path, "%s/session.json", sub);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        struct ck_session other = {0};
        if (ck_session_load(path, &other, NULL) != 0) {
            ck_debug("render: %s does not load; not compared", path);
            continue;
        }
        /* sessions of the same chat only: a shared folder may hold others */
        const char *a = other.hashtag != NULL ? other.hashtag : "";
        const char *b = m->s->hashtag != NULL ? m->s->hashtag : "";
        bool earlier = other.start_ms < m->s->start_ms &&
                       strcasecmp(a + (a[0] == '#'), b + (b[0] == '#')) == 0;
        ck_session_finish(&other);
        if (!earlier)
            continue;
        snprintf(path, sizeof path, "%s/messages.jsonl", sub);
        struct marking mk = {.sorted = sorted, .n = m->nauth};
        ck_rfor_each_author(path, mark, &mk);
    }
    closedir(d);
    free(sorted);
    return 0;
}

/* ---- summary.json ---- */

static json_t *time_json(int64_t ms)
{
    char buf[32];
    ck_time_format_rfc3339(ms, buf);
    return json_string(buf);
}

static json_t *top_json(struct ck_rmodel *m, const struct ck_rtop *t, const char *what)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < t->n && arr != NULL; i++) {
        struct ck_rrec rec;
        if (ck_rmodel_get(m, t->msg[i], &rec) != 0)
            continue;
        const struct ck_rmsg *rm = &m->msgs[t->msg[i]];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:I, s:s}", "id", rec.r.id, "author",
                           m->authors[rm->author].handle, what,
                           (json_int_t)(strcmp(what, "likes") == 0 ? rm->likes : rm->boosts), "url",
                           rec.r.url));
        ck_rrec_release(&rec);
    }
    return arr;
}

static json_t *question_json(struct ck_rmodel *m, const struct ck_rgroup *g)
{
    json_t *q = json_object();
    json_object_set_new(q, "number", json_integer(g->number));
    json_object_set_new(q, "text", g->text ? json_string(g->text) : json_null());
    json_object_set_new(q, "asked_at", g->asked_known ? time_json(g->asked_ms) : json_null());
    json_object_set_new(q, "messages", json_integer(g->answers));
    json_object_set_new(q, "people", json_integer(g->people));
    json_object_set_new(q, "time_to_first_answer_s",
                        g->first_answer_ms >= 0
                            ? json_integer((g->first_answer_ms - g->asked_ms) / 1000)
                            : json_null());
    json_object_set_new(q, "top_liked", top_json(m, &g->liked, "likes"));
    json_object_set_new(q, "top_boosted", top_json(m, &g->boosted, "boosts"));
    return q;
}

static int by_messages(const void *a, const void *b)
{
    const struct ck_rauthor *x = *(struct ck_rauthor *const *)a;
    const struct ck_rauthor *y = *(struct ck_rauthor *const *)b;
    if (x->messages != y->messages)
        return x->messages > y->messages ? -1 : 1;
    return strcmp(x->handle, y->handle);
}

static json_t *counted_json(const struct ck_rcount *c, size_t max, const char *key)
{
    struct ck_rcount_slot **top;
    size_t n;
    json_t *arr = json_array();
    if (arr == NULL || ck_rcount_top(c, max, &top, &n) != 0) {
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:I}", key, top[i]->key, "count", (json_int_t)top[i]->count));
    free(top);
    return arr;
}

static json_t *overall_json(struct ck_rmodel *m)
{
    size_t messages = m->n - m->boosts, returning = 0;
    for (size_t i = 0; i < m->nauth; i++)
        returning += m->authors[i].returning;
    json_t *o = json_object();
    json_object_set_new(o, "messages", json_integer((json_int_t)messages));
    json_object_set_new(o, "boosts", json_integer((json_int_t)m->boosts));
    json_object_set_new(o, "participants", json_integer((json_int_t)m->nauth));
    json_t *top = json_array();
    struct ck_rauthor **all = malloc((m->nauth ? m->nauth : 1) * sizeof *all);
    if (all != NULL) {
        for (size_t i = 0; i < m->nauth; i++)
            all[i] = &m->authors[i];
        qsort(all, m->nauth, sizeof *all, by_messages);
        for (size_t i = 0; i < m->nauth && i < MAX_CONTRIBUTORS; i++)
            json_array_append_new(top, json_pack("{s:s, s:I}", "handle", all[i]->handle, "messages",
                                                 (json_int_t)all[i]->messages));
        free(all);
    } else {
        json_decref(top);
        top = NULL;
    }
    json_object_set_new(o, "top_contributors", top);
    json_object_set_new(o, "new_participants", json_integer((json_int_t)(m->nauth - returning)));
    json_object_set_new(o, "returning_participants", json_integer((json_int_t)returning));
    json_object_set_new(o, "links_shared", counted_json(&m->links, MAX_LINKS, "url"));
    json_object_set_new(o, "hashtags_used", counted_json(&m->tags, MAX_TAGS, "tag"));
    return o;
}

int ck_rsummary_write(struct ck_rmodel *m, const char *path, struct ck_error *err)
{
    /* json_object_set_new on a NULL object or with a NULL value fails quietly;
     * any such failure can only be out of memory, so we detect it once at the
     * end by checking that every part is present. */
    json_t *root = json_object();
    json_t *qs = json_array();
    for (size_t q = 1; q < m->ngroups; q++)
        if (m->groups[q].text != NULL || m->groups[q].count > 0)
            json_array_append_new(qs, question_json(m, &m->groups[q]));
    json_object_set_new(root, "title", json_string(m->s->title));
    json_object_set_new(root, "hashtag", json_string(m->s->hashtag));
    json_object_set_new(root, "timezone", json_string(m->s->timezone));
    json_object_set_new(root, "start", time_json(m->s->start_ms));
    json_object_set_new(root, "questions", qs);
    json_object_set_new(root, "overall", overall_json(m));
    char *text = root != NULL && json_object_size(root) == 6
                     ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
                     : NULL;
    json_decref(root);
    if (text == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory writing %s", path);
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (withnl == NULL) {
        free(text);
        return ck_error_set(err, CK_ENOMEM, "out of memory writing %s", path);
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    int rc = ck_file_write_atomic(path, withnl, len + 1, err);
    free(withnl);
    return rc;
}
