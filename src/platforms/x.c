/* X (Twitter), for archived data: tweets as twarc captured them, normalised to
 * ck_message. Two shapes reach us through the journal:
 *
 *   - API v1.1 tweets as twarc 1 writes them: id_str, created_at
 *     ("Wed Mar 11 01:02:03 +0000 2015"), user{id_str, screen_name, name},
 *     full_text or text (or extended_tweet.full_text), entities, retweeted_status.
 *   - API v2 tweets in twarc2's "flattened" shape: the tweet object (id,
 *     created_at ISO 8601, author_id, text, referenced_tweets, entities) with its
 *     author's user object embedded as "author" (and, when known, its media as
 *     attachments.media objects). v2 response pages keep users apart in
 *     includes.users, but a journal line holds one object, so the importer
 *     stores each tweet of a page in this flattened shape (see import.h).
 *
 * Tweet text is not HTML but has &, < and > escaped as entities; links are
 * t.co wrappers with the real URL beside them in entities.urls (x_text.c
 * makes the text). Ids are id_str (the numeric "id" lost precision in
 * JavaScript-era tools: never used).
 *
 * The importer and the live search embed referenced tweets (from
 * includes.tweets) in their referenced_tweets entries, as twarc2 flattens
 * (ck_x_page_items, x_page.c): a retweet then takes its original's whole
 * text; one whose original is not embedded is not a boost but a message. An edit chain is one message named by its first
 * id; later versions set edited_at. An author missing from includes.users
 * (withheld, suspended) becomes @unknown with its id kept. URLs are x.com's.
 *
 * The live calls (search, threads, posting, OAuth) are in x.h; x_ops.c puts
 * them and this normaliser behind struct ck_platform_ops. Pure: no
 * files, no clock. Every field is type-checked; a wrong type is CK_EPARSE. */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatkeeper/message.h"
#include "chatkeeper/platform.h"
#include "chatkeeper/sbuf.h"
#include "chatkeeper/timeutil.h"
#include "fields.h"
#include "chatkeeper/x.h"
#include "x_int.h"

/* v1.1 objects carry id_str; v2 objects a string id and no id_str. */
static bool is_v1(const json_t *raw)
{
    return json_object_get(raw, "id_str") != NULL;
}

const char *ck_x_item_id(const json_t *raw)
{
    if (is_v1(raw))
        return json_string_value(json_object_get(raw, "id_str"));
    return json_string_value(json_object_get(raw, "id"));
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* v1.1's created_at, "Wed Mar 11 01:02:03 +0000 2015" (always this layout,
 * always English). Returns 0 or CK_EINVAL. */
static int parse_v1_time(const char *s, int64_t *ms)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int day, hh, mm, ss, oh, om, year;
    if (strlen(s) != 30 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[13] != ':' ||
        s[16] != ':' || s[19] != ' ' || (s[20] != '+' && s[20] != '-') || s[25] != ' ')
        return CK_EINVAL;
    const char *mon = NULL;
    for (int i = 0; i < 12 && mon == NULL; i++)
        if (memcmp(months + 3 * i, s + 4, 3) == 0)
            mon = months + 3 * i;
    if (mon == NULL || !digits(s + 8, 2, &day) || !digits(s + 11, 2, &hh) ||
        !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss) || !digits(s + 21, 2, &oh) ||
        !digits(s + 23, 2, &om) || !digits(s + 26, 4, &year))
        return CK_EINVAL;
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || oh > 23 || om > 59)
        return CK_EINVAL;
    int month = (int)((mon - months) / 3) + 1;
    int64_t secs = days_from_civil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss;
    int64_t off = (int64_t)oh * 3600 + om * 60;
    secs -= s[20] == '+' ? off : -off;
    *ms = secs * 1000;
    return 0;
}

static int parse_time(const char *s, int64_t *ms)
{
    if (s == NULL)
        return CK_EINVAL;
    if (parse_v1_time(s, ms) == 0)
        return 0;
    return ck_time_parse_rfc3339(s, ms);
}

int64_t ck_x_item_time(const json_t *raw)
{
    int64_t ms;
    if (parse_time(json_string_value(json_object_get(raw, "created_at")), &ms) != 0)
        return INT64_MIN;
    return ms;
}

/* Tweets are not edited in place (an edit on v2 is a new id), so the
 * creation time is the only version there is. */
const char *ck_x_item_version(const json_t *raw)
{
    return json_string_value(json_object_get(raw, "created_at"));
}

/* ---- normalise ---- */

static long get_count(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return 0; /* counts are decoration: a missing or odd one is just 0 */
    json_int_t n = json_integer_value(v);
    return n < 0 ? 0 : n > LONG_MAX ? LONG_MAX : (long)n;
}

static char *join3(const char *a, const char *b, const char *c)
{
    struct ck_sbuf s = {0};
    ck_sbuf_str(&s, a);
    ck_sbuf_str(&s, b);
    ck_sbuf_str(&s, c);
    if (s.oom) {
        free(s.s);
        return NULL;
    }
    return s.s;
}

/* Screen names are [A-Za-z0-9_]{1,15}; anything else would let a record's
 * handle or URL say something other than the account. */
static bool screen_name_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 15 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 32 && strspn(s, "0123456789") == n;
}

/* What the v1.1 and v2 shapes share once read. Strings are borrowed from raw. */
struct fields {
    const char *id, *created, *reply_to, *boost_of, *quote_of;
    const char *user_id, *screen, *name; /* screen NULL: the author is unknown */
    long replies, boosts, likes;
    char *text; /* owned */
};

/* The text a reader sees of a v1.1 tweet object. Tweets over 140
 * characters from the streaming API keep their whole text and entities in
 * extended_tweet; search (twarc's) puts them in full_text. */
static int v1_text(struct ck_fields *c, const json_t *t, char **out)
{
    const char *text, *full;
    if (ck_fields_str(c, t, "text", false, &text) || ck_fields_str(c, t, "full_text", false, &full))
        return CK_EPARSE;
    const json_t *src = t;
    const json_t *ext = json_object_get(t, "extended_tweet");
    if (json_is_object(ext) && json_is_string(json_object_get(ext, "full_text"))) {
        src = ext;
        full = json_string_value(json_object_get(ext, "full_text"));
    }
    if (full != NULL)
        text = full;
    if (text == NULL)
        return ck_fields_bad(c, "missing text");
    const json_t *xents = json_object_get(src, "extended_entities");
    const json_t *media = NULL;
    if (json_is_object(xents) && ck_x_get_array(c, xents, "media", &media))
        return CK_EPARSE;
    return ck_x_build_text(c, text, json_object_get(src, "entities"), media, out);
}

static int read_v1(struct ck_fields *c, const json_t *raw, struct fields *f)
{
    if (ck_fields_str(c, raw, "in_reply_to_status_id_str", false, &f->reply_to) ||
        ck_fields_str(c, raw, "quoted_status_id_str", false, &f->quote_of))
        return CK_EPARSE;
    const json_t *user = json_object_get(raw, "user");
    if (json_is_object(user)) {
        if (ck_fields_str(c, user, "id_str", true, &f->user_id) ||
            ck_fields_str(c, user, "screen_name", true, &f->screen) ||
            ck_fields_str(c, user, "name", false, &f->name))
            return CK_EPARSE;
    } else if (user != NULL && !json_is_null(user)) {
        return ck_fields_bad(c, "user is not an object");
    } else {
        f->user_id = ""; /* a placeholder author: the tweet is kept */
    }
    const json_t *rt = json_object_get(raw, "retweeted_status");
    if (json_is_object(rt)) {
        if (ck_fields_str(c, rt, "id_str", true, &f->boost_of))
            return CK_EPARSE;
    } else if (rt != NULL && !json_is_null(rt)) {
        return ck_fields_bad(c, "retweeted_status is not an object");
    }
    /* A retweet's counts are the original's: a boost itself has none, as on Mastodon. */
    if (f->boost_of == NULL) {
        f->replies = get_count(raw, "reply_count");
        f->boosts = get_count(raw, "retweet_count");
        f->likes = get_count(raw, "favorite_count");
    }
    /* A retweet's own text is "RT @user: " and the original cut short: the
     * original's whole text, when it has one. */
    bool whole = f->boost_of != NULL && (json_is_string(json_object_get(rt, "text")) ||
                                         json_is_string(json_object_get(rt, "full_text")));
    return v1_text(c, whole ? rt : raw, &f->text);
}

/* The text a reader sees of a v2 tweet object: note_tweet (a long post's
 * whole text and its entities) wins over the 280-character text. */
static int v2_text(struct ck_fields *c, const json_t *t, char **out)
{
    const char *text;
    if (ck_fields_str(c, t, "text", true, &text))
        return CK_EPARSE;
    const json_t *src = t;
    const json_t *note = json_object_get(t, "note_tweet");
    if (json_is_object(note) && json_is_string(json_object_get(note, "text"))) {
        src = note;
        text = json_string_value(json_object_get(note, "text"));
    }
    const json_t *att = json_object_get(t, "attachments");
    const json_t *media = NULL;
    if (json_is_object(att) && ck_x_get_array(c, att, "media", &media))
        return CK_EPARSE;
    return ck_x_build_text(c, text, json_object_get(src, "entities"), media, out);
}

/* An edit on X is a new tweet; every version lists the chain's ids, first
 * the original. The chain is one message, named by its first id, so the
 * archive keeps the latest version (edited_at set) in place of the others.
 * Returns the first id, or fallback when the object shows no chain. */
static const char *chain_head(const json_t *t, const char *fallback)
{
    const json_t *hist = json_object_get(t, "edit_history_tweet_ids");
    const char *first = json_string_value(json_array_get(hist, 0));
    return first != NULL && id_ok(first) ? first : fallback;
}

static int read_v2(struct ck_fields *c, const json_t *raw, struct fields *f)
{
    const char *author_id;
    if (ck_fields_str(c, raw, "author_id", false, &author_id))
        return CK_EPARSE;
    const json_t *author = json_object_get(raw, "author");
    if (json_is_object(author)) {
        if (ck_fields_str(c, author, "id", true, &f->user_id) ||
            ck_fields_str(c, author, "username", true, &f->screen) ||
            ck_fields_str(c, author, "name", false, &f->name))
            return CK_EPARSE;
        if (author_id != NULL && strcmp(author_id, f->user_id) != 0)
            return ck_fields_bad(c, "author.id %.40s is not author_id %.40s", f->user_id,
                                 author_id);
    } else if (author != NULL && !json_is_null(author)) {
        return ck_fields_bad(c, "author is not an object");
    } else {
        /* Withheld, suspended or deleted accounts are left out of
         * includes.users: the tweet stays, under a placeholder author. */
        f->user_id = author_id != NULL ? author_id : "";
        f->screen = NULL;
    }
    const json_t *refs, *boosted = NULL;
    bool retweet = false;
    if (ck_x_get_array(c, raw, "referenced_tweets", &refs))
        return CK_EPARSE;
    for (size_t i = 0; refs != NULL && i < json_array_size(refs); i++) {
        const json_t *r = json_array_get(refs, i);
        const char *type, *rid;
        if (!json_is_object(r))
            return ck_fields_bad(c, "referenced_tweets[%zu] is not an object", i);
        if (ck_fields_str(c, r, "type", true, &type) || ck_fields_str(c, r, "id", true, &rid))
            return CK_EPARSE;
        /* Flattened (twarc2, or our importer) references embed the tweet
         * itself; its edit chain names the message it became. */
        rid = chain_head(r, rid);
        if (strcmp(type, "replied_to") == 0) {
            f->reply_to = rid;
        } else if (strcmp(type, "retweeted") == 0) {
            /* Boosts are counted under their original, not transcribed: a
             * retweet whose original X did not send (deleted, protected,
             * its author suspended) would vanish from the transcript. It
             * stays the retweeter's own message instead, with the text X
             * showed ("RT @user: ..." cut at 140 characters): the only
             * trace of the original there is. */
            boosted = json_is_string(json_object_get(r, "text")) ? r : NULL;
            f->boost_of = boosted != NULL ? rid : NULL;
            retweet = true;
        } else if (strcmp(type, "quoted") == 0) {
            f->quote_of = rid;
        }
    }
    const json_t *pm = json_object_get(raw, "public_metrics");
    /* A retweet's counts are its original's, not its own. */
    if (!retweet && json_is_object(pm)) {
        f->replies = get_count(pm, "reply_count");
        f->boosts = get_count(pm, "retweet_count");
        f->likes = get_count(pm, "like_count");
    }
    /* A retweet's own text is "RT @user: " and the original cut to 140
     * characters with "…": the original's whole text when we have it. */
    return v2_text(c, boosted != NULL ? boosted : raw, &f->text);
}

int ck_x_normalise(const json_t *raw, struct ck_message *out, struct ck_error *err)
{
    struct ck_fields c = {"x tweet", NULL, err};
    struct fields f = {0};
    memset(out, 0, sizeof *out);
    if (!json_is_object(raw))
        return ck_fields_bad(&c, "not a JSON object");
    bool v1 = is_v1(raw);
    if (ck_fields_str(&c, raw, v1 ? "id_str" : "id", true, &f.id))
        return CK_EPARSE;
    c.id = f.id;
    if (!id_ok(f.id))
        return ck_fields_bad(&c, "id is not a decimal string");
    if (ck_fields_str(&c, raw, "created_at", true, &f.created))
        return CK_EPARSE;
    int64_t created_ms;
    if (parse_time(f.created, &created_ms) != 0)
        return ck_fields_bad(&c, "created_at is not a tweet time");
    int rc = v1 ? read_v1(&c, raw, &f) : read_v2(&c, raw, &f);
    if (rc == 0 && f.screen != NULL && !screen_name_ok(f.screen))
        rc = ck_fields_bad(&c, "screen name is not 1-15 letters, digits or _");
    if (rc == 0 &&
        ((f.reply_to != NULL && !id_ok(f.reply_to)) || (f.boost_of != NULL && !id_ok(f.boost_of)) ||
         (f.quote_of != NULL && !id_ok(f.quote_of))))
        rc = ck_fields_bad(&c, "a referenced tweet id is not a decimal string");
    if (rc != 0) {
        free(f.text);
        return rc;
    }
    /* A later version of an edited tweet is the chain's message, edited. */
    const char *id = v1 ? f.id : chain_head(raw, f.id);
    const char *edited_at = strcmp(id, f.id) != 0 ? f.created : NULL;
    out->text = f.text;
    out->created_ms = created_ms;
    out->replies = f.replies;
    out->boosts = f.boosts;
    out->likes = f.likes;
    if (f.screen != NULL) {
        out->author.handle = join3("@", f.screen, "");
        out->author.url = join3("https://x.com/", f.screen, "");
        char *status = join3("https://x.com/", f.screen, "/status/");
        out->url = status != NULL ? join3(status, f.id, "") : NULL;
        free(status);
    } else {
        /* Withheld, suspended or gone: X's id-only links still resolve. */
        out->author.handle = join3("@unknown", "", "");
        out->author.url =
            id_ok(f.user_id) ? join3("https://x.com/i/user/", f.user_id, "") : join3("", "", "");
        out->url = join3("https://x.com/i/web/status/", f.id, "");
    }
    out->uri = join3("https://x.com/i/web/status/", id, "");
    bool ok =
        out->author.handle != NULL && out->author.url != NULL && out->url != NULL &&
        out->uri != NULL && ck_fields_dup(&out->id, id) && ck_fields_dup(&out->platform, "x") &&
        ck_fields_dup(&out->author.id, f.user_id) &&
        ck_fields_dup(&out->author.name, f.name != NULL ? f.name : "") &&
        ck_fields_dup(&out->reply_to, f.reply_to) && ck_fields_dup(&out->boost_of, f.boost_of) &&
        ck_fields_dup(&out->quote_of, f.quote_of) && ck_fields_dup(&out->edited_at, edited_at);
    if (!ok) {
        ck_message_finish(out);
        return ck_error_set(err, CK_ENOMEM, "x: out of memory");
    }
    ck_message_noncharacters(out);
    return 0;
}
