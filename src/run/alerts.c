/* Alerts (alerts.h): once per cause, to a webhook and by mail. */
#include "chatkeeper/alerts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/http.h"
#include "chatkeeper/log.h"
#include "chatkeeper/state.h"
#include "chatkeeper/timeutil.h"

struct ck_alerts {
    struct ck_http *http;
    json_t *state;
    struct ck_alerts_conf conf;
    int inflight;
    void (*closed_cb)(void *arg);
    void *closed_arg;
};

int ck_alerts_create(uv_loop_t *loop, json_t *state, const struct ck_alerts_conf *conf,
                     struct ck_alerts **out)
{
    *out = NULL;
    if (conf->webhook == NULL && conf->email == NULL)
        return 0;
    struct ck_alerts *a = calloc(1, sizeof *a);
    if (a == NULL)
        return CK_ENOMEM;
    struct ck_error err = {0};
    if (conf->webhook != NULL && ck_http_create(loop, NULL, &a->http, &err) < 0) {
        free(a);
        return CK_ENOMEM;
    }
    ck_http_set_log_tag(a->http, conf->log_tag);
    a->state = state;
    a->conf = *conf;
    *out = a;
    return 0;
}

static void on_posted(int status, const struct ck_response *resp, const char *errmsg, void *arg)
{
    struct ck_alerts *a = arg;
    a->inflight--;
    if (status == CK_ECANCELED)
        return;
    if (status < 0)
        ck_warn("alerts: the webhook did not answer: %s%s%s", ck_strerror(status),
                errmsg[0] ? ": " : "", errmsg);
    else if (resp->status < 200 || resp->status > 299)
        ck_warn("alerts: the webhook answered HTTP %ld", resp->status);
}

static void post_webhook(struct ck_alerts *a, const char *subject, const char *text)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "text", text, "content", text, "message", text,
                            "title", subject);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    struct ck_request req = {.method = "POST"};
    req.url = strdup(a->conf.webhook);
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    struct ck_error err = {0};
    if (req.url == NULL || body == NULL ||
        ck_request_add_header(&req, "Content-Type", "application/json") < 0) {
        ck_request_finish(&req);
        ck_warn("alerts: out of memory");
        return;
    }
    if (ck_http_send(a->http, &req, on_posted, a, &err) == 0)
        a->inflight++;
    else
        ck_warn("alerts: cannot send to the webhook: %s", err.msg);
    ck_request_finish(&req);
}

/* A header line must stay one line: anything below a space becomes one. */
static void one_line(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

static void send_mail(struct ck_alerts *a, const char *subject, const char *text)
{
    /* The address was checked at load (no spaces, quotes or line breaks), so
     * it cannot add a header; the message goes on stdin, never the command. */
    FILE *p = popen("sendmail -t -i", "w");
    if (p == NULL) {
        ck_warn("alerts: cannot run sendmail: no mail sent");
        return;
    }
    fprintf(p, "To: %s\nSubject: %s\nContent-Type: text/plain; charset=utf-8\n\n%s\n",
            a->conf.email, subject, text);
    int rc = pclose(p);
    if (rc != 0)
        ck_warn("alerts: sendmail failed (status %d): the mail to %s may not have gone", rc,
                a->conf.email);
}

void ck_alert(struct ck_alerts *a, const char *cause, const char *fmt, ...)
{
    if (a == NULL)
        return;
    json_t *sent = json_object_get(a->state, "alerts");
    if (!json_is_object(sent)) {
        sent = json_object();
        json_object_set_new(a->state, "alerts", sent);
    }
    if (json_object_get(sent, cause) != NULL)
        return; /* at most once per cause */
    char text[1024], subject[300], ts[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(subject, sizeof subject, "chatkeeper: %.80s: %.200s", a->conf.title, text);
    one_line(subject);
    if (strlen(subject) > 120)
        memcpy(subject + 116, "...", 4);
    ck_time_format_rfc3339(ck_time_now_ms(), ts);
    json_object_set_new(sent, cause, json_string(ts));
    struct ck_error err = {0};
    /* Recorded before sending: an alert lost to a crash beats one sent twice. */
    if (ck_state_save(a->conf.state_path, a->state, &err) < 0)
        ck_warn("alerts: %s", err.msg);
    ck_info("alerts: %s", text);
    if (a->conf.webhook != NULL)
        post_webhook(a, subject, text);
    if (a->conf.email != NULL)
        send_mail(a, subject, text);
}

int ck_alerts_busy(const struct ck_alerts *a)
{
    return a != NULL ? a->inflight : 0;
}

static void on_http_closed(void *arg)
{
    struct ck_alerts *a = arg;
    void (*cb)(void *) = a->closed_cb;
    void *carg = a->closed_arg;
    free(a);
    if (cb != NULL)
        cb(carg);
}

void ck_alerts_close(struct ck_alerts *a, void (*closed_cb)(void *arg), void *arg)
{
    if (a == NULL)
        return;
    a->closed_cb = closed_cb;
    a->closed_arg = arg;
    if (a->http != NULL) {
        ck_http_close(a->http, on_http_closed, a);
        return;
    }
    /* Nothing on the loop: say so on the next turn, as a close would. */
    on_http_closed(a);
}
