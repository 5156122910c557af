/* From a session directory to writeup.md and writeup.html: reading the inputs,
 * choosing the template, and the Markdown to HTML step (cmark, safe mode: any
 * raw HTML that escaped the Markdown escaping still never reaches the page). */
#include "chatkeeper/writeup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "chatkeeper/escape.h"
#include "chatkeeper/state.h"
#include "chatkeeper/template.h"

#include "style.h"

#define MAX_TEMPLATE (1024 * 1024)

/* messages.jsonl, one record per line, into the digest: each record is freed
 * as soon as it is counted, so memory stays flat however long the chat.
 * A missing file is an empty chat. */
static int stream_messages(const char *path, struct ck_writeup_digest *d, struct ck_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? 0 : ck_error_set(err, -errno, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (n == 1 && line[0] == '\n')
            continue;
        json_error_t je;
        json_t *m = json_loadb(line, (size_t)n, 0, &je);
        if (!json_is_object(m))
            rc = ck_error_set(err, CK_ECORRUPT, "%s:%ld: not a JSON object: %s", path, lineno,
                              je.text);
        else if (ck_writeup_digest_add(d, m) != 0)
            rc = ck_error_set(err, CK_ENOMEM, "out of memory");
        json_decref(m);
    }
    if (rc == 0 && ferror(f))
        rc = ck_error_set(err, CK_EIO, "%s: read error", path);
    free(line);
    fclose(f);
    return rc;
}

int ck_writeup_begin(const char *dir, const struct ck_session *s, struct ck_writeup_digest **digest,
                     json_t **deleted, struct ck_error *err)
{
    *digest = NULL;
    *deleted = NULL;
    char *dp = ck_path_join(dir, "deleted.json");
    if (dp == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    /* deleted.json has the same shape as a state file: reuse its loader,
     * which gives {} for a missing file and refuses a corrupt one. */
    json_t *doc = NULL;
    int rc = ck_state_load(dp, &doc, err);
    free(dp);
    json_t *ids = json_object_get(doc, "deleted");
    *deleted = json_is_array(ids) ? json_incref(ids) : json_array();
    json_decref(doc);
    if (rc == 0 && *deleted == NULL)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0 && ck_writeup_digest_create(s, *deleted, digest) != 0)
        rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc != 0) {
        json_decref(*deleted);
        *deleted = NULL;
    }
    return rc;
}

int ck_writeup_load(const char *dir, struct ck_session *s, struct ck_writeup_digest **digest,
                    json_t **deleted, struct ck_error *err)
{
    *digest = NULL;
    *deleted = NULL;
    char *sp = ck_path_join(dir, "session.json"), *mp = ck_path_join(dir, "messages.jsonl");
    int rc = sp && mp ? 0 : ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0)
        rc = ck_session_load(sp, s, err);
    bool have_session = rc == 0; /* a failed load leaves s finished */
    if (rc == 0)
        rc = ck_writeup_begin(dir, s, digest, deleted, err);
    if (rc == 0)
        rc = stream_messages(mp, *digest, err);
    if (rc != 0) {
        ck_writeup_digest_destroy(*digest);
        json_decref(*deleted);
        *digest = NULL;
        *deleted = NULL;
        if (have_session)
            ck_session_finish(s);
    }
    free(sp);
    free(mp);
    return rc;
}

static int read_template(const char *path, char **out, size_t *len, struct ck_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ck_error_set(err, -errno, "template %s: %s", path, strerror(errno));
    char *buf = malloc(MAX_TEMPLATE + 1);
    size_t n = buf ? fread(buf, 1, MAX_TEMPLATE + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL)
        return ck_error_set(err, CK_ENOMEM, "out of memory");
    if (bad || n > MAX_TEMPLATE) {
        free(buf);
        return ck_error_set(err, bad ? CK_EIO : CK_ETOOBIG, "template %s: %s", path,
                            bad ? "read error" : "larger than 1 MiB");
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int ck_writeup_format(const struct ck_session *s, const json_t *data, char **md, char **html,
                      struct ck_error *err)
{
    *md = *html = NULL;
    const char *own =
        json_string_value(json_object_get(json_object_get(s->json, "publish"), "template"));
    char *path = NULL, *tmpl = NULL;
    const char *text = ck_writeup_default_template, *name = "writeup.md.tmpl (built in)";
    size_t len = strlen(ck_writeup_default_template);
    int rc = 0;
    if (own != NULL) {
        path = own[0] == '/' ? strdup(own) : ck_path_join(s->dir, own);
        rc = path ? read_template(path, &tmpl, &len, err)
                  : ck_error_set(err, CK_ENOMEM, "out of memory");
        text = tmpl;
        name = path;
    }
    struct ck_sink sink;
    ck_sink_init_mem(&sink);
    sink.err = err;
    if (rc == 0)
        rc = ck_template_render(name, text, len, data, &sink, err);
    if (rc != 0) {
        ck_sink_abort(&sink);
    } else {
        rc = ck_sink_finish(&sink);
        *md = sink.buf;
    }
    if (rc == 0 && *md == NULL) /* nothing written: an empty template */
        rc = (*md = strdup("")) ? 0 : ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0) {
        /* CMARK_OPT_DEFAULT is safe since cmark 0.29 (raw HTML and javascript:
         * links become comments and empty links); say it anyway for older ones. */
        *html = cmark_markdown_to_html(*md, strlen(*md), CMARK_OPT_DEFAULT | CMARK_OPT_SAFE);
        if (*html == NULL)
            rc = ck_error_set(err, CK_ENOMEM, "out of memory");
    }
    if (rc != 0) {
        free(*md);
        *md = NULL;
    }
    free(tmpl);
    free(path);
    return rc;
}

static int write_outputs(const char *dir, const json_t *data, const char *md, const char *html,
                         struct ck_error *err)
{
    char *mp = ck_path_join(dir, "writeup.md"), *hp = ck_path_join(dir, "writeup.html");
    int rc = mp && hp ? 0 : ck_error_set(err, CK_ENOMEM, "out of memory");
    if (rc == 0)
        rc = ck_file_write_atomic(mp, md, strlen(md), err);
    struct ck_sink page;
    if (rc == 0)
        rc = ck_sink_open_file(&page, hp, err);
    if (rc == 0) {
        const char *title = json_string_value(json_object_get(data, "title"));
        ck_sink_puts(&page,
                     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>");
        ck_html_text(&page, title, strlen(title), false);
        /* Opened on its own, the page reads like the transcript (the same
         * measure, fonts and schemes); a blog gives the body its own style. */
        ck_sink_puts(&page, "</title>\n<style>\n");
        ck_sink_puts(&page, ck_rstyle_base);
        ck_sink_puts(&page, "</style>\n</head>\n<body>\n<article>\n<h1>");
        ck_html_text(&page, title, strlen(title), false);
        ck_sink_puts(&page, "</h1>\n");
        ck_sink_puts(&page, html);
        ck_sink_puts(&page, "</article>\n</body>\n</html>\n");
        rc = ck_sink_finish(&page);
    }
    free(mp);
    free(hp);
    return rc;
}

int ck_writeup_render_digest(const char *dir, const struct ck_session *s,
                             const struct ck_writeup_digest *digest, const json_t *deleted,
                             struct ck_error *err)
{
    json_t *data = NULL;
    char *md = NULL, *html = NULL;
    int rc = ck_writeup_data(digest, deleted, &data, err);
    if (rc == 0)
        rc = ck_writeup_format(s, data, &md, &html, err);
    if (rc == 0)
        rc = write_outputs(dir, data, md, html, err);
    free(md);
    free(html);
    json_decref(data);
    return rc;
}

int ck_writeup_render(const char *dir, struct ck_error *err)
{
    struct ck_session s = {0};
    struct ck_writeup_digest *digest;
    json_t *deleted;
    int rc = ck_writeup_load(dir, &s, &digest, &deleted, err);
    if (rc != 0)
        return rc;
    rc = ck_writeup_render_digest(dir, &s, digest, deleted, err);
    ck_writeup_digest_destroy(digest);
    json_decref(deleted);
    ck_session_finish(&s);
    return rc;
}
