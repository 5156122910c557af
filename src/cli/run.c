/* being written */
#include <stdio.h>
#include "chatkeeper/cli.h"
int ck_cli_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "chatkeeper: run is not built yet\n");
    return 1;
}
