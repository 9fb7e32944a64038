/*
 * Reader of RDUMP files: parses and validates the header, module globals,
 * memory map and region index without loading region bytes, and answers
 * reads of target memory from the dump (with an optional fall-back to the
 * on-disk files of read-only file-backed mappings, as reli does).
 * A compressed dump (gzip) is inflated into an unlinked temporary file in
 * $TMPDIR first and read from there, so callers need not know.
 * Used by rdump-cli (inspect, summary) and by the tests.
 */
#ifndef RDUMP_READER_H
#define RDUMP_READER_H

#include <stdint.h>
#include <sys/types.h>
#include "rdump_format.h"

typedef enum rdump_read_error {
	RDUMP_ROK = 0,
	RDUMP_RE_IO,           /* open/read/stat failed: errno-style message */
	RDUMP_RE_NOMEM,
	RDUMP_RE_MAGIC,        /* wrong magic */
	RDUMP_RE_VERSION,      /* format_version outside 1..3 */
	RDUMP_RE_TRUNC_HEADER, /* file ends inside the fixed header fields */
	RDUMP_RE_TRUNC_STRING, /* a str runs past the end of the file */
	RDUMP_RE_TRUNC_MODULE, /* a module-globals entry runs past the end */
	RDUMP_RE_TRUNC_MAP,    /* a memory-map entry runs past the end */
	RDUMP_RE_BAD_MAP,      /* a memory-map entry's text is not a maps line */
	RDUMP_RE_TRUNC_REGION, /* a region header or its bytes run past the end */
	RDUMP_RE_REGION_WRAP,  /* address + size overflows 64 bits */
	RDUMP_RE_UNSORTED,     /* a region starts below the previous one */
	RDUMP_RE_OVERLAP,      /* a region starts inside the previous one */
	RDUMP_RE_TRAILING,     /* bytes after the last region */
	RDUMP_RE_GZIP          /* a compressed dump that does not inflate (corrupt, truncated, trailing bytes) */
} rdump_read_error;

typedef struct rdump_region_info {
	uint64_t address;
	uint64_t size;
	uint64_t file_offset;  /* where the region's bytes start in the file */
} rdump_region_info;

typedef struct rdump_reader {
	int fd;
	uint64_t file_size;    /* of the RDUMP bytes: inflated, for a compressed dump */
	uint64_t disk_bytes;   /* st_blocks * 512 of the file at path */
	uint64_t gzip_bytes;   /* size of the file at path when it is compressed (gzip), else 0 */
	uint32_t format_version;
	rdump_str php_version;
	uint64_t pid;
	uint64_t eg_address;
	uint64_t cg_address;
	int64_t rss_bytes;     /* -1 unknown, or v1 file */
	uint32_t module_globals_count;
	rdump_module_global *module_globals;
	uint32_t map_count;
	rdump_map_entry *map;
	int map_sorted;        /* entries ascending and disjoint, as /proc prints them */
	uint32_t region_count;
	rdump_region_info *regions;
	uint32_t touching_regions; /* pairs that touch: legal, but not maximal */
	const char *dependency_root; /* for the file fall-back; NULL = "/" */
	rdump_read_error error;
	char message[512];     /* human-readable reason, set on every failure */
	void *priv;            /* reader-owned storage */
} rdump_reader;

/*
 * Returns RDUMP_ROK or the error; r->message says what and where. r must be
 * zeroed (or have dependency_root set): open keeps dependency_root and resets
 * every other field. A failed open holds no resources.
 */
rdump_read_error rdump_reader_open(rdump_reader *r, const char *path);
/* Safe on a zeroed reader, after a failed open, and when called twice. */
void rdump_reader_close(rdump_reader *r);
const char *rdump_read_error_name(rdump_read_error e);

/* The one region holding all of [addr, addr+n), or NULL. */
const rdump_region_info *rdump_reader_find(const rdump_reader *r, uint64_t addr, uint64_t n);
/* The memory-map entry holding addr, or NULL. */
const rdump_map_entry *rdump_reader_map_at(const rdump_reader *r, uint64_t addr);

typedef enum rdump_mem_source {
	RDUMP_MEM_MISSING = 0,  /* not in the dump and no file fall-back */
	RDUMP_MEM_REGION,       /* from a region */
	RDUMP_MEM_FILE          /* from the on-disk file of a read-only mapping */
} rdump_mem_source;

/*
 * Read n bytes of target memory at addr. Returns where they came from; on
 * RDUMP_MEM_MISSING, r->message says why (r->error is left alone).
 */
rdump_mem_source rdump_reader_read(rdump_reader *r, uint64_t addr, void *buf, size_t n);

#endif
