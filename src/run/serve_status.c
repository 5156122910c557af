/* serve's status file (serve.h): what runs, what is next and when, what is
 * finished or cancelled. Written whole and atomically (ck_state_save), so a
 * reader never sees half of it. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "chatkeeper/log.h"
#include "chatkeeper/sdnotify.h"
#include "chatkeeper/series.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

#include "serve_int.h"

static json_t *slot_json(const struct serve *sv, const struct slot *sl)
{
    char ts[32], day[16];
    json_t *o = json_object();
    ck_time_format_rfc3339(sl->start_ms, ts);
    json_object_set_new(o, "title", json_string(sl->title));
    json_object_set_new(o, "file", json_string(sv->src[sl->src].path));
    if (sl->day >= 0) {
        ck_series_day_format(sl->day, day, sizeof day);
        json_object_set_new(o, "date", json_string(day));
    }
    json_object_set_new(o, "start", json_string(ts));
    json_object_set_new(o, "dir", json_string(sl->dir));
    return o;
}

/* The one line `systemctl status` shows (sd_notify STATUS=): how many run
 * and which session is next, when. Titles are the user's: control bytes
 * would end the line (or the protocol's KEY=value list), so they become
 * spaces. */
static void notify_status(const struct serve *sv, int64_t wall)
{
    const struct slot *next = NULL;
    int running = 0;
    for (size_t i = 0; i < sv->n_slots; i++) {
        const struct slot *sl = sv->slots[i];
        if (sl->runner != NULL)
            running++;
        else if (!sl->finished && !sl->cancelled && !sl->no_questions && sl->title[0] != '\0' &&
                 (next == NULL || sl->start_ms < next->start_ms))
            next = sl;
    }
    char title[256] = "", when[32] = "";
    if (next != NULL) {
        snprintf(title, sizeof title, "%s", next->title);
        for (char *c = title; *c != '\0'; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = ' ';
        ck_time_format_rfc3339(next->start_ms, when);
    }
    int64_t in = next != NULL ? (ck_serve__launch_at(sv, next) - wall) / 1000 : 0;
    if (sv->stopping)
        ck_sd_notifyf("STATUS=stopping: saving %d running session(s)", running);
    else if (next != NULL)
        ck_sd_notifyf("STATUS=%d session(s) running; next: '%s' at %s (starts in %llds)", running,
                      title, when, (long long)(in > 0 ? in : 0));
    else
        ck_sd_notifyf("STATUS=%d session(s) running; nothing else to come", running);
}

void ck_serve__write_status(struct serve *sv)
{
    notify_status(sv, ck_time_now_ms());
    if (sv->status_path[0] == '\0')
        return;
    int64_t wall = ck_time_now_ms();
    sv->next_status_ms = wall + 60000;
    json_t *doc = json_object(), *running = json_array(), *next = json_array();
    json_t *finished = json_array(), *cancelled = json_array();
    char ts[32];
    ck_time_format_rfc3339(ck_serve__now(sv), ts);
    json_object_set_new(doc, "updated", json_string(ts));
    json_object_set_new(doc, "state",
                        json_string(sv->closed     ? "stopped"
                                    : sv->stopping ? "stopping"
                                                   : "serving"));
    json_object_set_new(doc, "problems", json_integer(sv->problems));
    for (size_t i = 0; i < sv->n_slots; i++) {
        const struct slot *sl = sv->slots[i];
        if (sl->title[0] == '\0' && !sl->cancelled)
            continue; /* never loaded: a date without questions */
        json_t *o = slot_json(sv, sl);
        if (sl->runner != NULL) {
            json_array_append_new(running, o);
        } else if (sl->cancelled) {
            json_array_append_new(cancelled, o);
        } else if (sl->finished) {
            json_object_set_new(o, "status", json_integer(sl->status));
            json_array_append_new(finished, o);
        } else if (sl->no_questions) {
            json_decref(o);
        } else {
            int64_t in = (ck_serve__launch_at(sv, sl) - wall) / 1000;
            json_object_set_new(o, "starts_in_s", json_integer(in > 0 ? in : 0));
            json_array_append_new(next, o);
        }
    }
    json_object_set_new(doc, "running", running);
    json_object_set_new(doc, "next", next);
    json_object_set_new(doc, "finished", finished);
    json_object_set_new(doc, "cancelled", cancelled);
    /* The archive folder may not exist before the first session makes it. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sv->status_path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
    struct ck_error err = {0};
    if (ck_state_save(sv->status_path, doc, &err) < 0)
        ck_warn("serve: cannot write the status file: %s", err.msg);
    json_decref(doc);
}

int ck_serve_status_path(const struct ck_serve_opts *o, char *buf, size_t n)
{
    if (o->status_path != NULL) {
        snprintf(buf, n, "%s", o->status_path);
        return 0;
    }
    if (o->n_paths == 0) {
        fprintf(stderr, "chatkeeper serve: no file given\n");
        return 2;
    }
    const char *path = o->paths[0];
    struct ck_session s;
    struct ck_error err = {0};
    int rc;
    if (ck_series_is_series(path)) {
        struct ck_series ser;
        rc = ck_series_load(path, &ser, &err);
        if (rc == 0) {
            int64_t day = ck_rule_next(&ser.rule, ck_time_now_ms() / 86400000);
            rc = ck_series_default_session(&ser, day, &s, &err);
            ck_series_finish(&ser);
        }
    } else {
        rc = ck_session_load(path, &s, &err);
    }
    if (rc != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    snprintf(buf, n, "%s/serve-status.json", s.archive_dir);
    ck_session_finish(&s);
    return 0;
}
