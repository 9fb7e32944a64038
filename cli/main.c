/*
 * rdump-cli: command-line entry point; dispatches to the sub-commands.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "../format/rdump_format.h"
#include "../capture/php_roots.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rdump-cli COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  inspect FILE [--json]      header, memory map, regions and sizes of a dump\n"
		"  summary FILE [--json]      PHP call stack, objects by class, globals, from the dump alone\n"
		"  unpack IN.gz [-o OUT]      inflate a compressed dump into a sparse .rdump (inspect and\n"
		"                             summary read .gz dumps directly)\n"
		"  dump -p PID -o FILE [...]  dump a running PHP process from outside (also without the word\n"
		"                             'dump'; -o FILE -- CMD ARGS starts CMD; rdump-cli dump --help)\n"
		"\n"
		"options:\n"
		"  -h, --help                 this text\n"
		"  -V, --version              versions of rdump-cli, the RDUMP format and the PHP it reads\n"
		"\n"
		"exit status: 0 success, 1 failure (bad dump, incomplete summary), 2 bad command line;\n"
		"dump also: 3 no such process, 4 not a PHP process, 5 permission denied, 6 the process exited\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return RDUMP_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return RDUMP_EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("rdump-cli %s (RDUMP format %d, reads PHP dumps tagged %s)\n",
			RDUMP_EXT_VERSION, RDUMP_FORMAT_VERSION, rdump_php_version_tag());
		return RDUMP_EXIT_OK;
	}
	if (strcmp(argv[1], "inspect") == 0) {
		return rdump_cli_inspect(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "summary") == 0) {
		return rdump_cli_summary(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "unpack") == 0) {
		return rdump_cli_unpack(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "dump") == 0) {
		return rdump_cli_dump(argc - 1, argv + 1);
	}
	if (argv[1][0] == '-') {
		return rdump_cli_dump(argc, argv);
	}
	fprintf(stderr, "rdump-cli: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return RDUMP_EXIT_USAGE;
}
