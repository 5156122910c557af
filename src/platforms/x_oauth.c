/* OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), the form X's bot
 * accounts use because its tokens do not expire. The HMAC is OpenSSL's
 * libcrypto (which libcurl links on Debian): no hand-written SHA-1. Pure:
 * the nonce and timestamp are the caller's. See x.h. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "chatkeeper/sbuf.h"
#include "chatkeeper/secret.h"
#include "chatkeeper/x.h"
#include "x_int.h"

void ck_x_oauth1_finish(struct ck_x_oauth1 *k)
{
    if (k == NULL)
        return;
    ck_secret_free(k->consumer_key);
    ck_secret_free(k->consumer_secret);
    ck_secret_free(k->token);
    ck_secret_free(k->token_secret);
    memset(k, 0, sizeof *k);
}

int ck_x_oauth1_parse(const char *s, struct ck_x_oauth1 *out, struct ck_error *err)
{
    static const char *const names[] = {"consumer_key", "consumer_secret", "access_token",
                                        "access_token_secret"};
    memset(out, 0, sizeof *out);
    char **parts[] = {&out->consumer_key, &out->consumer_secret, &out->token, &out->token_secret};
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    size_t at = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t end = at;
        while (end < len && s[end] != ':')
            end++;
        if (end == at || (i < 3 && end == len) || (i == 3 && end != len)) {
            ck_x_oauth1_finish(out);
            size_t missing = end > at && i < 3 ? i + 1 : i; /* "a:b:c" lacks the 4th */
            return ck_error_set(err, CK_EINVAL,
                                i == 3 && end != len
                                    ? "x: OAuth 1.0a keys: more than four ':'-separated parts "
                                      "(consumer_key:consumer_secret:access_token:"
                                      "access_token_secret)"
                                    : "x: OAuth 1.0a keys: %s is missing or empty "
                                      "(consumer_key:consumer_secret:access_token:"
                                      "access_token_secret)",
                                names[missing]);
        }
        for (size_t j = at; j < end; j++)
            if (!isgraph((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80) {
                ck_x_oauth1_finish(out);
                return ck_error_set(err, CK_EINVAL,
                                    "x: OAuth 1.0a keys: %s holds a space or a character that "
                                    "is not printable ASCII",
                                    names[i]);
            }
        *parts[i] = strndup(s + at, end - at);
        if (*parts[i] == NULL) {
            ck_x_oauth1_finish(out);
            return ck_error_set(err, CK_ENOMEM, "x: out of memory");
        }
        at = end + 1;
    }
    return 0;
}

char *ck_x_oauth_encode(const char *s)
{
    struct ck_sbuf b = {0};
    ck_sbuf_put(&b, "", 0);
    ck_sbuf_pct(&b, s); /* exactly RFC 5849's set: unreserved kept, the rest %XX upper-case */
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Percent-decode n bytes of s ('+' is a space: the query is a form). */
static char *form_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
                   isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

struct pair {
    char *name, *value; /* encoded */
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static bool add_pair(struct pair **v, size_t *n, size_t *cap, const char *name, const char *value)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        struct pair *g = realloc(*v, c * sizeof *g);
        if (g == NULL)
            return false;
        *v = g;
        *cap = c;
    }
    char *en = ck_x_oauth_encode(name), *ev = ck_x_oauth_encode(value);
    if (en == NULL || ev == NULL) {
        free(en);
        free(ev);
        return false;
    }
    (*v)[(*n)++] = (struct pair){en, ev};
    return true;
}

char *ck_x_oauth1_base_string(const char *method, const char *url, const char *const *oauth_params,
                              size_t n_oauth, const char *const *params, size_t n_params)
{
    /* The base URI: scheme and host lower-case, no default port, no query. */
    const char *sep = strstr(url, "://");
    if (sep == NULL)
        return NULL;
    size_t scheme_len = (size_t)(sep - url);
    bool https = scheme_len == 5 && strncasecmp(url, "https", 5) == 0;
    if (!https && !(scheme_len == 4 && strncasecmp(url, "http", 4) == 0))
        return NULL;
    const char *host = sep + 3;
    size_t host_len = strcspn(host, "/?#");
    const char *path = host + host_len;
    size_t path_len = strcspn(path, "?#");
    const char *query = path[path_len] == '?' ? path + path_len + 1 : NULL;
    size_t port_at = host_len;
    for (size_t i = 0; i < host_len; i++)
        if (host[i] == ':')
            port_at = i;
    const char *port = host + port_at;
    size_t port_len = host_len - port_at;
    bool default_port = port_len == 0 ||
                        (https && port_len == 4 && strncmp(port, ":443", 4) == 0) ||
                        (!https && port_len == 3 && strncmp(port, ":80", 3) == 0);
    struct ck_sbuf uri = {0};
    ck_sbuf_str(&uri, https ? "https://" : "http://");
    size_t keep = default_port ? port_at : host_len;
    for (size_t i = 0; i < keep; i++) {
        char c = (char)tolower((unsigned char)host[i]);
        ck_sbuf_put(&uri, &c, 1);
    }
    if (path_len == 0)
        ck_sbuf_str(&uri, "/");
    else
        ck_sbuf_put(&uri, path, path_len);

    struct pair *v = NULL;
    size_t n = 0, cap = 0;
    bool ok = !uri.oom;
    for (size_t i = 0; ok && i < 2 * n_oauth; i += 2)
        ok = add_pair(&v, &n, &cap, oauth_params[i], oauth_params[i + 1]);
    for (size_t i = 0; ok && i < 2 * n_params; i += 2)
        ok = add_pair(&v, &n, &cap, params[i], params[i + 1]);
    /* The URL's own query parameters, decoded, are signed too. */
    while (ok && query != NULL && *query != '\0' && *query != '#') {
        size_t len = strcspn(query, "&#");
        const char *eq = memchr(query, '=', len);
        char *name = form_decode(query, eq != NULL ? (size_t)(eq - query) : len);
        char *value = eq != NULL ? form_decode(eq + 1, len - (size_t)(eq + 1 - query)) : strdup("");
        ok = name != NULL && value != NULL && (len == 0 || add_pair(&v, &n, &cap, name, value));
        free(name);
        free(value);
        query += len;
        if (*query == '&')
            query++;
    }
    char *result = NULL;
    if (ok) {
        qsort(v, n, sizeof *v, pair_cmp);
        struct ck_sbuf ps = {0}, b = {0};
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                ck_sbuf_str(&ps, "&");
            ck_sbuf_str(&ps, v[i].name);
            ck_sbuf_str(&ps, "=");
            ck_sbuf_str(&ps, v[i].value);
        }
        ck_sbuf_put(&ps, "", 0);
        for (const char *m = method; *m != '\0'; m++) {
            char c = (char)toupper((unsigned char)*m);
            ck_sbuf_put(&b, &c, 1);
        }
        ck_sbuf_str(&b, "&");
        ck_sbuf_pct(&b, uri.s);
        ck_sbuf_str(&b, "&");
        ck_sbuf_pct(&b, ps.s != NULL ? ps.s : "");
        if (!ps.oom && !b.oom)
            result = b.s;
        else
            free(b.s);
        free(ps.s);
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
    free(uri.s);
    return result;
}

/* sep, then one name="value" of the Authorization header, both
 * percent-encoded. */
static void header_param(struct ck_sbuf *h, const char *sep, const char *name, const char *value)
{
    ck_sbuf_str(h, sep);
    ck_sbuf_pct(h, name);
    ck_sbuf_str(h, "=\"");
    ck_sbuf_pct(h, value);
    ck_sbuf_str(h, "\"");
}

int ck_x_oauth1_header(const struct ck_x_oauth1 *k, const char *method, const char *url,
                       const char *const *params, size_t n_params, const char *nonce,
                       int64_t timestamp, char **out, struct ck_error *err)
{
    *out = NULL;
    if (k == NULL || k->consumer_key == NULL || k->consumer_secret == NULL || k->token == NULL ||
        k->token_secret == NULL)
        return ck_error_set(err, CK_EINVAL, "x: OAuth 1.0a keys are missing");
    size_t nl = nonce != NULL ? strlen(nonce) : 0;
    if (nl < 8 || nl > 64 ||
        strspn(nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789") != nl)
        return ck_error_set(err, CK_EINVAL, "x: an OAuth nonce is 8-64 letters and digits");
    if (timestamp <= 0)
        return ck_error_set(err, CK_EINVAL, "x: an OAuth timestamp is positive epoch seconds");
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
    const char *op[] = {"oauth_consumer_key",
                        k->consumer_key,
                        "oauth_nonce",
                        nonce,
                        "oauth_signature_method",
                        "HMAC-SHA1",
                        "oauth_timestamp",
                        ts,
                        "oauth_token",
                        k->token,
                        "oauth_version",
                        "1.0"};
    char *base = ck_x_oauth1_base_string(method, url, op, 6, params, n_params);
    if (base == NULL)
        return ck_error_set(err, strstr(url, "://") == NULL ? CK_EINVAL : CK_ENOMEM,
                            "x: cannot sign a request for that URL");
    struct ck_sbuf key = {0};
    ck_sbuf_pct(&key, k->consumer_secret);
    ck_sbuf_str(&key, "&");
    ck_sbuf_pct(&key, k->token_secret);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    bool ok = !key.oom && HMAC(EVP_sha1(), key.s, (int)key.len, (const unsigned char *)base,
                               strlen(base), mac, &mac_len) != NULL;
    ck_secret_free(key.s);
    free(base);
    if (!ok)
        return ck_error_set(err, CK_ENOMEM, "x: HMAC-SHA1 failed");
    unsigned char sig[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    EVP_EncodeBlock(sig, mac, (int)mac_len);
    /* The header sends what was signed and the signature, in name order:
     * oauth_signature sorts right after oauth_nonce. */
    struct ck_sbuf h = {0};
    ck_sbuf_str(&h, "OAuth ");
    for (size_t i = 0; i < sizeof op / sizeof op[0]; i += 2) {
        header_param(&h, i == 0 ? "" : ", ", op[i], op[i + 1]);
        if (strcmp(op[i], "oauth_nonce") == 0)
            header_param(&h, ", ", "oauth_signature", (const char *)sig);
    }
    if (h.oom) {
        ck_secret_free(h.s);
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    *out = h.s;
    return 0;
}
