/* The sessions beside this one in the archive folder (issue 14, rule 7).
 *
 * summary.json's "returning_participants" counts the people who also wrote in
 * an earlier session of the same folder, read from that session's
 * messages.jsonl. So the figure does not depend on the order in which
 * sessions were imported or rebuilt: before a session is built, earlier
 * siblings that have a journal but no messages.jsonl yet are built (oldest
 * first, so each of them sees its own earlier ones); after it is built,
 * later siblings that have outputs are rendered again when their figure may
 * have just changed: when someone who wrote in this session before the
 * build and not after it, or after and not before, writes in them (so
 * rebuilding an old session with nothing new re-renders nothing, and one
 * opt-out re-renders only the sessions that person is in), or when this
 * session moved in time since its last outputs (then every sibling after the
 * earlier of its two times). Siblings are the sessions of the same hashtag in the
 * folder: others are never built or rendered. A sibling that fails is logged
 * and left as it was: it is not this session's error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "archive_int.h"
#include "chatkeeper/config.h"
#include "chatkeeper/log.h"
#include "chatkeeper/record.h"
#include "chatkeeper/render.h"
#include "chatkeeper/strset.h"
#include "chatkeeper/timeutil.h"

struct sibling {
    char *dir;
    int64_t start_ms;
};

static bool has(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int by_start(const void *a, const void *b)
{
    const struct sibling *x = a, *y = b;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return strcmp(x->dir, y->dir);
}

/* The start of the session in dir, or false when it has no session file that
 * loads or (tag not NULL) follows another hashtag than tag: only sessions of
 * the same chat are this one's siblings; a folder of unrelated sessions (a
 * shared /tmp) is never written to. *tag_out (may be NULL): its hashtag, new. */
static bool start_of(const char *dir, const char *tag, int64_t *start_ms, char **tag_out)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/session.json", dir);
    if (n < 0 || (size_t)n >= sizeof path || !has(dir, "session.json"))
        return false;
    struct ck_session s = {0};
    if (ck_session_load(path, &s, NULL) != 0)
        return false;
    *start_ms = s.start_ms;
    const char *h = s.hashtag != NULL ? s.hashtag : "";
    h += h[0] == '#';
    bool same = tag == NULL || strcasecmp(h, tag) == 0;
    if (same && tag_out != NULL && (*tag_out = strdup(h)) == NULL)
        same = false;
    ck_session_finish(&s);
    return same;
}

/* Every other session folder beside dir, oldest first; *self_ms: dir's own
 * start. Returns 0 (none when dir has no parent to read or no start) or
 * CK_ENOMEM. */
static int siblings(const char *dir, struct sibling **out, size_t *n_out, int64_t *self_ms,
                    struct ck_error *err)
{
    char self[PATH_MAX], parent[PATH_MAX];
    *out = NULL;
    *n_out = 0;
    char *tag = NULL;
    if (realpath(dir, self) == NULL || !start_of(self, NULL, self_ms, &tag))
        return 0;
    memcpy(parent, self, sizeof parent);
    char *slash = strrchr(parent, '/');
    if (slash == NULL) {
        free(tag);
        return 0;
    }
    if (slash == parent)
        slash[1] = '\0';
    else
        *slash = '\0';
    DIR *d = opendir(parent);
    if (d == NULL) {
        free(tag);
        return 0;
    }
    struct sibling *list = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char sub[PATH_MAX], real[PATH_MAX];
        int k =
            snprintf(sub, sizeof sub, "%s/%s", strcmp(parent, "/") == 0 ? "" : parent, e->d_name);
        int64_t start;
        if (e->d_name[0] == '.' || k < 0 || (size_t)k >= sizeof sub ||
            realpath(sub, real) == NULL || strcmp(real, self) == 0 ||
            !start_of(real, tag, &start, NULL))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct sibling *nl = realloc(list, nc * sizeof *nl);
            if (nl == NULL) {
                rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
                break;
            }
            list = nl;
            cap = nc;
        }
        if ((list[n].dir = strdup(real)) == NULL) {
            rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
            break;
        }
        list[n++].start_ms = start;
    }
    closedir(d);
    free(tag);
    if (n > 1)
        qsort(list, n, sizeof *list, by_start);
    *out = list;
    *n_out = n;
    return rc;
}

static void free_siblings(struct sibling *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].dir);
    free(list);
}

/* ---- who wrote in a session, as its siblings count them ---- */

struct ck_archive_people {
    struct ck_strset who; /* lower-cased handles */
    int64_t start_ms;
    bool known; /* start_ms is the last outputs' (else: compare nothing) */
};

/* Call each(arg, handle) for every message of dir's messages.jsonl that
 * counts as someone writing (not a boost, not spam), as the renderer's
 * returning count reads them; handle lower-cased (the renderer compares
 * without case). Returns 0, or CK_ENOMEM when each did. */
static int for_each_writer(const char *dir, int (*each)(void *arg, const char *handle), void *arg)
{
    char path[PATH_MAX];
    int k = snprintf(path, sizeof path, "%s/messages.jsonl", dir);
    FILE *f = k > 0 && (size_t)k < sizeof path ? fopen(path, "r") : NULL;
    if (f == NULL)
        return 0;
    char *line = NULL, lower[320];
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        json_t *j = json_loadb(line, (size_t)len, 0, NULL);
        struct ck_record r;
        if (j != NULL && ck_record_from_json(j, &r) == 0 && r.boost_of == NULL &&
            !ck_record_is_spam(&r) && r.handle[0] != '\0' && strlen(r.handle) < sizeof lower) {
            size_t i = 0;
            for (; r.handle[i] != '\0'; i++)
                lower[i] = (char)(r.handle[i] >= 'A' && r.handle[i] <= 'Z' ? r.handle[i] + 32
                                                                           : r.handle[i]);
            lower[i] = '\0';
            rc = each(arg, lower);
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return rc;
}

static int add_writer(void *arg, const char *handle)
{
    return ck_strset_add(arg, handle) < 0 ? CK_ENOMEM : 0;
}

/* Someone whose part in this session changed: in one set and not the other. */
struct changed {
    const struct ck_strset *a, *b;
    struct ck_strset out;
};

static int add_changed(struct changed *c, const struct ck_strset *from, const struct ck_strset *to)
{
    for (size_t i = 0; i < from->cap; i++)
        if (from->slots[i] != NULL && !ck_strset_has(to, from->slots[i]) &&
            ck_strset_add(&c->out, from->slots[i]) < 0)
            return CK_ENOMEM;
    return 0;
}

/* Stops (with 1) at the first writer of a sibling among the changed people. */
static int among(void *arg, const char *handle)
{
    return ck_strset_has(arg, handle) ? 1 : 0;
}

/* When the session in dir started as its last outputs say (summary.json's
 * "start"): its place among its siblings when they were last rendered. */
static bool last_start(const char *dir, int64_t *ms)
{
    char path[PATH_MAX];
    int k = snprintf(path, sizeof path, "%s/summary.json", dir);
    json_t *j = k > 0 && (size_t)k < sizeof path ? json_load_file(path, 0, NULL) : NULL;
    const char *start = json_string_value(json_object_get(j, "start"));
    bool ok = start != NULL && ck_time_parse_rfc3339(start, ms) == 0;
    json_decref(j);
    return ok;
}

void ck_archive_people_free(struct ck_archive_people *p)
{
    if (p == NULL)
        return;
    ck_strset_finish(&p->who);
    free(p);
}

/* Whether a runner holds the session's lock (runner_setup.c: flock on
 * <dir>/.lock): it builds its own outputs, with whatever its siblings have
 * by then. serve runs a hundred sessions of one tag at once, and building
 * each running one from every other's build cost minutes of blocked loop. */
static bool running(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

int ck_archive_siblings_before(const char *dir, struct ck_archive_people **people,
                               struct ck_error *err)
{
    struct sibling *list;
    size_t n;
    int64_t self_ms;
    *people = NULL;
    int rc = siblings(dir, &list, &n, &self_ms, err);
    /* Who wrote here before the build, only when a later session with
     * outputs (later than now, or than when it was last built) may need to
     * hear of a change: a lone session reads nothing more. Never built:
     * nobody counted it, wherever it stands. */
    int64_t last_ms = self_ms;
    bool known = !has(dir, "messages.jsonl") || last_start(dir, &last_ms);
    int64_t from = known && last_ms < self_ms ? last_ms : self_ms;
    bool later = false;
    for (size_t i = 0; rc == 0 && i < n; i++)
        later = later || (list[i].start_ms > from && has(list[i].dir, "messages.jsonl") &&
                          has(list[i].dir, "summary.json"));
    if (rc == 0 && later) {
        struct ck_archive_people *p = calloc(1, sizeof *p);
        if (p == NULL)
            rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        else {
            ck_strset_init(&p->who);
            p->start_ms = last_ms;
            p->known = known;
            *people = p;
            if (for_each_writer(dir, add_writer, &p->who) != 0)
                rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
        }
    }
    for (size_t i = 0; rc == 0 && i < n && list[i].start_ms < self_ms; i++) {
        if (has(list[i].dir, "messages.jsonl") || !has(list[i].dir, "journal.jsonl") ||
            running(list[i].dir))
            continue;
        struct ck_error e = {0};
        ck_info("archive: building %s first (an earlier session without outputs)", list[i].dir);
        if (ck_archive_build_one(list[i].dir, NULL, &e) != 0) {
            if (e.code == CK_ENOMEM)
                rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
            else
                ck_warn("archive: %s: %s (its people are not counted as returning)", list[i].dir,
                        e.msg);
        }
    }
    free_siblings(list, n);
    return rc;
}

int ck_archive_siblings_after(const char *dir, const struct ck_archive_people *before,
                              struct ck_error *err)
{
    struct sibling *list;
    size_t n;
    int64_t self_ms;
    int rc = siblings(dir, &list, &n, &self_ms, err);
    /* Who came or went in this build. A session that moved in time changes
     * every later one's earlier sessions: then all of them are rendered. */
    struct ck_strset now;
    struct changed c = {0};
    ck_strset_init(&now);
    ck_strset_init(&c.out);
    bool moved = before == NULL || !before->known || before->start_ms != self_ms;
    if (rc == 0 && !moved &&
        (for_each_writer(dir, add_writer, &now) != 0 || add_changed(&c, &before->who, &now) != 0 ||
         add_changed(&c, &now, &before->who) != 0))
        rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
    int64_t from = !moved || before == NULL || !before->known || before->start_ms > self_ms
                       ? self_ms
                       : before->start_ms;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (list[i].start_ms <= from || !has(list[i].dir, "messages.jsonl") ||
            !has(list[i].dir, "summary.json") || running(list[i].dir))
            continue;
        if (!moved && (c.out.n == 0 || for_each_writer(list[i].dir, among, &c.out) == 0)) {
            ck_debug("archive: %s: its returning participants are unchanged; not rendered again",
                     list[i].dir);
            continue;
        }
        struct ck_error e = {0};
        if (ck_render_session(list[i].dir, NULL, &e) != 0) {
            if (e.code == CK_ENOMEM)
                rc = ck_error_set(err, CK_ENOMEM, "archive: out of memory");
            else
                ck_warn("archive: %s not rendered again: %s", list[i].dir, e.msg);
        }
    }
    ck_strset_finish(&now);
    ck_strset_finish(&c.out);
    free_siblings(list, n);
    return rc;
}
