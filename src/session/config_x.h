/* Private to the config module: the X platform entry (config_x.c). */
#ifndef CHATKEEPER_SESSION_CONFIG_X_H
#define CHATKEEPER_SESSION_CONFIG_X_H

#include <stdbool.h>

#include <jansson.h>

#include "chatkeeper/config.h"
#include "config_check.h"

/* Parse an X platform object v at path ("platform", or an entry of a
 * platforms array) into pc, whose type is already "x": base_url (default
 * https://api.x.com), token_env|token_file (the app-only bearer token, for
 * reading), user_token_env|user_token_file (an OAuth 2.0 user access token)
 * or oauth1_env|oauth1_file ("consumer_key:consumer_secret:access_token:
 * access_token_secret", OAuth 1.0a) for posting, retweets (default false).
 * Relative files resolve against dir. At least one credential; when post is
 * true, a user-context one. Returns 0 or CK_ECONFIG / CK_ENOMEM with
 * file:line:column in c->err. */
int ck_cfg_parse_x(struct ck_cfg_ctx *c, const json_t *v, const char *path, const char *dir,
                   bool post, struct ck_platform_conf *pc);

/* Free what ck_cfg_parse_x added to pc (its own fields). */
void ck_cfg_x_finish(struct ck_platform_conf *pc);

#endif
