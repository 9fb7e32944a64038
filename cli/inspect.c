/*
 * `rdump-cli inspect FILE [--json]`: everything a dump's index says (header,
 * module globals, memory map, regions) and where the captured bytes come
 * from, so a user can tell whether a dump holds what an analysis will need
 * before shipping it anywhere. Only the index is read, never region bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "reader.h"

#define RDUMP_INSPECT_USAGE "usage: rdump-cli inspect FILE [--json]\n"

/* What kind of memory a mapping is, for the "captured bytes by kind" totals. */
typedef enum rdump_kind {
	RDUMP_KIND_ANON = 0,
	RDUMP_KIND_HEAP,
	RDUMP_KIND_STACK,
	RDUMP_KIND_SHARED,
	RDUMP_KIND_FILE_RW,
	RDUMP_KIND_FILE_RO,
	RDUMP_KIND_OTHER,
	RDUMP_KIND_OUTSIDE,
	RDUMP_KIND_COUNT
} rdump_kind;

static const char *const kind_text[RDUMP_KIND_COUNT] = {
	"anonymous",
	"[heap]",
	"[stack]",
	"shared memory",
	"writable file-backed",
	"read-only file-backed",
	"other ([vdso], [vvar], ...)",
	"outside any mapping",
};

static const char *const kind_json[RDUMP_KIND_COUNT] = {
	"anonymous", "heap", "stack", "shared", "file_writable", "file_readonly", "other", "outside",
};

/* Where one region lies in the memory map. */
typedef struct rdump_region_place {
	int64_t first_map;   /* lowest mapping it overlaps, -1 if none */
	uint32_t maps;       /* how many mappings it overlaps */
	uint64_t outside;    /* bytes of it in no mapping */
} rdump_region_place;

static int str_is(const rdump_str *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->len == n && memcmp(s->ptr, lit, n) == 0;
}

static int str_starts(const rdump_str *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->len >= n && memcmp(s->ptr, lit, n) == 0;
}

static rdump_kind map_kind(const rdump_map_entry *m)
{
	/* Shared first: opcache's "/dev/zero (deleted)", SysV and POSIX shm, memfd. */
	if (!m->p) {
		return RDUMP_KIND_SHARED;
	}
	if (m->name_s.len == 0 || str_starts(&m->name_s, "[anon:")) {
		return RDUMP_KIND_ANON;
	}
	if (str_is(&m->name_s, "[heap]")) {
		return RDUMP_KIND_HEAP;
	}
	/* Old kernels name thread stacks "[stack:<tid>]". */
	if (str_starts(&m->name_s, "[stack")) {
		return RDUMP_KIND_STACK;
	}
	if (m->name_s.ptr[0] == '/') {
		return m->w ? RDUMP_KIND_FILE_RW : RDUMP_KIND_FILE_RO;
	}
	return RDUMP_KIND_OTHER;
}

/* First region that ends above addr; regions are sorted and disjoint. */
static uint32_t region_first_ending_after(const rdump_reader *r, uint64_t addr)
{
	uint32_t lo = 0, hi = r->region_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (r->regions[mid].address + r->regions[mid].size <= addr) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static uint64_t map_captured(const rdump_reader *r, const rdump_map_entry *m)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = region_first_ending_after(r, m->begin); i < r->region_count && r->regions[i].address < m->end; i++) {
		const rdump_region_info *g = &r->regions[i];
		uint64_t b = g->address > m->begin ? g->address : m->begin;
		uint64_t e = g->address + g->size < m->end ? g->address + g->size : m->end;
		if (b < e) {
			sum += e - b;
		}
	}
	return sum;
}

/*
 * Candidate mappings for [a, e): with a sorted, disjoint map a bisected
 * window; otherwise every entry (the caller tests each for overlap anyway).
 */
static void map_window(const rdump_reader *r, uint64_t a, uint64_t e, uint32_t *lo_out, uint32_t *hi_out)
{
	uint32_t lo = 0, hi = r->map_count;

	if (r->map_sorted) {
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (r->map[mid].end <= a) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
		hi = lo;
		while (hi < r->map_count && r->map[hi].begin < e) {
			hi++;
		}
	}
	*lo_out = lo;
	*hi_out = hi;
}

static rdump_region_place place_region(const rdump_reader *r, const rdump_region_info *g, uint64_t kinds[RDUMP_KIND_COUNT])
{
	rdump_region_place pl = {-1, 0, 0};
	uint64_t a = g->address, e = g->address + g->size, covered = 0;
	uint32_t lo, hi, i;

	map_window(r, a, e, &lo, &hi);
	for (i = lo; i < hi; i++) {
		const rdump_map_entry *m = &r->map[i];
		uint64_t b = a > m->begin ? a : m->begin;
		uint64_t t = e < m->end ? e : m->end;
		if (b >= t) {
			continue;
		}
		if (pl.first_map < 0 || m->begin < r->map[pl.first_map].begin) {
			pl.first_map = i;
		}
		pl.maps++;
		kinds[map_kind(m)] += t - b;
		covered += t - b;
	}
	/* Overlapping map entries (never from /proc) could count bytes twice. */
	pl.outside = covered < g->size ? g->size - covered : 0;
	kinds[RDUMP_KIND_OUTSIDE] += pl.outside;
	return pl;
}

/* ---- text output ---- */

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0) {
			lo = 0xa0;
		} else if (s[0] == 0xed) {
			hi = 0x9f;   /* no UTF-16 surrogates */
		}
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0) {
			lo = 0x90;
		} else if (s[0] == 0xf4) {
			hi = 0x8f;
		}
	} else {
		return 0;
	}
	if (left < n || s[1] < lo || s[1] > hi) {
		return 0;
	}
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf) {
			return 0;
		}
	}
	return n;
}

/*
 * Names come from the dumped process: keep control bytes and broken UTF-8
 * off the terminal, and make them visible as \xNN instead.
 */
static void text_bytes(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else if ((k = utf8_seq(s + i, n - i)) != 0) {
			fwrite(s + i, 1, k, f);
			i += k;
		} else {
			fprintf(f, "\\x%02x", c);
			i++;
		}
	}
}

static void text_str(FILE *f, const rdump_str *s)
{
	text_bytes(f, s->ptr, s->len);
}

static const char *human(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		buf[0] = '\0';
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, " (%.1f %s)", v, units[u]);
	return buf;
}

static void text_mapping_name(FILE *f, const rdump_map_entry *m)
{
	if (m->name_s.len == 0) {
		fputs("[anon]", f);
	} else {
		text_str(f, &m->name_s);
	}
}

static void print_text(FILE *f, const char *path, const rdump_reader *r)
{
	uint64_t kinds[RDUMP_KIND_COUNT] = {0}, total = 0;
	char h[32];
	uint32_t i;
	int k;

	fputs("file              ", f);
	text_bytes(f, path, strlen(path));
	fputc('\n', f);
	if (r->gzip_bytes) {
		fprintf(f, "compressed        gzip, %" PRIu64 " bytes%s\n", r->gzip_bytes, human(r->gzip_bytes, h, sizeof(h)));
		fprintf(f, "file size         %" PRIu64 " bytes%s (uncompressed)\n", r->file_size, human(r->file_size, h, sizeof(h)));
	} else {
		fprintf(f, "file size         %" PRIu64 " bytes%s\n", r->file_size, human(r->file_size, h, sizeof(h)));
	}
	fprintf(f, "disk usage        %" PRIu64 " bytes%s\n", r->disk_bytes, human(r->disk_bytes, h, sizeof(h)));
	fprintf(f, "format version    %" PRIu32 "\n", r->format_version);
	fputs("php version       ", f);
	text_str(f, &r->php_version);
	fputc('\n', f);
	fprintf(f, "pid               %" PRIu64 "\n", r->pid);
	fprintf(f, "EG address        0x%" PRIx64 "\n", r->eg_address);
	fprintf(f, "CG address        0x%" PRIx64 "\n", r->cg_address);
	if (r->rss_bytes >= 0) {
		fprintf(f, "rss               %" PRId64 " bytes%s\n", r->rss_bytes, human((uint64_t)r->rss_bytes, h, sizeof(h)));
	} else if (r->format_version < 2) {
		fputs("rss               unknown (format v1 does not record it)\n", f);
	} else {
		fputs("rss               unknown\n", f);
	}

	if (r->format_version < 3) {
		fprintf(f, "\nmodule globals: none (format v%" PRIu32 " does not record them)\n", r->format_version);
	} else {
		uint32_t width = 0;
		for (i = 0; i < r->module_globals_count; i++) {
			if (r->module_globals[i].name.len > width) {
				width = r->module_globals[i].name.len;
			}
		}
		width = width > 40 ? 40 : width;
		fprintf(f, "\nmodule globals (%" PRIu32 ")\n", r->module_globals_count);
		for (i = 0; i < r->module_globals_count; i++) {
			const rdump_str *name = &r->module_globals[i].name;
			fputs("  ", f);
			text_str(f, name);
			fprintf(f, "%*s  0x%" PRIx64 "\n", (int)(name->len < width ? width - name->len : 0), "",
				r->module_globals[i].address);
		}
	}

	fprintf(f, "\nmemory map (%" PRIu32 " entries)\n", r->map_count);
	fprintf(f, "  %12s %12s  %s\n", "captured", "size", "begin-end perms offset dev inode name");
	for (i = 0; i < r->map_count; i++) {
		const rdump_map_entry *m = &r->map[i];
		fprintf(f, "  %12" PRIu64 " %12" PRIu64 "  ", map_captured(r, m), m->end - m->begin);
		text_str(f, &m->begin_s);
		fputc('-', f);
		text_str(f, &m->end_s);
		fprintf(f, " %c%c%c%c ", m->r ? 'r' : '-', m->w ? 'w' : '-', m->x ? 'x' : '-', m->p ? 'p' : 's');
		text_str(f, &m->offset_s);
		fputc(' ', f);
		text_str(f, &m->dev_s);
		fprintf(f, " %" PRIu64 " ", m->inode);
		text_str(f, &m->name_s);
		fputc('\n', f);
	}

	for (i = 0; i < r->region_count; i++) {
		total += r->regions[i].size;
	}
	fprintf(f, "\nregions (%" PRIu32 ", %" PRIu64 " bytes%s)\n", r->region_count, total, human(total, h, sizeof(h)));
	fprintf(f, "  %6s  %-18s  %12s  %12s  %s\n", "#", "address", "size", "file offset", "mapping");
	for (i = 0; i < r->region_count; i++) {
		const rdump_region_info *g = &r->regions[i];
		rdump_region_place pl = place_region(r, g, kinds);
		fprintf(f, "  %6" PRIu32 "  0x%016" PRIx64 "  %12" PRIu64 "  %12" PRIu64 "  ", i, g->address, g->size, g->file_offset);
		if (pl.first_map < 0) {
			fputs("(outside any mapping)", f);
		} else {
			text_mapping_name(f, &r->map[pl.first_map]);
			if (pl.maps > 1) {
				fprintf(f, " +%" PRIu32 " more", pl.maps - 1);
			}
			if (pl.outside) {
				fprintf(f, " (%" PRIu64 " bytes outside any mapping)", pl.outside);
			}
		}
		fputc('\n', f);
	}

	fputs("\ncaptured bytes by kind of mapping\n", f);
	for (k = 0; k < RDUMP_KIND_COUNT; k++) {
		fprintf(f, "  %-28s %14" PRIu64 "  %5.1f%%\n", kind_text[k], kinds[k],
			total ? 100.0 * (double)kinds[k] / (double)total : 0.0);
	}
	fprintf(f, "  %-28s %14" PRIu64 "%s\n", "total", total, human(total, h, sizeof(h)));

	if (r->touching_regions > 0) {
		fprintf(f, "\nwarning: %" PRIu32 " pair%s of regions touch (one ends where the next starts); "
			"a read across the seam fails in reli, so the writer should have merged them\n",
			r->touching_regions, r->touching_regions == 1 ? "" : "s");
	}
	if (!r->map_sorted && r->map_count > 1) {
		fputs("warning: memory-map entries are out of order or overlap (not as /proc prints them); "
			"per-kind totals may count bytes twice\n", f);
	}
}

/* ---- JSON output ---- */

/* Names are raw bytes; JSON must be UTF-8, so invalid bytes become U+FFFD. */
static void json_bytes(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c == '\t') {
			fputs("\\t", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else {
			size_t k = utf8_seq(s + i, n - i);
			if (k == 0) {
				fputs("\\ufffd", f);
				i++;
			} else {
				fwrite(s + i, 1, k, f);
				i += k;
			}
		}
	}
	fputc('"', f);
}

static void json_str(FILE *f, const rdump_str *s)
{
	json_bytes(f, s->ptr, s->len);
}

static void print_json(FILE *f, const char *path, const rdump_reader *r)
{
	uint64_t kinds[RDUMP_KIND_COUNT] = {0}, total = 0;
	int first_warning = 1;
	uint32_t i;
	int k;

	fputs("{\"file\":", f);
	json_bytes(f, path, strlen(path));
	fprintf(f, ",\"file_size\":%" PRIu64 ",\"disk_bytes\":%" PRIu64, r->file_size, r->disk_bytes);
	fprintf(f, ",\"gzip_bytes\":%" PRIu64, r->gzip_bytes);
	fprintf(f, ",\"format_version\":%" PRIu32 ",\"php_version\":", r->format_version);
	json_str(f, &r->php_version);
	/* Addresses as hex strings: JSON numbers lose precision above 2^53. */
	fprintf(f, ",\"pid\":%" PRIu64 ",\"eg_address\":\"0x%" PRIx64 "\",\"cg_address\":\"0x%" PRIx64 "\"",
		r->pid, r->eg_address, r->cg_address);
	if (r->rss_bytes >= 0) {
		fprintf(f, ",\"rss_bytes\":%" PRId64, r->rss_bytes);
	} else {
		fputs(",\"rss_bytes\":null", f);
	}

	fputs(",\"module_globals\":[", f);
	for (i = 0; i < r->module_globals_count; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, &r->module_globals[i].name);
		fprintf(f, ",\"address\":\"0x%" PRIx64 "\"}", r->module_globals[i].address);
	}

	fputs("],\"memory_map\":[", f);
	for (i = 0; i < r->map_count; i++) {
		const rdump_map_entry *m = &r->map[i];
		fputs(i ? ",{\"begin\":" : "{\"begin\":", f);
		json_str(f, &m->begin_s);
		fputs(",\"end\":", f);
		json_str(f, &m->end_s);
		fprintf(f, ",\"perms\":\"%c%c%c%c\",\"offset\":", m->r ? 'r' : '-', m->w ? 'w' : '-', m->x ? 'x' : '-', m->p ? 'p' : 's');
		json_str(f, &m->offset_s);
		fputs(",\"device\":", f);
		json_str(f, &m->dev_s);
		fprintf(f, ",\"inode\":%" PRIu64 ",\"name\":", m->inode);
		json_str(f, &m->name_s);
		fprintf(f, ",\"kind\":\"%s\",\"size\":%" PRIu64 ",\"captured_bytes\":%" PRIu64 "}",
			kind_json[map_kind(m)], m->end - m->begin, map_captured(r, m));
	}

	fputs("],\"regions\":[", f);
	for (i = 0; i < r->region_count; i++) {
		const rdump_region_info *g = &r->regions[i];
		rdump_region_place pl = place_region(r, g, kinds);
		total += g->size;
		fprintf(f, "%s{\"address\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",\"file_offset\":%" PRIu64,
			i ? "," : "", g->address, g->size, g->file_offset);
		if (pl.first_map < 0) {
			fputs(",\"mapping\":null,\"mapping_index\":null", f);
		} else {
			const rdump_map_entry *m = &r->map[pl.first_map];
			fputs(",\"mapping\":", f);
			if (m->name_s.len == 0) {
				fputs("\"[anon]\"", f);
			} else {
				json_str(f, &m->name_s);
			}
			fprintf(f, ",\"mapping_index\":%" PRId64, pl.first_map);
		}
		fprintf(f, ",\"more_mappings\":%" PRIu32 ",\"outside_bytes\":%" PRIu64 "}",
			pl.maps ? pl.maps - 1 : 0, pl.outside);
	}

	fputs("],\"captured_bytes\":{", f);
	for (k = 0; k < RDUMP_KIND_COUNT; k++) {
		fprintf(f, "\"%s\":%" PRIu64 ",", kind_json[k], kinds[k]);
	}
	fprintf(f, "\"total\":%" PRIu64 "}", total);
	fprintf(f, ",\"touching_regions\":%" PRIu32 ",\"map_sorted\":%s,\"warnings\":[",
		r->touching_regions, r->map_sorted || r->map_count <= 1 ? "true" : "false");
	if (r->touching_regions > 0) {
		fprintf(f, "\"%" PRIu32 " pair%s of regions touch; a read across the seam fails in reli\"",
			r->touching_regions, r->touching_regions == 1 ? "" : "s");
		first_warning = 0;
	}
	if (!r->map_sorted && r->map_count > 1) {
		fprintf(f, "%s\"memory-map entries are out of order or overlap\"", first_warning ? "" : ",");
	}
	fputs("]}\n", f);
}

int rdump_cli_inspect(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0, options_done = 0, i, status = RDUMP_EXIT_OK;
	rdump_reader r;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!options_done && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--json") == 0) {
				json = 1;
			} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
				fputs(RDUMP_INSPECT_USAGE
					"Print a dump's header, module globals, memory map and regions, and how the\n"
					"captured bytes divide between kinds of mapping. Region bytes are not read.\n"
					"  --json   one JSON object instead of text (addresses as \"0x...\" strings)\n"
					"Exit status: 0 well-formed dump, 1 malformed or unreadable, 2 usage error.\n", stdout);
				return RDUMP_EXIT_OK;
			} else if (strcmp(a, "--") == 0) {
				options_done = 1;
			} else {
				fprintf(stderr, "rdump-cli inspect: unknown option '%s'\n" RDUMP_INSPECT_USAGE, a);
				return RDUMP_EXIT_USAGE;
			}
		} else if (path) {
			fprintf(stderr, "rdump-cli inspect: only one FILE may be given\n" RDUMP_INSPECT_USAGE);
			return RDUMP_EXIT_USAGE;
		} else {
			path = a;
		}
	}
	if (!path) {
		fputs("rdump-cli inspect: no FILE given\n" RDUMP_INSPECT_USAGE, stderr);
		return RDUMP_EXIT_USAGE;
	}

	memset(&r, 0, sizeof(r));
	if (rdump_reader_open(&r, path) != RDUMP_ROK) {
		fprintf(stderr, "rdump-cli inspect: %s\n", r.message);
		rdump_reader_close(&r);
		return RDUMP_EXIT_FAILURE;
	}
	if (json) {
		print_json(stdout, path, &r);
	} else {
		print_text(stdout, path, &r);
	}
	rdump_reader_close(&r);
	/* A full disk or a closed pipe must not pass for a complete report. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "rdump-cli inspect: writing the report failed: %s\n", strerror(errno));
		status = RDUMP_EXIT_FAILURE;
	}
	return status;
}
