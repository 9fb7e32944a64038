/*
 * rdump-cli unpack: a compressed dump (.rdump.gz) back to a plain dump, the
 * same bytes gunzip gives, but written sparse (all-zero 4 KiB blocks as
 * holes) and published like a dump: a temporary file renamed into place only
 * when the whole stream inflated and passed its crc32 and length checks.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "../format/gunzip.h"
#include "../format/output.h"

static void unpack_usage(FILE *f)
{
	fputs("usage: rdump-cli unpack IN.gz [-o OUT]\n"
		"\n"
		"Inflates a compressed dump into a plain .rdump: byte for byte what gunzip\n"
		"gives, with all-zero 4 KiB blocks left as holes. OUT defaults to IN without\n"
		"its .gz suffix; -o - writes to stdout (no holes; not to a terminal). A\n"
		"regular file at OUT is replaced atomically, and only once the whole stream\n"
		"has inflated and passed its crc32 and length checks; anything else at OUT\n"
		"(symlink, directory, device) is refused.\n"
		"\n"
		"Exit status: 0 unpacked, 1 failure (unreadable, corrupt or truncated input,\n"
		"cannot write OUT), 2 usage error.\n", f);
}

static void report_error(const char *path, const rdump_error *e)
{
	if (e->err) {
		fprintf(stderr, "rdump-cli unpack: %s: %s (%s)\n", path, e->what, strerror(e->err));
	} else {
		fprintf(stderr, "rdump-cli unpack: %s: %s\n", path, e->what);
	}
}

/* Opens IN and checks that it is a gzip stream; -1 after saying why. */
static int open_input(const char *in)
{
	unsigned char magic[8];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rdump-cli unpack: %s: cannot open: %s\n", in, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		fprintf(stderr, "rdump-cli unpack: %s: cannot stat: %s\n", in, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rdump-cli unpack: %s: is a directory\n", in);
		close(fd);
		return -1;
	}
	do {
		n = read(fd, magic, sizeof(magic));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		fprintf(stderr, "rdump-cli unpack: %s: cannot read: %s\n", in, strerror(errno));
		close(fd);
		return -1;
	}
	if (!rdump_gunzip_magic(magic, (size_t) n)) {
		if (n == RDUMP_MAGIC_LEN && memcmp(magic, RDUMP_MAGIC, RDUMP_MAGIC_LEN) == 0) {
			fprintf(stderr, "rdump-cli unpack: %s: is an uncompressed dump already\n", in);
		} else {
			fprintf(stderr, "rdump-cli unpack: %s: not a compressed dump (no gzip magic 1f 8b at offset 0)\n", in);
		}
		close(fd);
		return -1;
	}
	/* Back to the start: pipes and FIFOs cannot, so they are refused here rather than half-read. */
	if (lseek(fd, 0, SEEK_SET) != 0) {
		fprintf(stderr, "rdump-cli unpack: %s: cannot seek back to the start: %s\n", in, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int rdump_cli_unpack(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	char *derived = NULL;
	rdump_gunzip_result res;
	rdump_gunzip_status gs;
	rdump_output o;
	rdump_error e;
	int i, fd, rc = RDUMP_EXIT_FAILURE;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			unpack_usage(stdout);
			return RDUMP_EXIT_OK;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (++i >= argc || argv[i][0] == '\0') {
				fprintf(stderr, "rdump-cli unpack: %s needs a path\n", a);
				unpack_usage(stderr);
				return RDUMP_EXIT_USAGE;
			}
			out = argv[i];
		} else if (strncmp(a, "--output=", 9) == 0 && a[9] != '\0') {
			out = a + 9;
		} else if (strcmp(a, "--") == 0 && i + 1 < argc && in == NULL) {
			in = argv[++i];
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "rdump-cli unpack: unknown option %s\n", a);
			unpack_usage(stderr);
			return RDUMP_EXIT_USAGE;
		} else if (in == NULL) {
			in = a;
		} else {
			fprintf(stderr, "rdump-cli unpack: unexpected argument %s\n", a);
			unpack_usage(stderr);
			return RDUMP_EXIT_USAGE;
		}
	}
	if (in == NULL || in[0] == '\0') {
		fprintf(stderr, "rdump-cli unpack: no input file\n");
		unpack_usage(stderr);
		return RDUMP_EXIT_USAGE;
	}
	if (out == NULL) {
		size_t len = strlen(in);

		if (len <= 3 || strcmp(in + len - 3, ".gz") != 0 || in[len - 4] == '/') {
			fprintf(stderr, "rdump-cli unpack: %s does not end in .gz: name the output with -o OUT\n", in);
			return RDUMP_EXIT_USAGE;
		}
		derived = strndup(in, len - 3);
		if (derived == NULL) {
			fprintf(stderr, "rdump-cli unpack: out of memory\n");
			return RDUMP_EXIT_FAILURE;
		}
		out = derived;
	}
	if (strcmp(out, "-") == 0 && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "rdump-cli unpack: standard output is a terminal; redirect it or name the output with -o OUT\n");
		return RDUMP_EXIT_USAGE;
	}
	fd = open_input(in);
	if (fd < 0) {
		free(derived);
		return RDUMP_EXIT_FAILURE;
	}
	if (strcmp(out, "-") == 0) {
		rdump_output_use_fd(&o, STDOUT_FILENO);
	} else if (rdump_output_open(&o, out, &e) < 0) {
		report_error(out, &e);
		goto done;
	}
	gs = rdump_gunzip_fd(fd, o.fd, &res);
	if (gs != RDUMP_GUNZIP_OK) {
		rdump_output_abort(&o);
		if (gs == RDUMP_GUNZIP_WRITE) {
			fprintf(stderr, "rdump-cli unpack: %s: %s\n", o.to_stdout ? "(stdout)" : out, res.message);
		} else {
			fprintf(stderr, "rdump-cli unpack: %s: %s; nothing written\n", in, res.message);
		}
		goto done;
	}
	if (rdump_output_commit(&o, &e) < 0) {
		report_error(out, &e);
		goto done;
	}
	if (!o.to_stdout) {
		printf("%s: %" PRIu64 " bytes from %" PRIu64 " compressed, %" PRIu64 " left as holes\n",
			out, res.out_bytes, res.in_bytes, res.hole_bytes);
	}
	rc = RDUMP_EXIT_OK;
done:
	close(fd);
	free(derived);
	return rc;
}
