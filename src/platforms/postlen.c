/* Post length across a session's posting sources (postlen.h). */
#include "chatkeeper/postlen.h"

#include <string.h>

long ck_postlen_default(const struct ck_platform_ops *ops, const char **what)
{
    *what = ops->limits_request != NULL ? "the platform's default"
            : ops->len_rule != NULL     ? ops->len_rule
                                        : "the platform";
    return ops->max_post_len;
}

int ck_postlen_check(const struct ck_session *s, const char *text, struct ck_postlen *out)
{
    memset(out, 0, sizeof *out);
    int found = 0;
    for (size_t k = 0; k < ck_session_n_platforms(s); k++) {
        const struct ck_platform_conf *p = ck_session_platform_at(s, k);
        const struct ck_platform_ops *ops = ck_platform_find(p->type);
        if (!p->post || ops == NULL || ops->text_len == NULL || ops->max_post_len <= 0)
            continue;
        struct ck_postlen here = {.source = p->name};
        here.max = ck_postlen_default(ops, &here.what);
        here.len = ops->text_len(text);
        if ((long)here.len > here.max) {
            *out = here;
            return 1;
        }
        if (!found || here.max < out->max)
            *out = here;
        found = 1;
    }
    return found ? 0 : CK_ENOTFOUND;
}
