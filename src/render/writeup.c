/* The write-up's data, built from a digest of messages.jsonl made in one
 * streaming pass, so that it needs nothing but the session file and the
 * messages (summary.json may not exist, or may be older than a deletion found
 * at publish time). The digest keeps counters per person and per question and
 * a few highlight candidates per question, never the messages themselves:
 * the archive renders the write-up for chats of a million messages. */
#include "chatkeeper/writeup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/escape.h"
#include "chatkeeper/timeutil.h"
#include "writeup_int.h"

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

/* A message from a file written before grouping existed carries no
 * "questions" nor "assigned_by": give it the question open when it was
 * posted, and take a facilitator's numbered post for the question itself. */
static int fill_questions(const struct ck_session *s, json_t *m)
{
    if (json_object_get(m, "questions") != NULL)
        return 0;
    const char *t0 = str(m, "text");
    bool qpost = t0[0] == 'Q' && t0[1] >= '1' && t0[1] <= '9' &&
                 is_facilitator(s, str(json_object_get(m, "author"), "handle"));
    int64_t t;
    json_t *qs = json_array();
    if (qs == NULL || json_object_set_new(m, "questions", qs) != 0 ||
        json_object_set_new(m, "assigned_by", json_string(qpost ? "question" : "time")) != 0)
        return CK_ENOMEM;
    if (ck_time_parse_rfc3339(str(m, "created_at"), &t) != 0)
        return 0;
    size_t open = s->n_questions;
    for (size_t q = 0; q < s->n_questions; q++)
        if (t >= s->start_ms + s->questions[q].at_ms)
            open = q;
    int64_t end = s->has_closing ? s->start_ms + s->closing.at_ms : INT64_MAX;
    if (open < s->n_questions && t < end &&
        json_array_append_new(qs, json_integer(s->questions[open].number)) != 0)
        return CK_ENOMEM;
    return 0;
}

/* Highlight candidates: the best PER_PERSON answers of each of the best-liked
 * people (ranked by their best answer). ck_writeup_pick takes at most one
 * answer per person, people not quoted under earlier questions first, so
 * CK_WRITEUP_HIGHLIGHTS people per question plus everyone quoted before is
 * all it can reach: keeping that many people gives the same picks as looking
 * at every message. TOP_SLACK more people and PER_PERSON answers each leave
 * room for posts that publish finds deleted: the next candidate steps up. */
#define TOP_SLACK 20
#define PER_PERSON 3

struct top_person {
    json_t *m[PER_PERSON]; /* best first; m[0] decides the person's rank */
    size_t n;
    const char *handle; /* theirs, borrowed from m[0] */
};

struct digest_question {
    int number;
    json_int_t answers;
    json_t *count;          /* handle -> their answers here (integer) */
    json_t *people;         /* persons, in the order of their first answer here */
    struct top_person *top; /* best first, n_top <= max_top (one spare slot) */
    size_t n_top;
};

struct ck_writeup_digest {
    const struct ck_session *s; /* borrowed */
    json_t *deleted;            /* id -> true, from ck_writeup_digest_create's list */
    json_t *persons;            /* handle -> the last person made for it, to share */
    json_t *count;              /* handle -> messages (integer), boosts and deleted aside */
    json_t *who;                /* handle -> person of their first such message */
    json_int_t total;           /* those messages, handle or not */
    size_t max_top;
    struct digest_question *q; /* s->n_questions */
};

int ck_writeup_digest_create(const struct ck_session *s, const json_t *deleted,
                             struct ck_writeup_digest **out)
{
    struct ck_writeup_digest *d = calloc(1, sizeof *d);
    *out = NULL;
    if (d == NULL)
        return CK_ENOMEM;
    d->s = s;
    d->max_top = CK_WRITEUP_HIGHLIGHTS * s->n_questions + TOP_SLACK;
    d->deleted = json_object();
    d->persons = json_object();
    d->count = json_object();
    d->who = json_object();
    d->q = calloc(s->n_questions + 1, sizeof *d->q);
    int rc = d->deleted && d->persons && d->count && d->who && d->q ? 0 : CK_ENOMEM;
    for (size_t i = 0; rc == 0 && i < s->n_questions; i++) {
        struct digest_question *q = &d->q[i];
        q->number = s->questions[i].number;
        q->count = json_object();
        q->people = json_array();
        q->top = calloc(d->max_top + 1, sizeof *q->top);
        if (q->count == NULL || q->people == NULL || q->top == NULL)
            rc = CK_ENOMEM;
    }
    size_t i;
    json_t *v;
    json_array_foreach(deleted, i, v)
    {
        if (rc == 0 && json_is_string(v) &&
            json_object_set(d->deleted, json_string_value(v), json_true()) != 0)
            rc = CK_ENOMEM;
    }
    if (rc != 0) {
        ck_writeup_digest_destroy(d);
        return rc;
    }
    *out = d;
    return 0;
}

void ck_writeup_digest_destroy(struct ck_writeup_digest *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; d->q != NULL && i < d->s->n_questions; i++) {
        struct digest_question *q = &d->q[i];
        for (size_t p = 0; p < q->n_top; p++)
            for (size_t j = 0; j < q->top[p].n; j++)
                json_decref(q->top[p].m[j]);
        free(q->top);
        json_decref(q->count);
        json_decref(q->people);
    }
    free(d->q);
    json_decref(d->deleted);
    json_decref(d->persons);
    json_decref(d->count);
    json_decref(d->who);
    free(d);
}

/* author's person object, borrowed from d->persons: people and participants
 * share one per handle unless the name or link changed during the chat. */
static json_t *person_for(struct ck_writeup_digest *d, const json_t *author)
{
    const char *h = str(author, "handle"), *url = str(author, "url");
    json_t *p = json_object_get(d->persons, h);
    if (p != NULL && strcmp(str(p, "name"), ck_writeup__display_name(author)) == 0 &&
        strcmp(str(p, "url"), ck_url_safe(url) ? url : "") == 0)
        return p;
    p = ck_writeup__person(author);
    return p != NULL && json_object_set_new(d->persons, h, p) == 0 ? p : NULL;
}

/* counts[h] += 1; *first tells whether h is new there. */
static int bump(json_t *counts, const char *h, bool *first)
{
    json_t *n = json_object_get(counts, h);
    *first = n == NULL;
    if (n != NULL)
        return json_integer_set(n, json_integer_value(n) + 1) ? CK_ENOMEM : 0;
    return json_object_set_new(counts, h, json_integer(1)) ? CK_ENOMEM : 0;
}

/* Keep m (incref'd) if it is among the best answers of the best-liked people
 * so far; drop whoever falls off the end. Can't fail. */
static void offer(struct digest_question *q, size_t max_top, json_t *m, const char *h)
{
    size_t i = 0;
    while (i < q->n_top && strcmp(q->top[i].handle, h))
        i++;
    if (i == q->n_top) {
        if (i == max_top && cmp_msg(m, q->top[i - 1].m[0]) > 0)
            return;
        q->top[q->n_top++].n = 0;
    }
    struct top_person *t = &q->top[i];
    if (t->n == PER_PERSON) {
        if (cmp_msg(m, t->m[PER_PERSON - 1]) > 0)
            return;
        json_decref(t->m[--t->n]);
    }
    size_t j = t->n++;
    for (; j > 0 && cmp_msg(m, t->m[j - 1]) < 0; j--)
        t->m[j] = t->m[j - 1];
    t->m[j] = json_incref(m);
    t->handle = str(json_object_get(t->m[0], "author"), "handle");
    for (; i > 0 && cmp_msg(q->top[i].m[0], q->top[i - 1].m[0]) < 0; i--) {
        struct top_person tmp = q->top[i];
        q->top[i] = q->top[i - 1];
        q->top[i - 1] = tmp;
    }
    if (q->n_top > max_top) {
        t = &q->top[--q->n_top];
        for (j = 0; j < t->n; j++)
            json_decref(t->m[j]);
    }
}

/* cmp_msg between record r and a kept message y. */
static int64_t rec_num(int64_t v)
{
    return v == CK_RECORD_NO_COUNT ? 0 : v;
}

static int cmp_record(const struct ck_record *r, const json_t *y)
{
    const int64_t mine[] = {rec_num(r->likes), rec_num(r->boosts), rec_num(r->replies)};
    static const char *const keys[] = {"likes", "boosts", "replies"};
    for (size_t i = 0; i < 3; i++) {
        int64_t d = (int64_t)num(y, keys[i]) - mine[i];
        if (d != 0)
            return d > 0 ? 1 : -1;
    }
    int c = strcmp(r->created_at, str(y, "created_at"));
    return c != 0 ? c : strcmp(r->id, str(y, "id"));
}

/* Whether offer() would keep r: only then is it worth a JSON copy. */
static bool would_keep(const struct digest_question *q, size_t max_top, const struct ck_record *r,
                       const char *h)
{
    size_t i = 0;
    while (i < q->n_top && strcmp(q->top[i].handle, h))
        i++;
    if (i == q->n_top)
        return !(i == max_top && cmp_record(r, q->top[i - 1].m[0]) > 0);
    const struct top_person *t = &q->top[i];
    return !(t->n == PER_PERSON && cmp_record(r, t->m[PER_PERSON - 1]) > 0);
}

/* person_for() for a record's author. */
static json_t *record_person(struct ck_writeup_digest *d, const struct ck_record *r)
{
    json_t *a =
        json_pack("{s:s, s:s, s:s}", "handle", r->handle, "name", r->name, "url", r->author_url);
    json_t *p = a != NULL ? person_for(d, a) : NULL;
    json_decref(a);
    return p;
}

static bool record_answers(const struct ck_record *r, int q)
{
    for (uint8_t i = 0; i < r->n_questions; i++)
        if (r->questions[i] == q)
            return true;
    return false;
}

static bool stands_alone(const struct ck_record *r)
{
    bool labelled = r->assigned_by != NULL &&
                    (strcmp(r->assigned_by, "tag") == 0 || strcmp(r->assigned_by, "override") == 0);
    return (r->reply_to == NULL || labelled) &&
           (r->quote_of == NULL || ck_writeup__own_words(r->text, r->quote_of));
}

int ck_writeup_digest_add_record(struct ck_writeup_digest *d, const struct ck_record *r)
{
    if (ck_record_is_spam(r))
        return 0;
    if (r->boost_of != NULL || json_object_get(d->deleted, r->id) != NULL)
        return 0;
    const char *h = r->handle;
    bool first, quotable = h[0] != '\0' && r->text[0] != '\0';
    json_t *p = NULL;
    d->total++;
    if (h[0] != '\0') {
        if (bump(d->count, h, &first) != 0)
            return CK_ENOMEM;
        if (first && ((p = record_person(d, r)) == NULL || json_object_set(d->who, h, p) != 0))
            return CK_ENOMEM;
    }
    if (r->assigned_by != NULL && strcmp(r->assigned_by, "question") == 0)
        return 0;
    /* Answers are the participants': the hosts' own posts under a question
     * (follow-ups, "Q3 in 2 minutes", thanks) are messages, not answers. */
    if (h[0] != '\0' && is_facilitator(d->s, h))
        return 0;
    /* A highlight must make sense on its own: not a reply that carries no
     * label of its own ("@ann exactly!"), not a quote with nothing of its
     * own to say ("THIS."); a quote that answers in its own words may be. */
    if (!stands_alone(r))
        quotable = false;
    for (size_t i = 0; i < d->s->n_questions; i++) {
        struct digest_question *q = &d->q[i];
        if (!record_answers(r, q->number))
            continue;
        q->answers++;
        if (h[0] == '\0')
            continue;
        if (bump(q->count, h, &first) != 0)
            return CK_ENOMEM;
        if (first && ((p = record_person(d, r)) == NULL || json_array_append(q->people, p) != 0))
            return CK_ENOMEM;
        if (quotable && would_keep(q, d->max_top, r, h)) {
            json_t *m = ck_record_to_json(r);
            if (m == NULL)
                return CK_ENOMEM;
            offer(q, d->max_top, m, h);
            json_decref(m);
        }
    }
    return 0;
}

int ck_writeup_digest_add(struct ck_writeup_digest *d, json_t *m)
{
    if (!json_is_object(m))
        return 0;
    if (fill_questions(d->s, m) != 0)
        return CK_ENOMEM;
    struct ck_record r;
    if (ck_record_from_json(m, &r) != 0)
        return 0; /* no id or no time: not a message (the transcripts skip it too) */
    return ck_writeup_digest_add_record(d, &r);
}

/* Posts found deleted after the digest was made are all highlight
 * candidates (publish deletes only what it quoted): *gone gets them, id ->
 * message, so the counters can leave them out too. */
static int find_gone(const struct ck_writeup_digest *d, const json_t *deleted, json_t **gone)
{
    *gone = json_object();
    if (*gone == NULL)
        return CK_ENOMEM;
    for (size_t i = 0; deleted != NULL && i < d->s->n_questions; i++)
        for (size_t p = 0; p < d->q[i].n_top; p++)
            for (size_t j = 0; j < d->q[i].top[p].n; j++) {
                json_t *m = d->q[i].top[p].m[j];
                if (in_list(deleted, str(m, "id")) && json_object_set(*gone, str(m, "id"), m))
                    return CK_ENOMEM;
            }
    return 0;
}

/* handle -> how many of gone's messages answer question q (q == 0: any). */
static json_t *gone_by_handle(json_t *gone, int q, json_int_t *total)
{
    json_t *by = json_object(), *m;
    const char *id;
    *total = 0;
    json_object_foreach(gone, id, m)
    {
        const char *h = str(json_object_get(m, "author"), "handle");
        bool first;
        if (q != 0 && !answers(m, q))
            continue;
        (*total)++;
        if (by != NULL && bump(by, h, &first) != 0) {
            json_decref(by);
            by = NULL;
        }
    }
    return by;
}

static int question_data(const struct ck_writeup_digest *d, size_t qi, const json_t *deleted,
                         json_t *gone, json_t *used, json_t *qs)
{
    const struct digest_question *dq = &d->q[qi];
    int q = dq->number;
    json_int_t lost = 0;
    json_t *less = gone_by_handle(gone, q, &lost);
    json_t *people = json_array(), *hl = json_array(), *cands = json_array(), *picked = NULL;
    int rc = less && people && hl && cands ? 0 : CK_ENOMEM;
    size_t i;
    json_t *m;
    json_array_foreach(dq->people, i, m)
    {
        const char *h = str(m, "handle");
        if (rc == 0 &&
            json_integer_value(json_object_get(dq->count, h)) >
                json_integer_value(json_object_get(less, h)) &&
            json_array_append(people, m) != 0)
            rc = CK_ENOMEM;
    }
    for (size_t p = 0; rc == 0 && p < dq->n_top; p++)
        for (size_t j = 0; rc == 0 && j < dq->top[p].n; j++)
            if (json_array_append(cands, dq->top[p].m[j]) != 0)
                rc = CK_ENOMEM;
    if (rc == 0)
        rc = ck_writeup_pick(cands, q, deleted, CK_WRITEUP_HIGHLIGHTS, used, &picked);
    json_array_foreach(picked, i, m)
    {
        if (rc == 0 && json_array_append_new(hl, ck_writeup__highlight(m)) != 0)
            rc = CK_ENOMEM;
    }
    json_int_t n = dq->answers - lost, np = (json_int_t)json_array_size(people);
    char at[48], pt[48];
    snprintf(at, sizeof at, "%lld answer%s", (long long)n, n == 1 ? "" : "s");
    snprintf(pt, sizeof pt, "%lld %s", (long long)np, np == 1 ? "person" : "people");
    json_t *o =
        rc ? NULL
           : json_pack("{s:i s:s s:I s:I s:O s:O}", "number", q, "text", d->s->questions[qi].text,
                       "answers", n, "people_count", np, "people", people, "highlights", hl);
    if (o != NULL && (json_object_set_new(o, "answers_text", json_string(at)) ||
                      json_object_set_new(o, "people_text", json_string(pt))))
        rc = CK_ENOMEM;
    if (o == NULL || json_array_append_new(qs, o) != 0)
        rc = CK_ENOMEM;
    json_decref(less);
    json_decref(people);
    json_decref(hl);
    json_decref(cands);
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
static json_t *participants(const struct ck_writeup_digest *d, json_t *gone, json_int_t *total)
{
    json_int_t lost = 0;
    json_t *less = gone_by_handle(gone, 0, &lost), *sorted = NULL, *n;
    const json_t **v = calloc(json_object_size(d->count) + 1, sizeof *v);
    size_t k = 0, i;
    const char *h;
    *total = d->total - lost;
    if (less == NULL || v == NULL)
        goto out;
    json_object_foreach(d->count, h, n)
    {
        json_int_t c = json_integer_value(n) - json_integer_value(json_object_get(less, h));
        json_t *p = c > 0 ? json_copy(json_object_get(d->who, h)) : NULL;
        if (c > 0 && (p == NULL || json_object_set_new(p, "messages", json_integer(c)) != 0)) {
            json_decref(p);
            goto out;
        }
        if (p != NULL)
            v[k++] = p;
    }
    qsort(v, k, sizeof *v, cmp_participant);
    sorted = json_array();
    for (i = 0; sorted != NULL && i < k; i++)
        if (json_array_append(sorted, (json_t *)v[i]) != 0) {
            json_decref(sorted);
            sorted = NULL;
        }
out:
    for (i = 0; i < k; i++)
        json_decref((json_t *)v[i]);
    free(v);
    json_decref(less);
    return sorted;
}

int ck_writeup_data(const struct ck_writeup_digest *dg, const json_t *deleted, json_t **out,
                    struct ck_error *err)
{
    *out = NULL;
    const struct ck_session *s = dg->s;
    json_t *d = json_object(), *qs = json_array(), *used = json_object();
    json_t *facs = json_array(), *parts = NULL, *gone = NULL;
    json_int_t total = 0, answered = 0;
    int rc = d && qs && used && facs ? 0 : CK_ENOMEM;
    if (rc == 0)
        rc = find_gone(dg, deleted, &gone);
    for (size_t i = 0; rc == 0 && i < s->n_questions; i++) {
        rc = question_data(dg, i, deleted, gone, used, qs);
        if (rc == 0)
            answered += json_integer_value(
                json_object_get(json_array_get(qs, json_array_size(qs) - 1), "answers"));
    }
    for (size_t i = 0; rc == 0 && i < s->n_facilitators; i++)
        if (json_array_append_new(facs, json_pack("{s:s}", "handle", s->facilitators[i])))
            rc = CK_ENOMEM;
    if (rc == 0 && (parts = participants(dg, gone, &total)) == NULL)
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
    json_decref(qs);
    json_decref(used);
    json_decref(gone);
    json_decref(facs);
    json_decref(parts);
    if (rc != 0) {
        json_decref(d);
        return ck_error_set(err, rc, "write-up data: %s", ck_strerror(rc));
    }
    *out = d;
    return 0;
}
