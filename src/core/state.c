/* state.json and other small files that must never be half-written: write a
 * temp file beside the target, fsync it, rename over the target, fsync the
 * folder. After a crash the reader sees the old or the new file, never a mix. */
#include "chatkeeper/state.h"

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

int ck_file_write_atomic(const char *path, const char *data, size_t len, struct ck_error *err)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return ck_error_set(err, CK_EINVAL, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ck_error_set(err, -errno, "%s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return ck_error_set(err, -e, "%s: write: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return ck_error_set(err, -e, "%s: fsync: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ck_error_set(err, -e, "%s: rename: %s", path, strerror(e));
    }
    int rc = fsync_dir_of(path);
    if (rc < 0)
        return ck_error_set(err, rc, "%s: fsync of folder: %s", path, strerror(-rc));
    return 0;
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
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (root == NULL)
        return ck_error_set(err, CK_ECORRUPT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
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
