/* transcript.html: one self-contained page (inline <style>, no scripts, no
 * fonts or style sheets fetched) that reads on a phone and a desktop, in a
 * light or dark scheme, and without CSS.
 *
 * Structure: <h1> title, the start as <time>, a link to activity.svg, a <nav>
 * contents list (<h2 id="contents">, a <ul> of #q1...: the headings carry
 * their own "Q1." so the list is not numbered again), then one
 * <section id="qN"> per question (<h2>, who asked it and when, a
 * <ul class="thread"> of answers with replies in nested <ul>s, a link back to
 * the contents), a "Before and between the questions" section and a <footer>
 * with counts.
 *
 * Each message is an <li> with an id, and its time links to it (a
 * permalink): id="m-ID" where the message first appears, "qN-m-ID" where it
 * appears again under a later question (ids stay unique). ID is the
 * platform's id with every byte but [A-Za-z0-9-] written as _XX, so any id,
 * hostile or not, is a valid id and fragment that needs no escaping.
 *
 * Everything from a message goes through ck_html_text*: names in <bdi>, text
 * in dir="auto" blocks, bidi controls stripped (escape.h), and only
 * ck_url_safe links become hrefs. Images arrive as "[image: ALT] URL" lines
 * of text (platforms/mastodon.c); a whole line of that form with a
 * ck_url_safe URL becomes a thumbnail (<img> with the alt text, loading
 * lazily, no referrer) linked to the image; anything else stays text. */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "style.h"

static const char *const day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};

/* After the shared base (style.h): the transcript's own pieces. */
static const char style[] =
    ".meta,.foot,.asked,.stats,.when,.back{color:var(--muted);font-size:.9rem;margin:0}\n"
    "nav ul.toc{list-style:none;padding-left:0}nav ul.toc li{margin:.3rem 0}\n"
    "ul.thread,ul.thread ul{list-style:none;padding-left:0}\n"
    "ul.thread ul{margin-left:.4rem;padding-left:.9rem;border-left:2px solid var(--rule)}\n"
    "ul.thread li{margin:.9rem 0}.text{margin:.15rem 0}.who{font-weight:600}\n"
    "a.permalink{color:inherit}li:target>p.meta{background:var(--rule)}\n"
    "a.media{display:inline-block;margin:.3rem 0}a.media img{display:block;"
    "max-width:min(100%,16rem);max-height:16rem;border:1px solid var(--rule);border-radius:4px}\n"
    ".back{margin-top:1rem}\n"
    ".re,.also{font-style:italic}footer{margin-top:3rem;color:var(--muted);font-size:.85rem}\n";

/* <time datetime="local ISO">HH:MM</time>, or the long form for the start. */
static void html_time(struct ck_rmodel *m, struct ck_sink *o, int64_t ms, bool long_form)
{
    struct ck_rlocal lt;
    char iso[40];
    if (ck_rmodel_local(m, ms, &lt) != 0) {
        ck_sink_puts(o, "<time>?</time>");
        return;
    }
    ck_rlocal_iso(&lt, iso, sizeof iso);
    ck_sink_puts(o, "<time datetime=\"");
    ck_sink_puts(o, iso);
    ck_sink_puts(o, "\">");
    if (long_form) {
        ck_sink_printf(o, "%s %d %s %d, %02d:%02d ", day_names[lt.weekday % 7], lt.day,
                       ck_rlocal_month(&lt), lt.year, lt.hour, lt.minute);
        ck_html_text(o, lt.abbr, strlen(lt.abbr), false);
    } else {
        char hhmm[6];
        ck_rlocal_hhmm(&lt, hhmm);
        ck_sink_puts(o, hhmm);
    }
    ck_sink_puts(o, "</time>");
}

static void text(struct ck_sink *o, const char *s)
{
    ck_html_text(o, s, strlen(s), false);
}

/* s as text in its own direction (a name among others). */
static void bdi(struct ck_sink *o, const char *s)
{
    ck_sink_puts(o, "<bdi>");
    text(o, s);
    ck_sink_puts(o, "</bdi>");
}

/* Author name (linked to the profile when the URL is http(s)) and handle. */
static void author(struct ck_sink *o, const struct ck_record *r)
{
    const char *url = r->author_url;
    if (ck_url_safe(url)) {
        ck_sink_puts(o, "<a class=\"who\" href=\"");
        text(o, url);
        ck_sink_puts(o, "\" rel=\"nofollow ugc noopener\"><bdi>");
    } else {
        ck_sink_puts(o, "<span class=\"who\"><bdi>");
    }
    text(o, ck_rauthor_name(r));
    ck_sink_puts(o, ck_url_safe(url) ? "</bdi></a>" : "</bdi></span>");
    ck_sink_puts(o, " <span class=\"handle\"><bdi>");
    text(o, r->handle);
    ck_sink_puts(o, "</bdi></span>");
}

static void post_link(struct ck_sink *o, const char *url, const char *label)
{
    if (!ck_url_safe(url))
        return;
    ck_sink_puts(o, "<a href=\"");
    text(o, url);
    ck_sink_puts(o, "\" rel=\"nofollow ugc noopener\">");
    ck_sink_puts(o, label);
    ck_sink_puts(o, "</a>");
}

static void heading_text(struct ck_sink *o, const struct ck_rgroup *g)
{
    if (g->text != NULL) {
        ck_sink_printf(o, "Q%d. ", g->number);
        text(o, g->text);
    } else {
        ck_sink_printf(o, "Q%d (not in the run sheet)", g->number);
    }
}

void ck_rhtml_begin(struct ck_rmodel *m, struct ck_sink *o)
{
    const struct ck_session *s = m->s;
    ck_sink_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<meta name=\"generator\" content=\"chatkeeper\">\n<title>");
    text(o, s->title);
    ck_sink_puts(o, " (#");
    text(o, s->hashtag);
    ck_sink_puts(o, " transcript)</title>\n<style>\n");
    ck_sink_puts(o, ck_rstyle_base);
    ck_sink_puts(o, style);
    ck_sink_puts(o, "</style>\n</head>\n<body>\n<header>\n<h1>");
    text(o, s->title);
    ck_sink_puts(o, "</h1>\n<p class=\"when\">#");
    text(o, s->hashtag);
    ck_sink_puts(o, " · ");
    html_time(m, o, s->start_ms, true);
    ck_sink_puts(o, " (");
    text(o, s->timezone);
    ck_sink_puts(o, ")</p>\n");
    if (s->description != NULL) {
        ck_sink_puts(o, "<p class=\"description\" dir=\"auto\">");
        ck_html_text_linked(o, s->description, strlen(s->description));
        ck_sink_puts(o, "</p>\n");
    }
    /* render.c writes activity.svg beside this page, before it. */
    ck_sink_puts(o, "<p class=\"when\"><a href=\"activity.svg\">Activity chart</a>: messages "
                    "per minute, with the questions marked.</p>\n");
    ck_sink_puts(o, "</header>\n<nav aria-labelledby=\"contents\">\n<h2 id=\"contents\">"
                    "Questions</h2>\n<ul class=\"toc\">\n");
    for (size_t q = 1; q < m->ngroups; q++) {
        const struct ck_rgroup *g = &m->groups[q];
        if (!ck_rgroup_listed(g))
            continue;
        ck_sink_printf(o, "<li><a href=\"#q%d\">", g->number);
        heading_text(o, g);
        ck_sink_printf(o, "</a> <span class=\"stats\">(%lu message%s)</span></li>\n",
                       (unsigned long)g->answers, g->answers == 1 ? "" : "s");
    }
    if (m->groups[0].count > 0)
        ck_sink_puts(o, "<li><a href=\"#chatter\">Before and between the questions</a></li>\n");
    ck_sink_puts(o, "</ul>\n</nav>\n<main>\n");
}

void ck_rhtml_group_begin(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rgroup *g)
{
    if (g->number == 0) {
        ck_sink_puts(o, "<section id=\"chatter\">\n<h2>Before and between the questions</h2>\n");
        ck_sink_printf(o,
                       "<p class=\"stats\">Welcome, introductions, thanks and other talk "
                       "outside the questions: %lu message%s.</p>\n",
                       (unsigned long)g->answers, g->answers == 1 ? "" : "s");
        return;
    }
    ck_sink_printf(o, "<section id=\"q%d\">\n<h2>", g->number);
    heading_text(o, g);
    ck_sink_puts(o, "</h2>\n<p class=\"asked\">");
    struct ck_rrec post;
    if (ck_rgroup_post(m, g, &post)) {
        ck_sink_puts(o, "Asked by ");
        author(o, &post.r);
        ck_sink_puts(o, " at ");
        html_time(m, o, g->asked_ms, false);
        ck_sink_puts(o, " · ");
        post_link(o, post.r.url, "original post");
        ck_rrec_release(&post);
    } else if (g->asked_known) {
        ck_sink_puts(o, "Asked at ");
        html_time(m, o, g->asked_ms, false);
        if (g->post_url != NULL) {
            ck_sink_puts(o, " · ");
            post_link(o, g->post_url, "original post");
        }
    } else {
        ck_sink_puts(o, "Not in the run sheet: messages were filed here by hand or by number.");
    }
    ck_sink_printf(o, "</p>\n<p class=\"stats\">%lu message%s from %lu %s.</p>\n",
                   (unsigned long)g->answers, g->answers == 1 ? "" : "s", (unsigned long)g->people,
                   g->people == 1 ? "person" : "people");
}

void ck_rhtml_children(struct ck_sink *o, bool open)
{
    ck_sink_puts(o, open ? "<ul class=\"thread\">\n" : "</ul>\n");
}

/* The message's anchor (see the top of the file): "m-ID" in the first
 * section it appears in (the lowest question it is filed under, or chatter),
 * "qN-m-ID" in the others. Written straight into the sink a chunk at a time:
 * this runs for every message. */
static void anchor(struct ck_sink *o, const struct ck_rentry_view *v)
{
    static const char hex[] = "0123456789abcdef";
    const struct ck_record *msg = v->msg;
    int first = 0;
    for (size_t i = 0; i < msg->n_questions; i++) {
        int64_t q = msg->questions[i];
        if (q >= 1 && q <= CK_RENDER_MAX_QUESTION && (first == 0 || q < first))
            first = (int)q;
    }
    if (v->group != first)
        ck_sink_printf(o, "q%d-", v->group);
    char buf[128];
    size_t n = 0;
    buf[n++] = 'm';
    buf[n++] = '-';
    for (const unsigned char *p = (const unsigned char *)msg->id; *p != '\0'; p++) {
        if (n + 3 > sizeof buf) {
            ck_sink_put(o, buf, n);
            n = 0;
        }
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-') {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '_';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    ck_sink_put(o, buf, n);
}

/* Whether the line at p (of at most len bytes, at the start of a line) is a
 * media line for an image: "[image] URL" or "[image: ALT] URL", the URL
 * running to the end of the line and ck_url_safe. A URL has no spaces, so the
 * line's last space must follow the ']': one backward scan of the line, and
 * the whole text stays linear however hostile. An alt text that spans lines
 * is left as text. Sets the alt text, the URL, and *used (the line's bytes). */
static bool image_line(const char *p, size_t len, const char **alt, size_t *alt_len,
                       const char **url, size_t *url_len, size_t *used)
{
    size_t from;
    if (len > 7 && memcmp(p, "[image]", 7) == 0)
        from = 6;
    else if (len > 8 && memcmp(p, "[image: ", 8) == 0)
        from = 8;
    else
        return false;
    const char *nl = memchr(p, '\n', len);
    size_t end = nl != NULL ? (size_t)(nl - p) : len;
    size_t sp = end;
    while (sp > from && p[sp - 1] != ' ')
        sp--;
    /* sp - 1 is the last space; p[sp - 2] must be the closing ']'. */
    if (sp < from + 2 || p[sp - 2] != ']')
        return false;
    char copy[2048];
    size_t ul = end - sp;
    if (ul == 0 || ul >= sizeof copy)
        return false;
    memcpy(copy, p + sp, ul);
    copy[ul] = '\0';
    if (!ck_url_safe(copy))
        return false;
    *alt = p + from;
    *alt_len = sp - 2 - from;
    *url = p + sp;
    *url_len = ul;
    *used = end;
    return true;
}

static void thumbnail(struct ck_sink *o, const char *alt, size_t alt_len, const char *url,
                      size_t url_len)
{
    ck_sink_puts(o, "<a class=\"media\" href=\"");
    ck_html_text(o, url, url_len, false);
    ck_sink_puts(o, "\" rel=\"nofollow ugc noopener\"><img src=\"");
    ck_html_text(o, url, url_len, false);
    ck_sink_puts(o, "\" alt=\"");
    if (alt_len > 0)
        ck_html_text(o, alt, alt_len, false);
    else
        ck_sink_puts(o, "Image (no description)");
    ck_sink_puts(o, "\" loading=\"lazy\" decoding=\"async\" referrerpolicy=\"no-referrer\"></a>");
}

/* A message's text: escaped and linked, with image lines as thumbnails. Most
 * texts hold no '[' at all, so they cost one memchr more than before. */
static void message_text(struct ck_sink *o, const char *t, size_t len)
{
    size_t done = 0, at = 0;
    const char *b;
    while (at < len && (b = memchr(t + at, '[', len - at)) != NULL) {
        at = (size_t)(b - t);
        const char *alt, *url;
        size_t alt_len, url_len, used;
        if ((at == 0 || t[at - 1] == '\n') &&
            image_line(t + at, len - at, &alt, &alt_len, &url, &url_len, &used)) {
            ck_html_text_linked(o, t + done, at - done);
            thumbnail(o, alt, alt_len, url, url_len);
            done = at + used;
            at = done;
        } else {
            at++;
        }
    }
    ck_html_text_linked(o, t + done, len - done);
}

/* The post a quote post quotes, inside it: who, when, a link, its text. */
static void quote(struct ck_rmodel *m, struct ck_sink *o, const struct ck_record *q)
{
    ck_sink_puts(o, "<blockquote class=\"quote\"><p class=\"meta\">");
    author(o, q);
    ck_sink_puts(o, " · ");
    if (ck_url_safe(q->url)) {
        ck_sink_puts(o, "<a href=\"");
        ck_html_text(o, q->url, strlen(q->url), false);
        ck_sink_puts(o, "\" rel=\"nofollow ugc noopener\">");
    }
    html_time(m, o, q->created_ms, false);
    if (ck_url_safe(q->url))
        ck_sink_puts(o, "</a>");
    ck_sink_puts(o, "</p>\n<p class=\"text\" dir=\"auto\">");
    message_text(o, q->text, strlen(q->text));
    ck_sink_puts(o, "</p></blockquote>\n");
}

/* A quoted post not in the archive: who, if the link says, and the link. */
static void quote_stub(struct ck_sink *o, const struct ck_rentry_view *v)
{
    ck_sink_puts(o, "<blockquote class=\"quote missing\"><p class=\"meta\">Quoting ");
    if (v->stub_handle[0] != '\0') {
        ck_sink_puts(o, "<bdi>");
        text(o, v->stub_handle);
        ck_sink_puts(o, "</bdi> · ");
    }
    if (v->stub_url != NULL && ck_url_safe(v->stub_url))
        post_link(o, v->stub_url, "a post not in this archive");
    else
        ck_sink_puts(o, "a post not in this archive");
    ck_sink_puts(o, "</p></blockquote>\n");
}

void ck_rhtml_msg_open(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rentry_view *v)
{
    const struct ck_record *msg = v->msg;
    ck_sink_puts(o, "<li id=\"");
    anchor(o, v);
    ck_sink_puts(o, "\"><p class=\"meta\">");
    author(o, msg);
    ck_sink_puts(o, " · <a class=\"permalink\" href=\"#");
    anchor(o, v);
    ck_sink_puts(o, "\" title=\"Link to this message\">");
    html_time(m, o, v->rm->created_ms, false);
    ck_sink_puts(o, "</a>");
    char where[CK_RSOURCE_MAX];
    ck_rsource_label(msg, where, sizeof where);
    if (where[0] != '\0') { /* where it was posted: a session follows several sources */
        ck_sink_puts(o, " · <span class=\"src\"><bdi>");
        text(o, where);
        ck_sink_puts(o, "</bdi></span>");
    }
    if (v->note_re != NULL) {
        ck_sink_puts(o, " · <span class=\"re\">replying to ");
        if (v->note_re[0] != '\0') {
            ck_sink_puts(o, "<bdi>");
            text(o, v->note_re);
            ck_sink_puts(o, "</bdi>");
        } else {
            ck_sink_puts(o, "a post not in this archive");
        }
        ck_sink_puts(o, "</span>");
    }
    if (msg->n_questions > 1) {
        ck_sink_puts(o, " · <span class=\"also\">filed under");
        for (size_t i = 0; i < msg->n_questions; i++) {
            int64_t q = msg->questions[i];
            if (q >= 1 && q <= CK_RENDER_MAX_QUESTION)
                ck_sink_printf(o, " <a href=\"#q%d\">Q%d</a>", (int)q, (int)q);
        }
        ck_sink_puts(o, "</span>");
    }
    ck_sink_puts(o, "</p>\n<p class=\"text\" dir=\"auto\">");
    size_t len = strlen(msg->text);
    message_text(o, msg->text, v->link_end > v->link_start ? v->link_start : len);
    if (v->link_end > v->link_start)
        message_text(o, msg->text + v->link_end, len - v->link_end);
    ck_sink_puts(o, "</p>\n");
    if (v->quoted != NULL)
        quote(m, o, v->quoted);
    else if (v->quote_missing)
        quote_stub(o, v);
    const char *url = msg->url;
    if (v->rm->likes == 0 && v->rm->boosts == 0 && v->n_boosters == 0 && !ck_url_safe(url))
        return;
    ck_sink_puts(o, "<p class=\"foot\">");
    const char *sep = "";
    char num[24];
    if (v->rm->likes > 0) {
        ck_sink_put(o, num, ck_rfmt_int(num, v->rm->likes));
        ck_sink_puts(o, v->rm->likes == 1 ? " like" : " likes");
        sep = " · ";
    }
    if (v->rm->boosts > 0) {
        ck_sink_puts(o, sep);
        ck_sink_put(o, num, ck_rfmt_int(num, v->rm->boosts));
        ck_sink_puts(o, v->rm->boosts == 1 ? " boost" : " boosts");
        sep = " · ";
    }
    if (v->n_boosters > 0) {
        ck_sink_puts(o, sep);
        ck_sink_puts(o, "boosted by ");
        ck_rboosters_list(o, v, bdi);
        sep = " · ";
    }
    if (ck_url_safe(url)) {
        ck_sink_puts(o, sep);
        post_link(o, url, "original post");
    }
    ck_sink_puts(o, "</p>\n");
}

void ck_rhtml_msg_close(struct ck_sink *o)
{
    ck_sink_puts(o, "</li>\n");
}

void ck_rhtml_group_end(struct ck_sink *o, const struct ck_rgroup *g)
{
    if (g->answers == 0)
        ck_sink_puts(o, "<p>No answers were recorded for this question.</p>\n");
    ck_sink_puts(o, "<p class=\"back\"><a href=\"#contents\">Back to the questions</a></p>\n"
                    "</section>\n");
}

void ck_rhtml_end(struct ck_rmodel *m, struct ck_sink *o)
{
    char counts[128];
    ck_rmodel_counts(m, counts, sizeof counts);
    ck_sink_printf(o, "</main>\n<footer>\n<p>%s. Archived by chatkeeper from #", counts);
    text(o, m->s->hashtag);
    ck_sink_puts(o, ".</p>\n</footer>\n</body>\n</html>\n");
}
