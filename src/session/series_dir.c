/* The sessions folder of a series: which per-date files there are (named
 * after their dates), what is wrong with the folder (for `check`), finding one
 * date's file, and telling a person who gives a per-date file alone which
 * command to use instead. Loading and merging are in series_file.c. */
#include "chatkeeper/series.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series_int.h"

/* ---- the sessions folder ---- */

/* "2027-01-14.json" or "2027-01-14-new-year.json" -> day. */
static bool date_of_name(const char *name, int64_t *day)
{
    size_t len = strlen(name);
    char d[11];
    if (len < 15 || strcmp(name + len - 5, ".json") != 0)
        return false;
    memcpy(d, name, 10);
    d[10] = '\0';
    if (ck_series_day_parse(d, day) != 0)
        return false;
    char back[16];
    ck_series_day_format(*day, back, sizeof back);
    if (strcmp(back, d) != 0) /* 2027-1-14 or 2027-02-30 */
        return false;
    return len == 15 || (name[10] == '-' && len > 16);
}

struct entry {
    int64_t day;
    char *name;
};

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Every *.json of dir (hidden files skipped): dated ones sorted in *out,
 * day = INT64_MIN for a name that is no date. Returns the count or <0. */
static int scan_dir(const char *dir, struct entry **out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -errno;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct entry *ne = realloc(*out, nc * sizeof *ne);
            if (ne == NULL) {
                rc = CK_ENOMEM;
                break;
            }
            *out = ne;
            cap = nc;
        }
        struct entry *e = &(*out)[n];
        if (!date_of_name(de->d_name, &e->day))
            e->day = INT64_MIN;
        if ((e->name = strdup(de->d_name)) == NULL) {
            rc = CK_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(*out, n, sizeof **out, entry_cmp);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            free((*out)[i].name);
        free(*out);
        *out = NULL;
        return rc;
    }
    return (int)n;
}

static void free_entries(struct entry *e, int n)
{
    for (int i = 0; i < n; i++)
        free(e[i].name);
    free(e);
}

static void report(ck_series_report_fn fn, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(ck_series_report_fn fn, void *ctx, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fn != NULL)
        fn(ctx, msg);
}

/* The rule's dates either side of day, for "did you mean". */
static void nearest(const struct ck_series *s, int64_t day, char *before, char *after)
{
    int64_t b = day - 1;
    while (!ck_rule_matches(&s->rule, b) && b > day - 400)
        b--;
    ck_series_day_format(b, before, 16);
    ck_series_day_format(ck_rule_next(&s->rule, day + 1), after, 16);
}

int ck_series_files(const struct ck_series *s, struct ck_series_file **files, size_t *nfiles,
                    ck_series_report_fn fn, void *ctx)
{
    *files = NULL;
    *nfiles = 0;
    struct entry *e;
    int n = scan_dir(s->sessions_dir, &e);
    if (n < 0)
        return n;
    struct ck_series_file *f = calloc(n > 0 ? (size_t)n : 1, sizeof *f);
    if (f == NULL) {
        free_entries(e, n);
        return CK_ENOMEM;
    }
    int problems = 0, rc = 0;
    size_t k = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char *path = ck_series_join(s->sessions_dir, e[i].name);
        if (path == NULL) {
            rc = CK_ENOMEM;
            break;
        }
        char date[16], before[16], after[16];
        if (e[i].day == INT64_MIN) {
            report(fn, ctx,
                   "%s:1:1: not named after a date: per-date files are called YYYY-MM-DD.json "
                   "(or YYYY-MM-DD-any-words.json)",
                   path);
            problems++;
        } else if (!ck_rule_matches(&s->rule, e[i].day)) {
            ck_series_day_format(e[i].day, date, sizeof date);
            nearest(s, e[i].day, before, after);
            report(fn, ctx,
                   "%s:1:1: %s is not a date of the series (\"%s\" in %s): the nearest are %s "
                   "and %s",
                   path, date, s->rule_text, s->path, before, after);
            problems++;
        } else if ((i > 0 && e[i - 1].day == e[i].day) || (i + 1 < n && e[i + 1].day == e[i].day)) {
            if (i + 1 < n && e[i + 1].day == e[i].day) {
                ck_series_day_format(e[i].day, date, sizeof date);
                report(fn, ctx, "%s:1:1: two files for %s: this one and %s/%s; keep one", path,
                       date, s->sessions_dir, e[i + 1].name);
                problems++;
            }
        } else {
            f[k].day = e[i].day;
            f[k++].path = path;
            path = NULL;
        }
        free(path);
    }
    free_entries(e, n);
    if (rc != 0) {
        ck_series_files_free(f, k);
        return rc;
    }
    *files = f;
    *nfiles = k;
    return problems;
}

void ck_series_files_free(struct ck_series_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(files[i].path);
    free(files);
}

int ck_series_find(const struct ck_series *s, int64_t day, char **path, struct ck_error *err)
{
    *path = NULL;
    struct entry *e;
    int n = scan_dir(s->sessions_dir, &e);
    if (n < 0)
        return ck_error_set(err, n, "%s: %s", s->sessions_dir, ck_strerror(n));
    int rc = CK_ENOTFOUND, first = -1;
    for (int i = 0; i < n; i++) {
        if (e[i].day != day)
            continue;
        if (first >= 0) {
            char date[16];
            ck_series_day_format(day, date, sizeof date);
            rc = ck_error_set(err, CK_ECONFIG,
                              "%s/%s:1:1: two files for %s: this one and %s; "
                              "keep one",
                              s->sessions_dir, e[first].name, date, e[i].name);
            break;
        }
        first = i;
    }
    if (rc == CK_ENOTFOUND && first >= 0) {
        *path = ck_series_join(s->sessions_dir, e[first].name);
        rc = *path ? 0 : ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    if (rc == CK_ENOTFOUND) {
        char date[16];
        ck_series_day_format(day, date, sizeof date);
        ck_error_set(err, rc, "%s: no file for %s (%s.json) yet", s->sessions_dir, date, date);
    }
    free_entries(e, n);
    return rc;
}

bool ck_series_is_series(const char *path)
{
    json_t *root = json_load_file(path, 0, NULL);
    bool yes = json_is_object(root) && json_object_get(root, "rule") != NULL;
    json_decref(root);
    return yes;
}

bool ck_series_hint(const char *path, const char *cmd, char *buf, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int64_t day;
    if (!date_of_name(base, &day))
        return false;
    json_t *root = json_load_file(path, 0, NULL);
    bool per_date = json_is_object(root) && json_object_get(root, "start") == NULL &&
                    json_object_get(root, "hashtag") == NULL;
    json_decref(root);
    if (!per_date)
        return false;
    char date[16];
    ck_series_day_format(day, date, sizeof date);
    /* Look for the series beside the folder: its "sessions" names the folder. */
    char *dir = NULL, *parent = NULL, *found = NULL, *real_dir = NULL;
    char *dummy = NULL;
    int many = 0;
    if (ck_series_split(path, &dummy, &dir) == 0 && (real_dir = realpath(dir, NULL)) != NULL) {
        free(dummy);
        dummy = NULL;
        char *pd = NULL;
        if (ck_series_split(real_dir, &pd, &parent) == 0) {
            DIR *d = opendir(parent);
            struct dirent *de;
            while (d != NULL && (de = readdir(d)) != NULL) {
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
                    continue;
                char *cand = ck_series_join(parent, de->d_name);
                struct ck_series s;
                if (cand != NULL && ck_series_is_series(cand) &&
                    ck_series_load(cand, &s, NULL) == 0) {
                    char *rs = realpath(s.sessions_dir, NULL);
                    if (rs != NULL && strcmp(rs, real_dir) == 0) {
                        many++;
                        free(found);
                        found = cand;
                        cand = NULL;
                    }
                    free(rs);
                    ck_series_finish(&s);
                }
                free(cand);
            }
            if (d != NULL)
                closedir(d);
        }
        free(pd);
    }
    free(dummy);
    if (found != NULL && many == 1) {
        /* Name the series as the person would reach it from where path was
         * given: the folder above the per-date file's folder. */
        const char *fb = strrchr(found, '/');
        fb = fb ? fb + 1 : found;
        const char *slash = strrchr(path, '/');
        size_t dlen = slash ? (size_t)(slash - path) : 0; /* path's folder, as given */
        const char *up = NULL;
        for (size_t i = 0; i < dlen; i++)
            if (path[i] == '/')
                up = path + i;
        const char *last = up ? up + 1 : path; /* the folder's own name, as given */
        size_t llen = slash ? (size_t)(slash - last) : 0;
        bool dots = slash != NULL && ((llen == 1 && last[0] == '.') ||
                                      (llen == 2 && last[0] == '.' && last[1] == '.'));
        char series[1024];
        if (dots) /* "./x.json", "a/../x.json": no text to trim; the real path */
            snprintf(series, sizeof series, "%s", found);
        else if (slash == NULL)
            snprintf(series, sizeof series, "../%s", fb);
        else if (up != NULL)
            snprintf(series, sizeof series, "%.*s/%s", (int)(up - path), path, fb);
        else
            snprintf(series, sizeof series, "%s", fb);
        snprintf(buf, n, "chatkeeper %s %s", cmd, series);
    } else {
        snprintf(buf, n, "chatkeeper %s SERIES.json", cmd);
    }
    /* check takes the whole series; the others one date of it. */
    if (strcmp(cmd, "check") != 0) {
        size_t k = strlen(buf);
        snprintf(buf + k, n > k ? n - k : 0, " --date %s", date);
    }
    free(found);
    free(parent);
    free(real_dir);
    free(dir);
    return true;
}
