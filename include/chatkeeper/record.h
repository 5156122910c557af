/* One record of messages.jsonl, as a view: what the archive writes and every
 * output reads, without a JSON tree.
 *
 * A record comes from one of two places: a line of messages.jsonl parsed with
 * jansson (ck_record_from_json: the strings are borrowed from the tree), or the
 * archive's own binary form of it (ck_record_encode/decode: the strings are
 * borrowed from the encoded bytes). The archive normalises each message once,
 * keeps it in the binary form, and hands the same views to grouping, to
 * messages.jsonl and to every renderer, so nothing is parsed twice. */
#ifndef CHATKEEPER_RECORD_H
#define CHATKEEPER_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/message.h"
#include "chatkeeper/sbuf.h"

#define CK_RECORD_MAX_QUESTIONS 8
#define CK_RECORD_NO_COUNT INT64_MIN /* a count the record does not have */

/* ck_record.nulls: strings that are null in the record (they read as ""). */
enum {
    CK_RECORD_NULL_ID = 1,
    CK_RECORD_NULL_PLATFORM = 2,
    CK_RECORD_NULL_URL = 4,
    CK_RECORD_NULL_AUTHOR_ID = 8,
    CK_RECORD_NULL_HANDLE = 16,
    CK_RECORD_NULL_AUTHOR_URL = 32,
};

struct ck_record {
    /* Never NULL: "" when the record has no such string (nulls tells a null
     * from an empty string, for writing the record back exactly). */
    const char *id, *platform, *url, *created_at;
    const char *author_id, *handle, *name, *author_url;
    const char *text;
    /* NULL when null or absent. */
    const char *reply_to, *boost_of, *edited_at;
    /* NULL when absent; written to messages.jsonl only when set, after
     * edited_at, so records of platforms without them stay as they were. */
    const char *uri, *quote_of;
    int64_t created_ms;
    int64_t replies, boosts, likes; /* CK_RECORD_NO_COUNT when absent */
    /* The grouping: questions in record order, and how they were assigned
     * (NULL for none, e.g. before grouping). Values as the file has them. */
    int64_t questions[CK_RECORD_MAX_QUESTIONS];
    uint8_t n_questions;
    const char *assigned_by;
    uint8_t nulls;        /* CK_RECORD_NULL_* */
    char created_buf[32]; /* created_at's storage when the record made it */
};

/* Grouping marked it spam (issue 14): kept in messages.jsonl and the CSV,
 * left out of transcripts, counts, the chart and the write-up. */
static inline bool ck_record_is_spam(const struct ck_record *r)
{
    return r->assigned_by != NULL && strcmp(r->assigned_by, "spam") == 0;
}

/* A view of the messages.jsonl object j (borrowed: j must outlive r).
 * Returns 0, or CK_EPARSE when j has no string id or no readable created_at. */
int ck_record_from_json(const json_t *j, struct ck_record *r);

/* A view of the normalised message m (borrowed), not yet grouped. */
void ck_record_from_message(const struct ck_message *m, struct ck_record *r);

/* The binary form of r, length first, appended to b (check b->oom). */
void ck_record_encode(const struct ck_record *r, struct ck_sbuf *b);

/* The view of the record ck_record_encode wrote at p (borrowed), of at most
 * avail bytes; *used: its length, to find the next one. Returns 0, or
 * CK_ECORRUPT when the bytes are not such a record. */
int ck_record_decode(const char *p, size_t avail, struct ck_record *r, size_t *used);

/* The messages.jsonl line for r, newline included, appended to b (check
 * b->oom): keys in the fixed order (id, platform, url, created_at,
 * author{id,handle,name,url}, text, reply_to, boost_of, edited_at,
 * counts{replies,boosts,likes}), then questions and assigned_by when with_group.
 * The same bytes as ck_message_to_json dumped with JSON_COMPACT. */
void ck_record_write_json(const struct ck_record *r, bool with_group, struct ck_sbuf *b);

/* Records by index, 0..n-1, oldest first: how the archive hands its records
 * to the renderers (render.h). get fills r (borrowed, valid until the next
 * call) and returns 0, or a CK_ code with err set. */
struct ck_record_source {
    size_t n;
    int (*get)(void *ctx, size_t i, struct ck_record *r, struct ck_error *err);
    void *ctx;
};

/* r as a new JSON object (the same keys, grouping included), or NULL on out of
 * memory. For the few records an output keeps whole (write-up highlights). */
json_t *ck_record_to_json(const struct ck_record *r);

#endif
