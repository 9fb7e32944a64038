/*
 * RDUMP writer; see writer.h. Runs on the dump path, possibly in a forked
 * child: raw syscalls only, no allocation, no stdio.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "writer.h"

#define RDUMP_PAGE 4096
#define RDUMP_BLOCK 4096

static const unsigned char zero_page[RDUMP_PAGE];

static int fail(rdump_writer *w, int err)
{
	if (w->err == 0) {
		w->err = err ? err : EIO;
	}
	return -1;
}

void rdump_writer_init(rdump_writer *w, int fd)
{
	w->fd = fd;
	w->err = 0;
	w->pos = w->fd_pos = 0;
	w->count_offset = 0;
	w->regions_declared = w->regions_written = 0;
	w->region_left = 0;
	w->zero_pages = w->data_bytes = w->hole_bytes = 0;
	w->buf_len = 0;
	w->progress = NULL;
	w->progress_ctx = NULL;
	w->seekable = lseek(fd, 0, SEEK_CUR) >= 0;
	w->sparse_buffers = w->seekable;
}

/* Moves the fd's offset over pending holes so the next write lands at pos. */
static int sync_offset(rdump_writer *w)
{
	if (w->fd_pos == w->pos) {
		return 0;
	}
	if (lseek(w->fd, (off_t) w->pos, SEEK_SET) < 0) {
		return fail(w, errno);
	}
	w->fd_pos = w->pos;
	return 0;
}

static int write_all(rdump_writer *w, const void *p, size_t n)
{
	const char *c = p;

	if (sync_offset(w) < 0) {
		return -1;
	}
	while (n > 0) {
		ssize_t k = write(w->fd, c, n);

		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k <= 0) {
			return fail(w, k < 0 ? errno : ENOSPC);
		}
		c += k;
		n -= (size_t) k;
		w->pos += (uint64_t) k;
		w->fd_pos = w->pos;
	}
	return 0;
}

static int flush(rdump_writer *w)
{
	size_t n = w->buf_len;

	if (n == 0) {
		return w->err ? -1 : 0;
	}
	w->buf_len = 0;
	/* pos already counts buffered bytes; write them at their own offset. */
	w->pos -= n;
	return write_all(w, w->buf, n);
}

static int put(rdump_writer *w, const void *p, size_t n)
{
	if (w->err) {
		return -1;
	}
	if (w->buf_len + n > sizeof(w->buf)) {
		if (flush(w) < 0) {
			return -1;
		}
		if (n > sizeof(w->buf)) {
			return write_all(w, p, n);
		}
	}
	memcpy(w->buf + w->buf_len, p, n);
	w->buf_len += n;
	w->pos += n;
	return 0;
}

static int put_u32(rdump_writer *w, uint32_t v)
{
	return put(w, &v, sizeof(v));
}

static int put_u64(rdump_writer *w, uint64_t v)
{
	return put(w, &v, sizeof(v));
}

static int put_str(rdump_writer *w, const char *p, uint32_t len)
{
	if (put_u32(w, len) < 0) {
		return -1;
	}
	return len ? put(w, p, len) : 0;
}

int rdump_writer_header(rdump_writer *w, const rdump_header *h)
{
	uint32_t i;
	size_t vlen = strlen(h->php_version);

	put(w, RDUMP_MAGIC, RDUMP_MAGIC_LEN);
	put_u32(w, RDUMP_FORMAT_VERSION);
	put_str(w, h->php_version, (uint32_t) vlen);
	put_u64(w, h->pid);
	put_u64(w, h->eg_address);
	put_u64(w, h->cg_address);
	put_u64(w, (uint64_t) h->rss_bytes);
	put_u32(w, h->module_globals_count);
	for (i = 0; i < h->module_globals_count; i++) {
		put_str(w, h->module_globals[i].name.ptr, h->module_globals[i].name.len);
		put_u64(w, h->module_globals[i].address);
	}
	put_u32(w, h->map_count);
	w->count_offset = w->pos;
	put_u32(w, h->region_count);
	w->regions_declared = h->region_count;
	for (i = 0; i < h->map_count; i++) {
		const rdump_map_entry *m = &h->map[i];
		unsigned char attrs[4] = { m->r, m->w, m->x, m->p };

		put_str(w, m->begin_s.ptr, m->begin_s.len);
		put_str(w, m->end_s.ptr, m->end_s.len);
		put_str(w, m->offset_s.ptr, m->offset_s.len);
		put(w, attrs, 4);
		put_str(w, m->dev_s.ptr, m->dev_s.len);
		put_u64(w, m->inode);
		put_str(w, m->name_s.ptr, m->name_s.len);
	}
	return w->err ? -1 : 0;
}

int rdump_writer_region_begin(rdump_writer *w, uint64_t address, uint64_t size)
{
	if (w->region_left != 0 || w->regions_written >= w->regions_declared) {
		return fail(w, EINVAL);
	}
	put_u64(w, address);
	put_u64(w, size);
	w->regions_written++;
	w->region_left = size;
	return w->err ? -1 : 0;
}

static int take(rdump_writer *w, uint64_t len)
{
	if (w->err) {
		return -1;
	}
	if (len > w->region_left) {
		return fail(w, EINVAL);
	}
	w->region_left -= len;
	w->data_bytes += len;
	if (w->progress) {
		w->progress(w->progress_ctx, w->data_bytes);
	}
	return 0;
}

int rdump_writer_zeros(rdump_writer *w, uint64_t len)
{
	if (take(w, len) < 0) {
		return -1;
	}
	if (!w->seekable) {
		while (len > 0) {
			size_t n = len > sizeof(zero_page) ? sizeof(zero_page) : (size_t) len;

			if (put(w, zero_page, n) < 0) {
				return -1;
			}
			len -= n;
		}
		return 0;
	}
	if (flush(w) < 0) {
		return -1;
	}
	w->pos += len;
	w->hole_bytes += len;
	return 0;
}

int rdump_writer_mem(rdump_writer *w, uint64_t addr, uint64_t len)
{
	if (take(w, len) < 0 || flush(w) < 0 || sync_offset(w) < 0) {
		return -1;
	}
	while (len > 0) {
		ssize_t k = write(w->fd, (const void *) (uintptr_t) addr, len);

		if (k > 0) {
			addr += (uint64_t) k;
			len -= (uint64_t) k;
			w->pos += (uint64_t) k;
			w->fd_pos = w->pos;
			continue;
		}
		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k < 0 && errno == EFAULT) {
			/* The page at addr is gone: zeros for it, then carry on at the next page. */
			uint64_t n = RDUMP_PAGE - (addr & (RDUMP_PAGE - 1));

			if (n > len) {
				n = len;
			}
			if (write_all(w, zero_page, (size_t) n) < 0) {
				return -1;
			}
			w->zero_pages++;
			addr += n;
			len -= n;
			continue;
		}
		return fail(w, k < 0 ? errno : ENOSPC);
	}
	return 0;
}

static int block_is_zero(const unsigned char *p, size_t n)
{
	const uint64_t *q = (const uint64_t *) (const void *) p;
	size_t i;

	if (((uintptr_t) p & 7) != 0 || (n & 7) != 0) {
		for (i = 0; i < n; i++) {
			if (p[i]) {
				return 0;
			}
		}
		return 1;
	}
	for (i = 0; i < n / 8; i++) {
		if (q[i]) {
			return 0;
		}
	}
	return 1;
}

int rdump_writer_bytes(rdump_writer *w, const void *buf, uint64_t len)
{
	const unsigned char *p = buf;

	if (take(w, len) < 0) {
		return -1;
	}
	if (!w->sparse_buffers) {
		if (len <= sizeof(w->buf) - w->buf_len) {
			memcpy(w->buf + w->buf_len, p, (size_t) len);
			w->buf_len += (size_t) len;
			w->pos += len;
			return 0;
		}
		if (flush(w) < 0) {
			return -1;
		}
		return write_all(w, p, (size_t) len);
	}
	if (flush(w) < 0) {
		return -1;
	}
	/* Walk file blocks; batch the non-zero ones into one write, skip the zero ones. */
	while (len > 0) {
		uint64_t run = 0;

		while (run < len) {
			uint64_t off = w->pos + run;
			uint64_t n = RDUMP_BLOCK - (off & (RDUMP_BLOCK - 1));

			if (n > len - run) {
				n = len - run;
			}
			/* Only whole file blocks can become holes. */
			if (n == RDUMP_BLOCK && block_is_zero(p + run, (size_t) n)) {
				break;
			}
			run += n;
		}
		if (run > 0) {
			if (write_all(w, p, (size_t) run) < 0) {
				return -1;
			}
			p += run;
			len -= run;
		}
		while (len >= RDUMP_BLOCK && (w->pos & (RDUMP_BLOCK - 1)) == 0
			&& block_is_zero(p, RDUMP_BLOCK)) {
			w->pos += RDUMP_BLOCK;
			w->hole_bytes += RDUMP_BLOCK;
			p += RDUMP_BLOCK;
			len -= RDUMP_BLOCK;
		}
	}
	return 0;
}

int rdump_writer_finish(rdump_writer *w)
{
	if (w->err) {
		return -1;
	}
	if (w->region_left != 0) {
		return fail(w, EINVAL);
	}
	if (flush(w) < 0) {
		return -1;
	}
	if (w->fd_pos != w->pos) {
		/* Trailing holes: the file must still be as long as the dump. */
		if (ftruncate(w->fd, (off_t) w->pos) < 0) {
			return fail(w, errno);
		}
		w->fd_pos = w->pos;
	}
	if (w->regions_written != w->regions_declared) {
		uint32_t n = w->regions_written;

		if (!w->seekable) {
			return fail(w, ESPIPE);
		}
		if (pwrite(w->fd, &n, sizeof(n), (off_t) w->count_offset) != (ssize_t) sizeof(n)) {
			return fail(w, errno ? errno : EIO);
		}
	}
	return 0;
}
