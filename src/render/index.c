/* index.html in an archive folder: one row per session directory, newest
 * first, with its hashtag, linking to each transcript and write-up. Styled like
 * the transcripts (style.h) and self-contained like them, and
 * every title and folder name escaped (folder names are also percent-encoded
 * in hrefs: a folder called "x\" onclick=..." is just a strange name). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chatkeeper/config.h"
#include "chatkeeper/escape.h"
#include "chatkeeper/log.h"
#include "chatkeeper/render.h"
#include "chatkeeper/series.h"
#include "chatkeeper/strset.h"

#include "model.h"
#include "style.h"

struct row {
    char *name, *title, *tz, *hashtag;
    int64_t start_ms;
    long people, messages;
    bool transcript, writeup;
};

static bool exists(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    int n = snprintf(p, sizeof p, "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Messages and distinct people, counted from messages.jsonl. */
struct counting {
    struct row *r;
    const char *path;
    struct ck_strset people;
};

static void count(void *arg, const char *handle)
{
    struct counting *c = arg;
    c->r->messages++;
    if (handle != NULL && ck_strset_add(&c->people, handle) < 0)
        ck_warn("render: out of memory counting people in %s", c->path);
}

/* People and messages from summary.json, else by reading messages.jsonl. */
static void counts(const char *dir, struct row *r)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    json_t *sum = json_load_file(p, 0, NULL);
    const json_t *overall = json_object_get(sum, "overall");
    if (json_is_integer(json_object_get(overall, "messages")) &&
        json_is_integer(json_object_get(overall, "participants"))) {
        r->messages = (long)json_integer_value(json_object_get(overall, "messages"));
        r->people = (long)json_integer_value(json_object_get(overall, "participants"));
        json_decref(sum);
        return;
    }
    json_decref(sum);
    snprintf(p, sizeof p, "%s/messages.jsonl", dir);
    struct counting c = {.r = r, .path = p};
    ck_strset_init(&c.people);
    ck_rfor_each_author(p, count, &c);
    r->people = (long)c.people.n;
    ck_strset_finish(&c.people);
}

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->start_ms != y->start_ms)
        return x->start_ms > y->start_ms ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void free_rows(struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].name);
        free(rows[i].title);
        free(rows[i].tz);
        free(rows[i].hashtag);
    }
    free(rows);
}

static void put(struct ck_sink *o, const char *s)
{
    ck_html_text(o, s, strlen(s), false);
}

/* A link to name/file (name percent-encoded) around the escaped label. */
static void file_link(struct ck_sink *o, const char *name, const char *file, const char *label)
{
    ck_sink_puts(o, "<a href=\"");
    ck_url_encode_segment(o, name);
    ck_sink_puts(o, "/");
    ck_sink_puts(o, file);
    ck_sink_puts(o, "\"><bdi>");
    put(o, label);
    ck_sink_puts(o, "</bdi></a>");
}

static void write_rows(struct ck_sink *o, const struct row *rows, size_t n)
{
    ck_sink_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>Chat archive</title>\n<style>\n");
    ck_sink_puts(o, ck_rstyle_base);
    /* Cells wrap between words only (the base breaks anywhere, which would
     * squeeze the headings to a letter a line). Five columns do not fit a
     * phone: there each row is a block, the title on a line of its own and
     * the numbers labelled from data-label. */
    ck_sink_puts(o, "body{max-width:50rem}\n"
                    "table{border-collapse:collapse;width:100%}th,td{text-align:left;"
                    "padding:.4rem;border-bottom:1px solid var(--rule);vertical-align:top;"
                    "overflow-wrap:normal}\ntd:first-child{white-space:nowrap}\n"
                    "td.n,th.n{text-align:right}.also{color:var(--muted);font-size:.9rem}\n"
                    "@media (max-width: 36rem){thead{display:none}table,tbody,tr{display:block}"
                    "tr{padding:.5rem 0;border-bottom:1px solid var(--rule)}"
                    "td,td.n{display:inline-block;border:0;padding:.1rem .8rem .1rem 0;"
                    "text-align:left}td.title{display:block;overflow-wrap:anywhere}"
                    "td[data-label]::before{content:attr(data-label) \" \";color:var(--muted)}}\n"
                    "</style>\n</head>\n<body>\n<h1>Chat archive</h1>\n");
    if (n == 0) {
        ck_sink_puts(o, "<p>No sessions yet.</p>\n</body>\n</html>\n");
        return;
    }
    ck_sink_printf(o,
                   "<p>%lu session%s, newest first.</p>\n<table>\n"
                   "<thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Title</th>"
                   "<th scope=\"col\">Hashtag</th><th scope=\"col\" class=\"n\">People</th>"
                   "<th scope=\"col\" class=\"n\">Messages</th></tr></thead>\n<tbody>\n",
                   (unsigned long)n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        struct ck_local_time lt;
        ck_sink_puts(o, "<tr><td>");
        if (ck_series_local_time(r->tz, r->start_ms, &lt) == 0)
            ck_sink_printf(o, "<time datetime=\"%04d-%02d-%02d\">%04d-%02d-%02d</time>",
                           lt.year % 10000, lt.month % 100, lt.day % 100, lt.year % 10000,
                           lt.month % 100, lt.day % 100);
        ck_sink_puts(o, "</td><td class=\"title\">");
        if (r->transcript) {
            file_link(o, r->name, "transcript.html", r->title);
        } else {
            ck_sink_puts(o, "<bdi>");
            put(o, r->title);
            ck_sink_puts(o, "</bdi>");
        }
        if (r->writeup) {
            ck_sink_puts(o, "<br><span class=\"also\">");
            file_link(o, r->name, "writeup.html", "Write-up");
            ck_sink_puts(o, "</span>");
        }
        ck_sink_puts(o, "</td><td class=\"tag\"><bdi>#");
        put(o, r->hashtag);
        ck_sink_printf(o,
                       "</bdi></td><td class=\"n\" data-label=\"People\">%ld</td>"
                       "<td class=\"n\" data-label=\"Messages\">%ld</td></tr>\n",
                       r->people, r->messages);
    }
    ck_sink_puts(o, "</tbody>\n</table>\n</body>\n</html>\n");
}

int ck_render_index(const char *archive_dir, struct ck_error *err)
{
    DIR *d = opendir(archive_dir);
    if (d == NULL)
        return ck_error_set(err, -errno, "%s: %s", archive_dir, strerror(errno));
    struct row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char sub[PATH_MAX], path[PATH_MAX + 16];
        struct stat st;
        int k = snprintf(sub, sizeof sub, "%s/%s", archive_dir, e->d_name);
        if (e->d_name[0] == '.' || k < 0 || (size_t)k >= sizeof sub || stat(sub, &st) != 0 ||
            !S_ISDIR(st.st_mode) || !exists(sub, "session.json") || !exists(sub, "messages.jsonl"))
            continue;
        snprintf(path, sizeof path, "%s/session.json", sub);
        struct ck_session s = {0};
        struct ck_error e2 = {0};
        if (ck_session_load(path, &s, &e2) != 0) {
            ck_warn("render: %s left out of the index: %s", path, e2.msg);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct row *nr = realloc(rows, nc * sizeof *nr);
            if (nr == NULL) {
                ck_session_finish(&s);
                rc = CK_ENOMEM;
                break;
            }
            rows = nr;
            cap = nc;
        }
        struct row *r = &rows[n];
        *r = (struct row){.name = strdup(e->d_name),
                          .title = strdup(s.title),
                          .tz = strdup(s.timezone),
                          .hashtag = strdup(s.hashtag),
                          .start_ms = s.start_ms,
                          .transcript = exists(sub, "transcript.html"),
                          .writeup = exists(sub, "writeup.html")};
        ck_session_finish(&s);
        n++;
        if (r->name == NULL || r->title == NULL || r->tz == NULL || r->hashtag == NULL) {
            rc = CK_ENOMEM;
            break;
        }
        counts(sub, r);
    }
    closedir(d);
    if (rc != 0) {
        free_rows(rows, n);
        return ck_error_set(err, rc, "out of memory");
    }
    if (n > 1)
        qsort(rows, n, sizeof *rows, row_cmp);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/index.html", archive_dir);
    struct ck_sink o;
    rc = ck_sink_open_file(&o, path, err);
    if (rc == 0) {
        write_rows(&o, rows, n);
        rc = ck_sink_finish(&o);
    }
    free_rows(rows, n);
    return rc;
}
