/*
 * Tests of format/reader.c against byte-exact RDUMP files built here, so the
 * reader is checked against the format spec rather than against our writer:
 * valid v1..v3 files, region and file fall-back reads, and one test per
 * validation error.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"
#include "rdump_test.h"

/* ---- a tiny builder of RDUMP bytes ---- */

typedef struct tbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
} tbuf;

static void tb_bytes(tbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n) {
			cap *= 2;
		}
		b->data = realloc(b->data, cap);
		if (!b->data) {
			perror("realloc");
			exit(2);
		}
		b->cap = cap;
	}
	if (n) {
		memcpy(b->data + b->len, p, n);
	}
	b->len += n;
}

static void tb_u32(tbuf *b, uint32_t v)
{
	tb_bytes(b, &v, 4);
}

static void tb_u64(tbuf *b, uint64_t v)
{
	tb_bytes(b, &v, 8);
}

static void tb_str(tbuf *b, const char *s)
{
	tb_u32(b, (uint32_t)strlen(s));
	tb_bytes(b, s, strlen(s));
}

/* What target memory holds at an address, so reads can be verified. */
static uint8_t pattern(uint64_t addr)
{
	return (uint8_t)((addr >> 3) ^ (addr * 131) ^ (addr >> 17));
}

typedef struct t_map {
	const char *begin, *end, *offset, *perms, *dev;
	uint64_t inode;
	const char *name;
} t_map;

typedef struct t_region {
	uint64_t address;
	uint64_t size;
	int64_t data_len;    /* bytes actually written; -1 = size */
} t_region;

typedef struct t_dump {
	uint32_t version;
	const char *php;
	uint64_t pid, eg, cg;
	int64_t rss;
	uint32_t nmods;
	const char *const *mod_names;
	const uint64_t *mod_addrs;
	int64_t mod_count;     /* -1 = nmods */
	uint32_t nmaps;
	const t_map *maps;
	int64_t map_count;     /* -1 = nmaps */
	uint32_t nregions;
	const t_region *regions;
	int64_t region_count;  /* -1 = nregions */
	size_t trailing;
} t_dump;

typedef struct t_offsets {
	size_t after_php;
	size_t modules;        /* the module_globals_count field */
	size_t counts;         /* memory_map_count */
	size_t map;
	size_t regions;
} t_offsets;

static t_dump dump_defaults(uint32_t version)
{
	t_dump d;

	memset(&d, 0, sizeof(d));
	d.version = version;
	d.php = "v84";
	d.pid = 4242;
	d.eg = 0x55d0c2a01000;
	d.cg = 0x55d0c2a02000;
	d.rss = 123456789;
	d.mod_count = -1;
	d.map_count = -1;
	d.region_count = -1;
	return d;
}

static void build(tbuf *b, const t_dump *d, t_offsets *o)
{
	uint32_t i;
	t_offsets dummy;

	if (!o) {
		o = &dummy;
	}
	b->len = 0;
	tb_bytes(b, "RDUMP\0\0\0", 8);
	tb_u32(b, d->version);
	tb_str(b, d->php);
	o->after_php = b->len;
	tb_u64(b, d->pid);
	tb_u64(b, d->eg);
	tb_u64(b, d->cg);
	if (d->version >= 2) {
		tb_u64(b, (uint64_t)d->rss);
	}
	o->modules = b->len;
	if (d->version >= 3) {
		tb_u32(b, d->mod_count < 0 ? d->nmods : (uint32_t)d->mod_count);
		for (i = 0; i < d->nmods; i++) {
			tb_str(b, d->mod_names[i]);
			tb_u64(b, d->mod_addrs[i]);
		}
	}
	o->counts = b->len;
	tb_u32(b, d->map_count < 0 ? d->nmaps : (uint32_t)d->map_count);
	tb_u32(b, d->region_count < 0 ? d->nregions : (uint32_t)d->region_count);
	o->map = b->len;
	for (i = 0; i < d->nmaps; i++) {
		const t_map *m = &d->maps[i];
		uint8_t attrs[4];
		int k;
		for (k = 0; k < 4; k++) {
			attrs[k] = m->perms[k] == '?' ? 7 : (m->perms[k] != '-' && m->perms[k] != 's');
		}
		tb_str(b, m->begin);
		tb_str(b, m->end);
		tb_str(b, m->offset);
		tb_bytes(b, attrs, 4);
		tb_str(b, m->dev);
		tb_u64(b, m->inode);
		tb_str(b, m->name);
	}
	o->regions = b->len;
	for (i = 0; i < d->nregions; i++) {
		const t_region *g = &d->regions[i];
		uint64_t n = g->data_len < 0 ? g->size : (uint64_t)g->data_len, k;
		tb_u64(b, g->address);
		tb_u64(b, g->size);
		for (k = 0; k < n; k++) {
			uint8_t c = pattern(g->address + k);
			tb_bytes(b, &c, 1);
		}
	}
	for (i = 0; i < d->trailing; i++) {
		tb_bytes(b, "\0", 1);
	}
}

/* ---- files ---- */

static char tmpdir[1024];  /* short enough that every path built on it fits PATH_MAX */

static const char *tpath(const char *name)
{
	static char paths[8][PATH_MAX];
	static unsigned next;
	char *p = paths[next++ % 8];

	snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
	return p;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

/* Writes the first len bytes (SIZE_MAX: all) of b as tmpdir/name. */
static const char *write_dump(const char *name, const tbuf *b, size_t len)
{
	const char *path = tpath(name);

	write_bytes(path, b->data, len < b->len ? len : b->len);
	return path;
}

static void expect_error(const char *path, rdump_read_error want, const char *label)
{
	rdump_reader r;
	rdump_read_error got;

	memset(&r, 0, sizeof(r));
	got = rdump_reader_open(&r, path);
	RDUMP_CHECK(got == want, "%s: got %s, want %s (%s)", label,
		rdump_read_error_name(got), rdump_read_error_name(want), r.message);
	RDUMP_CHECK(r.error == want, "%s: r.error is %s", label, rdump_read_error_name(r.error));
	RDUMP_CHECK(r.message[0] != '\0', "%s: empty message", label);
	RDUMP_CHECK(strstr(r.message, path) != NULL, "%s: message does not name the file: %s", label, r.message);
	RDUMP_CHECK(r.priv == NULL && r.map == NULL && r.regions == NULL && r.module_globals == NULL && r.fd == -1,
		"%s: failed open still holds resources", label);
	if (getenv("RDUMP_TEST_VERBOSE")) {
		printf("%-26s %s\n", rdump_read_error_name(got), r.message);
	}
	rdump_reader_close(&r);
	rdump_reader_close(&r);
}

/* ---- the valid dump most tests start from ---- */

static const char *const mod_names[] = {"basic_globals", "x"};
static const uint64_t mod_addrs[] = {0x55d0c2a03000, 0x1234};

static const t_map base_maps[] = {
	{"7f0000000000", "7f0000003000", "00000000", "rw-p", "00:00", 0, ""},
	{"7f0000003000", "7f0000005000", "00000000", "rw-p", "00:00", 0, "[heap]"},
	{"7f0000005000", "7f0000006000", "0001a000", "r-xp", "fd:01", 1234567, "/usr/lib/libfoo.so.1"},
};

/* A, a gap, then B and C that touch, then D bigger than the reader's buffer. */
static const t_region base_regions[] = {
	{0x7f0000000000, 0x1000, -1},
	{0x7f0000002000, 0x1000, -1},
	{0x7f0000003000, 0x1800, -1},
	{0x7f0000100000, 200 * 1024, -1},
	{0x7f0000200000, 16, -1},
};

static t_dump base_dump(uint32_t version)
{
	t_dump d = dump_defaults(version);

	if (version >= 3) {
		d.nmods = 2;
		d.mod_names = mod_names;
		d.mod_addrs = mod_addrs;
	}
	d.nmaps = 3;
	d.maps = base_maps;
	d.nregions = 5;
	d.regions = base_regions;
	return d;
}

static int bytes_match(const uint8_t *buf, uint64_t addr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] != pattern(addr + i)) {
			return 0;
		}
	}
	return 1;
}

static void test_valid_v3(void)
{
	t_dump d = base_dump(3);
	tbuf b = {0};
	t_offsets o;
	rdump_reader r;
	uint8_t buf[512];
	const char *path;
	uint32_t i;

	build(&b, &d, &o);
	path = write_dump("valid3.rdump", &b, SIZE_MAX);
	memset(&r, 0, sizeof(r));
	RDUMP_CHECK(rdump_reader_open(&r, path) == RDUMP_ROK, "valid v3 open: %s", r.message);
	RDUMP_CHECK(r.error == RDUMP_ROK && r.message[0] == '\0', "valid v3: error state left set");
	RDUMP_CHECK(r.format_version == 3, "version %" PRIu32, r.format_version);
	RDUMP_CHECK(r.php_version.len == 3 && memcmp(r.php_version.ptr, "v84", 3) == 0, "php version");
	RDUMP_CHECK(r.pid == 4242 && r.eg_address == d.eg && r.cg_address == d.cg, "pid/eg/cg");
	RDUMP_CHECK(r.rss_bytes == 123456789, "rss %" PRId64, r.rss_bytes);
	RDUMP_CHECK(r.file_size == b.len, "file_size %" PRIu64 " vs %zu", r.file_size, b.len);
	RDUMP_CHECK(r.module_globals_count == 2, "module count");
	RDUMP_CHECK(r.module_globals_count == 2
		&& r.module_globals[0].name.len == 13 && memcmp(r.module_globals[0].name.ptr, "basic_globals", 13) == 0
		&& r.module_globals[0].address == 0x55d0c2a03000
		&& r.module_globals[1].name.len == 1 && r.module_globals[1].address == 0x1234, "module globals");
	RDUMP_CHECK(r.map_count == 3 && r.map_sorted, "map count/sorted");
	if (r.map_count == 3) {
		const rdump_map_entry *m = &r.map[2];
		RDUMP_CHECK(r.map[0].begin == 0x7f0000000000 && r.map[0].end == 0x7f0000003000, "map 0 range");
		RDUMP_CHECK(r.map[0].name_s.len == 0 && r.map[0].r && r.map[0].w && !r.map[0].x && r.map[0].p, "map 0 attrs");
		RDUMP_CHECK(m->offset == 0x1a000 && m->inode == 1234567 && m->r && !m->w && m->x && m->p, "map 2 fields");
		RDUMP_CHECK(m->name_s.len == strlen("/usr/lib/libfoo.so.1")
			&& memcmp(m->name_s.ptr, "/usr/lib/libfoo.so.1", m->name_s.len) == 0, "map 2 name");
		RDUMP_CHECK(m->dev_s.len == 5 && memcmp(m->dev_s.ptr, "fd:01", 5) == 0, "map 2 device");
		RDUMP_CHECK(m->begin_s.len == 12 && memcmp(m->begin_s.ptr, "7f0000005000", 12) == 0, "map 2 begin_s");
		RDUMP_CHECK(rdump_reader_map_at(&r, 0x7f0000003500) == &r.map[1], "map_at heap");
		RDUMP_CHECK(rdump_reader_map_at(&r, 0x7f0000006000) == NULL, "map_at past the end");
		RDUMP_CHECK(rdump_reader_map_at(&r, 0x1000) == NULL, "map_at below");
	}
	RDUMP_CHECK(r.region_count == 5, "region count");
	RDUMP_CHECK(r.touching_regions == 1, "touching %" PRIu32, r.touching_regions);
	for (i = 0; i < r.region_count && i < 5; i++) {
		const rdump_region_info *g = &r.regions[i];
		RDUMP_CHECK(g->address == base_regions[i].address && g->size == base_regions[i].size, "region %u index", i);
		RDUMP_CHECK(g->file_offset + g->size <= b.len && bytes_match(b.data + g->file_offset, g->address, 16),
			"region %u file_offset %" PRIu64, i, g->file_offset);
	}

	/* Reads inside one region succeed and return the captured bytes. */
	memset(buf, 0, sizeof(buf));
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000000010, buf, 64) == RDUMP_MEM_REGION, "read in A");
	RDUMP_CHECK(bytes_match(buf, 0x7f0000000010, 64), "read in A: bytes");
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000000000, buf, 0x1000 > sizeof(buf) ? sizeof(buf) : 0x1000) == RDUMP_MEM_REGION, "read at A start");
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000000ff0, buf, 16) == RDUMP_MEM_REGION && bytes_match(buf, 0x7f0000000ff0, 16), "read at A end");
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000000ff0, buf, 17) == RDUMP_MEM_MISSING, "read past A end");
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000004700, buf, 256) == RDUMP_MEM_REGION && bytes_match(buf, 0x7f0000004700, 256), "read in C");
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000100000 + 150000, buf, 300) == RDUMP_MEM_REGION
		&& bytes_match(buf, 0x7f0000100000 + 150000, 300), "read in D (past the parse buffer)");
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000200000, buf, 16) == RDUMP_MEM_REGION && bytes_match(buf, 0x7f0000200000, 16), "read all of E");
	/* B and C touch and both hold their half, yet a straddling read fails, as in reli. */
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000002ff0, buf, 32) == RDUMP_MEM_MISSING, "read straddling B and C");
	RDUMP_CHECK(r.message[0] != '\0', "missing read explains itself");
	RDUMP_CHECK(rdump_reader_find(&r, 0x7f0000002ff0, 32) == NULL, "find straddling");
	RDUMP_CHECK(rdump_reader_find(&r, 0x7f0000003000, 1) == &r.regions[2], "find C start");
	/* The gap is writable anonymous memory: lost, no fall-back. */
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000001000, buf, 8) == RDUMP_MEM_MISSING, "read in gap");
	RDUMP_CHECK(rdump_reader_read(&r, 0x10, buf, 8) == RDUMP_MEM_MISSING, "read below every region");
	RDUMP_CHECK(rdump_reader_read(&r, UINT64_MAX - 4, buf, 8) == RDUMP_MEM_MISSING, "read wrapping");
	/* The libfoo mapping is r-x file-backed, but the file does not exist here. */
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000005000, buf, 8) == RDUMP_MEM_MISSING, "fall-back to a missing file");

	rdump_reader_close(&r);
	RDUMP_CHECK(r.priv == NULL && r.regions == NULL && r.map == NULL && r.fd == -1, "close releases");
	rdump_reader_close(&r);
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000000010, buf, 8) == RDUMP_MEM_MISSING, "read after close");
	free(b.data);
}

static void test_old_versions(void)
{
	uint32_t v;

	for (v = 1; v <= 2; v++) {
		t_dump d = base_dump(v);
		tbuf b = {0};
		rdump_reader r;
		uint8_t buf[32];
		char name[32];
		const char *path;

		build(&b, &d, NULL);
		snprintf(name, sizeof(name), "valid%u.rdump", v);
		path = write_dump(name, &b, SIZE_MAX);
		memset(&r, 0, sizeof(r));
		RDUMP_CHECK(rdump_reader_open(&r, path) == RDUMP_ROK, "v%u open: %s", v, r.message);
		RDUMP_CHECK(r.format_version == v, "v%u version", v);
		RDUMP_CHECK(r.rss_bytes == (v == 1 ? -1 : 123456789), "v%u rss %" PRId64, v, r.rss_bytes);
		RDUMP_CHECK(r.module_globals_count == 0 && r.module_globals == NULL, "v%u has no module globals", v);
		RDUMP_CHECK(r.map_count == 3 && r.region_count == 5, "v%u counts", v);
		RDUMP_CHECK(r.pid == 4242 && r.cg_address == d.cg, "v%u pid/cg", v);
		RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000003008, buf, sizeof(buf)) == RDUMP_MEM_REGION
			&& bytes_match(buf, 0x7f0000003008, sizeof(buf)), "v%u read", v);
		rdump_reader_close(&r);
		free(b.data);
	}
}

static void test_empty_dump(void)
{
	t_dump d = dump_defaults(3);
	tbuf b = {0};
	rdump_reader r;
	uint8_t buf[4];

	build(&b, &d, NULL);
	memset(&r, 0, sizeof(r));
	RDUMP_CHECK(rdump_reader_open(&r, write_dump("empty3.rdump", &b, SIZE_MAX)) == RDUMP_ROK, "no maps, no regions: %s", r.message);
	RDUMP_CHECK(r.region_count == 0 && r.map_count == 0 && r.module_globals_count == 0, "zero counts");
	RDUMP_CHECK(rdump_reader_read(&r, 0x1000, buf, 4) == RDUMP_MEM_MISSING, "read in empty dump");
	rdump_reader_close(&r);
	free(b.data);
}

static void test_header_errors(void)
{
	t_dump d = base_dump(3);
	tbuf b = {0};
	t_offsets o;
	uint32_t v;

	build(&b, &d, &o);

	expect_error(tpath("does-not-exist.rdump"), RDUMP_RE_IO, "missing file");
	expect_error(tmpdir, RDUMP_RE_IO, "a directory");
	expect_error(write_dump("empty.rdump", &b, 0), RDUMP_RE_TRUNC_HEADER, "empty file");
	expect_error(write_dump("short-magic.rdump", &b, 5), RDUMP_RE_TRUNC_HEADER, "file ends inside the magic");

	b.data[1] = 'X';
	expect_error(write_dump("magic.rdump", &b, SIZE_MAX), RDUMP_RE_MAGIC, "wrong magic");
	b.data[1] = 'D';
	write_bytes(tpath("text.rdump"), "hello", 5);
	expect_error(tpath("text.rdump"), RDUMP_RE_MAGIC, "short non-dump");

	b.data[0] = 0x1f;
	b.data[1] = 0x8b;
	expect_error(write_dump("gz.rdump", &b, SIZE_MAX), RDUMP_RE_GZIP, "gzip magic");
	b.data[0] = 'R';
	b.data[1] = 'D';

	v = 0;
	memcpy(b.data + 8, &v, 4);
	expect_error(write_dump("v0.rdump", &b, SIZE_MAX), RDUMP_RE_VERSION, "version 0");
	v = 4;
	memcpy(b.data + 8, &v, 4);
	expect_error(write_dump("v4.rdump", &b, SIZE_MAX), RDUMP_RE_VERSION, "version 4");
	v = 3;
	memcpy(b.data + 8, &v, 4);

	expect_error(write_dump("hdr-ver.rdump", &b, 10), RDUMP_RE_TRUNC_HEADER, "truncated in format_version");
	expect_error(write_dump("hdr-strlen.rdump", &b, 14), RDUMP_RE_TRUNC_HEADER, "truncated in php_version length");
	expect_error(write_dump("hdr-pid.rdump", &b, o.after_php + 5), RDUMP_RE_TRUNC_HEADER, "truncated in pid");
	expect_error(write_dump("hdr-rss.rdump", &b, o.after_php + 30), RDUMP_RE_TRUNC_HEADER, "truncated in rss");
	expect_error(write_dump("hdr-counts.rdump", &b, o.counts + 6), RDUMP_RE_TRUNC_HEADER, "truncated in region_count");

	v = 0x7fffffff;
	memcpy(b.data + 12, &v, 4);
	expect_error(write_dump("str.rdump", &b, SIZE_MAX), RDUMP_RE_TRUNC_STRING, "php_version past the end");
	free(b.data);
}

static void test_module_errors(void)
{
	t_dump d = base_dump(3);
	tbuf b = {0};
	t_offsets o;

	d.nmaps = 0;
	d.nregions = 0;
	d.nmods = 1;
	build(&b, &d, &o);
	/* count + "basic_globals" entry + 3 bytes of its address: the count check passes, the entry does not */
	expect_error(write_dump("mod-addr.rdump", &b, o.modules + 4 + 4 + 13 + 3), RDUMP_RE_TRUNC_MODULE, "module address past the end");
	d.nmods = 2;
	build(&b, &d, &o);
	expect_error(write_dump("mod-namelen.rdump", &b, o.modules + 4 + 4 + 13 + 8 + 2), RDUMP_RE_TRUNC_MODULE, "module name length past the end");

	d.mod_count = 0xffffffff;
	build(&b, &d, &o);
	expect_error(write_dump("mod-huge.rdump", &b, SIZE_MAX), RDUMP_RE_TRUNC_MODULE, "module_globals_count 0xffffffff");

	d.mod_count = -1;
	build(&b, &d, &o);
	b.data[o.modules + 4] = 0xff;   /* first name length = 255: past the end */
	expect_error(write_dump("mod-str.rdump", &b, SIZE_MAX), RDUMP_RE_TRUNC_STRING, "module name past the end");
	free(b.data);
}

static void test_map_errors(void)
{
	t_dump d = base_dump(3);
	tbuf b = {0};
	t_offsets o;
	t_map bad[1];

	d.nregions = 0;
	d.nmaps = 1;
	d.maps = base_maps + 1;   /* [heap]: a non-empty name to cut short */
	build(&b, &d, &o);
	/* begin "7f0000000000" (16) end (16) offset "00000000" (12) attrs (4) dev "00:00" (9), then 5 of 8 inode bytes */
	expect_error(write_dump("map-inode.rdump", &b, o.map + 16 + 16 + 12 + 4 + 9 + 5), RDUMP_RE_TRUNC_MAP, "map inode past the end");
	expect_error(write_dump("map-attrs.rdump", &b, o.map + 16 + 16 + 12 + 2), RDUMP_RE_TRUNC_MAP, "map attributes past the end");
	expect_error(write_dump("map-name.rdump", &b, b.len - 2), RDUMP_RE_TRUNC_STRING, "map name string past the end");

	d.map_count = 0xffffffff;
	build(&b, &d, &o);
	expect_error(write_dump("map-huge.rdump", &b, SIZE_MAX), RDUMP_RE_TRUNC_MAP, "memory_map_count 0xffffffff");
	d.map_count = -1;

	d.maps = bad;
	bad[0] = base_maps[0];
	bad[0].begin = "7f00zz000000";
	build(&b, &d, &o);
	expect_error(write_dump("map-hex.rdump", &b, SIZE_MAX), RDUMP_RE_BAD_MAP, "map begin not hex");
	bad[0] = base_maps[0];
	bad[0].offset = "";
	build(&b, &d, &o);
	expect_error(write_dump("map-empty-hex.rdump", &b, SIZE_MAX), RDUMP_RE_BAD_MAP, "map offset empty");
	bad[0] = base_maps[0];
	bad[0].end = "0x7f0000003000";
	build(&b, &d, &o);
	expect_error(write_dump("map-0x.rdump", &b, SIZE_MAX), RDUMP_RE_BAD_MAP, "map end with 0x");
	bad[0] = base_maps[0];
	bad[0].end = "10000000000000000";
	build(&b, &d, &o);
	expect_error(write_dump("map-17digits.rdump", &b, SIZE_MAX), RDUMP_RE_BAD_MAP, "map end of 17 digits");
	bad[0] = base_maps[0];
	bad[0].end = "7effffffffff";
	build(&b, &d, &o);
	expect_error(write_dump("map-end-below.rdump", &b, SIZE_MAX), RDUMP_RE_BAD_MAP, "map end below begin");
	bad[0] = base_maps[0];
	bad[0].perms = "r?-p";
	build(&b, &d, &o);
	expect_error(write_dump("map-attr.rdump", &b, SIZE_MAX), RDUMP_RE_BAD_MAP, "map attribute byte 7");
	free(b.data);
}

static void test_region_errors(void)
{
	t_dump d = base_dump(3);
	tbuf b = {0};
	t_offsets o;
	t_region g[3];

	d.regions = g;

	/* Region 1 claims 4096 bytes; the file holds 100. */
	g[0] = base_regions[0];
	g[1] = (t_region){0x7f0000002000, 4096, 100};
	d.nregions = 2;
	build(&b, &d, &o);
	expect_error(write_dump("reg-bytes.rdump", &b, SIZE_MAX), RDUMP_RE_TRUNC_REGION, "region bytes past the end");
	build(&b, &d, &o);
	expect_error(write_dump("reg-hdr.rdump", &b, o.regions + 16 + 0x1000 + 12), RDUMP_RE_TRUNC_REGION, "region header past the end");

	/* A count that would allocate 64 GiB of index must fail on the file size. */
	d.nregions = 1;
	d.region_count = 0xffffffff;
	build(&b, &d, &o);
	expect_error(write_dump("reg-huge.rdump", &b, SIZE_MAX), RDUMP_RE_TRUNC_REGION, "region_count 0xffffffff");
	d.region_count = 2;
	build(&b, &d, &o);
	expect_error(write_dump("reg-count.rdump", &b, SIZE_MAX), RDUMP_RE_TRUNC_REGION, "region_count one too many");
	d.region_count = -1;

	g[0] = (t_region){0x7f0000002000, 0x100, -1};
	g[1] = (t_region){0x7f0000001000, 0x100, -1};
	d.nregions = 2;
	build(&b, &d, &o);
	expect_error(write_dump("reg-unsorted.rdump", &b, SIZE_MAX), RDUMP_RE_UNSORTED, "unsorted regions");

	g[0] = (t_region){0x7f0000001000, 0x200, -1};
	g[1] = (t_region){0x7f0000001100, 0x100, -1};
	build(&b, &d, &o);
	expect_error(write_dump("reg-overlap.rdump", &b, SIZE_MAX), RDUMP_RE_OVERLAP, "overlapping regions");

	g[0] = (t_region){0x7f0000001000, 0x200, -1};
	g[1] = (t_region){0x7f0000001000, 0x10, -1};
	build(&b, &d, &o);
	expect_error(write_dump("reg-same.rdump", &b, SIZE_MAX), RDUMP_RE_OVERLAP, "two regions at one address");

	g[0] = (t_region){0xfffffffffffff000, 0x2000, -1};
	d.nregions = 1;
	build(&b, &d, &o);
	expect_error(write_dump("reg-wrap.rdump", &b, SIZE_MAX), RDUMP_RE_REGION_WRAP, "address + size wraps");
	g[0] = (t_region){0xfffffffffffff000, 0x1000, -1};
	build(&b, &d, &o);
	expect_error(write_dump("reg-wrap-exact.rdump", &b, SIZE_MAX), RDUMP_RE_REGION_WRAP, "region ending at 2^64");

	g[0] = base_regions[0];
	d.trailing = 1;
	build(&b, &d, &o);
	expect_error(write_dump("reg-trailing.rdump", &b, SIZE_MAX), RDUMP_RE_TRAILING, "one trailing byte");
	d.nregions = 0;
	d.trailing = 40;
	build(&b, &d, &o);
	expect_error(write_dump("reg-trailing0.rdump", &b, SIZE_MAX), RDUMP_RE_TRAILING, "trailing bytes, no regions");
	free(b.data);
}

/* Read-only file-backed memory not in a region is re-read from the file. */
static void test_file_fallback(void)
{
	enum { LIB_SIZE = 3 * 4096 };
	static uint8_t lib[LIB_SIZE];
	char lib_path[PATH_MAX], ino[32], deleted_name[PATH_MAX + 16];
	t_dump d = dump_defaults(3);
	t_map maps[7];
	t_region g[1];
	tbuf b = {0};
	rdump_reader r;
	uint8_t buf[64];
	struct stat st;
	const char *path;
	size_t i;

	for (i = 0; i < LIB_SIZE; i++) {
		lib[i] = (uint8_t)(i * 13 + 5);
	}
	snprintf(lib_path, sizeof(lib_path), "%s/lib.so", tmpdir);
	write_bytes(lib_path, lib, LIB_SIZE);
	if (stat(lib_path, &st) != 0) {
		perror("stat");
		exit(2);
	}
	snprintf(ino, sizeof(ino), "%llu", (unsigned long long)st.st_ino);
	snprintf(deleted_name, sizeof(deleted_name), "%s (deleted)", lib_path);

	maps[0] = (t_map){"500000000000", "500000002000", "1000", "r--p", "fd:01", (uint64_t)st.st_ino, lib_path};
	maps[1] = (t_map){"500000010000", "500000011000", "0", "rw-p", "fd:01", (uint64_t)st.st_ino, lib_path};
	maps[2] = (t_map){"500000020000", "500000021000", "0", "r--p", "fd:01", (uint64_t)st.st_ino, deleted_name};
	maps[3] = (t_map){"500000030000", "500000031000", "0", "r--p", "00:00", 0, lib_path};
	maps[4] = (t_map){"500000040000", "500000041000", "0", "r--p", "fd:01", (uint64_t)st.st_ino, "/lib.so"};
	maps[5] = (t_map){"500000050000", "500000052000", "2000", "r--p", "fd:01", (uint64_t)st.st_ino, lib_path};
	maps[6] = (t_map){"500000060000", "500000061000", "0", "r--p", "00:00", 0, "[vvar]"};
	d.maps = maps;
	d.nmaps = 7;
	g[0] = (t_region){0x500000001000, 0x100, -1};
	d.regions = g;
	d.nregions = 1;
	build(&b, &d, NULL);
	path = write_dump("fallback.rdump", &b, SIZE_MAX);

	memset(&r, 0, sizeof(r));
	RDUMP_CHECK(rdump_reader_open(&r, path) == RDUMP_ROK, "fallback dump open: %s", r.message);
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000000010, buf, 32) == RDUMP_MEM_FILE, "r--p read: %s", r.message);
	RDUMP_CHECK(memcmp(buf, lib + 0x1010, 32) == 0, "r--p read: bytes come from file offset 0x1010");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000000f00, buf, 64) == RDUMP_MEM_FILE
		&& memcmp(buf, lib + 0x1f00, 64) == 0, "second read through the cached fd");
	/* A region wins over the file where both could answer. */
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000001000, buf, 16) == RDUMP_MEM_REGION
		&& bytes_match(buf, 0x500000001000, 16), "region inside a file mapping");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000001ff0, buf, 32) == RDUMP_MEM_MISSING, "read past the mapping's end");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000010000, buf, 16) == RDUMP_MEM_MISSING, "writable mapping has no fall-back");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000020000, buf, 16) == RDUMP_MEM_MISSING, "(deleted) mapping has no fall-back");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000030000, buf, 16) == RDUMP_MEM_MISSING, "inode 0 has no fall-back");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000060000, buf, 16) == RDUMP_MEM_MISSING, "[vvar] has no fall-back");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000040000, buf, 16) == RDUMP_MEM_MISSING, "/lib.so without dependency root");
	/* Offset 0x2000 + 0x1000 is past the 12 KiB file: the file is shorter than the mapping. */
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000050800, buf, 16) == RDUMP_MEM_FILE
		&& memcmp(buf, lib + 0x2800, 16) == 0, "mapping at file offset 0x2000");
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000051000, buf, 16) == RDUMP_MEM_MISSING, "mapping beyond the file's end");

	r.dependency_root = tmpdir;
	RDUMP_CHECK(rdump_reader_read(&r, 0x500000040100, buf, 16) == RDUMP_MEM_FILE
		&& memcmp(buf, lib + 0x100, 16) == 0, "/lib.so under dependency root: %s", r.message);
	rdump_reader_close(&r);

	/* dependency_root set before open survives it; a trailing slash is fine. */
	{
		char root[PATH_MAX + 1];
		snprintf(root, sizeof(root), "%s/", tmpdir);
		memset(&r, 0, sizeof(r));
		r.dependency_root = root;
		RDUMP_CHECK(rdump_reader_open(&r, path) == RDUMP_ROK, "reopen: %s", r.message);
		RDUMP_CHECK(r.dependency_root == root, "open keeps dependency_root");
		RDUMP_CHECK(rdump_reader_read(&r, 0x500000040200, buf, 16) == RDUMP_MEM_FILE
			&& memcmp(buf, lib + 0x200, 16) == 0, "dependency root with trailing slash: %s", r.message);
		rdump_reader_close(&r);
	}
	free(b.data);
}

static void test_close_unopened(void)
{
	rdump_reader r;

	memset(&r, 0, sizeof(r));
	rdump_reader_close(&r);
	rdump_reader_close(&r);
	RDUMP_CHECK(r.priv == NULL, "close of a zeroed reader");
	RDUMP_CHECK(strcmp(rdump_read_error_name(RDUMP_RE_OVERLAP), "RDUMP_RE_OVERLAP") == 0, "error names");
}

static void remove_tmpdir(void)
{
	char cmd[PATH_MAX + 16];
	int rc;

	if (strncmp(tmpdir, "/", 1) != 0 || strstr(tmpdir, "rdump-test-") == NULL) {
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	rc = system(cmd);
	if (rc != 0) {
		fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/rdump-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_valid_v3();
	test_old_versions();
	test_empty_dump();
	test_header_errors();
	test_module_errors();
	test_map_errors();
	test_region_errors();
	test_file_fallback();
	test_close_unopened();
	if (!getenv("RDUMP_TEST_KEEP")) {
		remove_tmpdir();
	}
	return rdump_test_summary();
}
