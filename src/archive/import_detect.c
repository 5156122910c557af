/* What an import input holds, from the shape of its objects: the keys each
 * tool's records always carry and the others never do. Loose on purpose:
 * it names the format; the platform's normaliser still checks every field. */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/import.h"
#include "import_src.h"

/* Enough to name a file's format: a chat's first minutes, never the whole
 * of a big file (the bytes read are held in memory until the import). */
#define SNIFF_KNOWN 50
#define SNIFF_LINES 1000
#define SNIFF_BYTES (16u * 1024u * 1024u)

static bool is_str(const json_t *o, const char *key)
{
    return json_is_string(json_object_get(o, key));
}

static bool at_uri(const json_t *o)
{
    const char *uri = json_string_value(json_object_get(o, "uri"));
    return uri != NULL && strncmp(uri, "at://", 5) == 0;
}

enum ck_import_kind ck_import_classify(const json_t *v)
{
    if (!json_is_object(v))
        return CK_IMPORT_UNKNOWN;
    /* A chatkeeper journal line: the object inside says. */
    const json_t *inner = json_object_get(v, "object");
    if (json_is_object(inner) && is_str(v, "platform") && is_str(v, "fetched_at"))
        return ck_import_classify(inner);
    /* Every Mastodon status has its account; no tweet has one. */
    if (json_is_object(json_object_get(v, "account")))
        return CK_IMPORT_MASTODON;
    /* API v1.1: id_str and the user object (twarc 1, and Twitter's own
     * archive export). */
    if (is_str(v, "id_str") || (json_is_object(json_object_get(v, "user")) && is_str(v, "text")))
        return CK_IMPORT_TWARC1;
    /* API v2: a response page ({"data": [...] or {...}, "includes": ...}) or
     * a tweet flattened by twarc2 (author_id, often "author" beside it). */
    const json_t *data = json_object_get(v, "data");
    if ((json_is_array(data) || json_is_object(data)) && json_object_get(v, "id") == NULL)
        return CK_IMPORT_TWARC2;
    if (is_str(v, "id") && is_str(v, "text") &&
        (is_str(v, "author_id") || json_is_object(json_object_get(v, "author"))))
        return CK_IMPORT_TWARC2;
    /* Bluesky: a post view (uri at://..., record) or a feed item {"post": ...},
     * or a saved answer: a searchPosts page, a feed, a getPostThread. */
    if (at_uri(v) || at_uri(json_object_get(v, "post")))
        return CK_IMPORT_BLUESKY;
    const json_t *posts = json_object_get(v, "posts");
    const json_t *feed = json_object_get(v, "feed");
    if ((json_is_array(posts) &&
         (json_array_size(posts) == 0 || at_uri(json_array_get(posts, 0)))) ||
        (json_is_array(feed) && at_uri(json_object_get(json_array_get(feed, 0), "post"))) ||
        at_uri(json_object_get(json_object_get(v, "thread"), "post")))
        return CK_IMPORT_BLUESKY;
    return CK_IMPORT_UNKNOWN;
}

const char *ck_import_kind_name(enum ck_import_kind k)
{
    switch (k) {
    case CK_IMPORT_MASTODON:
        return "Mastodon statuses";
    case CK_IMPORT_TWARC1:
        return "twarc v1 (API v1.1 tweets)";
    case CK_IMPORT_TWARC2:
        return "twarc2 (API v2 pages or tweets)";
    case CK_IMPORT_BLUESKY:
        return "Bluesky posts";
    case CK_IMPORT_UNKNOWN:
        break;
    }
    return "not a format import knows";
}

const char *ck_import_kind_format(enum ck_import_kind k)
{
    switch (k) {
    case CK_IMPORT_MASTODON:
        return "mastodon";
    case CK_IMPORT_TWARC1:
    case CK_IMPORT_TWARC2:
        return "twarc";
    case CK_IMPORT_BLUESKY:
        return "bluesky";
    case CK_IMPORT_UNKNOWN:
        break;
    }
    return NULL;
}

static void count_value(struct ck_sniff *sn, const json_t *v)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            count_value(sn, json_array_get(v, i));
        return;
    }
    sn->objects++;
    sn->kinds[ck_import_classify(v)]++;
}

bool ck_src_blank(const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
            return false;
    return true;
}

int ck_sniff_run(struct ck_src *s, struct ck_sniff *sn, bool limited, struct ck_error *err)
{
    uint64_t from = ck_src_tell(s);
    const char *line;
    size_t n;
    int rc;
    while ((rc = ck_src_line(s, &line, &n, err)) == 1) {
        if (ck_src_blank(line, n)) {
            if (limited && ck_src_tell(s) - from >= SNIFF_BYTES)
                return 0;
            continue;
        }
        json_t *v = json_loadb(line, n, 0, NULL);
        if (v == NULL && sn->lines == 0) {
            /* Perhaps one value spread over the file (a saved timeline,
             * pretty-printed): only a held source can go back to see. */
            uint64_t after = ck_src_tell(s);
            ck_src_seek(s, 0);
            json_t *w = ck_src_load_rest(s, NULL);
            if (w != NULL) {
                sn->lines = 1;
                sn->whole = sn->all = true;
                count_value(sn, w);
                json_decref(w);
                return 0;
            }
            ck_src_seek(s, after);
        }
        sn->lines++;
        if (v == NULL) {
            sn->not_json++;
        } else {
            count_value(sn, v);
            json_decref(v);
        }
        if (!limited)
            ck_src_progress(s, sn->objects); /* counting a whole file to refuse it */
        if (limited && (sn->objects - sn->kinds[CK_IMPORT_UNKNOWN] >= SNIFF_KNOWN ||
                        sn->lines >= SNIFF_LINES || ck_src_tell(s) - from >= SNIFF_BYTES))
            return 0;
    }
    if (rc == 0)
        sn->all = true;
    ck_src_progress_end(s);
    return rc;
}

enum ck_import_kind ck_sniff_kind(const struct ck_sniff *sn)
{
    enum ck_import_kind best = CK_IMPORT_UNKNOWN;
    size_t most = 0;
    for (int k = CK_IMPORT_UNKNOWN + 1; k < CK_IMPORT_KINDS; k++) {
        if (sn->kinds[k] > most) {
            most = sn->kinds[k];
            best = (enum ck_import_kind)k;
        }
    }
    return best;
}

static size_t of_format(const struct ck_sniff *sn, const char *format)
{
    if (strcmp(format, "mastodon") == 0)
        return sn->kinds[CK_IMPORT_MASTODON];
    if (strcmp(format, "bluesky") == 0)
        return sn->kinds[CK_IMPORT_BLUESKY];
    return sn->kinds[CK_IMPORT_TWARC1] + sn->kinds[CK_IMPORT_TWARC2];
}

/* One line saying why file i cannot be imported as format (NULL: as
 * anything); first_i names the file that set the format, or is i. */
static int refuse(struct ck_src *src, const struct ck_sniff *sn, size_t i, size_t first_i,
                  const char *format, bool given, struct ck_error *err)
{
    const struct ck_sniff *f = &sn[i];
    enum ck_import_kind k = ck_sniff_kind(f);
    const char *kf = ck_import_kind_format(k);
    const char *name = src[i].name;
    char not_json[64] = "";
    if (f->not_json > 0)
        snprintf(not_json, sizeof not_json, " (and %zu lines are not JSON)", f->not_json);
    if (kf == NULL || (format != NULL && strcmp(kf, format) == 0)) {
        /* Nothing known in it, or known things only after a long unreadable start. */
        if (f->whole)
            return ck_error_set(
                err, CK_EPARSE,
                "%s: nothing to import: no Mastodon status, Bluesky post or tweet in "
                "its JSON",
                name);
        return ck_error_set(
            err, CK_EPARSE,
            "%s: nothing to import: %zu of its %zu lines hold a Mastodon status, "
            "a Bluesky post or a tweet (%zu are not JSON)",
            name, of_format(f, "mastodon") + of_format(f, "bluesky") + of_format(f, "twarc"),
            f->lines, f->not_json);
    }
    if (given)
        return ck_error_set(err, CK_EPARSE,
                            "%s: %zu of %zu objects are %s%s; it looks like %s: "
                            "try --platform %s",
                            name, of_format(f, format), f->objects,
                            strcmp(format, "mastodon") == 0  ? "Mastodon statuses"
                            : strcmp(format, "bluesky") == 0 ? "Bluesky posts"
                                                             : "tweets",
                            not_json, ck_import_kind_name(k), kf);
    return ck_error_set(err, CK_EPARSE,
                        "%s: it looks like %s, but %s holds %s: import each platform into a "
                        "directory of its own",
                        name, ck_import_kind_name(k), src[first_i].name,
                        ck_import_kind_name(ck_sniff_kind(&sn[first_i])));
}

int ck_sniff_choose(struct ck_src *src, struct ck_sniff *sn, size_t n, const char *given,
                    const char **format, enum ck_import_kind *kind, struct ck_error *err)
{
    const char *fmt = given;
    size_t first = n;
    *kind = CK_IMPORT_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
        int rc = ck_sniff_run(&src[i], &sn[i], true, err);
        if (rc != 0)
            return rc;
        if (sn[i].lines == 0 && sn[i].all)
            continue;
        enum ck_import_kind k = ck_sniff_kind(&sn[i]);
        const char *kf = ck_import_kind_format(k);
        if (kf == NULL || (fmt != NULL && strcmp(kf, fmt) != 0)) {
            /* Refused: count the whole file, for a line with true numbers. */
            if (!sn[i].all) {
                ck_src_release(&src[i]);
                rc = ck_sniff_run(&src[i], &sn[i], false, err);
                if (rc != 0)
                    return rc;
            }
            return refuse(src, sn, i, first < n ? first : i, fmt, given != NULL, err);
        }
        if (first == n) {
            first = i;
            *kind = k;
        }
        fmt = kf;
        /* A file can be read again from its start: let go of what the
         * sniff holds, or a hundred inputs would hold 16 MB each. Only
         * standard input keeps its bytes until the import reads them. */
        if (strcmp(src[i].path, "-") != 0) {
            const char *path = src[i].path;
            ck_src_close(&src[i]);
            rc = ck_src_open(&src[i], path, err);
            if (rc != 0)
                return rc;
        }
    }
    if (first == n)
        return ck_error_set(err, CK_EPARSE, "%s: empty: nothing to import", src[0].name);
    *format = fmt;
    return 0;
}
