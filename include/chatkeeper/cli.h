/* Subcommands: each parses its own arguments and returns the process exit
 * status (0 ok, 1 failure, 2 bad usage or bad input). */
#ifndef CHATKEEPER_CLI_H
#define CHATKEEPER_CLI_H

int ck_cli_check(int argc, char **argv);
int ck_cli_run(int argc, char **argv);
int ck_cli_archive(int argc, char **argv);
int ck_cli_simulate(int argc, char **argv);
int ck_cli_next(int argc, char **argv);
int ck_cli_agenda(int argc, char **argv);
int ck_cli_import(int argc, char **argv);
int ck_cli_catchup(int argc, char **argv);
int ck_cli_publish(int argc, char **argv);

#endif
