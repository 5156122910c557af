/* The write-up: what the blog post says about a chat, built from the session
 * file and messages.jsonl, rendered through a template (template.h) to
 * writeup.md and, with cmark in its safe mode, to writeup.html.
 *
 * The data the template sees (every name always present, so templates can
 * test with sections; "last" is true on a list's final item, for separators):
 *   title, description, hashtag, timezone, date_local ("Thursday 3 December
 *   2026"), time_local ("20:00 GMT"), datetime_utc ("2026-12-03 20:00 UTC"),
 *   date_iso ("2026-12-03", local), facilitators [{handle, last}],
 *   facilitators_count, contact (first facilitator or "the facilitators"),
 *   questions [{number, text, answers, answers_text ("3 answers"), people_count,
 *               people_text ("2 people"), people [{name, handle, url}],
 *               highlights [{id, text, name, handle, url, likes}]}],
 *   participants [{name, handle, url, messages, last}], participants_count,
 *   messages_count, answers_count, questions_count, transcript_url ("" when
 *   the session's publish.transcript_url is not set).
 *
 * Highlights never come from question posts, boosts, or ids listed in
 * DIR/deleted.json (posts found deleted before publishing); hidden and
 * opted-out messages are already absent from messages.jsonl. */
#ifndef CHATKEEPER_WRITEUP_H
#define CHATKEEPER_WRITEUP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "chatkeeper/config.h"
#include "chatkeeper/error.h"
#include "chatkeeper/record.h"

#define CK_WRITEUP_HIGHLIGHTS 3 /* per question */

/* The digest of messages.jsonl the data is built from: counters per person
 * and per question and a few highlight candidates per question (the best
 * answers of the best-liked people), so its size grows with the people and
 * the questions, never with the messages. */
struct ck_writeup_digest;

/* A digest for session s (borrowed: it must outlive the digest). deleted:
 * borrowed array of id strings left out of everything (DIR/deleted.json),
 * or NULL. *out: new (free with ck_writeup_digest_destroy). Returns 0 or
 * CK_ENOMEM (then *out is NULL). */
int ck_writeup_digest_create(const struct ck_session *s, const json_t *deleted,
                             struct ck_writeup_digest **out);

/* Count one messages.jsonl record m, oldest first (borrowed; the digest
 * keeps a reference to the few it may quote). A record without "questions"
 * (files from before grouping) gets "questions" and "assigned_by" filled in
 * by time. Returns 0 or CK_ENOMEM (the digest is then incomplete). */
int ck_writeup_digest_add(struct ck_writeup_digest *d, json_t *m);

/* The same for a grouped record r (borrowed; the digest copies the few it may
 * quote), as the archive hands them over: oldest first, grouping decided. */
int ck_writeup_digest_add_record(struct ck_writeup_digest *d, const struct ck_record *r);

/* NULL is a no-op. */
void ck_writeup_digest_destroy(struct ck_writeup_digest *d);

/* Build the template data from d (borrowed; the data shares some of its
 * objects: treat the data as read-only). deleted: borrowed array of id
 * strings, or NULL: the digest's own list plus ids found deleted since,
 * which are left out of the highlights, counts and people (ids found since
 * can only be highlights quoted from this digest, as publish finds them;
 * someone whose first answer is one of those keeps that answer's place in
 * the question's people list).
 * *out: new reference. Also sets slug-friendly "date_iso" (local date,
 * "2026-12-03"). Returns 0, CK_ETZ or CK_ENOMEM. */
int ck_writeup_data(const struct ck_writeup_digest *d, const json_t *deleted, json_t **out,
                    struct ck_error *err);

/* Pick up to max highlights for question number q from messages (borrowed):
 * well-liked answers first (likes, then boosts, then replies, then earliest),
 * at most one per person, and people not yet in used (an object whose keys
 * are author handles; borrowed, updated with the people picked) before people
 * already highlighted elsewhere. *out: new array of the picked records
 * (borrowed from messages, incref'd). Returns 0 or CK_ENOMEM. */
int ck_writeup_pick(const json_t *messages, int q, const json_t *deleted, size_t max, json_t *used,
                    json_t **out);

/* Load DIR's session.json into *s and deleted.json into *deleted (new; an
 * empty array when the file is absent), and stream DIR/messages.jsonl (a
 * missing file is an empty chat) into *digest (new, ck_writeup_digest_destroy;
 * it borrows s). On error nothing needs freeing. */
int ck_writeup_load(const char *dir, struct ck_session *s, struct ck_writeup_digest **digest,
                    json_t **deleted, struct ck_error *err);

/* DIR/deleted.json into *deleted (new; an empty array when the file is
 * absent) and a new empty *digest for s (borrowed), for records to be added
 * one by one. On error nothing needs freeing. */
int ck_writeup_begin(const char *dir, const struct ck_session *s, struct ck_writeup_digest **digest,
                     json_t **deleted, struct ck_error *err);

/* Write DIR/writeup.md and DIR/writeup.html from a finished digest (s and
 * deleted as ck_writeup_begin had them). */
int ck_writeup_render_digest(const char *dir, const struct ck_session *s,
                             const struct ck_writeup_digest *digest, const json_t *deleted,
                             struct ck_error *err);

/* Render data through the session's template (publish.template, resolved
 * against the session's folder) or the built-in one (config/writeup.md.tmpl).
 * *md and *html are new strings (free()); html is a fragment, cmark's safe
 * mode, so raw HTML in anyone's text never passes through. */
int ck_writeup_format(const struct ck_session *s, const json_t *data, char **md, char **html,
                      struct ck_error *err);

/* The archive hook: write DIR/writeup.md and DIR/writeup.html (a complete
 * page around the fragment), atomically. Returns 0 or a negative CK_ code. */
int ck_writeup_render(const char *dir, struct ck_error *err);

/* The built-in template's text (config/writeup.md.tmpl compiled in). */
extern const char ck_writeup_default_template[];

#endif
