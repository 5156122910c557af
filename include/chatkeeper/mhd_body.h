/* A request body collected across libmicrohttpd's calls of an access handler,
 * with a cap: the one copy the console's server and the simulator share.
 *
 * libmicrohttpd calls the handler once with no data (the headers are in),
 * then once per chunk of the body with *upload_size > 0 (the handler must set
 * it to 0: consumed), then once more with *upload_size == 0: the body is
 * complete and the handler answers. A body past the cap is not kept (memory
 * stays bounded whatever the client sends); too_big says so, and the handler
 * answers 413 at the end. ck_mhd_body_feed is testable alone; the two calls
 * below it are what each server's handler shares: the body kept in MHD's
 * per-request pointer (*con_cls) from the first call to the completed one. */
#ifndef CHATKEEPER_MHD_BODY_H
#define CHATKEEPER_MHD_BODY_H

#include <stddef.h>

#include <microhttpd.h>

struct ck_mhd_body {
    char *body;  /* NUL-terminated (NULL until a byte came) */
    size_t len;  /* bytes in body, not counting the NUL */
    int too_big; /* the body passed the cap: body holds what came before */
};

/* One call's upload data: a chunk is appended (or, past cap bytes in all,
 * dropped with too_big set) and *upload_size set to 0. Returns 1 when the
 * call carried a chunk (the handler returns MHD_YES and waits), 0 when the
 * body is complete (the handler answers now), -1 out of memory (MHD_NO). */
int ck_mhd_body_feed(struct ck_mhd_body *b, const char *upload, size_t *upload_size, size_t cap);

/* Frees the body; b may then be fed again or dropped. */
void ck_mhd_body_free(struct ck_mhd_body *b);

/* One call of an access handler, its con_cls and upload as given: the first
 * call (the headers are in) makes the request's body in *con_cls, later ones
 * feed it, capped at cap. Returns 1: wait for more (the handler returns
 * MHD_YES), 0: the body is complete, *out (borrowed until the request is
 * completed) and the handler answers now, -1: out of memory (MHD_NO). */
int ck_mhd_body_take(void **con_cls, const char *upload, size_t *upload_size, size_t cap,
                     const struct ck_mhd_body **out);

/* MHD_OPTION_NOTIFY_COMPLETED's callback (cls NULL): frees what
 * ck_mhd_body_take kept in *con_cls, whether or not the request got an answer. */
void ck_mhd_body_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                           enum MHD_RequestTerminationCode toe);

#endif
