/* The one reader for files a person wrote (see userfile.h). */
#include "chatkeeper/userfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read fd up to max + 1 bytes (one more than allowed, to tell "too large"),
 * starting from a buffer the size fstat gave. */
static int read_fd(int fd, size_t hint, size_t max, char **out, size_t *len)
{
    size_t cap = (hint < max ? hint : max) + 2, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return CK_ENOMEM;
    for (;;) {
        if (n + 1 == cap) {
            if (n > max)
                break;
            size_t ncap = cap * 2 < max + 2 ? cap * 2 : max + 2;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                return CK_ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return CK_EIO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int ck_read_user_file(const char *path, size_t max, const char *kind, unsigned flags, char **out,
                      size_t *len, struct ck_error *err)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT && (flags & CK_USERFILE_OPTIONAL))
            return 0;
        return ck_error_set(err, e == ENOENT ? CK_ENOTFOUND : -e, "%s: %s", path, strerror(e));
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = ck_error_set(err, CK_EIO, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = ck_error_set(err, CK_ECONFIG, "%s: is a directory, not a file", path);
    else if (!S_ISREG(st.st_mode))
        rc = ck_error_set(err, CK_ECONFIG, "%s: not a regular file", path);
    else if ((rc = read_fd(fd, (size_t)st.st_size, max, out, len)) != 0)
        rc =
            ck_error_set(err, rc, "%s: %s", path, rc == CK_ENOMEM ? "out of memory" : "read error");
    close(fd);
    if (rc == 0 && *len > max) {
        free(*out);
        *out = NULL;
        *len = 0;
        rc = ck_error_set(err, CK_ECONFIG, "%s: larger than %zu bytes%s%s", path, max,
                          kind != NULL ? "; not " : "", kind != NULL ? kind : "");
    }
    return rc;
}
