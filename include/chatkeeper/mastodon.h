/* Mastodon's write side and instance facts: posting a status and reading the
 * instance's limits. Pure, like every platform module: requests are built as
 * data (struct ck_request) and responses parsed from memory; sending them is
 * net/http's job. The read side (hashtag timeline) is ck_platform_mastodon
 * in platform.h. */
#ifndef CHATKEEPER_MASTODON_H
#define CHATKEEPER_MASTODON_H

#include <stddef.h>

#include "chatkeeper/error.h"
#include "chatkeeper/request.h"

/* POST {base_url}/api/v1/statuses with a form-urlencoded body: status=text,
 * visibility=public and, when in_reply_to_id is not NULL, in_reply_to_id.
 * Headers: Authorization: Bearer token, Idempotency-Key, Content-Type, Accept.
 * The key makes a retry return the original status instead of a second one
 * (Mastodon keeps keys for an hour).
 * All strings are borrowed. token and idempotency_key are required and must
 * not contain line breaks. *out is filled on success (free with
 * ck_request_finish) and left zeroed on failure.
 * Returns 0, CK_EAUTH (no token), CK_EINVAL or CK_ENOMEM. */
int ck_mastodon_post_request(const char *base_url, const char *token, const char *text,
                             const char *in_reply_to_id, const char *idempotency_key,
                             struct ck_request *out, struct ck_error *err);

/* Parse the Status a successful POST returns. *id_out and *url_out are new
 * strings (free with free()); url falls back to the status's uri when the
 * server gives url as null. On failure both are NULL.
 * Returns 0, CK_EHTTP (status not 2xx), CK_EPARSE (not JSON, not an object,
 * no non-empty string id, no url or uri) or CK_ENOMEM. */
int ck_mastodon_parse_status(const struct ck_response *resp, char **id_out, char **url_out,
                             struct ck_error *err);

/* The server's own words for a failed request ({"error": "..."}), cut to fit
 * buf, or "" when the body holds none. Control characters become spaces (the
 * text goes into log lines). Can't fail; buf is always terminated (n >= 1). */
void ck_mastodon_error_text(const struct ck_response *resp, char *buf, size_t n);

/* GET {base_url}/api/v2/instance. token may be NULL (the endpoint is public).
 * *out as for ck_mastodon_post_request. Returns 0, CK_EINVAL or CK_ENOMEM. */
int ck_mastodon_instance_request(const char *base_url, const char *token, struct ck_request *out,
                                 struct ck_error *err);

/* configuration.statuses.max_characters from a 2xx /api/v2/instance reply.
 * Returns 0, CK_EHTTP, CK_EPARSE (missing, not a positive integer) or CK_ENOMEM. */
int ck_mastodon_parse_instance_max_chars(const struct ck_response *resp, long *max_out,
                                         struct ck_error *err);

/* ---- streaming (mastodon_stream.c) ----
 * GET {base_url}/api/v1/streaming/hashtag?tag=TAG as server-sent events
 * (Accept: text/event-stream; Authorization when token is not NULL). Events:
 * "update" (a Status, JSON), "status.update" (the edited Status), "delete"
 * (a status id, bare). Used through ck_platform_mastodon's stream_request
 * and parse_stream_event; see platform.h for the contracts. */
struct ck_stream_item;
int ck_mastodon_stream_request(const char *base_url, const char *token, const char *hashtag,
                               struct ck_request *out, struct ck_error *err);
int ck_mastodon_parse_stream_event(const char *event, const char *data, size_t len,
                                   struct ck_stream_item *out, struct ck_error *err);
/* Where the instance serves its stream: GET {base_url}/api/v2/instance
 * (attempt 0) or /api/v1/instance (attempt 1), without the token; parse
 * configuration.urls.streaming (v2) or urls.streaming_api (v1) into a base
 * URL for the stream (new string: wss:// as https://, ws:// as http:// only
 * when base_url is http://, no trailing slash). 0, CK_EHTTP, CK_ENOTFOUND
 * (none named), CK_EPARSE (not JSON, not a secure URL, malformed), CK_ENOMEM. */
int ck_mastodon_stream_base_request(const char *base_url, int attempt, struct ck_request *out,
                                    struct ck_error *err);
int ck_mastodon_parse_stream_base(const struct ck_response *resp, const char *base_url, char **out,
                                  struct ck_error *err);

/* A GET of the URL built in b (consumed: freed on failure, owned by *out on
 * success), accepting accept, with the token, if any, as a bearer credential
 * (CK_EINVAL when it holds a line break, which would write extra header
 * lines). For this platform's GET builders (the timeline, threads, the
 * stream, the instance, one status). */
struct ck_sbuf;
int ck_mastodon_get_request(struct ck_sbuf *b, const char *token, const char *accept,
                            struct ck_request *out, struct ck_error *err);

/* GET {base_url}/api/v1/statuses/{id}: does a status still exist? token may
 * be NULL. *out as for
 * ck_mastodon_post_request. Returns 0, CK_EINVAL (id not a safe path
 * segment) or CK_ENOMEM. */
int ck_mastodon_status_request(const char *base_url, const char *token, const char *id,
                               struct ck_request *out, struct ck_error *err);

#endif
