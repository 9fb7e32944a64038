/*
 * Streaming writer of RDUMP files. The caller declares the header, the
 * memory map and how many regions follow, then emits each region as a run of
 * pieces: bytes straight from the own process's memory (handed to the kernel,
 * never copied in user space, so a vanished page is an EFAULT, not a crash),
 * bytes from a buffer (a dump from outside, a forked writer), or zeros
 * (left as holes where the output can seek).
 * The bytes leave through a sink (sink.h): a file, a stream that cannot seek
 * (stdout), or a gzip stream. Nothing here allocates from malloc: the writer
 * struct carries its own buffer, the gzip sink maps its state.
 */
#ifndef RDUMP_WRITER_H
#define RDUMP_WRITER_H

#include <stdint.h>
#include <stddef.h>
#include "rdump_format.h"
#include "sink.h"

typedef struct rdump_header {
	const char *php_version;       /* "v82" */
	uint64_t pid;
	uint64_t eg_address;
	uint64_t cg_address;
	int64_t rss_bytes;
	const rdump_module_global *module_globals;
	uint32_t module_globals_count;
	const rdump_map_entry *map;
	uint32_t map_count;
	uint32_t region_count;
} rdump_header;

#define RDUMP_WRITER_BUF 65536

typedef struct rdump_writer {
	rdump_sink sink;       /* where the bytes go */
	int fd;
	int seekable;          /* the sink leaves holes and can patch the region count */
	int sparse_buffers;    /* leave all-zero blocks of buffered bytes as holes */
	int err;               /* errno of the first failure; the writer stops at it */
	uint64_t pos;          /* offset in the RDUMP stream (uncompressed), buffered bytes included */
	uint64_t count_offset; /* where region_count sits, for the patch */
	uint32_t regions_declared;
	uint32_t regions_written;
	uint64_t region_left;  /* bytes the current region still needs */
	uint64_t zero_pages;   /* pages that vanished under the writer, written as zeros */
	uint64_t data_bytes;   /* region bytes emitted */
	uint64_t hole_bytes;   /* region bytes left as holes */
	void (*progress)(void *ctx, uint64_t data_bytes);
	void *progress_ctx;
	size_t buf_len;
	unsigned char buf[RDUMP_WRITER_BUF];
} rdump_writer;

/*
 * fd must be open for writing. A file sink; when fd cannot seek (or appends)
 * a stdout sink: seekable tells which.
 */
void rdump_writer_init(rdump_writer *w, int fd);
/* A stream written strictly in order: zeros are written out, nothing is patched. */
void rdump_writer_init_stdout(rdump_writer *w, int fd);
/*
 * A gzip stream of the RDUMP bytes at level 1..9. Nothing can be patched, so
 * exactly the declared number of regions must follow. Returns 0, or -1 with
 * w->err = EINVAL (bad level) or ENOMEM. Call rdump_writer_release after.
 */
int rdump_writer_init_gzip(rdump_writer *w, int fd, int level);
/* Frees what the sink holds (the gzip state); never closes fd. Safe on a zeroed writer, and twice. */
void rdump_writer_release(rdump_writer *w);
int rdump_writer_header(rdump_writer *w, const rdump_header *h);
/* Bytes rdump_writer_header() emits for h: where the first region record starts. */
uint64_t rdump_writer_header_size(const rdump_header *h);
/* The bytes of a region record before its data: address and size. */
#define RDUMP_REGION_HEAD 16
int rdump_writer_region_begin(rdump_writer *w, uint64_t address, uint64_t size);
/*
 * Bytes at addr of the own process, never dereferenced in user space: handed
 * to write(2) directly, or for gzip copied through the kernel first.
 */
int rdump_writer_mem(rdump_writer *w, uint64_t addr, uint64_t len);
/* Bytes from a buffer the caller owns (safe to read). */
int rdump_writer_bytes(rdump_writer *w, const void *buf, uint64_t len);
/*
 * len bytes of the current region that are in the output at the writer's
 * offset already (rdump-cli read them into the file's pages), readable at
 * buf to find zero blocks, which are punched out. Only for a file sink set
 * prefilled (rdump_sink_prefilled); EINVAL otherwise.
 */
int rdump_writer_placed(rdump_writer *w, const void *buf, uint64_t len);
/* len bytes of zeros. */
int rdump_writer_zeros(rdump_writer *w, uint64_t len);
/*
 * Flushes, patches region_count when fewer regions were written than
 * declared (ESPIPE when the sink cannot), then completes the output (file
 * length over trailing holes, gzip trailer). Returns 0 or -1 (w->err).
 * Bytes in the output file: w->sink.out_bytes.
 */
int rdump_writer_finish(rdump_writer *w);

#endif
