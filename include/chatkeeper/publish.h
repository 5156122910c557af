/* Publishing a chat's write-up: to WordPress (REST API, application
 * password), to a Micropub endpoint (h-entry, bearer token), and an
 * announcement on the chat's hashtag, as the session file's "publish"
 * section says:
 *
 *   "publish": {"wordpress": {"url", "user", "password_env" | "password_file",
 *                             "status" (draft), "categories" [], "tags" []},
 *               "micropub": {"endpoint", "token_env" | "token_file", "categories" []},
 *               "announce": true, "template": "file", "transcript_url": "https://..."}
 *
 * Idempotent: what was published is recorded in state.json under
 * "published" (wordpress {id, link, slug, status, site, key}, micropub {url},
 * announce {id, url}) the moment it exists, and publishing again updates
 * those posts instead of creating new ones. A WordPress post carries its
 * session's key (hashtag, start instant, title) in an HTML comment, and only
 * a post carrying it is ever updated: another chat's post on the same day,
 * a rehearsal's, or anyone's with a similar slug is left alone. A post
 * created but not recorded (a crash in between) is found again by that key.
 * The slug is hashtag-date-title (WordPress appends -2 when it is taken).
 * What is sent has no line breaks outside <pre>, so WordPress does not turn
 * the Markdown's soft line breaks into <br />. A Micropub post created but
 * not recorded cannot be found again (the protocol has no lookup without its
 * URL): the next run creates another.
 *
 * Before anything is sent, every quoted post is looked up on the platform;
 * the ones gone (404/410) are listed in DIR/deleted.json, leave the write-up
 * (writeup.md/html are rewritten), and the archive can drop them like hidden
 * ones. A session without a live platform (imported, or no_platform) skips
 * that check and the announcement, and says so. */
#ifndef CHATKEEPER_PUBLISH_H
#define CHATKEEPER_PUBLISH_H

#include <stdbool.h>
#include <stdio.h>

#include "chatkeeper/error.h"
#include "chatkeeper/http.h"

struct ck_publish_opts {
    bool dry_run;     /* print what would be sent where; send and write nothing */
    bool no_platform; /* skip the re-check and the announcement */
    FILE *out;        /* progress and the dry-run listing; NULL: stdout */
    long timeout_ms;  /* per request; 0: net/http's default */
};

/* Publish DIR's write-up to every target in its session file. opts may be
 * NULL. Targets are tried in order (WordPress, Micropub, announce); a failure
 * stops the ones after it, and err then also says what was already
 * published, so nothing is half-published without saying so. Credentials
 * come from the environment or 0600 files and never reach a log or err.
 * Returns 0, CK_ECONFIG (no publish section, bad credentials source),
 * CK_EAUTH (refused credentials), CK_EHTTP (the blog answered with an error or
 * not with JSON), CK_ENET/CK_ETIMEDOUT, or another negative code. */
int ck_publish_session(const char *dir, const struct ck_publish_opts *opts, struct ck_error *err);

#endif
