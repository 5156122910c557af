/* Access to the platform: which base URLs we accept and where the token
 * comes from. Both are security rules (DESIGN.md, Security): TLS always,
 * except to this very machine, and a token only ever from the environment or
 * a file nobody else can read. The token is never logged or put in a message. */
#include "chatkeeper/config.h"

#include "chatkeeper/secret.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKEN_FILE 8192

/* 127.0.0.0/8 in strict dotted-quad form (no "127.1", no octal). */
static bool ipv4_loopback(const char *h, size_t n)
{
    int part = 0, digits = 0, val = 0, first = -1;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (digits == 0 || val > 255)
                return false;
            if (part == 0)
                first = val;
            part++;
            digits = val = 0;
        } else if (isdigit((unsigned char)h[i]) && digits < 3) {
            if (digits == 1 && val == 0)
                return false; /* leading zero: some parsers read it as octal */
            val = val * 10 + (h[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    return part == 4 && first == 127;
}

bool ck_url_allowed(const char *url)
{
    if (url == NULL)
        return false;
    const char *auth;
    bool plain;
    if (strncasecmp(url, "https://", 8) == 0) {
        auth = url + 8;
        plain = false;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        auth = url + 7;
        plain = true;
    } else {
        return false;
    }
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0)
        return false;
    /* "http://127.0.0.1@evil.example" has host evil.example: refuse userinfo. */
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@' || isspace((unsigned char)auth[i]) || iscntrl((unsigned char)auth[i]))
            return false;
    size_t hlen;
    const char *port;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (close == NULL)
            return false;
        hlen = (size_t)(close - auth) + 1;
        port = close + 1;
    } else {
        const char *colon = memchr(auth, ':', alen);
        hlen = colon ? (size_t)(colon - auth) : alen;
        port = auth + hlen;
    }
    if (hlen == 0)
        return false;
    if (port < auth + alen) {
        if (*port != ':' || port + 1 == auth + alen)
            return false;
        for (const char *p = port + 1; p < auth + alen; p++)
            if (!isdigit((unsigned char)*p))
                return false;
        if (auth + alen - (port + 1) > 5)
            return false;
    }
    if (!plain)
        return true;
    if (hlen == 9 && strncasecmp(auth, "localhost", 9) == 0)
        return true;
    if (hlen == 5 && strncmp(auth, "[::1]", 5) == 0)
        return true;
    return ipv4_loopback(auth, hlen);
}

int ck_session_secret(const char *env, const char *file, const char *what, char **out,
                      struct ck_error *err)
{
    *out = NULL;
    char *tok = NULL;
    const char *where;
    if (env != NULL) {
        where = env;
        const char *v = getenv(where);
        if (v == NULL || v[0] == '\0')
            return ck_error_set(err, CK_ECONFIG, "environment variable %s is not set", where);
        tok = strdup(v);
        if (tok == NULL)
            return ck_error_set(err, CK_ENOMEM, "out of memory");
    } else if (file != NULL) {
        where = file;
        char label[64];
        snprintf(label, sizeof label, "%s file", what);
        int rc = ck_secret_read_file(where, label, MAX_TOKEN_FILE, &tok, err);
        if (rc != 0)
            return rc;
    } else {
        return ck_error_set(err, CK_ECONFIG, "no %s configured", what);
    }
    /* The token goes into an HTTP header: a stray line break or control
     * character would split it. Say where, never what. */
    bool bad = tok[0] == '\0';
    for (const char *p = tok; *p != '\0'; p++)
        if (iscntrl((unsigned char)*p) || *p == ' ')
            bad = true;
    if (bad) {
        ck_secret_free(tok);
        return ck_error_set(err, CK_ECONFIG, "%s from %s is empty or has spaces or line breaks",
                            what, where);
    }
    *out = tok;
    return 0;
}

int ck_platform_token(const struct ck_platform_conf *pc, char **out, struct ck_error *err)
{
    if (pc->token_env == NULL && pc->token_file == NULL) {
        *out = NULL;
        return ck_error_set(err, CK_ECONFIG,
                            "no token configured (platform.token_env or platform.token_file)");
    }
    /* On Bluesky the secret is the app password (password_env/password_file). */
    const char *what = pc->handle != NULL ? "app password" : "token";
    return ck_session_secret(pc->token_env, pc->token_file, what, out, err);
}

int ck_session_token(const struct ck_session *s, char **out, struct ck_error *err)
{
    return ck_platform_token(&s->platform, out, err);
}

int ck_platform_x_can(const struct ck_platform_conf *pc)
{
    if (pc->type == NULL || strcmp(pc->type, "x") != 0)
        return 0;
    bool user = pc->user_token_env != NULL || pc->user_token_file != NULL ||
                pc->oauth1_env != NULL || pc->oauth1_file != NULL;
    bool app = pc->token_env != NULL || pc->token_file != NULL;
    return (user || app ? CK_CAN_READ : 0) | (user ? CK_CAN_POST : 0);
}
