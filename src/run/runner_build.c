/* An archive build off the loop (runner_int.h, ck_runner__build): under
 * `serve` a hundred sessions share one loop, and a build blocks whoever
 * builds in-process for as long as it reads the journal and renders (seconds
 * for a large chat, minutes when it first built its siblings): every other
 * session's due step waited that long. So serve's runners run the build as
 * `chatkeeper archive DIR`, a child process of the same binary: the loop only
 * waits for its exit, the kernel shares the CPU, and a build that crashes
 * takes no session with it. `run` builds its refreshes the same way: the
 * build's heap (9 MB for 20,000 statuses) stays out of the follower's RSS.
 * The child's lines carry the session's name (CHATKEEPER_LOG_TAG, log.h); its
 * one line on stdout gives the counts. CHATKEEPER_BUILD_PARENT makes it end
 * with us (cli/archive.c): after a kill -9 no build goes on writing outputs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatkeeper/archive.h"
#include "chatkeeper/log.h"
#include "chatkeeper/timeutil.h"

#include "runner_int.h"

extern char **environ; /* POSIX: declared by no header under _POSIX_C_SOURCE */

static void build_closed_body(struct runner *r)
{
    r->building = 0;
    if (r->group != NULL && r->group->building > 0)
        r->group->building--;
    /* Shut down while building: the runner's close waits for this. */
    if (r->stopping) {
        ck_runner__part_closed(r);
        return;
    }
    struct ck_archive_stats st = {0};
    int status = (int)r->build_exit;
    /* "messages.jsonl: N messages (B boosts) from P people; ..." (cli/archive.c) */
    r->build_out[r->build_len] = '\0';
    if (status == 0 && sscanf(r->build_out, "messages.jsonl: %zu messages (%zu boosts) from %zu",
                              &st.messages, &st.boosts, &st.people) != 3)
        status = 1;
    int64_t took = (int64_t)((uv_hrtime() - r->build_t0) / 1000000);
    r->build_ms = took;
    ck_runner__built(r, took);
    r->build_cb(r, status, &st);
}

static void build_closed(uv_handle_t *h)
{
    struct runner *r = h->data;
    if (--r->build_handles > 0)
        return;
    const char *was = ck_log_tag_swap(r->log_tag);
    build_closed_body(r);
    ck_log_tag_swap(was);
}

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
    struct runner *r = p->data;
    r->build_exit = term_signal != 0 ? 128 + term_signal : exit_status;
    uv_close((uv_handle_t *)p, build_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct runner *r = h->data;
    (void)suggested;
    size_t room = sizeof r->build_out - 1 - r->build_len;
    /* A full buffer still reads (into a scratch byte), so the pipe drains. */
    static char sink[256];
    *buf = room > 0 ? uv_buf_init(r->build_out + r->build_len, (unsigned)room)
                    : uv_buf_init(sink, sizeof sink);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct runner *r = s->data;
    if (n > 0 && buf->base != NULL && buf->base >= r->build_out &&
        buf->base < r->build_out + sizeof r->build_out)
        r->build_len += (size_t)n;
    if (n < 0)
        uv_close((uv_handle_t *)s, build_closed);
}

int ck_runner__build(struct runner *r,
                     void (*cb)(struct runner *r, int status, const struct ck_archive_stats *st))
{
    char exe[4096];
    size_t exe_len = sizeof exe;
    if (r->building || r->no_spawn || uv_exepath(exe, &exe_len) != 0)
        return -1;
    char tag_env[160], parent_env[64];
    snprintf(tag_env, sizeof tag_env, "CHATKEEPER_LOG_TAG=%s", r->log_tag);
    snprintf(parent_env, sizeof parent_env, "CHATKEEPER_BUILD_PARENT=%ld", (long)uv_os_getpid());
    /* The child's environment: ours, with the tag and the parent replaced. */
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (env == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "CHATKEEPER_LOG_TAG=", 19) != 0 &&
            strncmp(environ[i], "CHATKEEPER_BUILD_PARENT=", 24) != 0)
            env[k++] = environ[i];
    env[k++] = tag_env;
    env[k++] = parent_env;
    char *args[] = {exe, "archive", r->dir, NULL};
    uv_pipe_init(r->loop, &r->build_pipe, 0);
    r->build_pipe.data = r->build_proc.data = r;
    uv_stdio_container_t io[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->build_pipe},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t po = {.exit_cb = on_exit_cb,
                               .file = exe,
                               .args = args,
                               .env = env,
                               .stdio_count = 3,
                               .stdio = io};
    r->build_len = 0;
    r->build_t0 = uv_hrtime();
    int rc = uv_spawn(r->loop, &r->build_proc, &po);
    free(env);
    if (rc != 0) {
        ck_warn("runner: cannot start the archive build as a process (%s); building here",
                uv_strerror(rc));
        /* A failed spawn leaves the handle to close all the same; and the
         * runner builds in-process from now on. */
        r->no_spawn = 1;
        uv_close((uv_handle_t *)&r->build_proc, NULL);
        uv_close((uv_handle_t *)&r->build_pipe, NULL);
        return -1;
    }
    /* Below the loop on the CPU: on a small machine the build must not take
     * the core the loop needs to post on time. */
    int prio = 0;
    if (uv_os_getpriority(uv_os_getpid(), &prio) == 0)
        uv_os_setpriority(r->build_proc.pid, prio + 10 > 19 ? 19 : prio + 10);
    r->building = 1;
    r->build_handles = 2;
    r->build_cb = cb;
    if (r->group != NULL)
        r->group->building++;
    uv_read_start((uv_stream_t *)&r->build_pipe, on_alloc, on_read);
    return 0;
}

void ck_runner__build_stop(struct runner *r)
{
    /* The outputs are replaced atomically: a build cut short leaves the last. */
    if (r->building)
        uv_process_kill(&r->build_proc, SIGTERM);
}
