/* Quotes and boosts in the model (issue 14, rule 6): which message a quote
 * post quotes, and who boosted a message, for the transcripts to show the
 * quoted post as a quote and "boosted by ..." under a post. Both are side
 * tables of (from, to) pairs, one per quote post or boost, so messages that
 * are neither cost nothing. The targets are found by id hash, like replies'
 * parents (model.c), while the ids are still known. */
#include <stdlib.h>
#include <string.h>

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

/* Is the text at t (len bytes) a link to the post id: an http(s) URL whose
 * path ends in "/id" (X's ".../status/ID", Mastodon's ".../@user/ID"), a
 * query or fragment and trailing slash aside? */
static bool links_to(const char *t, size_t len, const char *id)
{
    size_t il = strlen(id);
    if (il == 0 || (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0))
        return false;
    size_t end = 0;
    while (end < len && t[end] != '?' && t[end] != '#')
        end++;
    while (end > 0 && t[end - 1] == '/')
        end--;
    return end > il && t[end - il - 1] == '/' && memcmp(t + end - il, id, il) == 0;
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
            /* take the blanks before it with it */
            size_t s = i;
            while (s > 0 && (text[s - 1] == ' ' || text[s - 1] == '\t'))
                s--;
            *start = s;
            *end = j;
            return true;
        }
        i = j;
    }
    return false;
}
