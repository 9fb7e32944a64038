/*
 * Taking a dump: decide, mapping by mapping and page by page, what to keep
 * (the plan), then stream it through the RDUMP writer. Shared by the
 * extension (own process) and rdump-cli (another pid).
 */
#ifndef RDUMP_DUMP_H
#define RDUMP_DUMP_H

#include <stdint.h>
#include "target.h"
#include "php_roots.h"
#include "php_meta.h"
#include "../format/writer.h"
#include "../format/output.h"

/* How region bytes get from the target to the writer. */
typedef enum rdump_copy_mode {
	RDUMP_COPY_KERNEL = 0, /* own process: write(2) straight from the address */
	RDUMP_COPY_DIRECT,     /* own process, no other thread can touch it (a forked child) */
	RDUMP_COPY_READ        /* through rdump_target_read into a buffer (another process) */
} rdump_copy_mode;

typedef struct rdump_dump_opts {
	int full;              /* also read-only file-backed mappings */
	int exclude_heap;      /* drop C heap and anonymous memory PHP does not own */
	int naive;             /* every writable and anonymous mapping whole (benchmarks only) */
	int compress;          /* gzip stream of the RDUMP bytes */
	int compress_level;    /* 1..9 */
	rdump_copy_mode copy;
	const rdump_php_addrs *php; /* NULL: capture without PHP awareness */
	const char *php_version;
	const rdump_module_global *module_globals;
	uint32_t module_globals_count;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	uint64_t header_pid;    /* nonzero: the pid for the header (a forked writer records its parent) */
	int64_t header_rss;     /* nonzero: the RSS for the header, measured before a fork */
	/*
	 * The target runs another PHP than the headers compiled against: php's
	 * addresses go into the header, but its structures are not walked.
	 */
	int php_foreign;
	/*
	 * Called once the plan is final, before the first byte is written; a
	 * failure ends the dump. rdump-cli copies the planned memory of the
	 * stopped target here and lets it run on. stream_start: where the
	 * first region record will start in the RDUMP stream.
	 */
	int (*planned)(void *ctx, rdump_target *t, const rdump_vec *pieces, uint64_t total,
		uint64_t stream_start, rdump_error *e);
	void *planned_ctx;
	/*
	 * The output file has blocks allocated and may hold the copy of the
	 * target already (rdump_snapshot_reserve_file): see rdump_sink_prefilled.
	 */
	int out_prefilled;
} rdump_dump_opts;

typedef struct rdump_dump_result {
	uint64_t file_bytes;   /* size of the output (compressed size when compressed) */
	uint64_t rdump_bytes;  /* length of the RDUMP stream (file_bytes unless compressed) */
	uint64_t region_bytes;
	uint64_t hole_bytes;
	uint64_t zero_pages;
	uint32_t regions;
	uint32_t regions_dropped;
	uint32_t map_entries;
	rdump_php_stats php;
	rdump_meta_stats meta;  /* exclude-heap: the engine metadata walk */
	int exclude_heap_ignored; /* asked for, but PHP's memory is not in ZendMM: the C heap was kept */
} rdump_dump_result;

/* A stretch of target memory to write: bytes, or zeros (never-touched pages). */
typedef struct rdump_piece {
	uint64_t start;
	uint64_t end;
	uint32_t zero;
} rdump_piece;

/*
 * Builds the plan from the target's current memory map: pieces in address
 * order, touching pieces forming one region. roots are the ranges that must
 * be kept whole (their never-touched pages as zeros); they must be normalized.
 */
int rdump_plan_build(rdump_target *t, const rdump_vec *roots, const rdump_dump_opts *o,
	rdump_vec *pieces, uint32_t *region_count, uint64_t *total_bytes, rdump_error *e);

/* Reads the memory map, plans and writes a whole dump to fd. */
int rdump_dump_fd(rdump_target *t, const rdump_dump_opts *o, int fd,
	rdump_dump_result *res, rdump_error *e);

/* The same into a file at path, published atomically (see output.h). */
int rdump_dump_path(rdump_target *t, const rdump_dump_opts *o, const char *path,
	rdump_dump_result *res, rdump_error *e);

#endif
