/* Grouping: which question(s) each message of a chat answers.
 *
 * Pure: no files, no clock, no logging. Built for a million messages with
 * little memory, so it works in two steps that never hold message text at the
 * same time:
 *   1. ck_group_scan_text() reads one message's plain text once, when the
 *      archive normalises it, into a few bytes of evidence (answer numbers,
 *      a "Qn" mention, words shared with each question, chatter).
 *   2. ck_group_assign() decides every message from those compact records,
 *      the reply graph and the clock, strongest evidence first (DESIGN.md,
 *      "Grouping"): question post, override, tag, reply, time/content.
 * Messages with no question (welcome, introductions, chatter, boosts, before
 * the first question or after the end) get questions = [] and by = NONE. */
#ifndef CHATKEEPER_GROUP_H
#define CHATKEEPER_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"

/* Question numbers run 1..CK_GROUP_MAX_NUMBER; larger ones are never tags. */
#define CK_GROUP_MAX_NUMBER 99
/* Word evidence is kept for the session's first CK_GROUP_MAX_CONTENT questions. */
#define CK_GROUP_MAX_CONTENT 16
#define CK_GROUP_MAX_TAGS 8

enum ck_assigned_by {
    CK_BY_NONE = 0, /* questions = [] */
    CK_BY_QUESTION, /* it is a question post */
    CK_BY_OVERRIDE, /* overrides.json "move" */
    CK_BY_TAG,      /* an explicit answer number */
    CK_BY_REPLY,    /* inherited from the message it replies to */
    CK_BY_TIME,     /* the question open when it was posted (inferred) */
    CK_BY_CONTENT,  /* words shared with another question's text (inferred) */
    CK_BY_SPAM,     /* questions = []: the same text from several accounts that post
                       nothing else here, riding other hashtags (kept, never shown) */
};

/* ck_group_msg.chatter */
enum {
    CK_GROUP_CHATTER_NO = 0,
    CK_GROUP_CHATTER_WEAK = 1,   /* opens like a greeting or thanks: chatter unless in a thread */
    CK_GROUP_CHATTER_STRONG = 2, /* introduction or meta talk ("forgot to tag", "see you next
                                    time"): chatter even inside a thread, unless
                                    CK_GROUP_F_EMPTY */
};

/* ck_group_msg.flags */
enum {
    CK_GROUP_F_QMARK = 1,     /* the text asks something ('?') */
    CK_GROUP_F_ANSWERISH = 2, /* "Q1 for me ...", "Q3: I feel ...": a Qn that answers */
    CK_GROUP_F_REPOST = 4,    /* an old-style retweet "RT @x: ..." */
    CK_GROUP_F_META = 8,      /* an announcement ("Q2 in a sec", "please use A1"): its
                                 numbers are not answer tags; chatter is STRONG */
    CK_GROUP_F_QREF = 16,     /* names the question it answers without a tag: "ok so,
                                 Q2: ...", "still thinking about Q3" (q_mention) */
    CK_GROUP_F_EMPTY = 32,    /* no content word, just a laugh, wave or thanks ("lol yes",
                                 "ooh, which one?"): chatter STRONG when it starts a
                                 conversation, part of the thread when it replies */
    CK_GROUP_F_CONT = 64,     /* numbered as a later part ("2/2", "(3/3)"): it continues
                                 the same person's post before it */
    CK_GROUP_F_OTAG = 128,    /* carries a hashtag other than the chat's (text_hash is set) */
};

/* One message as grouping sees it: ~90 bytes, no text. */
struct ck_group_msg {
    /* filled by the caller; borrowed, must outlive ck_group_assign() */
    const char *id;
    const char *reply_to; /* NULL when not a reply */
    const char *author;   /* handle, "@user@domain" (Mastodon) or "@user" (Twitter) */
    int64_t created_ms;
    bool boost; /* boosts/retweets are counted, never assigned; scan sets it for "RT @x:" */

    /* filled by ck_group_scan_text() (or by hand in tests) */
    uint8_t tags[CK_GROUP_MAX_TAGS]; /* explicit answer numbers, in text order, distinct */
    uint8_t n_tags;
    uint8_t q_mention; /* first "Qn" in the text (a question post if a facilitator's), else 0 */
    uint8_t flags;     /* CK_GROUP_F_* */
    uint8_t chatter;   /* CK_GROUP_CHATTER_* */
    uint8_t content_q; /* question number sharing most words with the text, else 0 */
    uint8_t hits[CK_GROUP_MAX_CONTENT]; /* shared words per conf question (by index) */
    uint32_t text_hash;                 /* of the whole text, when CK_GROUP_F_OTAG; else 0 */
    bool back; /* opens with "Re:" or "back to": goes back to an earlier point */

    /* results of ck_group_assign() */
    uint8_t questions[CK_GROUP_MAX_TAGS];
    uint8_t n_questions;
    enum ck_assigned_by by;
    bool hidden; /* overrides "hide" or "opt_out": the archive leaves it out of outputs */
};

struct ck_group_question {
    int number;            /* 1..CK_GROUP_MAX_NUMBER */
    const char *text;      /* the run sheet's text, may be NULL */
    int64_t at_ms;         /* scheduled time, 0 when unknown */
    const char *posted_id; /* from state.json's posted steps, may be NULL */
    /* The same step posted on the session's other sources (issue 11:
     * state.json's "steps:NAME"), NULL entries allowed. */
    const char *const *more_posted_ids;
    size_t n_more_posted_ids;
};

/* Everything borrowed. facilitators are handles compared without case; a
 * handle without a domain ("@user") matches any domain. end_ms 0: no end. */
struct ck_group_conf {
    const struct ck_group_question *questions;
    size_t n_questions;
    const char *const *facilitators;
    size_t n_facilitators;
    const char *hashtag; /* "#uklibchat" or "uklibchat", may be NULL */
    int64_t start_ms, end_ms;
};

/* What scanning needs from the session, prepared once (question word sets).
 * Copies what it keeps: conf may go away after create. */
struct ck_group_scanner;

/* New scanner in *out (free with ck_group_scanner_destroy). Returns 0,
 * CK_EINVAL (a question number out of 1..CK_GROUP_MAX_NUMBER, err says which)
 * or CK_ENOMEM; *out is NULL on failure. */
int ck_group_scanner_create(const struct ck_group_conf *c, struct ck_group_scanner **out,
                            struct ck_error *err);
void ck_group_scanner_destroy(struct ck_group_scanner *s); /* NULL is a no-op */

/* Read one message's plain text (UTF-8, borrowed, may be NULL) into m's scan
 * fields, which it overwrites; sets m->boost for an old-style "RT @x:"
 * retweet and leaves it alone otherwise. Can't fail; no allocation. */
void ck_group_scan_text(const struct ck_group_scanner *s, const char *text, struct ck_group_msg *m);

/* Fill questions, n_questions, by and hidden of every message.
 * msgs: sorted oldest first (created_ms, then id); a reply's parent may still
 * come later (clocks disagree) and is found by id. Duplicate ids: the first wins.
 * overrides: the parsed overrides.json (borrowed) or NULL:
 *   {"move": {"<id>": [3]}, "hide": ["<id>"], "opt_out": ["@user@domain"]}
 * Unknown ids are ignored (the message may have been deleted).
 * Returns 0; CK_EINVAL (overrides has the wrong shape: err names the key);
 * CK_ENOMEM. On error msgs' results are unspecified. */
int ck_group_assign(const struct ck_group_conf *c, struct ck_group_msg *msgs, size_t n,
                    const json_t *overrides, struct ck_error *err);

/* "question", "override", "tag", "reply", "time", "content", "spam"; NULL for
 * CK_BY_NONE. */
const char *ck_group_by_name(enum ck_assigned_by by);

#endif
