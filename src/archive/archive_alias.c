/* Ids of merged messages (see archive_int.h): a post seen on two instances is
 * one message under one id, but a reply, boost or quote seen on the other
 * instance names its parent by that instance's own id. Every other id of a
 * merged message is noted while reading, resolved to the id of the copy that
 * was kept once reading is done, and looked up as records are written. Only
 * merged posts whose copies have different ids cost anything: a one-source
 * session has none. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatkeeper/record.h"

#include "archive_int.h"

struct ck_archive_alias {
    uint64_t off;      /* the other id, in ids */
    uint64_t kept_off; /* the kept copy's id, in ids (once resolved) */
    uint32_t len, kept_len;
    uint32_t entry; /* the merged message's entry (while reading) */
    uint8_t platform;
};

/* Sort order and lookup key: (platform, id bytes). */
static const struct ck_archive_aliases *sort_ctx;

static int cmp_alias(const void *pa, const void *pb)
{
    const struct ck_archive_alias *a = pa, *b = pb;
    if (a->platform != b->platform)
        return a->platform < b->platform ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(sort_ctx->ids.s + a->off, sort_ctx->ids.s + b->off, n);
    if (c != 0)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

static int add(struct ck_archive_aliases *a, uint8_t platform, uint32_t entry, const char *id,
               size_t len)
{
    if (len > UINT32_MAX)
        return CK_ENOMEM;
    if (a->n == a->cap) {
        size_t cap = a->cap != 0 ? a->cap * 2 : 16;
        struct ck_archive_alias *v = realloc(a->v, cap * sizeof *v);
        if (v == NULL)
            return CK_ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    struct ck_archive_alias *al = &a->v[a->n];
    *al = (struct ck_archive_alias){
        .off = a->ids.len, .len = (uint32_t)len, .entry = entry, .platform = platform};
    ck_sbuf_put(&a->ids, id, len);
    if (a->ids.oom)
        return CK_ENOMEM;
    a->n++;
    return 0;
}

int ck_archive_alias_note(struct ck_archive_aliases *a, uint8_t platform, uint32_t entry,
                          const char *first, size_t first_len, const char *id)
{
    /* The entry's first id once (when its first other id turns up), then
     * every other one; repeats are harmless (the lookup finds either). */
    int rc = 0;
    if (a->n == 0 || a->v[a->n - 1].entry != entry)
        rc = add(a, platform, entry, first, first_len);
    return rc != 0 ? rc : add(a, platform, entry, id, strlen(id));
}

int ck_archive_alias_resolve(struct ck_archive_aliases *a, const struct ck_archive_entry *msgs,
                             FILE *spill, struct ck_error *err)
{
    if (a->n == 0)
        return 0;
    if (fflush(spill) != 0)
        return ck_error_set(err, CK_EIO, "archive: spill file: write: %s", strerror(errno));
    char *buf = NULL;
    size_t cap = 0, kept = 0;
    int rc = 0;
    for (size_t i = 0; i < a->n && rc == 0; i++) {
        const struct ck_archive_entry *e = &msgs[a->v[i].entry];
        if (e->rec_len == 0)
            continue; /* outside the window: never written, nothing points at it */
        if (e->rec_len > cap) {
            char *grown = realloc(buf, e->rec_len);
            if (grown == NULL) {
                rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
                break;
            }
            buf = grown;
            cap = e->rec_len;
        }
        struct ck_record r;
        size_t used;
        if (pread(fileno(spill), buf, e->rec_len, (off_t)e->rec_off) != (ssize_t)e->rec_len ||
            ck_record_decode(buf, e->rec_len, &r, &used) != 0) {
            rc = ck_error_set(err, CK_ECORRUPT, "archive: spill file: damaged record");
            break;
        }
        struct ck_archive_alias al = a->v[i];
        size_t id_len = strlen(r.id);
        if (id_len == al.len && memcmp(a->ids.s + al.off, r.id, id_len) == 0)
            continue; /* the kept copy's own id */
        al.kept_off = a->ids.len;
        al.kept_len = (uint32_t)id_len;
        ck_sbuf_put(&a->ids, r.id, id_len + 1); /* with its NUL: handed out as is */
        if (a->ids.oom) {
            rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
            break;
        }
        a->v[kept++] = al;
    }
    free(buf);
    if (rc != 0)
        return rc;
    a->n = kept;
    sort_ctx = a;
    if (a->n > 1)
        qsort(a->v, a->n, sizeof *a->v, cmp_alias);
    sort_ctx = NULL;
    return 0;
}

/* The kept id for (platform, id) (in a's arena), or NULL when id is no other
 * copy's. */
static const char *lookup(const struct ck_archive_aliases *a, uint8_t platform, const char *id)
{
    size_t len = strlen(id), lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ck_archive_alias *al = &a->v[mid];
        int c = platform != al->platform ? (platform < al->platform ? -1 : 1) : 0;
        if (c == 0) {
            size_t m = len < al->len ? len : al->len;
            c = memcmp(id, a->ids.s + al->off, m);
            if (c == 0)
                c = (len > al->len) - (len < al->len);
        }
        if (c == 0)
            return a->ids.s + al->kept_off;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void ck_archive_alias_apply(const struct ck_archive_aliases *a, uint8_t platform,
                            struct ck_record *r)
{
    if (a == NULL || a->n == 0)
        return;
    const char **refs[] = {&r->reply_to, &r->boost_of, &r->quote_of};
    for (size_t i = 0; i < 3; i++) {
        const char *kept = *refs[i] != NULL ? lookup(a, platform, *refs[i]) : NULL;
        if (kept != NULL)
            *refs[i] = kept;
    }
}

void ck_archive_aliases_finish(struct ck_archive_aliases *a)
{
    free(a->v);
    free(a->ids.s);
    memset(a, 0, sizeof *a);
}
