/* Private to src/publish/: the state one publish run shares between its
 * targets, and the helpers they all use. */
#ifndef CHATKEEPER_PUBLISH_INTERNAL_H
#define CHATKEEPER_PUBLISH_INTERNAL_H

#include <stdio.h>

#include <jansson.h>

#include "chatkeeper/config.h"
#include "chatkeeper/http.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/publish.h"

struct ck_pub {
    const char *dir;
    const struct ck_session *s;
    const struct ck_publish_opts *opts;
    FILE *out;
    bool dry_run;
    json_t *state; /* state.json (owned by publish.c) */
    char *state_path;
    const char *title;  /* the post's title (borrowed) */
    const char *slug;   /* hashtag + local date + title: readable, not unique */
    const char *key;    /* "ck-" + 16 hex digits: this session's identity (see ck_pub_key) */
    const char *html;   /* the write-up fragment, no line breaks outside <pre> */
    const json_t *data; /* the template data */
};

/* A session's identity on a blog: a hash of the hashtag (case-folded), the
 * start instant and the title, so two chats of a tag on one day, or a
 * rehearsal (which starts at another time), never share it, while the same
 * session published from a copy of its folder does. buf: at least 20 bytes. */
void ck_pub_key(const struct ck_session *s, char *buf, size_t n);

/* Turn every line break outside <pre>...</pre> into a space, in place. For
 * HTML this changes nothing a browser shows (cmark's soft breaks are plain
 * newlines), but WordPress's wpautop makes a <br /> of each newline inside a
 * paragraph. */
void ck_pub_unwrap_html(char *html);

/* The secret named by conf's NAME_env or NAME_file (relative to the session's
 * folder; the file must be 0600 or stricter and not a symlink). Spaces are
 * allowed inside (WordPress application passwords have them); line breaks
 * and control characters are not. *out: new, wipe and free with
 * ck_pub_secret_free. Never puts the secret into err. Returns 0, CK_ECONFIG
 * (not set, no such file, empty: the session file must change), CK_EUNSAFE
 * (a file others may read) or CK_ENOMEM. */
int ck_pub_secret(const struct ck_pub *p, const json_t *conf, const char *name, char **out,
                  struct ck_error *err);
void ck_pub_secret_free(char *secret);

/* "Basic base64(user:password)". *out: new, free with ck_pub_secret_free. */
int ck_pub_basic_auth(const char *user, const char *password, char **out);

/* Percent-encode s for a query value. New string or NULL (out of memory). */
char *ck_pub_query_escape(const char *s);

/* Send req and wait for the answer (any HTTP status). */
int ck_pub_send(const struct ck_pub *p, const struct ck_request *req, struct ck_response *resp,
                struct ck_error *err);

/* Set state.published[target] = rec (stolen) and save state.json atomically. */
int ck_pub_record(struct ck_pub *p, const char *target, json_t *rec, struct ck_error *err);

/* state.published[target], borrowed, or NULL. */
json_t *ck_pub_recorded(const struct ck_pub *p, const char *target);

/* A short, printable excerpt of a response body for error messages (HTML
 * tags and control characters squeezed out). buf always terminated. */
void ck_pub_body_excerpt(const struct ck_response *r, char *buf, size_t n);

/* The credentials to post on the session's platform: the token (a static
 * token, or the session a sign-in platform hands out for the app password)
 * and the account. *out: free with ck_signin_finish. Secrets never in err. */
int ck_pub_signin(const struct ck_pub *p, const struct ck_platform_ops *ops, struct ck_signin *out,
                  struct ck_error *err);

int ck_pub_wordpress(struct ck_pub *p, const json_t *conf, struct ck_error *err);
int ck_pub_micropub(struct ck_pub *p, const json_t *conf, struct ck_error *err);
int ck_pub_announce(struct ck_pub *p, struct ck_error *err);

#endif
