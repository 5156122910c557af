/* The write-up's data, built in one small pass over messages.jsonl so that it
 * needs nothing but the session file and the messages (summary.json may not
 * exist, or may be older than a deletion found at publish time). */
#include "chatkeeper/writeup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/escape.h"
#include "chatkeeper/timeutil.h"

#define HIGHLIGHT_MAX_BYTES 280

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static long num(const json_t *o, const char *k)
{
    return (long)json_integer_value(json_object_get(json_object_get(o, "counts"), k));
}

static bool in_list(const json_t *list, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
            return true;
    }
    return false;
}

/* A question post ("Q1 ..."), not an answer (fill_questions marks them in
 * files written before grouping existed). */
static bool is_question_post(const json_t *m)
{
    return strcmp(str(m, "assigned_by"), "question") == 0;
}

static bool answers(const json_t *m, int q)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(m, "questions"), i, v)
    {
        if (json_integer_value(v) == q)
            return true;
    }
    return false;
}

/* Usable as an answer to quote or count: not a boost, not deleted, not the question. */
static bool counts_as_answer(const json_t *m, int q, const json_t *deleted)
{
    return answers(m, q) && !json_is_string(json_object_get(m, "boost_of")) &&
           !is_question_post(m) && !in_list(deleted, str(m, "id"));
}

static int cmp_liked(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    static const char *const keys[] = {"likes", "boosts", "replies"};
    for (size_t i = 0; i < 3; i++) {
        long d = num(y, keys[i]) - num(x, keys[i]);
        if (d != 0)
            return d > 0 ? 1 : -1;
    }
    int c = strcmp(str(x, "created_at"), str(y, "created_at"));
    return c != 0 ? c : strcmp(str(x, "id"), str(y, "id"));
}

int ck_writeup_pick(const json_t *messages, int q, const json_t *deleted, size_t max, json_t *used,
                    json_t **out)
{
    size_t n = 0, i;
    json_t *m;
    const json_t **c = calloc(json_array_size(messages) + 1, sizeof *c);
    json_t *picked = json_array(), *here = json_object();
    int rc = c && picked && here ? 0 : CK_ENOMEM;
    json_array_foreach(messages, i, m)
    {
        const char *h = str(json_object_get(m, "author"), "handle");
        if (rc == 0 && counts_as_answer(m, q, deleted) && str(m, "text")[0] != '\0' && h[0])
            c[n++] = m;
    }
    if (rc == 0)
        qsort(c, n, sizeof *c, cmp_liked);
    /* Pass 0 wants people not quoted anywhere yet; pass 1 settles for people
     * quoted under another question. Nobody is quoted twice under one. */
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (i = 0; i < n && json_array_size(picked) < max && rc == 0; i++) {
            const char *h = str(json_object_get(c[i], "author"), "handle");
            if (json_object_get(here, h) || (pass == 0 && json_object_get(used, h)))
                continue;
            if (json_object_set(here, h, json_true()) != 0 ||
                json_object_set(used, h, json_true()) != 0 ||
                json_array_append(picked, (json_t *)c[i]) != 0)
                rc = CK_ENOMEM;
        }
    }
    free(c);
    json_decref(here);
    if (rc != 0) {
        json_decref(picked);
        picked = NULL;
    }
    *out = picked;
    return rc;
}

static const char *display_name(const json_t *author)
{
    const char *n = str(author, "name");
    return n[0] ? n : str(author, "handle");
}

/* Cut long posts at a word boundary (never inside a UTF-8 sequence). */
static json_t *excerpt(const char *t)
{
    size_t len = strlen(t);
    if (len <= HIGHLIGHT_MAX_BYTES)
        return json_string(t);
    size_t cut = HIGHLIGHT_MAX_BYTES;
    while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
        cut--;
    size_t w = cut;
    while (w > HIGHLIGHT_MAX_BYTES / 2 && t[w] != ' ' && t[w] != '\n')
        w--;
    if (w > HIGHLIGHT_MAX_BYTES / 2)
        cut = w;
    char *buf = malloc(cut + 4);
    if (buf == NULL)
        return NULL;
    memcpy(buf, t, cut);
    memcpy(buf + cut, "\xe2\x80\xa6", 4); /* "…" */
    json_t *s = json_string(buf);
    free(buf);
    return s;
}

static json_t *person(const json_t *author)
{
    const char *url = str(author, "url");
    return json_pack("{s:s s:s s:s}", "name", display_name(author), "handle", str(author, "handle"),
                     "url", ck_url_safe(url) ? url : "");
}

static json_t *highlight(const json_t *m)
{
    const json_t *a = json_object_get(m, "author");
    const char *url = str(m, "url");
    json_t *h = person(a);
    if (h != NULL && (json_object_set_new(h, "text", excerpt(str(m, "text"))) != 0 ||
                      json_object_set_new(h, "url", json_string(ck_url_safe(url) ? url : "")) ||
                      json_object_set_new(h, "id", json_string(str(m, "id"))) ||
                      json_object_set_new(h, "likes", json_integer(num(m, "likes"))))) {
        json_decref(h);
        h = NULL;
    }
    return h;
}

static int question_data(const struct ck_session *s, size_t qi, const json_t *messages,
                         const json_t *deleted, json_t *used, json_t *qs)
{
    int q = s->questions[qi].number;
    json_t *people = json_array(), *seen = json_object(), *hl = json_array(), *picked = NULL;
    int rc = people && seen && hl ? 0 : CK_ENOMEM;
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (rc != 0 || !counts_as_answer(m, q, deleted))
            continue;
        n++;
        const json_t *a = json_object_get(m, "author");
        const char *h = str(a, "handle");
        if (h[0] && json_object_get(seen, h) == NULL &&
            (json_object_set(seen, h, json_true()) || json_array_append_new(people, person(a))))
            rc = CK_ENOMEM;
    }
    if (rc == 0)
        rc = ck_writeup_pick(messages, q, deleted, CK_WRITEUP_HIGHLIGHTS, used, &picked);
    json_array_foreach(picked, i, m)
    {
        if (rc == 0 && json_array_append_new(hl, highlight(m)) != 0)
            rc = CK_ENOMEM;
    }
    char at[48], pt[48];
    snprintf(at, sizeof at, "%zu answer%s", n, n == 1 ? "" : "s");
    snprintf(pt, sizeof pt, "%zu %s", json_array_size(people),
             json_array_size(people) == 1 ? "person" : "people");
    json_t *o =
        rc ? NULL
           : json_pack("{s:i s:s s:i s:i s:O s:O}", "number", q, "text", s->questions[qi].text,
                       "answers", (json_int_t)n, "people_count",
                       (json_int_t)json_array_size(people), "people", people, "highlights", hl);
    if (o != NULL && (json_object_set_new(o, "answers_text", json_string(at)) ||
                      json_object_set_new(o, "people_text", json_string(pt))))
        rc = CK_ENOMEM;
    if (o == NULL || json_array_append_new(qs, o) != 0)
        rc = CK_ENOMEM;
    json_decref(people);
    json_decref(seen);
    json_decref(hl);
    json_decref(picked);
    return rc;
}

static int cmp_participant(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    json_int_t d = json_integer_value(json_object_get(y, "messages")) -
                   json_integer_value(json_object_get(x, "messages"));
    return d ? (d > 0 ? 1 : -1) : strcmp(str(x, "handle"), str(y, "handle"));
}

/* Everyone who posted (boosts and deleted posts aside), busiest first. */
static json_t *participants(const json_t *messages, const json_t *deleted, json_int_t *total)
{
    json_t *by = json_object(), *list = json_array(), *m, *p;
    size_t i;
    const char *k;
    *total = 0;
    json_array_foreach(messages, i, m)
    {
        if (by == NULL || json_is_string(json_object_get(m, "boost_of")) ||
            in_list(deleted, str(m, "id")))
            continue;
        const json_t *a = json_object_get(m, "author");
        const char *h = str(a, "handle");
        (*total)++;
        if (!h[0])
            continue;
        p = json_object_get(by, h);
        if (p == NULL) {
            p = person(a);
            if (p == NULL || json_object_set_new(by, h, p) != 0)
                goto oom;
        }
        json_object_set_new(p, "messages",
                            json_integer(json_integer_value(json_object_get(p, "messages")) + 1));
    }
    json_object_foreach(by, k, p)
    {
        if (list == NULL || json_array_append(list, p) != 0)
            goto oom;
    }
    const json_t **v = calloc(json_array_size(list) + 1, sizeof *v);
    if (v == NULL)
        goto oom;
    json_array_foreach(list, i, p) v[i] = p;
    qsort(v, json_array_size(list), sizeof *v, cmp_participant);
    json_t *sorted = json_array();
    for (i = 0; sorted && i < json_array_size(list); i++)
        json_array_append(sorted, (json_t *)v[i]);
    free(v);
    json_decref(by);
    json_decref(list);
    return sorted;
oom:
    json_decref(by);
    json_decref(list);
    return NULL;
}

/* "Thursday 3 December 2026", "20:00 GMT", "2026-12-03" from tzdata's local time. */
static int dates(const struct ck_session *s, json_t *d)
{
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    static const char *const days[] = {"Thursday", "Friday",  "Saturday", "Sunday",
                                       "Monday",   "Tuesday", "Wednesday"};
    char local[96], utc[32], buf[128];
    if (ck_time_format_local(s->timezone, s->start_ms, local, sizeof local) != 0)
        return CK_ETZ;
    int y, mo, da, h, mi, se, used = 0;
    if (sscanf(local, "%d-%d-%d %d:%d:%d %n", &y, &mo, &da, &h, &mi, &se, &used) < 6 || mo < 1 ||
        mo > 12)
        return CK_EINVAL;
    /* Days since 1970-01-01 of the local date (Howard Hinnant's days_from_civil). */
    int yy = mo <= 2 ? y - 1 : y, era = (yy >= 0 ? yy : yy - 399) / 400;
    int yoe = yy - era * 400, mp = (mo + 9) % 12;
    long doy = (153L * mp + 2) / 5 + da - 1, doe = yoe * 365L + yoe / 4 - yoe / 100 + doy;
    long days_since = era * 146097L + doe - 719468L;
    const char *wd = days[((days_since % 7) + 7) % 7];
    snprintf(buf, sizeof buf, "%s %d %s %d", wd, da, months[mo - 1], y);
    int rc = json_object_set_new(d, "date_local", json_string(buf));
    snprintf(buf, sizeof buf, "%02d:%02d %s", h, mi, local + used);
    rc |= json_object_set_new(d, "time_local", json_string(buf));
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, da);
    rc |= json_object_set_new(d, "date_iso", json_string(buf));
    ck_time_format_rfc3339(s->start_ms, utc);
    snprintf(buf, sizeof buf, "%.10s %.5s UTC", utc, utc + 11);
    rc |= json_object_set_new(d, "datetime_utc", json_string(buf));
    return rc ? CK_ENOMEM : 0;
}

static bool is_facilitator(const struct ck_session *s, const char *h)
{
    size_t hl = strlen(h);
    for (size_t f = 0; f < s->n_facilitators; f++) {
        const char *fa = s->facilitators[f];
        /* A local account shows as "@user" on its own instance. */
        if (strcasecmp(h, fa) == 0 ||
            (hl > 1 && strchr(h + 1, '@') == NULL && strncasecmp(h, fa, hl) == 0 && fa[hl] == '@'))
            return true;
    }
    return false;
}

/* Messages from files written before grouping existed carry no "questions"
 * nor "assigned_by": give them the question open when they were posted, and
 * take a facilitator's numbered post for the question itself. */
static int fill_questions(const struct ck_session *s, json_t *messages)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (json_object_get(m, "questions") != NULL)
            continue;
        const char *t0 = str(m, "text");
        bool qpost = t0[0] == 'Q' && t0[1] >= '1' && t0[1] <= '9' &&
                     is_facilitator(s, str(json_object_get(m, "author"), "handle"));
        int64_t t;
        json_t *qs = json_array();
        if (qs == NULL || json_object_set_new(m, "questions", qs) != 0 ||
            json_object_set_new(m, "assigned_by", json_string(qpost ? "question" : "time")) != 0)
            return CK_ENOMEM;
        if (ck_time_parse_rfc3339(str(m, "created_at"), &t) != 0)
            continue;
        size_t open = s->n_questions;
        for (size_t q = 0; q < s->n_questions; q++)
            if (t >= s->start_ms + s->questions[q].at_ms)
                open = q;
        int64_t end = s->has_closing ? s->start_ms + s->closing.at_ms : INT64_MAX;
        if (open < s->n_questions && t < end)
            json_array_append_new(qs, json_integer(s->questions[open].number));
    }
    return 0;
}

/* "last": true on a list's final item, so templates can write separators. */
static int mark_last(json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_object_set_new(v, "last", json_boolean(i + 1 == json_array_size(list))) != 0)
            return -1;
    }
    return 0;
}

int ck_writeup_data(const struct ck_session *s, json_t *messages, const json_t *deleted,
                    json_t **out, struct ck_error *err)
{
    *out = NULL;
    json_t *empty = json_array(), *d = json_object(), *qs = json_array(), *used = json_object();
    json_t *facs = json_array(), *parts = NULL;
    json_int_t total = 0, answered = 0;
    int rc = empty && d && qs && used && facs ? 0 : CK_ENOMEM;
    if (deleted == NULL)
        deleted = empty;
    if (rc == 0)
        rc = fill_questions(s, messages);
    for (size_t i = 0; rc == 0 && i < s->n_questions; i++) {
        rc = question_data(s, i, messages, deleted, used, qs);
        if (rc == 0)
            answered += json_integer_value(
                json_object_get(json_array_get(qs, json_array_size(qs) - 1), "answers"));
    }
    for (size_t i = 0; rc == 0 && i < s->n_facilitators; i++)
        if (json_array_append_new(facs, json_pack("{s:s}", "handle", s->facilitators[i])))
            rc = CK_ENOMEM;
    if (rc == 0 && (parts = participants(messages, deleted, &total)) == NULL)
        rc = CK_ENOMEM;
    const json_t *pub = json_object_get(s->json, "publish");
    const char *turl = str(pub, "transcript_url");
    if (rc == 0 &&
        (json_object_set_new(d, "title", json_string(s->title)) ||
         json_object_set_new(d, "description", json_string(s->description ? s->description : "")) ||
         json_object_set_new(d, "hashtag", json_string(s->hashtag)) ||
         json_object_set_new(d, "timezone", json_string(s->timezone)) ||
         json_object_set(d, "facilitators", facs) ||
         json_object_set_new(
             d, "contact",
             json_string(s->n_facilitators ? s->facilitators[0] : "the facilitators")) ||
         json_object_set(d, "questions", qs) || json_object_set(d, "participants", parts) ||
         json_object_set_new(d, "participants_count",
                             json_integer((json_int_t)json_array_size(parts))) ||
         json_object_set_new(d, "messages_count", json_integer(total)) ||
         json_object_set_new(d, "answers_count", json_integer(answered)) ||
         json_object_set_new(d, "questions_count", json_integer((json_int_t)s->n_questions)) ||
         json_object_set_new(d, "transcript_url", json_string(ck_url_safe(turl) ? turl : ""))))
        rc = CK_ENOMEM;
    if (rc == 0)
        rc = dates(s, d);
    if (rc == 0 && (json_object_set_new(d, "facilitators_count",
                                        json_integer((json_int_t)s->n_facilitators)) ||
                    mark_last(facs) || mark_last(parts)))
        rc = CK_ENOMEM;
    json_decref(empty);
    json_decref(qs);
    json_decref(used);
    json_decref(facs);
    json_decref(parts);
    if (rc != 0) {
        json_decref(d);
        return ck_error_set(err, rc, "write-up data: %s", ck_strerror(rc));
    }
    *out = d;
    return 0;
}
