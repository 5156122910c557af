/* The one option parser every subcommand uses (see cli.h): a table per
 * command instead of a hand-written loop each, so the forms accepted, the
 * help, the "did you mean" and the wording of usage errors are the same
 * everywhere. Nothing here allocates. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/suggest.h"
#include "chatkeeper/timeutil.h"

static size_t n_opts(const struct ck_cli_cmd *cmd)
{
    size_t n = 0;
    while (cmd->opts != NULL && cmd->opts[n].name != NULL && n < CK_CLI_MAX_OPTS)
        n++;
    return n;
}

static long find_opt(const struct ck_cli_cmd *cmd, const char *name, size_t len)
{
    size_t n = n_opts(cmd);
    for (size_t i = 0; i < n; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
            return (long)i;
    return -1;
}

static void usage_line(const struct ck_cli_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: chatkeeper %s%s%s%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
            n_opts(cmd) > 0 ? " [options]" : "");
}

static void help(const struct ck_cli_cmd *cmd)
{
    usage_line(cmd, stdout);
    printf("\n%s\noptions:\n", cmd->about);
    size_t n = n_opts(cmd);
    for (size_t i = 0; i <= n; i++) {
        const char *name = i < n ? cmd->opts[i].name : "help";
        const char *value = i < n ? cmd->opts[i].value : NULL;
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", name, value ? " " : "", value ? value : "");
        printf("  %-22s %s\n", left, i < n ? cmd->opts[i].help : "print this help and exit");
    }
    if (cmd->more != NULL)
        printf("\n%s", cmd->more);
}

int ck_cli_usage_error(const struct ck_cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chatkeeper %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage_line(cmd, stderr);
    fprintf(stderr, "('chatkeeper %s --help' lists the options)\n", cmd->name);
    return 2;
}

static int unknown(const struct ck_cli_cmd *cmd, const char *arg, size_t len)
{
    /* Compare without the dashes, so "-dry-run" and "--dryrun" both find it. */
    const char *word = arg;
    size_t wlen = len;
    while (wlen > 0 && *word == '-') {
        word++;
        wlen--;
    }
    const char *names[CK_CLI_MAX_OPTS + 1];
    size_t n = n_opts(cmd);
    for (size_t i = 0; i < n; i++)
        names[i] = cmd->opts[i].name;
    names[n] = "help";
    char w[64];
    snprintf(w, sizeof w, "%.*s", (int)(wlen < 63 ? wlen : 63), word);
    const char *near = wlen > 0 ? ck_suggest(w, names, n + 1) : NULL;
    if (near != NULL)
        return ck_cli_usage_error(cmd, "unknown option '%.*s' (did you mean '--%s'?)", (int)len,
                                  arg, near);
    return ck_cli_usage_error(cmd, "unknown option '%.*s'", (int)len, arg);
}

int ck_cli_parse(const struct ck_cli_cmd *cmd, int argc, char **argv, struct ck_cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    size_t npos = 0;
    bool only_args = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        /* "-" alone is an argument (standard input), as is anything after "--". */
        if (only_args || arg[0] != '-' || arg[1] == '\0') {
            argv[1 + npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_args = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            help(cmd);
            return 0;
        }
        if (arg[1] != '-')
            return unknown(cmd, arg, strlen(arg));
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        long k = find_opt(cmd, name, len);
        if (k < 0)
            return unknown(cmd, arg, len + 2);
        const struct ck_cli_opt *o = &cmd->opts[k];
        if (a->val[k] != NULL)
            return ck_cli_usage_error(cmd, "--%s given twice", o->name);
        if (o->value == NULL) {
            if (eq != NULL)
                return ck_cli_usage_error(cmd, "--%s takes no value", o->name);
            a->val[k] = "";
        } else if (eq != NULL) {
            a->val[k] = eq + 1;
        } else if (i + 1 < argc) {
            a->val[k] = argv[++i];
        } else {
            return ck_cli_usage_error(cmd, "--%s needs a value (%s)", o->name, o->value);
        }
    }
    for (const char *const *c = cmd->conflicts; c != NULL && c[0] != NULL; c += 2)
        if (ck_cli_get(a, c[0]) != NULL && ck_cli_get(a, c[1]) != NULL)
            return ck_cli_usage_error(cmd, "--%s and --%s cannot be used together", c[0], c[1]);
    a->args = argv + 1;
    a->n_args = npos;
    if (npos < cmd->min_args)
        return ck_cli_usage_error(cmd, "missing %s", cmd->args);
    if (npos > cmd->max_args)
        return ck_cli_usage_error(cmd, "unexpected argument '%s' (%s %s)", a->args[cmd->max_args],
                                  cmd->max_args == 0 ? "it takes no" : "it takes",
                                  cmd->max_args == 0 ? "arguments" : cmd->args);
    return CK_CLI_GO;
}

const char *ck_cli_get(const struct ck_cli_args *a, const char *name)
{
    long k = find_opt(a->cmd, name, strlen(name));
    return k < 0 ? NULL : a->val[k];
}

bool ck_cli_flag(const struct ck_cli_args *a, const char *name)
{
    return ck_cli_get(a, name) != NULL;
}

int ck_cli_long(const struct ck_cli_args *a, const char *name, long min, long max, long *out)
{
    const char *s = ck_cli_get(a, name);
    if (s == NULL)
        return CK_CLI_GO;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || isspace((unsigned char)s[0]) || v < min ||
        v > max)
        return ck_cli_usage_error(a->cmd, "--%s: expected a whole number from %ld to %ld, got '%s'",
                                  name, min, max, s);
    *out = v;
    return CK_CLI_GO;
}

int ck_cli_rehearsal_opts(const struct ck_cli_args *a, double *speed, int64_t *poll_ms)
{
    const char *v;
    if ((v = ck_cli_get(a, "poll")) != NULL) {
        int64_t ms;
        if (ck_duration_parse(v, &ms) != 0 || ms < 10)
            return ck_cli_usage_error(a->cmd,
                                      "--poll: expected a duration of at least 10ms, got '%s'", v);
        *poll_ms = ms;
    }
    if ((v = ck_cli_get(a, "speed")) != NULL) {
        char *end;
        double x = strtod(v, &end);
        if (end == v || *end != '\0' || !(x >= 1.0 && x <= 10000.0))
            return ck_cli_usage_error(a->cmd,
                                      "--speed: expected a number from 1 to 10000, got '%s'", v);
        *speed = x;
    }
    return CK_CLI_GO;
}

int ck_cli_input(const struct ck_cli_cmd *cmd, const char *what, const char *path, bool want_dir)
{
    struct stat st;
    const char *problem = NULL;
    if (stat(path, &st) != 0)
        problem = strerror(errno);
    else if (want_dir && !S_ISDIR(st.st_mode))
        problem = "not a directory (a session directory is wanted)";
    else if (!want_dir && S_ISDIR(st.st_mode))
        problem = "is a directory, not a file";
    else if (access(path, want_dir ? R_OK | X_OK : R_OK) != 0)
        problem = strerror(errno);
    if (problem == NULL)
        return CK_CLI_GO;
    fprintf(stderr, "chatkeeper %s: %s%s%s: %s\n", cmd->name, what ? what : "", what ? ": " : "",
            path, problem);
    return 2;
}

int ck_cli_parse_dir(const struct ck_cli_cmd *cmd, int argc, char **argv, struct ck_cli_args *a)
{
    int st = ck_cli_parse(cmd, argc, argv, a);
    return st == CK_CLI_GO ? ck_cli_input(cmd, NULL, a->args[0], true) : st;
}

/* "path:12:3: ..." (a position an editor can jump to) before the first space. */
static bool has_position(const char *msg)
{
    const char *sp = strchr(msg, ' ');
    size_t n = sp ? (size_t)(sp - msg) : strlen(msg);
    /* ...:digits:digits: */
    if (n < 6 || msg[n - 1] != ':')
        return false;
    size_t i = n - 1;
    for (int field = 0; field < 2; field++) {
        size_t digits = 0;
        while (i > 0 && isdigit((unsigned char)msg[i - 1])) {
            i--;
            digits++;
        }
        if (digits == 0 || i == 0 || msg[i - 1] != ':')
            return false;
        i--;
    }
    return i > 0;
}

int ck_cli_fail(const char *cmd, int rc, const struct ck_error *err)
{
    const char *msg = err != NULL && err->code != 0 && err->msg[0] ? err->msg : ck_strerror(rc);
    size_t cl = strlen(cmd);
    if (has_position(msg))
        fprintf(stderr, "%s\n", msg);
    else if (strncmp(msg, cmd, cl) == 0 && msg[cl] == ':' && msg[cl + 1] == ' ')
        fprintf(stderr, "chatkeeper %s\n", msg);
    else
        fprintf(stderr, "chatkeeper %s: %s\n", cmd, msg);
    return ck_exit_status(rc);
}
