/* A fake Mastodon for the poster's tests: POST /api/v1/statuses on
 * 127.0.0.1 (libmicrohttpd, a thread per connection, port 0).
 *
 * It honours Idempotency-Key (a known key returns the original status), checks
 * the bearer token, and can be told to fail the next POSTs: 503 after creating,
 * 500 before creating, a dropped connection after creating, a reply slower
 * than the client's timeout (after creating), 429 (Retry-After: 1), 422, 401.
 * On every POST it reads state.json from disk and counts a violation unless
 * the intent ({"key", "status": "sending"}) was saved before the request came.
 * Tests read its fields under fake.mu, or after the client's loop has ended.
 *
 * Any other route answers from a script (fake_script): canned responses for
 * the follower, the thread fetcher and the publish targets, and a log of the
 * requests they made (fake.reqs). */
#ifndef CK_TEST_FAKE_MASTODON_H
#define CK_TEST_FAKE_MASTODON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_TOKEN "test-token"
#define FAKE_MAX_ST 64

enum fake_fault {
    F_NONE,
    F_503_AFTER,
    F_500_BEFORE,
    F_DROP_AFTER,
    F_SLOW_AFTER,
    F_422,
    F_401,
    F_429
};

struct fake_status {
    char id[32];
    char key[80];
    char text[512];
    char reply_to[32];
};

/* One canned answer: to the first request for method and path (the path
 * without its query) not answered yet by an earlier entry; a sticky entry
 * answers every such request. header: "Name: value" or NULL. */
struct fake_canned {
    const char *method, *path;
    unsigned code;
    const char *body;
    const char *header;
    bool sticky;
};

#define FAKE_MAX_SCRIPT 32
#define FAKE_MAX_REQS 256

/* A request the script saw (or had no answer for: then code is 404). */
struct fake_req {
    char method[8];
    char path[160];
    char query[512]; /* decoded "k=v&k=v" */
    char auth[160];  /* the Authorization header, "" when none */
    char body[1024]; /* the first bytes */
    unsigned code;
    int64_t at_ms; /* when it arrived (wall clock) */
};

/* A hashtag timeline served by its cursors, as Mastodon does: newest first,
 * max_id / since_id / min_id (min_id: the oldest page above it), limit (at
 * most 40), a Link header with the next and prev cursors. faults answer the
 * next requests first (429 with Retry-After: 1, or 503); loop ignores every
 * cursor and always sends the newest page (a broken server). */
#define FAKE_MAX_TL 256
enum fake_tl_fault { TL_OK, TL_429, TL_503 };
struct fake_timeline {
    char path[96];
    char *items[FAKE_MAX_TL];  /* a status's JSON each (owned), oldest first */
    char ids[FAKE_MAX_TL][24]; /* fixed-width decimal ids, ascending */
    size_t n;
    enum fake_tl_fault faults[16];
    size_t n_faults, next_fault;
    bool loop;
};

struct fake_mastodon {
    pthread_mutex_t mu;
    struct MHD_Daemon *d;
    unsigned port;
    char base[64]; /* "http://127.0.0.1:PORT", set by fake_start */
    enum fake_fault faults[16];
    size_t n_faults, next_fault;
    struct fake_status st[FAKE_MAX_ST];
    size_t n_st;
    size_t posts;
    int intent_violations;
    int bad_requests;
    char state_path[256];
    unsigned next_id;
    struct fake_canned script[FAKE_MAX_SCRIPT];
    bool used[FAKE_MAX_SCRIPT];
    size_t n_script;
    struct fake_req reqs[FAKE_MAX_REQS];
    size_t n_reqs;
    struct fake_timeline tl;
};

extern struct fake_mastodon fake;

/* cmocka group setup/teardown: start and stop the server. */
int fake_start(void **state);
int fake_stop(void **state);

/* A fresh directory /tmp/ck-NAME-XXXXXX in dir (size bytes) for a test's
 * files: 0, or -1 if it could not be made. */
int fake_tmpdir(char *dir, size_t size, const char *name);

/* Removes dir and all in it: 0, or -1. */
int fake_rmdir(const char *dir);

/* Forget every status; the next n POSTs meet faults[0..n-1]; state_path ("" for
 * none) is where the intent check reads state.json. */
void fake_reset(const char *state_path, const enum fake_fault *faults, size_t n);

/* Replace the script with c[0..n) (the strings are borrowed: keep them
 * static) and forget the requests seen. */
void fake_script(const struct fake_canned *c, size_t n);

/* Serve the timeline at path ("" for none), forgetting its statuses;
 * faults[0..n) answer its next requests. */
void fake_timeline(const char *path, const enum fake_tl_fault *faults, size_t n, bool loop);

/* Add a status (JSON text, copied) with id to the timeline (under fake.mu or
 * before the client runs); ids must come in ascending order. */
void fake_timeline_add(const char *id, const char *json);

/* Requests seen for method and path so far (under fake.mu). */
size_t fake_count(const char *method, const char *path);

/* Create the status for key (or find the one made with it) from a form body.
 * Call with fake.mu held. NULL when full. */
struct fake_status *fake_create_or_find(const char *key, const char *body);

#endif
