/* One import input through zlib's gz reader: it decompresses gzip (members
 * concatenated too) and passes any other file through unchanged, so plain
 * files, .gz files and standard input are read the same way. See
 * import_src.h. */
#include "import_src.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chatkeeper/log.h"

#define CHUNK (256u * 1024u)
/* A line longer than this is not JSON lines (a binary file, say): refuse it
 * rather than hold it all in memory. twarc2's pages are a few MB at most. */
#define MAX_LINE ((size_t)256 << 20)
#define MB (1024u * 1024u)
#define PROGRESS_FROM (16u * MB)  /* smaller inputs take a moment: no progress */
#define PROGRESS_EVERY (64u * MB) /* a line each, when stderr is not a terminal */

int ck_src_open(struct ck_src *s, const char *path, struct ck_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->size = -1;
    s->held = true;
    bool in = strcmp(path, "-") == 0;
    s->name = in ? "stdin" : path;
    int fd = in ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ck_error_set(err, CK_ENOTFOUND, "%s: %s", s->name, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return ck_error_set(err, CK_ENOTFOUND, "%s: is a directory, not a file", s->name);
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        s->size = (int64_t)st.st_size;
    s->gz = gzdopen(fd, "rb");
    if (s->gz == NULL) {
        close(fd);
        return ck_error_set(err, CK_ENOMEM, "import: out of memory");
    }
    gzbuffer(s->gz, CHUNK);
    s->tty = isatty(STDERR_FILENO) == 1;
    s->next_at = s->tty ? PROGRESS_FROM : PROGRESS_EVERY;
    return 0;
}

void ck_src_close(struct ck_src *s)
{
    ck_src_progress_end(s);
    if (s->gz != NULL)
        gzclose_r(s->gz);
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* Files compressed by other tools pass through zlib as they are: name the
 * tool instead of reporting every line as not JSON. */
static int check_magic(struct ck_src *s, struct ck_error *err)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *tool;
    } known[] = {
        {"\xfd"
         "7zXZ",
         5, "xz"},
        {"BZh", 3, "bzip2"},
        {"\x28\xb5\x2f\xfd", 4, "zstd"},
        {"PK\x03\x04", 4, "zip"},
    };
    s->checked = true;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (s->end >= known[i].len && memcmp(s->buf, known[i].magic, known[i].len) == 0)
            return ck_error_set(err, CK_EPARSE,
                                "%s: compressed with %s, which import does not read: "
                                "decompress it first (gzip is read as it is)",
                                s->name, known[i].tool);
    return 0;
}

/* zlib's words for the last error, without the "<fd:3>: " it puts first. */
static const char *zmsg(struct ck_src *s, int *zerr)
{
    const char *msg = gzerror(s->gz, zerr);
    const char *colon = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ": ") : NULL;
    return colon != NULL ? colon + 2 : msg;
}

/* Read more into the buffer. Returns 1 (more bytes), 0 (the end) or an error. */
static int fill(struct ck_src *s, struct ck_error *err)
{
    if (s->eof)
        return 0;
    if (!s->held && s->pos > 0) {
        memmove(s->buf, s->buf + s->pos, s->end - s->pos);
        s->base += s->pos;
        s->end -= s->pos;
        s->scanned = s->scanned > s->pos ? s->scanned - s->pos : 0;
        s->pos = 0;
    }
    if (s->cap - s->end < CHUNK) {
        size_t cap = s->cap < CHUNK ? 4 * CHUNK : s->cap * 2;
        char *b = realloc(s->buf, cap);
        if (b == NULL)
            return ck_error_set(err, CK_ENOMEM, "import: out of memory");
        s->buf = b;
        s->cap = cap;
    }
    /* A chunk at a time, however big the buffer has grown: progress moves
     * smoothly and a read never waits on more than it needs. */
    int n = gzread(s->gz, s->buf + s->end, CHUNK);
    if (n < 0) {
        int zerr = 0;
        const char *msg = zmsg(s, &zerr);
        if (zerr == Z_ERRNO)
            return ck_error_set(err, CK_EIO, "%s: %s", s->name, strerror(errno));
        if (zerr == Z_BUF_ERROR) { /* cut short: see below */
            s->truncated = s->eof = true;
            return 0;
        }
        return ck_error_set(err, zerr == Z_MEM_ERROR ? CK_ENOMEM : CK_EPARSE,
                            "%s: not a valid gzip file (%s)", s->name, msg);
    }
    s->end += (size_t)n;
    if (!s->checked && (s->end >= 8 || n == 0)) {
        int rc = check_magic(s, err);
        if (rc != 0)
            return rc;
    }
    if (n == 0) {
        /* gzread gives 0 at the end and on a stream cut short. */
        int zerr = 0;
        const char *msg = zmsg(s, &zerr);
        /* Cut short (a capture killed while it wrote): what came before
         * is good data, as a torn last line is in the journal. */
        if (zerr == Z_BUF_ERROR)
            s->truncated = true;
        else if (zerr != Z_OK)
            return ck_error_set(err, CK_EPARSE, "%s: not a valid gzip file (%s)", s->name, msg);
        s->eof = true;
        return 0;
    }
    return 1;
}

int ck_src_line(struct ck_src *s, const char **line, size_t *len, struct ck_error *err)
{
    for (;;) {
        if (s->scanned < s->pos)
            s->scanned = s->pos;
        char *nl =
            s->end > s->scanned ? memchr(s->buf + s->scanned, '\n', s->end - s->scanned) : NULL;
        if (nl != NULL || (s->eof && s->pos < s->end)) {
            size_t n = nl != NULL ? (size_t)(nl - (s->buf + s->pos)) + 1 : s->end - s->pos;
            *line = s->buf + s->pos;
            *len = n;
            s->pos += n;
            return 1;
        }
        if (s->eof)
            return 0;
        s->scanned = s->end;
        if (s->end - s->pos > MAX_LINE)
            return ck_error_set(err, CK_EPARSE, "%s: a line longer than 256 MiB: not JSON lines",
                                s->name);
        int rc = fill(s, err);
        if (rc < 0)
            return rc;
    }
}

uint64_t ck_src_tell(const struct ck_src *s)
{
    return s->base + s->pos;
}

void ck_src_seek(struct ck_src *s, uint64_t offset)
{
    s->pos = (size_t)(offset - s->base);
    s->scanned = s->pos;
}

void ck_src_release(struct ck_src *s)
{
    s->held = false;
}

struct load_ctx {
    struct ck_src *s;
    struct ck_error err;
};

static size_t load_cb(void *buffer, size_t buflen, void *data)
{
    struct load_ctx *c = data;
    struct ck_src *s = c->s;
    if (s->pos == s->end) {
        int rc = fill(s, &c->err);
        if (rc < 0)
            return (size_t)-1;
        if (rc == 0)
            return 0;
    }
    size_t n = s->end - s->pos < buflen ? s->end - s->pos : buflen;
    memcpy(buffer, s->buf + s->pos, n);
    s->pos += n;
    return n;
}

json_t *ck_src_load_rest(struct ck_src *s, json_error_t *jerr)
{
    struct load_ctx c = {.s = s};
    return json_load_callback(load_cb, &c, 0, jerr);
}

uint64_t ck_src_raw_read(const struct ck_src *s)
{
    /* A plain file: where the reading is, not how far the buffer is filled.
     * A gzip file: how much of it zlib has taken in. */
    if (gzdirect(s->gz))
        return ck_src_tell(s);
    z_off_t off = gzoffset(s->gz);
    return off < 0 ? 0 : (uint64_t)off;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The log hook: erase the progress line before a log line, redraw after. */
static void progress_hook(int after, void *arg)
{
    struct ck_src *s = arg;
    fputs(after ? s->shown : "\r\033[K", stderr);
    fflush(stderr);
}

static void describe(const struct ck_src *s, uint64_t raw, size_t objects, char *buf, size_t n)
{
    if (s->size > 0)
        snprintf(buf, n, "import: %s: %llu of %llu MB read (%d%%), %zu objects", s->name,
                 (unsigned long long)(raw / MB), (unsigned long long)((uint64_t)s->size / MB),
                 (int)(raw * 100 / (uint64_t)s->size), objects);
    else
        snprintf(buf, n, "import: %s: %llu MB read, %zu objects", s->name,
                 (unsigned long long)(raw / MB), objects);
}

void ck_src_progress(struct ck_src *s, size_t objects)
{
    uint64_t raw = ck_src_raw_read(s);
    if (raw < s->next_at)
        return;
    if (!s->tty) {
        char line[256];
        describe(s, raw, objects, line, sizeof line);
        ck_info("%s", line);
        s->next_at = (raw / PROGRESS_EVERY + 1) * PROGRESS_EVERY;
        return;
    }
    s->next_at = raw + MB;
    int64_t t = now_ms();
    if (s->drawn && t - s->last_draw < 200)
        return;
    s->last_draw = t;
    s->shown[0] = '\r';
    describe(s, raw, objects, s->shown + 1, sizeof s->shown - 1);
    fputs(s->shown, stderr);
    fputs("\033[K", stderr);
    fflush(stderr);
    if (!s->drawn)
        ck_log_set_hook(progress_hook, s);
    s->drawn = true;
}

void ck_src_progress_end(struct ck_src *s)
{
    if (!s->drawn)
        return;
    ck_log_set_hook(NULL, NULL);
    fputs("\r\033[K", stderr);
    fflush(stderr);
    s->drawn = false;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* What twarc and Mastodon exports are named: .json, .jsonl, .ndjson, each
 * maybe gzipped. A folder of captures often holds a README or a log too. */
static bool json_name(const char *name)
{
    static const char *const ends[] = {".json",    ".jsonl",    ".ndjson",
                                       ".json.gz", ".jsonl.gz", ".ndjson.gz"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        size_t e = strlen(ends[i]);
        if (n > e && strcmp(name + n - e, ends[i]) == 0)
            return true;
    }
    return false;
}

int ck_src_expand(const char *const *files, size_t n, char ***out, size_t *n_out,
                  struct ck_error *err)
{
    char **list = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;
        struct dirent **ents = NULL;
        int k = 0;
        bool dir = strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0 && S_ISDIR(st.st_mode);
        if (dir) {
            k = scandir(files[i], &ents, not_hidden, alphasort);
            if (k < 0) {
                rc = ck_error_set(err, CK_ENOTFOUND, "%s: %s", files[i], strerror(errno));
                break;
            }
        }
        size_t added = 0;
        for (int j = 0; j < (dir ? k : 1); j++) {
            char *path = NULL;
            if (dir) {
                size_t dl = strlen(files[i]);
                bool slash = dl > 0 && files[i][dl - 1] == '/';
                size_t size = dl + 1 + strlen(ents[j]->d_name) + 1;
                path = malloc(size);
                if (path != NULL)
                    snprintf(path, size, "%s%s%s", files[i], slash ? "" : "/", ents[j]->d_name);
                /* Only the files in it: a folder of captures, not a tree. */
                if (path != NULL && (stat(path, &st) != 0 || !S_ISREG(st.st_mode))) {
                    free(path);
                    continue;
                }
                if (path != NULL && !json_name(ents[j]->d_name)) {
                    ck_info("import: %s: not read (not .json, .jsonl or .ndjson, maybe .gz)", path);
                    free(path);
                    continue;
                }
            } else {
                path = strdup(files[i]);
            }
            if (path != NULL && len == cap) {
                char **grown = realloc(list, (cap ? cap * 2 : 16) * sizeof *list);
                if (grown == NULL) {
                    free(path);
                    path = NULL;
                } else {
                    list = grown;
                    cap = cap ? cap * 2 : 16;
                }
            }
            if (path == NULL) {
                rc = ck_error_set(err, CK_ENOMEM, "import: out of memory");
                break;
            }
            list[len++] = path;
            added++;
        }
        for (int j = 0; j < k; j++)
            free(ents[j]);
        free(ents);
        if (rc == 0 && dir && added == 0)
            rc = ck_error_set(err, CK_ENOTFOUND, "%s: a folder with no files in it", files[i]);
    }
    if (rc != 0) {
        ck_src_expand_free(list, len);
        return rc;
    }
    *out = list;
    *n_out = len;
    return 0;
}

void ck_src_expand_free(char **files, size_t n)
{
    for (size_t i = 0; files != NULL && i < n; i++)
        free(files[i]);
    free(files);
}
