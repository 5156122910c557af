/* Subcommands: each returns the process exit status: 0 ok, 1 a failure at
 * run time, 2 bad usage or bad input (ck_exit_status in error.h is the one
 * map from error codes to these), 130/143 interrupted.
 *
 * Every command describes its options in one table (struct ck_cli_cmd) and
 * parses them with ck_cli_parse, so all of them accept the same forms
 * (--name VALUE, --name=VALUE, -- ends the options), answer --help on
 * stdout with the table, and word usage errors the same way on stderr:
 *
 *   chatkeeper publish: unknown option '--dryrun' (did you mean '--dry-run'?)
 *   usage: chatkeeper publish DIR [options]   ('chatkeeper publish --help' lists them)
 */
#ifndef CHATKEEPER_CLI_H
#define CHATKEEPER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chatkeeper/error.h"

int ck_cli_check(int argc, char **argv);
int ck_cli_run(int argc, char **argv);
int ck_cli_serve(int argc, char **argv);
int ck_cli_archive(int argc, char **argv);
int ck_cli_simulate(int argc, char **argv);
int ck_cli_next(int argc, char **argv);
int ck_cli_agenda(int argc, char **argv);
int ck_cli_import(int argc, char **argv);
int ck_cli_catchup(int argc, char **argv);
int ck_cli_publish(int argc, char **argv);
int ck_cli_review(int argc, char **argv);

/* One option: --name, a flag when value is NULL, else taking one value. */
struct ck_cli_opt {
    const char *name;  /* without the dashes: "dry-run" */
    const char *value; /* NULL, or what the value is, for help: "DIR", "N" */
    const char *help;  /* one line */
};

#define CK_CLI_MAX_OPTS 24

struct ck_cli_cmd {
    const char *name;              /* "publish" */
    const char *args;              /* the positional arguments, for usage: "DIR", "FILE..." */
    size_t min_args, max_args;     /* how many positional arguments it takes */
    const char *about;             /* what it does, for --help (lines end in \n) */
    const struct ck_cli_opt *opts; /* ends with {NULL}; at most CK_CLI_MAX_OPTS */
    const char *const *conflicts;  /* pairs of option names not to be given together,
                                      ending with NULL; or NULL */
    const char *more;              /* printed after the options by --help, or NULL */
};

struct ck_cli_args {
    const struct ck_cli_cmd *cmd;
    const char *val[CK_CLI_MAX_OPTS]; /* by option index: its value ("" for a flag), or NULL */
    char **args;                      /* the positional arguments, in order */
    size_t n_args;
};

/* The status ck_cli_parse returns when the command should go on. */
#define CK_CLI_GO (-1)

/* Parse argv[1..argc) (argv[0] is the command's name) against cmd. The
 * positional arguments are gathered at the front of argv (a->args points
 * there), as getopt does. Returns CK_CLI_GO, or the exit status to return
 * now: 0 when --help was printed (stdout), 2 after a usage error (stderr):
 * an unknown option (with "did you mean"), a missing value, an option given
 * twice, two that conflict, or too few or too many arguments. */
int ck_cli_parse(const struct ck_cli_cmd *cmd, int argc, char **argv, struct ck_cli_args *a);

/* The value of option name ("" for a flag that was given), or NULL when it
 * was not given. name must be in the command's table. Borrowed from argv. */
const char *ck_cli_get(const struct ck_cli_args *a, const char *name);
bool ck_cli_flag(const struct ck_cli_args *a, const char *name);

/* An integer option in [min, max]: *out set when given. Returns CK_CLI_GO,
 * or 2 after a usage error naming the option and the range. */
int ck_cli_long(const struct ck_cli_args *a, const char *name, long min, long max, long *out);

/* The compressed-time options `run` and `serve` share, with the same bounds
 * and wording: --speed X (a number from 1 to 10000) into *speed and --poll
 * DURATION (at least 10ms) into *poll_ms, each set only when given. The
 * command's table must have both. Returns CK_CLI_GO, or 2 after a usage
 * error. */
int ck_cli_rehearsal_opts(const struct ck_cli_args *a, double *speed, int64_t *poll_ms);

/* A usage error: "chatkeeper CMD: <message>" and the usage line on stderr.
 * Returns 2. */
int ck_cli_usage_error(const struct ck_cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An input the person named on the command line: path must be a file
 * (want_dir false) or a folder (want_dir true). what names it in the
 * message ("--rehearse", or NULL for a positional argument). Returns
 * CK_CLI_GO, or 2 after saying on stderr that it does not exist, cannot be
 * read, or is a directory where a file is wanted (or the other way round). */
int ck_cli_input(const struct ck_cli_cmd *cmd, const char *what, const char *path, bool want_dir);

/* ck_cli_parse for a command whose first argument is a session directory,
 * then ck_cli_input on it: CK_CLI_GO, or the exit status to return now. */
int ck_cli_parse_dir(const struct ck_cli_cmd *cmd, int argc, char **argv, struct ck_cli_args *a);

/* A command failed with rc (err may be NULL or empty): say so once on
 * stderr and return the exit status, ck_exit_status(rc). A message that
 * starts with a file position ("file:12:3: ...") is printed as it is, so
 * editors can jump to it; any other gets "chatkeeper CMD: " in front, once
 * (a message already starting with "CMD: " is not prefixed twice). */
int ck_cli_fail(const char *cmd, int rc, const struct ck_error *err);

/* The facilitators' console for run and serve (cli/console.c): unless
 * --no-console, start it as --console [ADDR:]PORT and --console-public say
 * and print "console: URL" (the only place its key is shown) on stdout,
 * flushed even into a pipe. *out NULL with --no-console. Returns CK_CLI_GO,
 * or the exit status after saying why on stderr. */
struct ck_console;
int ck_cli_console(const struct ck_cli_cmd *cmd, const struct ck_cli_args *a,
                   struct ck_console **out);

#endif
