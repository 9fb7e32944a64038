/*
 * Unit tests of compressed dumps: the writer's gzip sink (format/sink.c)
 * gives a standard gzip stream of exactly the bytes the file sink writes,
 * copies own memory through the kernel (a vanished or PROT_NONE page becomes
 * zeros, never a crash), cannot patch the region count; the reader
 * (format/reader.c) reads .gz dumps as if uncompressed and refuses
 * truncated, corrupt or trailing-garbage streams with a clear error; the
 * inflater (format/gunzip.c) writes holes; a compressed self-dump through
 * capture/dump.c keeps a region that vanished mid-dump instead of dropping it.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>
#include "rdump_test.h"
#include "../../format/writer.h"
#include "../../format/reader.h"
#include "../../format/gunzip.h"
#include "../../capture/dump.h"

static char dir[] = "/tmp/rdump-test-gzip-XXXXXX";
static char tmpdir[600];   /* TMPDIR of the reader: must be empty after every test */
static size_t ps;

static char *path_in(const char *name)
{
	return rdump_test_path_in(dir, name);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *p;
	int fd = open(path, O_RDONLY);
	size_t got = 0;

	*len = 0;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0) {
			close(fd);
		}
		return NULL;
	}
	p = malloc((size_t) st.st_size + 1);
	while (p && got < (size_t) st.st_size) {
		ssize_t k = read(fd, p + got, (size_t) st.st_size - got);

		if (k <= 0) {
			break;
		}
		got += (size_t) k;
	}
	close(fd);
	*len = got;
	return p;
}

static void spit(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t) n) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	close(fd);
}

/* Inflates with zlib's own gz* API: a check that does not share code with gunzip.c. */
static unsigned char *zlib_gunzip(const char *path, size_t *len)
{
	gzFile gz = gzopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	unsigned char *p = malloc(cap);
	int k;

	*len = 0;
	if (gz == NULL || p == NULL) {
		free(p);
		return NULL;
	}
	for (;;) {
		if (cap - n < 65536) {
			cap *= 2;
			p = realloc(p, cap);
		}
		k = gzread(gz, p + n, 65536);
		if (k <= 0) {
			break;
		}
		n += (size_t) k;
	}
	gzclose(gz);
	*len = n;
	return k < 0 ? (free(p), NULL) : p;
}

static size_t tmpdir_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL) {
		return (size_t) -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static void header_for(rdump_header *h, uint32_t regions)
{
	memset(h, 0, sizeof(*h));
	h->php_version = "v82";
	h->pid = 4242;
	h->eg_address = 0x1000;
	h->cg_address = 0x2000;
	h->rss_bytes = 123456789;
	h->region_count = regions;
}

/* Own memory for write_mem: 4 pages, a pattern in the 1st and 3rd, zeros elsewhere. */
static unsigned char *own_mem;
static unsigned char pattern_buf[200000];

/*
 * The same dump through any backend: buffered bytes with text and zero
 * blocks, explicit zeros, and own memory by address.
 */
static int emit(rdump_writer *w)
{
	rdump_header h;

	header_for(&h, 3);
	if (rdump_writer_header(w, &h) < 0
		|| rdump_writer_region_begin(w, 0x100000, sizeof(pattern_buf)) < 0
		|| rdump_writer_bytes(w, pattern_buf, sizeof(pattern_buf)) < 0
		|| rdump_writer_region_begin(w, 0x200000, 3 * 65536 + 100) < 0
		|| rdump_writer_zeros(w, 3 * 65536 + 100) < 0
		|| rdump_writer_region_begin(w, (uint64_t) (uintptr_t) own_mem, 4 * ps) < 0
		|| rdump_writer_mem(w, (uint64_t) (uintptr_t) own_mem, 4 * ps) < 0) {
		return -1;
	}
	return rdump_writer_finish(w);
}

static int write_with(const char *path, int backend, rdump_writer *w)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

	if (fd < 0) {
		return -1;
	}
	if (backend == 'g') {
		rc = rdump_writer_init_gzip(w, fd, 6);
	} else if (backend == 's') {
		rdump_writer_init_stdout(w, fd);
		rc = 0;
	} else {
		rdump_writer_init(w, fd);
		rc = 0;
	}
	if (rc == 0) {
		rc = emit(w);
	}
	rdump_writer_release(w);
	close(fd);
	return rc;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void test_writer_backends(void)
{
	rdump_writer *w = calloc(1, sizeof(*w));
	unsigned char *plain, *gz, *inflated, *streamed;
	size_t plain_len, gz_len, inflated_len, streamed_len;
	uint64_t rdump_len, out_len;
	struct stat st;

	RDUMP_CHECK(write_with(path_in("plain.rdump"), 'f', w) == 0, "file backend: err %d", w->err);
	RDUMP_CHECK(w->seekable && w->hole_bytes > 0, "file backend leaves holes");
	RDUMP_CHECK(write_with(path_in("stream.rdump"), 's', w) == 0, "stdout backend: err %d", w->err);
	RDUMP_CHECK(!w->seekable && w->hole_bytes == 0, "stdout backend writes zeros out");
	RDUMP_CHECK(write_with(path_in("x.rdump.gz"), 'g', w) == 0, "gzip backend: err %d", w->err);
	RDUMP_CHECK(!w->seekable && w->hole_bytes == 0 && w->zero_pages == 0, "gzip backend: no holes, nothing vanished");
	rdump_len = w->pos;
	out_len = w->sink.out_bytes;

	plain = slurp(path_in("plain.rdump"), &plain_len);
	streamed = slurp(path_in("stream.rdump"), &streamed_len);
	gz = slurp(path_in("x.rdump.gz"), &gz_len);
	inflated = zlib_gunzip(path_in("x.rdump.gz"), &inflated_len);
	RDUMP_CHECK(plain && streamed && gz && inflated, "outputs readable");
	if (!plain || !streamed || !gz || !inflated) {
		goto out;
	}
	RDUMP_CHECK(streamed_len == plain_len && memcmp(streamed, plain, plain_len) == 0,
		"stdout backend writes the same bytes as the file backend");
	RDUMP_CHECK(inflated_len == plain_len && memcmp(inflated, plain, plain_len) == 0,
		"gzip stream inflates to exactly the uncompressed dump (%zu vs %zu bytes)", inflated_len, plain_len);
	RDUMP_CHECK(rdump_len == plain_len, "writer pos is the RDUMP length");
	RDUMP_CHECK(out_len == gz_len, "sink out_bytes %llu is the compressed file size %zu",
		(unsigned long long) out_len, gz_len);
	RDUMP_CHECK(gz_len * 4 < plain_len, "zeros and repeated text compress (%zu of %zu)", gz_len, plain_len);
	/* RFC 1952 framing: magic, deflate, and a trailer of crc32 and length of exactly these bytes. */
	RDUMP_CHECK(gz_len > 18 && gz[0] == 0x1f && gz[1] == 0x8b && gz[2] == 8, "gzip header with deflate");
	RDUMP_CHECK(le32(gz + gz_len - 8) == (uint32_t) crc32(0, plain, (uInt) plain_len), "trailer crc32");
	RDUMP_CHECK(le32(gz + gz_len - 4) == (uint32_t) plain_len, "trailer isize");
	RDUMP_CHECK(stat(path_in("stream.rdump"), &st) == 0 && (uint64_t) st.st_blocks * 512 >= (uint64_t) st.st_size,
		"stdout backend left no holes");
out:
	free(plain);
	free(streamed);
	free(gz);
	free(inflated);
	free(w);
}

/* A page unmapped or PROT_NONE under write_mem: zeros in the stream, the rest intact, no crash. */
static void test_gzip_vanished_pages(void)
{
	rdump_writer *w = calloc(1, sizeof(*w));
	unsigned char *mem = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *inflated, *expect = calloc(1, 4 * ps);
	size_t len, off;
	rdump_header h;
	int fd;

	memset(mem, 0xa1, 4 * ps);
	memset(expect, 0xa1, 4 * ps);
	munmap(mem + ps, ps);
	mprotect(mem + 3 * ps, ps, PROT_NONE);
	memset(expect + ps, 0, ps);
	memset(expect + 3 * ps, 0, ps);
	fd = open(path_in("vanished.rdump.gz"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	RDUMP_CHECK(rdump_writer_init_gzip(w, fd, 1) == 0, "gzip init");
	header_for(&h, 1);
	rdump_writer_header(w, &h);
	rdump_writer_region_begin(w, (uint64_t) (uintptr_t) mem, 4 * ps);
	RDUMP_CHECK(rdump_writer_mem(w, (uint64_t) (uintptr_t) mem, 4 * ps) == 0, "write_mem over holes: err %d", w->err);
	RDUMP_CHECK(rdump_writer_finish(w) == 0, "finish");
	RDUMP_CHECK(w->zero_pages == 2, "two pages written as zeros, got %llu", (unsigned long long) w->zero_pages);
	rdump_writer_release(w);
	close(fd);
	inflated = zlib_gunzip(path_in("vanished.rdump.gz"), &len);
	off = len - 4 * ps;
	RDUMP_CHECK(inflated && len > 4 * ps && memcmp(inflated + off, expect, 4 * ps) == 0,
		"region bytes: readable pages kept, vanished ones zero");
	free(inflated);
	free(expect);
	munmap(mem, ps);
	munmap(mem + 2 * ps, 2 * ps);
	free(w);
}

static void test_gzip_limits(void)
{
	rdump_writer *w = calloc(1, sizeof(*w));
	rdump_header h;
	unsigned char data[16] = "0123456789abcdef";
	int fd = open(path_in("limits.gz"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	RDUMP_CHECK(rdump_writer_init_gzip(w, fd, 0) < 0 && w->err == EINVAL, "level 0 refused");
	rdump_writer_release(w);
	RDUMP_CHECK(rdump_writer_init_gzip(w, fd, 10) < 0 && w->err == EINVAL, "level 10 refused");
	rdump_writer_release(w);
	rdump_writer_release(w);

	/* The count is already compressed: a writer that drops a region must fail, not lie. */
	RDUMP_CHECK(rdump_writer_init_gzip(w, fd, 9) == 0, "level 9");
	header_for(&h, 2);
	rdump_writer_header(w, &h);
	rdump_writer_region_begin(w, 0x1000, sizeof(data));
	rdump_writer_bytes(w, data, sizeof(data));
	RDUMP_CHECK(rdump_writer_finish(w) < 0 && w->err == ESPIPE, "missing region in gzip: ESPIPE, got %d", w->err);
	rdump_writer_release(w);
	close(fd);

	/* Writes to a descriptor that refuses them: the error comes back, nothing crashes. */
	fd = open(path_in("limits.gz"), O_RDONLY);
	RDUMP_CHECK(rdump_writer_init_gzip(w, fd, 1) == 0, "init on read-only fd");
	header_for(&h, 1);
	rdump_writer_header(w, &h);
	rdump_writer_region_begin(w, 0x1000, sizeof(pattern_buf));
	RDUMP_CHECK((rdump_writer_bytes(w, pattern_buf, sizeof(pattern_buf)) < 0 || rdump_writer_finish(w) < 0)
		&& w->err == EBADF, "write error surfaces: %d", w->err);
	rdump_writer_release(w);
	close(fd);
	free(w);
}

static rdump_read_error open_reader(rdump_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	return rdump_reader_open(r, path);
}

static void test_reader_reads_gz(void)
{
	rdump_reader a, b;
	unsigned char x[4096], y[4096];
	struct stat st;
	uint32_t i;
	int same = 1;

	RDUMP_CHECK(open_reader(&a, path_in("plain.rdump")) == RDUMP_ROK, "plain opens: %s", a.message);
	RDUMP_CHECK(open_reader(&b, path_in("x.rdump.gz")) == RDUMP_ROK, "gz opens: %s", b.message);
	RDUMP_CHECK(tmpdir_entries() == 0, "the inflated copy is unlinked in TMPDIR");
	RDUMP_CHECK(a.gzip_bytes == 0 && stat(path_in("x.rdump.gz"), &st) == 0 && b.gzip_bytes == (uint64_t) st.st_size,
		"gzip_bytes is the compressed size");
	RDUMP_CHECK(a.file_size == b.file_size, "file_size is the RDUMP length");
	RDUMP_CHECK(a.pid == b.pid && a.rss_bytes == b.rss_bytes && a.region_count == b.region_count && b.region_count == 3,
		"same header");
	for (i = 0; i < a.region_count && i < b.region_count; i++) {
		uint64_t off;

		if (a.regions[i].address != b.regions[i].address || a.regions[i].size != b.regions[i].size
			|| a.regions[i].file_offset != b.regions[i].file_offset) {
			same = 0;
			continue;
		}
		for (off = 0; off < a.regions[i].size; off += sizeof(x)) {
			size_t n = a.regions[i].size - off < sizeof(x) ? (size_t) (a.regions[i].size - off) : sizeof(x);

			if (rdump_reader_read(&a, a.regions[i].address + off, x, n) != RDUMP_MEM_REGION
				|| rdump_reader_read(&b, b.regions[i].address + off, y, n) != RDUMP_MEM_REGION
				|| memcmp(x, y, n) != 0) {
				same = 0;
			}
		}
	}
	RDUMP_CHECK(same, "every region reads the same from the .gz as from the plain dump");
	rdump_reader_close(&a);
	rdump_reader_close(&b);
}

static void expect_gz_error(const char *name, const unsigned char *p, size_t n, rdump_read_error want, const char *word)
{
	rdump_reader r;
	rdump_read_error got;

	spit(path_in(name), p, n);
	got = open_reader(&r, path_in(name));
	RDUMP_CHECK(got == want && strstr(r.message, word) != NULL && strstr(r.message, name) != NULL,
		"%s: want %s with \"%s\", got %s: %s", name, rdump_read_error_name(want), word,
		rdump_read_error_name(got), r.message);
	RDUMP_CHECK(r.fd == -1 && r.regions == NULL && r.priv == NULL, "%s: a failed open holds nothing", name);
	RDUMP_CHECK(tmpdir_entries() == 0, "%s: no temporary file left", name);
	rdump_reader_close(&r);
}

static void test_reader_bad_gz(void)
{
	size_t len, i;
	unsigned char *gz = slurp(path_in("x.rdump.gz"), &len), *bad;
	size_t cuts[] = { 2, 10, 30, 200, 0, 0, 0, 0 };
	char name[64];
	rdump_reader r;

	if (gz == NULL) {
		RDUMP_CHECK(0, "no x.rdump.gz");
		return;
	}
	bad = malloc(len + 64);
	cuts[4] = len / 2;
	cuts[5] = len - 8;  /* the whole trailer missing */
	cuts[6] = len - 4;  /* crc32 there, isize missing */
	cuts[7] = len - 1;
	/* Cut anywhere: inside the header, the deflate data, the trailer. */
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		snprintf(name, sizeof(name), "trunc-%zu.rdump.gz", cuts[i]);
		expect_gz_error(name, gz, cuts[i], RDUMP_RE_GZIP, "truncated");
	}
	/* The crc32 in the trailer no longer matches. */
	memcpy(bad, gz, len);
	bad[len - 6] ^= 0x40;
	expect_gz_error("crc.rdump.gz", bad, len, RDUMP_RE_GZIP, "incorrect data check");
	/* The length in the trailer no longer matches. */
	memcpy(bad, gz, len);
	bad[len - 3] ^= 0x01;
	expect_gz_error("isize.rdump.gz", bad, len, RDUMP_RE_GZIP, "incorrect length check");
	/* Not deflate at all after the magic. */
	memcpy(bad, gz, len);
	bad[2] = 7;
	expect_gz_error("method.rdump.gz", bad, len, RDUMP_RE_GZIP, "corrupt");
	/* Garbage after the stream. */
	memcpy(bad, gz, len);
	memcpy(bad + len, "junk", 4);
	expect_gz_error("trailing.rdump.gz", bad, len + 4, RDUMP_RE_GZIP, "follow the end of the gzip stream");
	/* A second member that is cut short is truncation too (whole members: see below). */
	memcpy(bad, gz, len);
	memcpy(bad + len, gz, 20);
	expect_gz_error("member.rdump.gz", bad, len + 20, RDUMP_RE_GZIP, "truncated");

	/* Nowhere to inflate to: an I/O error naming TMPDIR. */
	setenv("TMPDIR", path_in("no-such-dir"), 1);
	RDUMP_CHECK(open_reader(&r, path_in("x.rdump.gz")) == RDUMP_RE_IO && strstr(r.message, "TMPDIR") != NULL,
		"missing TMPDIR: %s", r.message);
	rdump_reader_close(&r);
	setenv("TMPDIR", tmpdir, 1);
	free(bad);
	free(gz);
}

/* Concatenated members are standard gzip (cat a.gz b.gz): they inflate to one stream, the original dump. */
static void test_concatenated_members(void)
{
	size_t len, half;
	unsigned char *plain = slurp(path_in("plain.rdump"), &len);
	unsigned char out[1 << 16];
	int part, fd = open(path_in("two.rdump.gz"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rdump_reader a, b;

	half = len / 2;
	for (part = 0; part < 2 && plain; part++) {
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = plain + (part ? half : 0);
		zs.avail_in = (uInt) (part ? len - half : half);
		do {
			zs.next_out = out;
			zs.avail_out = sizeof(out);
			deflate(&zs, Z_FINISH);
			if (write(fd, out, sizeof(out) - zs.avail_out) < 0) {
				break;
			}
		} while (zs.avail_out == 0);
		deflateEnd(&zs);
	}
	close(fd);
	RDUMP_CHECK(open_reader(&a, path_in("plain.rdump")) == RDUMP_ROK, "plain");
	RDUMP_CHECK(open_reader(&b, path_in("two.rdump.gz")) == RDUMP_ROK, "two members: %s", b.message);
	RDUMP_CHECK(a.file_size == b.file_size && a.region_count == b.region_count, "same dump from two members");
	rdump_reader_close(&a);
	rdump_reader_close(&b);
	free(plain);
}

/* The inflater leaves holes where the dump has zero blocks, and writes everything to a pipe. */
static void test_gunzip_sparse(void)
{
	rdump_gunzip_result res;
	struct stat st;
	size_t plain_len, out_len;
	unsigned char *plain = slurp(path_in("plain.rdump"), &plain_len), *out;
	int in = open(path_in("x.rdump.gz"), O_RDONLY);
	int fd = open(path_in("unpacked.rdump"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	int pfd[2];
	pid_t pid;

	RDUMP_CHECK(rdump_gunzip_fd(in, fd, &res) == RDUMP_GUNZIP_OK, "inflate: %s", res.message);
	close(fd);
	close(in);
	out = slurp(path_in("unpacked.rdump"), &out_len);
	RDUMP_CHECK(plain && out && out_len == plain_len && memcmp(out, plain, plain_len) == 0
		&& res.out_bytes == plain_len && res.members == 1, "inflated file equals the plain dump");
	RDUMP_CHECK(stat(path_in("unpacked.rdump"), &st) == 0 && res.hole_bytes >= 2 * 65536
		&& (uint64_t) st.st_blocks * 512 < (uint64_t) st.st_size, "zero blocks are holes (%llu hole bytes, %llu on disk of %llu)",
		(unsigned long long) res.hole_bytes, (unsigned long long) st.st_blocks * 512, (unsigned long long) st.st_size);
	free(out);

	/*
	 * Incompressible bytes, then zeros: inflate stops when its input runs
	 * out, at an arbitrary output offset, so the zero blocks sit at odd
	 * addresses in its buffer. They are holes all the same.
	 */
	{
		size_t noise = 300001, big_len = noise + (2 << 20), gz_cap = compressBound((uLong) big_len) + 64, k;
		unsigned char *big = calloc(1, big_len), *gzb = malloc(gz_cap);
		uint32_t x = 12345;
		z_stream zs;

		for (k = 0; k < noise; k++) {
			x = x * 1103515245u + 12345u;
			big[k] = (unsigned char) (x >> 23);
		}
		memset(&zs, 0, sizeof(zs));
		deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
		zs.next_in = big;
		zs.avail_in = (uInt) big_len;
		zs.next_out = gzb;
		zs.avail_out = (uInt) gz_cap;
		RDUMP_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate the odd-offset sample");
		spit(path_in("odd.gz"), gzb, gz_cap - zs.avail_out);
		deflateEnd(&zs);
		in = open(path_in("odd.gz"), O_RDONLY);
		fd = open(path_in("odd.out"), O_RDWR | O_CREAT | O_TRUNC, 0600);
		RDUMP_CHECK(rdump_gunzip_fd(in, fd, &res) == RDUMP_GUNZIP_OK && res.out_bytes == big_len
			&& res.hole_bytes >= (2 << 20) - 65536, "odd-offset zeros: %llu hole bytes of %d",
			(unsigned long long) res.hole_bytes, 2 << 20);
		close(in);
		close(fd);
		out = slurp(path_in("odd.out"), &out_len);
		RDUMP_CHECK(out && out_len == big_len && memcmp(out, big, big_len) == 0, "odd-offset sample inflates exactly");
		free(out);
		free(big);
		free(gzb);
	}

	RDUMP_CHECK(pipe(pfd) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		in = open(path_in("x.rdump.gz"), O_RDONLY);
		_exit(rdump_gunzip_fd(in, pfd[1], &res) == RDUMP_GUNZIP_OK && res.hole_bytes == 0 ? 0 : 1);
	}
	close(pfd[1]);
	out = malloc(plain_len + 1);
	out_len = 0;
	for (;;) {
		ssize_t k = read(pfd[0], out + out_len, plain_len + 1 - out_len);

		if (k <= 0) {
			break;
		}
		out_len += (size_t) k;
	}
	close(pfd[0]);
	RDUMP_CHECK(out_len == plain_len && memcmp(out, plain, plain_len) == 0, "inflated to a pipe: every byte");
	free(out);
	free(plain);
}

/* A compressed self-dump through capture/dump.c, and a region unmapped in the middle of it. */
static uint64_t doomed_addr;
static int doomed_gone;

static void unmap_doomed(void *ctx, uint64_t done, uint64_t total)
{
	(void) ctx;
	(void) total;
	if (!doomed_gone && done > 0) {
		munmap((void *) (uintptr_t) doomed_addr, 4 * ps);
		doomed_gone = 1;
	}
}

static void dump_self(const char *path, int compress, rdump_dump_result *res, int *rc, rdump_error *e)
{
	rdump_target t;
	rdump_dump_opts o;
	unsigned char *p;

	/* Far above the binary and [heap], below the libraries: written after the first regions. */
	p = mmap((void *) (uintptr_t) 0x7e0000000000ULL, 4 * ps, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED && p != (void *) (uintptr_t) 0x7e0000000000ULL) {
		/* A kernel before 4.17 took the address as a hint only. */
		munmap(p, 4 * ps);
		p = MAP_FAILED;
	}
	doomed_addr = p == MAP_FAILED ? 0 : (uint64_t) (uintptr_t) p;
	doomed_gone = doomed_addr == 0;
	if (p != MAP_FAILED) {
		memset(p, 0x5a, 4 * ps);
	}
	memset(&o, 0, sizeof(o));
	o.php_version = "v82";
	o.compress = compress;
	o.compress_level = 1;
	o.copy = RDUMP_COPY_KERNEL;
	o.progress = unmap_doomed;
	rdump_target_open(&t, getpid(), 1, e);
	*rc = rdump_dump_path(&t, &o, path, res, e);
	rdump_target_close(&t);
	if (!doomed_gone) {
		munmap(p, 4 * ps);
	}
}

static void test_compressed_self_dump(void)
{
	rdump_dump_result res;
	rdump_error e;
	rdump_reader r;
	struct stat st;
	const rdump_region_info *g;
	unsigned char got[64], zeros[64];
	int rc;

	memset(zeros, 0, sizeof(zeros));
	dump_self(path_in("self.rdump"), 0, &res, &rc, &e);
	if (doomed_addr == 0) {
		printf("(no fixed mapping at 0x7e0000000000: vanished-region checks skipped)\n");
	}
	RDUMP_CHECK(rc == 0, "plain self dump: %s", e.what);
	RDUMP_CHECK(doomed_addr == 0 || res.regions_dropped == 1, "plain: the vanished region is dropped (%u)", res.regions_dropped);
	RDUMP_CHECK(res.file_bytes == res.rdump_bytes, "plain: file bytes are the RDUMP bytes");

	dump_self(path_in("self.rdump.gz"), 1, &res, &rc, &e);
	RDUMP_CHECK(rc == 0, "compressed self dump: %s", e.what);
	RDUMP_CHECK(res.regions_dropped == 0, "compressed: no region dropped");
	RDUMP_CHECK(doomed_addr == 0 || res.zero_pages >= 4, "compressed: the vanished pages are zeros (%llu)",
		(unsigned long long) res.zero_pages);
	RDUMP_CHECK(stat(path_in("self.rdump.gz"), &st) == 0 && (uint64_t) st.st_size == res.file_bytes
		&& res.file_bytes < res.rdump_bytes, "file_bytes %llu is the .gz size, rdump_bytes %llu the stream",
		(unsigned long long) res.file_bytes, (unsigned long long) res.rdump_bytes);
	RDUMP_CHECK(open_reader(&r, path_in("self.rdump.gz")) == RDUMP_ROK, "compressed self dump reads: %s", r.message);
	RDUMP_CHECK(r.file_size == res.rdump_bytes && r.region_count == res.regions, "reader agrees with the result");
	if (doomed_addr != 0) {
		g = rdump_reader_find(&r, doomed_addr, 4 * ps);
		RDUMP_CHECK(g != NULL && rdump_reader_read(&r, doomed_addr + ps, got, sizeof(got)) == RDUMP_MEM_REGION
			&& memcmp(got, zeros, sizeof(got)) == 0, "the vanished region is in the dump, as zeros");
	}
	rdump_reader_close(&r);

	{
		rdump_target t;
		rdump_dump_opts o;

		memset(&o, 0, sizeof(o));
		o.php_version = "v82";
		o.compress = 1;
		o.compress_level = 12;
		rdump_target_open(&t, getpid(), 1, &e);
		RDUMP_CHECK(rdump_dump_path(&t, &o, path_in("level.rdump.gz"), &res, &e) < 0 && e.err == EINVAL
			&& strstr(e.what, "1 to 9") != NULL, "bad level: %s", e.what);
		RDUMP_CHECK(access(path_in("level.rdump.gz"), F_OK) != 0, "bad level leaves no file");
		rdump_target_close(&t);
	}
}

int main(void)
{
	char cmd[700];
	size_t i;

	ps = (size_t) sysconf(_SC_PAGESIZE);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", dir);
	mkdir(tmpdir, 0700);
	setenv("TMPDIR", tmpdir, 1);
	for (i = 0; i < sizeof(pattern_buf); i++) {
		/* Text with zero blocks: compressible, and with holes to leave. */
		pattern_buf[i] = (i / 4096) % 3 == 1 ? 0 : (unsigned char) "rdump gzip "[i % 11];
	}
	own_mem = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(own_mem, 'm', ps);
	memset(own_mem + 2 * ps, 'n', ps);

	test_writer_backends();
	test_gzip_vanished_pages();
	test_gzip_limits();
	test_reader_reads_gz();
	test_reader_bad_gz();
	test_concatenated_members();
	test_gunzip_sparse();
	test_compressed_self_dump();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot remove %s\n", dir);
	}
	return rdump_test_summary();
}
