/* Private to src/sim: the Bluesky side's identities and views (bsky_view.c),
 * used by its XRPC routes (bsky.c). */
#ifndef CHATKEEPER_SIM_BSKY_INT_H
#define CHATKEEPER_SIM_BSKY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chatkeeper/sim.h"

/* n base32-sortable characters (out holds n + 1) from a hash of a and b. */
void ck_sim_bsky_hashed(const char *a, const char *b, char *out, size_t n);
/* "did:plc:" and 24 characters, stable for the account. */
void ck_sim_bsky_did(const struct ck_sim *sim, size_t account, char out[40]);
/* "ann.bsky.social"; a remote account "ann-glammr.bsky.social". */
void ck_sim_bsky_handle_of(const struct ck_sim *sim, size_t account, char *out, size_t n);
/* at://DID/app.bsky.feed.post/RKEY, and a CID ("bafyrei..."), of e. */
void ck_sim_bsky_uri(const struct ck_sim *sim, const struct ck_sim_entry *e, char *out, size_t n);
void ck_sim_bsky_cid(const struct ck_sim_entry *e, char out[64]);
/* The entry at this at:// URI (its author's DID or handle), or NULL. */
struct ck_sim_entry *ck_sim_bsky_find_uri(const struct ck_sim *sim, const char *uri);
/* e's app.bsky.feed.post record, and its postView as seen at now. New references. */
json_t *ck_sim_bsky_record(const struct ck_sim *sim, const struct ck_sim_entry *e);
json_t *ck_sim_bsky_post_view(const struct ck_sim *sim, const struct ck_sim_entry *e, int64_t now);

#endif
