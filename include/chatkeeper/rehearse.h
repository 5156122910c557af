/* Rehearsals: a local simulator started for the purpose, playing a chat script
 * around the session, in compressed time. */
#ifndef CHATKEEPER_REHEARSE_H
#define CHATKEEPER_REHEARSE_H

#include <stdint.h>
#include <sys/types.h>

#include "chatkeeper/error.h"

struct ck_rehearsal {
    pid_t pid;
    int port;
    char base_url[64];
};

/* Start `chatkeeper simulate SCRIPT --port 0 --speed X --start START` (with
 * --no-host when chatkeeper itself posts the run sheet, and --bluesky-share
 * when bluesky_share > 0: a session on Mastodon and Bluesky at once, each
 * side with its own people) as a child process (this same executable) and
 * wait until it listens (up to 10 s). Returns 0 or a negative code with err set. */
int ck_rehearsal_start(const char *script, double speed, int64_t start_ms, int no_host,
                       double bluesky_share, struct ck_rehearsal *out, struct ck_error *err);

/* Stop the simulator (SIGTERM, then SIGKILL after 2 s) and reap it. */
void ck_rehearsal_stop(struct ck_rehearsal *r);

#endif
