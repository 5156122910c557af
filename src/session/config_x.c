/* The X entry of a session file: {"type": "x", "base_url", "token_env" |
 * "token_file", "user_token_env" | "user_token_file", "oauth1_env" |
 * "oauth1_file", "retweets"}. Kept apart from config.c's Mastodon entry so
 * each platform's rules read on their own. See config_x.h. */
#include "config_x.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X_DEFAULT_BASE "https://api.x.com"

static bool env_name_ok(const char *e)
{
    return ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') || *e == '_') &&
           strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
               strlen(e);
}

/* One NAME_env / NAME_file pair: at most one of them, a variable's name, a
 * file resolved against dir. */
static int secret_pair(struct ck_cfg_ctx *c, const json_t *v, const char *path, const char *dir,
                       const char *name, char **env, char **file)
{
    char env_key[64], file_key[64], field[192];
    snprintf(env_key, sizeof env_key, "%s_env", name);
    snprintf(file_key, sizeof file_key, "%s_file", name);
    int rc = ck_cfg_string(c, v, path, env_key, 0, env);
    if (rc == 0)
        rc = ck_cfg_string(c, v, path, file_key, 0, file);
    if (rc != 0)
        return rc;
    if (*env != NULL && *file != NULL) {
        ck_cfg_join(field, sizeof field, path, file_key);
        return ck_cfg_fail(c, field, 1, "expected only one of %s and %s, got both", env_key,
                           file_key);
    }
    if (*env != NULL && !env_name_ok(*env)) {
        ck_cfg_join(field, sizeof field, path, env_key);
        return ck_cfg_fail(c, field, 0,
                           "expected the name of an environment variable like X_TOKEN, got "
                           "\"%s\"",
                           *env);
    }
    if (*file != NULL && (*file)[0] != '/') {
        size_t n = strlen(dir) + strlen(*file) + 2;
        char *full = malloc(n);
        if (full == NULL)
            return ck_cfg_oom(c);
        snprintf(full, n, "%s/%s", dir, *file);
        free(*file);
        *file = full;
    }
    return 0;
}

int ck_cfg_parse_x(struct ck_cfg_ctx *c, const json_t *v, const char *path, const char *dir,
                   bool post, struct ck_platform_conf *pc)
{
    static const char *const keys[] = {"type",
                                       "base_url",
                                       "token_env",
                                       "token_file",
                                       "user_token_env",
                                       "user_token_file",
                                       "oauth1_env",
                                       "oauth1_file",
                                       "retweets",
                                       "post",
                                       "name"};
    char field[192];
    int rc = ck_cfg_check_keys(c, v, path, keys, sizeof keys / sizeof keys[0]);
    if (rc == 0)
        rc = ck_cfg_string(c, v, path, "base_url", 0, &pc->base_url);
    if (rc != 0)
        return rc;
    if (pc->base_url == NULL && (pc->base_url = strdup(X_DEFAULT_BASE)) == NULL)
        return ck_cfg_oom(c);
    if (!ck_url_allowed(pc->base_url) || strpbrk(pc->base_url, "?# \t") != NULL) {
        ck_cfg_join(field, sizeof field, path, "base_url");
        return ck_cfg_fail(c, field, 0,
                           "expected an https:// URL such as \"https://api.x.com\" (plain "
                           "http:// only to a loopback host), got \"%s\"",
                           pc->base_url);
    }
    size_t len = strlen(pc->base_url);
    while (len > 8 && pc->base_url[len - 1] == '/')
        pc->base_url[--len] = '\0';
    pc->retweets = false; /* retweets cost reads; their originals are fetched anyway */
    rc = ck_cfg_bool(c, v, path, "retweets", &pc->retweets);
    if (rc == 0)
        rc = secret_pair(c, v, path, dir, "token", &pc->token_env, &pc->token_file);
    if (rc == 0)
        rc = secret_pair(c, v, path, dir, "user_token", &pc->user_token_env, &pc->user_token_file);
    if (rc == 0)
        rc = secret_pair(c, v, path, dir, "oauth1", &pc->oauth1_env, &pc->oauth1_file);
    if (rc != 0)
        return rc;
    bool user = pc->user_token_env != NULL || pc->user_token_file != NULL;
    bool oauth1 = pc->oauth1_env != NULL || pc->oauth1_file != NULL;
    bool app = pc->token_env != NULL || pc->token_file != NULL;
    if (user && oauth1) {
        ck_cfg_join(field, sizeof field, path,
                    pc->oauth1_env != NULL ? "oauth1_env" : "oauth1_file");
        return ck_cfg_fail(c, field, 1,
                           "expected one way to post, got both a user token and OAuth 1.0a keys");
    }
    if (post && !user && !oauth1)
        return ck_cfg_fail(c, path, 0,
                           "expected \"user_token_env\" or \"oauth1_env\" (or their _file forms): "
                           "posting on X needs the account's own credentials, not the app's "
                           "bearer token; set \"post\": false to only follow the hashtag");
    if (!app && !user && !oauth1)
        return ck_cfg_fail(c, path, 0,
                           "expected \"token_env\" or \"token_file\" (the app's bearer token): X "
                           "has no anonymous search");
    return 0;
}

void ck_cfg_x_finish(struct ck_platform_conf *pc)
{
    free(pc->user_token_env);
    free(pc->user_token_file);
    free(pc->oauth1_env);
    free(pc->oauth1_file);
    pc->user_token_env = pc->user_token_file = pc->oauth1_env = pc->oauth1_file = NULL;
}
