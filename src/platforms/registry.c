/* The platforms chatkeeper knows, by the name session files and journal lines
 * use ("mastodon"). Bluesky and X join this table when they are written. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/platform.h"

static const struct ck_platform_ops *const platforms[] = {
    &ck_platform_mastodon,
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
    free(p->next_max_id);
    free(p->prev_min_id);
    free(p->repaired);
    memset(p, 0, sizeof *p);
}
