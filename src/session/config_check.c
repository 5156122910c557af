/* The toolkit for validating the session file: typed getters that report
 * "file:line:column: field 'path': expected ..., got ..." on failure, the
 * unknown-field check with its "did you mean", and the value checks for
 * hashtags, handles and the question format. config.c holds the session's
 * own rules; this file knows nothing about which fields a session has. */
#include "config_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/suggest.h"
#include "chatkeeper/timeutil.h"

/* Report an error at path's value (or at its key), falling back to the
 * nearest enclosing value we know: a missing field points at the opening
 * brace of the object that should have held it. */
int ck_cfg_fail(struct ck_cfg_ctx *c, const char *path, int at_key, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char look[256];
    snprintf(look, sizeof look, "%s", path);
    const struct ck_jpos_entry *e = ck_jpos_find(c->pos, look);
    while (e == NULL && look[0] != '\0') {
        char *cut = strrchr(look, '.');
        char *br = strrchr(look, '[');
        if (br != NULL && (cut == NULL || br > cut))
            cut = br;
        if (cut == NULL)
            look[0] = '\0';
        else
            *cut = '\0';
        at_key = 0;
        e = ck_jpos_find(c->pos, look);
    }
    int line = e ? (at_key ? e->key_line : e->line) : 1;
    int col = e ? (at_key ? e->key_col : e->col) : 1;
    if (path[0] == '\0')
        return ck_error_set(c->err, CK_ECONFIG, "%s:%d:%d: %s", c->name, line, col, what);
    return ck_error_set(c->err, CK_ECONFIG, "%s:%d:%d: field '%s': %s", c->name, line, col, path,
                        what);
}

int ck_cfg_oom(struct ck_cfg_ctx *c)
{
    return ck_error_set(c->err, CK_ENOMEM, "%s: out of memory", c->name);
}

/* A short rendering of a JSON value for "got ..." in messages. */
void ck_cfg_describe(const json_t *v, char *buf, size_t n)
{
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        if (strlen(s) > 48) {
            /* Cut at a character boundary: a message ends in "...", never in
             * half of an emoji. */
            size_t cut = 45;
            while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
                cut--;
            snprintf(buf, n, "\"%.*s...\"", (int)cut, s);
        } else
            snprintf(buf, n, "\"%s\"", s);
        break;
    }
    case JSON_INTEGER:
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(buf, n, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(buf, n, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, n, "false");
        break;
    case JSON_NULL:
        snprintf(buf, n, "null");
        break;
    case JSON_OBJECT:
        snprintf(buf, n, "an object");
        break;
    case JSON_ARRAY:
        snprintf(buf, n, "an array");
        break;
    }
}

void ck_cfg_join(char *buf, size_t n, const char *parent, const char *key)
{
    snprintf(buf, n, "%s%s%s", parent, parent[0] ? "." : "", key);
}

/* Names that would put a secret into a file people share and archive. */
static int looks_secret(const char *key)
{
    static const char *const names[] = {"token",  "access_token",  "bearer",  "password",
                                        "secret", "client_secret", "api_key", "authorization"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return 1;
    return 0;
}

int ck_cfg_check_keys(struct ck_cfg_ctx *c, const json_t *obj, const char *path,
                      const char *const *allowed, size_t n)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(key, allowed[i]) == 0)
                break;
        if (i < n)
            continue;
        char p[256];
        ck_cfg_join(p, sizeof p, path, key);
        if (looks_secret(key))
            return ck_cfg_fail(c, p, 1,
                               "a token must never be in the session file (it gets shared and "
                               "archived); use \"token_env\" or a mode 0600 \"token_file\"");
        const char *near = ck_suggest(key, allowed, n);
        if (near != NULL)
            return ck_cfg_fail(c, p, 1, "unknown field '%s' (did you mean '%s'?)", key, near);
        return ck_cfg_fail(c, p, 1, "unknown field '%s'", key);
    }
    return 0;
}

/* Fetch obj[key]: *out is NULL when absent and not required. */
int ck_cfg_member(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                  int required, const char *expected, json_t **out)
{
    *out = json_object_get(obj, key);
    if (*out == NULL && required) {
        char p[256];
        ck_cfg_join(p, sizeof p, opath, key);
        return ck_cfg_fail(c, p, 0, "required field is missing; expected %s", expected);
    }
    return 0;
}

int ck_cfg_string(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                  int required, char **out)
{
    json_t *v;
    int rc = ck_cfg_member(c, obj, opath, key, required, "a string", &v);
    if (rc != 0 || v == NULL)
        return rc;
    char p[256], got[64];
    ck_cfg_join(p, sizeof p, opath, key);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        ck_cfg_describe(v, got, sizeof got);
        return ck_cfg_fail(c, p, 0, "expected a non-empty string, got %s", got);
    }
    *out = strdup(json_string_value(v));
    return *out ? 0 : ck_cfg_oom(c);
}

int ck_cfg_duration(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                    int required, int64_t *out)
{
    json_t *v;
    int rc = ck_cfg_member(c, obj, opath, key, required, "a duration like 90s, 5m or 1h30m", &v);
    if (rc != 0 || v == NULL)
        return rc;
    char p[256], got[64];
    ck_cfg_join(p, sizeof p, opath, key);
    if (!json_is_string(v) || ck_duration_parse(json_string_value(v), out) != 0) {
        ck_cfg_describe(v, got, sizeof got);
        return ck_cfg_fail(c, p, 0, "expected a duration like 90s, 5m or 1h30m, got %s", got);
    }
    return 0;
}

int ck_cfg_bool(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v)) {
        char p[256], got[64];
        ck_cfg_join(p, sizeof p, opath, key);
        ck_cfg_describe(v, got, sizeof got);
        return ck_cfg_fail(c, p, 0, "expected true or false, got %s", got);
    }
    *out = json_is_true(v);
    return 0;
}

int ck_cfg_object(struct ck_cfg_ctx *c, const json_t *obj, const char *opath, const char *key,
                  int required, json_t **out)
{
    int rc = ck_cfg_member(c, obj, opath, key, required, "an object { ... }", out);
    if (rc != 0 || *out == NULL || json_is_object(*out))
        return rc;
    char p[256], got[64];
    ck_cfg_join(p, sizeof p, opath, key);
    ck_cfg_describe(*out, got, sizeof got);
    return ck_cfg_fail(c, p, 0, "expected an object { ... }, got %s", got);
}

int ck_cfg_hashtag_ok(const char *h)
{
    int nondigit = 0;
    if (*h == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
        /* Bytes >= 0x80 are UTF-8 letters such as "é"; Mastodon allows them. */
        if (!(*p >= 0x80 || *p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z')))
            return 0;
        if (!(*p >= '0' && *p <= '9'))
            nondigit = 1;
    }
    return nondigit;
}

static int handle_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* "@user@domain": Mastodon's username rules, a host name, an optional port. */
int ck_cfg_facilitator_ok(const char *f)
{
    if (*f++ != '@')
        return 0;
    const char *at = strchr(f, '@');
    if (at == NULL || at == f || !handle_char(f[0]) || !handle_char(at[-1]))
        return 0;
    for (const char *p = f; p < at; p++)
        if (!handle_char(*p) && *p != '.' && *p != '-')
            return 0;
    const char *d = at + 1;
    size_t label = 0;
    for (; *d != '\0' && *d != ':'; d++) {
        if (*d == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if ((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
                   (*d >= '0' && *d <= '9') || *d == '-') {
            label++;
        } else {
            return 0;
        }
    }
    if (label == 0)
        return 0;
    if (*d == ':') {
        if (d[1] == '\0' || strspn(d + 1, "0123456789") != strlen(d + 1) || strlen(d + 1) > 5)
            return 0;
    }
    return 1;
}

/* "@name.bsky.social" or a custom domain "@alice.example.org": a Bluesky
 * handle is a host name (two labels at least, the last not all digits). */
int ck_cfg_bluesky_handle_ok(const char *f)
{
    if (*f++ != '@' || strlen(f) > 253 || strchr(f, '.') == NULL)
        return 0;
    size_t label = 0, labels = 0, digits = 0;
    for (const char *d = f;; d++) {
        if (*d == '.' || *d == '\0') {
            if (label == 0 || label > 63 || d[-1] == '-')
                return 0;
            labels++;
            if (*d == '\0')
                break;
            label = digits = 0;
        } else if ((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
                   (*d >= '0' && *d <= '9') || (*d == '-' && label > 0)) {
            label++;
            digits += *d >= '0' && *d <= '9';
        } else {
            return 0;
        }
    }
    return labels >= 2 && digits < label;
}

/* Placeholders {n}, {text}, {hashtag}; {text} is required. Returns NULL or
 * the offending placeholder in buf. */
const char *ck_cfg_format_problem(const char *fmt, char *buf, size_t n)
{
    int has_text = 0;
    for (const char *p = strchr(fmt, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *e = strchr(p, '}');
        size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
        if (len == 6 && strncmp(p, "{text}", 6) == 0)
            has_text = 1;
        else if (!(len == 3 && strncmp(p, "{n}", 3) == 0) &&
                 !(len == 9 && strncmp(p, "{hashtag}", 9) == 0)) {
            snprintf(buf, n, "unknown placeholder '%.*s' (expected {n}, {text} or {hashtag})",
                     (int)(len > 40 ? 40 : len), p);
            return buf;
        }
    }
    if (!has_text) {
        snprintf(buf, n, "expected a format containing {text}, like \"Q{n} {text} #{hashtag}\"");
        return buf;
    }
    return NULL;
}
