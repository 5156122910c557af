/* Assigning every message of a chat to its question(s) (see group.h).
 *
 * Works on compact records only (no text), strongest evidence first:
 *   1. question posts: the run sheet's posted ids, else facilitators' posts
 *      whose words match the session's question, else a facilitator's first
 *      "Qn" post that asks something (facilitators answer too: "Q1 for me");
 *   2. overrides.json (a person said so);
 *   3. answer tags, unless they name a question not asked yet (a slip) or
 *      sit in an announcement ("Q2 in a sec"); then a number the text names
 *      without a tag ("ok so, Q2: ...", "still thinking about Q3");
 *   4. replies inherit their parent's question, along the whole chain,
 *      whatever their words, because threads outlive their question and a
 *      reply belongs to the conversation it is in;
 *   5. chatter (greetings, introductions, meta talk) that starts a
 *      conversation goes nowhere;
 *   6. the question open at the time, unless the words clearly belong to
 *      another question already asked ("content").
 * Memory: one hash slot pair and one state byte per message, besides the
 * records themselves. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatkeeper/group.h"
#include "group_ctx.h"
#include "group_internal.h"

/* A tag may name a question up to this long before its post appears
 * (clocks disagree, the facilitator is a little late). */
#define EARLY_TAG_MS (2 * 60 * 1000)

const char *ck_group_by_name(enum ck_assigned_by by)
{
    switch (by) {
    case CK_BY_QUESTION:
        return "question";
    case CK_BY_OVERRIDE:
        return "override";
    case CK_BY_TAG:
        return "tag";
    case CK_BY_REPLY:
        return "reply";
    case CK_BY_TIME:
        return "time";
    case CK_BY_CONTENT:
        return "content";
    case CK_BY_SPAM:
        return "spam";
    case CK_BY_NONE:
        break;
    }
    return NULL;
}

/* ---- ids ----------------------------------------------------------------- */

uint64_t ck_group__hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int index_ids(struct ctx *x)
{
    x->cap = 16;
    while (x->cap < x->n * 2)
        x->cap *= 2;
    x->slot = calloc(x->cap, sizeof *x->slot);
    if (x->slot == NULL)
        return CK_ENOMEM;
    for (size_t i = 0; i < x->n; i++) {
        if (x->m[i].id == NULL)
            continue;
        size_t h = (size_t)ck_group__hash_str(x->m[i].id) & (x->cap - 1);
        /* duplicate ids: the first wins, as the contract says */
        while (x->slot[h] != 0 && strcmp(x->m[x->slot[h] - 1].id, x->m[i].id) != 0)
            h = (h + 1) & (x->cap - 1);
        if (x->slot[h] == 0)
            x->slot[h] = i + 1;
        else
            x->dup_ids = true;
    }
    return 0;
}

/* Index of the message with this id, or SIZE_MAX. */
size_t ck_group__find_id(const struct ctx *x, const char *id)
{
    if (id == NULL)
        return SIZE_MAX;
    size_t h = (size_t)ck_group__hash_str(id) & (x->cap - 1);
    while (x->slot[h] != 0) {
        if (strcmp(x->m[x->slot[h] - 1].id, id) == 0)
            return x->slot[h] - 1;
        h = (h + 1) & (x->cap - 1);
    }
    return SIZE_MAX;
}

static void mark_question(struct ctx *x, size_t i, int num);

/* Our own post of question k on every source (issue 11): the first source's
 * id and the others'. Two platforms may give their posts the same id (only
 * then is every message looked at). */
static void mark_posted(struct ctx *x, const struct ck_group_question *q)
{
    for (size_t s = 0; s <= q->n_more_posted_ids; s++) {
        const char *id = s == 0 ? q->posted_id : q->more_posted_ids[s - 1];
        if (id == NULL)
            continue;
        if (!x->dup_ids) {
            size_t i = ck_group__find_id(x, id);
            if (i != SIZE_MAX && !x->m[i].boost)
                mark_question(x, i, q->number);
            continue;
        }
        for (size_t i = 0; i < x->n; i++)
            if (x->m[i].id != NULL && strcmp(x->m[i].id, id) == 0 && !x->m[i].boost)
                mark_question(x, i, q->number);
    }
}

/* ---- people -------------------------------------------------------------- */

/* A Bluesky handle is a host name: "name.bsky.social", no second '@'. */
static bool bluesky_shaped(const char *h)
{
    return strchr(h, '@') == NULL && strchr(h, '.') != NULL;
}

/* "@Ann" matches "@ann@example.org": Twitter handles have no domain, and a
 * session file may name a local account without one. A Bluesky handle
 * ("@name.bsky.social") matches only itself: it is a whole domain, and a
 * fediverse account "@name.bsky.social@elsewhere" is someone else. */
bool ck_group__same_handle(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    if (*a == '@')
        a++;
    if (*b == '@')
        b++;
    if (bluesky_shaped(a) || bluesky_shaped(b))
        return bluesky_shaped(a) && bluesky_shaped(b) && strcasecmp(a, b) == 0;
    const char *da = strchr(a, '@'), *db = strchr(b, '@');
    size_t la = da != NULL ? (size_t)(da - a) : strlen(a);
    size_t lb = db != NULL ? (size_t)(db - b) : strlen(b);
    if (la != lb || strncasecmp(a, b, la) != 0)
        return false;
    return da == NULL || db == NULL || strcasecmp(da, db) == 0;
}

bool ck_group__is_facilitator(const struct ck_group_conf *c, const char *author)
{
    for (size_t i = 0; i < c->n_facilitators; i++)
        if (ck_group__same_handle(c->facilitators[i], author))
            return true;
    return false;
}

static void set_one(struct ck_group_msg *m, int q, enum ck_assigned_by by)
{
    m->questions[0] = (uint8_t)q;
    m->n_questions = 1;
    m->by = by;
}

/* ---- question posts ------------------------------------------------------ */

static void mark_question(struct ctx *x, size_t i, int num)
{
    struct qinfo *q = &x->q[num];
    set_one(&x->m[i], num, CK_BY_QUESTION);
    x->st[i] = ST_DONE;
    q->exists = true;
    if (!q->posted || x->m[i].created_ms < q->at)
        q->at = x->m[i].created_ms;
    q->posted = q->known = true;
}

/* How much of question k's text a message repeats, per mille. */
static unsigned overlap(const struct ctx *x, const struct ck_group_msg *m, int k)
{
    if (k < 0 || k >= CK_GROUP_MAX_CONTENT)
        return 0;
    size_t words = ck_group__qwords(x->scanner, (size_t)k);
    return words == 0 ? 0 : (unsigned)(m->hits[k] * 1000u / words);
}

/* Does m share clearly more words with question k than with any other? */
static bool specific(const struct ctx *x, const struct ck_group_msg *m, size_t k)
{
    for (size_t o = 0; o < x->c->n_questions && o < CK_GROUP_MAX_CONTENT; o++)
        if (o != k && m->hits[o] + 2 > m->hits[k])
            return false;
    return true;
}

static void find_question_posts(struct ctx *x)
{
    const struct ck_group_conf *c = x->c;
    /* 1. our own posts, recorded in state.json */
    for (size_t k = 0; k < c->n_questions; k++)
        mark_posted(x, &c->questions[k]);
    /* 2. a facilitator's post repeating the run sheet's words: the first
     * post, re-posts and restatements alike */
    for (size_t i = 0; i < x->n; i++) {
        struct ck_group_msg *m = &x->m[i];
        if (x->st[i] != ST_OPEN || m->boost || !ck_group__is_facilitator(c, m->author))
            continue;
        for (size_t k = 0; k < c->n_questions && k < CK_GROUP_MAX_CONTENT; k++) {
            int num = c->questions[k].number;
            unsigned ov = overlap(x, m, (int)k);
            /* facilitators answer too ("Q2: I let the group choose"): an
             * answer never counts, however many words it shares */
            bool asks = (m->flags & CK_GROUP_F_QMARK) != 0 || ov >= 800;
            bool candidate = asks && !(m->flags & CK_GROUP_F_ANSWERISH);
            bool numbered = candidate && m->q_mention == num && ov >= 400 && m->hits[k] >= 2;
            /* An unnumbered restatement before the chat starts is a promotion
             * ("tonight: how we use networks for CPD"), not the question; and
             * it must repeat this question's words, not the chat's topic that
             * a welcome repeats too ("welcome to tonight's chat about
             * volunteers... introduce yourself"). */
            bool restated = candidate && (m->q_mention == 0 || m->q_mention == num) && ov >= 600 &&
                            m->hits[k] >= 3 && m->n_tags == 0 &&
                            (m->q_mention == num || m->created_ms >= c->start_ms) &&
                            (m->q_mention == num ||
                             (m->chatter != CK_GROUP_CHATTER_STRONG && specific(x, m, k)));
            if (numbered || restated) {
                mark_question(x, i, num);
                break;
            }
        }
    }
    /* 3. no match by words (no text in the session, or reworded live): the
     * facilitator's first "Qn" post that asks something, not "Q1 for me" */
    for (size_t i = 0; i < x->n; i++) {
        struct ck_group_msg *m = &x->m[i];
        int num = m->q_mention;
        if (num == 0 || x->q[num].posted || x->st[i] != ST_OPEN || m->boost ||
            !ck_group__is_facilitator(c, m->author))
            continue;
        /* "Q2 in a sec, ready?" announces it; "anyone else finding Q3 hard?" */
        if ((m->flags & CK_GROUP_F_QMARK) && !(m->flags & CK_GROUP_F_ANSWERISH) &&
            m->chatter != CK_GROUP_CHATTER_STRONG) {
            mark_question(x, i, num);
        }
    }
    /* times: the post, else the schedule */
    for (size_t k = 0; k < c->n_questions; k++) {
        struct qinfo *q = &x->q[c->questions[k].number];
        if (!q->posted && c->questions[k].at_ms != 0) {
            q->at = c->questions[k].at_ms;
            q->known = true;
        }
    }
    x->n_order = 0;
    for (int num = 1; num <= CK_GROUP_MAX_NUMBER; num++)
        if (x->q[num].exists && x->q[num].known)
            x->order[x->n_order++] = (uint8_t)num;
    /* insertion sort by time: a handful of questions */
    for (size_t a = 1; a < x->n_order; a++)
        for (size_t b = a; b > 0 && x->q[x->order[b]].at < x->q[x->order[b - 1]].at; b--) {
            uint8_t t = x->order[b];
            x->order[b] = x->order[b - 1];
            x->order[b - 1] = t;
        }
}

/* ---- own evidence: tags and chatter --------------------------------------- */

/* May a label for question num be trusted at time t? One for a question
 * already asked, or for the next one, is: its post may not have been
 * captured ("forgot to tag Q2") or came out late, and a person labelling an
 * answer knows which question they answer; but when its post is here and
 * on time, "A4" before it is a slip. Only a label for a question further ahead ("A5" while Q3 is open: a slip) or one the run sheet does not
 * have is doubted; then the thread or the clock decides. */
static bool asked(const struct ctx *x, int num, int64_t t)
{
    const struct qinfo *q = &x->q[num];
    if (!q->exists)
        return false;
    if (!q->known || q->at <= t)
        return true;
    /* the next question, when its post is missing or late */
    if (q->posted && !(q->sched != 0 && q->sched <= t))
        return false;
    int open = 0;
    for (size_t a = 0; a < x->n_order && x->q[x->order[a]].at <= t; a++)
        if (x->order[a] > open)
            open = x->order[a];
    return num <= open + 1;
}

static void own_evidence(struct ctx *x, size_t i)
{
    struct ck_group_msg *m = &x->m[i];
    if (m->boost) { /* counted, not transcribed */
        x->st[i] = ST_DONE;
        return;
    }
    /* A facilitator's "Q2 in a minute!" before Q2 is out announces it, with
     * no clock slack: their own post sets Q2's time. */
    int64_t slack = ck_group__is_facilitator(x->c, m->author) ? 0 : EARLY_TAG_MS;
    /* "Q1 coming up", "@x Q2 is up", "please use A1, A2": a number in an
     * announcement is not an answer tag */
    size_t n_tags = (m->flags & CK_GROUP_F_META) ? 0 : m->n_tags;
    for (size_t t = 0; t < n_tags; t++) {
        if (asked(x, m->tags[t], m->created_ms + slack))
            m->questions[m->n_questions++] = m->tags[t];
    }
    /* "@x ok so, Q2: ..." in a Q1 thread, "still thinking about Q3: ..."
     * after the chat: the number it names beats the thread and the clock */
    if (m->n_questions == 0 && (m->flags & CK_GROUP_F_QREF) &&
        m->chatter != CK_GROUP_CHATTER_STRONG && asked(x, m->q_mention, m->created_ms + slack))
        m->questions[m->n_questions++] = m->q_mention;
    if (m->n_questions > 0) {
        m->by = CK_BY_TAG;
        x->st[i] = ST_DONE;
        return;
    }
    /* A reply belongs to the conversation it is in, however short or
     * social ("same here", "ooh, which one?", "lol yes"): chatter rules are
     * for posts that start a conversation. Only talk about the chat itself
     * (announcements, "forgot to tag", comings and goings, thanks to the
     * host) stays out of a thread. A reply to a post not here (it dropped
     * the hashtag, or came before the window) starts a conversation as far
     * as we can see. */
    size_t p = ck_group__find_id(x, m->reply_to);
    bool meta = m->chatter == CK_GROUP_CHATTER_STRONG && !(m->flags & CK_GROUP_F_EMPTY);
    if (p != SIZE_MAX && p != i && !meta)
        return;
    if (m->chatter != CK_GROUP_CHATTER_NO)
        x->st[i] = ST_DONE;
}

/* ---- the clock and the words ---------------------------------------------- */

/* A post that says it goes back ("Re: talking to users: ...", "back to
 * ...") in the first FINISH_MS of a question continues its author's own
 * point from just before the question came out (within FINISH_MS), under
 * that point's question, unless its words belong to the open question more;
 * so does the same person's next post, while they are still on it. The
 * index of that post, else SIZE_MAX. */
#define FINISH_MS (4 * 60 * 1000)
#define FINISH_LOOK 200
static size_t finishing(const struct ctx *x, size_t i, int open)
{
    const struct ck_group_msg *m = &x->m[i];
    if (m->author == NULL || m->reply_to != NULL || ck_group__is_facilitator(x->c, m->author) ||
        m->created_ms - x->q[open].at > FINISH_MS)
        return SIZE_MAX;
    for (size_t k = i; k-- > 0 && i - k <= FINISH_LOOK;) {
        const struct ck_group_msg *o = &x->m[k];
        if (o->created_ms < m->created_ms - FINISH_MS)
            break;
        if (o->boost || o->author == NULL || strcmp(o->author, m->author) != 0)
            continue;
        bool went_back = o->created_ms >= x->q[open].at && o->back && o->by == CK_BY_REPLY;
        if (!m->back && !went_back)
            return SIZE_MAX;
        if (x->st[k] != ST_DONE || o->n_questions != 1 || o->questions[0] == open ||
            (o->created_ms >= x->q[open].at && !went_back) || o->by == CK_BY_QUESTION ||
            o->chatter != CK_GROUP_CHATTER_NO)
            return SIZE_MAX;
        int prev = o->questions[0], hp = 0, ho = 0;
        for (size_t q = 0; q < x->c->n_questions && q < CK_GROUP_MAX_CONTENT; q++) {
            hp += x->c->questions[q].number == prev ? m->hits[q] : 0;
            ho += x->c->questions[q].number == open ? m->hits[q] : 0;
        }
        return ho > hp ? SIZE_MAX : k;
    }
    return SIZE_MAX;
}

static void by_time(struct ctx *x, size_t i)
{
    struct ck_group_msg *m = &x->m[i];
    const struct ck_group_conf *c = x->c;
    x->st[i] = ST_DONE;
    if (x->n_order == 0 || (c->end_ms != 0 && m->created_ms > c->end_ms))
        return;
    int open = 0;
    for (size_t a = 0; a < x->n_order && x->q[x->order[a]].at <= m->created_ms; a++)
        open = x->order[a];
    if (open == 0)
        return; /* before the first question: welcome and introductions */
    if (m->chatter != CK_GROUP_CHATTER_NO)
        return;
    /* Words decide only with a clear margin over the open question, and only
     * for a question already asked: numbers and threads failed, so this is
     * the weakest evidence we record. */
    int best = 0, best_hits = 0, open_hits = 0;
    for (size_t k = 0; k < c->n_questions && k < CK_GROUP_MAX_CONTENT; k++) {
        int num = c->questions[k].number;
        int h = m->hits[k];
        if (num == open)
            open_hits = h;
        else if (h > best_hits && x->q[num].known && x->q[num].at <= m->created_ms) {
            best = num;
            best_hits = h;
        }
    }
    if (best != 0 && best_hits >= 2 && best_hits >= open_hits + 2) {
        set_one(m, best, CK_BY_CONTENT);
        return;
    }
    size_t k = finishing(x, i, open);
    if (k != SIZE_MAX) {
        memcpy(m->questions, x->m[k].questions, sizeof m->questions);
        m->n_questions = x->m[k].n_questions;
        m->by = CK_BY_REPLY;
        return;
    }
    set_one(m, open, CK_BY_TIME);
}

/* A later part ("2/2") continues its author's post before it, if that came
 * within CONT_MS: the index of that post, else SIZE_MAX. */
#define CONT_MS (10 * 60 * 1000)
#define CONT_LOOK 500
static size_t continued(const struct ctx *x, size_t j)
{
    const struct ck_group_msg *m = &x->m[j];
    if (!(m->flags & CK_GROUP_F_CONT) || m->author == NULL)
        return SIZE_MAX;
    /* at most CONT_LOOK messages back: bounded work in a flood */
    for (size_t k = j; k-- > 0 && j - k <= CONT_LOOK;) {
        const struct ck_group_msg *o = &x->m[k];
        if (o->created_ms < m->created_ms - CONT_MS)
            break;
        if (!o->boost && o->author != NULL && strcmp(o->author, m->author) == 0)
            return k;
    }
    return SIZE_MAX;
}

/* Walks up the reply chain to the first decided message (or one with no
 * parent here, decided by the clock), then hands its questions down. The
 * parent may sit later in the array when clocks disagree; a cycle (bad data)
 * is cut where it closes. stack: n slots. */
static void resolve(struct ctx *x, size_t i, size_t *stack)
{
    size_t depth = 0, j = i;
    while (x->st[j] == ST_OPEN) {
        size_t p = ck_group__find_id(x, x->m[j].reply_to);
        if (p == SIZE_MAX || p == j || x->st[p] == ST_STACK) {
            size_t c = continued(x, j);
            if (c != SIZE_MAX && x->st[c] == ST_DONE && x->m[c].n_questions > 0) {
                memcpy(x->m[j].questions, x->m[c].questions, sizeof x->m[j].questions);
                x->m[j].n_questions = x->m[c].n_questions;
                x->m[j].by = CK_BY_REPLY;
                x->st[j] = ST_DONE;
            } else {
                by_time(x, j);
            }
            break;
        }
        x->st[j] = ST_STACK;
        stack[depth++] = j;
        j = p;
    }
    /* Hand the questions down the chain. A thread with no question can
     * still turn into an answer: a reply there with something to say is
     * filed as a top-level post would be, and its own replies follow it;
     * but a direct reply to a greeting, welcome or introduction is one of
     * the introductions ("Bob, school librarian"). */
    const struct ck_group_msg *parent = &x->m[j];
    while (depth > 0) {
        size_t k = stack[--depth];
        struct ck_group_msg *m = &x->m[k];
        bool to_greeting = parent->chatter != CK_GROUP_CHATTER_NO && parent->q_mention == 0 &&
                           ck_group__find_id(x, parent->reply_to) == SIZE_MAX;
        if (parent->n_questions == 0 && m->chatter == CK_GROUP_CHATTER_NO && !to_greeting) {
            by_time(x, k);
        } else {
            memcpy(m->questions, parent->questions, sizeof m->questions);
            m->n_questions = parent->n_questions;
            m->by = parent->n_questions > 0 ? CK_BY_REPLY : CK_BY_NONE;
            x->st[k] = ST_DONE;
        }
        parent = m;
    }
}

int ck_group_assign(const struct ck_group_conf *c, struct ck_group_msg *msgs, size_t n,
                    const json_t *overrides, struct ck_error *err)
{
    if (overrides != NULL) {
        int rc = ck_group__check_overrides(overrides, err);
        if (rc < 0)
            return rc;
    }
    struct ctx *x = calloc(1, sizeof *x);
    if (x == NULL)
        return ck_error_set(err, CK_ENOMEM, "grouping: out of memory");
    x->c = c;
    x->m = msgs;
    x->n = n;
    int rc = ck_group_scanner_create(c, &x->scanner, err);
    if (rc < 0)
        goto out;
    for (size_t k = 0; k < c->n_questions; k++) {
        struct qinfo *q = &x->q[c->questions[k].number];
        q->exists = true;
        q->k = (int)k;
        q->sched = c->questions[k].at_ms;
    }
    x->st = calloc(n + 1, 1);
    size_t *stack = calloc(n + 1, sizeof *stack);
    if (x->st == NULL || stack == NULL || index_ids(x) < 0) {
        free(stack);
        rc = ck_error_set(err, CK_ENOMEM, "grouping: out of memory for %zu messages", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        msgs[i].n_questions = 0;
        msgs[i].by = CK_BY_NONE;
        msgs[i].hidden = false;
    }
    /* posted ids first, so an override can never move our own question posts */
    for (size_t k = 0; k < c->n_questions; k++)
        mark_posted(x, &c->questions[k]);
    if (overrides != NULL)
        ck_group__apply_overrides(x, overrides);
    find_question_posts(x);
    if (ck_group__mark_spam(x) < 0) {
        free(stack);
        rc = ck_error_set(err, CK_ENOMEM, "grouping: out of memory for %zu messages", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (x->st[i] == ST_OPEN)
            own_evidence(x, i);
    for (size_t i = 0; i < n; i++)
        if (x->st[i] == ST_OPEN)
            resolve(x, i, stack);
    free(stack);
    rc = 0;
out:
    ck_group_scanner_destroy(x->scanner);
    free(x->st);
    free(x->slot);
    free(x);
    return rc;
}
