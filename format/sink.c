/*
 * The writer's output backends (file, stdout, gzip); see sink.h. Runs on the
 * dump path, possibly in a forked child: raw syscalls and mmap'd memory only,
 * zlib included (its allocator is replaced), no stdio, no malloc.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#define ZLIB_CONST
#include <zlib.h>
#include "sink.h"

#define RDUMP_SINK_PAGE 4096
#define RDUMP_GZ_BUF 65536
/* zlib hands back only the pointer: the mapping's length sits in front of it. */
#define RDUMP_GZ_ALLOC_HEAD 16

static const unsigned char zero_page[RDUMP_SINK_PAGE];

struct rdump_sink_gz {
	z_stream zs;
	int zs_live;           /* deflateInit2 succeeded: deflateEnd is owed */
	int mem_fd;            /* /proc/self/mem, once process_vm_readv is refused */
	int use_mem_fd;
	unsigned char in[RDUMP_GZ_BUF];   /* own memory, copied through the kernel */
	unsigned char out[RDUMP_GZ_BUF];  /* deflate output on its way to fd */
	unsigned char zero[RDUMP_GZ_BUF]; /* never written: zeros to deflate */
};

static int fail(rdump_sink *s, int err)
{
	if (s->err == 0) {
		s->err = err ? err : EIO;
	}
	return -1;
}

/* All n bytes to fd at its current offset. */
static int raw_write(rdump_sink *s, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(s->fd, c, n > RDUMP_SINK_MAX_WRITE ? RDUMP_SINK_MAX_WRITE : n);

		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k <= 0) {
			return fail(s, k < 0 ? errno : ENOSPC);
		}
		c += k;
		n -= (size_t) k;
	}
	return 0;
}

/* file and stdout: every byte accepted is a byte of the output. */
static void advance(rdump_sink *s, uint64_t n)
{
	s->pos += n;
	s->fd_pos = s->pos;
	s->out_bytes = s->pos;
}

/* Moves the descriptor's offset over pending holes so the next write lands at pos. */
static int file_sync(rdump_sink *s)
{
	if (!s->holes || s->fd_pos == s->pos) {
		return 0;
	}
	if (lseek(s->fd, (off_t) s->pos, SEEK_SET) < 0) {
		return fail(s, errno);
	}
	s->fd_pos = s->pos;
	return 0;
}

static int fd_write(rdump_sink *s, const void *p, size_t n)
{
	if (s->err || file_sync(s) < 0 || raw_write(s, p, n) < 0) {
		return -1;
	}
	advance(s, n);
	return 0;
}

/* write(2) straight from the address: one copy, and a vanished page is EFAULT, not SIGSEGV. */
static int fd_write_mem(rdump_sink *s, uint64_t addr, uint64_t len)
{
	if (s->err || file_sync(s) < 0) {
		return -1;
	}
	while (len > 0) {
		size_t want = len > RDUMP_SINK_MAX_WRITE ? RDUMP_SINK_MAX_WRITE : (size_t) len;
		ssize_t k = write(s->fd, (const void *) (uintptr_t) addr, want);

		if (k > 0) {
			advance(s, (uint64_t) k);
			addr += (uint64_t) k;
			len -= (uint64_t) k;
			continue;
		}
		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k < 0 && errno == EFAULT) {
			/* The page at addr is gone: zeros for it, then carry on at the next page. */
			uint64_t n = RDUMP_SINK_PAGE - (addr & (RDUMP_SINK_PAGE - 1));

			if (n > len) {
				n = len;
			}
			if (raw_write(s, zero_page, (size_t) n) < 0) {
				return -1;
			}
			advance(s, n);
			s->zero_pages++;
			addr += n;
			len -= n;
			continue;
		}
		return fail(s, k < 0 ? errno : ENOSPC);
	}
	return 0;
}

/*
 * Prefilled: frees the blocks of the pending zero run. Punched in runs: one
 * call per run of zeros rather than one per zero piece or block.
 */
static int punch_pending(rdump_sink *s)
{
	uint64_t off = s->punch_off, n = s->punch_len;
	int r;

	if (n == 0) {
		return s->err ? -1 : 0;
	}
	s->punch_len = 0;
	do {
		r = fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) off, (off_t) n);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != ENOSYS) {
		return fail(s, errno);
	}
	/* A file system that allocates but cannot punch: the zeros are written. */
	s->hole_bytes -= n;
	while (n > 0) {
		size_t k = n > sizeof(zero_page) ? sizeof(zero_page) : (size_t) n;
		ssize_t w = pwrite(s->fd, zero_page, k, (off_t) off);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return fail(s, w < 0 ? errno : ENOSPC);
		}
		off += (uint64_t) w;
		n -= (uint64_t) w;
	}
	return 0;
}

static int file_zeros(rdump_sink *s, uint64_t n)
{
	if (s->err) {
		return -1;
	}
	if (s->prefilled && n > 0) {
		if (s->punch_len > 0 && s->punch_off + s->punch_len != s->pos && punch_pending(s) < 0) {
			return -1;
		}
		if (s->punch_len == 0) {
			s->punch_off = s->pos;
		}
		s->punch_len += n;
	}
	s->pos += n;
	s->hole_bytes += n;
	return 0;
}

static int file_placed(rdump_sink *s, uint64_t n)
{
	if (s->err) {
		return -1;
	}
	if (!s->prefilled) {
		return fail(s, EINVAL);
	}
	/* The descriptor's offset stays behind: file_sync() moves it before the next write. */
	s->pos += n;
	s->out_bytes = s->pos;
	return 0;
}

static int stdout_zeros(rdump_sink *s, uint64_t n)
{
	while (n > 0) {
		size_t k = n > sizeof(zero_page) ? sizeof(zero_page) : (size_t) n;

		if (fd_write(s, zero_page, k) < 0) {
			return -1;
		}
		n -= k;
	}
	return s->err ? -1 : 0;
}

static int file_patch(rdump_sink *s, uint64_t off, const void *p, size_t n)
{
	const char *c = p;

	if (s->err) {
		return -1;
	}
	while (n > 0) {
		ssize_t k = pwrite(s->fd, c, n, (off_t) off);

		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k <= 0) {
			return fail(s, k < 0 ? errno : ENOSPC);
		}
		c += k;
		off += (uint64_t) k;
		n -= (size_t) k;
	}
	return 0;
}

static int file_finish(rdump_sink *s)
{
	if (s->err || (s->prefilled && punch_pending(s) < 0)) {
		return -1;
	}
	/* A prefilled file may have been allocated beyond the stream: its length is set either way. */
	if (s->fd_pos != s->pos || s->prefilled) {
		/* Trailing holes: the file must still be as long as the stream. */
		if (ftruncate(s->fd, (off_t) s->pos) < 0) {
			return fail(s, errno);
		}
		s->fd_pos = s->pos;
	}
	s->out_bytes = s->pos;
	return 0;
}

static int stdout_finish(rdump_sink *s)
{
	return s->err ? -1 : 0;
}

static void nothing_to_release(rdump_sink *s)
{
	(void) s;
}

static const rdump_sink_ops file_ops = {
	"file", fd_write, fd_write_mem, file_zeros, file_placed, file_patch, file_finish, nothing_to_release
};

static const rdump_sink_ops stdout_ops = {
	"stdout", fd_write, fd_write_mem, stdout_zeros, NULL, NULL, stdout_finish, nothing_to_release
};

static void init_common(rdump_sink *s, int fd, const rdump_sink_ops *ops)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->fd = fd;
}

void rdump_sink_stdout(rdump_sink *s, int fd)
{
	init_common(s, fd, &stdout_ops);
}

void rdump_sink_file(rdump_sink *s, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	/* Holes need lseek, and O_APPEND would put every write at the end regardless. */
	if (lseek(fd, 0, SEEK_CUR) < 0 || fl < 0 || (fl & O_APPEND)) {
		rdump_sink_stdout(s, fd);
		return;
	}
	init_common(s, fd, &file_ops);
	s->holes = 1;
}

void rdump_sink_prefilled(rdump_sink *s)
{
	if (s->ops == &file_ops) {
		s->prefilled = 1;
	}
}

/* gzip */

static voidpf gz_alloc(voidpf opaque, uInt items, uInt size)
{
	size_t n = (size_t) items * size + RDUMP_GZ_ALLOC_HEAD;
	unsigned char *p;

	(void) opaque;
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		return Z_NULL;
	}
	memcpy(p, &n, sizeof(n));
	return p + RDUMP_GZ_ALLOC_HEAD;
}

static void gz_free(voidpf opaque, voidpf address)
{
	unsigned char *p = (unsigned char *) address - RDUMP_GZ_ALLOC_HEAD;
	size_t n;

	(void) opaque;
	memcpy(&n, p, sizeof(n));
	munmap(p, n);
}

/* Deflates n bytes (flush = Z_NO_FLUSH) or ends the stream (Z_FINISH), writing what comes out. */
static int gz_run(rdump_sink *s, const void *p, size_t n, int flush)
{
	struct rdump_sink_gz *g = s->gz;

	g->zs.next_in = p;
	g->zs.avail_in = (uInt) n;
	for (;;) {
		size_t have;
		int rc;

		g->zs.next_out = g->out;
		g->zs.avail_out = sizeof(g->out);
		rc = deflate(&g->zs, flush);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			return fail(s, EIO);
		}
		have = sizeof(g->out) - g->zs.avail_out;
		if (have > 0) {
			if (raw_write(s, g->out, have) < 0) {
				return -1;
			}
			s->out_bytes += have;
		}
		if (flush == Z_FINISH ? rc == Z_STREAM_END : g->zs.avail_out != 0) {
			break;
		}
	}
	return 0;
}

static int gz_write(rdump_sink *s, const void *p, size_t n)
{
	const unsigned char *c = p;

	if (s->err) {
		return -1;
	}
	while (n > 0) {
		/* Also under zlib's 32-bit avail_in. */
		size_t k = n > RDUMP_SINK_MAX_WRITE ? RDUMP_SINK_MAX_WRITE : n;

		if (gz_run(s, c, k, Z_NO_FLUSH) < 0) {
			return -1;
		}
		s->pos += k;
		c += k;
		n -= k;
	}
	return 0;
}

static int gz_zeros(rdump_sink *s, uint64_t n)
{
	while (n > 0) {
		size_t k = n > RDUMP_GZ_BUF ? RDUMP_GZ_BUF : (size_t) n;

		if (gz_write(s, s->gz->zero, k) < 0) {
			return -1;
		}
		n -= k;
	}
	return s->err ? -1 : 0;
}

/*
 * Copies up to n bytes of the own memory at addr into buf through the
 * kernel. Returns how many arrived (a read stops at the first page that is
 * gone), 0 when the page at addr itself is gone, -1 when the kernel refuses
 * for another reason.
 */
static ssize_t gz_self_read(struct rdump_sink_gz *g, uint64_t addr, void *buf, size_t n)
{
	ssize_t k;

	if (!g->use_mem_fd) {
		struct iovec local = { buf, n };
		struct iovec remote = { (void *) (uintptr_t) addr, n };

		/* getpid(), not a cached pid: in a forked writer the own memory is the child's. */
		k = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		if (k >= 0) {
			return k;
		}
		if (errno == EFAULT) {
			return 0;
		}
		if (errno != ENOSYS && errno != EPERM) {
			return -1;
		}
		/* Some seccomp profiles refuse process_vm_readv: /proc/self/mem reads the same memory. */
		g->use_mem_fd = 1;
	}
	if (g->mem_fd < 0) {
		do {
			g->mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
		} while (g->mem_fd < 0 && errno == EINTR);
		if (g->mem_fd < 0) {
			return -1;
		}
	}
	do {
		k = pread(g->mem_fd, buf, n, (off_t) addr);
	} while (k < 0 && errno == EINTR);
	if (k < 0 && errno == EIO) {
		return 0;
	}
	return k;
}

static int gz_write_mem(rdump_sink *s, uint64_t addr, uint64_t len)
{
	struct rdump_sink_gz *g = s->gz;

	if (s->err) {
		return -1;
	}
	while (len > 0) {
		size_t n = len > RDUMP_GZ_BUF ? RDUMP_GZ_BUF : (size_t) len, got = 0;

		while (got < n) {
			ssize_t k = gz_self_read(g, addr + got, g->in + got, n - got);

			if (k < 0) {
				return fail(s, errno);
			}
			if (k == 0) {
				/* The page is gone: zeros for it, as the file backend writes them. */
				size_t z = RDUMP_SINK_PAGE - ((addr + got) & (RDUMP_SINK_PAGE - 1));

				if (z > n - got) {
					z = n - got;
				}
				memset(g->in + got, 0, z);
				s->zero_pages++;
				k = (ssize_t) z;
			}
			got += (size_t) k;
		}
		if (gz_write(s, g->in, n) < 0) {
			return -1;
		}
		addr += n;
		len -= n;
	}
	return 0;
}

static int gz_finish(rdump_sink *s)
{
	if (s->err) {
		return -1;
	}
	return gz_run(s, NULL, 0, Z_FINISH);
}

static void gz_release(rdump_sink *s)
{
	struct rdump_sink_gz *g = s->gz;

	if (g == NULL) {
		return;
	}
	if (g->zs_live) {
		/* Z_DATA_ERROR only says the stream was not finished: the memory is freed all the same. */
		(void) deflateEnd(&g->zs);
	}
	if (g->mem_fd >= 0) {
		close(g->mem_fd);
	}
	munmap(g, sizeof(*g));
	s->gz = NULL;
}

static const rdump_sink_ops gz_ops = {
	"gzip", gz_write, gz_write_mem, gz_zeros, NULL, NULL, gz_finish, gz_release
};

int rdump_sink_gzip(rdump_sink *s, int fd, int level)
{
	struct rdump_sink_gz *g;
	int rc;

	init_common(s, fd, &gz_ops);
	if (level < 1 || level > 9) {
		return fail(s, EINVAL);
	}
	g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED) {
		return fail(s, ENOMEM);
	}
	g->mem_fd = -1;
	g->zs.zalloc = gz_alloc;
	g->zs.zfree = gz_free;
	g->zs.opaque = Z_NULL;
	s->gz = g;
	/* 15 + 16: a 32 KiB window inside a gzip wrapper (header, crc32, isize). */
	rc = deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (rc != Z_OK) {
		gz_release(s);
		return fail(s, rc == Z_MEM_ERROR ? ENOMEM : EINVAL);
	}
	g->zs_live = 1;
	return 0;
}
