/* A normalised message: what every platform's objects become, and one line of
 * messages.jsonl. */
#ifndef CHATKEEPER_MESSAGE_H
#define CHATKEEPER_MESSAGE_H

#include <stdint.h>

#include <jansson.h>

struct ck_author {
    char *id;
    char *handle; /* "@user@domain" */
    char *name;   /* display name, may be "" */
    char *url;
};

struct ck_message {
    char *id;       /* the platform's id, opaque */
    char *platform; /* "mastodon" */
    char *url;
    int64_t created_ms;
    struct ck_author author;
    char *text;      /* plain text from the content's HTML */
    char *reply_to;  /* id or NULL */
    char *boost_of;  /* id or NULL */
    char *edited_at; /* RFC 3339 or NULL */
    long replies, boosts, likes;
    /* Added for Bluesky (issue 11) and X (issue 13). In messages.jsonl after
     * edited_at, only when set (records without them are as before). */
    char *uri;      /* canonical, instance-independent identity (at:// URI,
                       https://x.com/i/web/status/ID) or NULL */
    char *quote_of; /* the quoted post's id (at:// URI, tweet id) or NULL */
};

void ck_message_finish(struct ck_message *m);

/* U+FFFE and U+FFFF are well-formed UTF-8 but not characters: no output of
 * ours (HTML, SVG, XML, CSV) may carry them, and libxml2 stops at one. JSON
 * lets them through (jansson accepts "\uFFFE"), so every normaliser ends
 * with this: in place, each becomes U+FFFD in the text, the author's name
 * and handle and the links of m (never in an id: two posts must stay two), as
 * html_text.c does for HTML. The strings must be valid UTF-8 (jansson's). */
void ck_message_noncharacters(struct ck_message *m);

/* The messages.jsonl record: keys in a fixed order (id, platform, url,
 * created_at, author{id,handle,name,url}, text, reply_to, boost_of, edited_at,
 * [uri], [quote_of], counts{replies,boosts,likes}). New reference, or NULL on
 * out of memory. */
json_t *ck_message_to_json(const struct ck_message *m);

/* Order for the archive: created_at, then id (string order, shorter first). */
int ck_message_cmp(const struct ck_message *a, const struct ck_message *b);

/* The order of opaque ids: shorter first, then bytes (numeric ids in numeric
 * order without ever parsing them as numbers); NULL before anything. */
int ck_id_order(const char *a, const char *b);

#endif
