/* The one reader for secret files (see secret.h for the rules and why). */
#include "chatkeeper/secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ck_secret_free(char *secret)
{
    if (secret == NULL)
        return;
    /* volatile: the wipe must not be optimised away before free(). */
    volatile char *v = secret;
    while (*v != '\0')
        *v++ = '\0';
    free(secret);
}

int ck_secret_read_file(const char *path, const char *what, size_t max, char **out,
                        struct ck_error *err)
{
    *out = NULL;
    /* O_NOFOLLOW: the mode we check is the mode of the file we read.
     * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return ck_error_set(err, CK_ECONFIG, "%s %s: %s", what, path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ck_error_set(err, CK_ECONFIG, "%s %s: not a regular file", what, path);
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return ck_error_set(err, CK_EUNSAFE,
                            "%s %s belongs to another user (uid %ld); it must be yours, mode 600",
                            what, path, (long)st.st_uid);
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        return ck_error_set(err, CK_EUNSAFE,
                            "%s %s has mode %04o, open to other users; run: chmod 600 %s", what,
                            path, (unsigned)(st.st_mode & 07777), path);
    }
    char *buf = calloc(1, max + 2);
    if (buf == NULL) {
        close(fd);
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    size_t len = 0;
    int rerr = 0;
    while (len <= max) {
        ssize_t r = read(fd, buf + len, max + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rerr = errno;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (rerr != 0) {
        ck_secret_free(buf);
        return ck_error_set(err, CK_ECONFIG, "%s %s: %s", what, path, strerror(rerr));
    }
    if (len > max) {
        ck_secret_free(buf);
        return ck_error_set(err, CK_ECONFIG, "%s %s: too large for a secret (over %zu bytes)", what,
                            path, max);
    }
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        buf[--len] = '\0';
    *out = buf;
    return 0;
}
