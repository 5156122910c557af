/* A fake Mastodon for the poster's tests: POST /api/v1/statuses on
 * 127.0.0.1 (libmicrohttpd, a thread per connection, port 0).
 *
 * It honours Idempotency-Key (a known key returns the original status), checks
 * the bearer token, and can be told to fail the next POSTs: 503 after creating,
 * 500 before creating, a dropped connection after creating, a reply slower
 * than the client's timeout (after creating), 429 (Retry-After: 1), 422, 401.
 * On every POST it reads state.json from disk and counts a violation unless
 * the intent ({"key", "status": "sending"}) was saved before the request came.
 * Tests read its fields under fake.mu, or after the client's loop has ended. */
#ifndef CK_TEST_FAKE_MASTODON_H
#define CK_TEST_FAKE_MASTODON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

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

struct fake_mastodon {
    pthread_mutex_t mu;
    struct MHD_Daemon *d;
    unsigned port;
    enum fake_fault faults[16];
    size_t n_faults, next_fault;
    struct fake_status st[FAKE_MAX_ST];
    size_t n_st;
    size_t posts;
    int intent_violations;
    int bad_requests;
    char state_path[256];
    unsigned next_id;
};

extern struct fake_mastodon fake;

/* cmocka group setup/teardown: start and stop the server. */
int fake_start(void **state);
int fake_stop(void **state);

/* Forget every status; the next n POSTs meet faults[0..n-1]; state_path ("" for
 * none) is where the intent check reads state.json. */
void fake_reset(const char *state_path, const enum fake_fault *faults, size_t n);

/* Create the status for key (or find the one made with it) from a form body.
 * Call with fake.mu held. NULL when full. */
struct fake_status *fake_create_or_find(const char *key, const char *body);

#endif
