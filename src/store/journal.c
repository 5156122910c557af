/* journal.jsonl: the source of truth. Append-only; every page is written and
 * fsync'd before the caller moves its cursor, so a crash at any moment loses
 * nothing the API showed us: the page is fetched again and deduplicated. */
#include "chatkeeper/journal.h"
#include "chatkeeper/jsonerr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatkeeper/jarena.h"
#include "chatkeeper/log.h"
#include "chatkeeper/timeutil.h"

struct ck_journal {
    int fd;
    char *path;
    off_t size;
    size_t lines;
};

/* Count lines and cut a torn tail (bytes after the last newline), which only a
 * crash mid-append can leave. */
static int scan_and_repair(struct ck_journal *j, struct ck_error *err)
{
    char buf[65536];
    off_t pos = 0, last_nl_end = 0;
    ssize_t r;
    while ((r = pread(j->fd, buf, sizeof buf, pos)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == '\n') {
                j->lines++;
                last_nl_end = pos + i + 1;
            }
        }
        pos += r;
    }
    if (r < 0)
        return ck_error_set(err, -errno, "%s: read: %s", j->path, strerror(errno));
    if (pos != last_nl_end) {
        ck_warn("journal: %s: cutting %lld bytes of a torn last line (interrupted write)", j->path,
                (long long)(pos - last_nl_end));
        if (ftruncate(j->fd, last_nl_end) != 0 || fsync(j->fd) != 0)
            return ck_error_set(err, -errno, "%s: truncate: %s", j->path, strerror(errno));
    }
    j->size = last_nl_end;
    return 0;
}

int ck_journal_open(const char *path, struct ck_journal **out, struct ck_error *err)
{
    *out = NULL;
    struct ck_journal *j = calloc(1, sizeof *j);
    if (j == NULL || (j->path = strdup(path)) == NULL) {
        free(j);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (j->fd < 0) {
        int e = errno;
        free(j->path);
        free(j);
        return ck_error_set(err, -e, "%s: %s", path, strerror(e));
    }
    int rc = scan_and_repair(j, err);
    if (rc < 0) {
        ck_journal_close(j);
        return rc;
    }
    *out = j;
    return 0;
}

size_t ck_journal_lines(const struct ck_journal *j)
{
    return j->lines;
}

struct buf {
    char *p;
    size_t len, cap;
};

static int buf_add(const char *data, size_t size, void *arg)
{
    struct buf *b = arg;
    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + size + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, size);
    b->len += size;
    return 0;
}

/* One line: the envelope's keys are written by hand so their order is fixed and
 * the object is dumped once, straight into the buffer. */
static int add_line(struct buf *b, const char *platform, const char *from, const char *source,
                    const char *ts, const json_t *obj)
{
    json_t *p = json_string(platform), *s = json_string(source);
    json_t *f = from != NULL ? json_string(from) : NULL;
    int rc = -1;
    if (p == NULL || s == NULL || (from != NULL && f == NULL))
        goto out;
    if (buf_add("{\"fetched_at\":\"", 15, b) || buf_add(ts, strlen(ts), b) ||
        buf_add("\",\"platform\":", 13, b) || json_dump_callback(p, buf_add, b, JSON_ENCODE_ANY) ||
        (f != NULL &&
         (buf_add(",\"from\":", 8, b) || json_dump_callback(f, buf_add, b, JSON_ENCODE_ANY))) ||
        buf_add(",\"source\":", 10, b) || json_dump_callback(s, buf_add, b, JSON_ENCODE_ANY) ||
        buf_add(",\"object\":", 10, b) || json_dump_callback(obj, buf_add, b, JSON_COMPACT) ||
        buf_add("}\n", 2, b))
        goto out;
    rc = 0;
out:
    json_decref(p);
    json_decref(s);
    json_decref(f);
    return rc;
}

int ck_journal_append(struct ck_journal *j, const char *platform, const char *source,
                      int64_t fetched_ms, json_t *const *objs, size_t n, struct ck_error *err)
{
    return ck_journal_append_from(j, platform, NULL, source, fetched_ms, objs, n, err);
}

int ck_journal_append_from(struct ck_journal *j, const char *platform, const char *from,
                           const char *source, int64_t fetched_ms, json_t *const *objs, size_t n,
                           struct ck_error *err)
{
    if (n == 0)
        return 0;
    char ts[32];
    ck_time_format_rfc3339(fetched_ms, ts);
    struct buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (!json_is_object(objs[i])) {
            free(b.p);
            return ck_error_set(err, CK_EINVAL, "journal: object %zu is not a JSON object", i);
        }
        if (add_line(&b, platform, from, source, ts, objs[i]) != 0) {
            free(b.p);
            return ck_error_set(err, CK_ENOMEM, "out of memory");
        }
    }
    size_t off = 0;
    int rc = 0;
    while (off < b.len) {
        ssize_t w = pwrite(j->fd, b.p + off, b.len - off, j->size + (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = ck_error_set(err, -errno, "%s: write: %s", j->path, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0 && fsync(j->fd) != 0)
        rc = ck_error_set(err, -errno, "%s: fsync: %s", j->path, strerror(errno));
    if (rc < 0) {
        /* Cut back so a retry does not leave a torn or doubled page behind. */
        if (ftruncate(j->fd, j->size) != 0)
            ck_warn("journal: %s: could not cut back after a failed write", j->path);
    } else {
        j->size += (off_t)b.len;
        j->lines += n;
    }
    free(b.p);
    return rc;
}

int ck_journal_entry_is_from(const json_t *entry, const char *name, int first)
{
    const char *from = json_string_value(json_object_get(entry, "from"));
    if (name == NULL)
        return 1;
    return from != NULL ? strcmp(from, name) == 0 : first;
}

void ck_journal_close(struct ck_journal *j)
{
    if (j == NULL)
        return;
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
    free(j);
}

/* One line: parse it in place (json_loadb on the exact span, no copy) and hand
 * it to cb. Returns cb's value, or 0 for a corrupt or blank line. */
static int parse_line(const char *path, size_t lineno, const char *p, size_t len,
                      ck_journal_line_cb cb, void *arg, size_t *n_corrupt)
{
    if (len == 0)
        return 0;
    json_error_t je;
    bool oom;
    json_t *entry = ck_json_loadb(p, len, 0, &je, &oom);
    /* Out of memory is not a corrupt line: skipping it would lose a message. */
    if (entry == NULL && oom)
        return CK_ENOMEM;
    if (entry == NULL || !json_is_object(entry) ||
        !json_is_object(json_object_get(entry, "object"))) {
        ck_warn("journal: %s:%zu: corrupt line skipped (%s)", path, lineno,
                entry == NULL ? je.text : "no \"object\" in it");
        if (n_corrupt != NULL)
            (*n_corrupt)++;
        json_decref(entry);
        return 0;
    }
    int rc = cb(lineno, entry, arg);
    json_decref(entry);
    return rc;
}

static int read_line(const char *path, size_t lineno, const char *p, size_t len,
                     ck_journal_line_cb cb, void *arg, size_t *n_corrupt, bool transient)
{
    int rc = parse_line(path, lineno, p, len, cb, arg, n_corrupt);
    if (transient)
        ck_jarena_reset(); /* the line's tree is gone */
    return rc;
}

/* Read in 64 KB blocks and parse each line where it lies: one read per
 * ~30 lines and no per-line copy. A line longer than the buffer grows it.
 * Not larger: the follower reads the whole journal at the end of a chat (the
 * threads), and a bigger block is that much more peak memory for nothing. */
static int journal_read(const char *path, ck_journal_line_cb cb, void *arg, size_t *n_corrupt,
                        bool transient, struct ck_error *err)
{
    if (n_corrupt != NULL)
        *n_corrupt = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return ck_error_set(err, -errno, "%s: %s", path, strerror(errno));
    }
    size_t cap = 64 << 10, len = 0, lineno = 0;
    char *buf = malloc(cap);
    int rc = 0;
    if (buf == NULL) {
        close(fd);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = ck_error_set(err, CK_EIO, "%s: read error: %s", path, strerror(errno));
            break;
        }
        len += (size_t)r;
        size_t start = 0;
        const char *nl;
        while (rc == 0 && (nl = memchr(buf + start, '\n', len - start)) != NULL) {
            size_t n = (size_t)(nl - (buf + start));
            rc = read_line(path, ++lineno, buf + start, n, cb, arg, n_corrupt, transient);
            start += n + 1;
        }
        if (rc != 0)
            break;
        if (r == 0) {
            /* A last line without its newline (a torn write) is read as is. */
            if (len > start)
                rc = read_line(path, ++lineno, buf + start, len - start, cb, arg, n_corrupt,
                               transient);
            break;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len == cap) {
            char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (grown == NULL) {
                rc = ck_error_set(err, CK_ENOMEM, "out of memory");
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    free(buf);
    close(fd);
    return rc;
}

int ck_journal_read(const char *path, ck_journal_line_cb cb, void *arg, size_t *n_corrupt,
                    struct ck_error *err)
{
    return journal_read(path, cb, arg, n_corrupt, false, err);
}

int ck_journal_read_transient(const char *path, ck_journal_line_cb cb, void *arg, size_t *n_corrupt,
                              struct ck_error *err)
{
    /* Without the block (out of memory) the trees come from malloc as usual. */
    bool transient = ck_jarena_begin(1 << 20) == 0;
    int rc = journal_read(path, cb, arg, n_corrupt, transient, err);
    if (transient)
        ck_jarena_end();
    return rc;
}
