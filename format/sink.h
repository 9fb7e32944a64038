/*
 * Where the RDUMP writer's bytes go, in the mould of Redis rio: one small
 * stream interface with interchangeable backends, so the writer emits a dump
 * the same way whether it fills a sparse file, a pipe or a gzip stream.
 *
 *   file    a regular file: zero runs become holes, bytes already written
 *           can be patched (the region count). A prefilled file (rdump-cli
 *           read its copy of the target into the file's own pages) also
 *           takes bytes that are already in place at the stream offset.
 *   stdout  any descriptor written strictly in order (pipe, terminal, a file
 *           opened O_APPEND): zeros are written out, nothing can be patched.
 *   gzip    a standard gzip stream (RFC 1952: header, deflate, crc32, isize)
 *           of exactly the bytes the writer emits, written in order to a
 *           descriptor; nothing can be patched.
 *
 * Memory of the own process is handed over by address (write_mem) and never
 * dereferenced in user space: the file and stdout backends pass the address
 * to write(2), the gzip backend first copies it into its own buffer with
 * process_vm_readv (or /proc/self/mem), so zlib reads only that buffer and a
 * page that vanishes is written as zeros instead of crashing the process.
 *
 * Runs on the dump path, possibly in a forked child: raw syscalls, memory
 * from mmap only (zlib's allocations included), no stdio.
 */
#ifndef RDUMP_SINK_H
#define RDUMP_SINK_H

#include <stdint.h>
#include <stddef.h>

typedef struct rdump_sink rdump_sink;

/*
 * The most one write(2) into the page cache carries. The page cache takes
 * folios up to the size of the write, and on a VM whose balloon reports
 * free memory to the host (Firecracker), large folios came from memory the
 * host had taken back, paid for at first touch. Writing 200 MB just after a
 * 200 MB file was deleted: 283-332 ms in 1 MiB writes (3 of 3 runs),
 * 40-742 ms in 2 MiB writes (4 of 6 over 0.5 s), 32-38 ms in 256 and
 * 512 KiB writes (7 of 7). In-process dumps of 200 MB, builds alternating:
 * uncut 53-835 ms (15 of 42 over 100 ms), cut at 512 KiB 55-71 ms (28),
 * at 256 KiB 59-75 ms (42).
 */
#define RDUMP_SINK_MAX_WRITE ((size_t) 512 << 10)

typedef struct rdump_sink_ops {
	const char *name;      /* "file", "stdout", "gzip" */
	/* n bytes from memory the caller may read safely. */
	int (*write)(rdump_sink *s, const void *p, size_t n);
	/* n bytes of the own process's memory at addr; a vanished page becomes zeros. */
	int (*write_mem)(rdump_sink *s, uint64_t addr, uint64_t n);
	/* n zero bytes, left as a hole where the backend can. */
	int (*zeros)(rdump_sink *s, uint64_t n);
	/* n bytes already in the output at the stream offset; EINVAL unless prefilled. NULL: never. */
	int (*placed)(rdump_sink *s, uint64_t n);
	/* Overwrites n bytes at stream offset off, already written. NULL: impossible. */
	int (*patch)(rdump_sink *s, uint64_t off, const void *p, size_t n);
	/* Completes the stream: file length over trailing holes, gzip trailer. */
	int (*finish)(rdump_sink *s);
	/* Frees what the backend took (never closes fd); safe to call twice. */
	void (*release)(rdump_sink *s);
} rdump_sink_ops;

struct rdump_sink {
	const rdump_sink_ops *ops;
	int fd;
	int err;               /* errno of the first failure; every later call fails */
	int holes;             /* zeros() leaves holes: worth finding zero blocks */
	int prefilled;         /* file: blocks are allocated and may hold bytes: zeros are punched out */
	uint64_t punch_off;    /* prefilled: a run of zeros not punched out yet */
	uint64_t punch_len;
	uint64_t pos;          /* stream offset: bytes accepted so far */
	uint64_t out_bytes;    /* bytes in the output (the compressed size for gzip) */
	uint64_t hole_bytes;   /* of pos, left as holes */
	uint64_t zero_pages;   /* pages that vanished under write_mem, written as zeros */
	uint64_t fd_pos;       /* file: where the descriptor's offset is */
	struct rdump_sink_gz *gz; /* gzip: deflate state and buffers, mmap'd */
};

/* A regular file; becomes a stdout sink if fd cannot seek or appends. */
void rdump_sink_file(rdump_sink *s, int fd);
void rdump_sink_stdout(rdump_sink *s, int fd);
/*
 * The file sink's fd already has blocks allocated (fallocate) and bytes
 * written through a mapping: zeros must be punched out rather than skipped,
 * placed() accepts bytes already in place, and finish() sets the length even
 * when it shrinks the file. No effect on other sinks.
 */
void rdump_sink_prefilled(rdump_sink *s);
/*
 * gzip at level 1..9. Returns 0, or -1 with s->err = EINVAL (bad level) or
 * ENOMEM; on failure s is still safe to release.
 */
int rdump_sink_gzip(rdump_sink *s, int fd, int level);

#endif
