/*
 * RDUMP writer; see writer.h. Runs on the dump path, possibly in a forked
 * child: raw syscalls only, no malloc, no stdio. It lays out the format and
 * finds zero blocks; the sink (sink.c) decides how bytes reach the output.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "writer.h"

#define RDUMP_BLOCK 4096

static int fail(rdump_writer *w, int err)
{
	if (w->err == 0) {
		w->err = err ? err : EIO;
	}
	return -1;
}

static void init_common(rdump_writer *w)
{
	w->fd = w->sink.fd;
	w->err = 0;
	w->pos = 0;
	w->count_offset = 0;
	w->regions_declared = w->regions_written = 0;
	w->region_left = 0;
	w->zero_pages = w->data_bytes = w->hole_bytes = 0;
	w->buf_len = 0;
	w->progress = NULL;
	w->progress_ctx = NULL;
	w->seekable = w->sink.ops->patch != NULL;
	w->sparse_buffers = w->sink.holes;
}

void rdump_writer_init(rdump_writer *w, int fd)
{
	rdump_sink_file(&w->sink, fd);
	init_common(w);
}

void rdump_writer_init_stdout(rdump_writer *w, int fd)
{
	rdump_sink_stdout(&w->sink, fd);
	init_common(w);
}

int rdump_writer_init_gzip(rdump_writer *w, int fd, int level)
{
	int rc = rdump_sink_gzip(&w->sink, fd, level);

	init_common(w);
	return rc < 0 ? fail(w, w->sink.err) : 0;
}

void rdump_writer_release(rdump_writer *w)
{
	if (w->sink.ops != NULL) {
		w->sink.ops->release(&w->sink);
	}
}

/* Takes over the sink's counters and its error after each call into it. */
static int sunk(rdump_writer *w, int rc)
{
	w->zero_pages = w->sink.zero_pages;
	w->hole_bytes = w->sink.hole_bytes;
	return rc < 0 ? fail(w, w->sink.err) : 0;
}

static int flush(rdump_writer *w)
{
	size_t n = w->buf_len;

	if (n == 0) {
		return w->err ? -1 : 0;
	}
	w->buf_len = 0;
	return sunk(w, w->sink.ops->write(&w->sink, w->buf, n));
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
			w->pos += n;
			return sunk(w, w->sink.ops->write(&w->sink, p, n));
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

uint64_t rdump_writer_header_size(const rdump_header *h)
{
	/* Field by field as rdump_writer_header() puts them; a str is a u32 length and its bytes. */
	uint64_t n = RDUMP_MAGIC_LEN + 4 + (4 + strlen(h->php_version)) + 4 * 8 + 4;
	uint32_t i;

	for (i = 0; i < h->module_globals_count; i++) {
		n += 4 + h->module_globals[i].name.len + 8;
	}
	n += 4 + 4;
	for (i = 0; i < h->map_count; i++) {
		const rdump_map_entry *m = &h->map[i];

		n += 4 + m->begin_s.len + 4 + m->end_s.len + 4 + m->offset_s.len + 4
			+ 4 + m->dev_s.len + 8 + 4 + m->name_s.len;
	}
	return n;
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
	if (take(w, len) < 0 || flush(w) < 0) {
		return -1;
	}
	w->pos += len;
	return sunk(w, w->sink.ops->zeros(&w->sink, len));
}

int rdump_writer_mem(rdump_writer *w, uint64_t addr, uint64_t len)
{
	if (take(w, len) < 0 || flush(w) < 0) {
		return -1;
	}
	w->pos += len;
	return sunk(w, w->sink.ops->write_mem(&w->sink, addr, len));
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

/*
 * Region bytes that the caller may read, all-zero file blocks among them
 * left as holes. The others are written from p, or (placed) are in the
 * output at w->pos already.
 */
static int emit_sparse(rdump_writer *w, const unsigned char *p, uint64_t len, int placed)
{
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
			w->pos += run;
			if (sunk(w, placed ? w->sink.ops->placed(&w->sink, run)
					: w->sink.ops->write(&w->sink, p, (size_t) run)) < 0) {
				return -1;
			}
			p += run;
			len -= run;
		}
		run = 0;
		while (len - run >= RDUMP_BLOCK && ((w->pos + run) & (RDUMP_BLOCK - 1)) == 0
			&& block_is_zero(p + run, RDUMP_BLOCK)) {
			run += RDUMP_BLOCK;
		}
		if (run > 0) {
			w->pos += run;
			if (sunk(w, w->sink.ops->zeros(&w->sink, run)) < 0) {
				return -1;
			}
			p += run;
			len -= run;
		}
	}
	return 0;
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
		w->pos += len;
		return sunk(w, w->sink.ops->write(&w->sink, p, (size_t) len));
	}
	if (flush(w) < 0) {
		return -1;
	}
	return emit_sparse(w, p, len, 0);
}

int rdump_writer_placed(rdump_writer *w, const void *buf, uint64_t len)
{
	if (take(w, len) < 0 || flush(w) < 0) {
		return -1;
	}
	if (w->sink.ops->placed == NULL || !w->sink.prefilled) {
		return fail(w, EINVAL);
	}
	return emit_sparse(w, buf, len, 1);
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
	if (w->regions_written != w->regions_declared) {
		uint32_t n = w->regions_written;

		/* A gzip stream or a pipe cannot go back: the caller must write every declared region. */
		if (w->sink.ops->patch == NULL) {
			return fail(w, ESPIPE);
		}
		if (sunk(w, w->sink.ops->patch(&w->sink, w->count_offset, &n, sizeof(n))) < 0) {
			return -1;
		}
	}
	return sunk(w, w->sink.ops->finish(&w->sink));
}
