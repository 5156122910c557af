/* ck_sim_run: load the script, listen, place the script on the clock for the
 * bound port, serve, and stop cleanly on SIGINT/SIGTERM. The signals are
 * blocked before MHD's threads start (they inherit the mask) and taken with
 * sigwait here, so no handler races the server threads. */
#include "chatkeeper/sim.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chatkeeper/log.h"

static int write_port_file(const char *path, int port, struct ck_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return ck_error_set(err, CK_EINVAL, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return ck_error_set(err, CK_EIO, "%s: cannot write", tmp);
    int bad = fprintf(f, "%d\n", port) < 0;
    bad |= fclose(f) != 0;
    /* Rename so a reader polling for the file never sees it half-written. */
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return ck_error_set(err, CK_EIO, "%s: cannot write", path);
    }
    return 0;
}

int ck_sim_run(const struct ck_sim_opts *opts, struct ck_error *err)
{
    struct ck_sim_script script;
    int rc = ck_sim_script_load(opts->script_path, &script, err);
    if (rc != 0)
        return rc;
    if (opts->no_host)
        ck_sim_script_drop_host(&script);
    int fd = -1, port = 0;
    rc = ck_sim_http_listen(opts->port, &fd, &port, err);
    if (rc != 0) {
        ck_sim_script_finish(&script);
        return rc;
    }
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    struct ck_sim_opts o = *opts;
    if (o.rate_limit <= 0)
        o.rate_limit = 300;
    if (o.rate_window_ms <= 0)
        o.rate_window_ms = 5 * 60 * 1000;
    struct ck_sim sim;
    rc = ck_sim_state_init(&sim, &o, &script, base, err);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = ck_sim_http_start(&sim, fd, err);
    if (d == NULL) {
        ck_sim_state_finish(&sim);
        return CK_EIO;
    }
    if (o.port_file != NULL) {
        rc = write_port_file(o.port_file, port, err);
        if (rc != 0)
            goto out;
    }
    ck_info("simulate: %zu statuses of #%s, speed %g, faults %g, script offset 0 at %lld",
            sim.n_entries, sim.script.hashtag, sim.opts.speed, sim.opts.fault_rate,
            (long long)sim.opts.start_ms);
    printf("listening on %s\n", base);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    ck_info("simulate: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
out:
    pthread_mutex_lock(&sim.mu);
    sim.stopping = 1; /* open streams end, so MHD's threads can be joined */
    pthread_mutex_unlock(&sim.mu);
    ck_sim_http_stop(d);
    ck_sim_state_finish(&sim);
    return rc;
}
