/*
 * Strict, sparse gzip inflation of compressed dumps; see gunzip.h.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZLIB_CONST
#include <zlib.h>
#include "gunzip.h"

#define RDUMP_GUNZIP_IN    (256 * 1024)
#define RDUMP_GUNZIP_OUT   (1024 * 1024)
#define RDUMP_GUNZIP_BLOCK 4096

/* Where inflated bytes go: holes for zero blocks when the descriptor seeks. */
typedef struct sparse_out {
	int fd;
	int seekable;
	uint64_t base;   /* out_fd's offset when inflation began */
	uint64_t pos;    /* bytes emitted, relative to base */
	uint64_t hole_bytes;
	int err;
} sparse_out;

int rdump_gunzip_magic(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

__attribute__((format(printf, 3, 4)))
static rdump_gunzip_status gz_fail(rdump_gunzip_result *res, rdump_gunzip_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return st;
}

static const unsigned char zero_block[RDUMP_GUNZIP_BLOCK];

/* memcmp: file blocks fall at any alignment inside the inflate buffer. */
static int block_is_zero(const unsigned char *p)
{
	return memcmp(p, zero_block, RDUMP_GUNZIP_BLOCK) == 0;
}

static int out_put(sparse_out *o, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = o->seekable
			? pwrite(o->fd, p, n, (off_t) (o->base + o->pos))
			: write(o->fd, p, n);

		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k <= 0) {
			o->err = k < 0 ? errno : ENOSPC;
			return -1;
		}
		p += k;
		n -= (size_t) k;
		o->pos += (uint64_t) k;
	}
	return 0;
}

/* Writes n inflated bytes; whole zero blocks at block-aligned file offsets become holes. */
static int out_write(sparse_out *o, const unsigned char *p, size_t n)
{
	if (!o->seekable) {
		return out_put(o, p, n);
	}
	while (n > 0) {
		size_t run = 0;

		while (run < n) {
			uint64_t off = o->base + o->pos + run;
			size_t k = RDUMP_GUNZIP_BLOCK - (size_t) (off & (RDUMP_GUNZIP_BLOCK - 1));

			if (k > n - run) {
				k = n - run;
			}
			if (k == RDUMP_GUNZIP_BLOCK && block_is_zero(p + run)) {
				break;
			}
			run += k;
		}
		if (run > 0 && out_put(o, p, run) < 0) {
			return -1;
		}
		p += run;
		n -= run;
		while (n >= RDUMP_GUNZIP_BLOCK && ((o->base + o->pos) & (RDUMP_GUNZIP_BLOCK - 1)) == 0
			&& block_is_zero(p)) {
			o->pos += RDUMP_GUNZIP_BLOCK;
			o->hole_bytes += RDUMP_GUNZIP_BLOCK;
			p += RDUMP_GUNZIP_BLOCK;
			n -= RDUMP_GUNZIP_BLOCK;
		}
	}
	return 0;
}

/* Fills in[] behind what is left of it; *eof once read(2) says so. */
static int fill(int fd, z_stream *zs, unsigned char *in, int *eof, rdump_gunzip_result *res)
{
	size_t left = zs->avail_in;
	ssize_t k;

	if (left > 0 && zs->next_in != in) {
		memmove(in, zs->next_in, left);
	}
	zs->next_in = in;
	do {
		k = read(fd, in + left, RDUMP_GUNZIP_IN - left);
	} while (k < 0 && errno == EINTR);
	if (k < 0) {
		res->err = errno;
		return -1;
	}
	if (k == 0) {
		*eof = 1;
	}
	res->in_bytes += (uint64_t) k;
	zs->avail_in = (uInt) (left + (size_t) k);
	return 0;
}

rdump_gunzip_status rdump_gunzip_fd(int in_fd, int out_fd, rdump_gunzip_result *res)
{
	unsigned char *in = NULL, *out = NULL;
	rdump_gunzip_status st = RDUMP_GUNZIP_OK;
	sparse_out o;
	z_stream zs;
	int eof = 0, in_member = 0, live = 0, out_full = 0;
	off_t base;

	memset(res, 0, sizeof(*res));
	memset(&o, 0, sizeof(o));
	memset(&zs, 0, sizeof(zs));
	o.fd = out_fd;
	base = lseek(out_fd, 0, SEEK_CUR);
	o.seekable = base >= 0;
	o.base = base >= 0 ? (uint64_t) base : 0;
	in = malloc(RDUMP_GUNZIP_IN);
	out = malloc(RDUMP_GUNZIP_OUT);
	if (in == NULL || out == NULL) {
		st = gz_fail(res, RDUMP_GUNZIP_NOMEM, "out of memory");
		goto done;
	}
	zs.next_in = in;
	/* 15 + 16: gzip wrapper only; a zlib or raw deflate stream is not a compressed dump. */
	if (inflateInit2(&zs, 15 + 16) != Z_OK) {
		st = gz_fail(res, RDUMP_GUNZIP_NOMEM, "cannot set up zlib: out of memory");
		goto done;
	}
	live = 1;
	for (;;) {
		uint64_t at;
		int rc;

		if (zs.avail_in < 2 && !eof && fill(in_fd, &zs, in, &eof, res) < 0) {
			st = gz_fail(res, RDUMP_GUNZIP_READ, "cannot read after %" PRIu64 " compressed bytes: %s",
				res->in_bytes, strerror(res->err));
			goto done;
		}
		at = res->in_bytes - zs.avail_in;
		if (!in_member) {
			if (zs.avail_in == 0 && eof) {
				if (res->members == 0) {
					st = gz_fail(res, RDUMP_GUNZIP_TRUNCATED, "the file is empty, not a gzip stream");
				}
				break;
			}
			if (zs.avail_in < 2 && !eof) {
				continue;
			}
			if (!rdump_gunzip_magic(zs.next_in, zs.avail_in)) {
				if (res->members == 0) {
					st = gz_fail(res, RDUMP_GUNZIP_CORRUPT, "not a gzip stream (no gzip magic 1f 8b at offset 0)");
				} else {
					st = gz_fail(res, RDUMP_GUNZIP_TRAILING,
						"bytes that are not gzip follow the end of the gzip stream at compressed offset %" PRIu64, at);
				}
				break;
			}
			if (res->members > 0 && inflateReset(&zs) != Z_OK) {
				st = gz_fail(res, RDUMP_GUNZIP_NOMEM, "cannot reset zlib");
				break;
			}
			in_member = 1;
		}
		/* Input used up: the end only if inflate has no output left for a full buffer. */
		if (zs.avail_in == 0 && eof && !out_full) {
			st = gz_fail(res, RDUMP_GUNZIP_TRUNCATED,
				"the gzip stream is truncated: it ends after %" PRIu64 " compressed bytes (%" PRIu64
				" bytes inflated), before its end and its crc32/length trailer", res->in_bytes, o.pos);
			break;
		}
		zs.next_out = out;
		zs.avail_out = RDUMP_GUNZIP_OUT;
		rc = inflate(&zs, Z_NO_FLUSH);
		out_full = zs.avail_out == 0;
		if (RDUMP_GUNZIP_OUT - zs.avail_out > 0 && out_write(&o, out, RDUMP_GUNZIP_OUT - zs.avail_out) < 0) {
			res->err = o.err;
			st = gz_fail(res, RDUMP_GUNZIP_WRITE, "cannot write the inflated bytes after %" PRIu64 " bytes: %s",
				o.pos, strerror(o.err));
			break;
		}
		if (rc == Z_STREAM_END) {
			in_member = 0;
			res->members++;
			continue;
		}
		if (rc == Z_OK) {
			continue;
		}
		if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
			if (!eof && fill(in_fd, &zs, in, &eof, res) < 0) {
				st = gz_fail(res, RDUMP_GUNZIP_READ, "cannot read after %" PRIu64 " compressed bytes: %s",
					res->in_bytes, strerror(res->err));
				break;
			}
			continue;
		}
		if (rc == Z_MEM_ERROR) {
			st = gz_fail(res, RDUMP_GUNZIP_NOMEM, "zlib ran out of memory");
			break;
		}
		st = gz_fail(res, RDUMP_GUNZIP_CORRUPT, "the gzip stream is corrupt near compressed offset %" PRIu64 " (%s)",
			res->in_bytes - zs.avail_in, zs.msg ? zs.msg : "invalid data");
		break;
	}
	if (st == RDUMP_GUNZIP_OK && o.seekable && ftruncate(out_fd, (off_t) (o.base + o.pos)) < 0) {
		/* The length of the output, trailing holes included. */
		res->err = errno;
		st = gz_fail(res, RDUMP_GUNZIP_WRITE, "cannot set the length of the output: %s", strerror(errno));
	}
done:
	if (live) {
		inflateEnd(&zs);
	}
	res->out_bytes = o.pos;
	res->hole_bytes = o.hole_bytes;
	free(in);
	free(out);
	return st;
}
