/* chatkeeper catchup's reading: messages.jsonl grouped by question, threads
 * nested, wrapped to the terminal, with nothing a terminal would obey.
 *
 * It reads the records as the transcript does (record.h's view of each line,
 * invalid UTF-8 repaired, the same groups: at most CK_RECORD_MAX_QUESTIONS
 * questions of 1..CK_RENDER_MAX_QUESTION, chatter when none; boosts and, under
 * a question, the question's own post left out), so its counts and headings
 * are the transcript's.
 *
 * The whole messages.jsonl is held as parsed JSON (a chat is thousands of
 * messages, not millions), with an index sorted by id to find a reply's
 * parent. Threads are walked iteratively through parent/child/sibling
 * indexes, so a hostile million-deep reply chain cannot exhaust the stack;
 * a parent must come earlier in the file (messages.jsonl is oldest first),
 * which also rules out cycles. */
#include "chatkeeper/terminal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/config.h"
#include "chatkeeper/log.h"
#include "chatkeeper/record.h"
#include "chatkeeper/render.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/state.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/text.h"
#include "chatkeeper/timeutil.h"
#include "model.h" /* ck_rquote_link */

#define MAX_QUESTION CK_RENDER_MAX_QUESTION /* higher numbers are noise, not headings */
#define NONE SIZE_MAX
/* transcript_html.c's name for the section of messages under no question. */
#define CHATTER_HEADING "Before and between the questions"

/* ---- the reading ---- */

struct msg {
    json_t *rec;        /* the messages.jsonl record (owned) */
    struct ck_record r; /* its view (borrowed from rec) */
    const char *id, *reply_to;
    int64_t ms;
    size_t parent, first_child, last_child, next; /* within the current group */
    size_t boost_first, boost_last, boost_next;   /* its boosts here; the next boost of one */
    size_t n_boosts;
    bool in_group;
    bool only_quoted; /* shown inside its quotes only, as the transcript does */
};

struct reading {
    FILE *out;
    struct ck_session s;
    struct msg *m;
    size_t n, cap;
    size_t *by_id; /* indexes sorted by id */
    bool grouped;  /* some record has "questions" */
    int max_q;
    bool named[MAX_QUESTION + 1]; /* some message (not a boost) is filed under it */
    size_t width;
    char start_date[16];
    json_t *opt_out; /* overrides.json's, or NULL */
};

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int load_messages(struct reading *r, const char *path, struct ck_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ck_error_set(err, errno == ENOENT ? CK_ENOTFOUND : -errno, "%s: %s", path,
                            strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        json_t *rec = ck_rjson_parse_line(line, (size_t)len);
        struct ck_record view;
        if (!json_is_object(rec) || ck_record_from_json(rec, &view) != 0) {
            if (strspn(line, " \t\r\n") != strlen(line))
                ck_warn("catchup: %s:%zu: not a message record; skipped", path, lineno);
            json_decref(rec);
            continue;
        }
        if (ck_record_is_spam(&view)) { /* as the transcript: kept in the file, not read */
            json_decref(rec);
            continue;
        }
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 256;
            struct msg *g = realloc(r->m, nc * sizeof *g);
            if (g == NULL) {
                json_decref(rec);
                rc = ck_error_set(err, CK_ENOMEM, "catchup: out of memory");
                break;
            }
            r->m = g;
            r->cap = nc;
        }
        r->m[r->n++] = (struct msg){
            .rec = rec, .r = view, .id = view.id, .reply_to = view.reply_to, .ms = view.created_ms};
        if (json_is_array(json_object_get(rec, "questions"))) {
            r->grouped = true;
            bool boost = view.boost_of != NULL && view.boost_of[0] != '\0';
            for (size_t i = 0; i < view.n_questions; i++) {
                int64_t q = view.questions[i];
                if (q > r->max_q && q <= MAX_QUESTION)
                    r->max_q = (int)q;
                if (q >= 1 && q <= MAX_QUESTION && !boost)
                    r->named[q] = true;
            }
        }
    }
    if (rc == 0 && ferror(f))
        rc = ck_error_set(err, CK_EIO, "%s: read error", path);
    free(line);
    fclose(f);
    return rc;
}

/* qsort passes no argument; the array compared is the one being sorted. */
static const struct msg *sort_msgs;

static int cmp_id(const void *a, const void *b)
{
    return strcmp(sort_msgs[*(const size_t *)a].id, sort_msgs[*(const size_t *)b].id);
}

static size_t find_id(const struct reading *r, const char *id)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->m[r->by_id[mid]].id, id);
        if (c == 0)
            return r->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NONE;
}

static bool is_boost(const struct msg *m)
{
    return m->r.boost_of != NULL && m->r.boost_of[0] != '\0';
}

/* Who boosted what, and which posts are here only because they are quoted
 * (outside the window, boosted by nobody: the transcript shows them inside
 * their quotes, not a second time on their own). Needs by_id. */
static void link_boosts_and_quotes(struct reading *r)
{
    for (size_t i = 0; i < r->n; i++)
        r->m[i].boost_first = r->m[i].boost_last = r->m[i].boost_next = NONE;
    bool *quoted = calloc(r->n + 1, 1);
    for (size_t i = 0; i < r->n; i++) {
        struct msg *m = &r->m[i];
        size_t t = is_boost(m) ? find_id(r, m->r.boost_of) : NONE;
        if (t != NONE && t != i && !is_boost(&r->m[t])) {
            struct msg *o = &r->m[t];
            if (o->boost_first == NONE)
                o->boost_first = i;
            else
                r->m[o->boost_last].boost_next = i;
            o->boost_last = i;
            o->n_boosts++;
        }
        size_t q = !is_boost(m) && m->r.quote_of != NULL ? find_id(r, m->r.quote_of) : NONE;
        if (q != NONE && q != i && quoted != NULL)
            quoted[q] = true;
    }
    int64_t from = r->s.start_ms - r->s.lead_ms,
            to = r->s.start_ms + r->s.duration_ms + r->s.grace_ms;
    for (size_t i = 0; quoted != NULL && i < r->n; i++)
        r->m[i].only_quoted =
            quoted[i] && r->m[i].n_boosts == 0 && (r->m[i].ms < from || r->m[i].ms > to);
    free(quoted);
}

/* Shown as a message of its own: not a boost, not only quoted. */
static bool shown(const struct msg *m)
{
    return !is_boost(m) && !m->only_quoted;
}

/* Whether m is shown (and counted) under group q (0: the messages under no
 * question), as in the transcript: a question's own post is its heading. */
static bool in_group(const struct reading *r, const struct msg *m, int q)
{
    if (!r->grouped)
        return true;
    bool any = false;
    for (size_t i = 0; i < m->r.n_questions; i++) {
        int64_t v = m->r.questions[i];
        if (v < 1 || v > MAX_QUESTION)
            continue;
        any = true;
        if (v == q)
            return m->r.assigned_by == NULL || strcmp(m->r.assigned_by, "question") != 0;
    }
    return q == 0 && !any;
}

static const char *question_text(const struct reading *r, int q)
{
    for (size_t i = 0; i < r->s.n_questions; i++)
        if (r->s.questions[i].number == q)
            return r->s.questions[i].text;
    return NULL;
}

/* Print through the cleaner: nothing from a message reaches out raw. */
static void put_wrapped(struct reading *r, const char *text, size_t indent)
{
    char *clean = ck_term_clean(text);
    ck_term_wrap(r->out, clean != NULL ? clean : "(out of memory)", indent, r->width);
    free(clean);
}

static void print_message(struct reading *r, const struct msg *m, size_t depth)
{
    /* Replies step in 4 columns at a time, but never past a third of the
     * line, so deep threads stay readable on a narrow terminal. */
    size_t indent = depth * 4;
    if (indent > r->width / 3)
        indent = r->width / 3;
    char when[64] = "";
    if (ck_time_format_local(r->s.timezone, m->ms, when, sizeof when) == 0 && strlen(when) >= 16) {
        /* "YYYY-MM-DD HH:MM:SS ZZZ": the time, and the date only when it is
         * not the chat's own. */
        bool same_day = strncmp(when, r->start_date, 10) == 0;
        memmove(when, when + (same_day ? 11 : 0), 16 - (same_day ? 11 : 0));
        when[same_day ? 5 : 16] = '\0';
    }
    const json_t *author = json_object_get(m->rec, "author");
    const char *name = str(author, "name"), *handle = str(author, "handle");
    char where[CK_RSOURCE_MAX]; /* where it was posted: a session follows several sources */
    ck_rsource_label(&m->r, where, sizeof where);
    size_t len = strlen(when) + (name ? strlen(name) : 0) + (handle ? strlen(handle) : 0) +
                 strlen(where) + 8;
    char *head = malloc(len);
    if (head != NULL) {
        snprintf(head, len, "%s %s%s%s%s%s", when, name != NULL && name[0] != '\0' ? name : "",
                 name != NULL && name[0] != '\0' ? " " : "", handle != NULL ? handle : "",
                 where[0] != '\0' ? " · " : "", where);
        put_wrapped(r, head, indent);
    }
    free(head);
    const char *text = str(m->rec, "text");
    if (text == NULL)
        text = "";
    /* A quoted post in the archive is shown under the text, instead of the
     * bare link to it (as the transcripts do). */
    size_t qi = m->r.quote_of != NULL ? find_id(r, m->r.quote_of) : NONE, ls, le;
    char *cut = NULL;
    size_t tl = strlen(text);
    if (qi != NONE && ck_rquote_link(text, m->r.quote_of, &ls, &le) &&
        (cut = malloc(tl + 1)) != NULL) {
        memcpy(cut, text, ls);
        memcpy(cut + ls, text + le, tl - le + 1);
    }
    /* One that is not here: what the text says of it (who, the link). */
    char stub_handle[128] = "";
    bool stub = false;
    if (qi == NONE && m->r.quote_of != NULL && m->r.quote_of[0] != '\0') {
        stub = true;
        if (!ck_rquote_stub(text, m->r.quote_of, &ls, &le, stub_handle, sizeof stub_handle))
            ls = le = tl;
        if ((cut = malloc(tl + 1)) != NULL) {
            memcpy(cut, text, ls);
            memcpy(cut + ls, text + le, tl - le + 1);
        }
    }
    put_wrapped(r, cut != NULL ? cut : text, indent + 2);
    free(cut);
    if (stub) {
        size_t us = le;
        while (us > ls && text[us - 1] != ' ' && text[us - 1] != '\n')
            us--;
        if (ck_ropt_out_has(r->opt_out, stub_handle)) { /* never named, nor linked */
            stub_handle[0] = '\0';
            us = le;
        }
        size_t hl = strlen(stub_handle) + (le - us) + 48;
        char *qh = malloc(hl);
        if (qh != NULL) {
            snprintf(qh, hl, "quoting %s%sa post not in this archive%s%.*s", stub_handle,
                     stub_handle[0] != '\0' ? ", " : "", le > us ? ": " : "", (int)(le - us),
                     text + us);
            put_wrapped(r, qh, indent + 4);
        }
        free(qh);
    }
    if (qi != NONE && qi != (size_t)(m - r->m)) {
        const struct ck_record *q = &r->m[qi].r;
        size_t hl = strlen(q->name) + strlen(q->handle) + 16;
        char *qh = malloc(hl);
        if (qh != NULL) {
            snprintf(qh, hl, "quoting %s%s%s:", q->name, q->name[0] != '\0' ? " " : "", q->handle);
            put_wrapped(r, qh, indent + 4);
        }
        free(qh);
        put_wrapped(r, q->text, indent + 6);
    }
    /* "boosted by", as the transcripts write it: five names, then a count */
    if (m->n_boosts > 0) {
        struct ck_sbuf b = {0};
        ck_sbuf_str(&b, "boosted by ");
        size_t named = 0;
        for (size_t k = m->boost_first; k != NONE && named < 5; k = r->m[k].boost_next) {
            const char *h = r->m[k].r.handle;
            if (h[0] == '\0')
                continue;
            bool last = named + 1 == m->n_boosts;
            ck_sbuf_str(&b, named == 0 ? "" : last ? " and " : ", ");
            ck_sbuf_str(&b, h);
            named++;
        }
        if (m->n_boosts > named) {
            char more[48];
            snprintf(more, sizeof more, "%s%zu%s", named > 0 ? " and " : "", m->n_boosts - named,
                     named > 0 ? " more" : (m->n_boosts == 1 ? " person" : " people"));
            ck_sbuf_str(&b, more);
        }
        put_wrapped(r, b.oom ? "boosted" : b.s, indent + 2);
        free(b.s);
    }
    fputc('\n', r->out);
}

/* Distinct people, handles compared without case as the transcript does.
 * Returns -1 when out of memory. */
static long count_people(const struct reading *r)
{
    struct ck_strset people;
    ck_strset_init(&people);
    long n = 0;
    for (size_t i = 0; i < r->n && n >= 0; i++) {
        if (!r->m[i].in_group)
            continue;
        char *h = strdup(r->m[i].r.handle);
        if (h == NULL) {
            n = -1;
            break;
        }
        for (char *c = h; *c != '\0'; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        int added = ck_strset_add(&people, h);
        free(h);
        n = added < 0 ? -1 : n + added;
    }
    ck_strset_finish(&people);
    return n;
}

static void print_group(struct reading *r, int q)
{
    size_t roots = NONE, last_root = NONE, count = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct msg *m = &r->m[i];
        m->in_group = shown(m) && in_group(r, m, q);
        m->parent = m->first_child = m->last_child = m->next = NONE;
        if (!m->in_group)
            continue;
        count++;
        size_t p = m->reply_to != NULL ? find_id(r, m->reply_to) : NONE;
        /* Only an earlier message in this group can be a parent. */
        if (p != NONE && (p >= i || !r->m[p].in_group))
            p = NONE;
        m->parent = p;
        size_t *head = p != NONE ? &r->m[p].first_child : &roots;
        size_t *tail = p != NONE ? &r->m[p].last_child : &last_root;
        if (*head == NONE)
            *head = i;
        else
            r->m[*tail].next = i;
        *tail = i;
    }
    if (q > 0) {
        /* The transcript's heading: "Q2. text", or for a number the run
         * sheet does not have, "Q9 (not in the run sheet)". */
        const char *text = question_text(r, q);
        char num[48];
        snprintf(num, sizeof num, text != NULL ? "Q%d. " : "Q%d (not in the run sheet)", q);
        size_t len = strlen(num) + (text ? strlen(text) : 0) + 1;
        char *h = malloc(len);
        if (h != NULL) {
            snprintf(h, len, "%s%s", num, text ? text : "");
            put_wrapped(r, h, 0);
        }
        free(h);
    } else {
        ck_term_wrap(r->out, r->grouped ? CHATTER_HEADING : "All messages", 0, r->width);
    }
    for (size_t i = 0; i < r->width; i++)
        fputc('=', r->out);
    fputc('\n', r->out);
    long people = count_people(r);
    char stats[96];
    int k = snprintf(stats, sizeof stats, "%zu message%s", count, count == 1 ? "" : "s");
    if (people >= 0 && k > 0 && (size_t)k < sizeof stats)
        snprintf(stats + k, sizeof stats - (size_t)k, " from %ld %s", people,
                 people == 1 ? "person" : "people");
    ck_term_wrap(r->out, stats, 0, r->width);
    fputc('\n', r->out);
    /* Pre-order walk: down to the first child, else along to the next
     * sibling, else up until an ancestor has one. */
    size_t depth = 0;
    for (size_t i = roots; i != NONE;) {
        print_message(r, &r->m[i], depth);
        if (r->m[i].first_child != NONE) {
            i = r->m[i].first_child;
            depth++;
            continue;
        }
        while (i != NONE && r->m[i].next == NONE) {
            i = r->m[i].parent;
            depth -= i != NONE;
        }
        if (i != NONE)
            i = r->m[i].next;
    }
}

int ck_catchup_render(FILE *out, const char *dir, const struct ck_catchup_opts *o,
                      struct ck_error *err)
{
    struct reading r = {.out = out, .width = o->width < 20 ? 20 : (size_t)o->width};
    char *session_path = ck_path_join(dir, "session.json");
    char *messages_path = ck_path_join(dir, "messages.jsonl");
    int rc = 0;
    if (session_path == NULL || messages_path == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "catchup: out of memory");
        goto out;
    }
    FILE *probe = fopen(session_path, "rb");
    if (probe == NULL) {
        rc = ck_error_set(err, CK_ENOTFOUND, "%s: %s", session_path, strerror(errno));
        goto out;
    }
    fclose(probe);
    rc = ck_session_load(session_path, &r.s, err);
    if (rc != 0) {
        rc = rc == CK_ENOMEM ? rc : CK_ECONFIG;
        goto out;
    }
    /* A session directory whose run has not written its outputs yet (the
     * chat has not begun, or nothing was captured so far): say so, not
     * "No such file". The run refreshes them about once a minute. */
    probe = fopen(messages_path, "rb");
    if (probe == NULL && errno == ENOENT) {
        rc = ck_error_set(err, CK_ENOTFOUND,
                          "%s: no messages yet: the chat has not begun or nothing was captured "
                          "so far (a running chat refreshes them about once a minute; "
                          "'chatkeeper archive %s' builds them from the journal now)",
                          dir, dir);
        goto out;
    }
    if (probe != NULL)
        fclose(probe);
    rc = load_messages(&r, messages_path, err);
    if (rc != 0)
        goto out;
    if (r.max_q < (int)r.s.n_questions)
        r.max_q = (int)r.s.n_questions;
    if (o->question != 0 && (o->question < 1 || o->question > r.max_q)) {
        rc = ck_error_set(err, CK_EUSAGE, "catchup: no question %d (this chat has %d)", o->question,
                          r.max_q);
        goto out;
    }
    r.by_id = malloc((r.n + 1) * sizeof *r.by_id);
    if (r.by_id == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "catchup: out of memory");
        goto out;
    }
    for (size_t i = 0; i < r.n; i++)
        r.by_id[i] = i;
    sort_msgs = r.m;
    qsort(r.by_id, r.n, sizeof *r.by_id, cmp_id);
    sort_msgs = NULL;
    link_boosts_and_quotes(&r);
    r.opt_out = ck_ropt_out_load(dir);

    char start[64] = "";
    ck_time_format_local(r.s.timezone, r.s.start_ms, start, sizeof start);
    memcpy(r.start_date, start, 10);
    size_t len = strlen(r.s.title) + strlen(r.s.hashtag) + strlen(start) + 8;
    char *title = malloc(len);
    if (title != NULL) {
        snprintf(title, len, "%s #%s\n%s", r.s.title, r.s.hashtag, start);
        put_wrapped(&r, title, 0);
        fputc('\n', out);
    }
    free(title);
    if (!r.grouped && o->question != 0)
        ck_warn("catchup: %s is not grouped by question yet; showing every message", dir);
    if (!r.grouped)
        print_group(&r, 0);
    else if (o->question != 0)
        print_group(&r, o->question);
    else {
        /* The transcript's sections: every question of the run sheet, and
         * any other number a message was filed under. */
        for (int q = 1; q <= r.max_q; q++)
            if (question_text(&r, q) != NULL || r.named[q])
                print_group(&r, q);
        bool other = false;
        for (size_t i = 0; i < r.n && !other; i++)
            other = shown(&r.m[i]) && in_group(&r, &r.m[i], 0);
        if (other)
            print_group(&r, 0);
    }
out:
    for (size_t i = 0; i < r.n; i++)
        json_decref(r.m[i].rec);
    free(r.m);
    free(r.by_id);
    json_decref(r.opt_out);
    ck_session_finish(&r.s);
    free(messages_path);
    free(session_path);
    return rc;
}
