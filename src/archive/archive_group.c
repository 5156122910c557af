/* Grouping for the archive: everything ck_group_assign needs from the session
 * folder (the run sheet, the ids of the questions chatkeeper posted,
 * overrides.json, deleted.json), prepared once. The archive scans each
 * message's text with the scanner as it reads the records, then assigns all
 * of them at once (archive.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/config.h"
#include "chatkeeper/group.h"
#include "chatkeeper/log.h"
#include "chatkeeper/overrides.h"
#include "chatkeeper/state.h"

#include "archive_int.h"

struct ck_grouping {
    struct ck_session s;
    json_t *state, *overrides;
    struct ck_overrides ov; /* overrides.json as written; overrides adds deleted.json */
    struct ck_group_question *qs;
    const char **more_posted; /* the questions' posts on the other sources */
    struct ck_group_conf conf;
    struct ck_group_scanner *sc;
};

/* The run sheet as grouping sees it: question texts, times, and the ids of the
 * posts chatkeeper made (state.json), which are the surest question posts. */
#define CK_ARCHIVE_MAX_SOURCES 8

/* The id of a step's post when it went out, else NULL (borrowed). */
static const char *posted_id(const json_t *st)
{
    const char *status = json_string_value(json_object_get(st, "status"));
    return status != NULL && strcmp(status, "posted") == 0
               ? json_string_value(json_object_get(st, "id"))
               : NULL;
}

static int make_conf(const struct ck_session *s, const json_t *state,
                     struct ck_group_question **qs_out, const char ***more_out,
                     struct ck_group_conf *c)
{
    struct ck_group_question *qs = calloc(s->n_questions ? s->n_questions : 1, sizeof *qs);
    const char **more =
        calloc((s->n_questions ? s->n_questions : 1) * CK_ARCHIVE_MAX_SOURCES, sizeof *more);
    if (qs == NULL || more == NULL) {
        free(qs);
        free(more);
        return CK_ENOMEM;
    }
    *more_out = more;
    const json_t *steps = json_object_get(state, "steps");
    for (size_t i = 0; i < s->n_questions; i++) {
        char label[16];
        snprintf(label, sizeof label, "Q%d", s->questions[i].number);
        const json_t *st = json_object_get(steps, label);
        qs[i].number = s->questions[i].number;
        qs[i].text = s->questions[i].text;
        qs[i].at_ms = s->start_ms + s->questions[i].at_ms;
        qs[i].posted_id = posted_id(st);
        /* the other sources' posts of it: "steps:NAME" (runner.c) */
        size_t k = 0;
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)state, key, v)
        {
            if (strncmp(key, "steps:", 6) == 0 && k < CK_ARCHIVE_MAX_SOURCES &&
                posted_id(json_object_get(v, label)) != NULL)
                more[i * CK_ARCHIVE_MAX_SOURCES + k++] = posted_id(json_object_get(v, label));
        }
        qs[i].more_posted_ids = &more[i * CK_ARCHIVE_MAX_SOURCES];
        qs[i].n_more_posted_ids = k;
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
    /* The last question runs until the chat ends, not until the plan says:
     * until the closing when it comes after `duration` (an overrunning chat
     * moves it into the grace period), else until the end of grace when
     * there is no closing at all. */
    if (s->has_closing && s->closing.at_ms > s->duration_ms)
        c->end_ms = s->start_ms + s->closing.at_ms;
    else if (!s->has_closing)
        c->end_ms += s->grace_ms;
    *qs_out = qs;
    return 0;
}

/* Merge dir/deleted.json's ids into the overrides' "hide" list (*overrides may
 * be NULL: it is created). A missing file is fine; a corrupt one is an error. */
static int add_deleted(const char *dir, json_t **overrides, struct ck_error *err)
{
    char *path = ck_path_join(dir, "deleted.json");
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

int ck_grouping_open(const char *dir, struct ck_grouping **out, struct ck_error *err)
{
    *out = NULL;
    struct ck_grouping *g = calloc(1, sizeof *g);
    char *sess_path = ck_path_join(dir, "session.json");
    char *state_path = ck_path_join(dir, "state.json");
    char *over_path = ck_path_join(dir, "overrides.json");
    int rc = CK_ENOMEM;
    if (g == NULL || sess_path == NULL || state_path == NULL || over_path == NULL) {
        ck_error_set(err, rc, "archive: out of memory");
        goto out;
    }
    if ((rc = ck_session_load(sess_path, &g->s, err)) != 0 ||
        (rc = ck_state_load(state_path, &g->state, err)) != 0)
        goto out;
    /* Checked against the session's questions, with file:line:column. */
    if ((rc = ck_overrides_load(over_path, (int)g->s.n_questions, &g->ov, err)) != 0)
        goto out;
    g->overrides = json_incref(g->ov.doc);
    /* Posts found deleted when publishing (deleted.json) leave the archive too. */
    if ((rc = add_deleted(dir, &g->overrides, err)) != 0)
        goto out;
    if ((rc = make_conf(&g->s, g->state, &g->qs, &g->more_posted, &g->conf)) != 0) {
        ck_error_set(err, rc, "archive: out of memory");
        goto out;
    }
    rc = ck_group_scanner_create(&g->conf, &g->sc, err);
out:
    free(sess_path);
    free(state_path);
    free(over_path);
    if (rc != 0)
        ck_grouping_close(g);
    else
        *out = g;
    return rc;
}

const struct ck_group_scanner *ck_grouping_scanner(const struct ck_grouping *g)
{
    return g->sc;
}

int ck_grouping_assign(struct ck_grouping *g, struct ck_group_msg *msgs, size_t n,
                       struct ck_error *err)
{
    /* Ids overrides.json names that no message has: a warning, not an error
     * (overrides.h says why). */
    ck_overrides_unknown(&g->ov, msgs, n, NULL, NULL);
    int rc = ck_group_assign(&g->conf, msgs, n, g->overrides, err);
    /* A bad overrides.json is bad input, like a bad session file. */
    return rc == CK_EINVAL ? CK_ECONFIG : rc;
}

void ck_grouping_close(struct ck_grouping *g)
{
    if (g == NULL)
        return;
    ck_group_scanner_destroy(g->sc);
    free(g->qs);
    free(g->more_posted);
    json_decref(g->overrides);
    ck_overrides_finish(&g->ov);
    json_decref(g->state);
    ck_session_finish(&g->s);
    free(g);
}
