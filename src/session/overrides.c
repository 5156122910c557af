/* overrides.json, read and checked like the session file (overrides.h): the
 * same position table (config_pos.c) and the same error helpers
 * (config_check.c), so its errors read exactly like the session file's. */
#include "chatkeeper/overrides.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/userfile.h"
#include "config_check.h"
#include "config_pos.h"

#define MAX_FILE_SIZE (16 * 1024 * 1024)

static int add_ref(struct ck_overrides *ov, const struct ck_jpos *pos, const char *id,
                   const char *path, bool at_key, size_t *cap)
{
    if (ov->n_refs == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct ck_override_ref *r = realloc(ov->refs, nc * sizeof *r);
        if (r == NULL)
            return CK_ENOMEM;
        ov->refs = r;
        *cap = nc;
    }
    const struct ck_jpos_entry *e = ck_jpos_find(pos, path);
    struct ck_override_ref *r = &ov->refs[ov->n_refs];
    *r = (struct ck_override_ref){
        .id = strdup(id),
        .path = strdup(path),
        .line = e ? (at_key ? e->key_line : e->line) : 1,
        .col = e ? (at_key ? e->key_col : e->col) : 1,
    };
    ov->n_refs++;
    return r->id && r->path ? 0 : CK_ENOMEM;
}

static int check_move(struct ck_cfg_ctx *c, const json_t *move, int n_questions,
                      struct ck_overrides *ov, size_t *cap)
{
    if (!json_is_object(move)) {
        char got[64];
        ck_cfg_describe(move, got, sizeof got);
        return ck_cfg_fail(c, "move", 0,
                           "expected an object mapping message ids to question "
                           "numbers, like {\"123\": [3]}, got %s",
                           got);
    }
    int max = n_questions < CK_GROUP_MAX_NUMBER ? n_questions : CK_GROUP_MAX_NUMBER;
    const char *id;
    const json_t *arr;
    json_object_foreach((json_t *)move, id, arr)
    {
        char path[256], item[280], got[64];
        ck_cfg_join(path, sizeof path, "move", id);
        if (id[0] == '\0')
            return ck_cfg_fail(c, path, 1, "expected a message id, got \"\"");
        if (!json_is_array(arr)) {
            ck_cfg_describe(arr, got, sizeof got);
            return ck_cfg_fail(c, path, 0,
                               "expected an array of question numbers, like [3], got %s", got);
        }
        if (json_array_size(arr) > CK_GROUP_MAX_TAGS)
            return ck_cfg_fail(c, path, 0, "at most %d question numbers, got %zu",
                               CK_GROUP_MAX_TAGS, json_array_size(arr));
        size_t j;
        const json_t *v;
        json_array_foreach(arr, j, v)
        {
            snprintf(item, sizeof item, "%s[%zu]", path, j);
            if (!json_is_integer(v)) {
                ck_cfg_describe(v, got, sizeof got);
                return ck_cfg_fail(c, item, 0, "expected a question number, got %s", got);
            }
            json_int_t q = json_integer_value(v);
            if (q < 1 || q > max) {
                if (max < 1)
                    return ck_cfg_fail(c, item, 0, "no question %lld (the session has none)",
                                       (long long)q);
                return ck_cfg_fail(c, item, 0,
                                   "no question %lld (the session has questions 1 to %d)",
                                   (long long)q, max);
            }
        }
        if (add_ref(ov, c->pos, id, path, true, cap) != 0)
            return ck_cfg_oom(c);
    }
    return 0;
}

static int check_list(struct ck_cfg_ctx *c, const json_t *list, const char *key, const char *what,
                      struct ck_overrides *ov, size_t *cap)
{
    char got[64], item[64];
    if (!json_is_array(list)) {
        ck_cfg_describe(list, got, sizeof got);
        return ck_cfg_fail(c, key, 0, "expected an array of %ss, got %s", what, got);
    }
    size_t j;
    const json_t *v;
    json_array_foreach(list, j, v)
    {
        snprintf(item, sizeof item, "%s[%zu]", key, j);
        if (!json_is_string(v) || json_string_length(v) == 0) {
            ck_cfg_describe(v, got, sizeof got);
            return ck_cfg_fail(c, item, 0, "expected a %s, got %s", what, got);
        }
        /* Handles are matched against authors, not ids: nothing to look up. */
        if (ov != NULL && add_ref(ov, c->pos, json_string_value(v), item, false, cap) != 0)
            return ck_cfg_oom(c);
    }
    return 0;
}

static int check(struct ck_cfg_ctx *c, const json_t *root, int n_questions, struct ck_overrides *ov)
{
    static const char *const keys[] = {"move", "hide", "opt_out"};
    size_t cap = 0;
    if (!json_is_object(root))
        return ck_cfg_fail(c, "", 0,
                           "expected a JSON object like {\"move\": {\"ID\": [3]}, \"hide\": "
                           "[\"ID\"], \"opt_out\": [\"@user@domain\"]}");
    int rc = ck_cfg_check_keys(c, root, "", keys, sizeof keys / sizeof keys[0]);
    const json_t *v;
    if (rc == 0 && (v = json_object_get(root, "move")) != NULL)
        rc = check_move(c, v, n_questions, ov, &cap);
    if (rc == 0 && (v = json_object_get(root, "hide")) != NULL)
        rc = check_list(c, v, "hide", "message id", ov, &cap);
    if (rc == 0 && (v = json_object_get(root, "opt_out")) != NULL)
        rc = check_list(c, v, "opt_out", "handle like @user@domain", NULL, &cap);
    return rc;
}

int ck_overrides_parse(const char *name, const char *text, size_t len, int n_questions,
                       struct ck_overrides *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    /* jansson says column 0 (or line -1) at the end of input; editors count from 1. */
    if (root == NULL)
        return ck_error_set(err, CK_ECONFIG, "%s:%d:%d: %s", name, je.line < 1 ? 1 : je.line,
                            je.column < 1 ? 1 : je.column, je.text);
    struct ck_jpos pos;
    int rc = ck_jpos_scan(text, len, &pos);
    if (rc != 0) {
        json_decref(root);
        return ck_error_set(err, rc, "%s: out of memory", name);
    }
    struct ck_cfg_ctx c = {name, &pos, err};
    out->doc = root;
    out->name = strdup(name);
    rc = out->name != NULL ? check(&c, root, n_questions, out) : ck_cfg_oom(&c);
    ck_jpos_finish(&pos);
    if (rc != 0)
        ck_overrides_finish(out);
    return rc;
}

int ck_overrides_load(const char *path, int n_questions, struct ck_overrides *out,
                      struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    int rc = ck_read_user_file(path, MAX_FILE_SIZE, NULL, CK_USERFILE_OPTIONAL, &buf, &len, err);
    if (rc == 0 && buf != NULL)
        rc = ck_overrides_parse(path, buf, len, n_questions, out, err);
    free(buf);
    return rc;
}

static int by_id(const void *a, const void *b)
{
    const struct ck_override_ref *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

/* Ids are the person's text: keep terminal control sequences out of warnings. */
static void clean(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    for (; *s != '\0' && o + 1 < n; s++)
        buf[o++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    buf[o] = '\0';
}

size_t ck_overrides_unknown(struct ck_overrides *ov, const struct ck_group_msg *msgs, size_t n,
                            ck_overrides_warn_cb cb, void *arg)
{
    if (ov == NULL || ov->n_refs == 0)
        return 0;
    /* Pointers sorted by id: each message is one binary search, and refs
     * sharing an id sit together, so all of them are marked. */
    struct ck_override_ref *r = ov->refs;
    struct ck_override_ref **sorted = malloc(ov->n_refs * sizeof *sorted);
    if (sorted == NULL)
        return 0; /* warnings are a courtesy: out of memory skips them */
    for (size_t i = 0; i < ov->n_refs; i++) {
        r[i].found = false;
        sorted[i] = &r[i];
    }
    qsort(sorted, ov->n_refs, sizeof *sorted, by_id);
    for (size_t m = 0; m < n; m++) {
        if (msgs[m].id == NULL)
            continue;
        struct ck_override_ref key = {.id = (char *)msgs[m].id}, *kp = &key;
        struct ck_override_ref **hit = bsearch(&kp, sorted, ov->n_refs, sizeof *sorted, by_id);
        if (hit == NULL)
            continue;
        while (hit > sorted && strcmp(hit[-1]->id, msgs[m].id) == 0)
            hit--;
        for (; hit < sorted + ov->n_refs && strcmp((*hit)->id, msgs[m].id) == 0; hit++)
            (*hit)->found = true;
    }
    free(sorted);
    size_t warned = 0;
    for (size_t i = 0; i < ov->n_refs; i++) {
        if (r[i].found)
            continue;
        char id[96], path[128], line[512];
        clean(r[i].id, id, sizeof id);
        ck_utf8_trim_partial(id); /* a long id is cut: not in the middle of a character */
        clean(r[i].path, path, sizeof path); /* "move.ID" holds the id too */
        ck_utf8_trim_partial(path);
        ck_utf8_scrub(id); /* U+FFFE/U+FFFF as in every message (error.h) */
        ck_utf8_scrub(path);
        snprintf(line, sizeof line,
                 "%s:%d:%d: field '%s': no message with id \"%s\" has been captured (a typo, or "
                 "not fetched yet?); ignored until there is one",
                 ov->name, r[i].line, r[i].col, path, id);
        if (cb != NULL)
            cb(line, arg);
        else
            ck_warn("%s", line);
        warned++;
    }
    return warned;
}

void ck_overrides_finish(struct ck_overrides *ov)
{
    if (ov == NULL)
        return;
    json_decref(ov->doc);
    free(ov->name);
    for (size_t i = 0; i < ov->n_refs; i++) {
        free(ov->refs[i].id);
        free(ov->refs[i].path);
    }
    free(ov->refs);
    memset(ov, 0, sizeof *ov);
}
