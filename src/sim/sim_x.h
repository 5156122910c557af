/* Private to src/sim: the X mode's routes (x_api.c). */
#ifndef CHATKEEPER_SIM_X_H
#define CHATKEEPER_SIM_X_H

#include "chatkeeper/sim.h"

/* Answer one X API v2 request at time now (opts.x set): GET
 * /2/tweets/search/recent, GET /2/tweets/:id, POST /2/tweets; anything else
 * 404. Errors are X's problem objects ({title, detail, type, status}).
 * Caller holds sim->mu. Can't fail: out of memory becomes a 500 reply. */
void ck_sim_x_handle(struct ck_sim *sim, const struct ck_sim_request *rq, int64_t now,
                     struct ck_sim_reply *rep);

#endif
