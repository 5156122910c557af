/* X API v2 posting: POST /2/tweets, its answer and its refusals, and the
 * weighted length X checks against 280 (twitter-text's config v3). Pure.
 * See x.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/sbuf.h"
#include "chatkeeper/secret.h"
#include "chatkeeper/x.h"
#include "x_int.h"

/* ---- weighted length ---- */

/* One UTF-8 code point at s: its value (0xFFFFFFFF for a bad byte) and length. */
static unsigned long next_cp(const unsigned char *s, size_t *len)
{
    unsigned char c = s[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    if (n == 0 || (n > 1 && c < 0xC2) || (n == 4 && c > 0xF4)) {
        *len = 1;
        return 0xFFFFFFFFul;
    }
    unsigned long cp = n == 1 ? c : n == 2 ? c & 0x1Fu : n == 3 ? c & 0x0Fu : c & 0x07u;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *len = 1;
            return 0xFFFFFFFFul;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    *len = n;
    return cp;
}

/* twitter-text config v3: these ranges weigh 100 (1), the rest 200 (2). */
static size_t cp_weight(unsigned long cp)
{
    return cp <= 0x10FF || (cp >= 0x2000 && cp <= 0x200D) || (cp >= 0x2010 && cp <= 0x201F) ||
                   (cp >= 0x2032 && cp <= 0x2037)
               ? 1
               : 2;
}

/* Code points that start an emoji (approximately twitter-text's emoji
 * regex: the pictographic blocks, the dingbats and symbols commonly shown as
 * emoji, regional indicators). */
static bool emoji_start(unsigned long cp)
{
    return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) ||
           (cp >= 0x2B00 && cp <= 0x2BFF) || (cp >= 0x2300 && cp <= 0x23FF) || cp == 0x00A9 ||
           cp == 0x00AE || cp == 0x203C || cp == 0x2049 || cp == 0x2122 || cp == 0x2139 ||
           (cp >= 0x2194 && cp <= 0x21AA) || cp == 0x3030 || cp == 0x303D || cp == 0x3297 ||
           cp == 0x3299;
}

/* Parts that extend an emoji into one: variation selector 16, skin tones,
 * the keycap, tag characters (subdivision flags). */
static bool emoji_extend(unsigned long cp)
{
    return cp == 0xFE0F || (cp >= 0x1F3FB && cp <= 0x1F3FF) || cp == 0x20E3 ||
           (cp >= 0xE0020 && cp <= 0xE007F);
}

static bool url_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

/* Where a URL starting at s ends (trailing punctuation is not part of it, as
 * in twitter-text's extractor). */
static size_t url_end(const char *s, size_t from)
{
    size_t e = from;
    while (url_char((unsigned char)s[e]))
        e++;
    while (e > from && strchr(".,;:!?'\")]}", s[e - 1]) != NULL)
        e--;
    return e;
}

/* A bare domain at s (no scheme): "name.tld" or "a.b.tld/path", tld from
 * the common ones, which twitter-text links (and X counts as 23). Returns
 * its length or 0. */
static size_t bare_domain(const char *s)
{
    static const char *const tlds[] = {"com", "org", "net",    "edu", "gov",  "io", "co", "uk",
                                       "de",  "fr",  "ly",     "me",  "info", "ca", "au", "us",
                                       "app", "dev", "social", "xyz", "ac",   "nz", "ie"};
    size_t e = 0, last_dot = 0;
    while (isalnum((unsigned char)s[e]) || s[e] == '-' || s[e] == '.') {
        if (s[e] == '.')
            last_dot = e;
        e++;
    }
    if (last_dot == 0 || last_dot + 1 >= e)
        return 0;
    size_t tl = e - last_dot - 1;
    bool known = false;
    for (size_t i = 0; i < sizeof tlds / sizeof tlds[0] && !known; i++)
        known = strlen(tlds[i]) == tl && strncasecmp(s + last_dot + 1, tlds[i], tl) == 0;
    if (!known || s[e] == '@')
        return 0;
    return s[e] == '/' ? url_end(s, e) : e;
}

size_t ck_x_weighted_length(const char *text)
{
    const char *s = text;
    size_t w = 0, i = 0;
    while (s[i] != '\0') {
        bool boundary = i == 0 || !isalnum((unsigned char)s[i - 1]);
        size_t ulen = 0;
        if (boundary &&
            (strncasecmp(s + i, "https://", 8) == 0 || strncasecmp(s + i, "http://", 7) == 0)) {
            size_t e = url_end(s, i);
            size_t scheme = s[i + 4] == ':' ? 7 : 8;
            if (e > i + scheme)
                ulen = e - i;
        } else if (boundary && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\n' || s[i - 1] == '(')) {
            ulen = bare_domain(s + i);
        }
        if (ulen > 0) {
            w += CK_X_URL_WEIGHT;
            i += ulen;
            continue;
        }
        size_t n;
        unsigned long cp = next_cp((const unsigned char *)s + i, &n);
        i += n;
        if (cp == 0xFFFFFFFFul) {
            w += 2;
            continue;
        }
        /* A keycap ("1" U+FE0F U+20E3) is one emoji. */
        if ((isdigit((int)cp) || cp == '#' || cp == '*') && s[i] != '\0') {
            size_t n2, n3 = 0;
            unsigned long c2 = next_cp((const unsigned char *)s + i, &n2);
            unsigned long c3 = c2 == 0xFE0F && s[i + n2] != '\0'
                                   ? next_cp((const unsigned char *)s + i + n2, &n3)
                                   : c2;
            if (c2 == 0x20E3 || c3 == 0x20E3) {
                w += 2;
                i += c2 == 0x20E3 ? n2 : n2 + n3;
                continue;
            }
        }
        if (cp >= 0x1F1E6 && cp <= 0x1F1FF) {
            /* A flag is a pair of regional indicators. */
            size_t n2;
            unsigned long c2 = s[i] != '\0' ? next_cp((const unsigned char *)s + i, &n2) : 0;
            if (c2 >= 0x1F1E6 && c2 <= 0x1F1FF)
                i += n2;
            w += 2;
            continue;
        }
        if (!emoji_start(cp)) {
            w += cp_weight(cp);
            continue;
        }
        /* One emoji, with its modifiers and every ZWJ-joined part. */
        w += 2;
        for (;;) {
            size_t n2;
            if (s[i] == '\0')
                break;
            unsigned long c2 = next_cp((const unsigned char *)s + i, &n2);
            if (emoji_extend(c2)) {
                i += n2;
            } else if (c2 == 0x200D && s[i + n2] != '\0') {
                size_t n3;
                unsigned long c3 = next_cp((const unsigned char *)s + i + n2, &n3);
                if (!emoji_start(c3))
                    break;
                i += n2 + n3;
            } else {
                break;
            }
        }
    }
    return w;
}

/* ---- POST /2/tweets ---- */

static bool utf8_ok(const char *s)
{
    for (size_t i = 0; s[i] != '\0';) {
        size_t n;
        unsigned long cp = next_cp((const unsigned char *)s + i, &n);
        if (cp == 0xFFFFFFFFul || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += n;
    }
    return true;
}

int ck_x_post_request(const char *base_url, const struct ck_x_auth *auth, const char *text,
                      const char *reply_to, struct ck_request *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (base_url == NULL || base_url[0] == '\0')
        return ck_error_set(err, CK_EINVAL, "x: base URL is required");
    if (auth == NULL || (auth->user_token == NULL) == (auth->oauth1 == NULL))
        return ck_error_set(err, CK_EINVAL,
                            "x: posting needs a user token or OAuth 1.0a keys (one of them)");
    if (auth->user_token != NULL && strpbrk(auth->user_token, "\r\n") != NULL)
        return ck_error_set(err, CK_EINVAL, "x: token contains a line break");
    if (text == NULL || text[0] == '\0' || !utf8_ok(text))
        return ck_error_set(err, CK_EINVAL, "x: a post's text is non-empty valid UTF-8");
    size_t w = ck_x_weighted_length(text);
    if (w > CK_X_MAX_WEIGHTED)
        return ck_error_set(err, CK_EINVAL,
                            "x: the text weighs %zu of X's %d (links count 23, CJK and emoji 2)", w,
                            CK_X_MAX_WEIGHTED);
    if (reply_to != NULL && !ck_x_id_ok(reply_to))
        return ck_error_set(err, CK_EINVAL, "x: in_reply_to_tweet_id is a decimal tweet id");
    json_t *body = json_object();
    if (body != NULL && json_object_set_new(body, "text", json_string(text)) == 0 &&
        reply_to != NULL) {
        json_t *reply = json_object();
        if (json_object_set_new(reply, "in_reply_to_tweet_id", json_string(reply_to)) != 0 ||
            json_object_set_new(body, "reply", reply) != 0) {
            json_decref(body);
            body = NULL;
        }
    }
    char *dumped = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct ck_sbuf url = {0};
    ck_sbuf_url(&url, base_url, "/2/tweets");
    if (dumped == NULL || url.oom) {
        free(dumped);
        free(url.s);
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    /* A JSON body is not part of the OAuth 1.0a signature (RFC 5849 signs
     * only form bodies), so the header can be made from the URL alone. */
    char *oauth = NULL;
    if (auth->oauth1 != NULL) {
        int rc = ck_x_oauth1_header(auth->oauth1, "POST", url.s, NULL, 0, auth->nonce,
                                    auth->timestamp, &oauth, err);
        if (rc != 0) {
            free(dumped);
            free(url.s);
            return rc;
        }
    }
    int rc = ck_x_finish_request("POST", &url, auth->user_token, out, err);
    if (rc == 0)
        rc = ck_request_add_header(out, "Content-Type", "application/json");
    if (rc == 0 && oauth != NULL)
        rc = ck_request_add_header(out, "Authorization", oauth);
    ck_secret_free(oauth);
    if (rc != 0) {
        free(dumped);
        ck_request_finish(out);
        return ck_error_set(err, rc, "x: %s", ck_strerror(rc));
    }
    out->body = dumped;
    out->body_len = strlen(dumped);
    return 0;
}

static bool contains(const char *s, const char *needle)
{
    if (s == NULL)
        return false;
    size_t n = strlen(needle);
    for (; *s != '\0'; s++)
        if (strncasecmp(s, needle, n) == 0)
            return true;
    return false;
}

int ck_x_parse_post(const struct ck_response *resp, char **id_out, enum ck_x_post_error *kind,
                    struct ck_error *err)
{
    enum ck_x_post_error k = CK_X_POST_OK;
    *id_out = NULL;
    json_t *root = resp->body != NULL && resp->body_len > 0
                       ? json_loadb(resp->body, resp->body_len, 0, NULL)
                       : NULL;
    bool ok_status = resp->status == 0 || (resp->status >= 200 && resp->status <= 299);
    const json_t *errs = json_object_get(root, "errors");
    const json_t *problem = json_is_array(errs) ? json_array_get(errs, 0) : root;
    char text[160] = "";
    ck_x_problem_text(problem, text, sizeof text);
    int rc = 0;
    if (!ok_status) {
        const char *type = json_string_value(json_object_get(problem, "type"));
        const char *detail = json_string_value(json_object_get(problem, "detail"));
        k = resp->status == 401                                            ? CK_X_POST_AUTH
            : resp->status == 429                                          ? CK_X_POST_RATE_LIMITED
            : resp->status >= 500                                          ? CK_X_POST_SERVER
            : resp->status != 403                                          ? CK_X_POST_OTHER
            : contains(detail, "duplicate") || contains(text, "duplicate") ? CK_X_POST_DUPLICATE
            : contains(type, "oauth1-permissions") || contains(detail, "permission") ||
                    contains(type, "unsupported-authentication")
                ? CK_X_POST_READ_ONLY
                : CK_X_POST_FORBIDDEN;
        static const char *const advice[] = {
            "",
            "the token or OAuth keys are wrong or expired: fix the credentials",
            ("the app or token may not post: give the app Read and Write permission and make "
             "a new access token"),
            "X refuses text it has already seen from this account: make each step's text differ",
            "X refuses posts from this account",
            "wait for x-rate-limit-reset",
            "X failed: the post may or may not exist; look for it before sending again",
            "",
        };
        rc = k == CK_X_POST_AUTH || k == CK_X_POST_READ_ONLY ? CK_EAUTH
             : k == CK_X_POST_RATE_LIMITED                   ? CK_ERATELIMIT
                                                             : CK_EHTTP;
        ck_error_set(err, rc, "x: post: HTTP status %ld%s%s%s%s", resp->status,
                     text[0] != '\0' ? ": " : "", text, advice[k][0] != '\0' ? "; " : "",
                     advice[k]);
    } else {
        const char *id = json_string_value(json_object_get(json_object_get(root, "data"), "id"));
        if (!ck_x_id_ok(id)) {
            k = CK_X_POST_OTHER;
            rc = ck_error_set(err, CK_EPARSE,
                              "x: post: the answer has no data.id%s%s: the post may or may not "
                              "exist; look for it before sending again",
                              text[0] != '\0' ? ": " : "", text);
        } else if ((*id_out = strdup(id)) == NULL) {
            rc = ck_error_set(err, CK_ENOMEM, "x: out of memory");
        }
    }
    json_decref(root);
    if (kind != NULL)
        *kind = k;
    return rc;
}
