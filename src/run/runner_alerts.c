/* The runner's alerts (runner_int.h, alerts.h): the poster's problems passed
 * on, "all done" at the end, and an end that waits for the alerts in flight. */
#include "chatkeeper/alerts.h"
#include "chatkeeper/archive.h"
#include "chatkeeper/timeutil.h"

#include "runner_int.h"

/* "all done", with where the write-up went when it was published. */
void ck_runner__alert_done(struct runner *r, const struct ck_archive_stats *st)
{
    const char *url = NULL, *key;
    json_t *v;
    json_object_foreach(json_object_get(r->state, "published"), key, v)
    {
        if (url == NULL)
            url = json_string_value(json_object_get(v, "url"));
    }
    if (url != NULL)
        ck_alert(r->alerts, "done", "all done: %zu messages from %zu people, write-up at %s",
                 st->messages, st->people, url);
    else
        ck_alert(r->alerts, "done", "all done: %zu messages from %zu people, archive in %s",
                 st->messages, st->people, r->dir);
}

static void wait_alerts_body(uv_timer_t *t)
{
    struct runner *r = t->data;
    if (ck_alerts_busy(r->alerts) > 0 && ck_time_now_ms() < r->alerts_until_ms)
        return;
    uv_timer_stop(t);
    ck_runner__shutdown(r, r->end_code);
}

CK_RUNNER_TAGGED(on_wait_alerts, wait_alerts_body)

void ck_runner__end(struct runner *r, int code)
{
    if (ck_alerts_busy(r->alerts) == 0) {
        ck_runner__shutdown(r, code);
        return;
    }
    r->end_code = code;
    r->ending = 1;
    r->alerts_until_ms = ck_time_now_ms() + 10000;
    uv_timer_start(&r->step_timer, on_wait_alerts, 50, 50);
}

void ck_runner__problem(void *arg, const char *cause, const char *text)
{
    struct runner *r = arg;
    ck_alert(r->alerts, cause, "%s", text);
}
