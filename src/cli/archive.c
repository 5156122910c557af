/* being written */
#include <stdio.h>
#include "chatkeeper/cli.h"
int ck_cli_archive(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "chatkeeper: archive is not built yet\n");
    return 1;
}
