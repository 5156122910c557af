/* The simulator: a local stand-in for a Mastodon server that plays a chat
 * script in compressed time, with optional faults. Serves the API subset
 * chatkeeper uses, as Mastodon's documentation specifies it.
 *
 * Pieces, each in its own file under src/sim/: script loading (script.c),
 * ids and paging (page.c), Mastodon-style HTML and JSON (status_html.c, entity.c),
 * the server state (world.c) and the HTTP front (server.c, run.c). */
#ifndef CHATKEEPER_SIM_H
#define CHATKEEPER_SIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/error.h"

struct ck_sim_opts {
    const char *script_path;
    int port;               /* 0: any free port */
    double speed;           /* script time runs this many times faster; default 1 */
    double fault_rate;      /* 0..1: share of requests that meet a fault */
    uint64_t seed;          /* for faults and jitter; 0: from the clock */
    int64_t start_ms;       /* real UTC time of script offset 0; 0: now */
    long rate_limit;        /* requests per window; default 300 */
    int64_t rate_window_ms; /* default 5 minutes */
    const char *port_file;  /* if set, the bound port is written there once listening */
    int no_host;            /* leave out the script's host posts (chatkeeper posts them) */
    int no_streaming;       /* answer the streaming API with 404, as instances that disable it */
    int64_t stream_drop_ms; /* close each stream this long (real time) after it opened; 0: never */
    double stream_skip;     /* 0..1: share of statuses a stream leaves out (a lossy stream) */
    /* A streaming API on a host of its own, as big instances run it: the
     * instance (GET /api/v2/instance, /api/v1/instance) names
     * ws://HOST:PORT as its streaming URL and streams are served only to
     * requests for that Host. NULL: the instance names none. */
    const char *streaming_host;
    /* 0..1: share of the participants who are on Bluesky, not Mastodon (issue
     * 11): each side then shows only its own people's posts (and what was
     * posted through it). 0: every post is on both sides, one world. */
    double bluesky_share;
    int x; /* speak X's API v2 (sim_x.h) and its x-rate-limit-* headers, not Mastodon's */
};

/* Serve until SIGINT/SIGTERM. Prints "listening on http://127.0.0.1:PORT" on stdout
 * once ready. Returns 0 or a negative code with err set. */
int ck_sim_run(const struct ck_sim_opts *opts, struct ck_error *err);

/* ---- the script (script.c) ---------------------------------------------- */

struct ck_sim_account {
    char *key; /* the script's name for it */
    char *username;
    char *domain; /* NULL for a local account */
    char *display_name;
    char *note;
    int bot;
    char id[24];
};

struct ck_sim_status {
    char *key;        /* optional script name, NULL for posted statuses */
    int64_t at_ms;    /* script offset from the chat start */
    int64_t delay_ms; /* visibility delay, script time */
    size_t account;   /* index into script accounts */
    char *text;       /* plain text (NULL when html given) */
    char *html;       /* raw HTML from the script, or NULL */
    char *language;
    long reply_to; /* index into script statuses, or -1 */
    long boosts, likes;
    char **media; /* alt texts ("" = none) */
    size_t n_media;
    int has_hashtag;
};

struct ck_sim_script {
    char *title;
    char *hashtag; /* without '#', as written */
    size_t self;   /* index of the account that posts via the API */
    struct ck_sim_account *accounts;
    size_t n_accounts;
    char **questions;
    size_t n_questions;
    struct ck_sim_status *statuses; /* in script order */
    size_t n_statuses;
};

/* Drop the statuses of the script's "self" (host) account; replies to them
 * become top-level. Can't fail (on out of memory the script is left whole). */
void ck_sim_script_drop_host(struct ck_sim_script *s);

/* Load a script from a file or from a string (name is used in messages).
 * On success s owns everything (free with ck_sim_script_finish). On failure s
 * is left empty and err names the file, and line:column for JSON syntax errors.
 * Returns 0 or CK_ECONFIG / CK_ENOMEM / CK_EIO. */
int ck_sim_script_load(const char *path, struct ck_sim_script *s, struct ck_error *err);
int ck_sim_script_load_string(const char *json, const char *name, struct ck_sim_script *s,
                              struct ck_error *err);
void ck_sim_script_finish(struct ck_sim_script *s);

/* Index of the account with this key, or -1. */
long ck_sim_script_find_account(const struct ck_sim_script *s, const char *key);

/* Whether text carries #tag as a whole hashtag (ASCII case-insensitive). */
int ck_sim_text_has_tag(const char *text, const char *tag);

/* ---- ids and paging (page.c) --------------------------------------------- */

/* Mastodon-style id: (created_ms << 16) | seq, decimal. buf holds 24 bytes. */
void ck_sim_id_make(int64_t created_ms, unsigned seq, char buf[24]);

/* Order two ids numerically (shorter is smaller, then bytewise). <0, 0, >0. */
int ck_sim_id_cmp(const char *a, const char *b);

struct ck_sim_page_req {
    const char *max_id; /* NULL when absent */
    const char *since_id;
    const char *min_id;
    long limit; /* <= 0: default 20; capped at 40 */
};

/* Select one timeline page, as Mastodon's paginate_by_id does.
 * ids: n ids sorted oldest first (borrowed). Writes the chosen indices, newest
 * first, into out (room for 40) and returns how many. With min_id, the page is
 * the oldest `limit` ids above min_id (below max_id if given) and since_id is
 * ignored; otherwise the newest `limit` ids below max_id and above since_id.
 * Pure, can't fail. */
size_t ck_sim_page_select(const char *const *ids, size_t n, const struct ck_sim_page_req *req,
                          size_t out[40]);

/* ---- rendering (status_html.c) ------------------------------------------ */

/* Render plain text as Mastodon does: <p> paragraphs, <br>, hashtag and mention
 * links, shortened URLs. base is the local server's URL ("http://127.0.0.1:N").
 * mentions and tags (borrowed, may be NULL) receive Mastodon's mention and tag
 * objects. Returns new text (free with free()) or NULL when out of memory. */
char *ck_sim_render_html(const struct ck_sim_script *s, const char *text, const char *base,
                         json_t *mentions, json_t *tags);

/* ---- server state (world.c, entity.c), internal to src/sim and its tests --- */

enum { CK_SIM_HOME_BOTH = 0, CK_SIM_HOME_MASTODON = 1, CK_SIM_HOME_BLUESKY = 2 };

/* One status as served: a script status placed in real time, or a posted one. */
struct ck_sim_entry {
    char id[24];
    int64_t created_ms;                 /* real time (orders ids and visibility) */
    int64_t visible_ms;                 /* real time it shows in the API */
    int64_t chat_ms;                    /* its created_at: the chat's own clock */
    size_t account;                     /* index into script accounts */
    const struct ck_sim_status *script; /* borrowed; NULL when posted through the API */
    struct ck_sim_entry *parent;        /* in_reply_to, or NULL */
    char *html;                         /* owned */
    json_t *mentions, *tags;            /* owned */
    char *language;                     /* owned */
    char *visibility;                   /* owned */
    int has_hashtag;
    int late;      /* got a fault's late visibility */
    char *text;    /* owned: plain text, as Bluesky shows the post */
    int home;      /* CK_SIM_HOME_*: which API shows it (with opts.bluesky_share) */
    char rkey[16]; /* Bluesky record key: a TID of created_ms, or the one createRecord got */
    json_t *bsky_mentions; /* owned: the mention facets createRecord got, or NULL */
};

enum ck_sim_fault {
    CK_SIM_FAULT_NONE,
    CK_SIM_FAULT_5XX,
    CK_SIM_FAULT_DROP,
    CK_SIM_FAULT_SLOW,
    CK_SIM_FAULT_TRUNCATE,
    CK_SIM_FAULT_5XX_AFTER_POST,
    CK_SIM_FAULT_COUNT
};

/* Name of a fault kind ("5xx", "drop", ...), NULL for NONE. */
const char *ck_sim_fault_name(enum ck_sim_fault f);

struct ck_sim_reqlog {
    int64_t t;
    char method[8];
    char *path; /* owned */
    int status; /* 0: connection dropped */
    enum ck_sim_fault fault;
};

struct ck_sim {
    struct ck_sim_script script;
    struct ck_sim_opts opts;       /* script_path and port_file borrowed */
    char base[64];                 /* "http://127.0.0.1:PORT" */
    struct ck_sim_entry **entries; /* sorted by id */
    size_t n_entries, cap_entries;
    struct {
        char *key;
        struct ck_sim_entry *entry;
    } * idem;
    size_t n_idem, cap_idem;
    struct ck_sim_reqlog *log;
    size_t n_log, cap_log;
    long requests, faults[CK_SIM_FAULT_COUNT], late_visible, rate_limited, posts_created,
        idem_replays;
    /* Bluesky (bsky.c): sign-ins, refreshes, createRecord refused for a taken rkey. */
    long bsky_sessions, bsky_refreshes, bsky_duplicate_rkeys;
    long long x_posts_read; /* X mode: tweets returned by searches and lookups (X bills each) */
    int64_t window_start;
    long window_used;
    uint64_t rng;
    long streams_opened;
    int stopping;       /* the server is shutting down: streams end */
    pthread_mutex_t mu; /* guards everything above once serving */
};

/* Place the script in real time (ids, visibility, late-visibility faults) and
 * render it for base. script is stolen (also on failure). Returns 0 or CK_ENOMEM. */
int ck_sim_state_init(struct ck_sim *sim, const struct ck_sim_opts *opts,
                      struct ck_sim_script *script, const char *base, struct ck_error *err);
void ck_sim_state_finish(struct ck_sim *sim);

/* The chat's clock at real time real_ms: the script runs speed times faster than
 * the wall, and created_at is stamped on the script's clock (start + offset), so
 * a rehearsal's archive spans the chat's own duration. */
int64_t ck_sim_chat_time(const struct ck_sim *sim, int64_t real_ms);

/* Deterministic uniform double in [0, 1) from the state's generator. */
double ck_sim_random(struct ck_sim *sim);

/* The entry with this id, or NULL. */
struct ck_sim_entry *ck_sim_state_find(const struct ck_sim *sim, const char *id);

/* Create a status by the self account at time now. Returns 0, CK_EINVAL (blank
 * or too long text, msg in err) or CK_ENOTFOUND (unknown in_reply_to_id) or CK_ENOMEM.
 * *out: borrowed from sim. */
int ck_sim_state_post(struct ck_sim *sim, const char *text, const char *in_reply_to_id,
                      const char *visibility, int64_t now, struct ck_sim_entry **out,
                      struct ck_error *err);

/* Replies (visible), boosts and likes of e as seen at time now. */
void ck_sim_entry_counts(const struct ck_sim *sim, const struct ck_sim_entry *e, int64_t now,
                         long *replies, long *boosts, long *likes);

/* A TID (atproto's 13-character, sortable record key) of time_us and clock. */
void ck_sim_tid(int64_t time_us, unsigned clock, char out[14]);

/* Mastodon Status / Account entities as seen at time now. New references. */
json_t *ck_sim_status_json(const struct ck_sim *sim, const struct ck_sim_entry *e, int64_t now);
json_t *ck_sim_account_json(const struct ck_sim *sim, size_t account);

/* ---- request handling (api.c, inspect.c), internal ------------------------ */

/* One request as the HTTP front hands it over; every pointer borrowed. */
struct ck_sim_request {
    const char *method;
    const char *path;          /* decoded, no query */
    const char *authorization; /* header or NULL */
    const char *idempotency_key;
    const char *content_type;
    const char *body;                                /* NUL-terminated */
    const char *(*arg)(void *ctx, const char *name); /* query parameter or NULL */
    void *arg_ctx;
};

/* What to answer: status, a JSON body (owned), an optional Link header (owned). */
struct ck_sim_reply {
    int status;
    json_t *json;
    char *link;
    int created; /* a status was created by this request */
};

/* Answer one Mastodon API request at time now. Caller holds sim->mu.
 * Can't fail: out of memory becomes a 500 reply. */
void ck_sim_api_handle(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                       struct ck_sim_reply *rep);

/* Answer one Bluesky XRPC request (/xrpc/...) at time now, the same world as
 * the Mastodon API (bsky.c). Caller holds sim->mu. */
void ck_sim_bsky_handle(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                        struct ck_sim_reply *rep);

/* Answer GET /sim/statuses, /sim/requests, /sim/stats. Caller holds sim->mu. */
void ck_sim_inspect(struct ck_sim *sim, const char *path, int64_t now, struct ck_sim_reply *rep);

/* ---- the streaming API (stream.c), internal ------------------------------- */

struct MHD_Response;
/* A response for GET /api/v1/streaming/hashtag?tag=tag opened at now, as
 * chunked server-sent events: an "update" event for each tagged public status
 * that becomes visible from now on (none already visible), ":thump" when
 * idle, the end after opts.stream_drop_ms. Caller holds sim->mu. NULL when
 * out of memory. */
struct MHD_Response *ck_sim_stream_response(struct ck_sim *sim, const char *tag, int64_t now);

/* ---- the HTTP front (server.c), internal ---------------------------------- */

struct MHD_Daemon;

/* Open a listening socket on 127.0.0.1:port (0: any free port); *fd and *bound
 * (the port) on success. Returns 0 or a negative errno with err set. */
int ck_sim_http_listen(int port, int *fd, int *bound, struct ck_error *err);

/* Serve sim on the listening socket fd (stolen) from MHD's threads until
 * ck_sim_http_stop. Returns the daemon, or NULL with err set (fd closed). */
struct MHD_Daemon *ck_sim_http_start(struct ck_sim *sim, int fd, struct ck_error *err);
/* Stop serving; waits for requests in flight. d may be NULL. */
void ck_sim_http_stop(struct MHD_Daemon *d);

#endif
