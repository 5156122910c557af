/* being written */
#include <stdio.h>
#include "chatkeeper/cli.h"
int ck_cli_next(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "chatkeeper: next is not built yet\n");
    return 1;
}
