/*
 * rdump-cli summary: reads the Zend engine out of a dump alone (call stack,
 * live objects by class, globals, sizes of the class and function tables
 * with every class, function and method name read),
 * using the struct layouts of the PHP headers rdump-cli is compiled against.
 * The PHP headers are used for types, offsetof and pure macros only: the tool
 * does not link against PHP. No target pointer is ever dereferenced; every
 * struct is first copied out of the dump with rdump_reader_read().
 */
/* PHP's headers first: php_config.h sets the feature macros they rely on */
#include "php_version.h"
#include "zend.h"
#include "zend_globals.h"
#include "zend_objects_API.h"
#include "zend_vm_opcodes.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "cli.h"

/* A corrupt dump may link frames in a cycle or claim absurd sizes. */
#define SUM_MAX_FRAMES      100000
#define SUM_MAX_CLASSES     (1u << 20)  /* distinct classes tracked; the rest go to "other" */
#define SUM_TEXT_MAX        4096        /* bytes of a name or path we read */
#define SUM_VALUE_SHOW      60          /* bytes of a string value we show */
#define SUM_CHUNK_BYTES     65536       /* array reads are done in pieces this big */
#define SUM_MAX_WARNINGS    20          /* warnings printed; all are counted */
#define SUM_MAX_DETAILS     10          /* unreadable pointers explained on stderr */

#define SUM_PTR(p)          ((uint64_t) (uintptr_t) (p))

/*
 * Hash tables across PHP versions: from 8.2 the slots of a packed array are
 * bare zvals (Buckets before, as in any hash); an unused table is flagged
 * UNINITIALIZED from 7.4 and not INITIALIZED before; HT_FLAGS() is 7.3+.
 */
#if PHP_VERSION_ID >= 80200
# define SUM_HT_ZVAL_SLOTS(ht) (HT_IS_PACKED(ht) != 0)
#else
# define SUM_HT_ZVAL_SLOTS(ht) 0
#endif
#if PHP_VERSION_ID >= 70400
# define SUM_HT_UNUSED(ht)     ((HT_FLAGS(ht) & HASH_FLAG_UNINITIALIZED) != 0)
#elif PHP_VERSION_ID >= 70300
# define SUM_HT_UNUSED(ht)     ((HT_FLAGS(ht) & HASH_FLAG_INITIALIZED) == 0)
#else
# define SUM_HT_UNUSED(ht)     (((ht)->u.flags & HASH_FLAG_INITIALIZED) == 0)
#endif

typedef enum sum_kind {
	SUM_EXECUTOR_GLOBALS = 0,
	SUM_COMPILER_GLOBALS,
	SUM_EXECUTE_DATA,
	SUM_FUNCTION,
	SUM_OPLINE,
	SUM_ZEND_STRING,
	SUM_CLASS_ENTRY,
	SUM_OBJECT_BUCKETS,
	SUM_OBJECT,
	SUM_HASH_TABLE,
	SUM_BUCKET,
	SUM_ZVAL,
	SUM_REFERENCE,
	SUM_OBJECT_HANDLERS,
	SUM_KIND_COUNT
} sum_kind;

static const char *const sum_kind_names[SUM_KIND_COUNT] = {
	"executor_globals",
	"compiler_globals",
	"execute_data",
	"function",
	"opline",
	"zend_string",
	"class_entry",
	"object_buckets",
	"object",
	"hash_table",
	"bucket",
	"zval",
	"reference",
	"object_handlers",
};

/* A zend_string copied out of the dump: the first `got` of its `len` bytes. */
typedef struct sum_text {
	bool ok;
	size_t len;
	size_t got;
	char buf[SUM_TEXT_MAX];
} sum_text;

typedef struct sum_class {
	uint64_t ce;
	uint64_t count;
	uint64_t handlers; /* the handlers table last checked for objects of this class */
	char *name;      /* NULL: the class name could not be read */
	size_t name_len;
	bool truncated;
} sum_class;

typedef struct sum_classes {
	sum_class *v;
	size_t n;
	size_t cap;
	uint32_t *slots; /* open addressing on ce address: index + 1, 0 = empty */
	size_t nslots;
	uint64_t other;  /* objects of classes beyond SUM_MAX_CLASSES */
} sum_classes;

typedef struct summary_ctx {
	rdump_reader *r;
	bool json;
	bool oom;
	uint64_t missing[SUM_KIND_COUNT];
	uint64_t missing_total;
	uint64_t warnings;
	FILE *out;
} summary_ctx;

static void sum_warn(summary_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sum_warn(summary_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->warnings++ >= SUM_MAX_WARNINGS) {
		return;
	}
	fputs("rdump-cli summary: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Counts a pointer the dump does not answer, right after the read of addr
 * failed (the reader's message is that read's reason). The first few
 * reasons help tell a writer bug from a corrupt dump.
 */
static void sum_missing(summary_ctx *c, sum_kind kind, uint64_t addr)
{
	c->missing[kind]++;
	c->missing_total++;
	if (c->missing_total > SUM_MAX_DETAILS) {
		return;
	}
	if (addr == 0) {
		fprintf(stderr, "rdump-cli summary: unreadable %s: NULL pointer\n", sum_kind_names[kind]);
	} else {
		fprintf(stderr, "rdump-cli summary: unreadable %s: %s\n", sum_kind_names[kind], c->r->message);
	}
}

/* Copies n bytes of target memory; a miss is counted against `kind`. */
static bool sum_read(summary_ctx *c, uint64_t addr, void *buf, size_t n, sum_kind kind)
{
	if (addr != 0 && rdump_reader_read(c->r, addr, buf, n) != RDUMP_MEM_MISSING) {
		return true;
	}
	sum_missing(c, kind, addr);
	return false;
}

/* Same, for look-ahead reads whose miss is counted where the walk gets there. */
static bool sum_peek(summary_ctx *c, uint64_t addr, void *buf, size_t n)
{
	return addr != 0 && rdump_reader_read(c->r, addr, buf, n) != RDUMP_MEM_MISSING;
}

static bool sum_read_ptr(summary_ctx *c, uint64_t addr, uint64_t *out, sum_kind kind)
{
	void *p = NULL;

	if (!sum_read(c, addr, &p, sizeof(p), kind)) {
		return false;
	}
	*out = SUM_PTR(p);
	return true;
}

/* Reads at most `max` bytes of the zend_string at addr (max <= SUM_TEXT_MAX). */
static bool sum_read_zstr(summary_ctx *c, uint64_t addr, sum_text *t, size_t max)
{
	zend_string hdr;

	t->ok = false;
	t->len = t->got = 0;
	if (!sum_read(c, addr, &hdr, offsetof(zend_string, val), SUM_ZEND_STRING)) {
		return false;
	}
	t->len = ZSTR_LEN(&hdr);
	t->got = t->len < max ? t->len : max;
	if (t->got > 0 && !sum_read(c, addr + offsetof(zend_string, val), t->buf, t->got, SUM_ZEND_STRING)) {
		t->len = t->got = 0;
		return false;
	}
	t->ok = true;
	return true;
}

/* ---- output helpers ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t sum_utf8_len(const unsigned char *p, size_t n)
{
	size_t need, i;
	uint32_t cp;

	if (p[0] < 0x80) {
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (need > n) {
		return 0;
	}
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return 0;
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000)
			|| cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		return 0;
	}
	return need;
}

/* Cuts n back so that a multi-byte character is not split. */
static size_t sum_utf8_cut(const char *s, size_t n, size_t full)
{
	size_t k = n;

	if (n >= full) {
		return n;
	}
	while (k > 0 && n - k < 3 && (((unsigned char) s[k]) & 0xc0) == 0x80) {
		k--;
	}
	return (((unsigned char) s[k]) & 0xc0) == 0x80 ? n : k;
}

/*
 * Human output: names come from a possibly corrupt dump, so control bytes are
 * escaped rather than sent to the terminal. Inside quotes, '"' and '\' are
 * escaped too; bare class names keep their namespace backslashes.
 */
static void sum_put_human(FILE *f, const char *s, size_t n, bool quoted)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char) s[i];

		if (ch == '\n') {
			fputs("\\n", f);
		} else if (ch == '\t') {
			fputs("\\t", f);
		} else if (ch == '\r') {
			fputs("\\r", f);
		} else if (ch == 0) {
			fputs("\\0", f);
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(f, "\\x%02x", ch);
		} else if (quoted && (ch == '"' || ch == '\\')) {
			fputc('\\', f);
			fputc(ch, f);
		} else {
			fputc(ch, f);
		}
	}
}

/* JSON string body; bytes that are not valid UTF-8 are kept as U+0000..U+00FF. */
static void sum_put_json_body(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t i = 0;

	while (i < n) {
		unsigned char ch = p[i];
		size_t l;

		if (ch == '"' || ch == '\\') {
			fputc('\\', f);
			fputc(ch, f);
			i++;
		} else if (ch == '\n') {
			fputs("\\n", f);
			i++;
		} else if (ch == '\t') {
			fputs("\\t", f);
			i++;
		} else if (ch == '\r') {
			fputs("\\r", f);
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(f, "\\u%04x", ch);
			i++;
		} else if (ch < 0x80) {
			fputc(ch, f);
			i++;
		} else if ((l = sum_utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, l, f);
			i += l;
		} else {
			fprintf(f, "\\u%04x", ch);
			i++;
		}
	}
}

static void sum_put_json(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	sum_put_json_body(f, s, n);
	fputc('"', f);
}

static void sum_put_json_text(FILE *f, const sum_text *t)
{
	if (!t->ok) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	sum_put_json_body(f, t->buf, t->got);
	if (t->got < t->len) {
		fputs("...", f);
	}
	fputc('"', f);
}

static void sum_put_human_text(FILE *f, const sum_text *t)
{
	if (!t->ok) {
		fputs("(unreadable)", f);
		return;
	}
	sum_put_human(f, t->buf, t->got, false);
	if (t->got < t->len) {
		fputs("...", f);
	}
}

/* Shortest representation that reads back as the same double, like var_dump. */
static void sum_format_double(char *buf, size_t n, double d)
{
	int prec;

	if (isnan(d)) {
		snprintf(buf, n, "NAN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, n, d < 0 ? "-INF" : "INF");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*G", prec, d);
		if (strtod(buf, NULL) == d) {
			break;
		}
	}
	if (!strpbrk(buf, ".EN")) {
		/* keep floats recognisable as floats, as PHP does for 1.0 */
		size_t l = strlen(buf);

		if (l + 3 <= n) {
			memcpy(buf + l, ".0", 3);
		}
	}
}

/* ---- chunked array walks ----------------------------------------------- */

typedef bool (*sum_elem_cb)(summary_ctx *c, const void *elem, uint64_t index, void *arg);

/*
 * Visits elements [first, end) of the target array at base. The array is one
 * allocation, so a chunk that cannot be read at all means the rest is lost:
 * that is counted once as `array_kind`. Single unreadable elements in a
 * partially held chunk are counted as `elem_kind`. The chunk buffer is static
 * (64 KiB is too much for a stack frame), so callbacks must not walk arrays.
 */
static void sum_walk_array(summary_ctx *c, uint64_t base, size_t elem_size, uint64_t first, uint64_t end,
		sum_kind array_kind, sum_kind elem_kind, sum_elem_cb cb, void *arg)
{
	static unsigned char buf[SUM_CHUNK_BYTES];
	uint64_t per = SUM_CHUNK_BYTES / elem_size;
	uint64_t i = first;

	while (i < end) {
		uint64_t n = end - i < per ? end - i : per;
		uint64_t off, addr, j, held = 0;

		if (__builtin_mul_overflow(i, (uint64_t) elem_size, &off)
				|| __builtin_add_overflow(base, off, &addr)) {
			sum_warn(c, "array at 0x%" PRIx64 " runs past the end of the address space", base);
			return;
		}
		if (sum_peek(c, addr, buf, n * elem_size)) {
			for (j = 0; j < n; j++) {
				if (!cb(c, buf + j * elem_size, i + j, arg)) {
					return;
				}
			}
			i += n;
			continue;
		}
		for (j = 0; j < n; j++) {
			if (sum_peek(c, addr + j * elem_size, buf, elem_size)) {
				held++;
			}
		}
		if (held == 0) {
			/* the reader's message is still the reason for the last element */
			sum_missing(c, array_kind, addr);
			return;
		}
		for (j = 0; j < n; j++) {
			if (!sum_peek(c, addr + j * elem_size, buf, elem_size)) {
				sum_missing(c, elem_kind, addr + j * elem_size);
				continue;
			}
			if (!cb(c, buf, i + j, arg)) {
				return;
			}
		}
		i += n;
	}
}

typedef void (*sum_hash_cb)(summary_ctx *c, const zval *val, uint64_t key, zend_ulong h, void *arg);

typedef struct sum_hash_walk {
	sum_hash_cb cb;
	void *arg;
	bool packed;
} sum_hash_walk;

static bool sum_hash_elem(summary_ctx *c, const void *elem, uint64_t index, void *arg)
{
	sum_hash_walk *w = arg;

	if (w->packed) {
		zval zv;

		memcpy(&zv, elem, sizeof(zv));
		if (Z_TYPE(zv) != IS_UNDEF) {
			w->cb(c, &zv, 0, (zend_ulong) index, w->arg);
		}
	} else {
		Bucket b;

		memcpy(&b, elem, sizeof(b));
		if (Z_TYPE(b.val) != IS_UNDEF) {
			w->cb(c, &b.val, SUM_PTR(b.key), b.h, w->arg);
		}
	}
	return true;
}

/* Visits every used slot of a zend_array already copied into ht. */
static void sum_walk_hash(summary_ctx *c, const zend_array *ht, const char *what, sum_hash_cb cb, void *arg)
{
	sum_hash_walk w = { cb, arg, SUM_HT_ZVAL_SLOTS(ht) };

	if (ht->nNumUsed == 0 || SUM_HT_UNUSED(ht)) {
		return;
	}
	if (ht->nTableSize > HT_MAX_SIZE || ht->nNumUsed > ht->nTableSize) {
		sum_warn(c, "%s: implausible hash table (nNumUsed %" PRIu32 ", nTableSize %" PRIu32 "), not walked",
			what, ht->nNumUsed, ht->nTableSize);
		return;
	}
	sum_walk_array(c, SUM_PTR(ht->arData), w.packed ? sizeof(zval) : sizeof(Bucket), 0, ht->nNumUsed,
		SUM_HASH_TABLE, SUM_BUCKET, sum_hash_elem, &w);
}

/* ---- call stack -------------------------------------------------------- */

typedef struct sum_frame {
	const char *special;   /* "{main}", "include", ... for code without a name */
	bool func_ok;
	bool internal;
	bool has_class;
	bool has_line;
	uint32_t line;
	sum_text cls;
	sum_text name;
	sum_text file;
} sum_frame;

/* Cycle detection for the frame chain: a small open-addressing set. */
typedef struct sum_addr_set {
	uint64_t *v;
	size_t cap;
} sum_addr_set;

/* Returns true if addr was already there; false after inserting it. */
static bool sum_set_seen(sum_addr_set *s, uint64_t addr)
{
	size_t i = (size_t) ((addr >> 3) * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);

	while (s->v[i] != 0) {
		if (s->v[i] == addr) {
			return true;
		}
		i = (i + 1) & (s->cap - 1);
	}
	s->v[i] = addr;
	return false;
}

/*
 * Code without a function name is a script's top level. It is {main} unless
 * the calling frame is executing an include/require/eval opcode.
 */
static const char *sum_toplevel_name(summary_ctx *c, uint64_t caller)
{
	zend_execute_data ed;
	zend_uchar type;
	zend_op op;

	if (caller == 0 || !sum_peek(c, caller, &ed, sizeof(ed)) || ed.func == NULL
			|| !sum_peek(c, SUM_PTR(ed.func), &type, sizeof(type)) || !ZEND_USER_CODE(type)
			|| !sum_peek(c, SUM_PTR(ed.opline), &op, sizeof(op)) || op.opcode != ZEND_INCLUDE_OR_EVAL) {
		return "{main}";
	}
	switch (op.extended_value) {
		case ZEND_EVAL:         return "eval";
		case ZEND_INCLUDE:      return "include";
		case ZEND_INCLUDE_ONCE: return "include_once";
		case ZEND_REQUIRE:      return "require";
		case ZEND_REQUIRE_ONCE: return "require_once";
		default:                return "{main}";
	}
}

static void sum_resolve_frame(summary_ctx *c, const zend_execute_data *ed, sum_frame *fr)
{
	zend_function fn;
	uint64_t func = SUM_PTR(ed->func);

	fr->special = NULL;
	fr->func_ok = fr->internal = fr->has_class = fr->has_line = false;
	fr->cls.ok = fr->name.ok = fr->file.ok = false;

	/* an internal function is allocated only as large as zend_internal_function */
	memset(&fn, 0, sizeof(fn));
	if (!sum_read(c, func, &fn, sizeof(zend_internal_function), SUM_FUNCTION)) {
		return;
	}
	fr->func_ok = true;
	fr->internal = !ZEND_USER_CODE(fn.type);

	if (fn.common.function_name) {
		sum_read_zstr(c, SUM_PTR(fn.common.function_name), &fr->name, SUM_TEXT_MAX);
	} else {
		fr->special = sum_toplevel_name(c, SUM_PTR(ed->prev_execute_data));
	}
	if (fn.common.scope) {
		uint64_t name;

		fr->has_class = true;
		if (sum_read_ptr(c, SUM_PTR(fn.common.scope) + offsetof(zend_class_entry, name), &name, SUM_CLASS_ENTRY)) {
			sum_read_zstr(c, name, &fr->cls, SUM_TEXT_MAX);
		}
	}
	if (!fr->internal) {
		uint64_t filename;

		if (sum_read_ptr(c, func + offsetof(zend_op_array, filename), &filename, SUM_FUNCTION)) {
			sum_read_zstr(c, filename, &fr->file, SUM_TEXT_MAX);
		}
		if (sum_read(c, SUM_PTR(ed->opline) + offsetof(zend_op, lineno), &fr->line, sizeof(fr->line), SUM_OPLINE)) {
			fr->has_line = true;
		}
	}
}

static void sum_print_frame(summary_ctx *c, const sum_frame *fr, uint64_t depth)
{
	FILE *f = c->out;

	if (c->json) {
		fprintf(f, "%s\n    {\"function\": ", depth ? "," : "");
		if (fr->special) {
			sum_put_json(f, fr->special, strlen(fr->special));
		} else {
			sum_put_json_text(f, &fr->name);
		}
		fputs(", \"class\": ", f);
		if (fr->has_class) {
			sum_put_json_text(f, &fr->cls);
		} else {
			fputs("null", f);
		}
		fputs(", \"file\": ", f);
		if (fr->func_ok && !fr->internal) {
			sum_put_json_text(f, &fr->file);
		} else {
			fputs("null", f);
		}
		if (fr->has_line) {
			fprintf(f, ", \"line\": %" PRIu32 "}", fr->line);
		} else {
			fputs(", \"line\": null}", f);
		}
		return;
	}

	fprintf(f, "  #%" PRIu64 " ", depth);
	if (!fr->func_ok) {
		fputs("(unreadable function)\n", f);
		return;
	}
	if (fr->has_class) {
		sum_put_human_text(f, &fr->cls);
		fputs("::", f);
	}
	if (fr->special) {
		fputs(fr->special, f);
	} else {
		sum_put_human_text(f, &fr->name);
		fputs("()", f);
	}
	if (fr->internal) {
		fputs(" [internal function]\n", f);
		return;
	}
	fputc(' ', f);
	sum_put_human_text(f, &fr->file);
	if (fr->has_line) {
		fprintf(f, ":%" PRIu32 "\n", fr->line);
	} else {
		fputs(":?\n", f);
	}
}

static void sum_stack(summary_ctx *c, const zend_executor_globals *eg)
{
	sum_addr_set seen = { NULL, 0 };
	uint64_t ex = SUM_PTR(eg->current_execute_data);
	uint64_t depth = 0, walked = 0;
	sum_frame *fr = malloc(sizeof(*fr));

	seen.cap = 1;
	while (seen.cap < 2 * SUM_MAX_FRAMES) {
		seen.cap <<= 1;
	}
	seen.v = calloc(seen.cap, sizeof(*seen.v));
	if (!fr || !seen.v) {
		c->oom = true;
		free(fr);
		free(seen.v);
		return;
	}

	fputs(c->json ? "  \"stack\": [" : "stack:\n", c->out);
	while (ex != 0) {
		zend_execute_data ed;

		if (walked++ >= SUM_MAX_FRAMES) {
			sum_warn(c, "call stack deeper than %d frames; the rest is not shown", SUM_MAX_FRAMES);
			break;
		}
		if (sum_set_seen(&seen, ex)) {
			sum_warn(c, "call stack loops back to frame 0x%" PRIx64 "; stopped there", ex);
			break;
		}
		if (!sum_read(c, ex, &ed, sizeof(ed), SUM_EXECUTE_DATA)) {
			break;
		}
		/* frames without a function are the engine's placeholders, not calls */
		if (ed.func != NULL) {
			sum_resolve_frame(c, &ed, fr);
			sum_print_frame(c, fr, depth++);
		}
		ex = SUM_PTR(ed.prev_execute_data);
	}
	if (c->json) {
		fputs(depth ? "\n  ],\n" : "],\n", c->out);
	} else if (depth == 0) {
		fputs("  (no PHP code running)\n", c->out);
	}
	free(seen.v);
	free(fr);
}

/* ---- objects ----------------------------------------------------------- */

static sum_class *sum_class_for(summary_ctx *c, sum_classes *cl, uint64_t ce)
{
	size_t i;
	sum_class *k;
	uint64_t name_ptr;
	sum_text *t;

	if (cl->n * 2 >= cl->nslots) {
		size_t nslots = cl->nslots ? cl->nslots * 2 : 1024;
		uint32_t *slots = calloc(nslots, sizeof(*slots));

		if (!slots) {
			c->oom = true;
			return NULL;
		}
		for (i = 0; i < cl->n; i++) {
			size_t s = (size_t) ((cl->v[i].ce >> 3) * 0x9e3779b97f4a7c15ULL) & (nslots - 1);

			while (slots[s]) {
				s = (s + 1) & (nslots - 1);
			}
			slots[s] = (uint32_t) (i + 1);
		}
		free(cl->slots);
		cl->slots = slots;
		cl->nslots = nslots;
	}
	i = (size_t) ((ce >> 3) * 0x9e3779b97f4a7c15ULL) & (cl->nslots - 1);
	while (cl->slots[i]) {
		if (cl->v[cl->slots[i] - 1].ce == ce) {
			return &cl->v[cl->slots[i] - 1];
		}
		i = (i + 1) & (cl->nslots - 1);
	}
	if (cl->n >= SUM_MAX_CLASSES) {
		return NULL;
	}
	if (cl->n == cl->cap) {
		size_t cap = cl->cap ? cl->cap * 2 : 256;
		sum_class *v = realloc(cl->v, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return NULL;
		}
		cl->v = v;
		cl->cap = cap;
	}
	k = &cl->v[cl->n];
	memset(k, 0, sizeof(*k));
	k->ce = ce;

	/* one read per class, not per object: a lost class is counted once */
	t = malloc(sizeof(*t));
	if (!t) {
		c->oom = true;
		return NULL;
	}
	if (sum_read_ptr(c, ce + offsetof(zend_class_entry, name), &name_ptr, SUM_CLASS_ENTRY)
			&& sum_read_zstr(c, name_ptr, t, SUM_TEXT_MAX)) {
		k->name = malloc(t->got + 1);
		if (!k->name) {
			free(t);
			c->oom = true;
			return NULL;
		}
		memcpy(k->name, t->buf, t->got);
		k->name[t->got] = '\0';
		k->name_len = t->got;
		k->truncated = t->got < t->len;
	}
	free(t);
	cl->slots[i] = (uint32_t) (cl->n + 1);
	cl->n++;
	return k;
}

typedef struct sum_objects_walk {
	sum_classes *classes;
	uint64_t live;        /* valid slots, whether or not the object could be read */
	uint64_t unreadable;
	uint64_t mismatched;
	uint64_t misaligned;
} sum_objects_walk;

static bool sum_object_elem(summary_ctx *c, const void *elem, uint64_t index, void *arg)
{
	sum_objects_walk *w = arg;
	zend_object *obj;
	zend_object hdr;
	sum_class *k;

	memcpy(&obj, elem, sizeof(obj));
	/* free slots hold the tagged free-list link, not an object */
	if (obj == NULL || !IS_OBJ_VALID(obj)) {
		return true;
	}
	/* objects come from the allocators 8-byte aligned: anything else is corrupt */
	if ((SUM_PTR(obj) & 7) != 0) {
		w->misaligned++;
		return true;
	}
	w->live++;
	if (!sum_read(c, SUM_PTR(obj), &hdr, offsetof(zend_object, properties), SUM_OBJECT)) {
		w->unreadable++;
		return true;
	}
	if (hdr.handle != index) {
		w->mismatched++;
	}
	k = sum_class_for(c, w->classes, SUM_PTR(hdr.ce));
	if (k) {
		k->count++;
		/* an analyser reads the handlers table too (internal classes keep it in .data/.bss) */
		if (k->handlers != SUM_PTR(hdr.handlers)) {
			int offset;

			k->handlers = SUM_PTR(hdr.handlers);
			sum_read(c, k->handlers, &offset, sizeof(offset), SUM_OBJECT_HANDLERS);
		}
	} else {
		w->classes->other++;
	}
	return !c->oom;
}

static int sum_class_by_name(const void *a, const void *b)
{
	const sum_class *x = a, *y = b;
	size_t n;
	int r;

	if (!x->name || !y->name) {
		return (x->name == NULL) - (y->name == NULL);
	}
	n = x->name_len < y->name_len ? x->name_len : y->name_len;
	r = memcmp(x->name, y->name, n);
	if (r) {
		return r;
	}
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int sum_class_by_count(const void *a, const void *b)
{
	const sum_class *x = a, *y = b;

	if (x->count != y->count) {
		return x->count < y->count ? 1 : -1;
	}
	return sum_class_by_name(a, b);
}

static void sum_objects(summary_ctx *c, const zend_executor_globals *eg)
{
	const zend_objects_store *st = &eg->objects_store;
	sum_classes cl;
	sum_objects_walk w;
	uint32_t top = st->top;
	size_t i, n;
	FILE *f = c->out;

	memset(&cl, 0, sizeof(cl));
	memset(&w, 0, sizeof(w));
	w.classes = &cl;

	if (top > st->size) {
		sum_warn(c, "EG(objects_store).top %" PRIu32 " exceeds its size %" PRIu32 "; walked up to size",
			top, st->size);
		top = st->size;
	}
	/* slot 0 is never used: handles start at 1 */
	if (top > 1) {
		sum_walk_array(c, SUM_PTR(st->object_buckets), sizeof(zend_object *), 1, top,
			SUM_OBJECT_BUCKETS, SUM_OBJECT_BUCKETS, sum_object_elem, &w);
	}
	if (w.misaligned) {
		sum_warn(c, "%" PRIu64 " object store slots hold misaligned pointers; skipped", w.misaligned);
	}
	if (w.mismatched) {
		sum_warn(c, "%" PRIu64 " objects do not carry their own handle", w.mismatched);
	}

	/* classes of the same name (re-declared, or reloaded by opcache) are one line */
	if (cl.n > 1) {
		qsort(cl.v, cl.n, sizeof(*cl.v), sum_class_by_name);
	}
	for (i = 0, n = 0; i < cl.n; i++) {
		if (n > 0 && sum_class_by_name(&cl.v[n - 1], &cl.v[i]) == 0) {
			cl.v[n - 1].count += cl.v[i].count;
			free(cl.v[i].name);
			continue;
		}
		cl.v[n++] = cl.v[i];
	}
	cl.n = n;
	if (cl.n > 1) {
		qsort(cl.v, cl.n, sizeof(*cl.v), sum_class_by_count);
	}

	if (c->json) {
		fprintf(f, "  \"objects_live\": %" PRIu64 ",\n  \"objects\": {", w.live);
	} else {
		fprintf(f, "objects: %" PRIu64 " live\n", w.live);
	}
	for (i = 0; i < cl.n; i++) {
		const sum_class *k = &cl.v[i];

		if (c->json) {
			fputs(i ? ",\n    " : "\n    ", f);
			if (k->name) {
				fputc('"', f);
				sum_put_json_body(f, k->name, k->name_len);
				fputs(k->truncated ? "...\"" : "\"", f);
			} else {
				fputs("\"(unreadable class)\"", f);
			}
			fprintf(f, ": %" PRIu64, k->count);
		} else {
			fprintf(f, "  %" PRIu64 " ", k->count);
			if (k->name) {
				sum_put_human(f, k->name, k->name_len, false);
				fputs(k->truncated ? "...\n" : "\n", f);
			} else {
				fputs("(unreadable class)\n", f);
			}
		}
	}
	if (cl.other) {
		if (c->json) {
			fprintf(f, "%s\"(other classes)\": %" PRIu64, cl.n ? ",\n    " : "\n    ", cl.other);
		} else {
			fprintf(f, "  %" PRIu64 " (other classes)\n", cl.other);
		}
	}
	if (w.unreadable) {
		if (c->json) {
			fprintf(f, "%s\"(unreadable object)\": %" PRIu64, cl.n || cl.other ? ",\n    " : "\n    ",
				w.unreadable);
		} else {
			fprintf(f, "  %" PRIu64 " (unreadable object)\n", w.unreadable);
		}
	}
	if (c->json) {
		fputs(cl.n || cl.other || w.unreadable ? "\n  },\n" : "},\n", f);
	}
	for (i = 0; i < cl.n; i++) {
		free(cl.v[i].name);
	}
	free(cl.v);
	free(cl.slots);
}

/* ---- globals ----------------------------------------------------------- */

typedef struct sum_globals_walk {
	uint64_t shown;
	sum_text *key;
	sum_text *val;
} sum_globals_walk;

static const char *sum_type_name(zend_uchar type)
{
	switch (type) {
		case IS_NULL:         return "null";
		case IS_FALSE:
		case IS_TRUE:         return "bool";
		case IS_LONG:         return "int";
		case IS_DOUBLE:       return "float";
		case IS_STRING:       return "string";
		case IS_ARRAY:        return "array";
		case IS_OBJECT:       return "object";
		case IS_RESOURCE:     return "resource";
		case IS_REFERENCE:    return "reference";
		case IS_CONSTANT_AST: return "constant-ast";
		case IS_INDIRECT:     return "indirect";
		case IS_PTR:          return "ptr";
		default:              return "unknown";
	}
}

static void sum_global(summary_ctx *c, const zval *slot, uint64_t key, zend_ulong h, void *arg)
{
	sum_globals_walk *w = arg;
	FILE *f = c->out;
	zval zv = *slot;
	bool ok = true;
	char num[64];
	uint64_t count = 0;
	bool has_count = false;

	/* globals of the main script live in its CV slots, reached through INDIRECT */
	if (Z_TYPE(zv) == IS_INDIRECT) {
		if (!sum_read(c, SUM_PTR(Z_INDIRECT(zv)), &zv, sizeof(zv), SUM_ZVAL)) {
			ok = false;
		} else if (Z_TYPE(zv) == IS_UNDEF) {
			return;  /* unset, as PHP sees it */
		}
	}
	if (ok && Z_TYPE(zv) == IS_REFERENCE) {
		if (!sum_read(c, SUM_PTR(Z_REF(zv)) + offsetof(zend_reference, val), &zv, sizeof(zv), SUM_REFERENCE)) {
			ok = false;
		}
	}

	w->key->ok = false;
	if (key) {
		sum_read_zstr(c, key, w->key, SUM_TEXT_MAX);
	}

	if (c->json) {
		fprintf(f, "%s\n    {\"name\": ", w->shown ? "," : "");
		if (key) {
			sum_put_json_text(f, w->key);
		} else {
			fprintf(f, "\"" ZEND_ULONG_FMT "\"", h);
		}
	} else {
		fputs("  $", f);
		if (key) {
			sum_put_human_text(f, w->key);
		} else {
			fprintf(f, "{" ZEND_ULONG_FMT "}", h);
		}
		fputs(" = ", f);
	}
	w->shown++;

	if (!ok) {
		fputs(c->json ? ", \"type\": null}" : "(unreadable)\n", f);
		return;
	}

	switch (Z_TYPE(zv)) {
		case IS_NULL:
			fputs(c->json ? ", \"type\": \"null\", \"value\": null}" : "NULL\n", f);
			return;
		case IS_FALSE:
		case IS_TRUE:
			if (c->json) {
				fprintf(f, ", \"type\": \"bool\", \"value\": %s}", Z_TYPE(zv) == IS_TRUE ? "true" : "false");
			} else {
				fprintf(f, "bool(%s)\n", Z_TYPE(zv) == IS_TRUE ? "true" : "false");
			}
			return;
		case IS_LONG:
			if (c->json) {
				fprintf(f, ", \"type\": \"int\", \"value\": " ZEND_LONG_FMT "}", Z_LVAL(zv));
			} else {
				fprintf(f, "int(" ZEND_LONG_FMT ")\n", Z_LVAL(zv));
			}
			return;
		case IS_DOUBLE:
			sum_format_double(num, sizeof(num), Z_DVAL(zv));
			if (c->json) {
				/* JSON has no INF/NAN: those go out as strings */
				if (isfinite(Z_DVAL(zv))) {
					fprintf(f, ", \"type\": \"float\", \"value\": %s}", num);
				} else {
					fprintf(f, ", \"type\": \"float\", \"value\": \"%s\"}", num);
				}
			} else {
				fprintf(f, "float(%s)\n", num);
			}
			return;
		case IS_STRING: {
			sum_text *t = w->val;

			if (!sum_read_zstr(c, SUM_PTR(Z_STR(zv)), t, SUM_VALUE_SHOW)) {
				fputs(c->json ? ", \"type\": \"string\", \"value\": null}" : "string(?) (unreadable)\n", f);
				return;
			}
			t->got = sum_utf8_cut(t->buf, t->got, t->len);
			if (c->json) {
				fprintf(f, ", \"type\": \"string\", \"length\": %zu, \"value\": ", t->len);
				sum_put_json(f, t->buf, t->got);
				fprintf(f, ", \"truncated\": %s}", t->got < t->len ? "true" : "false");
			} else {
				fprintf(f, "string(%zu) \"", t->len);
				sum_put_human(f, t->buf, t->got, true);
				fputs(t->got < t->len ? "...\"\n" : "\"\n", f);
			}
			return;
		}
		case IS_ARRAY: {
			zend_array ht;

			if (sum_read(c, SUM_PTR(Z_ARR(zv)), &ht, sizeof(ht), SUM_HASH_TABLE)) {
				count = ht.nNumOfElements;
				has_count = true;
			}
			if (c->json) {
				fputs(", \"type\": \"array\", \"count\": ", f);
				if (has_count) {
					fprintf(f, "%" PRIu64 "}", count);
				} else {
					fputs("null}", f);
				}
			} else if (has_count) {
				fprintf(f, "array(%" PRIu64 ")\n", count);
			} else {
				fputs("array(?)\n", f);
			}
			return;
		}
		case IS_OBJECT: {
			sum_text *t = w->val;
			uint64_t ce, name;

			t->ok = false;
			if (sum_read_ptr(c, SUM_PTR(Z_OBJ(zv)) + offsetof(zend_object, ce), &ce, SUM_OBJECT)
					&& sum_read_ptr(c, ce + offsetof(zend_class_entry, name), &name, SUM_CLASS_ENTRY)) {
				sum_read_zstr(c, name, t, SUM_TEXT_MAX);
			}
			if (c->json) {
				fputs(", \"type\": \"object\", \"class\": ", f);
				sum_put_json_text(f, t);
				fputc('}', f);
			} else {
				fputs("object(", f);
				sum_put_human_text(f, t);
				fputs(")\n", f);
			}
			return;
		}
		default:
			if (c->json) {
				fprintf(f, ", \"type\": \"%s\"}", sum_type_name(Z_TYPE(zv)));
			} else {
				fprintf(f, "%s\n", sum_type_name(Z_TYPE(zv)));
			}
			return;
	}
}

static void sum_globals(summary_ctx *c, const zend_executor_globals *eg)
{
	sum_globals_walk w;

	memset(&w, 0, sizeof(w));
	w.key = malloc(sizeof(*w.key));
	w.val = malloc(sizeof(*w.val));
	if (!w.key || !w.val) {
		c->oom = true;
	}
	fputs(c->json ? "  \"globals\": [" : "globals:\n", c->out);
	if (!c->oom) {
		sum_walk_hash(c, &eg->symbol_table, "EG(symbol_table)", sum_global, &w);
	}
	if (c->json) {
		fputs(w.shown ? "\n  ],\n" : "],\n", c->out);
	}
	free(w.key);
	free(w.val);
}

/* ---- class and function tables ----------------------------------------- */

/*
 * Besides counting, every class, function and method name is read: names are
 * what an exclude-heap dump must still resolve without the C heap, and an
 * unreadable one is counted like any other pointer.
 */
typedef struct sum_table_walk {
	sum_kind kind;
	uint64_t user;
	uint64_t internal;
	uint64_t *ces;     /* class entries (aliases left out), whose methods are read afterwards */
	size_t nces;
	size_t cap;
	sum_text *text;
} sum_table_walk;

/* Reads the zend_string * at addr + off, then the string. */
static bool sum_read_name(summary_ctx *c, uint64_t addr, size_t off, sum_kind kind, sum_text *t)
{
	uint64_t name;

	if (!sum_read_ptr(c, addr + off, &name, kind)) {
		return false;
	}
	return sum_read_zstr(c, name, t, SUM_TEXT_MAX);
}

static void sum_table_entry(summary_ctx *c, const zval *val, uint64_t key, zend_ulong h, void *arg)
{
	sum_table_walk *w = arg;
	uint64_t entry = SUM_PTR(Z_PTR_P(val));
	zend_uchar type;

	(void) key;
	(void) h;
	/* class aliases are IS_ALIAS_PTR (7.4+); both kinds start with their `type` byte */
#if PHP_VERSION_ID >= 70400
	if (Z_TYPE_P(val) != IS_PTR && Z_TYPE_P(val) != IS_ALIAS_PTR) {
		return;
	}
#else
	if (Z_TYPE_P(val) != IS_PTR) {
		return;
	}
#endif
	if (!sum_read(c, entry, &type, sizeof(type), w->kind)) {
		return;
	}
	if (w->kind == SUM_CLASS_ENTRY ? type == ZEND_INTERNAL_CLASS : type == ZEND_INTERNAL_FUNCTION) {
		w->internal++;
	} else {
		w->user++;
	}
	if (w->kind != SUM_CLASS_ENTRY) {
		sum_read_name(c, entry, offsetof(zend_function, common.function_name), SUM_FUNCTION, w->text);
		return;
	}
	sum_read_name(c, entry, offsetof(zend_class_entry, name), SUM_CLASS_ENTRY, w->text);
	if (Z_TYPE_P(val) != IS_PTR) {
		return;
	}
	if (w->nces == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		uint64_t *v = realloc(w->ces, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return;
		}
		w->ces = v;
		w->cap = cap;
	}
	w->ces[w->nces++] = entry;
}

/* Returns nNumOfElements, or -1 when the table cannot be read. */
static int64_t sum_table(summary_ctx *c, uint64_t addr, const char *what, sum_table_walk *w)
{
	zend_array ht;

	if (!sum_read(c, addr, &ht, sizeof(ht), SUM_HASH_TABLE)) {
		return -1;
	}
	sum_walk_hash(c, &ht, what, sum_table_entry, w);
	return ht.nNumOfElements;
}

/* The methods of every class (CG(class_table) walked into cw first). */
static void sum_methods(summary_ctx *c, const sum_table_walk *cw, sum_table_walk *mw)
{
	size_t i;

	for (i = 0; i < cw->nces && !c->oom; i++) {
		zend_array ht;

		if (sum_read(c, cw->ces[i] + offsetof(zend_class_entry, function_table), &ht, sizeof(ht),
				SUM_CLASS_ENTRY)) {
			sum_walk_hash(c, &ht, "a class's function_table", sum_table_entry, mw);
		}
	}
}

static void sum_tables(summary_ctx *c, const zend_compiler_globals *cg, bool cg_ok)
{
	sum_table_walk cw, fw, mw;
	int64_t classes = -1, functions = -1;
	FILE *f = c->out;
	sum_text *text = malloc(sizeof(*text));

	memset(&cw, 0, sizeof(cw));
	memset(&fw, 0, sizeof(fw));
	memset(&mw, 0, sizeof(mw));
	cw.kind = SUM_CLASS_ENTRY;
	fw.kind = mw.kind = SUM_FUNCTION;
	cw.text = fw.text = mw.text = text;
	if (!text) {
		c->oom = true;
		return;
	}
	if (cg_ok) {
		classes = sum_table(c, SUM_PTR(cg->class_table), "CG(class_table)", &cw);
		functions = sum_table(c, SUM_PTR(cg->function_table), "CG(function_table)", &fw);
		sum_methods(c, &cw, &mw);
	}
	free(cw.ces);
	free(text);
	if (c->oom) {
		return;
	}
	if (c->json) {
		if (classes >= 0) {
			fprintf(f, "  \"classes\": %" PRId64 ",\n  \"classes_user\": %" PRIu64 ",\n", classes, cw.user);
			fprintf(f, "  \"methods\": %" PRIu64 ",\n", mw.user + mw.internal);
		} else {
			fputs("  \"classes\": null,\n  \"classes_user\": null,\n  \"methods\": null,\n", f);
		}
		if (functions >= 0) {
			fprintf(f, "  \"functions\": %" PRId64 ",\n  \"functions_user\": %" PRIu64 ",\n", functions, fw.user);
		} else {
			fputs("  \"functions\": null,\n  \"functions_user\": null,\n", f);
		}
		return;
	}
	fputs("tables: ", f);
	if (classes >= 0) {
		fprintf(f, "%" PRId64 " classes (%" PRIu64 " user, %" PRIu64 " methods)", classes, cw.user,
			mw.user + mw.internal);
	} else {
		fputs("? classes", f);
	}
	fputs(", ", f);
	if (functions >= 0) {
		fprintf(f, "%" PRId64 " functions (%" PRIu64 " user)\n", functions, fw.user);
	} else {
		fputs("? functions\n", f);
	}
}

/* ---- entry point ------------------------------------------------------- */

static void sum_usage(FILE *f)
{
	fputs("usage: rdump-cli summary FILE [--json] [--dependency-root DIR]\n", f);
}

static void sum_unreadable(summary_ctx *c)
{
	FILE *f = c->out;
	int k;
	bool first = true;

	if (c->json) {
		fputs("  \"unreadable\": {", f);
		for (k = 0; k < SUM_KIND_COUNT; k++) {
			if (c->missing[k]) {
				fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", sum_kind_names[k], c->missing[k]);
				first = false;
			}
		}
		fprintf(f, "},\n  \"unreadable_total\": %" PRIu64 ",\n  \"warnings\": %" PRIu64 "\n}\n",
			c->missing_total, c->warnings);
		return;
	}
	fprintf(f, "unreadable pointers: %" PRIu64, c->missing_total);
	if (c->missing_total) {
		fputs(" (", f);
		for (k = 0; k < SUM_KIND_COUNT; k++) {
			if (c->missing[k]) {
				fprintf(f, "%s%s: %" PRIu64, first ? "" : ", ", sum_kind_names[k], c->missing[k]);
				first = false;
			}
		}
		fputc(')', f);
	}
	fputc('\n', f);
	if (c->warnings) {
		fprintf(f, "warnings: %" PRIu64 "\n", c->warnings);
	}
}

int rdump_cli_summary(int argc, char **argv)
{
	const char *path = NULL, *dep_root = NULL;
	char want[16];
	rdump_reader r;
	summary_ctx c;
	zend_executor_globals *eg;
	zend_compiler_globals *cg;
	bool json = false, eg_ok = false, cg_ok = false;
	int i, status;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--dependency-root") == 0) {
			if (++i >= argc || argv[i][0] == '\0') {
				fputs("rdump-cli summary: --dependency-root needs a directory\n", stderr);
				sum_usage(stderr);
				return RDUMP_EXIT_USAGE;
			}
			dep_root = argv[i];
		} else if (strncmp(argv[i], "--dependency-root=", 18) == 0 && argv[i][18] != '\0') {
			dep_root = argv[i] + 18;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			sum_usage(stdout);
			return RDUMP_EXIT_OK;
		} else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && path == NULL) {
			path = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "rdump-cli summary: unknown option %s\n", argv[i]);
			sum_usage(stderr);
			return RDUMP_EXIT_USAGE;
		} else if (path == NULL) {
			path = argv[i];
		} else {
			fprintf(stderr, "rdump-cli summary: unexpected argument %s\n", argv[i]);
			sum_usage(stderr);
			return RDUMP_EXIT_USAGE;
		}
	}
	if (path == NULL) {
		sum_usage(stderr);
		return RDUMP_EXIT_USAGE;
	}

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.dependency_root = dep_root;
	if (rdump_reader_open(&r, path) != RDUMP_ROK) {
		fprintf(stderr, "rdump-cli summary: %s\n", r.message);
		rdump_reader_close(&r);
		return RDUMP_EXIT_FAILURE;
	}
	r.dependency_root = dep_root;

	/* the layouts compiled in are only right for the PHP version they came from */
	snprintf(want, sizeof(want), "v%d%d", PHP_MAJOR_VERSION, PHP_MINOR_VERSION);
	if (r.php_version.len != strlen(want) || memcmp(r.php_version.ptr, want, r.php_version.len) != 0) {
		fprintf(stderr, "rdump-cli summary: %s is a dump of PHP ", path);
		sum_put_human(stderr, r.php_version.ptr ? r.php_version.ptr : "", r.php_version.len, false);
		fprintf(stderr, ", but this rdump-cli was built against PHP %d.%d headers (%s);"
			" summary needs rdump-cli built for ", PHP_MAJOR_VERSION, PHP_MINOR_VERSION, want);
		if (r.php_version.len == 3 && r.php_version.ptr[0] == 'v'
				&& r.php_version.ptr[1] >= '0' && r.php_version.ptr[1] <= '9'
				&& r.php_version.ptr[2] >= '0' && r.php_version.ptr[2] <= '9') {
			fprintf(stderr, "PHP %c.%c\n", r.php_version.ptr[1], r.php_version.ptr[2]);
		} else {
			fputs("the dumped PHP version\n", stderr);
		}
		rdump_reader_close(&r);
		return RDUMP_EXIT_FAILURE;
	}

	memset(&c, 0, sizeof(c));
	c.r = &r;
	c.json = json;
	c.out = stdout;

	eg = calloc(1, sizeof(*eg));
	cg = calloc(1, sizeof(*cg));
	if (!eg || !cg) {
		fputs("rdump-cli summary: out of memory\n", stderr);
		free(eg);
		free(cg);
		rdump_reader_close(&r);
		return RDUMP_EXIT_FAILURE;
	}
	eg_ok = sum_read(&c, r.eg_address, eg, sizeof(*eg), SUM_EXECUTOR_GLOBALS);
	cg_ok = sum_read(&c, r.cg_address, cg, sizeof(*cg), SUM_COMPILER_GLOBALS);

	if (c.json) {
		fputs("{\n  \"file\": ", c.out);
		sum_put_json(c.out, path, strlen(path));
		fputs(",\n  \"php_version\": ", c.out);
		sum_put_json(c.out, r.php_version.ptr, r.php_version.len);
		fprintf(c.out, ",\n  \"pid\": %" PRIu64 ",\n", r.pid);
	} else {
		fprintf(c.out, "php %s pid %" PRIu64 "\n", want, r.pid);
	}

	if (eg_ok) {
		sum_stack(&c, eg);
		if (!c.oom) {
			sum_objects(&c, eg);
		}
		if (!c.oom) {
			sum_globals(&c, eg);
		}
	} else if (c.json) {
		fputs("  \"stack\": null,\n  \"objects_live\": null,\n  \"objects\": null,\n  \"globals\": null,\n", c.out);
	} else {
		fputs("stack: ?\nobjects: ?\nglobals: ?\n", c.out);
	}
	if (!c.oom) {
		sum_tables(&c, cg, cg_ok);
		sum_unreadable(&c);
	}

	status = RDUMP_EXIT_OK;
	if (c.oom) {
		fflush(c.out);
		fputs("rdump-cli summary: out of memory\n", stderr);
		status = RDUMP_EXIT_FAILURE;
	} else if (c.missing_total || c.warnings) {
		/* the details above stop after a few; this line is always there */
		fprintf(stderr, "rdump-cli summary: %s: incomplete summary (unreadable pointers: %" PRIu64 ", warnings: %" PRIu64 ")\n",
			path, c.missing_total, c.warnings);
		status = RDUMP_EXIT_FAILURE;
	}
	if (fflush(c.out) != 0 || ferror(c.out)) {
		fprintf(stderr, "rdump-cli summary: writing output: %s\n", strerror(errno));
		status = RDUMP_EXIT_FAILURE;
	}
	free(eg);
	free(cg);
	rdump_reader_close(&r);
	return status;
}
