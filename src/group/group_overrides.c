/* overrides.json: checked, then applied before any rule (a person said so). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "group_ctx.h"

/* ---- overrides ----------------------------------------------------------- */

int ck_group__check_overrides(const json_t *ov, struct ck_error *err)
{
    if (!json_is_object(ov))
        return ck_error_set(err, CK_EINVAL, "overrides.json: expected an object");
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)ov, key, val)
    {
        if (strcmp(key, "move") == 0) {
            if (!json_is_object(val))
                return ck_error_set(err, CK_EINVAL,
                                    "overrides.json: \"move\" must map ids to arrays of numbers");
            const char *id;
            const json_t *arr;
            json_object_foreach((json_t *)val, id, arr)
            {
                if (!json_is_array(arr) || json_array_size(arr) > CK_GROUP_MAX_TAGS)
                    return ck_error_set(err, CK_EINVAL,
                                        "overrides.json: move \"%s\": expected an array of at "
                                        "most %d question numbers",
                                        id, CK_GROUP_MAX_TAGS);
                size_t j;
                const json_t *v;
                json_array_foreach(arr, j, v)
                {
                    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                        json_integer_value(v) > CK_GROUP_MAX_NUMBER)
                        return ck_error_set(err, CK_EINVAL,
                                            "overrides.json: move \"%s\"[%zu]: expected a "
                                            "question number 1..%d",
                                            id, j, CK_GROUP_MAX_NUMBER);
                }
            }
        } else if (strcmp(key, "hide") == 0 || strcmp(key, "opt_out") == 0) {
            if (!json_is_array(val))
                return ck_error_set(err, CK_EINVAL, "overrides.json: \"%s\" must be an array", key);
            size_t j;
            const json_t *v;
            json_array_foreach(val, j, v)
            {
                if (!json_is_string(v))
                    return ck_error_set(err, CK_EINVAL,
                                        "overrides.json: %s[%zu]: expected a string", key, j);
            }
        } else {
            return ck_error_set(err, CK_EINVAL,
                                "overrides.json: unknown key \"%s\" (move, hide, opt_out)", key);
        }
    }
    return 0;
}

void ck_group__apply_overrides(struct ctx *x, const json_t *ov)
{
    const json_t *move = json_object_get(ov, "move"), *arr;
    const char *id;
    json_object_foreach((json_t *)move, id, arr)
    {
        size_t i = ck_group__find_id(x, id);
        if (i == SIZE_MAX || x->st[i] != ST_OPEN)
            continue; /* deleted since, or one of our own question posts */
        struct ck_group_msg *m = &x->m[i];
        m->n_questions = 0;
        size_t j;
        const json_t *v;
        json_array_foreach(arr, j, v)
        {
            uint8_t q = (uint8_t)json_integer_value(v);
            bool dup = false;
            for (size_t d = 0; d < m->n_questions; d++)
                dup = dup || m->questions[d] == q;
            if (!dup)
                m->questions[m->n_questions++] = q;
        }
        m->by = CK_BY_OVERRIDE;
        x->st[i] = ST_DONE;
    }
    size_t j;
    const json_t *v;
    json_array_foreach(json_object_get(ov, "hide"), j, v)
    {
        size_t i = ck_group__find_id(x, json_string_value(v));
        if (i != SIZE_MAX)
            x->m[i].hidden = true;
    }
    const json_t *opt = json_object_get(ov, "opt_out");
    if (json_array_size(opt) == 0)
        return;
    for (size_t i = 0; i < x->n; i++)
        json_array_foreach(opt, j, v)
        {
            if (ck_group__same_handle(json_string_value(v), x->m[i].author))
                x->m[i].hidden = true;
        }
}
