/* The platforms chatkeeper knows, by the name session files and journal lines
 * use ("mastodon", "bluesky"; "x" reads archives only). */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/platform.h"
#include "chatkeeper/secret.h"

static const struct ck_platform_ops *const platforms[] = {
    &ck_platform_mastodon,
    &ck_platform_bluesky,
    &ck_platform_x,
};

const struct ck_platform_ops *ck_platform_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
        if (strcmp(platforms[i]->name, name) == 0)
            return platforms[i];
    return NULL;
}

void ck_page_finish(struct ck_page *p)
{
    if (p == NULL)
        return;
    json_decref(p->items);
    free(p->older);
    free(p->newer);
    free(p->repaired);
    memset(p, 0, sizeof *p);
}

void ck_posted_finish(struct ck_posted *p)
{
    if (p == NULL)
        return;
    free(p->id);
    free(p->url);
    free(p->version);
    memset(p, 0, sizeof *p);
}

void ck_signin_finish(struct ck_signin *s)
{
    if (s == NULL)
        return;
    ck_secret_free(s->token);
    ck_secret_free(s->refresh);
    free(s->account);
    memset(s, 0, sizeof *s);
}
