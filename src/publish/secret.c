/* Credentials for the blog targets, and the small encodings every target
 * needs (Basic auth, query values, readable excerpts of error pages). A secret
 * never enters a log line or an error message: only where it came from does.
 * A source that gives no usable secret (a variable not set, a missing file)
 * is a session file to fix, CK_ECONFIG, as publish.h promises; CK_EAUTH is
 * left for a server that refuses what we sent. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/secret.h"
#include "publish_internal.h"

#define MAX_SECRET 4096

void ck_pub_secret_free(char *secret)
{
    ck_secret_free(secret);
}

int ck_pub_secret(const struct ck_pub *p, const json_t *conf, const char *name, char **out,
                  struct ck_error *err)
{
    char key[32];
    *out = NULL;
    snprintf(key, sizeof key, "%s_env", name);
    const char *env = json_string_value(json_object_get(conf, key));
    snprintf(key, sizeof key, "%s_file", name);
    const char *file = json_string_value(json_object_get(conf, key));
    char *v = NULL, where[512];
    int rc = 0;
    if (env != NULL) {
        snprintf(where, sizeof where, "environment variable %s", env);
        const char *e = getenv(env);
        if (e == NULL || e[0] == '\0')
            return ck_error_set(err, CK_ECONFIG, "%s is not set", where);
        v = strdup(e);
        if (v == NULL)
            return ck_error_set(err, CK_ENOMEM, "out of memory");
    } else if (file != NULL) {
        if (file[0] == '/')
            snprintf(where, sizeof where, "%s", file);
        else
            snprintf(where, sizeof where, "%s/%s", p->s->dir, file);
        rc = ck_secret_read_file(where, "secret file", MAX_SECRET, &v, err);
        if (rc != 0)
            return rc;
    } else {
        return ck_error_set(err, CK_ECONFIG, "no %s_env or %s_file configured", name, name);
    }
    bool bad = v[0] == '\0';
    for (const char *c = v; *c != '\0'; c++)
        bad = bad || iscntrl((unsigned char)*c);
    if (bad) {
        ck_pub_secret_free(v);
        return ck_error_set(err, CK_ECONFIG, "the %s from %s is empty or has line breaks", name,
                            where);
    }
    *out = v;
    return 0;
}

int ck_pub_basic_auth(const char *user, const char *password, char **out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t ul = strlen(user), pl = strlen(password), n = ul + 1 + pl;
    unsigned char *raw = malloc(n + 1);
    char *enc = malloc(6 + (n + 2) / 3 * 4 + 1);
    if (raw == NULL || enc == NULL) {
        free(raw);
        free(enc);
        return CK_ENOMEM;
    }
    memcpy(raw, user, ul);
    raw[ul] = ':';
    memcpy(raw + ul + 1, password, pl);
    memcpy(enc, "Basic ", 6);
    size_t o = 6;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (i + 1 < n ? (unsigned)raw[i + 1] << 8 : 0) |
                     (i + 2 < n ? raw[i + 2] : 0);
        enc[o++] = b64[v >> 18 & 63];
        enc[o++] = b64[v >> 12 & 63];
        enc[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        enc[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    enc[o] = '\0';
    memset(raw, 0, n);
    free(raw);
    *out = enc;
    return 0;
}

char *ck_pub_query_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *o = malloc(strlen(s) * 3 + 1), *w = o;
    for (const unsigned char *c = (const unsigned char *)s; o != NULL && *c != '\0'; c++) {
        if (isalnum(*c) || strchr("-_.~", *c) != NULL) {
            *w++ = (char)*c;
        } else {
            *w++ = '%';
            *w++ = hex[*c >> 4];
            *w++ = hex[*c & 15];
        }
    }
    if (o != NULL)
        *w = '\0';
    return o;
}

void ck_pub_body_excerpt(const struct ck_response *r, char *buf, size_t n)
{
    size_t o = 0;
    bool in_tag = false, space = true;
    for (size_t i = 0; r->body != NULL && i < r->body_len && o + 4 < n; i++) {
        unsigned char c = (unsigned char)r->body[i];
        if (c == '<')
            in_tag = true;
        if (in_tag) {
            in_tag = c != '>';
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                buf[o++] = ' ';
            space = true;
            continue;
        }
        buf[o++] = (char)c;
        space = false;
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    if (r->body != NULL && o + 4 >= n && n > 4) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    if (n > 0)
        buf[o < n ? o : n - 1] = '\0';
}
