/* What the poster says and the key it says it under (see poster.h):
 * ck_poster_text fills the question format and adds the hashtag once;
 * ck_poster_key names a step stably across restarts, so a resend carries the
 * key the server may already have seen. Pure: no I/O, no clock. */
#include "chatkeeper/poster.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/timeutil.h"

#define DEFAULT_FORMAT "Q{n} {text} #{hashtag}"

static const char *bare_tag(const struct ck_session *s)
{
    const char *t = s->hashtag != NULL ? s->hashtag : "";
    return t[0] == '#' ? t + 1 : t;
}

/* Whether text already carries #tag as a whole hashtag (case-insensitive):
 * "#UKLibChat," counts, "#uklibchat2" does not. */
static bool has_tag(const char *text, const char *tag)
{
    size_t tl = strlen(tag);
    if (tl == 0)
        return true;
    for (const char *h = strchr(text, '#'); h != NULL; h = strchr(h + 1, '#')) {
        if (strncasecmp(h + 1, tag, tl) != 0)
            continue;
        unsigned char after = (unsigned char)h[1 + tl];
        if (!(isalnum(after) || after == '_' || after >= 128))
            return true;
    }
    return false;
}

struct out {
    char *s;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *g = realloc(o->s, cap);
        if (g == NULL) {
            o->oom = true;
            return;
        }
        o->s = g;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

/* A reminder's template (checked at load): {{title}}, {{hashtag}} (bare),
 * {{agenda_url}}, {{date}} and {{time}} (the start in the session's zone:
 * "2027-01-14", "19:00"). */
static void reminder_text(struct out *o, const struct ck_session *s, const char *t)
{
    char local[64] = "";
    if (ck_time_format_local(s->timezone, s->start_ms, local, sizeof local) != 0)
        ck_time_format_rfc3339(s->start_ms, local);
    const char *sp = strchr(local, ' ');
    size_t date_len = sp != NULL ? (size_t)(sp - local) : strlen(local);
    const char *clock = sp != NULL ? sp + 1 : "";
    const struct {
        const char *name, *value;
        size_t len;
    } vars[] = {
        {"{{title}}", s->title, strlen(s->title)},
        {"{{hashtag}}", bare_tag(s), strlen(bare_tag(s))},
        {"{{agenda_url}}", s->agenda_url ? s->agenda_url : "",
         s->agenda_url ? strlen(s->agenda_url) : 0},
        {"{{date}}", local, date_len},
        {"{{time}}", clock, strlen(clock) > 5 ? 5 : strlen(clock)},
    };
    while (*t != '\0') {
        size_t k = 0, nv = sizeof vars / sizeof vars[0];
        while (k < nv && strncmp(t, vars[k].name, strlen(vars[k].name)) != 0)
            k++;
        if (k == nv) {
            put(o, t, 1);
            t++;
            continue;
        }
        put(o, vars[k].value, vars[k].len);
        t += strlen(vars[k].name);
    }
    put(o, "", 0);
}

char *ck_poster_text(const struct ck_session *s, const struct ck_sched_entry *e)
{
    if (e == NULL || e->step == NULL || e->step->text == NULL)
        return NULL;
    const char *tag = bare_tag(s);
    const char *text = e->step->text;
    bool tagged = has_tag(text, tag);
    struct out o = {0};
    if (e->kind == CK_SCHED_REMINDER) {
        reminder_text(&o, s, text);
    } else if (e->kind != CK_SCHED_QUESTION) {
        put(&o, text, strlen(text));
        if (!tagged) {
            put(&o, " #", 2);
            put(&o, tag, strlen(tag));
        }
    } else {
        const char *f = s->question_format != NULL ? s->question_format : DEFAULT_FORMAT;
        char num[16];
        snprintf(num, sizeof num, "%d", e->number);
        while (*f != '\0') {
            if (strncmp(f, "#{hashtag}", 10) == 0 && tagged) {
                /* The question names the tag itself: do not say it twice. */
                while (o.len > 0 && o.s[o.len - 1] == ' ')
                    o.s[--o.len] = '\0';
                f += 10;
            } else if (strncmp(f, "{n}", 3) == 0) {
                put(&o, num, strlen(num));
                f += 3;
            } else if (strncmp(f, "{text}", 6) == 0) {
                put(&o, text, strlen(text));
                f += 6;
            } else if (strncmp(f, "{hashtag}", 9) == 0) {
                put(&o, tag, strlen(tag));
                f += 9;
            } else {
                put(&o, f, 1);
                f++;
            }
        }
        put(&o, "", 0); /* an empty format still gives a string */
    }
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

void ck_poster_key(const struct ck_session *s, const struct ck_sched_entry *e, char *buf, size_t n)
{
    /* FNV-1a over what names the step: the tag (case-folded: #UKLibChat and
     * #uklibchat are one chat), the start instant and the step. A rehearsal
     * starts at another time, so it never collides with the real chat. */
    char label[16], start[32];
    ck_sched_label(e, label, sizeof label);
    snprintf(start, sizeof start, "%lld", (long long)s->start_ms);
    uint64_t h = 1469598103934665603ULL;
    const char *parts[] = {bare_tag(s), start, label};
    for (size_t i = 0; i < 3; i++) {
        for (const unsigned char *c = (const unsigned char *)parts[i]; *c != '\0'; c++) {
            h ^= (unsigned char)tolower(*c);
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* a separator no UTF-8 text contains */
        h *= 1099511628211ULL;
    }
    for (char *c = label; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
    snprintf(buf, n, "ck-%016llx-%s", (unsigned long long)h, label);
}
