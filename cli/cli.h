/*
 * Entry points of rdump-cli's sub-commands; main.c only dispatches.
 * Each takes the arguments after the sub-command name (argv[0] is the
 * sub-command) and returns the process exit status (see README, "Exit codes").
 */
#ifndef RDUMP_CLI_H
#define RDUMP_CLI_H

#define RDUMP_EXIT_OK        0
#define RDUMP_EXIT_FAILURE   1  /* the operation failed (bad dump, incomplete summary, ...) */
#define RDUMP_EXIT_USAGE     2  /* bad command line */

int rdump_cli_inspect(int argc, char **argv);
int rdump_cli_summary(int argc, char **argv);

#endif
