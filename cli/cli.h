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
#define RDUMP_EXIT_NO_PROCESS 3 /* dump: no such process */
#define RDUMP_EXIT_NOT_PHP   4  /* dump: no PHP engine in the process */
#define RDUMP_EXIT_PERMISSION 5 /* dump: not allowed to read the process */
#define RDUMP_EXIT_EXITED    6  /* dump: the process exited during the dump */

int rdump_cli_inspect(int argc, char **argv);
int rdump_cli_summary(int argc, char **argv);
/* Also reached as `rdump-cli -p PID -o FILE ...` (argv[0] is then the program). */
int rdump_cli_dump(int argc, char **argv);
int rdump_cli_unpack(int argc, char **argv);

#endif
