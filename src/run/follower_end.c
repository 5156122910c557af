/* The end of following (see follower.h): at follow_until the sweep reads the
 * whole window backwards once more, then the threads under the question
 * posts and under answers with replies are fetched (replies.h). Split from
 * follower.c, which runs the cycle that leads here. */
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/log.h"
#include "chatkeeper/replies.h"
#include "chatkeeper/timeutil.h"
#include "follower_int.h"

static int threads_journal(void *arg, json_t *items, const unsigned char *repaired)
{
    return ck_fl_journal_page(arg, items, repaired, NULL);
}

static void on_threads_done(int status, size_t requests, void *arg)
{
    struct ck_follower *f = arg;
    f->stats.requests += requests;
    if (status == 0) {
        json_object_set_new(ck_fl_fstate_json(f), "threads_done", json_true());
        ck_fl_save_state(f);
    }
    ck_fl_finish(f, status);
}

/* After the sweep: the threads under question posts and answers with replies. */
void ck_fl_start_threads(struct ck_follower *f)
{
    json_t *o = ck_fl_fstate_json(f);
    if (json_is_true(json_object_get(o, "threads_done")) || f->conf.ops->context_request == NULL) {
        ck_fl_finish(f, 0);
        return;
    }
    ck_fl_set_state(f, F_THREADS);
    f->source = "context";
    json_t *roots = json_array();
    const char *label;
    json_t *step;
    json_object_foreach(json_object_get(f->state, f->conf.steps_key), label, step)
    {
        json_t *id = json_object_get(step, "id");
        if (json_is_string(id))
            json_array_append(roots, id);
    }
    struct ck_replies_conf tc = {
        .ops = f->conf.ops,
        .base_url = f->conf.base_url,
        .token = f->conf.token,
        .journal_path = f->conf.journal_path,
        .source_name = f->conf.source_name,
        .first_source = f->conf.first_source,
        .extra_roots = roots,
        .reply_hints = &f->reply_hints,
        .window_start_ms = f->conf.window_start_ms,
        .window_end_ms =
            f->conf.window_end_ms > 0 ? f->conf.window_end_ms : f->conf.follow_until_ms,
        .deadline_ms = f->conf.sweep_until_ms,
        .rl = &f->rl,
        .hold_warn_ms = f->conf.poll_quiet_ms,
        .journal_new = threads_journal,
        .arg = f,
    };
    struct ck_error err = {0};
    int rc = ck_replies_start(f->loop, f->http, &tc, on_threads_done, f, &f->threads, &err);
    json_decref(roots);
    if (rc < 0) {
        ck_warn("follower: cannot fetch threads: %s", err.msg);
        ck_fl_finish(f, 0);
    }
}

void ck_fl_start_sweep(struct ck_follower *f)
{
    ck_fl_stream_stop(f); /* the sweep reads the whole window: the stream adds nothing */
    json_t *o = ck_fl_fstate_json(f);
    if (json_is_true(json_object_get(o, "sweep_done"))) {
        ck_fl_start_threads(f);
        return;
    }
    ck_fl_set_state(f, F_SWEEP);
    f->mode = M_BACKWARD;
    f->source = "sweep";
    free(f->page_max_id);
    const char *resume = json_string_value(json_object_get(o, "sweep_max_id"));
    f->page_max_id = resume ? strdup(resume) : NULL;
    f->since_ms = f->conf.window_start_ms;
    f->page_oldest_ms = INT64_MAX;
    ck_info("follower: sweeping the session window backwards%s", resume ? " (resuming)" : "");
    ck_fl_schedule_at(f, ck_time_now_ms());
}
