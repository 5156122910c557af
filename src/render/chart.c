/* activity.svg: messages per minute over the session's window (start - lead
 * to end + grace), with each question's time marked by a labelled line.
 *
 * Standalone SVG 1.1: xmlns, no scripts, no external references, every piece
 * of text escaped. It scales to whatever shows it (a phone, a blog column):
 * width 100% and a viewBox, no size in pixels; the height follows the
 * viewBox's aspect ratio, and opened on its own (where the height is the
 * window's) the drawing sits at the top rather than in the middle.
 * Coordinates are computed in integer tenths of a pixel and printed by hand
 * so the bytes never depend on the C locale or on floating point rounding. Windows longer than 12 hours are binned into wider bars so
 * the drawing stays under ~720 bars. Boosts are not counted. */
#include <stdio.h>
#include <string.h>

#include "model.h"

#define W 800
#define H 320
#define LEFT 50
#define RIGHT 20
#define TOP 50
#define BOTTOM 50
#define PW (W - LEFT - RIGHT)
#define PH (H - TOP - BOTTOM)

/* v in tenths as "12.3" (or "12"). */
static const char *tenths(char *buf, size_t n, long v)
{
    if (v % 10 == 0)
        snprintf(buf, n, "%ld", v / 10);
    else
        snprintf(buf, n, "%s%ld.%ld", v < 0 ? "-" : "", (v < 0 ? -v : v) / 10,
                 (v < 0 ? -v : v) % 10);
    return buf;
}

static void hhmm(struct ck_rmodel *m, int64_t ms, char buf[8])
{
    struct ck_rlocal lt;
    if (ck_rmodel_local(m, ms, &lt) != 0)
        memcpy(buf, "--:--", 6);
    else
        snprintf(buf, 8, "%02d:%02d", lt.hour % 100, lt.minute % 100);
}

static long nice_step(long max)
{
    long step = 1;
    for (;;) {
        if (max <= step * 4)
            return step;
        if (max <= step * 2 * 4)
            return step * 2;
        if (max <= step * 5 * 4)
            return step * 5;
        step *= 10;
    }
}

/* x in tenths for an instant. */
static long x_of(const struct ck_rmodel *m, int64_t ms)
{
    int64_t span = (int64_t)m->nbins * m->bin_ms;
    return LEFT * 10 + (long)((ms - m->bin0_ms) * PW * 10 / span);
}

static void desc(struct ck_rmodel *m, struct ck_sink *o, long total)
{
    char a[8], b[8], peak_t[8];
    size_t peak = 0;
    for (size_t i = 1; i < m->nbins; i++)
        if (m->bins[i] > m->bins[peak])
            peak = i;
    hhmm(m, m->bin0_ms, a);
    hhmm(m, m->bin0_ms + (int64_t)m->nbins * m->bin_ms, b);
    hhmm(m, m->bin0_ms + (int64_t)peak * m->bin_ms, peak_t);
    ck_sink_printf(o, "<desc id=\"d\">%ld messages between %s and %s (", total, a, b);
    ck_html_text(o, m->s->timezone, strlen(m->s->timezone), false);
    ck_sink_printf(o, "), one bar per %ld minute%s", (long)(m->bin_ms / 60000),
                   m->bin_ms == 60000 ? "" : "s");
    if (total > 0)
        ck_sink_printf(o, "; busiest at %s with %lu", peak_t, (unsigned long)m->bins[peak]);
    ck_sink_puts(o, ".");
    for (size_t q = 1; q < m->ngroups; q++) {
        const struct ck_rgroup *g = &m->groups[q];
        if (!g->asked_known)
            continue;
        hhmm(m, g->asked_ms, a);
        ck_sink_printf(o, " Q%d at %s.", g->number, a);
    }
    ck_sink_puts(o, "</desc>\n");
}

static void axes(struct ck_rmodel *m, struct ck_sink *o, long ymax, long ystep)
{
    char t1[24], t2[24];
    ck_sink_puts(o, "<g class=\"axes\" stroke=\"#888\" font-size=\"11\" fill=\"#444\">\n");
    ck_sink_printf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, TOP + PH,
                   LEFT + PW, TOP + PH);
    ck_sink_printf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, TOP, LEFT,
                   TOP + PH);
    for (long v = 0; v <= ymax; v += ystep) {
        long y = (TOP + PH) * 10 - v * PH * 10 / ymax;
        ck_sink_printf(o,
                       "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#ddd\"/>"
                       "<text x=\"%d\" y=\"%s\" text-anchor=\"end\" stroke=\"none\">%ld</text>\n",
                       LEFT, tenths(t1, sizeof t1, y), LEFT + PW, t1, LEFT - 6,
                       tenths(t2, sizeof t2, y + 40), v);
    }
    int64_t span_min = (int64_t)m->nbins * m->bin_ms / 60000;
    int step = span_min <= 90 ? 10 : span_min <= 180 ? 15 : span_min <= 480 ? 30 : 60;
    int64_t first = (m->bin0_ms + 59999) / 60000 * 60000;
    for (int64_t t = first; t <= m->bin0_ms + (int64_t)m->nbins * m->bin_ms; t += 60000) {
        struct ck_rlocal lt;
        if (ck_rmodel_local(m, t, &lt) != 0 || (lt.hour * 60 + lt.minute) % step != 0)
            continue;
        long x = x_of(m, t);
        ck_sink_printf(o,
                       "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\"/>"
                       "<text x=\"%s\" y=\"%d\" text-anchor=\"middle\" stroke=\"none\">"
                       "%02d:%02d</text>\n",
                       tenths(t1, sizeof t1, x), TOP + PH, t1, TOP + PH + 5, t1, TOP + PH + 18,
                       lt.hour % 100, lt.minute % 100);
    }
    ck_sink_printf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" stroke=\"none\">time (",
                   LEFT + PW / 2, H - 12);
    ck_html_text(o, m->s->timezone, strlen(m->s->timezone), false);
    ck_sink_printf(o,
                   ")</text>\n<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
                   "text-anchor=\"middle\" stroke=\"none\">messages per %s</text>\n</g>\n",
                   TOP + PH / 2, TOP + PH / 2, m->bin_ms == 60000 ? "minute" : "bar");
}

int ck_rchart_write(struct ck_rmodel *m, const char *path, struct ck_error *err)
{
    struct ck_sink o;
    int rc = ck_sink_open_file(&o, path, err);
    if (rc != 0)
        return rc;
    long max = 0, total = 0;
    for (size_t i = 0; i < m->nbins; i++) {
        total += m->bins[i];
        if ((long)m->bins[i] > max)
            max = (long)m->bins[i];
    }
    long ystep = nice_step(max > 0 ? max : 1);
    long ymax = (max + ystep - 1) / ystep * ystep;
    if (ymax == 0)
        ymax = ystep;

    ck_sink_printf(&o,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"100%%\" "
                   "viewBox=\"0 0 %d %d\" preserveAspectRatio=\"xMidYMin meet\" role=\"img\" aria-labelledby=\"t d\" "
                   "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">\n"
                   "<title id=\"t\">",
                   W, H);
    ck_sink_puts(&o, "Activity in ");
    ck_html_text(&o, m->s->title, strlen(m->s->title), false);
    ck_sink_puts(&o, ": messages per minute</title>\n");
    desc(m, &o, total);
    ck_sink_printf(&o, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, H);
    ck_sink_printf(&o,
                   "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\" "
                   "fill=\"#222\">",
                   LEFT);
    ck_html_text(&o, m->s->title, strlen(m->s->title), false);
    ck_sink_puts(&o, ": messages per minute</text>\n");
    axes(m, &o, ymax, ystep);

    char t1[24], t2[24], t3[24], t4[24], when[8];
    long bw = PW * 10 / (long)m->nbins;
    long gap = bw >= 30 ? 10 : 0;
    ck_sink_puts(&o, "<g class=\"bars\" fill=\"#3b6ea5\">\n");
    for (size_t i = 0; i < m->nbins; i++) {
        if (m->bins[i] == 0)
            continue;
        long x = x_of(m, m->bin0_ms + (int64_t)i * m->bin_ms);
        long h = (long)m->bins[i] * PH * 10 / ymax;
        hhmm(m, m->bin0_ms + (int64_t)i * m->bin_ms, when);
        ck_sink_printf(&o,
                       "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"><title>%s: %lu "
                       "message%s</title></rect>\n",
                       tenths(t1, sizeof t1, x + gap / 2),
                       tenths(t2, sizeof t2, (TOP + PH) * 10 - h), tenths(t3, sizeof t3, bw - gap),
                       tenths(t4, sizeof t4, h), when, (unsigned long)m->bins[i],
                       m->bins[i] == 1 ? "" : "s");
    }
    ck_sink_puts(&o, "</g>\n<g class=\"questions\" stroke=\"#c0392b\" fill=\"#c0392b\" "
                     "font-size=\"12\">\n");
    int64_t end = m->bin0_ms + (int64_t)m->nbins * m->bin_ms;
    for (size_t q = 1; q < m->ngroups; q++) {
        const struct ck_rgroup *g = &m->groups[q];
        if (!g->asked_known || g->asked_ms < m->bin0_ms || g->asked_ms > end)
            continue;
        long x = x_of(m, g->asked_ms);
        hhmm(m, g->asked_ms, when);
        ck_sink_printf(&o, "<g class=\"question\"><title>Q%d at %s", g->number, when);
        if (g->text != NULL) {
            ck_sink_puts(&o, ": ");
            ck_html_text(&o, g->text, strlen(g->text), false);
        }
        ck_sink_printf(&o,
                       "</title><line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\" "
                       "stroke-dasharray=\"4 3\"/><text x=\"%s\" y=\"%d\" text-anchor=\"middle\" "
                       "stroke=\"none\">Q%d</text></g>\n",
                       tenths(t1, sizeof t1, x), TOP - 2, t1, TOP + PH, t1, TOP - 6, g->number);
    }
    ck_sink_puts(&o, "</g>\n</svg>\n");
    return ck_sink_finish(&o);
}
