/* Plain script text to the HTML Mastodon would store for it: <p> paragraphs,
 * <br /> line breaks, hashtag and mention links, and URLs shortened with the
 * invisible/ellipsis spans Mastodon's formatter emits. Everything else is
 * escaped, so hostile text in a script stays text. */
#include "chatkeeper/sim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_escaped(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            puts_(b, "&amp;");
            break;
        case '<':
            puts_(b, "&lt;");
            break;
        case '>':
            puts_(b, "&gt;");
            break;
        case '"':
            puts_(b, "&quot;");
            break;
        case '\'':
            puts_(b, "&#39;");
            break;
        default:
            put(b, s + i, 1);
            break;
        }
    }
}

static int is_word(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

static int is_user_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* Length of a URL starting at p, trailing punctuation excluded; 0 if none. */
static size_t url_len(const char *p)
{
    size_t skip = strncmp(p, "https://", 8) == 0 ? 8 : strncmp(p, "http://", 7) == 0 ? 7 : 0;
    if (skip == 0)
        return 0;
    size_t n = skip;
    while (p[n] != '\0' && !isspace((unsigned char)p[n]) && p[n] != '<' && p[n] != '>' &&
           p[n] != '"')
        n++;
    while (n > skip && strchr(".,;:!?)'", p[n - 1]) != NULL)
        n--;
    return n > skip ? n : 0;
}

static void render_url(struct buf *b, const char *u, size_t n)
{
    size_t scheme = u[4] == 's' ? 8 : 7;
    if (strncmp(u + scheme, "www.", 4) == 0)
        scheme += 4;
    puts_(b, "<a href=\"");
    put_escaped(b, u, n);
    puts_(b, "\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\">"
             "<span class=\"invisible\">");
    put_escaped(b, u, scheme);
    size_t rest = n - scheme;
    if (rest > 30) {
        puts_(b, "</span><span class=\"ellipsis\">");
        put_escaped(b, u + scheme, 30);
        puts_(b, "</span><span class=\"invisible\">");
        put_escaped(b, u + scheme + 30, rest - 30);
    } else {
        puts_(b, "</span><span class=\"\">");
        put_escaped(b, u + scheme, rest);
        puts_(b, "</span><span class=\"invisible\">");
    }
    puts_(b, "</span></a>");
}

static void account_url(const struct ck_sim_account *a, const char *base, struct buf *b)
{
    if (a->domain != NULL) {
        puts_(b, "https://");
        puts_(b, a->domain);
    } else {
        puts_(b, base);
    }
    puts_(b, "/@");
    puts_(b, a->username);
}

static long find_mention(const struct ck_sim_script *s, const char *user, size_t ul,
                         const char *domain, size_t dl)
{
    long loose = -1;
    for (size_t i = 0; i < s->n_accounts; i++) {
        const struct ck_sim_account *a = &s->accounts[i];
        if (strlen(a->username) != ul || strncasecmp(a->username, user, ul) != 0)
            continue;
        if (domain == NULL && a->domain == NULL)
            return (long)i;
        if (domain != NULL && a->domain != NULL && strlen(a->domain) == dl &&
            strncasecmp(a->domain, domain, dl) == 0)
            return (long)i;
        if (domain == NULL && loose < 0)
            loose = (long)i;
    }
    return loose;
}

/* A mention at p ('@'); returns bytes consumed, 0 if it is not one we know. */
static size_t render_mention(const struct ck_sim_script *s, const char *p, const char *base,
                             struct buf *b, json_t *mentions)
{
    size_t ul = 0;
    while (is_user_char((unsigned char)p[1 + ul]))
        ul++;
    while (ul > 0 && (p[ul] == '.' || p[ul] == '-'))
        ul--;
    if (ul == 0)
        return 0;
    const char *domain = NULL;
    size_t dl = 0;
    if (p[1 + ul] == '@') {
        domain = p + 2 + ul;
        while (is_user_char((unsigned char)domain[dl]))
            dl++;
        while (dl > 0 && (domain[dl - 1] == '.' || domain[dl - 1] == '-'))
            dl--;
        if (dl == 0)
            domain = NULL;
    }
    long idx = find_mention(s, p + 1, ul, domain, dl);
    if (idx < 0)
        return 0;
    const struct ck_sim_account *a = &s->accounts[idx];
    struct buf url = {0};
    account_url(a, base, &url);
    if (url.oom) {
        b->oom = 1;
        return 0;
    }
    puts_(b, "<span class=\"h-card\" translate=\"no\"><a href=\"");
    put_escaped(b, url.p, url.len);
    puts_(b, "\" class=\"u-url mention\">@<span>");
    put_escaped(b, a->username, strlen(a->username));
    puts_(b, "</span></a></span>");
    if (mentions != NULL) {
        int seen = 0;
        size_t i;
        json_t *m;
        json_array_foreach(mentions, i, m)
        {
            seen |= strcmp(json_string_value(json_object_get(m, "id")), a->id) == 0;
        }
        if (!seen) {
            json_t *acct = a->domain != NULL ? json_sprintf("%s@%s", a->username, a->domain)
                                             : json_string(a->username);
            json_array_append_new(mentions, json_pack("{s:s s:s s:s s:o}", "id", a->id, "username",
                                                      a->username, "url", url.p, "acct", acct));
        }
    }
    free(url.p);
    return 1 + ul + (domain != NULL ? 1 + dl : 0);
}

static size_t render_tag(const char *p, const char *base, struct buf *b, json_t *tags)
{
    size_t n = 0;
    int letter = 0;
    while (is_word((unsigned char)p[1 + n])) {
        letter |= !isdigit((unsigned char)p[1 + n]);
        n++;
    }
    if (n == 0 || !letter)
        return 0;
    char name[128];
    if (n >= sizeof name)
        return 0;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)p[1 + i]);
    name[n] = '\0';
    puts_(b, "<a href=\"");
    puts_(b, base);
    puts_(b, "/tags/");
    put_escaped(b, name, n);
    puts_(b, "\" class=\"mention hashtag\" rel=\"tag\">#<span>");
    put_escaped(b, p + 1, n);
    puts_(b, "</span></a>");
    if (tags != NULL) {
        int seen = 0;
        size_t i;
        json_t *t;
        json_array_foreach(tags, i, t)
        {
            seen |= strcmp(json_string_value(json_object_get(t, "name")), name) == 0;
        }
        if (!seen)
            json_array_append_new(
                tags, json_pack("{s:s s:s++}", "name", name, "url", base, "/tags/", name));
    }
    return 1 + n;
}

char *ck_sim_render_html(const struct ck_sim_script *s, const char *text, const char *base,
                         json_t *mentions, json_t *tags)
{
    struct buf b = {0};
    puts_(&b, "<p>");
    for (const char *p = text; *p != '\0';) {
        int boundary = p == text || !is_word((unsigned char)p[-1]);
        size_t used = 0;
        if (boundary && (*p == 'h' || *p == 'H')) {
            used = url_len(p);
            if (used > 0)
                render_url(&b, p, used);
        } else if (boundary && *p == '#') {
            used = render_tag(p, base, &b, tags);
        } else if (boundary && *p == '@' && (p == text || p[-1] != '/')) {
            used = render_mention(s, p, base, &b, mentions);
        } else if (*p == '\n') {
            size_t nl = 0;
            while (p[nl] == '\n')
                nl++;
            puts_(&b, nl > 1 ? "</p><p>" : "<br />");
            used = nl;
        }
        if (used == 0) {
            put_escaped(&b, p, 1);
            used = 1;
        }
        p += used;
    }
    puts_(&b, "</p>");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
