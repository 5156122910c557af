/* The session file: read, parse with jansson, validate strictly, resolve to UTC.
 *
 * Every error is one line, "file:line:column: field 'path': what was wrong",
 * so an editor can jump to it. jansson gives positions for syntax errors
 * only; for everything else we look the field's path up in a table built by a
 * second pass over the text (config_pos.c). Unknown fields are errors, with
 * the closest known name suggested: a typo silently ignored would make a chat
 * go out at the wrong time. The generic checks live in config_check.c, the
 * token and URL rules in config_access.c. */
#include "chatkeeper/config.h"
#include "chatkeeper/jsonerr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/timeutil.h"
#include "chatkeeper/userfile.h"
#include "config_check.h"
#include "config_x.h"
#include "config_pos.h"

#define MAX_FILE_SIZE (1024 * 1024)

static int parse_step(struct ck_cfg_ctx *c, const json_t *v, const char *path,
                      enum ck_step_kind kind, int number, int64_t duration, struct ck_step *st)
{
    static const char *const keys[] = {"at", "text"};
    if (!json_is_object(v)) {
        char got[64];
        ck_cfg_describe(v, got, sizeof got);
        return ck_cfg_fail(c, path, 0,
                           "expected an object {\"at\": \"5m\", \"text\": \"...\"}, got %s", got);
    }
    int rc = ck_cfg_check_keys(c, v, path, keys, 2);
    if (rc == 0)
        rc = ck_cfg_duration(c, v, path, "at", 1, &st->at_ms);
    if (rc == 0)
        rc = ck_cfg_string(c, v, path, "text", 1, &st->text);
    if (rc != 0)
        return rc;
    st->kind = kind;
    st->number = number;
    /* duration is the plan; a closing may come in the grace period, when
     * the chat overran (the caller passes duration + grace for it) */
    if (st->at_ms > duration) {
        char p[256], d[32], got[64];
        ck_cfg_join(p, sizeof p, path, "at");
        ck_duration_format(duration, d, sizeof d);
        ck_cfg_describe(json_object_get(v, "at"), got, sizeof got);
        return ck_cfg_fail(c, p, 0, "expected an offset within the chat's %s (0s to %s), got %s",
                           kind == CK_STEP_CLOSING ? "duration and grace" : "duration", d, got);
    }
    return 0;
}

/* Two steps at one instant would post at once, and the order of the run sheet
 * must be the order of the chat. */
static int check_order(struct ck_cfg_ctx *c, const char *path, int64_t at, const char *other,
                       int64_t other_at, int must_be_later)
{
    char p[256], a[32], b[32];
    ck_cfg_join(p, sizeof p, path, "at");
    ck_duration_format(at, a, sizeof a);
    ck_duration_format(other_at, b, sizeof b);
    if (at == other_at)
        return ck_cfg_fail(c, p, 0, "at the same time as %s (%s); expected %s offset", other, b,
                           must_be_later ? "a later" : "an earlier");
    if (must_be_later && at < other_at)
        return ck_cfg_fail(c, p, 0, "out of order: expected later than %s (%s), got \"%s\"", other,
                           b, a);
    if (!must_be_later && at > other_at)
        return ck_cfg_fail(c, p, 0, "out of order: expected earlier than %s (%s), got \"%s\"",
                           other, b, a);
    return 0;
}

static int parse_run_sheet(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s)
{
    json_t *v;
    int rc = ck_cfg_object(c, root, "", "welcome", 0, &v);
    if (rc == 0 && v != NULL) {
        rc = parse_step(c, v, "welcome", CK_STEP_WELCOME, 0, s->duration_ms, &s->welcome);
        s->has_welcome = true; /* set even on error so finish frees the text */
    }
    if (rc == 0)
        rc = ck_cfg_object(c, root, "", "closing", 0, &v);
    if (rc == 0 && v != NULL) {
        rc = parse_step(c, v, "closing", CK_STEP_CLOSING, 0, s->duration_ms + s->grace_ms,
                        &s->closing);
        s->has_closing = true;
    }
    if (rc == 0)
        rc = ck_cfg_member(c, root, "", "questions", 1, "a non-empty array of {\"at\", \"text\"}",
                           &v);
    if (rc != 0)
        return rc;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        char got[64];
        ck_cfg_describe(v, got, sizeof got);
        return ck_cfg_fail(c, "questions", 0,
                           "expected a non-empty array of {\"at\": ..., \"text\": ...}, got %s",
                           got);
    }
    size_t n = json_array_size(v);
    s->questions = calloc(n, sizeof *s->questions);
    if (s->questions == NULL)
        return ck_cfg_oom(c);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char p[64], prev[64];
        snprintf(p, sizeof p, "questions[%zu]", i);
        s->n_questions = i + 1;
        rc = parse_step(c, json_array_get(v, i), p, CK_STEP_QUESTION, (int)i + 1, s->duration_ms,
                        &s->questions[i]);
        if (rc == 0 && i > 0) {
            snprintf(prev, sizeof prev, "questions[%zu]", i - 1);
            rc = check_order(c, p, s->questions[i].at_ms, prev, s->questions[i - 1].at_ms, 1);
        }
    }
    if (rc == 0 && s->has_welcome)
        rc = check_order(c, "welcome", s->welcome.at_ms, "questions[0]", s->questions[0].at_ms, 0);
    if (rc == 0 && s->has_closing) {
        char last[64];
        snprintf(last, sizeof last, "questions[%zu]", n - 1);
        rc = check_order(c, "closing", s->closing.at_ms, last, s->questions[n - 1].at_ms, 1);
    }
    return rc;
}

/* "@user" as on Twitter (1-15 letters, digits, _), accepted for imports only:
 * a live chat's facilitators are fediverse accounts with a domain. */
static int twitter_handle_ok(const char *f)
{
    size_t n = strlen(f);
    return n >= 2 && n <= 16 && f[0] == '@' &&
           strspn(f + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
               n - 1;
}

/* One of NAME_env / NAME_file (secrets never live in the session file). */
static int secret_source(struct ck_cfg_ctx *c, const json_t *o, const char *path, const char *name)
{
    char ek[32], fk[32], p[64];
    snprintf(ek, sizeof ek, "%s_env", name);
    snprintf(fk, sizeof fk, "%s_file", name);
    json_t *e = json_object_get(o, ek), *f = json_object_get(o, fk);
    if ((e == NULL) == (f == NULL))
        return ck_cfg_fail(c, path, 0, "expected exactly one of %s and %s", ek, fk);
    snprintf(p, sizeof p, "%s.%s", path, e ? ek : fk);
    const char *v = json_string_value(e ? e : f);
    if (v == NULL || v[0] == '\0')
        return ck_cfg_fail(c, p, 0, "expected a non-empty string");
    return 0;
}

static int string_list(struct ck_cfg_ctx *c, const json_t *o, const char *path, const char *key)
{
    json_t *v = json_object_get(o, key);
    char p[64];
    snprintf(p, sizeof p, "%s.%s", path, key);
    bool ok = v == NULL || json_is_array(v);
    for (size_t i = 0; v != NULL && ok && i < json_array_size(v); i++) {
        const char *t = json_string_value(json_array_get(v, i));
        ok = t != NULL && t[0] != '\0';
    }
    return ok ? 0 : ck_cfg_fail(c, p, 0, "expected an array of non-empty strings");
}

static int url_field(struct ck_cfg_ctx *c, const json_t *o, const char *path, const char *key,
                     int required)
{
    char *u = NULL, p[64];
    int rc = ck_cfg_string(c, o, path, key, required, &u);
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (rc == 0 && u != NULL && !ck_url_allowed(u))
        rc = ck_cfg_fail(c, p, 0, "expected an https:// URL (http:// only on loopback), got \"%s\"",
                         u);
    free(u);
    return rc;
}

/* The publish section (issue 5): validated here, read by src/publish/. */
static int parse_publish(struct ck_cfg_ctx *c, const json_t *pub)
{
    static const char *const keys[] = {"wordpress", "micropub", "announce", "template",
                                       "transcript_url"};
    static const char *const wk[] = {"url",    "user",       "password_env", "password_file",
                                     "status", "categories", "tags"};
    static const char *const mk[] = {"endpoint", "token_env", "token_file", "categories"};
    static const char *const statuses[] = {"draft", "publish", "pending", "private"};
    json_t *wp = NULL, *mp = NULL;
    bool b;
    char *st = NULL;
    int rc = ck_cfg_check_keys(c, pub, "publish", keys, sizeof keys / sizeof keys[0]);
    if (rc == 0)
        rc = ck_cfg_bool(c, pub, "publish", "announce", &b);
    if (rc == 0)
        rc = ck_cfg_member(c, pub, "publish", "template", 0, "a file name", &wp);
    if (rc == 0 && wp != NULL && !json_is_string(wp))
        rc = ck_cfg_fail(c, "publish.template", 0, "expected a file name");
    if (rc == 0)
        rc = url_field(c, pub, "publish", "transcript_url", 0);
    if (rc == 0)
        rc = ck_cfg_object(c, pub, "publish", "wordpress", 0, &wp);
    if (rc == 0 && wp != NULL) {
        rc = ck_cfg_check_keys(c, wp, "publish.wordpress", wk, sizeof wk / sizeof wk[0]);
        if (rc == 0)
            rc = url_field(c, wp, "publish.wordpress", "url", 1);
        if (rc == 0)
            rc = ck_cfg_string(c, wp, "publish.wordpress", "user", 1, &st);
        free(st);
        st = NULL;
        if (rc == 0)
            rc = secret_source(c, wp, "publish.wordpress", "password");
        if (rc == 0)
            rc = ck_cfg_string(c, wp, "publish.wordpress", "status", 0, &st);
        bool ok = st == NULL;
        for (size_t i = 0; st != NULL && i < sizeof statuses / sizeof statuses[0]; i++)
            ok = ok || strcmp(st, statuses[i]) == 0;
        if (rc == 0 && !ok)
            rc = ck_cfg_fail(
                c, "publish.wordpress.status", 0,
                "expected \"draft\", \"publish\", \"pending\" or \"private\", got \"%s\"", st);
        free(st);
        if (rc == 0)
            rc = string_list(c, wp, "publish.wordpress", "categories");
        if (rc == 0)
            rc = string_list(c, wp, "publish.wordpress", "tags");
    }
    if (rc == 0)
        rc = ck_cfg_object(c, pub, "publish", "micropub", 0, &mp);
    if (rc == 0 && mp != NULL) {
        rc = ck_cfg_check_keys(c, mp, "publish.micropub", mk, sizeof mk / sizeof mk[0]);
        if (rc == 0)
            rc = url_field(c, mp, "publish.micropub", "endpoint", 1);
        if (rc == 0)
            rc = secret_source(c, mp, "publish.micropub", "token");
        if (rc == 0)
            rc = string_list(c, mp, "publish.micropub", "categories");
    }
    return rc;
}

static int parse_extras(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s)
{
    static const char *const poll_keys[] = {"chat", "quiet"};
    json_t *v;
    int rc = ck_cfg_member(c, root, "", "facilitators", 0, "", &v);
    if (rc == 0 && v != NULL && !json_is_array(v)) {
        char got[64];
        ck_cfg_describe(v, got, sizeof got);
        return ck_cfg_fail(c, "facilitators", 0, "expected an array of \"@user@domain\", got %s",
                           got);
    }
    if (v != NULL && json_array_size(v) > 0) {
        s->facilitators = calloc(json_array_size(v), sizeof *s->facilitators);
        if (s->facilitators == NULL)
            return ck_cfg_oom(c);
        /* One list for every platform (issue 11), each handle written as its
         * platform writes accounts: Bluesky's where the session has Bluesky. */
        bool bsky = s->imported, x = s->imported;
        for (size_t i = 0; i < ck_session_n_platforms(s); i++) {
            bsky = bsky || strcmp(ck_session_platform_at(s, i)->type, "bluesky") == 0;
            x = x || strcmp(ck_session_platform_at(s, i)->type, "x") == 0;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *f = json_array_get(v, i);
            const char *fs = json_string_value(f);
            if (fs != NULL && !bsky && ck_cfg_bluesky_handle_ok(fs)) {
                char p[64];
                snprintf(p, sizeof p, "facilitators[%zu]", i);
                return ck_cfg_fail(c, p, 0,
                                   "\"%s\" is a Bluesky handle, and no entry of \"platforms\" "
                                   "is Bluesky; expected a handle like \"@user@example.social\"",
                                   fs);
            }
            if (!json_is_string(f) ||
                !(ck_cfg_facilitator_ok(fs) || (bsky && ck_cfg_bluesky_handle_ok(fs)) ||
                  (x && twitter_handle_ok(fs)))) {
                char p[64], got[64];
                snprintf(p, sizeof p, "facilitators[%zu]", i);
                ck_cfg_describe(f, got, sizeof got);
                return ck_cfg_fail(c, p, 0,
                                   "expected a handle like \"@user@example.social\", got %s", got);
            }
            s->facilitators[i] = strdup(json_string_value(f));
            if (s->facilitators[i] == NULL)
                return ck_cfg_oom(c);
            s->n_facilitators = i + 1;
        }
    }
    rc = ck_cfg_string(c, root, "", "question_format", 0, &s->question_format);
    if (rc != 0)
        return rc;
    if (s->question_format != NULL) {
        char why[160];
        if (ck_cfg_format_problem(s->question_format, why, sizeof why) != NULL)
            return ck_cfg_fail(c, "question_format", 0, "%s", why);
    } else {
        s->question_format = strdup("Q{n} {text} #{hashtag}");
        if (s->question_format == NULL)
            return ck_cfg_oom(c);
    }
    s->missed_step_limit_ms = 10 * 60000;
    rc = ck_cfg_duration(c, root, "", "missed_step_limit", 0, &s->missed_step_limit_ms);
    s->poll_chat_ms = 5000;
    s->poll_quiet_ms = 20000;
    if (rc == 0)
        rc = ck_cfg_object(c, root, "", "poll", 0, &v);
    if (rc == 0 && v != NULL) {
        rc = ck_cfg_check_keys(c, v, "poll", poll_keys, 2);
        if (rc == 0)
            rc = ck_cfg_duration(c, v, "poll", "chat", 0, &s->poll_chat_ms);
        if (rc == 0)
            rc = ck_cfg_duration(c, v, "poll", "quiet", 0, &s->poll_quiet_ms);
        if (rc == 0 && (s->poll_chat_ms < 1000 || s->poll_quiet_ms < 1000))
            return ck_cfg_fail(c, s->poll_chat_ms < 1000 ? "poll.chat" : "poll.quiet", 0,
                               "expected at least 1s (polling faster is impolite to the server)");
    }
    if (rc == 0)
        rc = ck_cfg_object(c, root, "", "publish", 0, &v);
    if (rc == 0 && v != NULL)
        rc = parse_publish(c, v);
    char *ad = NULL;
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "archive_dir", 0, &ad);
    if (rc != 0)
        return rc;
    /* Unset: "archive" in the current directory, where a user typing
     * `chatkeeper archive archive/DATE-TITLE` looks for it. Written in the file:
     * relative to the file's folder, so it means the same from anywhere. */
    if (ad == NULL || ad[0] == '/') {
        s->archive_dir = ad != NULL ? ad : strdup("archive");
        return s->archive_dir ? 0 : ck_cfg_oom(c);
    }
    size_t n = strlen(s->dir) + strlen(ad) + 2;
    s->archive_dir = malloc(n);
    if (s->archive_dir != NULL)
        snprintf(s->archive_dir, n, "%s/%s", s->dir, ad);
    free(ad);
    return s->archive_dir ? 0 : ck_cfg_oom(c);
}

static int parse_start(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s)
{
    json_t *v;
    int rc = ck_cfg_member(c, root, "", "start", 1, "a local time like 2026-12-03T20:00", &v);
    if (rc != 0)
        return rc;
    char got[64];
    ck_cfg_describe(v, got, sizeof got);
    if (!json_is_string(v))
        return ck_cfg_fail(c, "start", 0, "expected a local time like 2026-12-03T20:00, got %s",
                           got);
    const char *t = json_string_value(v);
    /* An explicit offset wins; the zone is then used only for display. */
    if (ck_time_parse_rfc3339(t, &s->start_ms) == 0)
        return 0;
    struct ck_error e = {0};
    if (ck_time_local_to_utc(s->timezone, t, &s->start_ms, &e) == 0)
        return 0;
    if (strncmp(e.msg, "expected", 8) == 0)
        return ck_cfg_fail(
            c, "start", 0,
            "expected a local time like 2026-12-03T20:00 (seconds and an offset such "
            "as Z or +01:00 allowed), got %s",
            got);
    return ck_cfg_fail(c, "start", 0, "%s", e.msg);
}

static int validate(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s)
{
    static const char *const keys[] = {
        "title",    "description", "hashtag",         "timezone",          "start",
        "duration", "lead",        "grace",           "platform",          "facilitators",
        "post",     "thread",      "platforms",       "welcome",           "questions",
        "closing",  "archive_dir", "question_format", "missed_step_limit", "poll",
        "publish",  "imported",    "reminders",       "agenda_url",        "alerts"};
    int rc = ck_cfg_check_keys(c, root, "", keys, sizeof keys / sizeof keys[0]);
    char *imported = NULL;
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "imported", 0, &imported);
    if (rc == 0 && imported != NULL && strcmp(imported, "mastodon") != 0 &&
        strcmp(imported, "bluesky") != 0 && strcmp(imported, "x") != 0)
        rc = ck_cfg_fail(c, "imported", 0,
                         "expected \"mastodon\", \"bluesky\" or \"x\", got \"%s\"", imported);
    if (imported != NULL)
        s->imported = true;
    free(imported);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "title", 1, &s->title);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "description", 0, &s->description);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "hashtag", 1, &s->hashtag);
    if (rc != 0)
        return rc;
    if (s->hashtag[0] == '#')
        memmove(s->hashtag, s->hashtag + 1, strlen(s->hashtag));
    if (!ck_cfg_hashtag_ok(s->hashtag))
        return ck_cfg_fail(
            c, "hashtag", 0,
            "expected letters, digits and underscores (like \"uklibchat\"), got \"%s\"",
            json_string_value(json_object_get(root, "hashtag")));
    rc = ck_cfg_string(c, root, "", "timezone", 1, &s->timezone);
    if (rc != 0)
        return rc;
    if (!ck_time_zone_valid(s->timezone))
        return ck_cfg_fail(c, "timezone", 0,
                           "unknown time zone \"%s\"; expected an IANA name like Europe/London",
                           s->timezone);
    rc = parse_start(c, root, s);
    if (rc == 0)
        rc = ck_cfg_duration(c, root, "", "duration", 1, &s->duration_ms);
    if (rc == 0 && s->duration_ms <= 0)
        return ck_cfg_fail(c, "duration", 0, "expected a duration longer than 0s");
    s->lead_ms = 15 * 60000;
    s->grace_ms = 30 * 60000;
    s->post = true;
    if (rc == 0)
        rc = ck_cfg_duration(c, root, "", "lead", 0, &s->lead_ms);
    if (rc == 0)
        rc = ck_cfg_duration(c, root, "", "grace", 0, &s->grace_ms);
    if (rc == 0)
        rc = ck_cfg_bool(c, root, "", "post", &s->post);
    if (rc == 0)
        rc = ck_cfg_bool(c, root, "", "thread", &s->thread);
    if (rc == 0)
        rc = ck_cfg_platforms(c, root, s);
    if (rc == 0)
        rc = parse_extras(c, root, s);
    if (rc == 0)
        rc = parse_run_sheet(c, root, s);
    if (rc == 0)
        rc = ck_cfg_reminders(c, root, s);
    return rc;
}

static int set_paths(const char *name, struct ck_session *s)
{
    s->path = strdup(name);
    const char *slash = strrchr(name, '/');
    if (slash == NULL)
        s->dir = strdup(".");
    else if (slash == name)
        s->dir = strdup("/");
    else
        s->dir = strndup(name, (size_t)(slash - name));
    return s->path && s->dir ? 0 : CK_ENOMEM;
}

static int load_buffer(const char *name, const char *text, size_t len, bool import,
                       struct ck_session *s, struct ck_error *err)
{
    memset(s, 0, sizeof *s);
    s->imported = import;
    json_error_t jerr;
    bool oom;
    json_t *root = ck_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    /* jansson says column 0 (or line -1) at the end of input; editors count from 1. */
    if (root == NULL)
        return ck_error_set(err, oom ? CK_ENOMEM : CK_ECONFIG, "%s:%d:%d: %s", name,
                            jerr.line < 1 ? 1 : jerr.line, jerr.column < 1 ? 1 : jerr.column,
                            jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return ck_error_set(err, CK_ECONFIG, "%s:1:1: expected a JSON object { ... }", name);
    }
    s->json = root;
    struct ck_jpos pos;
    int rc = ck_jpos_scan(text, len, &pos);
    if (rc != 0) {
        ck_session_finish(s);
        return ck_error_set(err, rc, "%s: out of memory", name);
    }
    struct ck_cfg_ctx c = {name, &pos, err};
    rc = set_paths(name, s);
    if (rc != 0)
        rc = ck_cfg_oom(&c);
    else
        rc = validate(&c, root, s);
    ck_jpos_finish(&pos);
    if (rc != 0)
        ck_session_finish(s);
    return rc;
}

int ck_session_load_buffer(const char *name, const char *text, size_t len, struct ck_session *s,
                           struct ck_error *err)
{
    return load_buffer(name, text, len, false, s, err);
}

static int load_file(const char *path, bool import, struct ck_session *s, struct ck_error *err)
{
    memset(s, 0, sizeof *s);
    char *buf;
    size_t len;
    int rc = ck_read_user_file(path, MAX_FILE_SIZE, "a session file", 0, &buf, &len, err);
    if (rc == 0)
        rc = load_buffer(path, buf, len, import, s, err);
    free(buf);
    return rc;
}

int ck_session_load(const char *path, struct ck_session *s, struct ck_error *err)
{
    return load_file(path, false, s, err);
}

int ck_session_load_import(const char *path, struct ck_session *s, struct ck_error *err)
{
    return load_file(path, true, s, err);
}

static void step_finish(struct ck_step *st)
{
    free(st->text);
    st->text = NULL;
}

void ck_session_finish(struct ck_session *s)
{
    if (s == NULL)
        return;
    free(s->path);
    free(s->dir);
    free(s->title);
    free(s->description);
    free(s->hashtag);
    free(s->timezone);
    ck_platform_conf_finish(&s->platform);
    for (size_t i = 0; i < s->n_more_platforms; i++)
        ck_platform_conf_finish(&s->more_platforms[i]);
    free(s->more_platforms);
    for (size_t i = 0; i < s->n_facilitators; i++)
        free(s->facilitators[i]);
    free(s->facilitators);
    free(s->question_format);
    step_finish(&s->welcome);
    step_finish(&s->closing);
    for (size_t i = 0; i < s->n_questions; i++)
        step_finish(&s->questions[i]);
    free(s->questions);
    for (size_t i = 0; i < s->n_reminders; i++)
        step_finish(&s->reminders[i]);
    free(s->reminders);
    free(s->agenda_url);
    free(s->alert_webhook);
    free(s->alert_email);
    free(s->archive_dir);
    json_decref(s->json);
    memset(s, 0, sizeof *s);
}
