/* The transcripts' shape, shared by HTML and Markdown: questions in order,
 * then chatter; in each, messages in time order with replies nested under
 * what they answer.
 *
 * Nesting is decided per group and only among that group's messages: a
 * reply whose parent is filed elsewhere (or missing, or later in time, which
 * hostile data can arrange to make a cycle) is shown at the top level with a
 * "replying to @x" note. A reply to the question post itself is just an
 * answer. Depth is capped at CK_RENDER_MAX_DEPTH (deeper replies become
 * siblings of their parent, with the note), which also bounds the recursion.
 *
 * Each record is read once per group it appears in and handed to both
 * writers. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/sbuf.h"
#include "model.h"

#define NOTE_UNKNOWN (CK_RNONE - 1)
#define SLOT_QPOST (CK_RNONE - 1)

struct walk {
    struct ck_rmodel *m;
    struct ck_sink *html, *md;
    uint32_t *slot;   /* per message: entry index in the current group */
    uint32_t *entry;  /* per entry: message index */
    uint32_t *parent; /* per entry: parent entry or CK_RNONE */
    uint32_t *child;  /* per entry: first child entry */
    uint32_t *sib;    /* per entry: next sibling entry */
    uint32_t *note;   /* per entry: message replied to when not nested */
    uint8_t *depth;
    int group; /* number of the group being walked */
};

#define MAX_BOOSTERS 5 /* named under a post; the rest are counted */

static void fail(struct walk *w)
{
    if (w->html->rc == 0)
        w->html->rc = ck_error_set(w->html->err, CK_ENOMEM, "out of memory");
}

/* Who boosted message idx here, up to MAX_BOOSTERS handles copied into
 * names/buf (each record is released before the next is read). */
static size_t boosters(struct walk *w, uint32_t idx, const char *names[MAX_BOOSTERS],
                       struct ck_sbuf *buf, size_t *total)
{
    const struct ck_rlink *b;
    size_t n = ck_rmodel_boosters(w->m, idx, &b), shown = 0;
    size_t offs[MAX_BOOSTERS];
    *total = n;
    for (size_t i = 0; i < n && shown < MAX_BOOSTERS; i++) {
        struct ck_rrec rec;
        if (ck_rmodel_get(w->m, b[i].from, &rec) != 0) {
            fail(w);
            break;
        }
        if (rec.r.handle[0] != '\0') {
            offs[shown++] = buf->len;
            ck_sbuf_put(buf, rec.r.handle, strlen(rec.r.handle) + 1);
        }
        ck_rrec_release(&rec);
    }
    if (buf->oom) {
        fail(w);
        return 0;
    }
    for (size_t i = 0; i < shown; i++)
        names[i] = buf->s + offs[i];
    return shown;
}

static void emit(struct walk *w, uint32_t k)
{
    struct ck_rmodel *m = w->m;
    uint32_t idx = w->entry[k];
    const char *names[MAX_BOOSTERS];
    struct ck_sbuf nbuf = {0};
    size_t total = 0, n_names = boosters(w, idx, names, &nbuf, &total);
    struct ck_rrec rec, qrec;
    if (ck_rmodel_get(m, idx, &rec) != 0) {
        fail(w);
        free(nbuf.s);
        return;
    }
    /* A quoted post in the archive is shown as a quote, instead of the bare
     * link to it in the text. */
    uint32_t qi = ck_rmodel_quoted(m, idx);
    size_t ls = 0, le = 0;
    if (qi != CK_RNONE && ck_rmodel_get(m, qi, &qrec) != 0) {
        fail(w);
        qi = CK_RNONE;
    }
    if (qi != CK_RNONE && !ck_rquote_link(rec.r.text, rec.r.quote_of, &ls, &le))
        ls = le = 0;
    /* One that is not in the archive: a stub with what the text says of it
     * (its link and author), in place of the bare link (issue 14). */
    bool missing = qi == CK_RNONE && rec.r.quote_of != NULL && rec.r.quote_of[0] != '\0';
    char stub_handle[128] = "", *stub_url = NULL;
    if (missing &&
        ck_rquote_stub(rec.r.text, rec.r.quote_of, &ls, &le, stub_handle, sizeof stub_handle)) {
        size_t us = le;
        while (us > ls && rec.r.text[us - 1] != ' ' && rec.r.text[us - 1] != '\n' &&
               rec.r.text[us - 1] != '\t')
            us--;
        stub_url = malloc(le - us + 1);
        if (stub_url == NULL) {
            fail(w);
            ls = le = 0;
        } else {
            memcpy(stub_url, rec.r.text + us, le - us);
            stub_url[le - us] = '\0';
        }
        if (ck_ropt_out_has(m->opt_out, stub_handle)) { /* never named, nor linked */
            stub_handle[0] = '\0';
            free(stub_url);
            stub_url = NULL;
        }
    }
    const char *re = NULL;
    if (w->note[k] == NOTE_UNKNOWN) {
        re = "";
    } else if (w->note[k] != CK_RNONE) {
        uint32_t a = m->msgs[w->note[k]].author;
        re = a != CK_RNONE ? m->authors[a].handle : "";
    }
    struct ck_rentry_view v = {.msg = &rec.r,
                               .rm = &m->msgs[idx],
                               .note_re = re,
                               .depth = w->depth[k],
                               .group = w->group,
                               .quoted = qi != CK_RNONE ? &qrec.r : NULL,
                               .quoted_rm = qi != CK_RNONE ? &m->msgs[qi] : NULL,
                               .link_start = ls,
                               .link_end = le,
                               .boosters = names,
                               .n_boosters = n_names,
                               .boosts_total = total,
                               .quote_missing = missing,
                               .stub_url = stub_url,
                               .stub_handle = stub_handle};
    ck_rhtml_msg_open(m, w->html, &v);
    ck_rmd_msg(m, w->md, &v);
    if (qi != CK_RNONE)
        ck_rrec_release(&qrec);
    ck_rrec_release(&rec);
    free(stub_url);
    free(nbuf.s);
    if (w->child[k] != CK_RNONE) {
        ck_rhtml_children(w->html, true);
        for (uint32_t c = w->child[k]; c != CK_RNONE; c = w->sib[c])
            emit(w, c);
        ck_rhtml_children(w->html, false);
    }
    ck_rhtml_msg_close(w->html);
}

static void walk_group(struct walk *w, const struct ck_rgroup *g)
{
    struct ck_rmodel *m = w->m;
    uint32_t n = 0;
    w->group = g->number;
    for (size_t i = g->first; i < g->first + g->count; i++) {
        uint32_t idx = m->members[i].msg;
        if (g->number > 0 && (m->msgs[idx].flags & CK_RM_QPOST)) {
            w->slot[idx] = SLOT_QPOST;
            continue;
        }
        if (ck_rmodel_only_quoted(m, idx)) /* shown in its quotes: not a second copy */
            continue;
        w->slot[idx] = n;
        w->entry[n++] = idx;
    }
    for (uint32_t k = 0; k < n; k++) {
        const struct ck_rmsg *rm = &m->msgs[w->entry[k]];
        w->parent[k] = w->child[k] = w->sib[k] = w->note[k] = CK_RNONE;
        w->depth[k] = 0;
        if (!(rm->flags & CK_RM_REPLY))
            continue;
        if (rm->parent == CK_RNONE) {
            w->note[k] = NOTE_UNKNOWN;
            continue;
        }
        uint32_t pe = w->slot[rm->parent];
        if (pe == SLOT_QPOST)
            continue;
        if (pe == CK_RNONE || pe >= k) {
            w->note[k] = rm->parent;
            continue;
        }
        if (w->depth[pe] + 1 >= CK_RENDER_MAX_DEPTH) {
            pe = w->parent[pe];
            w->note[k] = rm->parent;
        }
        w->parent[k] = pe;
        w->depth[k] = (uint8_t)(w->depth[pe] + 1);
    }
    /* Prepending from the last entry back leaves every list in time order. */
    uint32_t top = CK_RNONE;
    for (uint32_t k = n; k-- > 0;) {
        uint32_t *head = w->parent[k] == CK_RNONE ? &top : &w->child[w->parent[k]];
        w->sib[k] = *head;
        *head = k;
    }
    ck_rhtml_group_begin(m, w->html, g);
    ck_rmd_group_begin(m, w->md, g);
    if (top != CK_RNONE) {
        ck_rhtml_children(w->html, true);
        for (uint32_t k = top; k != CK_RNONE; k = w->sib[k])
            emit(w, k);
        ck_rhtml_children(w->html, false);
    }
    ck_rhtml_group_end(w->html, g);
    ck_rmd_group_end(w->md, g);
    for (size_t i = g->first; i < g->first + g->count; i++)
        w->slot[m->members[i].msg] = CK_RNONE;
}

int ck_rtranscripts_write(struct ck_rmodel *m, const char *html_path, const char *md_path,
                          struct ck_error *err)
{
    struct ck_sink html, md;
    int rc = ck_sink_open_file(&html, html_path, err);
    if (rc != 0)
        return rc;
    rc = ck_sink_open_file(&md, md_path, err);
    if (rc != 0) {
        ck_sink_abort(&html);
        return rc;
    }
    size_t most = 1;
    for (size_t q = 0; q < m->ngroups; q++)
        if (m->groups[q].count > most)
            most = m->groups[q].count;
    struct walk w = {.m = m, .html = &html, .md = &md};
    w.slot = malloc((m->n ? m->n : 1) * sizeof *w.slot);
    w.entry = malloc(most * sizeof *w.entry);
    w.parent = malloc(most * sizeof *w.parent);
    w.child = malloc(most * sizeof *w.child);
    w.sib = malloc(most * sizeof *w.sib);
    w.note = malloc(most * sizeof *w.note);
    w.depth = malloc(most);
    if (!w.slot || !w.entry || !w.parent || !w.child || !w.sib || !w.note || !w.depth) {
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m->n; i++)
        w.slot[i] = CK_RNONE;
    ck_rhtml_begin(m, &html);
    ck_rmd_begin(m, &md);
    for (size_t q = 1; q < m->ngroups; q++)
        if (m->groups[q].text != NULL || m->groups[q].count > 0)
            walk_group(&w, &m->groups[q]);
    if (m->ngroups > 0 && m->groups[0].count > 0)
        walk_group(&w, &m->groups[0]);
    ck_rhtml_end(m, &html);
    ck_rmd_end(m, &md);
out:
    free(w.slot);
    free(w.entry);
    free(w.parent);
    free(w.child);
    free(w.sib);
    free(w.note);
    free(w.depth);
    if (rc != 0) {
        ck_sink_abort(&html);
        ck_sink_abort(&md);
        return rc;
    }
    rc = ck_sink_finish(&html);
    int rc2 = ck_sink_finish(&md);
    return rc != 0 ? rc : rc2;
}

bool ck_rgroup_listed(const struct ck_rgroup *g)
{
    return g->text != NULL || g->count > 0;
}

const char *ck_rauthor_name(const struct ck_record *r)
{
    return r->name[0] != '\0' ? r->name : r->handle;
}

void ck_rboosters_list(struct ck_sink *o, const struct ck_rentry_view *v,
                       void (*name)(struct ck_sink *o, const char *handle))
{
    for (size_t i = 0; i < v->n_boosters; i++) {
        ck_sink_puts(o, i == 0                                                       ? ""
                        : i + 1 == v->n_boosters && v->boosts_total == v->n_boosters ? " and "
                                                                                     : ", ");
        name(o, v->boosters[i]);
    }
    if (v->boosts_total > v->n_boosters)
        ck_sink_printf(o, " and %lu more", (unsigned long)(v->boosts_total - v->n_boosters));
}
