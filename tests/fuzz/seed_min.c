/*
 * Makes a fuzzing seed out of a real dump: runs `rdump-cli summary` on it
 * while recording every byte summary reads from a region (the link maps
 * rdump_reader_read to __wrap_rdump_reader_read), then writes a new RDUMP
 * file with the same header and memory map whose regions hold only those
 * bytes (in 64-byte blocks). The result is a few hundred KiB instead of
 * megabytes, and still leads the fuzzer deep into summary's engine walk.
 * The encoder is written here by hand from the format description, so it
 * also checks the project's reader against an independent writer.
 *
 * usage: seed_min IN.rdump OUT.rdump   (summary's own output goes to stdout)
 * Built by tests/e2e/hostile_fuzz.sh with -Wl,--wrap=rdump_reader_read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"
#include "cli.h"

#define BLOCK 64

typedef struct span {
	uint64_t start;
	uint64_t end;
} span;

static span *spans;
static size_t nspans, capspans;

rdump_mem_source __real_rdump_reader_read(rdump_reader *r, uint64_t addr, void *buf, size_t n);

rdump_mem_source __wrap_rdump_reader_read(rdump_reader *r, uint64_t addr, void *buf, size_t n)
{
	rdump_mem_source src = __real_rdump_reader_read(r, addr, buf, n);

	if (src == RDUMP_MEM_REGION && n > 0) {
		if (nspans == capspans) {
			capspans = capspans ? capspans * 2 : 4096;
			spans = realloc(spans, capspans * sizeof(*spans));
			if (spans == NULL) {
				perror("seed_min");
				exit(1);
			}
		}
		spans[nspans].start = addr & ~(uint64_t) (BLOCK - 1);
		spans[nspans].end = (addr + n + BLOCK - 1) & ~(uint64_t) (BLOCK - 1);
		nspans++;
	}
	return src;
}

static int by_start(const void *a, const void *b)
{
	const span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static FILE *out;

static void put(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n) {
		perror("seed_min: write");
		exit(1);
	}
}

static void put_u32(uint32_t v)
{
	put(&v, 4);
}

static void put_u64(uint64_t v)
{
	put(&v, 8);
}

static void put_str(rdump_str s)
{
	put_u32(s.len);
	put(s.ptr, s.len);
}

int main(int argc, char **argv)
{
	char *sum_argv[3];
	rdump_reader r;
	size_t i, n;
	uint32_t k;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: seed_min IN.rdump OUT.rdump\n");
		return 2;
	}
	sum_argv[0] = "summary";
	sum_argv[1] = argv[1];
	sum_argv[2] = NULL;
	rc = rdump_cli_summary(2, sum_argv);
	fflush(stdout);
	if (rc != 0) {
		fprintf(stderr, "seed_min: summary of %s failed (%d): a seed must be a complete dump\n", argv[1], rc);
		return 1;
	}
	/* Merge the recorded reads into sorted, disjoint, maximal spans. */
	qsort(spans, nspans, sizeof(*spans), by_start);
	for (i = 0, n = 0; i < nspans; i++) {
		if (n > 0 && spans[i].start <= spans[n - 1].end) {
			if (spans[i].end > spans[n - 1].end) {
				spans[n - 1].end = spans[i].end;
			}
		} else {
			spans[n++] = spans[i];
		}
	}
	nspans = n;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	if (rdump_reader_open(&r, argv[1]) != RDUMP_ROK) {
		fprintf(stderr, "seed_min: %s\n", r.message);
		return 1;
	}
	/* A 64-byte block may stick out of its region: clip every span to the region holding its start. */
	for (i = 0; i < nspans; i++) {
		const rdump_region_info *g = rdump_reader_find(&r, spans[i].start, 0);

		if (g == NULL) {
			/* The block starts before the region: move the start up to it. */
			uint64_t a = spans[i].start;

			while (a < spans[i].end && (g = rdump_reader_find(&r, a, 0)) == NULL) {
				a++;
			}
			if (g == NULL) {
				fprintf(stderr, "seed_min: recorded read 0x%llx is in no region\n", (unsigned long long) spans[i].start);
				return 1;
			}
			spans[i].start = a;
		}
		if (spans[i].end > g->address + g->size) {
			spans[i].end = g->address + g->size;
		}
	}
	out = fopen(argv[2], "wb");
	if (out == NULL) {
		fprintf(stderr, "seed_min: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	put(RDUMP_MAGIC, RDUMP_MAGIC_LEN);
	put_u32(3);
	put_str(r.php_version);
	put_u64(r.pid);
	put_u64(r.eg_address);
	put_u64(r.cg_address);
	put_u64((uint64_t) r.rss_bytes);
	put_u32(r.module_globals_count);
	for (k = 0; k < r.module_globals_count; k++) {
		put_str(r.module_globals[k].name);
		put_u64(r.module_globals[k].address);
	}
	put_u32(r.map_count);
	put_u32((uint32_t) nspans);
	for (k = 0; k < r.map_count; k++) {
		const rdump_map_entry *m = &r.map[k];
		unsigned char attrs[4] = { m->r, m->w, m->x, m->p };

		put_str(m->begin_s);
		put_str(m->end_s);
		put_str(m->offset_s);
		put(attrs, 4);
		put_str(m->dev_s);
		put_u64(m->inode);
		put_str(m->name_s);
	}
	for (i = 0; i < nspans; i++) {
		uint64_t len = spans[i].end - spans[i].start;
		char *buf = malloc(len ? len : 1);

		if (buf == NULL || __real_rdump_reader_read(&r, spans[i].start, buf, len) != RDUMP_MEM_REGION) {
			fprintf(stderr, "seed_min: cannot read 0x%llx+%llu back\n",
				(unsigned long long) spans[i].start, (unsigned long long) len);
			return 1;
		}
		put_u64(spans[i].start);
		put_u64(len);
		put(buf, len);
		free(buf);
	}
	if (fclose(out) != 0) {
		perror("seed_min: close");
		return 1;
	}
	rdump_reader_close(&r);
	free(spans);
	fprintf(stderr, "seed_min: %zu regions kept of what summary reads\n", nspans);
	return 0;
}
