/* The compact model behind every output (see model.h): one pass over an mmap
 * of messages.jsonl, or the archive's records through a ck_record_source.
 *
 * Ids are opaque strings, and holding a million of them would cost more than
 * the rest of the model, so replies are linked through a 64-bit hash of the id
 * instead. Two distinct ids colliding in 64 bits within one chat is
 * vanishingly unlikely (~1e-8 for a million messages) and would only misplace
 * one reply in the transcript.
 *
 * The map's pages count towards RSS once touched, so every 64 MB read we tell
 * the kernel to drop them (they stay in the page cache, so re-reading is cheap):
 * a 1 GB messages.jsonl then costs 64 MB of RSS, not 1 GB. */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "chatkeeper/text.h"
#include "chatkeeper/timeutil.h"

#define DROP_EVERY (4u << 20) /* bytes of pages touched before they are dropped again */

const char *ck_rjson_str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v != NULL ? v : "";
}

/* ---- parsing ---- */

void ck_rmodel_counts(const struct ck_rmodel *m, char *buf, size_t n)
{
    size_t messages = m->n - m->boosts; /* every other message has an author */
    snprintf(buf, n, "%lu message%s from %lu %s, and %lu boost%s", (unsigned long)messages,
             messages == 1 ? "" : "s", (unsigned long)m->nauth, m->nauth == 1 ? "person" : "people",
             (unsigned long)m->boosts, m->boosts == 1 ? "" : "s");
}

json_t *ck_rjson_parse_line(const char *line, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, 0, &je);
    if (j == NULL && json_error_code(&je) == json_error_invalid_utf8) {
        char *clean = ck_utf8_sanitize(line, len);
        if (clean != NULL)
            j = json_loads(clean, 0, &je);
        free(clean);
    }
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static void drop_pages(struct ck_rmodel *m, size_t len)
{
    m->bytes_since_drop += len;
    if (m->bytes_since_drop < DROP_EVERY || m->size == 0)
        return;
    m->bytes_since_drop = 0;
    madvise((void *)m->data, m->size, MADV_DONTNEED);
}

int ck_rmodel_get(struct ck_rmodel *m, uint32_t i, struct ck_rrec *out)
{
    /* The transcripts read one group at a time, so a line here is usually on
     * a page nothing else read yet: count the page, not just the line. */
    drop_pages(m, m->msgs[i].len + 4096);
    out->json = NULL;
    if (m->src != NULL)
        return m->src->get(m->src->ctx, (size_t)m->msgs[i].off, &out->r, NULL);
    out->json = ck_rjson_parse_line(m->data + m->msgs[i].off, m->msgs[i].len);
    if (out->json == NULL || ck_record_from_json(out->json, &out->r) != 0) {
        ck_rrec_release(out);
        return CK_ENOMEM;
    }
    return 0;
}

void ck_rrec_release(struct ck_rrec *rec)
{
    json_decref(rec->json);
    rec->json = NULL;
}

/* ---- tables ---- */

static int id_add(struct ck_rmodel *m, uint64_t h, uint32_t idx)
{
    if ((m->n + 1) * 2 > m->id_cap) {
        size_t cap = m->id_cap ? m->id_cap * 2 : 1024;
        struct ck_rid_slot *ns = calloc(cap, sizeof *ns);
        if (ns == NULL)
            return CK_ENOMEM;
        for (size_t i = 0; i < m->id_cap; i++) {
            if (m->id_slots[i].h == 0)
                continue;
            size_t j = m->id_slots[i].h & (cap - 1);
            while (ns[j].h != 0)
                j = (j + 1) & (cap - 1);
            ns[j] = m->id_slots[i];
        }
        free(m->id_slots);
        m->id_slots = ns;
        m->id_cap = cap;
    }
    size_t j = h & (m->id_cap - 1);
    while (m->id_slots[j].h != 0) {
        if (m->id_slots[j].h == h)
            return 0; /* a duplicate id: the first one wins */
        j = (j + 1) & (m->id_cap - 1);
    }
    m->id_slots[j].h = h;
    m->id_slots[j].idx = idx;
    return 0;
}

static uint32_t id_find(const struct ck_rmodel *m, uint64_t h)
{
    if (m->id_cap == 0)
        return CK_RNONE;
    size_t j = h & (m->id_cap - 1);
    while (m->id_slots[j].h != 0) {
        if (m->id_slots[j].h == h)
            return m->id_slots[j].idx;
        j = (j + 1) & (m->id_cap - 1);
    }
    return CK_RNONE;
}

static int author_intern(struct ck_rmodel *m, const char *handle, uint32_t *out)
{
    if ((m->nauth + 1) * 2 > m->auth_cap) {
        size_t cap = m->auth_cap ? m->auth_cap * 2 : 256;
        uint32_t *ns = calloc(cap, sizeof *ns);
        if (ns == NULL)
            return CK_ENOMEM;
        for (size_t i = 0; i < m->nauth; i++) {
            const char *h = m->authors[i].handle;
            size_t j = ck_rhash(h, strlen(h), true) & (cap - 1);
            while (ns[j] != 0)
                j = (j + 1) & (cap - 1);
            ns[j] = (uint32_t)i + 1;
        }
        free(m->auth_slots);
        m->auth_slots = ns;
        m->auth_cap = cap;
    }
    /* Handles compare without case: Mastodon treats them so. */
    size_t j = ck_rhash(handle, strlen(handle), true) & (m->auth_cap - 1);
    while (m->auth_slots[j] != 0) {
        uint32_t a = m->auth_slots[j] - 1;
        if (strcasecmp(m->authors[a].handle, handle) == 0) {
            *out = a;
            return 0;
        }
        j = (j + 1) & (m->auth_cap - 1);
    }
    if (m->nauth == m->capauth) {
        size_t cap = m->capauth ? m->capauth * 2 : 64;
        struct ck_rauthor *na = realloc(m->authors, cap * sizeof *na);
        if (na == NULL)
            return CK_ENOMEM;
        m->authors = na;
        m->capauth = cap;
    }
    char *dup = strdup(handle);
    if (dup == NULL)
        return CK_ENOMEM;
    m->authors[m->nauth] = (struct ck_rauthor){.handle = dup};
    m->auth_slots[j] = (uint32_t)m->nauth + 1;
    *out = (uint32_t)m->nauth++;
    return 0;
}

static int member_add(struct ck_rmodel *m, uint32_t msg, uint32_t q)
{
    if (m->nmem == m->capmem) {
        size_t cap = m->capmem ? m->capmem * 2 : 1024;
        struct ck_rmember *nm = realloc(m->members, cap * sizeof *nm);
        if (nm == NULL)
            return CK_ENOMEM;
        m->members = nm;
        m->capmem = cap;
    }
    m->members[m->nmem++] = (struct ck_rmember){.msg = msg, .q = q};
    return 0;
}

/* ---- one line ---- */

static uint32_t count32(int64_t v)
{
    if (v < 0) /* negative, or CK_RECORD_NO_COUNT */
        return 0;
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int take(struct ck_rmodel *m, const struct ck_record *r, size_t off, size_t len,
                struct ck_sink *csv, struct ck_writeup_digest *digest)
{
    if (ck_record_is_spam(r)) {
        if (csv != NULL)
            ck_rcsv_row(m, csv, r);
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        struct ck_rmsg *nm = realloc(m->msgs, cap * sizeof *nm);
        if (nm == NULL)
            return CK_ENOMEM;
        m->msgs = nm;
        m->cap = cap;
    }
    uint32_t idx = (uint32_t)m->n;
    struct ck_rmsg *rm = &m->msgs[idx];
    *rm = (struct ck_rmsg){.off = off,
                           .len = (uint32_t)len,
                           .created_ms = r->created_ms,
                           .author = CK_RNONE,
                           .parent = CK_RNONE,
                           .likes = count32(r->likes),
                           .boosts = count32(r->boosts)};
    if (r->reply_to != NULL && r->reply_to[0] != '\0') {
        rm->flags |= CK_RM_REPLY;
        rm->reply_h = ck_rhash(r->reply_to, strlen(r->reply_to), false);
    }
    int rc = id_add(m, ck_rhash(r->id, strlen(r->id), false), idx);
    if (rc != 0)
        return rc;
    m->n++;
    if (csv != NULL)
        ck_rcsv_row(m, csv, r);
    if (digest != NULL && ck_writeup_digest_add_record(digest, r) != 0)
        return CK_ENOMEM;
    if ((rc = ck_rlinks_add(m, idx, r)) != 0)
        return rc;
    if (r->boost_of != NULL && r->boost_of[0] != '\0') {
        rm->flags |= CK_RM_BOOST;
        m->boosts++;
        return 0;
    }
    if (r->assigned_by != NULL && strcmp(r->assigned_by, "question") == 0)
        rm->flags |= CK_RM_QPOST;
    rc = author_intern(m, r->handle, &rm->author);
    if (rc != 0)
        return rc;
    m->authors[rm->author].messages++;

    uint32_t seen[CK_RECORD_MAX_QUESTIONS];
    size_t nseen = 0;
    for (size_t k = 0; k < r->n_questions; k++) {
        int64_t q = r->questions[k];
        if (q < 1 || q > CK_RENDER_MAX_QUESTION)
            continue;
        bool dup = false;
        for (size_t d = 0; d < nseen; d++)
            dup = dup || seen[d] == (uint32_t)q;
        if (dup)
            continue;
        seen[nseen++] = (uint32_t)q;
        if ((rc = member_add(m, idx, (uint32_t)q)) != 0)
            return rc;
        if ((size_t)q >= m->ngroups)
            m->ngroups = (size_t)q + 1;
    }
    if (nseen == 0 && (rc = member_add(m, idx, 0)) != 0)
        return rc;

    if (r->created_ms >= m->bin0_ms && m->nbins > 0) {
        uint64_t b = (uint64_t)(r->created_ms - m->bin0_ms) / (uint64_t)m->bin_ms;
        if (b < m->nbins)
            m->bins[b]++;
    }
    ck_rscan_text(&m->links, &m->tags, m->s->hashtag, r->text, strlen(r->text));
    return 0;
}

/* ---- groups ---- */

/* Keep the three highest values; on a tie the earlier message stays ahead. */
static void top_insert(struct ck_rtop *t, const struct ck_rmsg *msgs, uint32_t idx, bool likes)
{
    uint32_t v = likes ? msgs[idx].likes : msgs[idx].boosts;
    if (v == 0)
        return;
    uint32_t k = t->n < 3 ? t->n : 3;
    while (k > 0) {
        const struct ck_rmsg *o = &msgs[t->msg[k - 1]];
        if ((likes ? o->likes : o->boosts) >= v)
            break;
        if (k < 3)
            t->msg[k] = t->msg[k - 1];
        k--;
    }
    if (k < 3) {
        t->msg[k] = idx;
        if (t->n < 3)
            t->n++;
    }
}

static void group_stats(struct ck_rmodel *m, struct ck_rgroup *g)
{
    for (size_t k = g->first; k < g->first + g->count; k++) {
        uint32_t idx = m->members[k].msg;
        const struct ck_rmsg *rm = &m->msgs[idx];
        if (g->number > 0 && (rm->flags & CK_RM_QPOST))
            continue;
        g->answers++;
        struct ck_rauthor *a = &m->authors[rm->author];
        if (a->mark != (uint32_t)g->number + 1) {
            a->mark = (uint32_t)g->number + 1;
            g->people++;
        }
        if (g->first_answer_ms < 0 && g->asked_known && rm->created_ms >= g->asked_ms)
            g->first_answer_ms = rm->created_ms;
        top_insert(&g->liked, m->msgs, idx, true);
        top_insert(&g->boosted, m->msgs, idx, false);
    }
}

static int build_groups(struct ck_rmodel *m)
{
    if (m->ngroups < m->s->n_questions + 1)
        m->ngroups = m->s->n_questions + 1;
    for (size_t i = 0; i < m->s->n_questions; i++)
        if ((size_t)m->s->questions[i].number >= m->ngroups)
            m->ngroups = (size_t)m->s->questions[i].number + 1;
    m->groups = calloc(m->ngroups, sizeof *m->groups);
    struct ck_rmember *sorted = malloc((m->nmem ? m->nmem : 1) * sizeof *sorted);
    if (m->groups == NULL || sorted == NULL) {
        free(sorted);
        return CK_ENOMEM;
    }
    /* Counting sort on q keeps each group in message (= time) order. */
    for (size_t i = 0; i < m->nmem; i++)
        m->groups[m->members[i].q].count++;
    size_t at = 0;
    for (size_t g = 0; g < m->ngroups; g++) {
        m->groups[g].first = at;
        at += m->groups[g].count;
        m->groups[g].count = 0;
    }
    for (size_t i = 0; i < m->nmem; i++) {
        struct ck_rgroup *g = &m->groups[m->members[i].q];
        sorted[g->first + g->count++] = m->members[i];
    }
    free(m->members);
    m->members = sorted;

    const json_t *steps = json_object_get(m->state, "steps");
    for (size_t q = 0; q < m->ngroups; q++) {
        struct ck_rgroup *g = &m->groups[q];
        g->number = (int)q;
        g->post = CK_RNONE;
        g->first_answer_ms = -1;
        for (size_t i = 0; i < m->s->n_questions; i++) {
            if ((size_t)m->s->questions[i].number == q) {
                g->text = m->s->questions[i].text;
                g->asked_ms = m->s->start_ms + m->s->questions[i].at_ms;
                g->asked_known = true;
            }
        }
        char key[24];
        snprintf(key, sizeof key, "Q%zu", q);
        const json_t *step = q > 0 ? json_object_get(steps, key) : NULL;
        int64_t posted;
        if (step != NULL && ck_time_parse_rfc3339(ck_rjson_str(step, "posted_at"), &posted) == 0) {
            g->asked_ms = posted;
            g->asked_known = true;
        }
        if (step != NULL && ck_url_safe(ck_rjson_str(step, "url")))
            g->post_url = ck_rjson_str(step, "url");
        for (size_t k = g->first; k < g->first + g->count && q > 0; k++) {
            const struct ck_rmsg *rm = &m->msgs[m->members[k].msg];
            if ((rm->flags & CK_RM_QPOST) && g->post == CK_RNONE) {
                g->post = m->members[k].msg;
                g->asked_ms = rm->created_ms;
                g->asked_known = true;
            }
        }
        group_stats(m, g);
    }
    return 0;
}

/* ---- load ---- */

/* Map fd (the caller's: it stays open) read-only into m->data. */
static int map_fd(struct ck_rmodel *m, int fd, const char *path, struct ck_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return ck_error_set(err, -errno, "%s: %s", path, strerror(errno));
    m->size = (size_t)st.st_size;
    if (m->size == 0)
        return 0;
    void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        int rc = -errno;
        m->size = 0;
        return ck_error_set(err, rc, "%s: %s", path, strerror(-rc));
    }
    m->data = p;
    madvise(p, m->size, MADV_SEQUENTIAL);
    return 0;
}

/* The lines of messages.jsonl; corrupt ones are counted and skipped. */
static int load_lines(struct ck_rmodel *m, const char *path, struct ck_sink *csv,
                      struct ck_writeup_digest *digest, struct ck_error *err)
{
    size_t off = 0;
    while (off < m->size) {
        const char *nl = memchr(m->data + off, '\n', m->size - off);
        size_t len = nl != NULL ? (size_t)(nl - (m->data + off)) : m->size - off;
        m->lines++;
        size_t t = 0;
        while (t < len && (m->data[off + t] == ' ' || m->data[off + t] == '\r'))
            t++;
        if (t < len) {
            json_t *j = len <= UINT32_MAX ? ck_rjson_parse_line(m->data + off, len) : NULL;
            struct ck_record r;
            int rc = j != NULL ? ck_record_from_json(j, &r) : CK_EPARSE;
            if (rc == 0)
                rc = take(m, &r, off, len, csv, digest);
            json_decref(j);
            if (rc == CK_EPARSE) {
                m->corrupt++;
                ck_warn("render: %s line %zu is not a message; skipped", path, m->lines);
            } else if (rc != 0) {
                return ck_error_set(err, rc, "%s", ck_strerror(rc));
            }
        }
        drop_pages(m, len + 1);
        off += len + 1;
    }
    return 0;
}

/* The archive's records. */
static int load_records(struct ck_rmodel *m, struct ck_sink *csv, struct ck_writeup_digest *digest,
                        struct ck_error *err)
{
    for (size_t i = 0; i < m->src->n; i++) {
        struct ck_record r;
        int rc = m->src->get(m->src->ctx, i, &r, err);
        if (rc != 0)
            return rc;
        m->lines++;
        if ((rc = take(m, &r, i, 0, csv, digest)) != 0)
            return ck_error_set(err, rc, "%s", ck_strerror(rc));
    }
    return 0;
}

int ck_rmodel_load(struct ck_rmodel *m, const char *dir, const struct ck_session *s,
                   const struct ck_record_source *records, struct ck_sink *csv,
                   struct ck_writeup_digest *digest, struct ck_error *err)
{
    memset(m, 0, sizeof *m);
    m->s = s;
    m->dir = dir;
    m->zone_bucket = INT64_MIN;
    char path[4096];
    snprintf(path, sizeof path, "%s/state.json", dir);
    /* state.json only adds the posted time and link of a question; a corrupt
     * one must not cost the reader the whole archive. */
    int rc = ck_state_load(path, &m->state, NULL);
    if (rc == CK_ECORRUPT) {
        ck_warn("render: %s is corrupt; question posts are taken from messages only", path);
        m->state = json_object();
        rc = m->state != NULL ? 0 : CK_ENOMEM;
    }
    if (rc != 0)
        return ck_error_set(err, rc, "%s: %s", path, ck_strerror(rc));

    m->opt_out = ck_ropt_out_load(dir);
    int64_t from = s->start_ms - s->lead_ms;
    int64_t to = s->start_ms + s->duration_ms + s->grace_ms;
    int64_t minutes = to > from ? (to - from + 59999) / 60000 : 1;
    m->bin_ms = 60000 * (minutes > 720 ? (minutes + 719) / 720 : 1);
    m->bin0_ms = from;
    m->nbins = (size_t)((to - from + m->bin_ms - 1) / m->bin_ms);
    if (m->nbins == 0)
        m->nbins = 1;
    m->bins = calloc(m->nbins, sizeof *m->bins);
    if (m->bins == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");

    if (csv != NULL)
        ck_rcsv_header(csv);
    if (records != NULL) {
        m->src = records;
        rc = load_records(m, csv, digest, err);
    } else {
        snprintf(path, sizeof path, "%s/messages.jsonl", dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return ck_error_set(err, errno == ENOENT ? CK_ENOTFOUND : -errno, "%s: %s", path,
                                strerror(errno));
        rc = map_fd(m, fd, path, err);
        close(fd);
        if (rc == 0)
            rc = load_lines(m, path, csv, digest, err);
    }
    if (rc != 0)
        return rc;
    if (m->size > 0)
        madvise((void *)m->data, m->size, MADV_RANDOM);

    for (size_t i = 0; i < m->n; i++) {
        struct ck_rmsg *rm = &m->msgs[i];
        if (rm->reply_h != 0) {
            uint32_t p = id_find(m, rm->reply_h);
            rm->parent = p != (uint32_t)i ? p : CK_RNONE;
        }
    }
    ck_rlinks_resolve(m, id_find);
    /* Ids were only needed to link replies, quotes and boosts. */
    free(m->id_slots);
    m->id_slots = NULL;
    m->id_cap = 0;
    rc = build_groups(m);
    if (rc != 0)
        return ck_error_set(err, rc, "%s", ck_strerror(rc));
    return 0;
}

void ck_rmodel_finish(struct ck_rmodel *m)
{
    if (m->data != NULL)
        munmap((void *)m->data, m->size);
    json_decref(m->state);
    free(m->msgs);
    free(m->members);
    for (size_t i = 0; i < m->nauth; i++)
        free(m->authors[i].handle);
    free(m->authors);
    free(m->auth_slots);
    free(m->id_slots);
    free(m->groups);
    free(m->quote_links);
    json_decref(m->opt_out);
    free(m->boost_links);
    free(m->bins);
    ck_rcount_finish(&m->links);
    ck_rcount_finish(&m->tags);
    memset(m, 0, sizeof *m);
}

bool ck_rgroup_post(struct ck_rmodel *m, const struct ck_rgroup *g, struct ck_rrec *out)
{
    return g->post != CK_RNONE && ck_rmodel_get(m, g->post, out) == 0;
}
