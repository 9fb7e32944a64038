/*
 * RDUMP reader: validates a dump file strictly and indexes its regions
 * without loading them, then serves reads of target memory from the regions
 * or, as reli does, from the on-disk files of read-only file-backed mappings.
 * Dumps come from crashed or hostile processes and from truncated copies, so
 * every size in the file is distrusted until checked against the file size.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1 /* O_TMPFILE, mkostemp */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"
#include "gunzip.h"

#define RDUMP_READER_BUF        (64 * 1024)
#define RDUMP_READER_ARENA      (64 * 1024)
#define RDUMP_READER_FD_CACHE   8

/* Smallest possible encodings, used to bound counts before allocating. */
#define RDUMP_MIN_MODULE_SIZE   (4 + 8)
#define RDUMP_MIN_MAP_SIZE      (4 + 4 + 4 + 4 + 4 + 8 + 4)
#define RDUMP_REGION_HEADER     (8 + 8)

#define RDUMP_GZIP_MAGIC0       0x1f
#define RDUMP_GZIP_MAGIC1       0x8b

/* Strings live in blocks that never move, so rdump_str slices stay valid. */
typedef struct rdump_arena_block {
	struct rdump_arena_block *next;
	size_t used;
	size_t cap;
	char data[];
} rdump_arena_block;

typedef struct rdump_cached_file {
	char *path;   /* NULL = slot free */
	int fd;       /* -1 = open failed; remembered so misses stay cheap */
	int err;
} rdump_cached_file;

typedef struct rdump_reader_priv {
	char *path;
	rdump_arena_block *arena;
	rdump_cached_file files[RDUMP_READER_FD_CACHE];
	unsigned files_next;
} rdump_reader_priv;

/* Sequential parse state over the file, buffered so small fields are cheap. */
typedef struct rdump_parse {
	rdump_reader *r;
	rdump_reader_priv *pv;
	const char *path;
	uint64_t pos;
	uint8_t *buf;
	uint64_t buf_off;
	size_t buf_len;
} rdump_parse;

const char *rdump_read_error_name(rdump_read_error e)
{
	switch (e) {
		case RDUMP_ROK:              return "RDUMP_ROK";
		case RDUMP_RE_IO:            return "RDUMP_RE_IO";
		case RDUMP_RE_NOMEM:         return "RDUMP_RE_NOMEM";
		case RDUMP_RE_MAGIC:         return "RDUMP_RE_MAGIC";
		case RDUMP_RE_VERSION:       return "RDUMP_RE_VERSION";
		case RDUMP_RE_TRUNC_HEADER:  return "RDUMP_RE_TRUNC_HEADER";
		case RDUMP_RE_TRUNC_STRING:  return "RDUMP_RE_TRUNC_STRING";
		case RDUMP_RE_TRUNC_MODULE:  return "RDUMP_RE_TRUNC_MODULE";
		case RDUMP_RE_TRUNC_MAP:     return "RDUMP_RE_TRUNC_MAP";
		case RDUMP_RE_BAD_MAP:       return "RDUMP_RE_BAD_MAP";
		case RDUMP_RE_TRUNC_REGION:  return "RDUMP_RE_TRUNC_REGION";
		case RDUMP_RE_REGION_WRAP:   return "RDUMP_RE_REGION_WRAP";
		case RDUMP_RE_UNSORTED:      return "RDUMP_RE_UNSORTED";
		case RDUMP_RE_OVERLAP:       return "RDUMP_RE_OVERLAP";
		case RDUMP_RE_TRAILING:      return "RDUMP_RE_TRAILING";
		case RDUMP_RE_GZIP:          return "RDUMP_RE_GZIP";
	}
	return "RDUMP_RE_UNKNOWN";
}

static void reader_vset_message(rdump_reader *r, const char *path, const char *fmt, va_list ap)
{
	int n = snprintf(r->message, sizeof(r->message), "%s: ", path ? path : "(dump)");

	if (n < 0 || (size_t)n >= sizeof(r->message)) {
		return;
	}
	vsnprintf(r->message + n, sizeof(r->message) - (size_t)n, fmt, ap);
}

__attribute__((format(printf, 4, 5)))
static rdump_read_error reader_fail(rdump_reader *r, const char *path, rdump_read_error e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reader_vset_message(r, path, fmt, ap);
	va_end(ap);
	r->error = e;
	return e;
}

__attribute__((format(printf, 3, 4)))
static void reader_note(rdump_reader *r, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reader_vset_message(r, path, fmt, ap);
	va_end(ap);
}

/* Quotes untrusted bytes for a message: bounded, control bytes replaced. */
static const char *reader_show(const rdump_str *s, char *out, size_t out_size)
{
	size_t max = out_size - 4, i, n = s->len < max ? s->len : max;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s->ptr[i];
		out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (n < s->len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* pread until n bytes or end of file; *got says how many arrived. */
static int reader_pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (k < 0) {
			if (errno == EINTR) {
				continue;
			}
			*got = done;
			return -1;
		}
		if (k == 0) {
			break;
		}
		done += (size_t)k;
	}
	*got = done;
	return 0;
}

static char *reader_arena_alloc(rdump_reader_priv *pv, size_t n)
{
	rdump_arena_block *b = pv->arena;
	char *p;

	if (!b || b->cap - b->used < n) {
		size_t cap = n > RDUMP_READER_ARENA ? n : RDUMP_READER_ARENA;
		b = malloc(sizeof(*b) + cap);
		if (!b) {
			return NULL;
		}
		b->used = 0;
		b->cap = cap;
		b->next = pv->arena;
		pv->arena = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static void reader_free_priv(rdump_reader_priv *pv)
{
	rdump_arena_block *b, *next;
	unsigned i;

	if (!pv) {
		return;
	}
	for (b = pv->arena; b; b = next) {
		next = b->next;
		free(b);
	}
	for (i = 0; i < RDUMP_READER_FD_CACHE; i++) {
		if (pv->files[i].path && pv->files[i].fd >= 0) {
			/* Read-only descriptor: a failing close loses nothing. */
			(void)close(pv->files[i].fd);
		}
		free(pv->files[i].path);
	}
	free(pv->path);
	free(pv);
}

static inline uint64_t parse_left(const rdump_parse *p)
{
	return p->r->file_size - p->pos;
}

__attribute__((format(printf, 4, 5)))
static rdump_read_error parse_trunc(rdump_parse *p, rdump_read_error e, uint64_t need, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return reader_fail(p->r, p->path, e,
		"%s at file offset %" PRIu64 " runs past the end of the file (needs %" PRIu64 " bytes, file has %" PRIu64 " left)",
		what, p->pos, need, parse_left(p));
}

/* Copies n bytes at the cursor; the caller has checked n <= parse_left(). */
static rdump_read_error parse_take(rdump_parse *p, void *dst, size_t n)
{
	size_t got;

	if (p->pos >= p->buf_off && p->pos + n <= p->buf_off + p->buf_len) {
		memcpy(dst, p->buf + (p->pos - p->buf_off), n);
		p->pos += n;
		return RDUMP_ROK;
	}
	if (n >= RDUMP_READER_BUF) {
		if (reader_pread_full(p->r->fd, dst, n, p->pos, &got) != 0) {
			return reader_fail(p->r, p->path, RDUMP_RE_IO, "read at file offset %" PRIu64 " failed: %s", p->pos, strerror(errno));
		}
	} else {
		uint64_t want = parse_left(p) < RDUMP_READER_BUF ? parse_left(p) : RDUMP_READER_BUF;
		if (reader_pread_full(p->r->fd, p->buf, (size_t)want, p->pos, &got) != 0) {
			p->buf_len = 0;
			return reader_fail(p->r, p->path, RDUMP_RE_IO, "read at file offset %" PRIu64 " failed: %s", p->pos, strerror(errno));
		}
		p->buf_off = p->pos;
		p->buf_len = got;
		if (got >= n) {
			memcpy(dst, p->buf, n);
		}
	}
	if (got < n) {
		return reader_fail(p->r, p->path, RDUMP_RE_IO,
			"file shrank while being read (ends before file offset %" PRIu64 ")", p->pos + n);
	}
	p->pos += n;
	return RDUMP_ROK;
}

/*
 * Names a field for messages: "<what> <index> <field>", e.g. "region 3 size";
 * index RDUMP_NO_INDEX leaves the number out ("header field pid").
 */
#define RDUMP_NO_INDEX UINT32_MAX

typedef struct rdump_label {
	const char *what;
	uint32_t index;
	const char *field;
} rdump_label;

static const char *label_str(const rdump_label *l, char *out, size_t out_size)
{
	if (l->index == RDUMP_NO_INDEX) {
		snprintf(out, out_size, "%s %s", l->what, l->field);
	} else {
		snprintf(out, out_size, "%s %" PRIu32 " %s", l->what, l->index, l->field);
	}
	return out;
}

/* Fixed-size fields: a short file is reported as error e, naming the field. */
static rdump_read_error parse_fixed(rdump_parse *p, void *v, size_t n, rdump_read_error e, rdump_label l)
{
	char label[160];

	if (parse_left(p) < n) {
		return parse_trunc(p, e, n, "%s", label_str(&l, label, sizeof(label)));
	}
	return parse_take(p, v, n);
}

static rdump_read_error parse_u32(rdump_parse *p, uint32_t *v, rdump_read_error e, const char *what, uint32_t index, const char *field)
{
	return parse_fixed(p, v, 4, e, (rdump_label){what, index, field});
}

static rdump_read_error parse_u64(rdump_parse *p, uint64_t *v, rdump_read_error e, const char *what, uint32_t index, const char *field)
{
	return parse_fixed(p, v, 8, e, (rdump_label){what, index, field});
}

/*
 * A str: a short length prefix is error e (its container is cut off); a body
 * longer than the rest of the file is RDUMP_RE_TRUNC_STRING.
 */
static rdump_read_error parse_str(rdump_parse *p, rdump_str *s, rdump_read_error e, const char *what, uint32_t index, const char *field)
{
	rdump_label l = {what, index, field};
	rdump_read_error err;
	char label[160];
	uint32_t len;
	char *dst;

	if (parse_left(p) < 4) {
		return parse_trunc(p, e, 4, "length of %s", label_str(&l, label, sizeof(label)));
	}
	if ((err = parse_take(p, &len, 4)) != RDUMP_ROK) {
		return err;
	}
	if (len > parse_left(p)) {
		p->pos -= 4;   /* report the string where it starts, at its length */
		return parse_trunc(p, RDUMP_RE_TRUNC_STRING, (uint64_t)len + 4, "%s (a string of %" PRIu32 " bytes)",
			label_str(&l, label, sizeof(label)), len);
	}
	dst = reader_arena_alloc(p->pv, (size_t)len + 1);
	if (!dst) {
		return reader_fail(p->r, p->path, RDUMP_RE_NOMEM, "out of memory for a string of %" PRIu32 " bytes", len);
	}
	if (len && (err = parse_take(p, dst, len)) != RDUMP_ROK) {
		return err;
	}
	dst[len] = '\0';
	s->ptr = dst;
	s->len = len;
	return RDUMP_ROK;
}

/* Bare hex as /proc/<pid>/maps prints it: 1..16 digits, no prefix. */
static int reader_parse_hex(const rdump_str *s, uint64_t *out)
{
	uint64_t v = 0;
	uint32_t i;

	if (s->len == 0 || s->len > 16) {
		return -1;
	}
	for (i = 0; i < s->len; i++) {
		char c = s->ptr[i];
		unsigned d;
		if (c >= '0' && c <= '9') {
			d = (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (unsigned)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			d = (unsigned)(c - 'A' + 10);
		} else {
			return -1;
		}
		v = (v << 4) | d;
	}
	*out = v;
	return 0;
}

static rdump_read_error parse_header(rdump_parse *p)
{
	rdump_reader *r = p->r;
	rdump_read_error err;
	uint8_t magic[RDUMP_MAGIC_LEN];
	size_t have = r->file_size < RDUMP_MAGIC_LEN ? (size_t)r->file_size : RDUMP_MAGIC_LEN;

	if (have == 0) {
		return reader_fail(r, p->path, RDUMP_RE_TRUNC_HEADER, "file is empty (an RDUMP file starts with the magic \"RDUMP\\0\\0\\0\")");
	}
	if ((err = parse_take(p, magic, have)) != RDUMP_ROK) {
		return err;
	}
	/* rdump_reader_open has inflated a compressed dump already: gzip again here is gzip twice. */
	if (have >= 2 && magic[0] == RDUMP_GZIP_MAGIC0 && magic[1] == RDUMP_GZIP_MAGIC1) {
		return reader_fail(r, p->path, RDUMP_RE_GZIP,
			"the inflated dump starts with gzip magic 1f 8b again: it was compressed twice");
	}
	if (memcmp(magic, RDUMP_MAGIC, have) != 0) {
		return reader_fail(r, p->path, RDUMP_RE_MAGIC,
			"not an RDUMP file: wrong magic at file offset 0 (found %02x %02x %02x %02x ..., expected \"RDUMP\\0\\0\\0\")",
			magic[0], have > 1 ? magic[1] : 0, have > 2 ? magic[2] : 0, have > 3 ? magic[3] : 0);
	}
	if (have < RDUMP_MAGIC_LEN) {
		p->pos = 0;
		return parse_trunc(p, RDUMP_RE_TRUNC_HEADER, RDUMP_MAGIC_LEN, "magic");
	}

	if ((err = parse_u32(p, &r->format_version, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "format_version")) != RDUMP_ROK) {
		return err;
	}
	if (r->format_version < RDUMP_FORMAT_MIN_READ || r->format_version > RDUMP_FORMAT_MAX_READ) {
		return reader_fail(r, p->path, RDUMP_RE_VERSION,
			"unsupported format version %" PRIu32 " at file offset %d (this reader accepts %d..%d)",
			r->format_version, RDUMP_MAGIC_LEN, RDUMP_FORMAT_MIN_READ, RDUMP_FORMAT_MAX_READ);
	}
	if ((err = parse_str(p, &r->php_version, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "php_version")) != RDUMP_ROK
		|| (err = parse_u64(p, &r->pid, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "pid")) != RDUMP_ROK
		|| (err = parse_u64(p, &r->eg_address, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "eg_address")) != RDUMP_ROK
		|| (err = parse_u64(p, &r->cg_address, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "cg_address")) != RDUMP_ROK) {
		return err;
	}
	r->rss_bytes = -1;
	if (r->format_version >= 2) {
		uint64_t rss;
		if ((err = parse_u64(p, &rss, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "rss_bytes")) != RDUMP_ROK) {
			return err;
		}
		r->rss_bytes = (int64_t)rss;
	}
	return RDUMP_ROK;
}

static rdump_read_error parse_module_globals(rdump_parse *p)
{
	rdump_reader *r = p->r;
	rdump_read_error err;
	uint64_t count_at = p->pos;
	uint32_t i;

	if (r->format_version < 3) {
		return RDUMP_ROK;
	}
	if ((err = parse_u32(p, &r->module_globals_count, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "module_globals_count")) != RDUMP_ROK) {
		return err;
	}
	if ((uint64_t)r->module_globals_count * RDUMP_MIN_MODULE_SIZE > parse_left(p)) {
		return reader_fail(r, p->path, RDUMP_RE_TRUNC_MODULE,
			"module_globals_count %" PRIu32 " (at file offset %" PRIu64 ") needs at least %" PRIu64
			" bytes of entries at file offset %" PRIu64 ", but the file has %" PRIu64 " left",
			r->module_globals_count, count_at, (uint64_t)r->module_globals_count * RDUMP_MIN_MODULE_SIZE,
			p->pos, parse_left(p));
	}
	if (r->module_globals_count == 0) {
		return RDUMP_ROK;
	}
	r->module_globals = calloc(r->module_globals_count, sizeof(*r->module_globals));
	if (!r->module_globals) {
		return reader_fail(r, p->path, RDUMP_RE_NOMEM, "out of memory for %" PRIu32 " module globals", r->module_globals_count);
	}
	for (i = 0; i < r->module_globals_count; i++) {
		rdump_module_global *m = &r->module_globals[i];
		if ((err = parse_str(p, &m->name, RDUMP_RE_TRUNC_MODULE, "module globals entry", i, "name")) != RDUMP_ROK
			|| (err = parse_u64(p, &m->address, RDUMP_RE_TRUNC_MODULE, "module globals entry", i, "address")) != RDUMP_ROK) {
			return err;
		}
	}
	return RDUMP_ROK;
}

static rdump_read_error check_map_entry(rdump_parse *p, rdump_map_entry *m, uint32_t i, uint64_t at)
{
	static const char *const attr_names[4] = {"read", "write", "execute", "private"};
	const uint8_t attrs[4] = {m->r, m->w, m->x, m->p};
	const struct { const rdump_str *s; uint64_t *v; const char *name; } hex[3] = {
		{&m->begin_s, &m->begin, "begin"},
		{&m->end_s, &m->end, "end"},
		{&m->offset_s, &m->offset, "offset"},
	};
	char shown[48];
	int k;

	for (k = 0; k < 3; k++) {
		if (reader_parse_hex(hex[k].s, hex[k].v) != 0) {
			return reader_fail(p->r, p->path, RDUMP_RE_BAD_MAP,
				"memory-map entry %" PRIu32 " at file offset %" PRIu64 ": %s \"%s\" is not 1 to 16 hex digits",
				i, at, hex[k].name, reader_show(hex[k].s, shown, sizeof(shown)));
		}
	}
	if (m->end < m->begin) {
		return reader_fail(p->r, p->path, RDUMP_RE_BAD_MAP,
			"memory-map entry %" PRIu32 " at file offset %" PRIu64 ": end %" PRIx64 " is below begin %" PRIx64,
			i, at, m->end, m->begin);
	}
	for (k = 0; k < 4; k++) {
		if (attrs[k] > 1) {
			return reader_fail(p->r, p->path, RDUMP_RE_BAD_MAP,
				"memory-map entry %" PRIu32 " at file offset %" PRIu64 ": %s attribute byte is %u, expected 0 or 1",
				i, at, attr_names[k], attrs[k]);
		}
	}
	return RDUMP_ROK;
}

static rdump_read_error parse_map(rdump_parse *p)
{
	rdump_reader *r = p->r;
	rdump_read_error err;
	uint32_t i;

	if ((uint64_t)r->map_count * RDUMP_MIN_MAP_SIZE > parse_left(p)) {
		return reader_fail(r, p->path, RDUMP_RE_TRUNC_MAP,
			"memory_map_count %" PRIu32 " needs at least %" PRIu64 " bytes of entries at file offset %" PRIu64
			", but the file has %" PRIu64 " left",
			r->map_count, (uint64_t)r->map_count * RDUMP_MIN_MAP_SIZE, p->pos, parse_left(p));
	}
	if (r->map_count == 0) {
		return RDUMP_ROK;
	}
	r->map = calloc(r->map_count, sizeof(*r->map));
	if (!r->map) {
		return reader_fail(r, p->path, RDUMP_RE_NOMEM, "out of memory for %" PRIu32 " memory-map entries", r->map_count);
	}
	for (i = 0; i < r->map_count; i++) {
		rdump_map_entry *m = &r->map[i];
		uint64_t at = p->pos;
		uint8_t attrs[4];

		if ((err = parse_str(p, &m->begin_s, RDUMP_RE_TRUNC_MAP, "memory-map entry", i, "begin")) != RDUMP_ROK
			|| (err = parse_str(p, &m->end_s, RDUMP_RE_TRUNC_MAP, "memory-map entry", i, "end")) != RDUMP_ROK
			|| (err = parse_str(p, &m->offset_s, RDUMP_RE_TRUNC_MAP, "memory-map entry", i, "offset")) != RDUMP_ROK) {
			return err;
		}
		if ((err = parse_fixed(p, attrs, 4, RDUMP_RE_TRUNC_MAP, (rdump_label){"memory-map entry", i, "attributes"})) != RDUMP_ROK) {
			return err;
		}
		m->r = attrs[0];
		m->w = attrs[1];
		m->x = attrs[2];
		m->p = attrs[3];
		if ((err = parse_str(p, &m->dev_s, RDUMP_RE_TRUNC_MAP, "memory-map entry", i, "device")) != RDUMP_ROK
			|| (err = parse_u64(p, &m->inode, RDUMP_RE_TRUNC_MAP, "memory-map entry", i, "inode")) != RDUMP_ROK
			|| (err = parse_str(p, &m->name_s, RDUMP_RE_TRUNC_MAP, "memory-map entry", i, "name")) != RDUMP_ROK
			|| (err = check_map_entry(p, m, i, at)) != RDUMP_ROK) {
			return err;
		}
	}
	r->map_sorted = 1;
	for (i = 1; i < r->map_count; i++) {
		if (r->map[i].begin < r->map[i - 1].end) {
			r->map_sorted = 0;
			break;
		}
	}
	return RDUMP_ROK;
}

static rdump_read_error parse_regions(rdump_parse *p)
{
	rdump_reader *r = p->r;
	rdump_read_error err;
	uint32_t i;

	if ((uint64_t)r->region_count * RDUMP_REGION_HEADER > parse_left(p)) {
		return reader_fail(r, p->path, RDUMP_RE_TRUNC_REGION,
			"region_count %" PRIu32 " needs at least %" PRIu64 " bytes of region headers at file offset %" PRIu64
			", but the file has %" PRIu64 " left",
			r->region_count, (uint64_t)r->region_count * RDUMP_REGION_HEADER, p->pos, parse_left(p));
	}
	if (r->region_count > 0) {
		r->regions = calloc(r->region_count, sizeof(*r->regions));
		if (!r->regions) {
			return reader_fail(r, p->path, RDUMP_RE_NOMEM, "out of memory for %" PRIu32 " regions", r->region_count);
		}
	}
	for (i = 0; i < r->region_count; i++) {
		rdump_region_info *g = &r->regions[i];
		uint64_t at = p->pos;

		if ((err = parse_u64(p, &g->address, RDUMP_RE_TRUNC_REGION, "region", i, "address")) != RDUMP_ROK
			|| (err = parse_u64(p, &g->size, RDUMP_RE_TRUNC_REGION, "region", i, "size")) != RDUMP_ROK) {
			return err;
		}
		g->file_offset = p->pos;
		/* An end of exactly 2^64 is rejected too: it is not representable. */
		if (g->size > UINT64_MAX - g->address) {
			return reader_fail(r, p->path, RDUMP_RE_REGION_WRAP,
				"region %" PRIu32 " at file offset %" PRIu64 ": address 0x%" PRIx64 " + size %" PRIu64 " overflows 64 bits",
				i, at, g->address, g->size);
		}
		if (g->size > parse_left(p)) {
			return reader_fail(r, p->path, RDUMP_RE_TRUNC_REGION,
				"region %" PRIu32 " (address 0x%" PRIx64 ") at file offset %" PRIu64
				" runs past the end of the file (size %" PRIu64 " bytes, file has %" PRIu64 " left)",
				i, g->address, at, g->size, parse_left(p));
		}
		if (i > 0) {
			const rdump_region_info *prev = &r->regions[i - 1];
			uint64_t prev_end = prev->address + prev->size;
			if (g->address < prev->address) {
				return reader_fail(r, p->path, RDUMP_RE_UNSORTED,
					"region %" PRIu32 " at file offset %" PRIu64 " starts at 0x%" PRIx64
					", below region %" PRIu32 " at 0x%" PRIx64 " (regions must be in ascending address order)",
					i, at, g->address, i - 1, prev->address);
			}
			if (g->address < prev_end) {
				return reader_fail(r, p->path, RDUMP_RE_OVERLAP,
					"region %" PRIu32 " at file offset %" PRIu64 " starts at 0x%" PRIx64
					", inside region %" PRIu32 " (0x%" PRIx64 "-0x%" PRIx64 ")",
					i, at, g->address, i - 1, prev->address, prev_end);
			}
			if (g->address == prev_end) {
				r->touching_regions++;
			}
		}
		p->pos += g->size;
	}
	if (p->pos != r->file_size) {
		uint64_t extra = r->file_size - p->pos;
		return reader_fail(r, p->path, RDUMP_RE_TRAILING,
			"%" PRIu64 " trailing byte%s at file offset %" PRIu64 " after the last of %" PRIu32 " regions (region_count too small?)",
			extra, extra == 1 ? "" : "s", p->pos, r->region_count);
	}
	return RDUMP_ROK;
}

/* Releases everything but the caller's dependency_root and the error report. */
static void reader_release(rdump_reader *r)
{
	if (r->priv) {
		if (r->fd >= 0) {
			/* Read-only descriptor: a failing close loses nothing. */
			(void)close(r->fd);
		}
		reader_free_priv(r->priv);
	}
	free(r->module_globals);
	free(r->map);
	free(r->regions);
	r->priv = NULL;
	r->fd = -1;
	r->module_globals = NULL;
	r->module_globals_count = 0;
	r->map = NULL;
	r->map_count = 0;
	r->regions = NULL;
	r->region_count = 0;
	r->php_version.ptr = NULL;
	r->php_version.len = 0;
}

/* An unlinked file in $TMPDIR (or /tmp): it disappears with its descriptor, even on a crash. */
static int reader_temp_fd(const char *dir, int *err)
{
	char tmpl[4096];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		return fd;
	}
	/* Kernels or file systems without O_TMPFILE: a named file, unlinked at once. */
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		*err = errno;
		return -1;
	}
	if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/.rdump-inflate-XXXXXX", dir) >= sizeof(tmpl)) {
		*err = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (unlink(tmpl) != 0) {
		*err = errno;
		(void)close(fd);
		(void)unlink(tmpl);
		return -1;
	}
	return fd;
}

/*
 * A compressed dump (gzip magic at offset 0) is inflated into an unlinked
 * temporary file, which then stands in for the dump: the parser and every
 * read after it work on it as on an uncompressed file.
 */
static rdump_read_error reader_inflate(rdump_reader *r, const char *path, const struct stat *st)
{
	const char *dir = getenv("TMPDIR");
	unsigned char magic[2];
	rdump_gunzip_result res;
	rdump_gunzip_status gs;
	size_t got;
	int fd, err = 0;

	if (reader_pread_full(r->fd, magic, sizeof(magic), 0, &got) != 0) {
		return reader_fail(r, path, RDUMP_RE_IO, "cannot read: %s", strerror(errno));
	}
	if (!rdump_gunzip_magic(magic, got)) {
		return RDUMP_ROK;
	}
	if (dir == NULL || dir[0] == '\0') {
		dir = "/tmp";
	}
	fd = reader_temp_fd(dir, &err);
	if (fd < 0) {
		return reader_fail(r, path, RDUMP_RE_IO,
			"is compressed, and no temporary file to inflate it into can be created in %s: %s (set TMPDIR)",
			dir, strerror(err));
	}
	if (lseek(r->fd, 0, SEEK_SET) != 0) {
		err = errno;
		(void)close(fd);
		return reader_fail(r, path, RDUMP_RE_IO, "cannot seek: %s", strerror(err));
	}
	gs = rdump_gunzip_fd(r->fd, fd, &res);
	if (gs != RDUMP_GUNZIP_OK) {
		(void)close(fd);
		switch (gs) {
			case RDUMP_GUNZIP_NOMEM:
				return reader_fail(r, path, RDUMP_RE_NOMEM, "compressed dump: %s", res.message);
			case RDUMP_GUNZIP_READ:
				return reader_fail(r, path, RDUMP_RE_IO, "compressed dump: %s", res.message);
			case RDUMP_GUNZIP_WRITE:
				return reader_fail(r, path, RDUMP_RE_IO,
					"compressed dump: inflating into a temporary file in %s failed: %s (set TMPDIR to a directory with room for the uncompressed dump)",
					dir, res.message);
			default:
				return reader_fail(r, path, RDUMP_RE_GZIP, "compressed dump does not inflate: %s", res.message);
		}
	}
	/* Read-only descriptor: a failing close loses nothing. */
	(void)close(r->fd);
	r->fd = fd;
	r->gzip_bytes = (uint64_t)st->st_size;
	r->file_size = res.out_bytes;
	return RDUMP_ROK;
}

rdump_read_error rdump_reader_open(rdump_reader *r, const char *path)
{
	const char *dependency_root = r->dependency_root;
	rdump_reader_priv *pv;
	rdump_parse p;
	rdump_read_error err;
	struct stat st;
	unsigned i;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->dependency_root = dependency_root;
	r->rss_bytes = -1;

	pv = calloc(1, sizeof(*pv));
	if (!pv || !(pv->path = strdup(path))) {
		free(pv);
		return reader_fail(r, path, RDUMP_RE_NOMEM, "out of memory");
	}
	for (i = 0; i < RDUMP_READER_FD_CACHE; i++) {
		pv->files[i].fd = -1;
	}
	r->priv = pv;

	/* O_NONBLOCK: a FIFO given as the dump is refused below instead of waiting for a writer. */
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (r->fd < 0) {
		err = reader_fail(r, path, RDUMP_RE_IO, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (fstat(r->fd, &st) != 0) {
		err = reader_fail(r, path, RDUMP_RE_IO, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = reader_fail(r, path, RDUMP_RE_IO, "not a regular file (the reader seeks in the dump; save it to a file first)");
		goto fail;
	}
	r->file_size = (uint64_t)st.st_size;
	r->disk_bytes = (uint64_t)st.st_blocks * 512;
	if ((err = reader_inflate(r, path, &st)) != RDUMP_ROK) {
		goto fail;
	}

	memset(&p, 0, sizeof(p));
	p.r = r;
	p.pv = pv;
	p.path = pv->path;
	p.buf = malloc(RDUMP_READER_BUF);
	if (!p.buf) {
		err = reader_fail(r, path, RDUMP_RE_NOMEM, "out of memory");
		goto fail;
	}
	if ((err = parse_header(&p)) == RDUMP_ROK
		&& (err = parse_module_globals(&p)) == RDUMP_ROK
		&& (err = parse_u32(&p, &r->map_count, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "memory_map_count")) == RDUMP_ROK
		&& (err = parse_u32(&p, &r->region_count, RDUMP_RE_TRUNC_HEADER, "header field", RDUMP_NO_INDEX, "region_count")) == RDUMP_ROK
		&& (err = parse_map(&p)) == RDUMP_ROK) {
		err = parse_regions(&p);
	}
	free(p.buf);
	if (err != RDUMP_ROK) {
		goto fail;
	}
	r->error = RDUMP_ROK;
	r->message[0] = '\0';
	return RDUMP_ROK;

fail:
	/* Counts may describe arrays that were never allocated: drop them all. */
	reader_release(r);
	r->file_size = 0;
	r->disk_bytes = 0;
	r->gzip_bytes = 0;
	r->touching_regions = 0;
	r->error = err;
	return err;
}

void rdump_reader_close(rdump_reader *r)
{
	if (!r) {
		return;
	}
	reader_release(r);
}

const rdump_region_info *rdump_reader_find(const rdump_reader *r, uint64_t addr, uint64_t n)
{
	uint32_t lo = 0, hi = r->region_count;
	const rdump_region_info *g;
	uint64_t off;

	/* Last region starting at or below addr: regions are sorted and disjoint. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (r->regions[mid].address <= addr) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == 0) {
		return NULL;
	}
	g = &r->regions[lo - 1];
	off = addr - g->address;
	if (n == 0) {
		return off < g->size ? g : NULL;
	}
	return (off < g->size && n <= g->size - off) ? g : NULL;
}

const rdump_map_entry *rdump_reader_map_at(const rdump_reader *r, uint64_t addr)
{
	uint32_t i;

	if (r->map_sorted) {
		uint32_t lo = 0, hi = r->map_count;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (r->map[mid].begin <= addr) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
		if (lo > 0 && addr < r->map[lo - 1].end) {
			return &r->map[lo - 1];
		}
		return NULL;
	}
	for (i = 0; i < r->map_count; i++) {
		if (addr >= r->map[i].begin && addr < r->map[i].end) {
			return &r->map[i];
		}
	}
	return NULL;
}

/* reli's rule: only read-only mappings of a named, still existing file. */
static int reader_map_has_file(const rdump_map_entry *m)
{
	static const char deleted[] = " (deleted)";
	const size_t dl = sizeof(deleted) - 1;

	if (m->w || m->inode == 0 || m->name_s.len == 0 || m->name_s.ptr[0] != '/') {
		return 0;
	}
	if (m->name_s.len >= dl && memcmp(m->name_s.ptr + m->name_s.len - dl, deleted, dl) == 0) {
		return 0;
	}
	return 1;
}

/*
 * The dump names the file: only a regular file is opened, never a FIFO (open
 * would block forever), a device (opening some has side effects) or a directory.
 */
static int reader_open_regular(const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) != 0) {
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	/* O_NONBLOCK: if it was swapped for a FIFO since the stat, open must not wait. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* The descriptor of a dependency file, opened once and kept; -1 if unusable. */
static int reader_dependency_fd(rdump_reader *r, const rdump_map_entry *m, const char **path_out)
{
	rdump_reader_priv *pv = r->priv;
	const char *root = r->dependency_root;
	size_t root_len = root ? strlen(root) : 0;
	rdump_cached_file *slot;
	char *path;
	unsigned i;

	/* "/" and "/srv/root/" both mean the same as their slash-less form. */
	while (root_len > 0 && root[root_len - 1] == '/') {
		root_len--;
	}
	path = malloc(root_len + m->name_s.len + 1);
	if (!path) {
		*path_out = "(out of memory)";
		return -1;
	}
	if (root_len) {
		memcpy(path, root, root_len);
	}
	memcpy(path + root_len, m->name_s.ptr, m->name_s.len);
	path[root_len + m->name_s.len] = '\0';

	for (i = 0; i < RDUMP_READER_FD_CACHE; i++) {
		if (pv->files[i].path && strcmp(pv->files[i].path, path) == 0) {
			free(path);
			*path_out = pv->files[i].path;
			errno = pv->files[i].err;
			return pv->files[i].fd;
		}
	}
	slot = &pv->files[pv->files_next];
	pv->files_next = (pv->files_next + 1) % RDUMP_READER_FD_CACHE;
	if (slot->path) {
		if (slot->fd >= 0) {
			/* Read-only descriptor: a failing close loses nothing. */
			(void)close(slot->fd);
		}
		free(slot->path);
	}
	slot->path = path;
	slot->fd = reader_open_regular(path);
	slot->err = slot->fd < 0 ? errno : 0;
	*path_out = path;
	errno = slot->err;
	return slot->fd;
}

rdump_mem_source rdump_reader_read(rdump_reader *r, uint64_t addr, void *buf, size_t n)
{
	rdump_reader_priv *pv = r->priv;
	const char *dump_path = pv ? pv->path : NULL;
	const rdump_region_info *g;
	const rdump_map_entry *m;
	const char *file;
	uint64_t off;
	size_t got;
	int fd;

	if (!pv) {
		reader_note(r, dump_path, "read of 0x%" PRIx64 ": the dump is not open", addr);
		return RDUMP_MEM_MISSING;
	}
	if (n > UINT64_MAX - addr) {
		reader_note(r, dump_path, "read of %zu bytes at 0x%" PRIx64 " wraps around the address space", n, addr);
		return RDUMP_MEM_MISSING;
	}
	g = rdump_reader_find(r, addr, n);
	if (g) {
		off = g->file_offset + (addr - g->address);
		if (reader_pread_full(r->fd, buf, n, off, &got) != 0) {
			reader_note(r, dump_path, "read of region bytes at file offset %" PRIu64 " failed: %s", off, strerror(errno));
			return RDUMP_MEM_MISSING;
		}
		if (got < n) {
			reader_note(r, dump_path, "file shrank: region bytes at file offset %" PRIu64 " are gone", off);
			return RDUMP_MEM_MISSING;
		}
		return RDUMP_MEM_REGION;
	}

	m = rdump_reader_map_at(r, addr);
	if (!m || n > m->end - addr || !reader_map_has_file(m)) {
		reader_note(r, dump_path, "0x%" PRIx64 "+%zu is in no region and not inside one read-only file-backed mapping", addr, n);
		return RDUMP_MEM_MISSING;
	}
	if (addr - m->begin > UINT64_MAX - m->offset) {
		reader_note(r, dump_path, "0x%" PRIx64 ": mapping file offset overflows", addr);
		return RDUMP_MEM_MISSING;
	}
	fd = reader_dependency_fd(r, m, &file);
	if (fd < 0) {
		reader_note(r, dump_path, "0x%" PRIx64 ": cannot open mapped file %s: %s", addr, file, strerror(errno));
		return RDUMP_MEM_MISSING;
	}
	off = m->offset + (addr - m->begin);
	if (reader_pread_full(fd, buf, n, off, &got) != 0) {
		reader_note(r, dump_path, "0x%" PRIx64 ": read of %s at offset %" PRIu64 " failed: %s", addr, file, off, strerror(errno));
		return RDUMP_MEM_MISSING;
	}
	if (got < n) {
		reader_note(r, dump_path, "0x%" PRIx64 ": %s ends before offset %" PRIu64 " (a different build than the dumped one?)",
			addr, file, off + n);
		return RDUMP_MEM_MISSING;
	}
	return RDUMP_MEM_FILE;
}
