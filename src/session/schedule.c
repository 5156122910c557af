/* The timetable: the session's run sheet as absolute UTC instants, plus the
 * three moments that are not steps (following starts, the chat ends,
 * following stops). Offsets are added to the UTC start, never to a wall
 * clock, so a chat that spans a daylight-saving change keeps its real length. */
#include "chatkeeper/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"

static void add(struct ck_schedule *sch, enum ck_sched_kind kind, int number, int64_t at,
                const struct ck_step *step)
{
    sch->entries[sch->n++] = (struct ck_sched_entry){kind, number, at, step};
}

int ck_schedule_build(const struct ck_session *s, struct ck_schedule *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = s->n_questions + s->n_reminders + 5;
    out->entries = calloc(cap, sizeof *out->entries);
    if (out->entries == NULL)
        return CK_ENOMEM;
    out->start_ms = s->start_ms;
    out->lead_ms = s->start_ms - s->lead_ms;
    out->end_ms = s->start_ms + s->duration_ms;
    out->grace_end_ms = out->end_ms + s->grace_ms;
    for (size_t i = 0; i < s->n_reminders; i++)
        add(out, CK_SCHED_REMINDER, s->reminders[i].number, s->start_ms + s->reminders[i].at_ms,
            &s->reminders[i]);
    add(out, CK_SCHED_LEAD, 0, out->lead_ms, NULL);
    if (s->has_welcome)
        add(out, CK_SCHED_WELCOME, 0, s->start_ms + s->welcome.at_ms, &s->welcome);
    for (size_t i = 0; i < s->n_questions; i++)
        add(out, CK_SCHED_QUESTION, s->questions[i].number, s->start_ms + s->questions[i].at_ms,
            &s->questions[i]);
    if (s->has_closing)
        add(out, CK_SCHED_CLOSING, 0, s->start_ms + s->closing.at_ms, &s->closing);
    add(out, CK_SCHED_END, 0, out->end_ms, NULL);
    add(out, CK_SCHED_GRACE, 0, out->grace_end_ms, NULL);
    /* Insertion sort is stable, so equal instants keep run-sheet order
     * (a lead of 0 stays before the welcome, a closing at the end before "end"). */
    for (size_t i = 1; i < out->n; i++) {
        struct ck_sched_entry e = out->entries[i];
        size_t j = i;
        while (j > 0 && out->entries[j - 1].at_ms > e.at_ms) {
            out->entries[j] = out->entries[j - 1];
            j--;
        }
        out->entries[j] = e;
    }
    return 0;
}

void ck_schedule_finish(struct ck_schedule *sch)
{
    if (sch == NULL)
        return;
    free(sch->entries);
    memset(sch, 0, sizeof *sch);
}

const char *ck_sched_label(const struct ck_sched_entry *e, char *buf, size_t n)
{
    switch (e->kind) {
    case CK_SCHED_LEAD:
        snprintf(buf, n, "lead start");
        break;
    case CK_SCHED_WELCOME:
        snprintf(buf, n, "welcome");
        break;
    case CK_SCHED_QUESTION:
        snprintf(buf, n, "Q%d", e->number);
        break;
    case CK_SCHED_CLOSING:
        snprintf(buf, n, "closing");
        break;
    case CK_SCHED_END:
        snprintf(buf, n, "end");
        break;
    case CK_SCHED_GRACE:
        snprintf(buf, n, "end of grace");
        break;
    case CK_SCHED_REMINDER:
        snprintf(buf, n, "reminder%d", e->number);
        break;
    }
    return buf;
}

/* The first ~60 characters of text on one line, cut at a UTF-8 boundary. */
static void excerpt(const char *text, char *buf, size_t n)
{
    size_t chars = 0, o = 0;
    const unsigned char *p = (const unsigned char *)text;
    for (; *p != '\0' && o + 5 < n; p++) {
        if ((*p & 0xC0) != 0x80) {
            if (chars == 60)
                break;
            chars++;
        }
        buf[o++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : (char)*p;
    }
    if (*p != '\0' && o + 4 <= n) {
        memcpy(buf + o, "\xe2\x80\xa6", 3); /* "…" */
        o += 3;
    }
    buf[o] = '\0';
}

int ck_schedule_print(const struct ck_session *s, const struct ck_schedule *sch, FILE *out)
{
    fprintf(out, "%-13s %8s  %-27s %-21s %s\n", "step", "offset", "local", "UTC", "text");
    for (size_t i = 0; i < sch->n; i++) {
        const struct ck_sched_entry *e = &sch->entries[i];
        char label[32], off[40], local[64], utc[32], text[256] = "";
        ck_sched_label(e, label, sizeof label);
        int64_t rel = e->at_ms - sch->start_ms;
        ck_duration_format(rel < 0 ? -rel : rel, off + 1, sizeof off - 1);
        off[0] = rel < 0 ? '-' : '+';
        int rc = ck_time_format_local(s->timezone, e->at_ms, local, sizeof local);
        if (rc != 0)
            return rc;
        ck_time_format_rfc3339(e->at_ms, utc);
        /* Seconds are enough on a timetable: drop ".000". */
        char *dot = strchr(utc, '.');
        if (dot != NULL && strcmp(dot, ".000Z") == 0)
            memcpy(dot, "Z", 2);
        if (e->step != NULL)
            excerpt(e->step->text, text, sizeof text);
        if (text[0] != '\0')
            fprintf(out, "%-13s %8s  %-27s %-21s %s\n", label, off, local, utc, text);
        else
            fprintf(out, "%-13s %8s  %-27s %s\n", label, off, local, utc);
    }
    return ferror(out) ? CK_EIO : 0;
}
