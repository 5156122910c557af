/* A test's own libmicrohttpd server (test_http.c, tests/run/fake_mastodon.c):
 * started on 127.0.0.1, port 0, a thread per connection; a request's body
 * collected with the net layer's ck_mhd_body, uncapped (a test's client sends
 * what the test means it to), kept in the connection's *con_cls and freed
 * when the request completes. */
#ifndef CK_TEST_FAKE_UPLOAD_H
#define CK_TEST_FAKE_UPLOAD_H

#include <stdint.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "chatkeeper/mhd_body.h"

/* One handler call's part: returns 1 while the body is still coming (the
 * handler returns MHD_YES), -1 out of memory (MHD_NO), 0 when it is all in:
 * then *body is the request's body ("" when it had none). */
static inline int fake_upload_take(void **con_cls, const char *upload_data,
                                   size_t *upload_data_size, const char **body)
{
    struct ck_mhd_body *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof *u);
        if (u == NULL)
            return -1;
        *con_cls = u;
        return 1;
    }
    int fed = ck_mhd_body_feed(u, upload_data, upload_data_size, SIZE_MAX);
    if (fed == 0)
        *body = u->body != NULL ? u->body : "";
    return fed;
}

/* MHD_OPTION_NOTIFY_COMPLETED: frees what fake_upload_take kept. */
static inline void fake_upload_free(void *cls, struct MHD_Connection *c, void **con_cls,
                                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct ck_mhd_body *u = *con_cls;
    if (u != NULL) {
        ck_mhd_body_free(u);
        free(u);
        *con_cls = NULL;
    }
}

/* Starts handler on 127.0.0.1 at a free port (set in *port); NULL if it
 * could not. */
static inline struct MHD_Daemon *fake_server_start(MHD_AccessHandlerCallback handler,
                                                   unsigned *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                         MHD_OPTION_NOTIFY_COMPLETED, fake_upload_free, NULL, MHD_OPTION_END);
    if (d == NULL)
        return NULL;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        MHD_stop_daemon(d);
        return NULL;
    }
    *port = info->port;
    return d;
}

#endif
