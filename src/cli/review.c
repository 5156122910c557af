/* chatkeeper review DIR: serve a finished session directory on the console
 * (review.h) until Ctrl-C or SIGTERM. Exit status: 0 after a signal, 2 bad
 * usage or not a session directory, 1 the server could not start. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/console.h"
#include "chatkeeper/review.h"

static const struct ck_cli_opt cli_opts[] = {
    {"console", "[ADDR:]PORT", "serve there (default 127.0.0.1, a free port)"},
    {"console-public", NULL, "allow --console on an address other than loopback"},
    {NULL, NULL, NULL},
};

static const struct ck_cli_cmd cmd = {
    .name = "review",
    .args = "DIR",
    .min_args = 1,
    .max_args = 1,
    .about = "Serve the session directory DIR on the facilitators' console: every message\n"
             "with its question(s) and how it was filed, filters, and controls that move a\n"
             "message or a thread to a question, hide it, mark it as spam or opt a person\n"
             "out. Each change is written to DIR/overrides.json and the outputs are rebuilt.\n"
             "Prints the console's address (with its key) and serves until interrupted.\n",
    .opts = cli_opts,
};

int ck_cli_review(int argc, char **argv)
{
    struct ck_cli_args a;
    int code = ck_cli_parse_dir(&cmd, argc, argv, &a);
    if (code != CK_CLI_GO)
        return code;
    struct ck_console_opts co = {.public_ok = ck_cli_flag(&a, "console-public")};
    char buf[128];
    const char *spec = ck_cli_get(&a, "console");
    if (spec != NULL && ck_console_parse_listen(spec, buf, sizeof buf, &co) != 0)
        return ck_cli_usage_error(&cmd, "--console: expected [ADDR:]PORT, got '%s'", spec);
    /* Signals are waited for, not handled: block them before any thread starts. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct ck_console *con = NULL;
    struct ck_error err = {0};
    int rc = ck_console_start(&co, &con, &err);
    if (rc == CK_EINVAL)
        return ck_cli_usage_error(&cmd, "%s", err.msg);
    if (rc != 0)
        return ck_cli_fail(cmd.name, rc, &err);
    struct ck_review *rv = NULL;
    if ((rc = ck_review_open(a.args[0], con, &rv, &err)) != 0) {
        ck_console_stop(con);
        return ck_cli_fail(cmd.name, rc, &err);
    }
    printf("console: %s\n", ck_console_url(con));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    ck_review_close(rv);
    ck_console_stop(con);
    return 0;
}
