/*
 * The process being dumped, seen through the kernel: its memory map, its
 * page residency and its memory. The same code serves the extension (the own
 * process) and rdump-cli (another pid). Memory is read through the kernel
 * (process_vm_readv, /proc/<pid>/mem) so that a page that vanishes turns into
 * an error code, never a SIGSEGV.
 */
#ifndef RDUMP_TARGET_H
#define RDUMP_TARGET_H

#include <stdint.h>
#include <sys/types.h>
#include "../format/rdump_format.h"
#include "mem.h"

typedef struct rdump_target {
	pid_t pid;
	int self;            /* the dumping process itself */
	int mem_fd;          /* /proc/<pid>/mem, opened when process_vm_readv is refused */
	int pagemap_fd;      /* -1 when pagemap cannot be read: everything counts as resident */
	int use_mem_fd;
	char *maps_text;
	size_t maps_cap;
	size_t maps_len;
	rdump_vec map;       /* rdump_map_entry, in address order */
	uint64_t *pm_buf;    /* pagemap scratch */
	unsigned char *mc_buf; /* mincore scratch */
	/*
	 * Asked first by rdump_target_read when set: 0 served, -1 unreadable,
	 * 1 not covered (read the process). rdump-cli answers from its copy of
	 * a target that runs on.
	 */
	int (*read_hook)(void *ctx, uint64_t addr, void *buf, size_t n);
	void *read_hook_ctx;
	/*
	 * With the read hook, when its copy lives in the output file itself:
	 * 1 the len bytes at addr sit in the output at stream offset pos
	 * already (*p: where to read them), 0 the writer must write them (read
	 * through the hook), -1 pos lies past them: the writer would overwrite
	 * bytes of the copy it has not read yet.
	 */
	int (*place_hook)(void *ctx, uint64_t addr, uint64_t len, uint64_t pos, const void **p);
} rdump_target;

#define RDUMP_PM_BATCH 8192  /* pages per pagemap read */

int rdump_target_open(rdump_target *t, pid_t pid, int self, rdump_error *e);
void rdump_target_close(rdump_target *t);

/* Reads /proc/<pid>/maps again; every line becomes an entry. */
int rdump_target_read_maps(rdump_target *t, rdump_error *e);
/* Parses maps text into entries pointing into text; exposed for tests. */
int rdump_parse_maps(char *text, size_t len, rdump_vec *out);

/* Reads n bytes at addr; 0 when all were read, -1 otherwise. */
int rdump_target_read(rdump_target *t, uint64_t addr, void *buf, size_t n);

/*
 * Residency of npages pages (npages <= RDUMP_PM_BATCH) from start, which
 * lies in mapping m: out[i] = 1 if the page may hold data (present or
 * swapped; for shared memory also in the page cache), 0 if it was never
 * written and reads back as zeros.
 */
int rdump_target_residency(rdump_target *t, const rdump_map_entry *m,
	uint64_t start, size_t npages, unsigned char *out);

/* Resident set size in bytes from /proc/<pid>/statm, or -1. */
int64_t rdump_proc_rss(pid_t pid);

/* Reads a small /proc or /sys file into buf (NUL-terminated); its length, or -1 with errno. */
ssize_t rdump_read_small(const char *path, char *buf, size_t size);

/* Classification of a mapping by its maps line. */
typedef enum rdump_map_kind {
	RDUMP_MAP_ANON = 0,     /* no name, [anon:...], [stack], [heap] */
	RDUMP_MAP_HEAP,         /* [heap] */
	RDUMP_MAP_STACK,        /* [stack] */
	RDUMP_MAP_SHM,          /* shared anonymous: /dev/zero (deleted), SysV, memfd */
	RDUMP_MAP_FILE_RW,      /* writable file-backed */
	RDUMP_MAP_FILE_RO,      /* read-only file-backed */
	RDUMP_MAP_SPECIAL       /* [vvar], [vdso], [vsyscall], devices: never dumped */
} rdump_map_kind;

rdump_map_kind rdump_map_classify(const rdump_map_entry *m);
int rdump_str_eq(rdump_str s, const char *lit);
int rdump_str_starts(rdump_str s, const char *lit);

/* Appends v in lower-case hex at buf[pos] (as /proc names mappings), truncating at size; returns the new end. */
size_t rdump_append_hex(char *buf, size_t pos, size_t size, uint64_t v);

#endif
