/* The rehearsal's simulator runs as a child process: it is a server with its
 * own threads (libmicrohttpd), and keeping it out of our process keeps the
 * runner single-threaded and lets it be killed cleanly. */
#include "chatkeeper/rehearse.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chatkeeper/timeutil.h"

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int ck_rehearsal_start(const char *script, double speed, int64_t start_ms, int no_host,
                       double bluesky_share, struct ck_rehearsal *out, struct ck_error *err)
{
    memset(out, 0, sizeof *out);
    char portfile[] = "/tmp/chatkeeper-sim-port-XXXXXX";
    int fd = mkstemp(portfile);
    if (fd < 0)
        return ck_error_set(err, -errno, "rehearsal: temp file: %s", strerror(errno));
    close(fd);
    unlink(portfile); /* the simulator writes it once it listens */
    char speed_s[32], start_s[32], share_s[32];
    snprintf(speed_s, sizeof speed_s, "%g", speed);
    snprintf(share_s, sizeof share_s, "%g", bluesky_share);
    ck_time_format_rfc3339(start_ms, start_s);
    pid_t pid = fork();
    if (pid < 0)
        return ck_error_set(err, -errno, "rehearsal: fork: %s", strerror(errno));
    if (pid == 0) {
        char *args[16] = {"chatkeeper", "simulate",    (char *)script, "--port",
                          "0",          "--speed",     speed_s,        "--start",
                          start_s,      "--port-file", portfile};
        int n = 11;
        if (bluesky_share > 0) {
            args[n++] = "--bluesky-share";
            args[n++] = share_s;
        }
        if (no_host)
            args[n++] = "--no-host";
        args[n] = NULL;
        /* Its "listening on" line would only confuse the rehearsal's output. */
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(127);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    out->pid = pid;
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(portfile, "r");
        if (f != NULL) {
            int port = 0;
            int got = fscanf(f, "%d", &port);
            fclose(f);
            if (got == 1 && port > 0) {
                unlink(portfile);
                out->port = port;
                snprintf(out->base_url, sizeof out->base_url, "http://127.0.0.1:%d", port);
                return 0;
            }
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            out->pid = 0;
            return ck_error_set(err, CK_EIO, "rehearsal: the simulator exited (status %d)",
                                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        nap_ms(50);
    }
    ck_rehearsal_stop(out);
    unlink(portfile);
    return ck_error_set(err, CK_ETIMEDOUT, "rehearsal: the simulator did not start in 10 s");
}

void ck_rehearsal_stop(struct ck_rehearsal *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGTERM);
    for (int i = 0; i < 40; i++) {
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            r->pid = 0;
            return;
        }
        nap_ms(50);
    }
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
}
