/* ck_render_session: every output of a session directory from one pass over
 * messages.jsonl (the model, which streams messages.csv as it goes) plus one
 * re-read for the transcripts; ck_render_archive: the same, and the write-up,
 * from the archive's records. Each output is written atomically, so a
 * crash leaves the previous version of a file, never half of one. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"

static int path_in(char *buf, size_t n, const char *dir, const char *name, struct ck_error *err)
{
    int k = snprintf(buf, n, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= n)
        return ck_error_set(err, CK_EINVAL, "path too long: %s/%s", dir, name);
    return 0;
}

static int render(const char *dir, const struct ck_record_source *records, bool writeup,
                  struct ck_render_stats *stats, struct ck_error *err)
{
    char path[PATH_MAX], path2[PATH_MAX];
    struct stat st;
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    int rc = path_in(path, sizeof path, dir, "session.json", err);
    if (rc != 0)
        return rc;
    if (stat(path, &st) != 0)
        return ck_error_set(err, errno == ENOENT ? CK_ENOTFOUND : -errno, "%s: %s", path,
                            strerror(errno));
    struct ck_session s = {0};
    rc = ck_session_load(path, &s, err);
    if (rc != 0)
        return rc;

    struct ck_rmodel m = {0};
    struct ck_sink csv;
    struct ck_writeup_digest *digest = NULL;
    json_t *deleted = NULL;
    if (writeup && (rc = ck_writeup_begin(dir, &s, &digest, &deleted, err)) != 0)
        goto out;
    if ((rc = path_in(path, sizeof path, dir, "messages.csv", err)) != 0 ||
        (rc = ck_sink_open_file(&csv, path, err)) != 0)
        goto out;
    rc = ck_rmodel_load(&m, dir, &s, records, &csv, digest, err);
    if (rc != 0) {
        ck_sink_abort(&csv);
        goto out;
    }
    if ((rc = ck_sink_finish(&csv)) != 0)
        goto out;
    if ((rc = ck_rsummary_returning(&m, err)) != 0)
        goto out;
    if ((rc = path_in(path, sizeof path, dir, "summary.json", err)) != 0 ||
        (rc = ck_rsummary_write(&m, path, err)) != 0)
        goto out;
    if ((rc = path_in(path, sizeof path, dir, "activity.svg", err)) != 0 ||
        (rc = ck_rchart_write(&m, path, err)) != 0)
        goto out;
    if ((rc = path_in(path, sizeof path, dir, "transcript.html", err)) != 0 ||
        (rc = path_in(path2, sizeof path2, dir, "transcript.md", err)) != 0 ||
        (rc = ck_rtranscripts_write(&m, path, path2, err)) != 0)
        goto out;
    if (writeup && (rc = ck_writeup_render_digest(dir, &s, digest, deleted, err)) != 0)
        goto out;
    if (stats != NULL) {
        stats->lines = m.lines;
        stats->corrupt_lines = m.corrupt;
        stats->boosts = m.boosts;
        stats->people = m.nauth;
        stats->messages = m.n - m.boosts;
        for (size_t q = 1; q < m.ngroups; q++)
            stats->questions += m.groups[q].text != NULL || m.groups[q].count > 0;
    }
out:
    ck_rmodel_finish(&m);
    ck_writeup_digest_destroy(digest);
    json_decref(deleted);
    ck_session_finish(&s);
    return rc;
}

int ck_render_session(const char *dir, struct ck_render_stats *stats, struct ck_error *err)
{
    return render(dir, NULL, false, stats, err);
}

int ck_render_archive(const char *dir, const struct ck_record_source *records,
                      struct ck_render_stats *stats, struct ck_error *err)
{
    return render(dir, records, true, stats, err);
}
