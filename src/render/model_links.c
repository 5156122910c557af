/* Quotes and boosts in the model (issue 14, rule 6): which message a quote
 * post quotes, and who boosted a message, for the transcripts to show the
 * quoted post as a quote and "boosted by ..." under a post. Both are side
 * tables of (from, to) pairs, one per quote post or boost, so messages that
 * are neither cost nothing. The targets are found by id hash, like replies'
 * parents (model.c), while the ids are still known. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"

static int push(struct ck_rlink **arr, size_t *n, size_t *cap, uint32_t from, const char *id)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct ck_rlink *na = realloc(*arr, nc * sizeof *na);
        if (na == NULL)
            return CK_ENOMEM;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] =
        (struct ck_rlink){.from = from, .to = CK_RNONE, .h = ck_rhash(id, strlen(id), false)};
    return 0;
}

int ck_rlinks_add(struct ck_rmodel *m, uint32_t idx, const struct ck_record *r)
{
    if (r->boost_of != NULL && r->boost_of[0] != '\0')
        return push(&m->boost_links, &m->n_boost_links, &m->cap_boost_links, idx, r->boost_of);
    if (r->quote_of != NULL && r->quote_of[0] != '\0')
        return push(&m->quote_links, &m->n_quote_links, &m->cap_quote_links, idx, r->quote_of);
    return 0;
}

static int by_to(const void *a, const void *b)
{
    const struct ck_rlink *x = a, *y = b;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    return x->from < y->from ? -1 : x->from > y->from;
}

void ck_rlinks_resolve(struct ck_rmodel *m, uint32_t (*find)(const struct ck_rmodel *, uint64_t))
{
    for (size_t i = 0; i < m->n_quote_links; i++) {
        struct ck_rlink *l = &m->quote_links[i];
        l->to = find(m, l->h);
        if (l->to == l->from)
            l->to = CK_RNONE;
        if (l->to != CK_RNONE)
            m->msgs[l->to].flags |= CK_RM_QUOTED;
    }
    size_t k = 0;
    for (size_t i = 0; i < m->n_boost_links; i++) {
        struct ck_rlink l = m->boost_links[i];
        l.to = find(m, l.h);
        if (l.to != CK_RNONE && l.to != l.from && !(m->msgs[l.to].flags & CK_RM_BOOST))
            m->boost_links[k++] = l;
    }
    m->n_boost_links = k;
    if (k > 1)
        qsort(m->boost_links, k, sizeof *m->boost_links, by_to);
}

uint32_t ck_rmodel_quoted(const struct ck_rmodel *m, uint32_t idx)
{
    size_t lo = 0, hi = m->n_quote_links; /* appended in message order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->quote_links[mid].from < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_quote_links && m->quote_links[lo].from == idx ? m->quote_links[lo].to
                                                                   : CK_RNONE;
}

size_t ck_rmodel_boosters(const struct ck_rmodel *m, uint32_t idx, const struct ck_rlink **first)
{
    size_t lo = 0, hi = m->n_boost_links;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->boost_links[mid].to < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < m->n_boost_links && m->boost_links[end].to == idx)
        end++;
    *first = m->boost_links + lo;
    return end - lo;
}

bool ck_rmodel_only_quoted(const struct ck_rmodel *m, uint32_t idx)
{
    const struct ck_rmsg *rm = &m->msgs[idx];
    const struct ck_session *s = m->s;
    if (!(rm->flags & CK_RM_QUOTED) || s == NULL)
        return false;
    bool outside = rm->created_ms < s->start_ms - s->lead_ms ||
                   rm->created_ms > s->start_ms + s->duration_ms + s->grace_ms;
    const struct ck_rlink *b;
    return outside && ck_rmodel_boosters(m, idx, &b) == 0;
}

/* The part of a post id a link to it ends with: the id itself, or for a
 * Bluesky at:// URI its record key (bsky.app/profile/H/post/RKEY). */
static const char *link_tail(const char *id, bool *bsky)
{
    *bsky = strncmp(id, "at://", 5) == 0;
    if (!*bsky)
        return id;
    const char *slash = strrchr(id, '/');
    return slash != NULL ? slash + 1 : id;
}

/* Is the text at t (len bytes) a link to the post id: an http(s) URL whose
 * path ends in "/id" (X's ".../status/ID", Mastodon's ".../@user/ID";
 * Bluesky's ".../post/RKEY" for an at:// id), a query or fragment and
 * trailing slash aside? */
static bool links_to(const char *t, size_t len, const char *id)
{
    bool bsky;
    const char *tail = link_tail(id, &bsky);
    size_t il = strlen(tail);
    if (il == 0 || (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0))
        return false;
    size_t end = 0;
    while (end < len && t[end] != '?' && t[end] != '#')
        end++;
    while (end > 0 && t[end - 1] == '/')
        end--;
    if (end <= il || t[end - il - 1] != '/' || memcmp(t + end - il, tail, il) != 0)
        return false;
    return !bsky || (end >= il + 6 && memcmp(t + end - il - 6, "/post/", 6) == 0);
}

/* A Bluesky quote line "[quote: @h] URL" (or "[quote, unavailable: @h] URL")
 * that ends at the link starting at i: where the line starts, else SIZE_MAX. */
static size_t quote_line_start(const char *text, size_t i)
{
    size_t ls = i;
    while (ls > 0 && text[ls - 1] != '\n')
        ls--;
    if (strncmp(text + ls, "[quote", 6) != 0)
        return SIZE_MAX;
    const char *close = memchr(text + ls, ']', i - ls);
    return close != NULL && (size_t)(close - text) + 2 == i ? ls : SIZE_MAX;
}

/* A quote line whose link does not end in the quoted post's id: Mastodon's
 * ids are per server, so a quoted post from another server has a link with
 * its own server's id. The last quote line of the text (the normaliser puts
 * its own last), when it is "[quote...] URL" to the end of its line. */
static bool last_quote_line(const char *text, size_t *start, size_t *end)
{
    size_t found = SIZE_MAX;
    for (size_t ls = 0; text[ls] != '\0';) {
        if (strncmp(text + ls, "[quote", 6) == 0)
            found = ls;
        const char *nl = strchr(text + ls, '\n');
        if (nl == NULL)
            break;
        ls = (size_t)(nl - text) + 1;
    }
    if (found == SIZE_MAX)
        return false;
    size_t le = found + strcspn(text + found, "\n");
    const char *close = memchr(text + found, ']', le - found);
    if (close == NULL || close[1] != ' ')
        return false;
    size_t i = (size_t)(close - text) + 2;
    if (strncmp(text + i, "http://", 7) != 0 && strncmp(text + i, "https://", 8) != 0)
        return false;
    if (strcspn(text + i, " \t\n") != le - i)
        return false;
    *start = found - (found > 0);
    *end = le;
    return true;
}

bool ck_rquote_link(const char *text, const char *id, size_t *start, size_t *end)
{
    if (id == NULL)
        return false;
    for (size_t i = 0; text[i] != '\0';) {
        while (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')
            i++;
        size_t j = i;
        while (text[j] != '\0' && text[j] != ' ' && text[j] != '\n' && text[j] != '\t')
            j++;
        if (j > i && links_to(text + i, j - i, id)) {
            /* take the blanks before it with it; a quote line whole, with
             * the line break before it */
            size_t s = quote_line_start(text, i);
            if (s != SIZE_MAX) {
                s -= s > 0;
            } else {
                s = i;
                while (s > 0 && (text[s - 1] == ' ' || text[s - 1] == '\t'))
                    s--;
            }
            *start = s;
            *end = j;
            return true;
        }
        i = j;
    }
    return last_quote_line(text, start, end);
}

/* Copy "@" + [p, p + len) (+ "@" + host) into out when it fits and looks
 * like a handle (no blanks, quotes or brackets). */
static void put_handle(char *out, size_t n, const char *p, size_t len, const char *host, size_t hl)
{
    if (len == 0 || len + hl + 3 > n)
        return;
    for (size_t i = 0; i < len; i++)
        if (strchr(" \t\n\"'<>[]()@", p[i]) != NULL)
            return;
    out[0] = '@';
    memcpy(out + 1, p, len);
    size_t k = 1 + len;
    if (hl > 0) {
        out[k++] = '@';
        memcpy(out + k, host, hl);
        k += hl;
    }
    out[k] = '\0';
}

/* The author a link to a post names: x.com/USER/status/ID, bsky.app's
 * /profile/HANDLE/post/RKEY, a fediverse HOST/@user/ID or
 * HOST/users/user/statuses/ID. */
static void handle_of_link(const char *url, size_t len, char *out, size_t n)
{
    const char *p = memchr(url, '/', len);
    if (p == NULL || p + 2 > url + len || p[1] != '/')
        return;
    const char *host = p + 2, *end = url + len;
    const char *path = memchr(host, '/', (size_t)(end - host));
    if (path == NULL)
        return;
    size_t hl = (size_t)(path - host);
    const char *seg[4] = {0};
    size_t sl[4] = {0}, ns = 0;
    for (const char *q = path; q < end && *q == '/' && ns < 4;) {
        const char *e = q + 1;
        while (e < end && *e != '/' && *e != '?' && *e != '#')
            e++;
        seg[ns] = q + 1;
        sl[ns++] = (size_t)(e - q - 1);
        q = e;
    }
    bool x = (hl == 5 && strncmp(host, "x.com", 5) == 0) ||
             (hl >= 11 && strncmp(host + hl - 11, "twitter.com", 11) == 0);
    if (ns >= 3 && x && sl[1] == 6 && strncmp(seg[1], "status", 6) == 0 &&
        !(sl[0] == 1 && seg[0][0] == 'i'))
        put_handle(out, n, seg[0], sl[0], NULL, 0);
    else if (ns >= 4 && sl[0] == 7 && strncmp(seg[0], "profile", 7) == 0 && sl[2] == 4 &&
             strncmp(seg[2], "post", 4) == 0 && !(sl[1] > 4 && strncmp(seg[1], "did:", 4) == 0))
        put_handle(out, n, seg[1], sl[1], NULL, 0);
    else if (ns >= 2 && !x && sl[0] > 1 && seg[0][0] == '@')
        put_handle(out, n, seg[0] + 1, sl[0] - 1, host, hl);
    else if (ns >= 4 && !x && sl[0] == 5 && strncmp(seg[0], "users", 5) == 0 && sl[2] == 8 &&
             strncmp(seg[2], "statuses", 8) == 0)
        put_handle(out, n, seg[1], sl[1], host, hl);
}

bool ck_rquote_stub(const char *text, const char *id, size_t *start, size_t *end, char *handle,
                    size_t n)
{
    if (n == 0)
        return false;
    handle[0] = '\0';
    if (!ck_rquote_link(text, id, start, end))
        return false;
    size_t i = *start; /* the link itself: past the blanks or the quote line */
    size_t ls = *start + (text[*start] == '\n');
    if (strncmp(text + ls, "[quote", 6) == 0) {
        const char *close = strchr(text + ls, ']');
        const char *at = memchr(text + ls, '@', (size_t)(close - (text + ls)));
        if (at != NULL) /* the line's own label: "[quote: @h]" */
            put_handle(handle, n, at + 1, (size_t)(close - at - 1), NULL, 0);
        i = (size_t)(close - text) + 2;
    }
    while (text[i] == ' ' || text[i] == '\t')
        i++;
    if (handle[0] == '\0')
        handle_of_link(text + i, *end - i, handle, n);
    return true;
}

json_t *ck_ropt_out_load(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/overrides.json", dir) >= (int)sizeof path)
        return NULL;
    json_t *ov = json_load_file(path, 0, NULL);
    json_t *list = json_incref(json_object_get(ov, "opt_out"));
    json_decref(ov);
    if (!json_is_array(list)) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* "@Ann" is "@ann@example.org": the user part without case, and the
 * domains when both have one (as grouping compares authors). */
static bool handle_is(const char *a, const char *b)
{
    a += *a == '@';
    b += *b == '@';
    const char *da = strchr(a, '@'), *db = strchr(b, '@');
    size_t la = da != NULL ? (size_t)(da - a) : strlen(a);
    size_t lb = db != NULL ? (size_t)(db - b) : strlen(b);
    if (la != lb || la == 0 || strncasecmp(a, b, la) != 0)
        return false;
    return da == NULL || db == NULL || strcasecmp(da, db) == 0;
}

bool ck_ropt_out_has(const json_t *list, const char *handle)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && handle_is(json_string_value(v), handle))
            return true;
    }
    return false;
}
