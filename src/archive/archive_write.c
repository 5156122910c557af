/* The archive's last passes (see archive.c): group the sorted messages, write
 * messages.jsonl, and hand the same records to the renderers.
 *
 * The records are read back from the spill in sorted order through a map
 * whose pages are dropped from our page tables every few MB, so that a
 * journal in any order keeps RSS small (they stay in the page cache). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/group.h"
#include "chatkeeper/record.h"
#include "chatkeeper/render.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/state.h"
#include "chatkeeper/strset.h"

#include "archive_int.h"

int ck_archive_scratch(const char *dir, const char *name, FILE **out, struct ck_error *err)
{
    char *tmpl = ck_path_join(dir, name);
    if (tmpl == NULL)
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        int rc = ck_error_set(err, -errno, "%s: %s", tmpl, strerror(errno));
        free(tmpl);
        return rc;
    }
    unlink(tmpl);
    free(tmpl);
    *out = fdopen(fd, "w+b");
    if (*out == NULL) {
        close(fd);
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    }
    setvbuf(*out, NULL, _IOFBF, 1 << 16);
    return 0;
}

/* ---- grouping and writing, from the spill ---- */

struct writer {
    const struct ck_archive_entry *msgs; /* sorted */
    size_t n;
    const struct ck_archive_aliases *aliases; /* merged messages' other ids */
    FILE *spill;
    uint64_t spill_len;
    struct ck_sbuf rec; /* the record being written */
};

/* The spill, mapped to read the records back in sorted order. */
struct spill_map {
    char *p;
    size_t len, touched;
};

static int map_spill(struct writer *b, struct spill_map *sm, struct ck_error *err)
{
    *sm = (struct spill_map){0};
    if (b->spill_len == 0)
        return 0;
    if (fflush(b->spill) != 0)
        return ck_error_set(err, CK_EIO, "archive: spill file: write: %s", strerror(errno));
    sm->len = (size_t)b->spill_len;
    sm->p = mmap(NULL, sm->len, PROT_READ, MAP_SHARED, fileno(b->spill), 0);
    if (sm->p == MAP_FAILED) {
        sm->p = NULL;
        return ck_error_set(err, -errno, "archive: spill file: mmap: %s", strerror(errno));
    }
    return 0;
}

static void unmap_spill(struct spill_map *sm)
{
    if (sm->p != NULL)
        munmap(sm->p, sm->len);
    sm->p = NULL;
}

/* Entry i's record (a view into the map). */
static int record_at(struct spill_map *sm, const struct ck_archive_entry *e, struct ck_record *r,
                     struct ck_error *err)
{
    sm->touched += e->rec_len < 8192 ? 8192 : e->rec_len;
    if (sm->touched >= (4u << 20)) {
        madvise(sm->p, sm->len, MADV_DONTNEED);
        sm->touched = 0;
    }
    size_t used;
    if (e->rec_off > sm->len ||
        ck_record_decode(sm->p + e->rec_off, sm->len - (size_t)e->rec_off, r, &used) != 0)
        return ck_error_set(err, CK_ECORRUPT, "archive: spill file: damaged record");
    return 0;
}

/* What grouping needs of each message, in sorted order: the text's evidence
 * (scanned here, then forgotten) and copies of the id, reply_to and handle
 * (the map's pages must be free to go). */
static int group(struct writer *b, struct spill_map *sm, struct ck_grouping *gr,
                 struct ck_group_msg **out, struct ck_error *err)
{
    struct ck_group_msg *g = calloc(b->n + 1, sizeof *g);
    size_t *offs = malloc((b->n + 1) * 3 * sizeof *offs);
    struct ck_sbuf strs = {0};
    int rc = g != NULL && offs != NULL ? 0 : ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        struct ck_record r;
        if ((rc = record_at(sm, &b->msgs[i], &r, err)) != 0)
            break;
        ck_archive_alias_apply(b->aliases, b->msgs[i].id.platform, &r);
        g[i].created_ms = r.created_ms;
        g[i].boost = r.boost_of != NULL;
        ck_group_scan_text(ck_grouping_scanner(gr), r.text, &g[i]);
        const char *keep[3] = {r.id, r.reply_to, r.handle};
        for (size_t k = 0; k < 3; k++) {
            offs[i * 3 + k] = keep[k] != NULL ? strs.len : SIZE_MAX;
            if (keep[k] != NULL)
                ck_sbuf_put(&strs, keep[k], strlen(keep[k]) + 1);
        }
    }
    if (rc == 0 && strs.oom)
        rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    if (rc == 0) {
        /* The strings have stopped moving: point the messages at them. */
        for (size_t i = 0; i < b->n; i++) {
            g[i].id = strs.s + offs[i * 3];
            g[i].reply_to = offs[i * 3 + 1] != SIZE_MAX ? strs.s + offs[i * 3 + 1] : NULL;
            g[i].author = strs.s + offs[i * 3 + 2];
        }
        free(offs);
        offs = NULL;
        rc = ck_grouping_assign(gr, g, b->n, err);
    }
    free(offs);
    free(strs.s);
    if (rc != 0) {
        free(g);
        return rc;
    }
    /* Only the results are read from here on; the strings are gone. */
    for (size_t i = 0; i < b->n; i++)
        g[i].id = g[i].reply_to = g[i].author = NULL;
    *out = g;
    return 0;
}

/* A message that stays, and its grouping: what the renderers' source needs
 * once the grouping's working set is gone. */
struct kept {
    uint32_t entry; /* index into msgs */
    uint8_t n_questions, by;
    uint8_t questions[CK_GROUP_MAX_TAGS];
};

/* Kept message k's record, grouped. */
static int grouped_record(struct writer *b, struct spill_map *sm, const struct kept *k,
                          struct ck_record *r, struct ck_error *err)
{
    int rc = record_at(sm, &b->msgs[k->entry], r, err);
    if (rc != 0)
        return rc;
    ck_archive_alias_apply(b->aliases, b->msgs[k->entry].id.platform, r);
    r->n_questions = k->n_questions;
    for (uint8_t q = 0; q < k->n_questions; q++)
        r->questions[q] = k->questions[q];
    r->assigned_by = ck_group_by_name((enum ck_assigned_by)k->by);
    return 0;
}

/* A boost carries the words of the post it boosts: when that post is hidden
 * (opted out, hidden by an override, deleted), so is every boost of it
 * (issue 14). Quotes keep their own words; the quoted post, hidden, is not
 * in the archive for them to show. Costs a pass only when something is
 * hidden. */
static int hide_boosts_of_hidden(struct writer *b, struct spill_map *sm, struct ck_group_msg *g,
                                 struct ck_error *err)
{
    size_t n_hidden = 0;
    for (size_t i = 0; i < b->n; i++)
        n_hidden += g[i].hidden;
    if (n_hidden == 0)
        return 0;
    struct ck_strset ids;
    ck_strset_init(&ids);
    int rc = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        struct ck_record r;
        if (g[i].hidden && (rc = record_at(sm, &b->msgs[i], &r, err)) == 0 &&
            ck_strset_add(&ids, r.id) < 0)
            rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    }
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        struct ck_record r;
        if (g[i].hidden || !g[i].boost || (rc = record_at(sm, &b->msgs[i], &r, err)) != 0)
            continue;
        ck_archive_alias_apply(b->aliases, b->msgs[i].id.platform, &r);
        if (r.boost_of != NULL && ck_strset_has(&ids, r.boost_of))
            g[i].hidden = true;
    }
    ck_strset_finish(&ids);
    return rc;
}

/* The messages that stay (grouping hides some: overrides, opt-outs, deleted
 * posts), with their grouping; *n_kept of them (new). */
static int keep_grouped(const struct writer *b, const struct ck_group_msg *g,
                        struct kept **kept_out, size_t *n_kept, size_t *hidden,
                        struct ck_error *err)
{
    struct kept *kept = malloc((b->n + 1) * sizeof *kept);
    if (kept == NULL)
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    *kept_out = kept;
    *n_kept = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (g[i].hidden) {
            (*hidden)++;
            continue;
        }
        struct kept *k = &kept[(*n_kept)++];
        *k = (struct kept){
            .entry = (uint32_t)i, .n_questions = g[i].n_questions, .by = (uint8_t)g[i].by};
        memcpy(k->questions, g[i].questions, sizeof k->questions);
    }
    return 0;
}

/* The renderers read the kept messages' records straight from the spill.
 * Their first pass reads them in order, once each, and messages.jsonl is
 * written from that same pass (each line as its record is handed over the
 * first time) rather than from a pass of its own over the whole spill. */
struct source {
    struct writer *b;
    struct spill_map *sm;
    const struct kept *kept;
    size_t n_kept;
    struct ck_atomic_file *jsonl;
    size_t written; /* records whose line is in jsonl */
};

static int write_line(struct source *src, const struct ck_record *r, struct ck_error *err)
{
    struct ck_sbuf *line = &src->b->rec;
    line->len = 0;
    ck_record_write_json(r, true, line);
    if (line->oom)
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    int rc = ck_atomic_write(src->jsonl, line->s, line->len, err);
    src->written += rc == 0;
    return rc;
}

static int source_get(void *ctx, size_t i, struct ck_record *r, struct ck_error *err)
{
    struct source *src = ctx;
    int rc = grouped_record(src->b, src->sm, &src->kept[i], r, err);
    if (rc == 0 && i == src->written)
        rc = write_line(src, r, err);
    return rc;
}

/* The lines the renderers' pass did not reach (none when it read them all). */
static int finish_lines(struct source *src, struct ck_error *err)
{
    int rc = 0;
    while (rc == 0 && src->written < src->n_kept) {
        struct ck_record r;
        rc = grouped_record(src->b, src->sm, &src->kept[src->written], &r, err);
        if (rc == 0)
            rc = write_line(src, &r, err);
    }
    return rc;
}

/* Group the sorted messages and write messages.jsonl; then everything people
 * read (the write-up too) from the same records, and the archive folder's
 * index, which lists this session beside the others. */
static int write_all(struct writer *b, const char *dir, const char *out_path, size_t *hidden,
                     struct ck_error *err)
{
    struct ck_grouping *gr = NULL;
    struct ck_group_msg *g = NULL;
    struct spill_map sm = {0};
    struct source src = {.b = b, .sm = &sm};
    struct kept *kept = NULL;
    int rc = ck_grouping_open(dir, &gr, err);
    if (rc == 0)
        rc = map_spill(b, &sm, err);
    if (rc == 0)
        rc = group(b, &sm, gr, &g, err);
    ck_grouping_close(gr);
    if (rc == 0)
        rc = hide_boosts_of_hidden(b, &sm, g, err);
    if (rc == 0)
        rc = keep_grouped(b, g, &kept, &src.n_kept, hidden, err);
    free(g);
    src.kept = kept;
    if (rc == 0)
        rc = ck_atomic_open(out_path, &src.jsonl, err);
    if (rc == 0) {
        struct ck_record_source records = {.n = src.n_kept, .get = source_get, .ctx = &src};
        rc = ck_render_archive(dir, &records, NULL, err);
    }
    if (rc == 0)
        rc = finish_lines(&src, err);
    if (rc == 0) {
        rc = ck_atomic_commit(src.jsonl, err);
        src.jsonl = NULL; /* commit always frees it */
    }
    ck_atomic_abort(src.jsonl);
    unmap_spill(&sm);
    free(kept);
    if (rc != 0)
        return rc;
    char *parent = ck_path_join(dir, "..");
    if (parent == NULL)
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    rc = ck_render_index(parent, err);
    free(parent);
    return rc;
}

int ck_archive_write(const char *dir, FILE *spill, uint64_t spill_len,
                     const struct ck_archive_entry *msgs, size_t n,
                     const struct ck_archive_aliases *aliases, size_t *hidden, struct ck_error *err)
{
    struct writer wr = {
        .msgs = msgs, .n = n, .aliases = aliases, .spill = spill, .spill_len = spill_len};
    char *out_path = ck_path_join(dir, "messages.jsonl");
    if (out_path == NULL)
        return ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    int rc = write_all(&wr, dir, out_path, hidden, err);
    free(wr.rec.s);
    free(out_path);
    return rc;
}
