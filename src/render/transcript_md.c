/* transcript.md: the transcript's structure in CommonMark: "#" title, a list
 * of questions, "##" per question, each message a list item with replies as
 * nested items (two spaces per level), and "Before and between the questions".
 *
 * User text goes through ck_md_text*: markup characters backslash-escaped, no
 * line can start a block, and a message's newlines become hard line breaks
 * ("  \n") followed by the item's indentation so the text stays inside its
 * list item. Links are written only for ck_url_safe URLs, percent-encoded so
 * they cannot close the "(...)". */
#include <stdio.h>
#include <string.h>

#include "model.h"

static void md(struct ck_sink *o, const char *s)
{
    ck_md_text(o, s, strlen(s), " ");
}

static void md_time(struct ck_rmodel *m, struct ck_sink *o, int64_t ms)
{
    struct ck_rlocal lt;
    char hhmm[6];
    if (ck_rmodel_local(m, ms, &lt) == 0) {
        ck_rlocal_hhmm(&lt, hhmm);
        ck_sink_puts(o, hhmm);
    }
}

/* "[name](profile) @handle": the name is link text, escaped like any text. */
static void author(struct ck_sink *o, const struct ck_record *r)
{
    const char *name = ck_rauthor_name(r);
    const char *url = r->author_url;
    ck_sink_puts(o, "**");
    if (ck_url_safe(url)) {
        ck_sink_puts(o, "[");
        md(o, name);
        ck_sink_puts(o, "](");
        ck_md_url(o, url);
        ck_sink_puts(o, ")");
    } else {
        md(o, name);
    }
    ck_sink_puts(o, "** ");
    md(o, r->handle);
}

static void post_link(struct ck_sink *o, const char *url)
{
    if (!ck_url_safe(url))
        return;
    ck_sink_puts(o, " · [original post](");
    ck_md_url(o, url);
    ck_sink_puts(o, ")");
}

static void heading_text(struct ck_sink *o, const struct ck_rgroup *g)
{
    ck_sink_printf(o, "Q%d", g->number);
    if (g->text != NULL) {
        ck_sink_puts(o, "\\. ");
        md(o, g->text);
    } else {
        ck_sink_puts(o, " \\(not in the run sheet\\)");
    }
}

void ck_rmd_begin(struct ck_rmodel *m, struct ck_sink *o)
{
    const struct ck_session *s = m->s;
    struct ck_rlocal lt;
    ck_sink_puts(o, "# ");
    md(o, s->title);
    ck_sink_puts(o, "\n\n\\#");
    md(o, s->hashtag);
    if (ck_rmodel_local(m, s->start_ms, &lt) == 0) {
        ck_sink_printf(o, " · %d %s %d, %02d:%02d ", lt.day, ck_rlocal_month(&lt), lt.year, lt.hour,
                       lt.minute);
        md(o, lt.abbr);
    }
    ck_sink_puts(o, " \\(");
    md(o, s->timezone);
    ck_sink_puts(o, "\\)\n\n");
    if (s->description != NULL) {
        ck_md_text_linked(o, s->description, strlen(s->description), "  \n");
        ck_sink_puts(o, "\n\n");
    }
    ck_sink_puts(o, "## Questions\n\n");
    for (size_t q = 1; q < m->ngroups; q++) {
        const struct ck_rgroup *g = &m->groups[q];
        if (!ck_rgroup_listed(g))
            continue;
        ck_sink_puts(o, "- ");
        heading_text(o, g);
        ck_sink_printf(o, " \\(%lu message%s\\)\n", (unsigned long)g->answers,
                       g->answers == 1 ? "" : "s");
    }
    if (m->groups[0].count > 0)
        ck_sink_puts(o, "- Before and between the questions\n");
    ck_sink_puts(o, "\n");
}

void ck_rmd_group_begin(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rgroup *g)
{
    if (g->number == 0) {
        ck_sink_printf(o,
                       "## Before and between the questions\n\n%lu message%s outside the "
                       "questions.\n\n",
                       (unsigned long)g->answers, g->answers == 1 ? "" : "s");
        return;
    }
    ck_sink_puts(o, "## ");
    heading_text(o, g);
    ck_sink_puts(o, "\n\n");
    struct ck_rrec post;
    if (ck_rgroup_post(m, g, &post)) {
        ck_sink_puts(o, "Asked by ");
        author(o, &post.r);
        ck_sink_puts(o, " at ");
        md_time(m, o, g->asked_ms);
        post_link(o, post.r.url);
        ck_rrec_release(&post);
    } else if (g->asked_known) {
        ck_sink_puts(o, "Asked at ");
        md_time(m, o, g->asked_ms);
        if (g->post_url != NULL)
            post_link(o, g->post_url);
    } else {
        ck_sink_puts(o, "Not in the run sheet.");
    }
    ck_sink_printf(o, "  \n%lu message%s from %lu %s.\n\n", (unsigned long)g->answers,
                   g->answers == 1 ? "" : "s", (unsigned long)g->people,
                   g->people == 1 ? "person" : "people");
}

/* The post a quote post quotes, as a block quote inside the item: nl is the
 * item's line break, to which "> " is added on every line of the quote. */
static void quote(struct ck_rmodel *m, struct ck_sink *o, const struct ck_record *q, const char *nl)
{
    char qnl[2 * CK_RENDER_MAX_DEPTH + 24];
    size_t n = strlen(nl);
    /* a blank line inside the item first, so the quote is a block of its own */
    ck_sink_puts(o, "\n");
    ck_sink_put(o, nl + 3, n - 3);
    ck_sink_puts(o, "\n");
    ck_sink_put(o, nl + 3, n - 3);
    ck_sink_puts(o, "> ");
    author(o, q);
    ck_sink_puts(o, " · ");
    md_time(m, o, q->created_ms);
    post_link(o, q->url);
    memcpy(qnl, nl, n);
    memcpy(qnl + n, "> ", 3);
    if (q->text[0] != '\0') {
        ck_sink_puts(o, qnl);
        ck_md_text_linked(o, q->text, strlen(q->text), qnl);
    }
}

/* A quoted post not in the archive, as a one-line block quote: who, if the
 * link says, and the link. */
static void quote_stub(struct ck_sink *o, const struct ck_rentry_view *v, const char *nl)
{
    size_t n = strlen(nl);
    ck_sink_puts(o, "\n");
    ck_sink_put(o, nl + 3, n - 3);
    ck_sink_puts(o, "\n");
    ck_sink_put(o, nl + 3, n - 3);
    ck_sink_puts(o, "> Quoting ");
    if (v->stub_handle[0] != '\0') {
        md(o, v->stub_handle);
        ck_sink_puts(o, " · ");
    }
    if (v->stub_url != NULL && ck_url_safe(v->stub_url)) {
        ck_sink_puts(o, "[a post not in this archive](");
        ck_md_url(o, v->stub_url);
        ck_sink_puts(o, ")");
    } else {
        ck_sink_puts(o, "a post not in this archive");
    }
}

void ck_rmd_msg(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rentry_view *v)
{
    char indent[2 * CK_RENDER_MAX_DEPTH + 8];
    int d = v->depth < CK_RENDER_MAX_DEPTH ? v->depth : CK_RENDER_MAX_DEPTH;
    memset(indent, ' ', (size_t)d * 2);
    indent[d * 2] = '\0';
    ck_sink_puts(o, indent);
    ck_sink_puts(o, "- ");
    author(o, v->msg);
    ck_sink_puts(o, " · ");
    md_time(m, o, v->rm->created_ms);
    char where[CK_RSOURCE_MAX];
    ck_rsource_label(v->msg, where, sizeof where);
    if (where[0] != '\0') { /* where it was posted: a session follows several sources */
        ck_sink_puts(o, " · ");
        md(o, where);
    }
    char num[24];
    if (v->rm->likes > 0) {
        ck_sink_puts(o, " · ");
        ck_sink_put(o, num, ck_rfmt_int(num, v->rm->likes));
        ck_sink_puts(o, v->rm->likes == 1 ? " like" : " likes");
    }
    if (v->rm->boosts > 0) {
        ck_sink_puts(o, " · ");
        ck_sink_put(o, num, ck_rfmt_int(num, v->rm->boosts));
        ck_sink_puts(o, v->rm->boosts == 1 ? " boost" : " boosts");
    }
    if (v->n_boosters > 0) {
        ck_sink_puts(o, " · boosted by ");
        ck_rboosters_list(o, v, md);
    }
    post_link(o, v->msg->url);
    /* Each continuation line is indented to the item's content column:
     * "  \n" + indent + "  ". */
    char nl[sizeof indent + 8];
    memcpy(nl, "  \n", 3);
    memcpy(nl + 3, indent, (size_t)d * 2);
    memcpy(nl + 3 + d * 2, "  ", 3);
    if (v->note_re != NULL) {
        ck_sink_puts(o, nl);
        ck_sink_puts(o, "_replying to ");
        if (v->note_re[0] != '\0')
            md(o, v->note_re);
        else
            ck_sink_puts(o, "a post not in this archive");
        ck_sink_puts(o, "_");
    }
    const char *t = v->msg->text;
    size_t len = strlen(t), cut = v->link_end > v->link_start ? v->link_start : len;
    if (t[0] != '\0') {
        ck_sink_puts(o, nl);
        ck_md_text_linked(o, t, cut, nl);
        if (cut < len)
            ck_md_text_linked(o, t + v->link_end, len - v->link_end, nl);
    }
    if (v->quoted != NULL)
        quote(m, o, v->quoted, nl);
    else if (v->quote_missing)
        quote_stub(o, v, nl);
    ck_sink_puts(o, "\n");
}

void ck_rmd_group_end(struct ck_sink *o, const struct ck_rgroup *g)
{
    if (g->answers == 0)
        ck_sink_puts(o, "No answers were recorded for this question.\n");
    ck_sink_puts(o, "\n");
}

void ck_rmd_end(struct ck_rmodel *m, struct ck_sink *o)
{
    char counts[128];
    ck_rmodel_counts(m, counts, sizeof counts);
    ck_sink_printf(o, "---\n\n%s. Archived by chatkeeper from \\#", counts);
    md(o, m->s->hashtag);
    ck_sink_puts(o, ".\n");
}
