/* transcript.html: one self-contained page (inline <style>, no scripts, no
 * fonts, images or anything else fetched) that reads on a phone and a
 * desktop, and without CSS.
 *
 * Structure: <h1> title, the start as <time>, a <nav> contents list linking
 * to #q1..., then one <section id="qN"> per question (<h2>, who asked it and
 * when, a <ul class="thread"> of answers with replies in nested <ul>s), a
 * "Before and between the questions" section and a <footer> with counts.
 *
 * Everything from a message goes through ck_html_text*: names in <bdi>, text
 * in dir="auto" blocks, bidi controls stripped (escape.h), and only
 * ck_url_safe links become hrefs. Images arrive as "[image: ALT] URL" lines
 * of text and stay text plus a link: we never emit <img>. */
#include <stdio.h>
#include <string.h>

#include "model.h"

static const char *const day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

static const char style[] =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,"
    "sans-serif;line-height:1.5;max-width:44rem;margin:0 auto;padding:1rem;color:#1a1a1a;"
    "background:#fff;overflow-wrap:anywhere}\n"
    "h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2.5rem;"
    "border-bottom:1px solid #ddd}\n"
    "a{color:#1a5490}.meta,.foot,.asked,.stats,.when{color:#555;font-size:.9rem;margin:0}\n"
    "ul.thread,ul.thread ul{list-style:none;padding-left:0}\n"
    "ul.thread ul{margin-left:.4rem;padding-left:.9rem;border-left:2px solid #d6d6d6}\n"
    "ul.thread li{margin:.9rem 0}.text{margin:.15rem 0}.who{font-weight:600}\n"
    ".re,.also{font-style:italic}footer{margin-top:3rem;color:#555;font-size:.85rem}\n";

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
                       month_names[(lt.month + 11) % 12], lt.year, lt.hour, lt.minute);
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

/* Author name (linked to the profile when the URL is http(s)) and handle. */
static void author(struct ck_sink *o, const struct ck_record *r)
{
    const char *name = r->name;
    const char *handle = r->handle;
    const char *url = r->author_url;
    if (name[0] == '\0')
        name = handle;
    if (ck_url_safe(url)) {
        ck_sink_puts(o, "<a class=\"who\" href=\"");
        text(o, url);
        ck_sink_puts(o, "\" rel=\"nofollow ugc noopener\"><bdi>");
    } else {
        ck_sink_puts(o, "<span class=\"who\"><bdi>");
    }
    text(o, name);
    ck_sink_puts(o, ck_url_safe(url) ? "</bdi></a>" : "</bdi></span>");
    ck_sink_puts(o, " <span class=\"handle\"><bdi>");
    text(o, handle);
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
    ck_sink_printf(o, " transcript)</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>",
                   style);
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
    ck_sink_puts(o, "</header>\n<nav aria-labelledby=\"contents\">\n<h2 id=\"contents\">"
                    "Questions</h2>\n<ol>\n");
    for (size_t q = 1; q < m->ngroups; q++) {
        const struct ck_rgroup *g = &m->groups[q];
        if (g->text == NULL && g->count == 0)
            continue;
        ck_sink_printf(o, "<li><a href=\"#q%d\">", g->number);
        heading_text(o, g);
        ck_sink_printf(o, "</a> <span class=\"stats\">(%lu message%s)</span></li>\n",
                       (unsigned long)g->answers, g->answers == 1 ? "" : "s");
    }
    if (m->groups[0].count > 0)
        ck_sink_puts(o, "<li><a href=\"#chatter\">Before and between the questions</a></li>\n");
    ck_sink_puts(o, "</ol>\n</nav>\n<main>\n");
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

void ck_rhtml_msg_open(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rentry_view *v)
{
    const struct ck_record *msg = v->msg;
    ck_sink_puts(o, "<li><p class=\"meta\">");
    author(o, msg);
    ck_sink_puts(o, " · ");
    html_time(m, o, v->rm->created_ms, false);
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
    ck_html_text_linked(o, msg->text, strlen(msg->text));
    ck_sink_puts(o, "</p>\n");
    const char *url = msg->url;
    if (v->rm->likes == 0 && v->rm->boosts == 0 && !ck_url_safe(url))
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
    ck_sink_puts(o, "</section>\n");
}

void ck_rhtml_end(struct ck_rmodel *m, struct ck_sink *o)
{
    size_t messages = m->n - m->boosts; /* every other message has an author */
    ck_sink_printf(o,
                   "</main>\n<footer>\n<p>%lu message%s from %lu %s, and %lu boost%s. "
                   "Archived by chatkeeper from #",
                   (unsigned long)messages, messages == 1 ? "" : "s", (unsigned long)m->nauth,
                   m->nauth == 1 ? "person" : "people", (unsigned long)m->boosts,
                   m->boosts == 1 ? "" : "s");
    text(o, m->s->hashtag);
    ck_sink_puts(o, ".</p>\n</footer>\n</body>\n</html>\n");
}
