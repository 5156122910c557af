/* The console's options, shared by run and serve (cli.h: ck_cli_console). */
#include <stdio.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/console.h"

int ck_cli_console(const struct ck_cli_cmd *cmd, const struct ck_cli_args *a,
                   struct ck_console **out)
{
    *out = NULL;
    if (ck_cli_flag(a, "no-console"))
        return CK_CLI_GO;
    struct ck_console_opts co = {.public_ok = ck_cli_flag(a, "console-public")};
    char buf[128];
    const char *spec = ck_cli_get(a, "console");
    if (spec != NULL && ck_console_parse_listen(spec, buf, sizeof buf, &co) != 0)
        return ck_cli_usage_error(cmd, "--console: expected [ADDR:]PORT, got '%s'", spec);
    struct ck_error err = {0};
    int rc = ck_console_start(&co, out, &err);
    if (rc == CK_EINVAL)
        return ck_cli_usage_error(cmd, "%s", err.msg);
    if (rc != 0)
        return ck_cli_fail(cmd->name, rc, &err);
    if (co.public_ok && co.addr != NULL && strncmp(co.addr, "127.", 4) != 0)
        fprintf(stderr,
                "chatkeeper %s: warning: the console is served on %s as plain HTTP: "
                "anyone who sees its address and secret on the way can use it\n",
                cmd->name, co.addr);
    printf("console: %s\n", ck_console_url(*out));
    fflush(stdout);
    return CK_CLI_GO;
}
