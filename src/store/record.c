/* messages.jsonl records as views (see record.h).
 *
 * The binary form is a length, the record's numbers, then its strings, each
 * ended by a NUL, in a fixed order (host byte order: it never leaves the
 * machine that wrote it):
 *   uint32 length of what follows
 *   int64 created_ms, replies, boosts, likes
 *   uint8 nulls, uint8 which of reply_to, boost_of, edited_at follow,
 *   uint8 n_questions, int64 questions[n_questions]
 *   id, platform, url, created_at, author id, handle, name, author url,
 *   assigned_by ("" for none), [reply_to], [boost_of], [edited_at], [uri],
 *   [quote_of], text
 * The text comes last, so decoding finds its end from the length instead of
 * searching the longest string of the record (the archive decodes every
 * record three times). Decoding checks every bound, so a damaged file is an
 * error, not a crash. */
#include "chatkeeper/record.h"

#include <string.h>

#include "chatkeeper/error.h"
#include "chatkeeper/timeutil.h"

#define HAS_REPLY_TO 1u
#define HAS_BOOST_OF 2u
#define HAS_EDITED_AT 4u
#define HAS_URI 8u
#define HAS_QUOTE_OF 16u
#define HEAD (4 * sizeof(int64_t) + 3)

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* ---- from a JSON tree ---- */

static const char *str_at(const json_t *o, const char *key, uint8_t null_bit, uint8_t *nulls)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL)
        *nulls |= null_bit;
    return or_empty(s);
}

static int64_t count_at(const json_t *counts, const char *key)
{
    const json_t *v = json_object_get(counts, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : CK_RECORD_NO_COUNT;
}

int ck_record_from_json(const json_t *j, struct ck_record *r)
{
    memset(r, 0, sizeof *r);
    const json_t *author = json_object_get(j, "author");
    const json_t *counts = json_object_get(j, "counts");
    r->id = str_at(j, "id", CK_RECORD_NULL_ID, &r->nulls);
    r->created_at = or_empty(json_string_value(json_object_get(j, "created_at")));
    if ((r->nulls & CK_RECORD_NULL_ID) || ck_time_parse_rfc3339(r->created_at, &r->created_ms) != 0)
        return CK_EPARSE;
    r->platform = str_at(j, "platform", CK_RECORD_NULL_PLATFORM, &r->nulls);
    r->url = str_at(j, "url", CK_RECORD_NULL_URL, &r->nulls);
    r->author_id = str_at(author, "id", CK_RECORD_NULL_AUTHOR_ID, &r->nulls);
    r->handle = str_at(author, "handle", CK_RECORD_NULL_HANDLE, &r->nulls);
    r->name = or_empty(json_string_value(json_object_get(author, "name")));
    r->author_url = str_at(author, "url", CK_RECORD_NULL_AUTHOR_URL, &r->nulls);
    r->text = or_empty(json_string_value(json_object_get(j, "text")));
    r->reply_to = json_string_value(json_object_get(j, "reply_to"));
    r->boost_of = json_string_value(json_object_get(j, "boost_of"));
    r->edited_at = json_string_value(json_object_get(j, "edited_at"));
    r->uri = json_string_value(json_object_get(j, "uri"));
    r->quote_of = json_string_value(json_object_get(j, "quote_of"));
    r->replies = count_at(counts, "replies");
    r->boosts = count_at(counts, "boosts");
    r->likes = count_at(counts, "likes");
    const json_t *qs = json_object_get(j, "questions");
    for (size_t i = 0; i < json_array_size(qs) && r->n_questions < CK_RECORD_MAX_QUESTIONS; i++) {
        const json_t *q = json_array_get(qs, i);
        if (json_is_integer(q))
            r->questions[r->n_questions++] = (int64_t)json_integer_value(q);
    }
    r->assigned_by = json_string_value(json_object_get(j, "assigned_by"));
    /* A file that says only "spam": true (edited by hand, or another tool)
     * is spam all the same. */
    if (r->assigned_by == NULL && json_is_true(json_object_get(j, "spam")))
        r->assigned_by = "spam";
    return 0;
}

void ck_record_from_message(const struct ck_message *m, struct ck_record *r)
{
    memset(r, 0, sizeof *r);
    ck_time_format_rfc3339(m->created_ms, r->created_buf);
    r->nulls = (m->id == NULL ? CK_RECORD_NULL_ID : 0) |
               (m->platform == NULL ? CK_RECORD_NULL_PLATFORM : 0) |
               (m->url == NULL ? CK_RECORD_NULL_URL : 0) |
               (m->author.id == NULL ? CK_RECORD_NULL_AUTHOR_ID : 0) |
               (m->author.handle == NULL ? CK_RECORD_NULL_HANDLE : 0) |
               (m->author.url == NULL ? CK_RECORD_NULL_AUTHOR_URL : 0);
    r->id = or_empty(m->id);
    r->platform = or_empty(m->platform);
    r->url = or_empty(m->url);
    r->created_at = r->created_buf;
    r->created_ms = m->created_ms;
    r->author_id = or_empty(m->author.id);
    r->handle = or_empty(m->author.handle);
    r->name = or_empty(m->author.name);
    r->author_url = or_empty(m->author.url);
    r->text = or_empty(m->text);
    r->reply_to = m->reply_to;
    r->boost_of = m->boost_of;
    r->edited_at = m->edited_at;
    r->uri = m->uri;
    r->quote_of = m->quote_of;
    r->replies = m->replies;
    r->boosts = m->boosts;
    r->likes = m->likes;
}

/* ---- binary ---- */

static void put_cstr(struct ck_sbuf *b, const char *s)
{
    ck_sbuf_put(b, s, strlen(s) + 1);
}

void ck_record_encode(const struct ck_record *r, struct ck_sbuf *b)
{
    size_t at = b->len;
    uint32_t len = 0;
    ck_sbuf_put(b, (const char *)&len, sizeof len);
    int64_t nums[4] = {r->created_ms, r->replies, r->boosts, r->likes};
    unsigned char flags[3] = {
        r->nulls,
        (r->reply_to != NULL ? HAS_REPLY_TO : 0) | (r->boost_of != NULL ? HAS_BOOST_OF : 0) |
            (r->edited_at != NULL ? HAS_EDITED_AT : 0) | (r->uri != NULL ? HAS_URI : 0) |
            (r->quote_of != NULL ? HAS_QUOTE_OF : 0),
        r->n_questions};
    ck_sbuf_put(b, (const char *)nums, sizeof nums);
    ck_sbuf_put(b, (const char *)flags, sizeof flags);
    ck_sbuf_put(b, (const char *)r->questions, r->n_questions * sizeof *r->questions);
    const char *strs[] = {r->id,         r->platform,   r->url,
                          r->created_at, r->author_id,  r->handle,
                          r->name,       r->author_url, or_empty(r->assigned_by)};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        put_cstr(b, strs[i]);
    if (r->reply_to != NULL)
        put_cstr(b, r->reply_to);
    if (r->boost_of != NULL)
        put_cstr(b, r->boost_of);
    if (r->edited_at != NULL)
        put_cstr(b, r->edited_at);
    if (r->uri != NULL)
        put_cstr(b, r->uri);
    if (r->quote_of != NULL)
        put_cstr(b, r->quote_of);
    put_cstr(b, r->text);
    if (b->oom || b->len - at - sizeof len > UINT32_MAX) {
        b->oom = true;
        return;
    }
    len = (uint32_t)(b->len - at - sizeof len);
    memcpy(b->s + at, &len, sizeof len);
}

/* The NUL-ended string at *p (before end), moving *p past it; NULL if none. */
static const char *take_cstr(const char **p, const char *end)
{
    const char *s = *p;
    const char *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;
    if (nul == NULL)
        return NULL;
    *p = nul + 1;
    return s;
}

int ck_record_decode(const char *p, size_t avail, struct ck_record *r, size_t *used)
{
    memset(r, 0, sizeof *r);
    uint32_t len;
    if (avail < sizeof len)
        return CK_ECORRUPT;
    memcpy(&len, p, sizeof len);
    if (len > avail - sizeof len || len < HEAD)
        return CK_ECORRUPT;
    p += sizeof len;
    int64_t nums[4];
    memcpy(nums, p, sizeof nums);
    r->created_ms = nums[0];
    r->replies = nums[1];
    r->boosts = nums[2];
    r->likes = nums[3];
    r->nulls = (uint8_t)p[sizeof nums];
    unsigned has = (unsigned char)p[sizeof nums + 1];
    r->n_questions = (uint8_t)p[sizeof nums + 2];
    const char *at = p + HEAD, *end = p + len;
    if (r->n_questions > CK_RECORD_MAX_QUESTIONS ||
        (size_t)(end - at) < r->n_questions * sizeof *r->questions)
        return CK_ECORRUPT;
    memcpy(r->questions, at, r->n_questions * sizeof *r->questions);
    at += r->n_questions * sizeof *r->questions;
    const char **strs[] = {&r->id,     &r->platform, &r->url,        &r->created_at, &r->author_id,
                           &r->handle, &r->name,     &r->author_url, &r->assigned_by};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if ((*strs[i] = take_cstr(&at, end)) == NULL)
            return CK_ECORRUPT;
    if (r->assigned_by[0] == '\0')
        r->assigned_by = NULL;
    if ((has & HAS_REPLY_TO) && (r->reply_to = take_cstr(&at, end)) == NULL)
        return CK_ECORRUPT;
    if ((has & HAS_BOOST_OF) && (r->boost_of = take_cstr(&at, end)) == NULL)
        return CK_ECORRUPT;
    if ((has & HAS_EDITED_AT) && (r->edited_at = take_cstr(&at, end)) == NULL)
        return CK_ECORRUPT;
    if ((has & HAS_URI) && (r->uri = take_cstr(&at, end)) == NULL)
        return CK_ECORRUPT;
    if ((has & HAS_QUOTE_OF) && (r->quote_of = take_cstr(&at, end)) == NULL)
        return CK_ECORRUPT;
    /* The text: the rest of the record, its NUL last. */
    if (at == end || end[-1] != '\0')
        return CK_ECORRUPT;
    r->text = at;
    *used = sizeof len + len;
    return 0;
}

/* ---- JSON out ---- */

#define PUT(b, lit) ck_sbuf_put(b, lit, sizeof lit - 1)

/* Bytes put_str stops at: the end, controls, '"' and '\\'. */
static const bool json_special[256] = {
    [0] = 1,  [1] = 1,  [2] = 1,  [3] = 1,  [4] = 1,  [5] = 1,   [6] = 1,    [7] = 1,  [8] = 1,
    [9] = 1,  [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1,  [15] = 1,   [16] = 1, [17] = 1,
    [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1,  [24] = 1,   [25] = 1, [26] = 1,
    [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1, ['"'] = 1, ['\\'] = 1,
};

/* s as a JSON string, escaped as jansson does by default: '"', '\\' and
 * control characters; other bytes as they are (records hold UTF-8: from
 * jansson, or sanitised by the HTML walker). */
static void put_str(struct ck_sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    PUT(b, "\"");
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (!json_special[c])
            continue;
        ck_sbuf_put(b, run, (size_t)(p - run));
        if (c == '\0')
            break;
        run = p + 1;
        switch (c) {
        case '"':
            PUT(b, "\\\"");
            break;
        case '\\':
            PUT(b, "\\\\");
            break;
        case '\b':
            PUT(b, "\\b");
            break;
        case '\f':
            PUT(b, "\\f");
            break;
        case '\n':
            PUT(b, "\\n");
            break;
        case '\r':
            PUT(b, "\\r");
            break;
        case '\t':
            PUT(b, "\\t");
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ck_sbuf_put(b, u, sizeof u);
        }
        }
    }
    PUT(b, "\"");
}

/* A string that is null when its bit is in nulls (or, for the nullable ids,
 * when it is NULL). */
static void put_opt(struct ck_sbuf *b, const char *s, bool null)
{
    if (null || s == NULL)
        PUT(b, "null");
    else
        put_str(b, s);
}

static void put_num(struct ck_sbuf *b, int64_t v)
{
    char num[24];
    int n = v == CK_RECORD_NO_COUNT ? 0 : snprintf(num, sizeof num, "%lld", (long long)v);
    if (n > 0)
        ck_sbuf_put(b, num, (size_t)n);
    else
        PUT(b, "null");
}

/* A question number: every int64 is one, INT64_MIN too (only counts use it
 * for "absent"), so a hostile questions value is written back as it was. */
static void put_int(struct ck_sbuf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    ck_sbuf_put(b, num, (size_t)n);
}

void ck_record_write_json(const struct ck_record *r, bool with_group, struct ck_sbuf *b)
{
    PUT(b, "{\"id\":");
    put_opt(b, r->id, r->nulls & CK_RECORD_NULL_ID);
    PUT(b, ",\"platform\":");
    put_opt(b, r->platform, r->nulls & CK_RECORD_NULL_PLATFORM);
    PUT(b, ",\"url\":");
    put_opt(b, r->url, r->nulls & CK_RECORD_NULL_URL);
    PUT(b, ",\"created_at\":");
    put_str(b, r->created_at);
    PUT(b, ",\"author\":{\"id\":");
    put_opt(b, r->author_id, r->nulls & CK_RECORD_NULL_AUTHOR_ID);
    PUT(b, ",\"handle\":");
    put_opt(b, r->handle, r->nulls & CK_RECORD_NULL_HANDLE);
    PUT(b, ",\"name\":");
    put_str(b, r->name);
    PUT(b, ",\"url\":");
    put_opt(b, r->author_url, r->nulls & CK_RECORD_NULL_AUTHOR_URL);
    PUT(b, "},\"text\":");
    put_str(b, r->text);
    PUT(b, ",\"reply_to\":");
    put_opt(b, r->reply_to, false);
    PUT(b, ",\"boost_of\":");
    put_opt(b, r->boost_of, false);
    PUT(b, ",\"edited_at\":");
    put_opt(b, r->edited_at, false);
    if (r->uri != NULL) {
        PUT(b, ",\"uri\":");
        put_opt(b, r->uri, false);
    }
    if (r->quote_of != NULL) {
        PUT(b, ",\"quote_of\":");
        put_opt(b, r->quote_of, false);
    }
    PUT(b, ",\"counts\":{\"replies\":");
    put_num(b, r->replies);
    PUT(b, ",\"boosts\":");
    put_num(b, r->boosts);
    PUT(b, ",\"likes\":");
    put_num(b, r->likes);
    PUT(b, "}");
    if (with_group) {
        PUT(b, ",\"questions\":[");
        for (uint8_t i = 0; i < r->n_questions; i++) {
            if (i > 0)
                PUT(b, ",");
            put_int(b, r->questions[i]);
        }
        PUT(b, "],\"assigned_by\":");
        put_opt(b, r->assigned_by, false);
        /* The flag a reader of the file looks for (issue 14); assigned_by
         * keeps saying which rule it was. */
        if (ck_record_is_spam(r))
            PUT(b, ",\"spam\":true");
    }
    PUT(b, "}\n");
}

/* ---- a JSON tree ---- */

static json_t *str_or_null(const char *s, bool null)
{
    return null || s == NULL ? json_null() : json_string(s);
}

static json_t *count_json(int64_t v)
{
    return v == CK_RECORD_NO_COUNT ? json_null() : json_integer((json_int_t)v);
}

json_t *ck_record_to_json(const struct ck_record *r)
{
    json_t *qs = json_array();
    for (uint8_t i = 0; qs != NULL && i < r->n_questions; i++)
        if (json_array_append_new(qs, json_integer((json_int_t)r->questions[i])) != 0) {
            json_decref(qs);
            qs = NULL;
        }
    if (qs == NULL)
        return NULL;
    /* json_pack with "o" steals every value, and fails whole (NULL) when any
     * of them is NULL. */
    json_t *j = json_pack(
        "{s:o, s:o, s:o, s:s, s:{s:o, s:o, s:s, s:o}, s:s, s:o, s:o, s:o, s:{s:o, s:o, s:o}, "
        "s:o, s:o}",
        "id", str_or_null(r->id, r->nulls & CK_RECORD_NULL_ID), "platform",
        str_or_null(r->platform, r->nulls & CK_RECORD_NULL_PLATFORM), "url",
        str_or_null(r->url, r->nulls & CK_RECORD_NULL_URL), "created_at", r->created_at, "author",
        "id", str_or_null(r->author_id, r->nulls & CK_RECORD_NULL_AUTHOR_ID), "handle",
        str_or_null(r->handle, r->nulls & CK_RECORD_NULL_HANDLE), "name", r->name, "url",
        str_or_null(r->author_url, r->nulls & CK_RECORD_NULL_AUTHOR_URL), "text", r->text,
        "reply_to", str_or_null(r->reply_to, false), "boost_of", str_or_null(r->boost_of, false),
        "edited_at", str_or_null(r->edited_at, false), "counts", "replies", count_json(r->replies),
        "boosts", count_json(r->boosts), "likes", count_json(r->likes), "questions", qs,
        "assigned_by", str_or_null(r->assigned_by, false));
    if (j != NULL && ((r->uri != NULL && json_object_set_new(j, "uri", json_string(r->uri)) != 0) ||
                      (r->quote_of != NULL &&
                       json_object_set_new(j, "quote_of", json_string(r->quote_of)) != 0) ||
                      (ck_record_is_spam(r) && json_object_set_new(j, "spam", json_true()) != 0))) {
        json_decref(j);
        return NULL;
    }
    return j;
}
