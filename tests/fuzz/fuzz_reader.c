/*
 * libFuzzer target for everything that reads a dump file: arbitrary bytes
 * become a file, which goes through the reader (open, region lookup, reads
 * from regions and from the read-only-file fall-back), `rdump-cli inspect`
 * (text and JSON) and `rdump-cli summary` (the engine walk). Built and run
 * by tests/e2e/hostile_fuzz.sh with clang -fsanitize=fuzzer,address,undefined
 * from the seed corpus in tests/fuzz/corpus/; a crash, a sanitizer report, a
 * leak, a hang (-timeout) or a too large allocation (-malloc_limit_mb) fails.
 * Run with -close_fd_mask=3: the commands print to stdout and stderr.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "reader.h"
#include "cli.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd = -1;
static char input_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	/* A memfd is a regular file to the reader, without touching the disk. */
	input_fd = memfd_create("rdump-fuzz-input", MFD_CLOEXEC);
	if (input_fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
	return 0;
}

static void set_input(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(input_fd, 0) != 0) {
		abort();
	}
	while (done < size) {
		ssize_t k = pwrite(input_fd, data + done, size - done, (off_t) done);

		if (k <= 0) {
			abort();
		}
		done += (size_t) k;
	}
}

/* Reads the way an analyser does: header addresses, region edges, straddling reads. */
static void exercise_reader(void)
{
	rdump_reader r;
	unsigned char buf[256];
	uint32_t i;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	if (rdump_reader_open(&r, input_path) != RDUMP_ROK) {
		/* Every failure must say why. */
		if (r.message[0] == '\0') {
			abort();
		}
		rdump_reader_close(&r);
		return;
	}
	rdump_reader_read(&r, r.eg_address, buf, sizeof(buf));
	rdump_reader_read(&r, r.cg_address, buf, sizeof(buf));
	for (i = 0; i < r.region_count && i < 64; i++) {
		const rdump_region_info *g = &r.regions[i];

		rdump_reader_read(&r, g->address, buf, 1);
		rdump_reader_read(&r, g->address + g->size - 1, buf, 1);
		rdump_reader_read(&r, g->address + g->size - 8, buf, 16);
		rdump_reader_find(&r, g->address + g->size, 0);
		rdump_reader_map_at(&r, g->address);
	}
	for (i = 0; i < r.map_count && i < 64; i++) {
		rdump_reader_read(&r, r.map[i].begin, buf, 64);
	}
	rdump_reader_read(&r, UINT64_MAX - 4, buf, 16);
	rdump_reader_close(&r);
	rdump_reader_close(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *inspect_text[] = { "inspect", input_path, NULL };
	char *inspect_json[] = { "inspect", input_path, "--json", NULL };
	char *summary_text[] = { "summary", input_path, NULL };
	char *summary_json[] = { "summary", "--json", input_path, NULL };
	/* One byte of the input picks the output flavours, so both get fuzzed. */
	int json = size > 16 && (data[size / 2] & 1);

	set_input(data, size);
	exercise_reader();
	if (json) {
		rdump_cli_inspect(3, inspect_json);
		rdump_cli_summary(3, summary_json);
	} else {
		rdump_cli_inspect(2, inspect_text);
		rdump_cli_summary(2, summary_text);
	}
	fflush(stdout);
	fflush(stderr);
	return 0;
}
