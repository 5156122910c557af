/* URL allow-listing (http and https only), finding URLs in message text, and
 * percent-encoding a path segment. */
#include "chatkeeper/escape.h"

#include <string.h>

/* ---- URLs ---- */

static bool prefix_ci(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != p[i])
            return false;
    }
    return true;
}

/* Length of the "http://" or "https://" prefix at s, or 0. */
static size_t scheme_len(const char *s, size_t len)
{
    if (prefix_ci(s, len, "https://"))
        return 8;
    if (prefix_ci(s, len, "http://"))
        return 7;
    return 0;
}

static bool url_stop(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`';
}

/* Bytes no safe URL holds (whitespace, controls, DEL), and its end. */
static const bool url_unsafe[256] = {
    [0] = 1,  [1] = 1,  [2] = 1,  [3] = 1,  [4] = 1,  [5] = 1,   [6] = 1,   [7] = 1,  [8] = 1,
    [9] = 1,  [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1,  [15] = 1,  [16] = 1, [17] = 1,
    [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1,  [24] = 1,  [25] = 1, [26] = 1,
    [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1, [' '] = 1, [127] = 1,
};

bool ck_url_safe(const char *url)
{
    if (url == NULL)
        return false;
    size_t len = 0;
    while (!url_unsafe[(unsigned char)url[len]])
        len++;
    if (url[len] != '\0')
        return false;
    size_t k = scheme_len(url, len);
    return k != 0 && k < len && url[k] != '/';
}

bool ck_url_next(const char *text, size_t len, size_t *start, size_t *ulen)
{
    for (size_t i = 0; i + 7 < len; i++) {
        /* Most text holds no "h" worth a look: go from one to the next. */
        if ((text[i] | 0x20) != 'h') {
            const char *h = memchr(text + i, 'h', len - 7 - i);
            const char *H =
                memchr(text + i, 'H', (size_t)((h != NULL ? h : text + len - 7) - (text + i)));
            const char *next = H != NULL ? H : h;
            if (next == NULL)
                break;
            i = (size_t)(next - text);
        }
        /* Not in the middle of a word ("xhttp://"). */
        if (i > 0 && ((text[i - 1] >= 'a' && text[i - 1] <= 'z') ||
                      (text[i - 1] >= 'A' && text[i - 1] <= 'Z') ||
                      (text[i - 1] >= '0' && text[i - 1] <= '9')))
            continue;
        size_t k = scheme_len(text + i, len - i);
        if (k == 0)
            continue;
        size_t e = i + k;
        while (e < len && !url_stop((unsigned char)text[e]))
            e++;
        /* Sentence punctuation after a link is the sentence's, not the link's;
         * a ')' is the link's only while it closes a '(' inside it
         * ("wiki/Foo_(bar)" in "(see wiki/Foo_(bar))"). */
        long open = 0;
        for (size_t p = i + k; p < e; p++)
            open += text[p] == '(' ? 1 : text[p] == ')' ? -1 : 0;
        while (e > i + k) {
            char c = text[e - 1];
            if (c == ')' && open < 0) {
                open++;
                e--;
            } else if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
                       c == ']' || c == '}') {
                e--;
            } else {
                break;
            }
        }
        if (e == i + k || text[i + k] == '/')
            continue; /* no host */
        *start = i;
        *ulen = e - i;
        return true;
    }
    return false;
}

void ck_url_encode_segment(struct ck_sink *s, const char *seg)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)seg; *p != '\0'; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            ck_sink_put(s, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ck_sink_put(s, e, 3);
        }
    }
}
