/* "agenda_url", "reminders" and "alerts" of a session (config_check.h):
 * what is said around the chat rather than in it. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/config.h"

#include "config_check.h"

/* The names a reminder's template may use. */
static const char *const names[] = {"title", "hashtag", "agenda_url", "date", "time"};

/* NULL if text is a good template, else why not (in buf). */
static const char *template_problem(const char *text, bool have_agenda, char *buf, size_t n)
{
    for (const char *p = strstr(text, "{{"); p != NULL; p = strstr(p + 2, "{{")) {
        const char *end = strstr(p + 2, "}}");
        if (end == NULL) {
            snprintf(buf, n, "\"{{\" without its \"}}\"");
            return buf;
        }
        size_t len = (size_t)(end - p - 2);
        bool known = false;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            known = known || (strlen(names[i]) == len && strncmp(p + 2, names[i], len) == 0);
        if (!known) {
            snprintf(buf, n,
                     "unknown placeholder {{%.*s}}; expected {{title}}, {{hashtag}}, "
                     "{{agenda_url}}, {{date}} or {{time}}",
                     (int)(len > 40 ? 40 : len), p + 2);
            return buf;
        }
        if (len == 10 && !have_agenda) {
            snprintf(buf, n, "{{agenda_url}} needs an \"agenda_url\" in the session or series");
            return buf;
        }
    }
    return NULL;
}

/* An address sendmail -t reads as one: no spaces, quotes, commas, angle
 * brackets or line breaks, one @ with something on each side. */
static bool email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (at == NULL || at == e || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (const unsigned char *p = (const unsigned char *)e; *p != '\0'; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("\"',;<>()[]\\:", *p) != NULL)
            return false;
    return strchr(at + 1, '.') != NULL;
}

static int parse_alerts(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s)
{
    static const char *const keys[] = {"webhook", "email"};
    json_t *v;
    int rc = ck_cfg_object(c, root, "", "alerts", 0, &v);
    if (rc != 0 || v == NULL)
        return rc;
    rc = ck_cfg_check_keys(c, v, "alerts", keys, 2);
    if (rc == 0)
        rc = ck_cfg_string(c, v, "alerts", "webhook", 0, &s->alert_webhook);
    if (rc == 0)
        rc = ck_cfg_string(c, v, "alerts", "email", 0, &s->alert_email);
    if (rc != 0)
        return rc;
    if (s->alert_webhook != NULL && !ck_url_allowed(s->alert_webhook))
        return ck_cfg_fail(c, "alerts.webhook", 0,
                           "expected an https:// address (http:// only on loopback), got \"%s\"",
                           s->alert_webhook);
    if (s->alert_email != NULL && !email_ok(s->alert_email))
        return ck_cfg_fail(c, "alerts.email", 0,
                           "expected one plain address like team@example.org, got \"%s\"",
                           s->alert_email);
    return 0;
}

int ck_cfg_reminders(struct ck_cfg_ctx *c, const json_t *root, struct ck_session *s)
{
    static const char *const keys[] = {"before", "text"};
    int rc = parse_alerts(c, root, s);
    if (rc == 0)
        rc = ck_cfg_string(c, root, "", "agenda_url", 0, &s->agenda_url);
    if (rc != 0)
        return rc;
    if (s->agenda_url != NULL && strncmp(s->agenda_url, "https://", 8) != 0 &&
        strncmp(s->agenda_url, "http://", 7) != 0)
        return ck_cfg_fail(c, "agenda_url", 0, "expected an https:// address, got \"%s\"",
                           s->agenda_url);
    json_t *v;
    rc = ck_cfg_member(c, root, "", "reminders", 0, "", &v);
    if (rc != 0 || v == NULL)
        return rc;
    if (!json_is_array(v)) {
        char got[64];
        ck_cfg_describe(v, got, sizeof got);
        return ck_cfg_fail(
            c, "reminders", 0,
            "expected an array like [{\"before\": \"1d\", \"text\": \"...\"}], got %s", got);
    }
    size_t n = json_array_size(v);
    s->reminders = calloc(n ? n : 1, sizeof *s->reminders);
    if (s->reminders == NULL)
        return ck_cfg_oom(c);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(v, i);
        char path[64], why[200];
        snprintf(path, sizeof path, "reminders[%zu]", i);
        if (!json_is_object(r)) {
            char got[64];
            ck_cfg_describe(r, got, sizeof got);
            return ck_cfg_fail(c, path, 0,
                               "expected {\"before\": \"1d\", \"text\": \"...\"}, got %s", got);
        }
        struct ck_step *st = &s->reminders[i];
        int64_t before = 0;
        rc = ck_cfg_check_keys(c, r, path, keys, 2);
        if (rc == 0)
            rc = ck_cfg_duration(c, r, path, "before", 1, &before);
        if (rc == 0)
            rc = ck_cfg_string(c, r, path, "text", 1, &st->text);
        if (rc != 0)
            return rc;
        s->n_reminders = i + 1;
        st->kind = CK_STEP_REMINDER;
        st->number = (int)i + 1;
        st->at_ms = -before;
        char field[80];
        ck_cfg_join(field, sizeof field, path, "before");
        if (before <= 0)
            return ck_cfg_fail(c, field, 0, "expected a duration before the chat, like \"1d\"");
        ck_cfg_join(field, sizeof field, path, "text");
        if (template_problem(st->text, s->agenda_url != NULL, why, sizeof why) != NULL)
            return ck_cfg_fail(c, field, 0, "%s", why);
    }
    return 0;
}
