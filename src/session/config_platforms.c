/* The session's sources: "platform" (one) or "platforms" (a list, issue 11).
 *
 * A session may follow its hashtag on several instances and platforms at
 * once, and post the run sheet to some of them. Each entry is read here
 * (its type's own fields: Mastodon's token, Bluesky's handle and app
 * password, X's in config_x.c), then the list's own rules: never both
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

/* The secret of the entry: token_env/token_file on Mastodon; on Bluesky the
 * account's handle and an app password (password_env/password_file), which
 * then fill token_env/token_file (the secret the session hands over). */
static int platform_secret_fields(struct ck_cfg_ctx *c, const json_t *v, const char *path,
                                  struct ck_platform_conf *pc)
{
    bool bsky = strcmp(pc->type, "bluesky") == 0;
    static const char *const own[2][3] = {{"token_env", "token_file", NULL},
                                          {"password_env", "password_file", "handle"}};
    static const char *const other[2][3] = {{"password_env", "password_file", "handle"},
                                            {"token_env", "token_file", NULL}};
    for (int i = 0; i < 3; i++) {
        const char *k = other[bsky][i];
        if (k != NULL && json_object_get(v, k) != NULL) {
            char field[96];
            ck_cfg_join(field, sizeof field, path, k);
            return ck_cfg_fail(c, field, 1, "a %s entry has no \"%s\"; expected %s or %s", pc->type,
                               k, own[bsky][0], own[bsky][1]);
        }
    }
    int rc = ck_cfg_string(c, v, path, own[bsky][0], 0, &pc->token_env);
    if (rc == 0)
        rc = ck_cfg_string(c, v, path, own[bsky][1], 0, &pc->token_file);
    if (rc != 0)
        return rc;
    if (pc->token_env != NULL && pc->token_file != NULL) {
        char field[96];
        ck_cfg_join(field, sizeof field, path, own[bsky][1]);
        return ck_cfg_fail(c, field, 1, "expected only one of %s and %s, got both", own[bsky][0],
                           own[bsky][1]);
    }
    if (!bsky)
        return 0;
    rc = ck_cfg_string(c, v, path, "handle", 1, &pc->handle);
    if (rc != 0)
        return rc;
    const char *h = pc->handle[0] == '@' ? pc->handle + 1 : pc->handle;
    size_t n = strlen(h);
    char hf[96];
    ck_cfg_join(hf, sizeof hf, path, "handle");
    if (n < 3 || n > 253 || strchr(h, '.') == NULL || h[0] == '.' || h[n - 1] == '.' ||
        strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
        return ck_cfg_fail(c, hf, 0, "expected a Bluesky handle like name.bsky.social, got \"%s\"",
                           pc->handle);
    memmove(pc->handle, h, n + 1);
    if (pc->token_env == NULL && pc->token_file == NULL)
        return ck_cfg_fail(c, path, 0,
                           "expected \"password_env\" or \"password_file\" (an app password: "
                           "Bluesky is read and written signed in)");
    return 0;
}

/* One entry of "platform" or "platforms" (the list in config_platforms.c). */
int ck_cfg_platform_entry(struct ck_cfg_ctx *c, const json_t *v, const char *path, const char *dir,
                          struct ck_platform_conf *pc)
{
    static const char *const keys[] = {"type",         "base_url",     "token_env", "token_file",
                                       "streaming",    "post",         "name",      "handle",
                                       "password_env", "password_file"};
    char p[96];
    int rc = ck_cfg_string(c, v, path, "type", 1, &pc->type);
    if (rc != 0)
        return rc;
    pc->post = true;
    if (strcmp(pc->type, "x") == 0) {
        /* X has keys of its own (config_x.c); whether it may post is settled
         * with the session's "post" (config_platforms.c). */
        pc->streaming = false;
        rc = ck_cfg_bool(c, v, path, "post", &pc->post);
        if (rc == 0)
            rc = ck_cfg_string(c, v, path, "name", 0, &pc->name);
        return rc != 0 ? rc : ck_cfg_parse_x(c, v, path, dir, false, pc);
    }
    rc = ck_cfg_check_keys(c, v, path, keys, sizeof keys / sizeof keys[0]);
    if (rc != 0)
        return rc;
    ck_cfg_join(p, sizeof p, path, "type");
    if (strcmp(pc->type, "mastodon") != 0 && strcmp(pc->type, "bluesky") != 0)
        return ck_cfg_fail(c, p, 0,
                           "unknown platform \"%s\"; expected \"mastodon\", \"bluesky\" or \"x\"",
                           pc->type);
    rc = ck_cfg_string(c, v, path, "base_url", 1, &pc->base_url);
    if (rc != 0)
        return rc;
    ck_cfg_join(p, sizeof p, path, "base_url");
    if (!ck_url_allowed(pc->base_url) || strpbrk(pc->base_url, "?# \t") != NULL)
        return ck_cfg_fail(
            c, p, 0,
            "expected an https:// URL (plain http:// only to a loopback host such as "
            "http://127.0.0.1:8765), got \"%s\"",
            pc->base_url);
    size_t len = strlen(pc->base_url);
    while (len > 0 && pc->base_url[len - 1] == '/' && pc->base_url[len - 2] != '/')
        pc->base_url[--len] = '\0';
    pc->streaming = true; /* follow the live stream where the instance offers one */
    pc->post = true;
    rc = ck_cfg_bool(c, v, path, "streaming", &pc->streaming);
    if (rc == 0)
        rc = ck_cfg_bool(c, v, path, "post", &pc->post);
    if (rc == 0)
        rc = ck_cfg_string(c, v, path, "name", 0, &pc->name);
    if (rc == 0)
        rc = platform_secret_fields(c, v, path, pc);
    if (rc != 0)
        return rc;
    if (pc->name != NULL && (strlen(pc->name) > 300 || strpbrk(pc->name, "\t\r\n") != NULL)) {
        ck_cfg_join(p, sizeof p, path, "name");
        return ck_cfg_fail(c, p, 0, "expected a short name on one line (at most 300 bytes)");
    }
    if (pc->token_env != NULL) {
        const char *e = pc->token_env;
        ck_cfg_join(p, sizeof p, path, pc->handle != NULL ? "password_env" : "token_env");
        if (!((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') || *e == '_') ||
            strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                strlen(e))
            return ck_cfg_fail(
                c, p, 0,
                "expected the name of an environment variable like CHATKEEPER_TOKEN, "
                "got \"%s\"",
                e);
    }
    if (pc->token_file != NULL && pc->token_file[0] != '/') {
        char *full = malloc(strlen(dir) + strlen(pc->token_file) + 2);
        if (full == NULL)
            return ck_cfg_oom(c);
        snprintf(full, strlen(dir) + strlen(pc->token_file) + 2, "%s/%s", dir, pc->token_file);
        free(pc->token_file);
        pc->token_file = full;
    }
    return 0;
}

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
