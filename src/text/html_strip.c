/* The fallback when libxml2 cannot be loaded (xml_load.c logs why, once):
 * HTML outside Mastodon's subset is shown as its text with the tags stripped.
 *
 * This is no HTML parser and does not try to be one. It must never show
 * markup as text, never crash, and never invent text, so:
 *   - "<" before a letter, "/" and a letter, "!" or "?" opens a tag, comment or
 *     declaration, dropped up to its ">" (quoted attribute values honoured; a
 *     comment up to "-->"); one still open at the end drops the rest. Any
 *     other "<" is text, as in HTML;
 *   - elements break lines as they do through libxml2 (the kinds in
 *     html_text.c: <p>, <br>, <div>, <pre>...), and what is inside <script>,
 *     <style>, <template>, <head> and <noscript> is dropped up to its end tag;
 *   - only the entities every page uses are decoded: &amp; &lt; &gt; &quot;
 *     &apos; &nbsp; and numeric references to a character that is neither a
 *     control (but whitespace), a surrogate nor U+FFFE/U+FFFF. Any other stays
 *     as written: it reads oddly but loses nothing and adds no markup.
 * Whitespace collapses as with libxml2. Every output escapes the text as ever:
 * a decoded "&lt;b&gt;" is the text "<b>", never a tag. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "chatkeeper/error.h"
#include "html_text_int.h"

static bool is_letter(char c)
{
    c = ascii_lower(c);
    return c >= 'a' && c <= 'z';
}

static void put_text(struct textbuf *b, const char *t, size_t n, int pre)
{
    ck_text__emit_text(b, (const unsigned char *)t, n, pre > 0);
}

/* The index just after the first needle at or after from, or len. */
static size_t past(const char *s, size_t len, size_t from, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = from; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0)
            return i + n;
    return len;
}

/* The index just after the ">" closing the tag whose attributes start at i,
 * or len. A quote opens a value only after "=", as in HTML: a stray
 * apostrophe in a tag does not swallow the rest of the fragment. */
static size_t tag_end(const char *s, size_t len, size_t i, bool *self_closing)
{
    char quote = 0;
    bool after_eq = false;
    for (; i < len; i++) {
        char c = s[i];
        if (quote != 0) {
            if (c == quote)
                quote = 0;
        } else if (c == '>') {
            *self_closing = i > 0 && s[i - 1] == '/';
            return i + 1;
        } else if (after_eq && (c == '"' || c == '\'')) {
            quote = c;
            after_eq = false;
        } else if (c == '=') {
            after_eq = true;
        } else if (!is_space((unsigned char)c)) {
            after_eq = false;
        }
    }
    return len;
}

/* The index just after the end tag of the element name[0..n) at or after i
 * ("</NAME" then anything up to ">"), or len. */
static size_t past_end_tag(const char *s, size_t len, size_t i, const char *name, size_t n)
{
    for (; i + 2 + n <= len; i++) {
        if (s[i] != '<' || s[i + 1] != '/')
            continue;
        size_t j = 0;
        while (j < n && ascii_lower(s[i + 2 + j]) == ascii_lower(name[j]))
            j++;
        size_t at = i + 2 + n;
        if (j == n &&
            (at == len || is_space((unsigned char)s[at]) || s[at] == '>' || s[at] == '/')) {
            bool unused;
            return tag_end(s, len, at, &unused);
        }
    }
    return len;
}

/* The markup starting at s[i] == '<' applied to b; returns where text goes on. */
static size_t markup(struct textbuf *b, const char *s, size_t len, size_t i, int *pre)
{
    size_t rest = len - i;
    if (rest >= 4 && memcmp(s + i, "<!--", 4) == 0)
        return past(s, len, i + 4, "-->");
    if (rest >= 2 && (s[i + 1] == '!' || s[i + 1] == '?'))
        return past(s, len, i + 2, ">");
    bool closing = rest >= 2 && s[i + 1] == '/';
    size_t at = i + 1 + (closing ? 1 : 0);
    if (at >= len || !is_letter(s[at])) {
        put_text(b, "<", 1, *pre);
        return i + 1;
    }
    size_t n = 0;
    while (at + n < len && !is_space((unsigned char)s[at + n]) && s[at + n] != '/' &&
           s[at + n] != '>')
        n++;
    enum ck_text_kind k = ck_text__kind_of(s + at, n);
    bool self_closing = false;
    size_t next = tag_end(s, len, at + n, &self_closing);
    if (closing) {
        if (k == CK_K_PRE && *pre > 0)
            (*pre)--;
    } else if (k == CK_K_DROPPED) {
        return self_closing ? next : past_end_tag(s, len, next, s + at, n);
    } else if (k == CK_K_BR) {
        b->owed_breaks++;
        b->owed_space = false;
    } else if (k == CK_K_PRE && !self_closing && *pre < INT_MAX) {
        (*pre)++;
    }
    ck_text__tb_break(b, ck_text__breaks_of(k));
    return next;
}

/* The character a numeric reference d[0..n) (after "&#") names, as UTF-8 in
 * out; its length, or 0 if it is not one we decode. */
static size_t numeric(const char *d, size_t n, char out[4])
{
    bool hex = n > 0 && (d[0] == 'x' || d[0] == 'X');
    size_t i = hex ? 1 : 0;
    if (i == n)
        return 0;
    uint32_t cp = 0;
    for (; i < n; i++) {
        char c = ascii_lower(d[i]);
        uint32_t v;
        if (c >= '0' && c <= '9')
            v = (uint32_t)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            v = (uint32_t)(c - 'a' + 10);
        else
            return 0;
        cp = cp * (hex ? 16 : 10) + v;
        if (cp > 0x10FFFF)
            return 0;
    }
    bool control = (cp < 0x20 && !is_space((unsigned char)cp)) || (cp >= 0x7F && cp <= 0x9F);
    if (cp == 0 || control || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return ck_utf8_encode(cp, out);
}

static const struct {
    const char *name;
    const char *text;
} named[] = {
    {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xC2\xA0"},
};

/* The reference starting at s[i] == '&' into b; returns where text goes on. */
static size_t entity(struct textbuf *b, const char *s, size_t len, size_t i, int pre)
{
    /* "&#x10FFFF;" is the longest we decode: look no further for the ";". */
    size_t semi = i + 1;
    while (semi < len && semi - i < 10 && s[semi] != ';')
        semi++;
    char out[4];
    size_t n = 0;
    if (semi < len && s[semi] == ';') {
        const char *name = s + i + 1;
        size_t name_len = semi - i - 1;
        if (name_len > 1 && name[0] == '#') {
            n = numeric(name + 1, name_len - 1, out);
        } else {
            for (size_t k = 0; k < sizeof named / sizeof named[0] && n == 0; k++) {
                if (strlen(named[k].name) == name_len &&
                    memcmp(named[k].name, name, name_len) == 0) {
                    n = strlen(named[k].text);
                    memcpy(out, named[k].text, n);
                }
            }
        }
    }
    if (n == 0) {
        put_text(b, "&", 1, pre);
        return i + 1;
    }
    put_text(b, out, n, pre);
    return semi + 1;
}

void ck_text__strip_render(struct textbuf *b, const char *s, size_t len)
{
    int pre = 0; /* <pre> elements open */
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && s[run] != '<' && s[run] != '&')
            run++;
        if (run > i) {
            put_text(b, s + i, run - i, pre);
            i = run;
        } else if (s[i] == '&') {
            i = entity(b, s, len, i, pre);
        } else {
            i = markup(b, s, len, i, &pre);
        }
    }
}
