/* state.json and other small files that must never be half-written: write a
 * temp file beside the target, fsync it, rename over the target, fsync the
 * folder. After a crash the reader sees the old or the new file, never a mix. */
#include "chatkeeper/state.h"
#include "chatkeeper/jsonerr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0)
            n = 1;
        if (n >= sizeof dir)
            return CK_EINVAL;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

struct ck_atomic_file {
    int fd;
    int failed; /* the first write error, replayed by commit */
    char *path, *tmp;
    size_t len;
    off_t written, handed; /* bytes written; of them, handed to writeback */
    char buf[1 << 16];
};

/* Start writing back what a big file has written so far, a few MB at a time,
 * while the rest is still being made: otherwise nothing reaches the disk
 * before the commit's fsync, which then waits for all of it. (POSIX_FADV_
 * DONTNEED starts the writeback; the pages stay until it is done.) */
#define WRITEBACK_STEP (8 << 20)

static void hand_to_writeback(struct ck_atomic_file *f)
{
    if (f->written - f->handed < WRITEBACK_STEP)
        return;
    (void)posix_fadvise(f->fd, f->handed, f->written - f->handed, POSIX_FADV_DONTNEED);
    f->handed = f->written;
}

char *ck_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int ck_atomic_open(const char *path, struct ck_atomic_file **out, struct ck_error *err)
{
    *out = NULL;
    struct ck_atomic_file *f = malloc(sizeof *f);
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    char *dup = strdup(path);
    if (f == NULL || tmp == NULL || dup == NULL) {
        free(f);
        free(tmp);
        free(dup);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    /* O_EXCL | O_NOFOLLOW: never write through a link or into a file someone
     * else put at our temporary name. What is there can only be left over from
     * a crashed process that had our pid: remove it (unlink removes a link, not
     * its target) and try once more. */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    f->fd = open(tmp, flags, 0644);
    if (f->fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        f->fd = open(tmp, flags, 0644);
    if (f->fd < 0) {
        int e = errno;
        int rc = ck_error_set(err, -e, "%s: %s", tmp, strerror(e));
        free(f);
        free(tmp);
        free(dup);
        return rc;
    }
    f->failed = 0;
    f->path = dup;
    f->tmp = tmp;
    f->len = 0;
    f->written = f->handed = 0;
    *out = f;
    return 0;
}

static int write_all(struct ck_atomic_file *f, const char *data, size_t len, struct ck_error *err)
{
    while (len > 0) {
        ssize_t w = write(f->fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            f->failed = ck_error_set(err, -e, "%s: write: %s", f->tmp, strerror(e));
            return f->failed;
        }
        data += w;
        len -= (size_t)w;
        f->written += w;
    }
    hand_to_writeback(f);
    return 0;
}

int ck_atomic_write(struct ck_atomic_file *f, const void *data, size_t len, struct ck_error *err)
{
    if (f->failed != 0)
        return ck_error_set(err, f->failed, "%s: an earlier write failed", f->tmp);
    if (len == 0)
        return 0;
    /* A big piece with nothing buffered (a renderer's sink handing over its
     * own full buffer) goes out as it is: copying it first would only delay
     * a write of the same size. */
    if (f->len == 0 && len >= sizeof f->buf / 2)
        return write_all(f, data, len, err);
    if (len <= sizeof f->buf - f->len) {
        memcpy(f->buf + f->len, data, len);
        f->len += len;
        return 0;
    }
    int rc = write_all(f, f->buf, f->len, err);
    f->len = 0;
    if (rc != 0)
        return rc;
    if (len >= sizeof f->buf) /* big enough to skip the copy */
        return write_all(f, data, len, err);
    memcpy(f->buf, data, len);
    f->len = len;
    return 0;
}

static void atomic_free(struct ck_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
    free(f->tmp);
    free(f);
}

void ck_atomic_abort(struct ck_atomic_file *f)
{
    if (f == NULL)
        return;
    unlink(f->tmp);
    atomic_free(f);
}

int ck_atomic_commit(struct ck_atomic_file *f, struct ck_error *err)
{
    int rc = f->failed;
    if (rc != 0) {
        ck_error_set(err, rc, "%s: an earlier write failed", f->tmp);
        goto fail;
    }
    rc = write_all(f, f->buf, f->len, err);
    if (rc != 0)
        goto fail;
    if (fsync(f->fd) != 0) {
        rc = ck_error_set(err, -errno, "%s: fsync: %s", f->tmp, strerror(errno));
        goto fail;
    }
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0) {
        rc = ck_error_set(err, -errno, "%s: close: %s", f->tmp, strerror(errno));
        goto fail;
    }
    if (rename(f->tmp, f->path) != 0) {
        rc = ck_error_set(err, -errno, "%s: rename: %s", f->path, strerror(errno));
        goto fail;
    }
    rc = fsync_dir_of(f->path);
    if (rc < 0)
        ck_error_set(err, rc, "%s: fsync of folder: %s", f->path, strerror(-rc));
    atomic_free(f);
    return rc;
fail:
    ck_atomic_abort(f);
    return rc;
}

int ck_file_write_atomic(const char *path, const char *data, size_t len, struct ck_error *err)
{
    struct ck_atomic_file *f;
    int rc = ck_atomic_open(path, &f, err);
    if (rc != 0)
        return rc;
    rc = ck_atomic_write(f, data, len, err);
    if (rc != 0) {
        ck_atomic_abort(f);
        return rc;
    }
    return ck_atomic_commit(f, err);
}

int ck_state_load(const char *path, json_t **out, struct ck_error *err)
{
    json_error_t je;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT) {
            *out = json_object();
            return *out != NULL ? 0 : ck_error_set(err, CK_ENOMEM, "out of memory");
        }
        return ck_error_set(err, -errno, "%s: %s", path, strerror(errno));
    }
    bool oom;
    json_t *root = ck_json_loadf(f, JSON_REJECT_DUPLICATES, &je, &oom);
    fclose(f);
    if (root == NULL)
        return ck_error_set(err, oom ? CK_ENOMEM : CK_ECORRUPT, "%s:%d:%d: %s", path, je.line,
                            je.column, je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return ck_error_set(err, CK_ECORRUPT, "%s: not a JSON object", path);
    }
    *out = root;
    return 0;
}

int ck_state_save(const char *path, const json_t *state, struct ck_error *err)
{
    char *text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    size_t len = strlen(text);
    /* json_dumps has no trailing newline; files read better with one. */
    char *buf = realloc(text, len + 2);
    if (buf == NULL) {
        free(text);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    buf[len] = '\n';
    buf[len + 1] = '\0';
    int rc = ck_file_write_atomic(path, buf, len + 1, err);
    free(buf);
    return rc;
}
