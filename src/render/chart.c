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
 * the drawing stays under ~720 bars, and the time axis's tick spacing grows
 * with the window (minutes to months) so it has at most MAX_TICKS + 1 ticks. Boosts are not counted. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chatkeeper/timeutil.h"

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

/* Time-axis ticks, spaced as a charting library spaces them: the first step
 * from this list that leaves at most MAX_TICKS over the window (its nominal
 * length; a month counts as 30.44 days). Minute steps fall on local times
 * whose minutes since midnight are a multiple of the step, day steps on
 * local midnights (7 and 14 days: Mondays), month steps on the 1st. */
#define MAX_TICKS 12
enum tick_kind { TICK_MINUTES, TICK_DAYS, TICK_MONTHS };
static const struct tick_step {
    enum tick_kind kind;
    int n; /* minutes, days or months */
    int64_t nominal_min;
} tick_steps[] = {
    {TICK_MINUTES, 1, 1},         {TICK_MINUTES, 5, 5},      {TICK_MINUTES, 10, 10},
    {TICK_MINUTES, 15, 15},       {TICK_MINUTES, 30, 30},    {TICK_MINUTES, 60, 60},
    {TICK_MINUTES, 120, 120},     {TICK_MINUTES, 360, 360},  {TICK_MINUTES, 720, 720},
    {TICK_DAYS, 1, 1440},         {TICK_DAYS, 2, 2880},      {TICK_DAYS, 7, 10080},
    {TICK_DAYS, 14, 20160},       {TICK_MONTHS, 1, 43830},   {TICK_MONTHS, 3, 131490},
    {TICK_MONTHS, 6, 262980},     {TICK_MONTHS, 12, 525960}, {TICK_MONTHS, 60, 2629800},
    {TICK_MONTHS, 600, 26298000},
};

static const struct tick_step *tick_step_for(int64_t span_min)
{
    size_t n = sizeof tick_steps / sizeof tick_steps[0];
    for (size_t i = 0; i < n; i++)
        if (span_min <= MAX_TICKS * tick_steps[i].nominal_min)
            return &tick_steps[i];
    return &tick_steps[n - 1];
}

static void tick(struct ck_sink *o, long x, const char *label)
{
    char t1[24];
    ck_sink_printf(o,
                   "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\"/>"
                   "<text x=\"%s\" y=\"%d\" text-anchor=\"middle\" stroke=\"none\">%s</text>\n",
                   tenths(t1, sizeof t1, x), TOP + PH, t1, TOP + PH + 5, t1, TOP + PH + 18, label);
}

/* Minute steps: walk the window in units that divide both the step and 15
 * minutes (every zone's offset is a multiple of 15 minutes), so at most
 * MAX_TICKS * 15 points are looked at. */
static void minute_ticks(struct ck_rmodel *m, struct ck_sink *o, int step, int64_t end)
{
    int unit = step % 15 == 0 ? 15 : step % 5 == 0 ? 5 : 1;
    int64_t unit_ms = (int64_t)unit * 60000;
    int64_t first = m->bin0_ms >= 0 ? (m->bin0_ms + unit_ms - 1) / unit_ms * unit_ms
                                    : m->bin0_ms / unit_ms * unit_ms;
    for (int64_t t = first; t <= end; t += unit_ms) {
        struct ck_rlocal lt;
        char label[8];
        if (ck_rmodel_local(m, t, &lt) != 0 || (lt.hour * 60 + lt.minute) % step != 0)
            continue;
        snprintf(label, sizeof label, "%02d:%02d", lt.hour % 100, lt.minute % 100);
        tick(o, x_of(m, t), label);
    }
}

/* Day and month steps: walk the local dates of the window, one per day. */
static void date_ticks(struct ck_rmodel *m, struct ck_sink *o, const struct tick_step *st,
                       int64_t end)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct ck_rlocal lt;
    if (ck_rmodel_local(m, m->bin0_ms, &lt) != 0)
        return;
    int offset_s = lt.offset_s;
    for (int64_t day = ck_days_from_civil(lt.year, (unsigned)lt.month, (unsigned)lt.day);; day++) {
        /* Local midnight of day, with the offset of the day before as a
         * first guess, then its own. */
        int64_t t = day * 86400000 - (int64_t)offset_s * 1000;
        if (ck_rmodel_local(m, t, &lt) != 0)
            return;
        if (lt.offset_s != offset_s) {
            offset_s = lt.offset_s;
            t = day * 86400000 - (int64_t)offset_s * 1000;
        }
        if (t > end)
            return;
        int64_t y;
        unsigned mo, d;
        ck_civil_from_days(day, &y, &mo, &d);
        bool on = st->kind == TICK_DAYS
                      ? ((day + 3) % st->n + st->n) % st->n == 0 /* day 0 was a Thursday */
                      : d == 1 && ((y * 12 + mo - 1) % st->n + st->n) % st->n == 0;
        if (!on || t < m->bin0_ms)
            continue;
        char label[24];
        if (st->kind == TICK_DAYS)
            snprintf(label, sizeof label, "%u %s", d, mon[(mo - 1) % 12]);
        else
            snprintf(label, sizeof label, "%s %lld", mon[(mo - 1) % 12], (long long)y);
        tick(o, x_of(m, t), label);
    }
}

static void ticks(struct ck_rmodel *m, struct ck_sink *o)
{
    int64_t end = m->bin0_ms + (int64_t)m->nbins * m->bin_ms;
    const struct tick_step *st = tick_step_for((end - m->bin0_ms) / 60000);
    if (st->kind == TICK_MINUTES)
        minute_ticks(m, o, st->n, end);
    else
        date_ticks(m, o, st, end);
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
    ticks(m, o);
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
                   "viewBox=\"0 0 %d %d\" preserveAspectRatio=\"xMidYMin meet\" role=\"img\" "
                   "aria-labelledby=\"t d\" "
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
