/* The review's "publish" button (review_int.h): the same publishing as
 * `chatkeeper publish DIR`, with its exactly-once records in state.json, and
 * a second press answered from those records instead of sent again. Runs
 * where the review's controls run (review.c): never beside another jansson
 * user on another thread. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/publish.h"
#include "chatkeeper/state.h"

#include "review_int.h"

static const char *const targets[] = {"wordpress", "micropub", "announce"};

static const char *url_of(const json_t *rec)
{
    const char *u = json_string_value(json_object_get(rec, "link"));
    return u != NULL ? u : json_string_value(json_object_get(rec, "url"));
}

json_t *ck_review__published(const char *dir)
{
    json_t *out = json_array();
    char *path = ck_path_join(dir, "state.json");
    json_t *st = path != NULL ? json_load_file(path, 0, NULL) : NULL;
    free(path);
    json_t *pub = json_object_get(st, "published");
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        const char *u = url_of(json_object_get(pub, targets[i]));
        if (u != NULL)
            json_array_append_new(out, json_pack("{s:s, s:s}", "target", targets[i], "url", u));
    }
    json_decref(st);
    return out;
}

/* Whether every target the session's "publish" names is recorded (the
 * announcement only where there is a live platform to post it on). */
static bool all_recorded(const char *dir, const json_t *published)
{
    char *path = ck_path_join(dir, "session.json");
    json_t *s = path != NULL ? json_load_file(path, 0, NULL) : NULL;
    free(path);
    const json_t *conf = json_object_get(s, "publish");
    bool live = json_object_get(s, "imported") == NULL &&
                (json_object_get(s, "platform") != NULL || json_object_get(s, "platforms") != NULL);
    size_t wanted = 0, have = 0;
    for (size_t i = 0; json_is_object(conf) && i < sizeof targets / sizeof *targets; i++) {
        const json_t *c = json_object_get(conf, targets[i]);
        if (!json_is_object(c) && !(json_is_true(c) && live))
            continue;
        wanted++;
        size_t k;
        json_t *p;
        json_array_foreach(published, k, p)
        {
            if (strcmp(json_string_value(json_object_get(p, "target")), targets[i]) == 0) {
                have++;
                break;
            }
        }
    }
    json_decref(s);
    return wanted > 0 && have == wanted;
}

static void list_urls(const json_t *published, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    size_t i;
    json_t *p;
    json_array_foreach(published, i, p)
    {
        int w = snprintf(buf + o, n - o, "%s%s", o ? ", " : "",
                         json_string_value(json_object_get(p, "url")));
        if (w < 0 || (size_t)w >= n - o)
            break;
        o += (size_t)w;
    }
}

int ck_review__publish(const char *dir, bool rehearsal, char *msg, size_t n)
{
    if (rehearsal) { /* never for real: what would be sent goes to the terminal */
        struct ck_publish_opts dry = {.dry_run = true, .no_platform = true, .out = stderr};
        struct ck_error err = {0};
        int rc = ck_publish_session(dir, &dry, &err);
        snprintf(msg, n, "a rehearsal is never published%s%s", rc != 0 ? ": " : " (dry run only)",
                 rc != 0 ? err.msg : "");
        return rc != 0 ? 400 : 409;
    }
    char urls[600];
    json_t *before = ck_review__published(dir);
    if (all_recorded(dir, before)) {
        list_urls(before, urls, sizeof urls);
        json_decref(before);
        snprintf(msg, n, "already published at %s (state.json): nothing sent again", urls);
        return 409;
    }
    json_decref(before);
    /* What publish says as it goes is for the terminal; the page gets the outcome. */
    struct ck_publish_opts po = {.out = stderr};
    struct ck_error err = {0};
    int rc = ck_publish_session(dir, &po, &err);
    json_t *after = ck_review__published(dir);
    list_urls(after, urls, sizeof urls);
    json_decref(after);
    if (rc != 0) {
        snprintf(msg, n, "publishing failed: %s%s%s", err.msg[0] ? err.msg : ck_strerror(rc),
                 urls[0] ? "; already published: " : "", urls);
        return rc == CK_ECONFIG ? 400 : 502;
    }
    snprintf(msg, n, "published at %s", urls[0] ? urls : "(no address recorded)");
    return 200;
}
