/* Alerts: telling someone when an unattended chat goes wrong (and when it is
 * done), through the session's "alerts": {"webhook": URL, "email": ADDRESS}.
 *
 * A webhook gets a JSON POST {"text", "content", "title", "message"} (the
 * fields Slack, Matrix hookshot, Discord and ntfy-style hooks read); an
 * address gets a mail through `sendmail -t -i` found on PATH. Each cause
 * ("step:Q3", "token", "stall", "archive", "publish", "done") is sent at most
 * once per session: the causes sent are kept in state.json ("alerts"), so a
 * restart does not repeat them. The text is ours (a label, a count, a reason
 * from the server); no token or password is ever passed to ck_alert. */
#ifndef CHATKEEPER_ALERTS_H
#define CHATKEEPER_ALERTS_H

#include <jansson.h>
#include <uv.h>

struct ck_alerts;

struct ck_alerts_conf {
    const char *webhook;    /* NULL, or https:// (http:// on loopback) */
    const char *email;      /* NULL, or an address checked at load */
    const char *title;      /* the session's, for the subject */
    const char *state_path; /* where state (given to create) is saved */
    const char *log_tag;    /* NULL, or the session's name on its lines (log.h) */
};

/* New alerts on loop (its own HTTP client, so stopping the runner's does not
 * cut an alert short). state is borrowed; the "alerts" member is ours. conf
 * is copied, its strings borrowed. Returns 0 or CK_ENOMEM; with neither a
 * webhook nor an address, *out is NULL and ck_alert does nothing. */
int ck_alerts_create(uv_loop_t *loop, json_t *state, const struct ck_alerts_conf *conf,
                     struct ck_alerts **out);

/* Send text for cause, unless cause was sent before. a may be NULL. */
void ck_alert(struct ck_alerts *a, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Webhook requests still in flight. */
int ck_alerts_busy(const struct ck_alerts *a);

/* Cancel what is in flight and free after the loop delivers the close; then
 * closed_cb(arg). a may be NULL (closed_cb is then not called). */
void ck_alerts_close(struct ck_alerts *a, void (*closed_cb)(void *arg), void *arg);

#endif
