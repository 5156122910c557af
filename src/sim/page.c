/* Mastodon-style ids and timeline page selection, kept pure so they can be
 * unit-tested apart from the server. The selection mirrors Mastodon's
 * Paginable#paginate_by_id: min_id pages forward from a cursor (oldest first,
 * then reversed), otherwise max_id/since_id page backwards from the newest. */
#include "chatkeeper/message.h"
#include "chatkeeper/sim.h"

#include <stdio.h>
#include <string.h>

void ck_sim_id_make(int64_t created_ms, unsigned seq, char buf[24])
{
    unsigned long long v = ((unsigned long long)created_ms << 16) | (seq & 0xffffu);
    snprintf(buf, 24, "%llu", v);
}

int ck_sim_id_cmp(const char *a, const char *b)
{
    return ck_id_order(a, b); /* Mastodon's numeric ids, compared without parsing */
}

/* First index whose id is greater than id (n if none). */
static size_t upper_bound(const char *const *ids, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ck_sim_id_cmp(ids[mid], id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index whose id is not less than id. */
static size_t lower_bound(const char *const *ids, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ck_sim_id_cmp(ids[mid], id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t ck_sim_page_select(const char *const *ids, size_t n, const struct ck_sim_page_req *req,
                          size_t out[40])
{
    size_t limit = req->limit <= 0 ? 20 : req->limit > 40 ? 40 : (size_t)req->limit;
    /* The candidate window is [lo, hi): above the lower cursor, below max_id. */
    size_t hi = req->max_id != NULL ? lower_bound(ids, n, req->max_id) : n;
    const char *lower = req->min_id != NULL ? req->min_id : req->since_id;
    size_t lo = lower != NULL ? upper_bound(ids, n, lower) : 0;
    if (lo >= hi)
        return 0;
    size_t count = hi - lo < limit ? hi - lo : limit;
    if (req->min_id != NULL)
        hi = lo + count; /* the oldest `limit` above min_id */
    for (size_t k = 0; k < count; k++)
        out[k] = hi - 1 - k;
    return count;
}
