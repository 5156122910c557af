/* The follower's per-page dedupe (see fresh.h). */
#include "chatkeeper/fresh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/message.h"

const char *ck_fresh_key(const struct ck_platform_ops *ops, const json_t *obj,
                         char key[CK_FRESH_KEY_MAX])
{
    const char *id = ops->item_id(obj);
    const char *ver = ops->item_version(obj);
    if (id == NULL || id[0] == '\0')
        return NULL;
    size_t il = strlen(id), vl = ver ? strlen(ver) : 0;
    if (il + vl + 2 > CK_FRESH_KEY_MAX)
        return NULL;
    memcpy(key, id, il);
    key[il] = '\n';
    memcpy(key + il + 1, ver ? ver : "", vl);
    key[il + 1 + vl] = '\0';
    return id;
}

static void bad(struct ck_fresh *out, size_t i, const char *why)
{
    if (out->bad++ == 0)
        snprintf(out->bad_why, sizeof out->bad_why, "item %zu: %.160s", i, why);
}

int ck_fresh_select(const struct ck_platform_ops *ops, const json_t *items,
                    const struct ck_hset *seen, struct ck_fresh *out)
{
    memset(out, 0, sizeof *out);
    size_t n = json_array_size(items);
    out->idx = malloc((n ? n : 1) * sizeof *out->idx);
    out->authors = calloc(n ? n : 1, sizeof *out->authors);
    out->msgs = calloc(n ? n : 1, sizeof *out->msgs);
    struct ck_strset page;
    ck_strset_init(&page);
    int rc = out->idx != NULL && out->authors != NULL && out->msgs != NULL ? 0 : CK_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const json_t *it = json_array_get(items, i);
        char key[CK_FRESH_KEY_MAX];
        const char *id = ck_fresh_key(ops, it, key);
        if (id == NULL) {
            bad(out, i, "no usable id");
            continue;
        }
        int added = ck_strset_add(&page, id);
        if (added < 0) {
            rc = added;
            break;
        }
        if (added == 0) {
            out->duplicates++;
            continue;
        }
        if (ck_hset_has(seen, key)) {
            out->known++;
            continue;
        }
        struct ck_message m = {0};
        struct ck_error err = {0};
        if (ops->normalise(it, &m, &err) != 0) {
            bad(out, i, err.msg);
            continue;
        }
        out->idx[out->n] = i;
        out->msgs[out->n] = m; /* taken over */
        out->authors[out->n] = out->msgs[out->n].author.id;
        out->n++;
    }
    ck_strset_finish(&page);
    if (rc != 0)
        ck_fresh_finish(out);
    return rc;
}

void ck_fresh_finish(struct ck_fresh *f)
{
    for (size_t i = 0; f->msgs != NULL && i < f->n; i++)
        ck_message_finish(&f->msgs[i]);
    free(f->msgs);
    free(f->authors);
    free(f->idx);
    memset(f, 0, sizeof *f);
}
