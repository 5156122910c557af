/* The session's sources: "platform" (one) or "platforms" (a list, issue 11).
 *
 * A session may follow its hashtag on several instances and platforms at
 * once, and post the run sheet to some of them. Each entry is checked as the
 * one "platform" always was (config.c); here the list's own rules: never both
 * sections, no entry twice (the same type and base URL would follow and post
 * twice), a token wherever the run sheet is posted, and each source's stable
 * name, which the journal and state.json key it by. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/config.h"
#include "config_check.h"
#include "config_x.h"

void ck_platform_conf_finish(struct ck_platform_conf *pc)
{
    free(pc->type);
    free(pc->base_url);
    free(pc->token_env);
    free(pc->token_file);
    free(pc->name);
    free(pc->handle);
    ck_cfg_x_finish(pc);
    memset(pc, 0, sizeof *pc);
}

size_t ck_session_n_platforms(const struct ck_session *s)
{
    return s->platform.type == NULL ? 0 : 1 + s->n_more_platforms;
}

const struct ck_platform_conf *ck_session_platform_at(const struct ck_session *s, size_t i)
{
    return i == 0 ? &s->platform : &s->more_platforms[i - 1];
}

struct ck_platform_conf *ck_session_platform_mut(struct ck_session *s, size_t i)
{
    return i == 0 ? &s->platform : &s->more_platforms[i - 1];
}

/* What the entry at path means once read: its name, whether the run sheet
 * goes there, and the token that needs. */
static int settle(struct ck_cfg_ctx *c, struct ck_session *s, const char *path,
                  struct ck_platform_conf *pc)
{
    if (pc->name == NULL) {
        size_t n = strlen(pc->type) + strlen(pc->base_url) + 2;
        pc->name = malloc(n);
        if (pc->name == NULL)
            return ck_cfg_oom(c);
        snprintf(pc->name, n, "%s:%s", pc->type, pc->base_url);
    }
    pc->post = pc->post && s->post && !s->imported;
    if (pc->post && strcmp(pc->type, "x") == 0 && !(ck_platform_x_can(pc) & CK_CAN_POST))
        return ck_cfg_fail(c, path, 0,
                           "expected \"user_token_env\" or \"oauth1_env\" (or their _file forms): "
                           "posting on X needs the account's own credentials, not the app's "
                           "bearer token; set \"post\": false to only follow the hashtag");
    if (strcmp(pc->type, "x") == 0)
        return 0;
    if (pc->post && pc->token_env == NULL && pc->token_file == NULL)
        return ck_cfg_fail(c, path, 0,
                           "expected \"token_env\" or \"token_file\" (posting needs a token; set "
                           "\"post\": false to only follow the hashtag%s)",
                           path[strlen("platform")] == 's' ? " there" : "");
    return 0;
}

/* Entry i against every one before it. */
static int check_twice(struct ck_cfg_ctx *c, const struct ck_session *s, size_t i)
{
    const struct ck_platform_conf *pc = ck_session_platform_at(s, i);
    char p[64], q[64];
    snprintf(p, sizeof p, "platforms[%zu]", i);
    for (size_t j = 0; j < i; j++) {
        const struct ck_platform_conf *o = ck_session_platform_at(s, j);
        snprintf(q, sizeof q, "platforms[%zu]", j);
        if (strcmp(o->type, pc->type) == 0 && strcasecmp(o->base_url, pc->base_url) == 0)
            return ck_cfg_fail(c, p, 0,
                               "the same source as %s (%s on %s); expected each source once", q,
                               pc->type, pc->base_url);
        if (strcmp(o->name, pc->name) == 0) {
            char np[80];
            ck_cfg_join(np, sizeof np, p, "name");
            return ck_cfg_fail(c, np, 0, "the same name as %s (\"%s\"); expected names apart", q,
                               pc->name);
        }
    }
    return 0;
}

int ck_cfg_platforms(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s)
{
    const json_t *list = json_object_get(root, "platforms");
    if (list != NULL && json_object_get(root, "platform") != NULL)
        return ck_cfg_fail(c, "platforms", 1,
                           "expected either \"platform\" (one) or \"platforms\" (a list), "
                           "not both");
    if (list == NULL) {
        json_t *v;
        /* An imported chat is never fetched or posted: no platform is needed. */
        int rc = ck_cfg_object(c, root, "", "platform", !s->imported, &v);
        if (rc == 0 && v != NULL)
            rc = ck_cfg_platform_entry(c, v, "platform", s->dir, &s->platform);
        if (rc == 0 && v != NULL)
            rc = settle(c, s, "platform", &s->platform);
        if (rc == 0 && v != NULL && !s->imported)
            s->post = s->platform.post;
        return rc;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        char got[64];
        ck_cfg_describe(list, got, sizeof got);
        return ck_cfg_fail(c, "platforms", 0,
                           "expected a non-empty array of {\"type\": ..., \"base_url\": ...}, "
                           "got %s",
                           got);
    }
    size_t n = json_array_size(list);
    if (n > 1) {
        s->more_platforms = calloc(n - 1, sizeof *s->more_platforms);
        if (s->more_platforms == NULL)
            return ck_cfg_oom(c);
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char p[64], got[64];
        snprintf(p, sizeof p, "platforms[%zu]", i);
        const json_t *v = json_array_get(list, i);
        if (!json_is_object(v)) {
            ck_cfg_describe(v, got, sizeof got);
            return ck_cfg_fail(
                c, p, 0, "expected an object {\"type\": ..., \"base_url\": ...}, got %s", got);
        }
        if (i > 0)
            s->n_more_platforms = i; /* the entry is freed with s, even half read */
        struct ck_platform_conf *pc = ck_session_platform_mut(s, i);
        rc = ck_cfg_platform_entry(c, v, p, s->dir, pc);
        if (rc == 0)
            rc = settle(c, s, p, pc);
        if (rc == 0)
            rc = check_twice(c, s, i);
    }
    /* The session posts when any of its sources does. */
    bool any = false;
    for (size_t i = 0; rc == 0 && i < n; i++)
        any = any || ck_session_platform_at(s, i)->post;
    if (rc == 0 && !s->imported)
        s->post = any;
    return rc;
}
