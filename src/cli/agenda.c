/* being written */
#include <stdio.h>
#include "chatkeeper/cli.h"
int ck_cli_agenda(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "chatkeeper: agenda is not built yet\n");
    return 1;
}
