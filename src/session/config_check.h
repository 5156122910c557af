/* Private to the config module: validation helpers shared by config.c and
 * config_check.c. Every helper that fails records one line in ctx->err,
 * "file:line:column: field 'path': ...", and returns CK_ECONFIG (CK_ENOMEM
 * when out of memory). Paths are JSON paths: "platform.base_url",
 * "questions[1].at"; "" is the top-level object. */
#ifndef CHATKEEPER_CONFIG_CHECK_H
#define CHATKEEPER_CONFIG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "config_pos.h"

struct ck_cfg_ctx {
    const char *name;
    const struct ck_jpos *pos;
    struct ck_error *err;
};

/* Report at path's value (at_key: at its key), or at the nearest enclosing
 * value the position table knows (a missing field: its object's brace). */
int ck_cfg_fail(struct ck_cfg_ctx *c, const char *path, int at_key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int ck_cfg_oom(struct ck_cfg_ctx *c);

/* "\"text\"", 42, true, "an object": a short rendering for "got ...". */
void ck_cfg_describe(const json_t *v, char *buf, size_t n);
/* parent + "." + key (no dot at the top level). */
void ck_cfg_join(char *buf, size_t n, const char *parent, const char *key);

/* Every key of obj must be in allowed; else "unknown field" with the closest
 * name suggested, or a refusal naming why when the key looks like a secret. */
int ck_cfg_check_keys(struct ck_cfg_ctx *c, const json_t *obj, const char *path,
                      const char *const *allowed, size_t n);

/* obj[key], borrowed; *out NULL when absent and !required. */
int ck_cfg_member(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                  int required, const char *expected, json_t **out);
/* A non-empty string; *out new (free()), untouched when absent. */
int ck_cfg_string(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                  int required, char **out);
/* A duration string ("90s", "1h30m"); *out untouched when absent. */
int ck_cfg_duration(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                    int required, int64_t *out);
int ck_cfg_bool(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                bool *out);
/* An object, borrowed; *out NULL when absent and !required. */
int ck_cfg_object(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                  int required, json_t **out);

/* The "platform" or "platforms" section into s (config_platforms.c), and one
 * entry of either (config_platforms.c too): path is "platform" or "platforms[i]", dir the
 * session file's folder (a relative token_file is resolved against it). */
struct ck_session;
struct ck_platform_conf;
int ck_cfg_platforms(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s);
int ck_cfg_platform_entry(struct ck_cfg_ctx *c, const json_t *v, const char *path, const char *dir,
                          struct ck_platform_conf *pc);
void ck_platform_conf_finish(struct ck_platform_conf *pc);

/* Value rules; each returns 1 when the value is acceptable. */
int ck_cfg_hashtag_ok(const char *h);
int ck_cfg_facilitator_ok(const char *f);
/* "agenda_url" and "reminders" (config_reminders.c): each reminder's before
 * (a duration > 0) and text (a template whose every {{name}} is known, and
 * {{agenda_url}} only with an agenda_url). Returns 0 or the error. */
struct ck_session;
int ck_cfg_reminders(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s);

int ck_cfg_bluesky_handle_ok(const char *f);
/* NULL if fmt is a valid question format, else why not (written to buf). */
const char *ck_cfg_format_problem(const char *fmt, char *buf, size_t n);

#endif
