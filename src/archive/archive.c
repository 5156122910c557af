/* chatkeeper archive: session.json + journal.jsonl -> messages.jsonl and
 * every output.
 *
 * The journal holds every object as fetched, duplicates and edits included
 * (overlap re-reads, the closing sweep, restarts), and sometimes statuses from
 * an earlier chat on the same hashtag (a catch-up page). Here each entry is
 * normalised by its platform, kept if it was created in the session's window
 * [start - lead, end + grace], deduplicated on (platform, uri) where the post
 * has a canonical uri (one post seen on two instances) and on (platform, id)
 * otherwise, sorted oldest
 * first, grouped under its questions and written atomically. Nothing depends
 * on hash order, the clock or the environment, so the same inputs give the
 * same bytes.
 *
 * Built for big journals (a million statuses, ~2 KB each) in little memory,
 * and to parse each line once: each message is normalised as soon as its line
 * is read and its record (record.h, binary) appended to an unlinked spill
 * file beside the output; memory holds only a 48-byte entry per message (sort
 * key, version, where its record lies) in a flat array, the ids in one arena
 * and an open-addressing table of indexes. The sorted records are then read
 * back from the spill (mapped, and dropped from our page tables as we go, so
 * they count against the page cache, not our RSS) twice: once to scan their
 * text for grouping, once to write messages.jsonl and the same records, in
 * order and grouped, for the renderers, which build every output and the
 * write-up from them without parsing anything again. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "chatkeeper/archive.h"

#include "archive_int.h"
#include "archive_table.h"
#include "chatkeeper/config.h"
#include "chatkeeper/group.h"
#include "chatkeeper/journal.h"
#include "chatkeeper/log.h"
#include "chatkeeper/message.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/record.h"
#include "chatkeeper/render.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/state.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/timeutil.h"

#define MAX_PLATFORMS 16

/* One canonical uri: its key first (table_slot reads it), the entry it is,
 * and what the kept version knows (to prefer the instance that knows most). */
struct uri_ent {
    struct ck_archive_key key;
    uint32_t entry;
    uint64_t id_hash; /* of the kept version's id: another id is another instance */
    long weight;      /* replies + boosts + likes of the kept version */
};

struct build {
    int64_t from_ms, to_ms; /* the window, inclusive */
    const char *default_platform;
    char *platforms[MAX_PLATFORMS]; /* owned names */
    size_t n_platforms;
    struct ck_sbuf ids;        /* message ids, one after another */
    struct ck_sbuf author_ids; /* apart: few, read on every message, they stay in cache */
    struct ck_archive_entry *msgs;
    size_t n, cap;
    struct table by_id;
    struct ck_archive_key *authors;
    size_t n_authors, authors_cap;
    struct table by_author;
    /* Messages that carry a canonical uri (message.h), by (platform, uri): a
     * post seen on two instances (each with its own id) is one message. */
    struct ck_sbuf uri_keys;
    struct uri_ent *uris;
    size_t n_uris, uris_cap;
    struct table by_uri;
    struct ck_archive_aliases aliases; /* the other ids of merged messages */
    FILE *spill;
    uint64_t spill_len;
    struct ck_sbuf rec; /* the record being encoded */
    size_t lines, skipped;
    struct ck_error *err;
    /* Originals a boost (or quote) in the window points at ("P:id", P the
     * platform index): kept though created before the window, so the boost
     * shows under its original instead of vanishing (a retweet of last
     * week's tweet). Their journal lines, found after the first read, are read
     * again in a second one, which only happens when there are any. */
    struct ck_strset boosted;
    uint64_t *rescue;
    size_t n_rescue;
    bool rescuing;
};

/* The index of the platform named name in b->platforms (added if new). */
static int platform_index(struct build *b, const char *name, uint8_t *out)
{
    for (size_t i = 0; i < b->n_platforms; i++) {
        if (strcmp(b->platforms[i], name) == 0) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    if (b->n_platforms == MAX_PLATFORMS)
        return CK_EINVAL;
    b->platforms[b->n_platforms] = strdup(name);
    if (b->platforms[b->n_platforms] == NULL)
        return CK_ENOMEM;
    *out = (uint8_t)b->n_platforms++;
    return 0;
}

/* The author's index, interned on first sight. */
static int author_index(struct build *b, uint8_t platform, const char *id, uint32_t *out)
{
    size_t len = strlen(id);
    if (len > 2 && id[0] == '@' && strchr(id + 1, '@') != NULL)
        platform |= 0x80; /* a fediverse handle (see author_key), never an id */
    if (table_reserve(&b->by_author, b->authors, sizeof *b->authors, b->n_authors) != 0)
        return CK_ENOMEM;
    uint64_t h = key_hash(platform, id, len);
    uint64_t *slot =
        table_slot(&b->by_author, b->authors, sizeof *b->authors, platform, id, len, h);
    if (*slot == 0) {
        struct ck_archive_key k = {.len = (uint32_t)len, .platform = platform};
        if (len > UINT32_MAX || arena_add(&b->author_ids, id, len, &k.off) != 0 ||
            reserve(&b->authors, &b->authors_cap, b->n_authors, sizeof *b->authors) != 0)
            return CK_ENOMEM;
        b->authors[b->n_authors] = k;
        *slot = SLOT_TAG(h) | ++b->n_authors;
    }
    *out = SLOT_INDEX(*slot);
    return 0;
}

/* ---- reading ---- */

/* Who wrote m, once per account: a fediverse account's id is its instance's
 * own (the same person has another id on every instance that saw them), its
 * handle "@user@domain" is not; the handle, lowercased, in buf. Any other
 * platform's author id is already global (a DID, a user id). */
static const char *author_key(const struct ck_message *m, char *buf, size_t n)
{
    const char *h = m->author.handle;
    size_t len = h != NULL ? strlen(h) : 0;
    if (len < 4 || len >= n || h[0] != '@' || strchr(h + 1, '@') == NULL)
        return m->author.id != NULL ? m->author.id : "";
    for (size_t i = 0; i <= len; i++)
        buf[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' : h[i]);
    return buf;
}

static long weight_of(const struct ck_message *m)
{
    long w = 0;
    const long c[] = {m->replies, m->boosts, m->likes};
    for (size_t i = 0; i < 3; i++)
        w += c[i] > 0 && c[i] < (1L << 40) ? c[i] : 0;
    return w;
}

/* edited_at as ms, or INT64_MIN for a never-edited (or unreadable) version. */
static int64_t version_ms(const struct ck_message *m)
{
    int64_t ms;
    if (m->edited_at == NULL || ck_time_parse_rfc3339(m->edited_at, &ms) != 0)
        return INT64_MIN;
    return ms;
}

/* "P:id" for the boosted set; false when id is too long to be one. */
static bool boost_key(uint8_t platform, const char *id, size_t len, char *out, size_t n)
{
    if (len + 5 > n)
        return false;
    int k = snprintf(out, n, "%u:", (unsigned)platform);
    memcpy(out + k, id, len);
    out[(size_t)k + len] = '\0';
    return true;
}

/* Fill e (all but its id) from m; in-window messages get their record
 * spilled, outside ones their journal line kept in rec_off instead. */
static int describe(struct build *b, const struct ck_message *m, uint8_t platform,
                    struct ck_archive_entry *e, size_t lineno)
{
    e->created_ms = m->created_ms;
    e->version_ms = version_ms(m);
    e->id.flags = (m->boost_of != NULL ? CK_ARCHIVE_F_BOOST : 0) |
                  (m->uri != NULL && m->uri[0] != '\0' ? CK_ARCHIVE_F_URI : 0);
    e->rec_off = 0;
    e->rec_len = 0;
    char akey[320];
    int rc = author_index(b, platform, author_key(m, akey, sizeof akey), &e->author);
    if (rc != 0)
        return rc;
    bool outside = m->created_ms < b->from_ms || m->created_ms > b->to_ms;
    if (outside)
        e->id.flags |= CK_ARCHIVE_F_OUTSIDE;
    if (outside && !b->rescuing) {
        e->rec_off = lineno;
        return 0;
    }
    /* A quoted post is kept the same way: a renderer shows it in the quote. */
    char key[512];
    const char *refs[] = {m->boost_of, m->quote_of};
    for (size_t i = 0; i < 2 && !outside; i++)
        if (refs[i] != NULL && boost_key(platform, refs[i], strlen(refs[i]), key, sizeof key) &&
            ck_strset_add(&b->boosted, key) < 0)
            return CK_ENOMEM;
    struct ck_record r;
    ck_record_from_message(m, &r);
    b->rec.len = 0;
    ck_record_encode(&r, &b->rec);
    if (b->rec.oom)
        return CK_ENOMEM;
    if (fwrite(b->rec.s, 1, b->rec.len, b->spill) != b->rec.len)
        return CK_EIO;
    e->rec_off = b->spill_len;
    e->rec_len = (uint32_t)b->rec.len;
    b->spill_len += b->rec.len;
    return 0;
}

/* The uri entry for (platform, m->uri), or NULL when m has none; *fresh
 * when it was added now (its entry still to be set). */
static int uri_lookup(struct build *b, uint8_t platform, const struct ck_message *m,
                      struct uri_ent **out, bool *fresh)
{
    *out = NULL;
    *fresh = false;
    if (m->uri == NULL || m->uri[0] == '\0')
        return 0;
    size_t len = strlen(m->uri);
    if (len > UINT32_MAX || table_reserve(&b->by_uri, b->uris, sizeof *b->uris, b->n_uris) != 0)
        return CK_ENOMEM;
    uint64_t h = key_hash(platform, m->uri, len);
    uint64_t *slot = table_slot(&b->by_uri, b->uris, sizeof *b->uris, platform, m->uri, len, h);
    if (*slot == 0) {
        struct uri_ent u = {.key = {.len = (uint32_t)len, .platform = platform}};
        if (arena_add(&b->uri_keys, m->uri, len, &u.key.off) != 0 ||
            reserve(&b->uris, &b->uris_cap, b->n_uris, sizeof *b->uris) != 0)
            return CK_ENOMEM;
        u.entry = UINT32_MAX;
        b->uris[b->n_uris] = u;
        *slot = SLOT_TAG(h) | ++b->n_uris;
        *fresh = true;
    }
    *out = &b->uris[SLOT_INDEX(*slot)];
    return 0;
}

/* Add m (borrowed). A later line replaces an earlier one (it is a later fetch,
 * e.g. after an edit) unless it is visibly an older version: a stale copy must
 * not undo an edit we already have. A post seen on another instance (the same
 * uri, another id) is the same message: of two copies of one version, the one
 * whose instance knows most (replies, boosts and likes) is kept. */
static int add_message(struct build *b, const struct ck_message *m, size_t lineno)
{
    uint8_t platform;
    int rc = platform_index(b, m->platform, &platform);
    if (rc == CK_EINVAL)
        return ck_error_set(b->err, rc, "archive: more than %d platforms", MAX_PLATFORMS);
    if (rc != 0)
        return rc;
    struct uri_ent *u;
    bool fresh;
    if (uri_lookup(b, platform, m, &u, &fresh) != 0)
        return CK_ENOMEM;
    size_t id_len = strlen(m->id);
    uint64_t id_hash = key_hash(0, m->id, id_len);
    if (table_reserve(&b->by_id, b->msgs, sizeof *b->msgs, b->n) != 0)
        return CK_ENOMEM;
    uint64_t h = key_hash(platform, m->id, id_len);
    uint64_t *slot = table_slot(&b->by_id, b->msgs, sizeof *b->msgs, platform, m->id, id_len, h);
    size_t at = u != NULL && !fresh ? u->entry : *slot != 0 ? SLOT_INDEX(*slot) : SIZE_MAX;
    /* The same id under another uri: two instances' ids that collide, not
     * one post (an entry without a uri is the same post, read without it). */
    bool collision =
        u != NULL && fresh && at != SIZE_MAX && (b->msgs[at].id.flags & CK_ARCHIVE_F_URI) != 0;
    if (collision)
        at = SIZE_MAX;
    if (at != SIZE_MAX) {
        struct ck_archive_entry *old = &b->msgs[at];
        if (u != NULL && !fresh && u->id_hash != id_hash &&
            ck_archive_alias_note(&b->aliases, platform, (uint32_t)at, b->ids.s + old->id.off,
                                  old->id.len, m->id) != 0)
            return CK_ENOMEM;
        int64_t v = version_ms(m);
        if (v < old->version_ms)
            return 0;
        /* another instance's copy of the same version: it wins if it knows
         * more; on a tie the smaller id hash, whatever order they came in */
        if (u != NULL && !fresh && v == old->version_ms && u->id_hash != id_hash &&
            (weight_of(m) < u->weight || (weight_of(m) == u->weight && id_hash > u->id_hash)))
            return 0;
        if (u != NULL) {
            u->entry = (uint32_t)at;
            u->id_hash = id_hash;
            u->weight = weight_of(m);
        }
        return describe(b, m, platform, old, lineno);
    }
    if (id_len > UINT32_MAX || reserve(&b->msgs, &b->cap, b->n, sizeof *b->msgs) != 0)
        return CK_ENOMEM;
    struct ck_archive_entry *e = &b->msgs[b->n];
    e->id.len = (uint32_t)id_len;
    e->id.platform = platform;
    rc = arena_add(&b->ids, m->id, id_len, &e->id.off);
    if (rc == 0)
        rc = describe(b, m, platform, e, lineno);
    if (rc != 0)
        return rc;
    if (u != NULL) {
        u->entry = (uint32_t)b->n;
        u->id_hash = id_hash;
        u->weight = weight_of(m);
    }
    b->n++;
    if (!collision) /* else the uri finds it; the id keeps its first post */
        *slot = SLOT_TAG(h) | b->n;
    return 0;
}

static int on_line(size_t lineno, const json_t *entry, void *arg)
{
    struct build *b = arg;
    b->lines++;
    const json_t *pv = json_object_get(entry, "platform");
    const char *pname = pv == NULL ? b->default_platform : json_string_value(pv);
    /* chatkeeper's own events (the console's controls): kept, never messages. */
    if (pname != NULL && strcmp(pname, "chatkeeper") == 0)
        return 0;
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
    rc = add_message(b, &m, lineno);
    ck_message_finish(&m);
    if (rc == CK_EINVAL)
        return rc; /* already described */
    if (rc == CK_EIO)
        return ck_error_set(b->err, rc, "archive: spill file: write: %s", strerror(errno));
    return rc != 0 ? ck_error_set(b->err, rc, "archive: out of memory") : 0;
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

/* The second read: only the lines of boosted originals, spilled as if in the
 * window (their entry keeps CK_ARCHIVE_F_OUTSIDE, now with a record). */
static int on_rescue_line(size_t lineno, const json_t *entry, void *arg)
{
    struct build *b = arg;
    uint64_t key = lineno;
    if (bsearch(&key, b->rescue, b->n_rescue, sizeof key, cmp_u64) == NULL)
        return 0;
    b->rescuing = true;
    b->lines--; /* on_line counts lines: this one was counted already */
    int rc = on_line(lineno, entry, arg);
    b->rescuing = false;
    return rc;
}

/* Which outside entries are originals of boosts in the window, by line. */
static int find_rescues(struct build *b)
{
    char key[512];
    for (size_t i = 0; i < b->n; i++) {
        const struct ck_archive_entry *e = &b->msgs[i];
        if (!(e->id.flags & CK_ARCHIVE_F_OUTSIDE) || (e->id.flags & CK_ARCHIVE_F_BOOST) ||
            e->rec_len != 0 ||
            !boost_key(e->id.platform, b->ids.s + e->id.off, e->id.len, key, sizeof key) ||
            !ck_strset_has(&b->boosted, key))
            continue;
        uint64_t *grown = realloc(b->rescue, (b->n_rescue + 1) * sizeof *grown);
        if (grown == NULL)
            return CK_ENOMEM;
        b->rescue = grown;
        b->rescue[b->n_rescue++] = e->rec_off;
    }
    if (b->n_rescue > 1)
        qsort(b->rescue, b->n_rescue, sizeof *b->rescue, cmp_u64);
    return 0;
}

/* ---- session, sorting, writing ---- */

/* The window and platform.type from session.json. Any load failure but memory
 * is CK_ECONFIG with the loader's message (file:line:column, field). */
static int load_session(const char *path, struct build *b, char **platform, struct ck_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return ck_error_set(err, CK_ENOTFOUND, "%s: no such file", path);
    struct ck_session s = {0};
    struct ck_error lerr = {0};
    int rc = ck_session_load(path, &s, &lerr);
    if (rc != 0) {
        const char *msg = lerr.code != 0 ? lerr.msg : ck_strerror(rc);
        return ck_error_set(err, rc == CK_ENOMEM ? rc : CK_ECONFIG, "%s", msg);
    }
    b->from_ms = s.start_ms - s.lead_ms;
    b->to_ms = s.start_ms + s.duration_ms + s.grace_ms;
    *platform = strdup(s.platform.type != NULL ? s.platform.type : "mastodon");
    ck_session_finish(&s);
    return *platform != NULL ? 0 : ck_error_set(err, CK_ENOMEM, "archive: out of memory");
}

/* Ids are compared as message.c's ck_message_cmp does: length, then bytes. */
static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
    if (la != lb)
        return la < lb ? -1 : 1;
    return memcmp(a, b, la);
}

/* qsort passes no argument (qsort_r needs _GNU_SOURCE); set only around the
 * qsort call, on the one thread that builds archives. */
static const struct build *sort_ctx;

static int cmp_entry(const void *pa, const void *pb)
{
    const struct ck_archive_entry *a = pa, *b = pb;
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    int c =
        cmp_bytes(sort_ctx->ids.s + a->id.off, a->id.len, sort_ctx->ids.s + b->id.off, b->id.len);
    if (c != 0 || a->id.platform == b->id.platform)
        return c;
    const char *x = sort_ctx->platforms[a->id.platform], *y = sort_ctx->platforms[b->id.platform];
    return cmp_bytes(x, strlen(x), y, strlen(y));
}

int ck_archive_build(const char *dir, struct ck_archive_stats *stats, struct ck_error *err)
{
    struct ck_archive_people *before = NULL;
    int rc = ck_archive_siblings_before(dir, &before, err);
    if (rc == 0)
        rc = ck_archive_build_one(dir, stats, err);
    if (rc == 0 && before != NULL)
        rc = ck_archive_siblings_after(dir, before, err);
    ck_archive_people_free(before);
    return rc;
}

int ck_archive_build_one(const char *dir, struct ck_archive_stats *stats, struct ck_error *err)
{
    struct ck_archive_stats st = {0};
    struct build b = {0};
    b.by_id.keys = &b.ids;
    b.by_author.keys = &b.author_ids;
    b.by_uri.keys = &b.uri_keys;
    ck_strset_init(&b.boosted);
    char *session_path = ck_path_join(dir, "session.json");
    char *journal_path = ck_path_join(dir, "journal.jsonl");
    char *platform = NULL;
    uint8_t *seen = NULL;
    int rc;
    if (session_path == NULL || journal_path == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        goto out;
    }
    rc = load_session(session_path, &b, &platform, err);
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
    rc = ck_archive_scratch(dir, ".messages.spill.XXXXXX", &b.spill, err);
    if (rc != 0)
        goto out;
    b.default_platform = platform;
    b.err = err;
    rc = ck_journal_read_transient(journal_path, on_line, &b, &st.corrupt_lines, err);
    if (rc != 0)
        goto out;
    if (find_rescues(&b) != 0) {
        rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        goto out;
    }
    if (b.n_rescue > 0) {
        size_t skipped = b.skipped;
        rc = ck_journal_read_transient(journal_path, on_rescue_line, &b, NULL, err);
        b.skipped = skipped;
        if (rc != 0)
            goto out;
    }
    if ((rc = ck_archive_alias_resolve(&b.aliases, b.msgs, b.spill, err)) != 0)
        goto out;
    st.journal_lines = b.lines + st.corrupt_lines;
    st.skipped_objects = b.skipped;

    /* Outside the window: counted and dropped. Then people and boosts. */
    seen = calloc(b.n_authors + 1, 1);
    if (seen == NULL) {
        rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        goto out;
    }
    size_t kept = 0;
    for (size_t i = 0; i < b.n; i++) {
        const struct ck_archive_entry *e = &b.msgs[i];
        /* Boosted originals kept from outside have a record; the rest go. */
        if ((e->id.flags & CK_ARCHIVE_F_OUTSIDE) && e->rec_len == 0) {
            st.outside_window++;
            continue;
        }
        st.boosts += (e->id.flags & CK_ARCHIVE_F_BOOST) != 0;
        st.people += !seen[e->author];
        seen[e->author] = 1;
        b.msgs[kept++] = *e; /* the id table is not used from here on */
    }
    b.n = kept;
    st.messages = kept;
    sort_ctx = &b;
    if (b.n > 1)
        qsort(b.msgs, b.n, sizeof *b.msgs, cmp_entry);
    sort_ctx = NULL;
    /* What only reading needed goes before the next passes take their share. */
    free(b.by_id.slots);
    free(b.by_author.slots);
    free(b.authors);
    free(b.ids.s);
    free(b.author_ids.s);
    free(b.by_uri.slots);
    free(b.uris);
    free(b.uri_keys.s);
    b.by_uri = (struct table){0};
    b.uris = NULL;
    b.uri_keys = (struct ck_sbuf){0};
    b.by_id = b.by_author = (struct table){0};
    b.authors = NULL;
    b.ids = b.author_ids = (struct ck_sbuf){0};

    rc = ck_archive_write(dir, b.spill, b.spill_len, b.msgs, b.n, &b.aliases, &st.hidden, err);
    if (rc != 0)
        goto out;
    st.messages -= st.hidden;
    if (stats != NULL)
        *stats = st;
out:
    if (b.spill != NULL)
        fclose(b.spill);
    free(seen);
    for (size_t i = 0; i < b.n_platforms; i++)
        free(b.platforms[i]);
    free(b.rec.s);
    free(b.by_author.slots);
    free(b.authors);
    free(b.by_id.slots);
    free(b.msgs);
    free(b.ids.s);
    free(b.author_ids.s);
    free(b.by_uri.slots);
    free(b.uris);
    free(b.uri_keys.s);
    ck_strset_finish(&b.boosted);
    ck_archive_aliases_finish(&b.aliases);
    free(b.rescue);
    free(platform);
    free(journal_path);
    free(session_path);
    return rc;
}
