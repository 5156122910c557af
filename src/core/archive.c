/* chatkeeper archive: session.json + journal.jsonl -> messages.jsonl.
 *
 * The journal holds every object as fetched, duplicates and edits included
 * (overlap re-reads, the closing sweep, restarts). Here each entry is
 * normalised by its platform, deduplicated on (platform, id), sorted oldest
 * first and written atomically. Nothing depends on hash order, the clock or
 * the environment, so the same inputs give the same bytes.
 *
 * Built for big journals (a million statuses): only normalised messages are
 * kept (each raw object is freed as soon as its line is read), dedupe is an
 * open-addressing table of indexes, and each message is freed as soon as its
 * line is rendered, so the output buffer grows as the messages shrink. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/log.h"
#include "chatkeeper/message.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

struct build {
    const char *default_platform; /* session.json's platform.type */
    struct ck_message *msgs;
    size_t n, cap;
    size_t *slots; /* index + 1 into msgs, 0 = empty; size is a power of two */
    size_t n_slots;
    size_t lines, skipped;
    struct ck_error *err;
};

/* FNV-1a over platform, a separator and id. */
static uint64_t key_hash(const char *platform, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)platform; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL; /* 0xFF never occurs in UTF-8 */
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* The slot holding (platform, id), or the empty slot where it would go. */
static size_t *slot_for(struct build *b, const char *platform, const char *id)
{
    size_t mask = b->n_slots - 1;
    for (size_t i = (size_t)key_hash(platform, id) & mask;; i = (i + 1) & mask) {
        size_t s = b->slots[i];
        if (s == 0)
            return &b->slots[i];
        const struct ck_message *m = &b->msgs[s - 1];
        if (strcmp(m->id, id) == 0 && strcmp(m->platform, platform) == 0)
            return &b->slots[i];
    }
}

/* Keep the table at most half full so probes stay short. */
static int grow_table(struct build *b)
{
    if ((b->n + 1) * 2 <= b->n_slots)
        return 0;
    size_t n_slots = b->n_slots != 0 ? b->n_slots * 2 : 1024;
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return CK_ENOMEM;
    free(b->slots);
    b->slots = slots;
    b->n_slots = n_slots;
    for (size_t i = 0; i < b->n; i++)
        *slot_for(b, b->msgs[i].platform, b->msgs[i].id) = i + 1;
    return 0;
}

/* edited_at as ms, or INT64_MIN for a never-edited (or unreadable) version. */
static int64_t version_ms(const struct ck_message *m)
{
    int64_t ms;
    if (m->edited_at == NULL || ck_time_parse_rfc3339(m->edited_at, &ms) != 0)
        return INT64_MIN;
    return ms;
}

/* Add m (stolen) to the set. A later line replaces an earlier one (it is a
 * later fetch, e.g. after an edit) unless it is visibly an older version:
 * a stale copy must not undo an edit we already have. */
static int add_message(struct build *b, struct ck_message *m)
{
    int rc = grow_table(b);
    if (rc != 0) {
        ck_message_finish(m);
        return rc;
    }
    size_t *slot = slot_for(b, m->platform, m->id);
    if (*slot != 0) {
        struct ck_message *old = &b->msgs[*slot - 1];
        if (version_ms(m) >= version_ms(old)) {
            ck_message_finish(old);
            *old = *m;
        } else {
            ck_message_finish(m);
        }
        return 0;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap != 0 ? b->cap * 2 : 256;
        struct ck_message *msgs = realloc(b->msgs, cap * sizeof *msgs);
        if (msgs == NULL) {
            ck_message_finish(m);
            return CK_ENOMEM;
        }
        b->msgs = msgs;
        b->cap = cap;
    }
    b->msgs[b->n] = *m;
    *slot = ++b->n;
    return 0;
}

static int on_line(size_t lineno, const json_t *entry, void *arg)
{
    struct build *b = arg;
    b->lines++;
    const json_t *pv = json_object_get(entry, "platform");
    const char *pname = pv == NULL ? b->default_platform : json_string_value(pv);
    const struct ck_platform_ops *ops = ck_platform_find(pname);
    if (ops == NULL) {
        ck_warn("archive: journal.jsonl:%zu: skipped: unknown platform \"%s\"", lineno,
                pname != NULL ? pname : "(not a string)");
        b->skipped++;
        return 0;
    }
    struct ck_message m;
    struct ck_error nerr = {0};
    int rc = ops->normalise(json_object_get(entry, "object"), &m, &nerr);
    if (rc == CK_ENOMEM)
        return ck_error_set(b->err, rc, "archive: out of memory");
    if (rc != 0) {
        ck_warn("archive: journal.jsonl:%zu: skipped: %s", lineno,
                nerr.code != 0 ? nerr.msg : ck_strerror(rc));
        b->skipped++;
        return 0;
    }
    rc = add_message(b, &m);
    return rc != 0 ? ck_error_set(b->err, rc, "archive: out of memory") : 0;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* session.json's platform.type, the platform for journal lines that name none.
 * Read directly rather than through ck_session_load: rebuilding an archive
 * must not depend on what a live run needs (a token, a future start time). */
static int read_platform_type(const char *path, char **out, struct ck_error *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        struct stat st;
        if (stat(path, &st) != 0 && errno == ENOENT)
            return ck_error_set(err, CK_ENOTFOUND, "%s: no such file", path);
        return ck_error_set(err, CK_ECONFIG, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                            jerr.text);
    }
    const char *type =
        json_string_value(json_object_get(json_object_get(root, "platform"), "type"));
    *out = strdup(type != NULL ? type : "mastodon");
    json_decref(root);
    return *out != NULL ? 0 : ck_error_set(err, CK_ENOMEM, "archive: out of memory");
}

static int cmp_msg_ptr(const void *a, const void *b)
{
    return ck_message_cmp(*(const struct ck_message *const *)a,
                          *(const struct ck_message *const *)b);
}

static int cmp_author_ptr(const void *a, const void *b)
{
    const struct ck_message *x = *(const struct ck_message *const *)a;
    const struct ck_message *y = *(const struct ck_message *const *)b;
    int c = strcmp(x->platform, y->platform);
    return c != 0 ? c : strcmp(x->author.id, y->author.id);
}

static size_t count_people(struct ck_message **order, size_t n)
{
    if (n == 0)
        return 0;
    qsort(order, n, sizeof *order, cmp_author_ptr);
    size_t people = 1;
    for (size_t i = 1; i < n; i++)
        if (cmp_author_ptr(&order[i - 1], &order[i]) != 0)
            people++;
    return people;
}

/* Append m's record and a newline to *buf. */
static int render(const struct ck_message *m, char **buf, size_t *len, size_t *cap)
{
    json_t *rec = ck_message_to_json(m);
    if (rec == NULL)
        return CK_ENOMEM;
    for (;;) {
        size_t room = *cap - *len;
        size_t need = json_dumpb(rec, *buf + *len, room, JSON_COMPACT);
        if (need == 0) {
            json_decref(rec);
            return CK_ENOMEM;
        }
        if (need + 1 <= room) {
            *len += need;
            (*buf)[(*len)++] = '\n';
            break;
        }
        size_t ncap = *cap != 0 ? *cap : 1 << 16;
        while (ncap < *len + need + 1)
            ncap *= 2;
        char *grown = realloc(*buf, ncap);
        if (grown == NULL) {
            json_decref(rec);
            return CK_ENOMEM;
        }
        *buf = grown;
        *cap = ncap;
    }
    json_decref(rec);
    return 0;
}

int ck_archive_build(const char *dir, struct ck_archive_stats *stats, struct ck_error *err)
{
    struct ck_archive_stats st = {0};
    struct build b = {0};
    char *session_path = path_join(dir, "session.json");
    char *journal_path = path_join(dir, "journal.jsonl");
    char *out_path = path_join(dir, "messages.jsonl");
    char *platform = NULL, *buf = NULL;
    struct ck_message **order = NULL;
    size_t len = 0, cap = 0;
    int rc;
    if (session_path == NULL || journal_path == NULL || out_path == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        goto out;
    }
    rc = read_platform_type(session_path, &platform, err);
    if (rc != 0)
        goto out;
    /* The journal reader treats a missing file as empty (right for a run that
     * has not fetched yet); for the archive it means the wrong folder. */
    struct stat sb;
    if (stat(journal_path, &sb) != 0) {
        rc = ck_error_set(err, errno == ENOENT ? CK_ENOTFOUND : -errno, "%s: %s", journal_path,
                          strerror(errno));
        goto out;
    }
    b.default_platform = platform;
    b.err = err;
    rc = ck_journal_read(journal_path, on_line, &b, &st.corrupt_lines, err);
    if (rc != 0)
        goto out;
    st.journal_lines = b.lines + st.corrupt_lines;
    st.skipped_objects = b.skipped;

    order = malloc((b.n != 0 ? b.n : 1) * sizeof *order);
    if (order == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        goto out;
    }
    for (size_t i = 0; i < b.n; i++) {
        order[i] = &b.msgs[i];
        st.boosts += b.msgs[i].boost_of != NULL;
    }
    st.people = count_people(order, b.n);
    qsort(order, b.n, sizeof *order, cmp_msg_ptr);
    st.messages = b.n;
    for (size_t i = 0; i < b.n; i++) {
        rc = render(order[i], &buf, &len, &cap);
        if (rc != 0) {
            ck_error_set(err, rc, "archive: out of memory");
            goto out;
        }
        ck_message_finish(order[i]); /* its bytes are in buf now */
    }
    rc = ck_file_write_atomic(out_path, buf != NULL ? buf : "", len, err);
    if (rc != 0)
        goto out;
    if (stats != NULL)
        *stats = st;
out:
    for (size_t i = 0; i < b.n; i++)
        ck_message_finish(&b.msgs[i]); /* finish on a finished message is a no-op */
    free(b.msgs);
    free(b.slots);
    free(order);
    free(buf);
    free(platform);
    free(out_path);
    free(journal_path);
    free(session_path);
    return rc;
}
