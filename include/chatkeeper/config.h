/* The session file: one facilitated chat, loaded, validated and resolved to UTC.
 *
 * Validation is strict: unknown fields, wrong types and bad values are errors
 * that name file:line:column, the field (as a JSON path such as
 * "questions[2].at") and what was expected. */
#ifndef CHATKEEPER_CONFIG_H
#define CHATKEEPER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"

enum ck_step_kind { CK_STEP_WELCOME, CK_STEP_QUESTION, CK_STEP_CLOSING, CK_STEP_REMINDER };

/* One run-sheet entry. */
struct ck_step {
    enum ck_step_kind kind;
    int number;    /* question (or reminder) number 1..n; 0 for welcome and closing */
    int64_t at_ms; /* offset from start (a reminder's is negative: -before) */
    char *text;    /* owned */
};

struct ck_platform_conf {
    char *type;     /* "mastodon" or "bluesky" */
    char *base_url; /* no trailing slash; https://, or http:// only for loopback hosts */
    /* The secret: Mastodon's access token (token_env/token_file), or on
     * Bluesky the app password (password_env/password_file in the file). */
    char *token_env;  /* NULL or the name of an environment variable */
    char *token_file; /* NULL or a path (resolved against the session file's folder) */
    char *handle;     /* Bluesky: the account's handle, without '@'; else NULL */
    bool streaming;   /* follow the streaming API where offered (default true) */
    /* Several sources in one session (issue 11): */
    char *name; /* the source's stable name: "name" as written, else "TYPE:BASE_URL"
                         (what the journal and state.json key it by) */
    bool post;  /* the run sheet goes here: the session's "post" and not the
                         entry's "post": false */
    /* X (type "x", issue 13): token_* is the app's bearer token (reading);
     * posting uses the account's context, an OAuth 2.0 user token or OAuth
     * 1.0a keys "consumer_key:consumer_secret:access_token:access_token_secret".
     * Each NULL or, for _env, a variable's name, for _file, a path. */
    char *user_token_env, *user_token_file;
    char *oauth1_env, *oauth1_file;
    bool retweets; /* X: follow retweets too (they cost reads; default false) */
};

struct ck_session {
    char *path; /* the file it was loaded from */
    char *dir;  /* that file's folder */
    char *title;
    char *description; /* NULL if not given */
    char *hashtag;     /* without '#', as given */
    char *timezone;    /* IANA name */
    int64_t start_ms;  /* UTC */
    int64_t duration_ms, lead_ms, grace_ms;
    struct ck_platform_conf platform;        /* "platform", or the first entry of "platforms" */
    struct ck_platform_conf *more_platforms; /* the other entries of "platforms", in order */
    size_t n_more_platforms;
    char **facilitators; /* "@user@domain" */
    size_t n_facilitators;
    bool post;
    bool thread;                  /* each step replies to the previous one */
    char *question_format;        /* default "Q{n} {text} #{hashtag}" */
    int64_t missed_step_limit_ms; /* default 10 minutes */
    bool has_welcome, has_closing;
    struct ck_step welcome, closing;
    struct ck_step *questions;
    size_t n_questions;
    char *archive_dir;     /* as written, resolved against dir; unset: "archive" (cwd) */
    int64_t poll_chat_ms;  /* poll interval during the chat; default 5s */
    int64_t poll_quiet_ms; /* poll interval in lead and grace; default 20s */
    /* "reminders": [{"before": "1d", "text": "..."}], in the file's order; the
     * text is a template ({{title}}, {{hashtag}}, {{agenda_url}}, {{date}},
     * {{time}}), checked at load. */
    struct ck_step *reminders;
    size_t n_reminders;
    char *agenda_url;    /* NULL, or where the agenda is published ({{agenda_url}}) */
    char *alert_webhook; /* "alerts": {"webhook": URL, "email": ADDRESS}; NULL each */
    char *alert_email;
    json_t *json;  /* the document as parsed (new reference, owned) */
    bool imported; /* import mode (ck_session_load_import): platform may be absent */
};

/* Load and validate path. On error s is left finished (nothing to free), err
 * says file:line:column, field and what was expected, and the return is CK_ECONFIG
 * (or CK_ENOMEM / -errno for unreadable files). */
int ck_session_load(const char *path, struct ck_session *s, struct ck_error *err);

/* Import mode, for a chat captured elsewhere (chatkeeper import): the same
 * rules, except that the platform section may be omitted (platform.type and
 * base_url are then NULL; nothing is fetched or posted, so no token is
 * required either) and facilitators may also be Twitter handles "@user". A
 * session file with "imported": "mastodon" or "x" (import writes that into
 * the session directory's session.json) loads in this mode through
 * ck_session_load too, so archive and catchup need no flag. */
int ck_session_load_import(const char *path, struct ck_session *s, struct ck_error *err);

/* Same as ck_session_load, from text already in memory; name is used in
 * messages and to resolve relative paths. */
int ck_session_load_buffer(const char *name, const char *text, size_t len, struct ck_session *s,
                           struct ck_error *err);

/* The session's sources, in the file's order: "platform" alone, or every
 * entry of "platforms" (index 0 is s->platform). Borrowed. Count 0 for an
 * imported chat without a platform. */
size_t ck_session_n_platforms(const struct ck_session *s);
const struct ck_platform_conf *ck_session_platform_at(const struct ck_session *s, size_t i);
struct ck_platform_conf *ck_session_platform_mut(struct ck_session *s, size_t i);

/* The token of one source (as ck_session_token, for pc). */
int ck_platform_token(const struct ck_platform_conf *pc, char **out, struct ck_error *err);

/* Free everything s owns; s may be zeroed or already finished. */
void ck_session_finish(struct ck_session *s);

/* The API token: from platform.token_env, or platform.token_file, which must not
 * be readable or writable by group or others. *out is new (free with free()).
 * Returns 0, CK_ECONFIG (missing/empty: a session to fix, exit 2) or CK_EUNSAFE (file mode),
 * never logging the token. */
int ck_session_token(const struct ck_session *s, char **out, struct ck_error *err);

/* A secret named by an _env / _file pair of the platform entry (env or file
 * may be NULL; what names it in errors, "user token"): the same rules as
 * ck_session_token. */
int ck_session_secret(const char *env, const char *file, const char *what, char **out,
                      struct ck_error *err);

/* What an X entry's credentials allow: CK_CAN_READ (a bearer token, a user
 * token or OAuth 1.0a keys: X's search takes any of them) and CK_CAN_POST
 * (a user token or OAuth 1.0a keys). Configured, not checked: ck_session_secret
 * says whether each is there. */
enum { CK_CAN_READ = 1, CK_CAN_POST = 2 };
int ck_platform_x_can(const struct ck_platform_conf *pc);

/* Whether url is acceptable as a base URL: https://host..., or http:// to a
 * loopback host (127.0.0.0/8, ::1, localhost). */
bool ck_url_allowed(const char *url);

#endif
