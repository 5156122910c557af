/* Private to src/render: the compact model of a session's messages that every
 * renderer shares.
 *
 * Built in one pass over the records (ck_rmodel_load): the lines of an mmap
 * of messages.jsonl, or the archive's own records (record.h), which read
 * without parsing. For each message it keeps where its
 * record is, when it was posted, who wrote it, what it replies to and its
 * counts; never its text. The transcripts read a record again from the map
 * (ck_rmodel_get) when they write it. The pass also feeds the streaming
 * outputs (messages.csv), the write-up's digest, and the statistics
 * summary.json and activity.svg need, so the records are read once for all. */
#ifndef CHATKEEPER_RENDER_MODEL_H
#define CHATKEEPER_RENDER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/config.h"
#include "chatkeeper/escape.h"
#include "chatkeeper/record.h"
#include "chatkeeper/render.h"
#include "chatkeeper/writeup.h"

#define CK_RNONE UINT32_MAX

enum {
    CK_RM_BOOST = 1,  /* boost_of set: counted, not transcribed */
    CK_RM_QPOST = 2,  /* assigned_by "question" */
    CK_RM_REPLY = 4,  /* reply_to set (parent may be missing) */
    CK_RM_QUOTED = 8, /* some quote post in the archive quotes it */
};

/* A quote post and what it quotes, or a boost and what it boosts
 * (model_links.c): message indexes; to is CK_RNONE when not in the archive. */
struct ck_rlink {
    uint32_t from, to;
    uint64_t h; /* hash of the target's id */
};

struct ck_rmsg {
    uint64_t off; /* line offset in the map, or index in src */
    int64_t created_ms;
    uint64_t reply_h; /* hash of reply_to (0: none) until resolved into parent */
    uint32_t len;     /* line length */
    uint32_t author;  /* index into authors; CK_RNONE for boosts */
    uint32_t parent;  /* message index of reply_to, CK_RNONE if absent */
    uint32_t likes, boosts;
    uint8_t flags;
};

/* One (message, question) membership; q == 0 is chatter. Sorted by q, then
 * message index (= time order). */
struct ck_rmember {
    uint32_t msg;
    uint32_t q;
};

struct ck_rauthor {
    char *handle; /* as first seen (owned) */
    uint32_t messages;
    uint32_t mark; /* scratch: last group counted in */
    bool returning;
};

struct ck_rtop {
    uint32_t msg[3];
    uint32_t n;
};

/* groups[0] is chatter, groups[q] question q. */
struct ck_rgroup {
    int number;
    const char *text; /* borrowed from the session; NULL if not in the run sheet */
    int64_t asked_ms; /* the question post's time, else state.json's, else scheduled */
    bool asked_known;
    uint32_t post;            /* first question post's message index, or CK_RNONE */
    const char *post_url;     /* from state.json when no post is in messages (borrowed) */
    size_t first, count;      /* range in members */
    uint32_t answers, people; /* non-question-post messages, distinct authors */
    int64_t first_answer_ms;  /* -1: none at or after asked_ms */
    struct ck_rtop liked, boosted;
};

/* A string -> count table (links shared, hashtags used). */
struct ck_rcount {
    struct ck_rcount_slot {
        char *key;
        uint32_t count;
    } * slots;
    size_t cap, n;
};

struct ck_rmodel {
    const struct ck_session *s; /* borrowed */
    const char *dir;            /* borrowed */
    json_t *state;              /* state.json (owned), {} when absent */
    const char *data;           /* the mmap of messages.jsonl, when read from it */
    size_t size;
    const struct ck_record_source *src; /* or the archive's records (borrowed) */

    struct ck_rmsg *msgs;
    size_t n, cap;
    struct ck_rmember *members;
    size_t nmem, capmem;
    struct ck_rauthor *authors;
    size_t nauth, capauth;
    uint32_t *auth_slots; /* open addressing: author index + 1, 0 empty */
    size_t auth_cap;
    struct ck_rid_slot {
        uint64_t h;
        uint32_t idx;
    } * id_slots;
    size_t id_cap;

    struct ck_rgroup *groups;
    size_t ngroups; /* 1 + highest question number */

    struct ck_rlink *quote_links, *boost_links; /* by from; by (to, from) */
    json_t *opt_out;                            /* overrides.json's opt_out (owned), or NULL */
    size_t n_quote_links, cap_quote_links, n_boost_links, cap_boost_links;

    size_t lines, corrupt, boosts;
    uint64_t bytes_since_drop; /* see ck_rmodel_parse: keeps RSS flat */

    /* activity.svg */
    int64_t bin0_ms, bin_ms;
    uint32_t *bins;
    size_t nbins;

    struct ck_rcount links, tags;

    /* zone cache (see ck_rmodel_local) */
    int64_t zone_bucket;
    int zone_offset_s;
    char zone_abbr[16];
};

struct ck_rlocal {
    int year, month, day, hour, minute, second, weekday;
    int offset_s;
    char abbr[16];
};

/* Load dir's session data from records (borrowed, must outlive m) or, when
 * it is NULL, from dir/messages.jsonl. csv (may be NULL) receives
 * messages.csv and digest (may be NULL) every record as they stream by.
 * s: borrowed, must outlive m. */
int ck_rmodel_load(struct ck_rmodel *m, const char *dir, const struct ck_session *s,
                   const struct ck_record_source *records, struct ck_sink *csv,
                   struct ck_writeup_digest *digest, struct ck_error *err);
void ck_rmodel_finish(struct ck_rmodel *m);

/* Message i's record again, as a view (ck_rrec_release it). */
struct ck_rrec {
    struct ck_record r;
    json_t *json; /* what r borrows from, for a line of messages.jsonl */
};
/* Returns 0, or CK_ENOMEM (the record read once, so it reads again; for
 * the archive's records, whatever error its source gave). */
int ck_rmodel_get(struct ck_rmodel *m, uint32_t i, struct ck_rrec *out);
void ck_rrec_release(struct ck_rrec *rec);

/* ms in the session's zone. Offsets are looked up once per 15 minutes of
 * UTC, since no zone changes offset more often. Returns 0 or CK_ETZ. */
int ck_rmodel_local(struct ck_rmodel *m, int64_t ms, struct ck_rlocal *out);

/* "2026-12-03T20:05:00+00:00" (buf >= 32). */
void ck_rlocal_iso(const struct ck_rlocal *lt, char *buf, size_t n);
/* "20:05". */
void ck_rlocal_hhmm(const struct ck_rlocal *lt, char buf[6]);
/* "January" to "December": lt's month in English. */
const char *ck_rlocal_month(const struct ck_rlocal *lt);
/* v in decimal into buf, NUL-terminated; returns its length. For the
 * numbers written for every message, where snprintf was a cost of its own. */
size_t ck_rfmt_int(char buf[24], int64_t v);

/* Where r was posted, for the transcripts (issue 11: a session follows
 * several sources): "Bluesky", "X", or the host of its url (a Mastodon post's
 * url is on its author's instance), else of its uri or its author's url;
 * lowercased, without user or port, at most n - 1 bytes. "" when none reads
 * as a host. Not escaped: each format escapes it as text. */
#define CK_RSOURCE_MAX 256
void ck_rsource_label(const struct ck_record *r, char *buf, size_t n);

/* FNV-1a, mixed so its low bits can index tables; never 0. fold: ASCII
 * case-insensitive. */
uint64_t ck_rhash(const char *s, size_t len, bool fold);

/* The string at key of obj, or "" (borrowed). */
const char *ck_rjson_str(const json_t *obj, const char *key);

/* "26 messages from 9 people, and 1 boost" for the transcripts' footers
 * (plain text: numbers and English words only). */
void ck_rmodel_counts(const struct ck_rmodel *m, char *buf, size_t n);

/* One line of messages.jsonl as a new JSON object, or NULL (not JSON, or not
 * an object). Invalid UTF-8 (which jansson refuses) is replaced with U+FFFD
 * and the line tried again, so one bad byte does not lose a message. */
json_t *ck_rjson_parse_line(const char *line, size_t len);

/* Call each(arg, handle) for every message of another session's
 * messages.jsonl at path that is not a boost (handle NULL when it has none);
 * unreadable lines are passed over. A missing file calls nothing. Returns
 * false only when the file exists but cannot be opened. */
bool ck_rfor_each_author(const char *path, void (*each)(void *arg, const char *handle), void *arg);

/* Counted strings: add one, or list the top max (sorted count desc, key asc).
 * top: new array of borrowed slot pointers (free with free()). */
int ck_rcount_add(struct ck_rcount *c, const char *key, size_t len);
int ck_rcount_top(const struct ck_rcount *c, size_t max, struct ck_rcount_slot ***top, size_t *n);
void ck_rcount_finish(struct ck_rcount *c);
/* Count text's http(s) links into links and its hashtags (lower-cased, not
 * inside a URL, never own_tag) into tags; out of memory is logged, not fatal. */
void ck_rscan_text(struct ck_rcount *links, struct ck_rcount *tags, const char *own_tag,
                   const char *text, size_t len);

/* Per-output writers (each file owns one). */
void ck_rcsv_header(struct ck_sink *csv);
void ck_rcsv_row(struct ck_rmodel *m, struct ck_sink *csv, const struct ck_record *r);
int ck_rsummary_returning(struct ck_rmodel *m, struct ck_error *err);
int ck_rsummary_write(struct ck_rmodel *m, const char *path, struct ck_error *err);
int ck_rchart_write(struct ck_rmodel *m, const char *path, struct ck_error *err);
int ck_rtranscripts_write(struct ck_rmodel *m, const char *html_path, const char *md_path,
                          struct ck_error *err);

/* Quotes and boosts (model_links.c). _add: note r's quote_of or boost_of
 * (message idx), CK_ENOMEM or 0; _resolve: find their targets with find
 * (while the ids are known), drop boosts of posts not in the archive. */
int ck_rlinks_add(struct ck_rmodel *m, uint32_t idx, const struct ck_record *r);
void ck_rlinks_resolve(struct ck_rmodel *m, uint32_t (*find)(const struct ck_rmodel *, uint64_t));
/* The message idx quotes, or CK_RNONE (not a quote, or not in the archive). */
uint32_t ck_rmodel_quoted(const struct ck_rmodel *m, uint32_t idx);
/* The boosts of idx in the archive: *first, that many, oldest first. */
size_t ck_rmodel_boosters(const struct ck_rmodel *m, uint32_t idx, const struct ck_rlink **first);
/* idx is in the archive only because it is quoted (outside the window and
 * boosted by nobody): shown inside its quotes, not again on its own. */
bool ck_rmodel_only_quoted(const struct ck_rmodel *m, uint32_t idx);
/* The link to the quoted post id in text, blanks before it included:
 * [*start, *end); else the text's last "[quote...] URL" line (a Mastodon
 * quote of another server's post links to that server's id, not ours).
 * False when there is none. */
bool ck_rquote_link(const char *text, const char *id, size_t *start, size_t *end);
/* A quote post whose quoted post is not in the archive is shown with a stub
 * of what its text says of that post: ck_rquote_link's span, and the author
 * the link names ("@user" of x.com/user/status/ID, "@h" of a Bluesky
 * "[quote: @h] URL" line or bsky.app/profile/h/post/R, "@user@host" of
 * host/@user/ID) into handle (n bytes; "" when it names none). False when
 * the text has no link to it. */
bool ck_rquote_stub(const char *text, const char *id, size_t *start, size_t *end, char *handle,
                    size_t n);
/* overrides.json's opt_out list in dir (new reference), NULL when there is
 * none; and whether a handle is on it. A stub never names, nor links to, a
 * post of someone who opted out. */
json_t *ck_ropt_out_load(const char *dir);
bool ck_ropt_out_has(const json_t *list, const char *handle);

/* Transcript emitters: the traversal (transcript.c) reads each record once and
 * hands it to both. note_re: handle of the message replied to when it is not
 * shown as the parent ("" for a post not in the archive), or NULL. group: the
 * number of the section being written (0: chatter). */
struct ck_rentry_view {
    const struct ck_record *msg;
    const struct ck_rmsg *rm;
    const char *note_re;
    int depth;
    int group;
    /* quoted: the post msg quotes, when it is in the archive (then the link
     * to it, [link_start, link_end) of msg->text, is not written); boosters:
     * handles of who boosted msg here, n_boosters of boosts_total shown. */
    const struct ck_record *quoted;
    const struct ck_rmsg *quoted_rm;
    size_t link_start, link_end;
    const char *const *boosters;
    size_t n_boosters, boosts_total;
    /* quote_missing: msg quotes a post that is not in the archive, shown as
     * a stub of what msg's text says of it: the link (stub_url, NULL when
     * there is none; not written in the text then) and its author
     * (stub_handle, "" when unknown). */
    bool quote_missing;
    const char *stub_url, *stub_handle;
};
void ck_rhtml_begin(struct ck_rmodel *m, struct ck_sink *o);
void ck_rhtml_group_begin(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rgroup *g);
void ck_rhtml_msg_open(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rentry_view *v);
void ck_rhtml_children(struct ck_sink *o, bool open);
void ck_rhtml_msg_close(struct ck_sink *o);
void ck_rhtml_group_end(struct ck_sink *o, const struct ck_rgroup *g);
void ck_rhtml_end(struct ck_rmodel *m, struct ck_sink *o);
void ck_rmd_begin(struct ck_rmodel *m, struct ck_sink *o);
void ck_rmd_group_begin(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rgroup *g);
void ck_rmd_msg(struct ck_rmodel *m, struct ck_sink *o, const struct ck_rentry_view *v);
void ck_rmd_group_end(struct ck_sink *o, const struct ck_rgroup *g);
void ck_rmd_end(struct ck_rmodel *m, struct ck_sink *o);

/* The question post's record for a group header: true with *out filled
 * (ck_rrec_release it), false when the post is unknown or unreadable. */
bool ck_rgroup_post(struct ck_rmodel *m, const struct ck_rgroup *g, struct ck_rrec *out);
/* What both transcripts decide alike (transcript.c), each writing it in its
 * own markup: whether g has a line in the list of questions (it is in the
 * run sheet, or has messages); the name shown for r's author (the handle
 * when it has no display name; borrowed from r); and v's boosters as
 * "a, b and c" or "a, b, c and 4 more", each handle written by name(). */
bool ck_rgroup_listed(const struct ck_rgroup *g);
const char *ck_rauthor_name(const struct ck_record *r);
void ck_rboosters_list(struct ck_sink *o, const struct ck_rentry_view *v,
                       void (*name)(struct ck_sink *o, const char *handle));

#endif
