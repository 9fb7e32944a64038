/*
 * Walks the engine's metadata tables in the target for exclude-heap dumps
 * (see php_meta.h). Every pointer comes from the target and may be stale or
 * garbage: each read goes through rdump_target_read, each table and count is
 * sanity-checked, nesting is bounded by depth, every structure is visited
 * once (a set of addresses), and the total work has a budget. Runs on the
 * dump path: mmap'd memory only.
 */
#include <string.h>
#include "php.h"
#include "zend_globals.h"
#include "zend_ast.h"
#if PHP_VERSION_ID >= 80000
# include "zend_attributes.h"
#endif
#include "php_meta.h"

/* Nested tables: class table > class > methods > attributes > argument values > arrays. */
#define META_MAX_DEPTH      8
#define META_MAX_AST_DEPTH  32
#define META_CHUNK          16384             /* bytes of a table read at once, per depth */
#define META_MAX_STRING     ((uint64_t) 256 << 20)
#define META_MAX_COUNT      65536             /* interfaces, arguments, type lists, attribute args */
#define META_MAX_SLOTS      (1u << 20)        /* default property / static member slots of a class */
#define META_BUDGET         ((uint64_t) 20000000) /* table entries visited in all */
#define META_SEEN_MIN       ((size_t) 1 << 16)
#define META_SEEN_MAX       ((size_t) 1 << 24)
#define META_SCAN_MAX       ((uint64_t) 16 << 20) /* writable engine segment searched for the string table */
#define META_SCAN_CHUNK     ((size_t) 65536)
#define META_CACHE_PAGES    256               /* pages of target memory cached by the walk */

/* What differs between PHP versions in the hash tables walked here. */
#if PHP_VERSION_ID >= 80200
# define META_PACKED_SIZE sizeof(zval)     /* packed arrays hold zvals, not Buckets */
#else
# define META_PACKED_SIZE sizeof(Bucket)
#endif
#if PHP_VERSION_ID >= 70300
# define META_HT_FLAGS(ht) HT_FLAGS(ht)
# define META_HT_PERSISTENT(ht) ((GC_FLAGS(ht) & GC_PERSISTENT) != 0)
# define META_HT_SIZE_TO_MASK(n) HT_SIZE_TO_MASK(n)
#else
# define META_HT_FLAGS(ht) ((ht)->u.flags)
# define META_HT_PERSISTENT(ht) ((META_HT_FLAGS(ht) & HASH_FLAG_PERSISTENT) != 0)
# define META_HT_SIZE_TO_MASK(n) ((uint32_t) -(int32_t) (n))
#endif
#if PHP_VERSION_ID >= 70400
# define META_HT_UNINITIALIZED(ht) ((META_HT_FLAGS(ht) & HASH_FLAG_UNINITIALIZED) != 0)
#else
# define META_HT_UNINITIALIZED(ht) ((META_HT_FLAGS(ht) & HASH_FLAG_INITIALIZED) == 0)
#endif
#define META_HT_PACKED(ht) ((META_HT_FLAGS(ht) & HASH_FLAG_PACKED) != 0)

#define P(x) ((uint64_t) (uintptr_t) (x))

/* arg_info arrays are walked with one stride for internal and user functions */
typedef char meta_arg_info_sizes_match[sizeof(zend_arg_info) == sizeof(zend_internal_arg_info) ? 1 : -1];

typedef struct meta_walk {
	rdump_target *t;
	rdump_vec *roots;
	rdump_meta_stats *st;
	uint64_t page_mask;
	uint64_t last_start;     /* the range pushed last: repeats are common and cheap to drop */
	uint64_t last_end;
	uint64_t map_ptr_base;   /* CG(map_ptr_base) as the engine uses it (biased) */
	unsigned char *scratch;  /* META_MAX_DEPTH buffers of META_CHUNK */
	unsigned char *cache;    /* META_CACHE_PAGES pages, direct-mapped */
	uint64_t cache_tag[META_CACHE_PAGES]; /* page address + 1; 0 = empty */
	rdump_vec kept;          /* rdump_range, sorted: memory the dump keeps whole anyway */
	int skip_kept_code;      /* user classes and functions in kept memory need no walk */
	uint64_t *seen;          /* open addressing; 0 = empty */
	size_t seen_cap;
	size_t seen_count;
	uint64_t budget;
	int oom;
} meta_walk;

static void walk_zval(meta_walk *w, const zval *zv, int depth);
static void walk_ast(meta_walk *w, uint64_t addr, int depth, int ast_depth);

/*
 * Reads target memory. The structures walked are small and were allocated
 * one after the other at start-up, so a read that stays inside one page is
 * served from a cache of whole pages: one syscall for many structures. The
 * target does not change meanwhile (it is stopped, or it is this thread).
 */
static int rd(meta_walk *w, uint64_t addr, void *buf, size_t n)
{
	uint64_t page = addr & ~w->page_mask, ps = w->page_mask + 1;
	size_t slot;

	if (addr == 0 || addr + n < addr) {
		return -1;
	}
	if (w->cache == NULL || n == 0 || ((addr + n - 1) & ~w->page_mask) != page) {
		return rdump_target_read(w->t, addr, buf, n);
	}
	slot = (size_t) (page / ps) & (META_CACHE_PAGES - 1);
	if (w->cache_tag[slot] != page + 1) {
		w->cache_tag[slot] = 0;
		if (rdump_target_read(w->t, page, w->cache + slot * ps, ps) < 0) {
			return rdump_target_read(w->t, addr, buf, n);
		}
		w->cache_tag[slot] = page + 1;
	}
	memcpy(buf, w->cache + slot * ps + (addr - page), n);
	return 0;
}

static int rd_ptr(meta_walk *w, uint64_t addr, uint64_t *out)
{
	return rd(w, addr, out, sizeof(*out));
}

/* The kept range holding addr, or NULL. */
static const rdump_range *kept_range(const meta_walk *w, uint64_t addr)
{
	const rdump_range *r = w->kept.items;
	size_t lo = 0, hi = w->kept.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < r[mid].start) {
			hi = mid;
		} else if (addr >= r[mid].end) {
			lo = mid + 1;
		} else {
			return &r[mid];
		}
	}
	return NULL;
}

/* Keeps the pages holding [addr, addr + len). */
static void keep(meta_walk *w, uint64_t addr, uint64_t len)
{
	const rdump_range *k;
	uint64_t start, end;

	if (w->oom) {
		return;
	}
	if (addr == 0 || len == 0 || len > META_MAX_STRING * 4 || addr + len + w->page_mask < addr) {
		w->st->broken++;
		return;
	}
	if ((k = kept_range(w, addr)) != NULL && addr + len <= k->end) {
		return;
	}
	start = addr & ~w->page_mask;
	end = (addr + len + w->page_mask) & ~w->page_mask;
	if (start >= w->last_start && end <= w->last_end) {
		return;
	}
	if (rdump_ranges_add(w->roots, start, end) < 0) {
		w->oom = 1;
		return;
	}
	w->last_start = start;
	w->last_end = end;
}

static size_t seen_slot(const uint64_t *set, size_t cap, uint64_t addr)
{
	size_t i = (size_t) ((addr >> 3) * 0x9e3779b97f4a7c15ULL) & (cap - 1);

	while (set[i] != 0 && set[i] != addr) {
		i = (i + 1) & (cap - 1);
	}
	return i;
}

/*
 * 1 the first time addr is asked about, 0 after. When the set cannot grow
 * it answers 1 without remembering: walks repeat, but stay bounded by depth.
 */
static int first_visit(meta_walk *w, uint64_t addr)
{
	size_t i;

	if (w->seen_count * 2 >= w->seen_cap && w->seen_cap < META_SEEN_MAX) {
		size_t cap = w->seen_cap ? w->seen_cap * 2 : META_SEEN_MIN, j;
		uint64_t *set = rdump_mem_alloc(cap * sizeof(uint64_t));

		if (set != NULL) {
			for (j = 0; j < w->seen_cap; j++) {
				if (w->seen[j] != 0) {
					set[seen_slot(set, cap, w->seen[j])] = w->seen[j];
				}
			}
			rdump_mem_free(w->seen, w->seen_cap * sizeof(uint64_t));
			w->seen = set;
			w->seen_cap = cap;
		}
	}
	if (w->seen == NULL || w->seen_count * 10 >= w->seen_cap * 9) {
		return 1;
	}
	i = seen_slot(w->seen, w->seen_cap, addr);
	if (w->seen[i] == addr) {
		return 0;
	}
	w->seen[i] = addr;
	w->seen_count++;
	return 1;
}

static void keep_str(meta_walk *w, uint64_t addr)
{
	zend_string hdr;

	/* a string is one allocation: inside a kept chunk, huge block, arena or segment, it is whole */
	if (addr == 0 || kept_range(w, addr) != NULL || !first_visit(w, addr)) {
		return;
	}
	if (rd(w, addr, &hdr, _ZSTR_HEADER_SIZE) < 0 || GC_TYPE(&hdr) != IS_STRING
		|| ZSTR_LEN(&hdr) > META_MAX_STRING) {
		w->st->broken++;
		return;
	}
	keep(w, addr, _ZSTR_STRUCT_SIZE(ZSTR_LEN(&hdr)));
	w->st->strings++;
}

/* A class entry walked elsewhere (parent, interface, scope): the struct and its name. */
static void keep_class_ref(meta_walk *w, uint64_t ce)
{
	uint64_t name;

	if (ce == 0 || kept_range(w, ce) != NULL || !first_visit(w, ce + 1)) {
		return;
	}
	keep(w, ce, sizeof(zend_class_entry));
	if (rd_ptr(w, ce + offsetof(zend_class_entry, name), &name) < 0) {
		w->st->broken++;
		return;
	}
	keep_str(w, name);
}

#if PHP_VERSION_ID >= 80100
/* ZEND_MAP_PTR_GET() on a value read from the target. */
static uint64_t map_ptr_get(meta_walk *w, uint64_t v)
{
	uint64_t slot;

	if ((v & 1) == 0) {
		return v;
	}
	if (w->map_ptr_base == 0 || rd_ptr(w, w->map_ptr_base + v, &slot) < 0) {
		w->st->broken++;
		return 0;
	}
	return slot;
}
#endif

typedef void (*meta_entry_fn)(meta_walk *w, const zval *val, int depth);

/*
 * Keeps a table's hash and used slots (and each key) and hands every used
 * value to fn. ht is a copy already read from the target; the slots are read
 * in chunks into this depth's buffer, so fn may walk deeper tables.
 */
static void walk_ht(meta_walk *w, const HashTable *ht, int depth, meta_entry_fn fn)
{
	uint32_t used = ht->nNumUsed, mask_neg = 0u - ht->nTableMask;
	int packed = META_HT_PACKED(ht);
	size_t elem = packed ? META_PACKED_SIZE : sizeof(Bucket), per = META_CHUNK / elem;
	uint64_t ar = P(ht->arData), hash_size, i;
	unsigned char *buf;

	if (META_HT_UNINITIALIZED(ht) || used == 0) {
		return;
	}
	if (depth >= META_MAX_DEPTH) {
		w->st->truncated++;
		return;
	}
	/* the hash part has a power-of-two size up to twice HT_MAX_SIZE (2^31 on PHP 7.4: in 64 bits) */
	hash_size = (uint64_t) mask_neg * sizeof(uint32_t);
	if (ht->nTableSize > HT_MAX_SIZE || used > ht->nTableSize || mask_neg < 2
		|| (mask_neg & (mask_neg - 1)) != 0 || hash_size > 2 * sizeof(uint32_t) * (uint64_t) HT_MAX_SIZE
		|| ar == 0 || (ar & 7) != 0) {
		w->st->broken++;
		return;
	}
	keep(w, ar - hash_size, hash_size + (uint64_t) used * elem);
	if (!first_visit(w, ar)) {
		return;
	}
	buf = w->scratch + (size_t) depth * META_CHUNK;
	for (i = 0; i < used && !w->oom;) {
		size_t n = used - i < per ? (size_t) (used - i) : per, j;

		if (w->budget < n) {
			w->st->truncated++;
			return;
		}
		w->budget -= n;
		if (rd(w, ar + i * elem, buf, n * elem) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < n && !w->oom; j++) {
			if (packed) {
				zval zv;

				memcpy(&zv, buf + j * elem, sizeof(zv));
				if (Z_TYPE(zv) != IS_UNDEF) {
					fn(w, &zv, depth + 1);
				}
			} else {
				Bucket b;

				memcpy(&b, buf + j * elem, sizeof(b));
				if (Z_TYPE(b.val) != IS_UNDEF) {
					keep_str(w, P(b.key));
					fn(w, &b.val, depth + 1);
				}
			}
		}
		i += n;
	}
}

/* A HashTable * read from the target: the struct and its contents. */
static void walk_ht_ptr(meta_walk *w, uint64_t addr, int depth, meta_entry_fn fn)
{
	HashTable ht;

	if (addr == 0) {
		return;
	}
	if (rd(w, addr, &ht, sizeof(ht)) < 0 || GC_TYPE(&ht) != IS_ARRAY) {
		w->st->broken++;
		return;
	}
	keep(w, addr, sizeof(ht));
	walk_ht(w, &ht, depth, fn);
}

static void entry_zval(meta_walk *w, const zval *val, int depth)
{
	walk_zval(w, val, depth);
}

static void entry_none(meta_walk *w, const zval *val, int depth)
{
	(void) w;
	(void) val;
	(void) depth;
}

/* The zvals of a table such as default_properties_table. */
static void walk_zvals(meta_walk *w, uint64_t addr, uint64_t count, int depth)
{
	zval buf[64];
	uint64_t i;

	if (addr == 0 || count == 0) {
		return;
	}
	if (count > META_MAX_SLOTS) {
		w->st->broken++;
		return;
	}
	keep(w, addr, count * sizeof(zval));
	if (!first_visit(w, addr)) {
		return;
	}
	for (i = 0; i < count && !w->oom;) {
		size_t n = count - i < 64 ? (size_t) (count - i) : 64, j;

		if (rd(w, addr + i * sizeof(zval), buf, n * sizeof(zval)) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < n; j++) {
			walk_zval(w, &buf[j], depth);
		}
		i += n;
	}
}

static void walk_zval(meta_walk *w, const zval *zv, int depth)
{
	uint64_t addr;

	switch (Z_TYPE_P(zv)) {
		case IS_STRING:
			keep_str(w, P(Z_STR_P(zv)));
			return;
		case IS_ARRAY:
			addr = P(Z_ARR_P(zv));
			if (addr != 0 && first_visit(w, addr)) {
				walk_ht_ptr(w, addr, depth, entry_zval);
			}
			return;
		case IS_REFERENCE: {
			zend_reference ref;

			addr = P(Z_REF_P(zv));
			if (addr == 0 || !first_visit(w, addr)) {
				return;
			}
			if (rd(w, addr, &ref, sizeof(ref)) < 0 || depth >= META_MAX_DEPTH) {
				w->st->broken += depth < META_MAX_DEPTH;
				w->st->truncated += depth >= META_MAX_DEPTH;
				return;
			}
			keep(w, addr, sizeof(ref));
			walk_zval(w, &ref.val, depth + 1);
			return;
		}
		case IS_CONSTANT_AST:
			addr = P(Z_AST_P(zv));
			if (addr != 0 && first_visit(w, addr)) {
				keep(w, addr, sizeof(zend_ast_ref));
#if PHP_VERSION_ID >= 70300
				walk_ast(w, addr + sizeof(zend_ast_ref), depth, 0); /* the tree follows the ref */
#else
				{
					zend_ast_ref ref;

					if (rd(w, addr, &ref, sizeof(ref)) < 0) {
						w->st->broken++;
					} else {
						walk_ast(w, P(ref.ast), depth, 0);
					}
				}
#endif
			}
			return;
		default:
			/* scalars hold no pointer; objects live in ZendMM and the object store */
			return;
	}
}

/* Constant expressions of class constants and defaults that were never evaluated. */
static void walk_ast(meta_walk *w, uint64_t addr, int depth, int ast_depth)
{
	zend_ast hdr;
	uint64_t child[16];
	uint32_t n, i;
	size_t head;

	if (addr == 0) {
		return;
	}
	if (ast_depth >= META_MAX_AST_DEPTH) {
		w->st->truncated++;
		return;
	}
	if (rd(w, addr, &hdr, offsetof(zend_ast, child)) < 0) {
		w->st->broken++;
		return;
	}
#if PHP_VERSION_ID >= 70300
	if (hdr.kind == ZEND_AST_ZVAL || hdr.kind == ZEND_AST_CONSTANT) {
#else
	if (hdr.kind == ZEND_AST_ZVAL) {
#endif
		zend_ast_zval z;

		if (rd(w, addr, &z, sizeof(z)) < 0) {
			w->st->broken++;
			return;
		}
		keep(w, addr, sizeof(z));
		walk_zval(w, &z.val, depth);
		return;
	}
	if ((hdr.kind >> ZEND_AST_IS_LIST_SHIFT) & 1) {
		zend_ast_list list;

		if (rd(w, addr, &list, offsetof(zend_ast_list, child)) < 0 || list.children > META_MAX_COUNT) {
			w->st->broken++;
			return;
		}
		n = list.children;
		head = offsetof(zend_ast_list, child);
	} else if ((hdr.kind >> ZEND_AST_SPECIAL_SHIFT) & 1) {
		/* declarations (closures in constant expressions) carry no names an analyser resolves */
		keep(w, addr, sizeof(zend_ast));
		return;
	} else {
		n = hdr.kind >> ZEND_AST_NUM_CHILDREN_SHIFT;
		head = offsetof(zend_ast, child);
	}
	keep(w, addr, head + (uint64_t) n * sizeof(zend_ast *));
	for (i = 0; i < n && !w->oom;) {
		uint32_t k = n - i < 16 ? n - i : 16, j;

		if (rd(w, addr + head + (uint64_t) i * sizeof(zend_ast *), child, k * sizeof(uint64_t)) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < k; j++) {
			walk_ast(w, child[j], depth, ast_depth + 1);
		}
		i += k;
	}
}

#if PHP_VERSION_ID >= 80000
static void walk_type(meta_walk *w, zend_type type, int level)
{
	zend_type items[16];
	uint64_t list;
	uint32_t n, i;

	if (ZEND_TYPE_HAS_NAME(type)) {
		keep_str(w, P(type.ptr));
		return;
	}
	if (!ZEND_TYPE_HAS_LIST(type)) {
		return;
	}
	list = P(type.ptr);
	/* lists nest once at most (DNF types) */
	if (level > 2) {
		w->st->truncated++;
		return;
	}
	if (rd(w, list, &n, sizeof(n)) < 0 || n == 0 || n > META_MAX_COUNT) {
		w->st->broken++;
		return;
	}
	keep(w, list, ZEND_TYPE_LIST_SIZE(n));
	for (i = 0; i < n;) {
		uint32_t k = n - i < 16 ? n - i : 16, j;

		if (rd(w, list + offsetof(zend_type_list, types) + (uint64_t) i * sizeof(zend_type),
				items, k * sizeof(zend_type)) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < k; j++) {
			walk_type(w, items[j], level + 1);
		}
		i += k;
	}
}
#endif

#if PHP_VERSION_ID >= 80000
static void entry_attribute(meta_walk *w, const zval *val, int depth)
{
	zend_attribute a;
	uint64_t addr = P(Z_PTR_P(val));
	uint32_t i;

	if (Z_TYPE_P(val) != IS_PTR || addr == 0 || !first_visit(w, addr)) {
		return;
	}
	if (rd(w, addr, &a, offsetof(zend_attribute, args)) < 0 || a.argc > META_MAX_COUNT) {
		w->st->broken++;
		return;
	}
	keep(w, addr, ZEND_ATTRIBUTE_SIZE(a.argc));
	keep_str(w, P(a.name));
	keep_str(w, P(a.lcname));
	for (i = 0; i < a.argc && !w->oom; i++) {
		zend_attribute_arg arg;

		if (rd(w, addr + offsetof(zend_attribute, args) + (uint64_t) i * sizeof(arg), &arg, sizeof(arg)) < 0) {
			w->st->broken++;
			return;
		}
		keep_str(w, P(arg.name));
		walk_zval(w, &arg.value, depth);
	}
}

/* Attributes (PHP 8): a table of zend_attribute. */
static void walk_attributes(meta_walk *w, uint64_t addr, int depth)
{
	walk_ht_ptr(w, addr, depth, entry_attribute);
}
#endif

/*
 * Argument info: internal functions always have the return type at [-1]
 * and plain C strings as names (in the binary); user functions have it
 * only with ZEND_ACC_HAS_RETURN_TYPE and zend_string names.
 */
static void walk_arg_info(meta_walk *w, const zend_function *fn, int internal)
{
	zend_arg_info items[16];
	uint64_t ai = P(fn->common.arg_info);
	uint32_t n = fn->common.num_args, i;

	if (ai == 0) {
		return;
	}
	if (fn->common.fn_flags & ZEND_ACC_VARIADIC) {
		n++;
	}
	if (internal || (fn->common.fn_flags & ZEND_ACC_HAS_RETURN_TYPE)) {
		ai -= sizeof(zend_arg_info);
		n++;
	}
	if (n > META_MAX_COUNT) {
		w->st->broken++;
		return;
	}
	keep(w, ai, (uint64_t) n * sizeof(zend_arg_info));
	if (!first_visit(w, ai)) {
		return;
	}
	for (i = 0; i < n && !w->oom;) {
		uint32_t k = n - i < 16 ? n - i : 16, j;

		if (rd(w, ai + (uint64_t) i * sizeof(zend_arg_info), items, k * sizeof(zend_arg_info)) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < k; j++) {
			/* default_value is left uninitialised in user functions' arg_info */
			if (!internal) {
				keep_str(w, P(items[j].name));
			}
#if PHP_VERSION_ID >= 80000
			walk_type(w, items[j].type, 0);
#endif
		}
		i += k;
	}
}

static void walk_function(meta_walk *w, uint64_t addr, int depth)
{
	zend_function fn;
	int internal;

	(void) depth; /* attributes only (PHP 8) */
	if (addr == 0 || (w->skip_kept_code && kept_range(w, addr) != NULL) || !first_visit(w, addr)) {
		return;
	}
	/* an internal function is allocated only as large as zend_internal_function */
	memset(&fn, 0, sizeof(fn));
	if (rd(w, addr, &fn, sizeof(zend_internal_function)) < 0) {
		w->st->broken++;
		return;
	}
	internal = fn.type == ZEND_INTERNAL_FUNCTION;
	if (!internal) {
		if ((fn.type != ZEND_USER_FUNCTION && fn.type != ZEND_EVAL_CODE)
			|| rd(w, addr, &fn, sizeof(zend_op_array)) < 0) {
			w->st->broken++;
			return;
		}
	}
	keep(w, addr, internal ? sizeof(zend_internal_function) : sizeof(zend_op_array));
	w->st->functions++;
	keep_str(w, P(fn.common.function_name));
	keep_class_ref(w, P(fn.common.scope));
	walk_arg_info(w, &fn, internal);
#if PHP_VERSION_ID >= 80000
	walk_attributes(w, P(fn.common.attributes), depth);
#endif
#if PHP_VERSION_ID >= 80400
	keep_str(w, P(fn.common.doc_comment));
#endif
	if (!internal) {
		keep_str(w, P(fn.op_array.filename));
#if PHP_VERSION_ID < 80400
		keep_str(w, P(fn.op_array.doc_comment));
#endif
	}
}

static void entry_function(meta_walk *w, const zval *val, int depth)
{
	if (Z_TYPE_P(val) == IS_PTR) {
		walk_function(w, P(Z_PTR_P(val)), depth);
	}
}

/*
 * The struct an IS_PTR table entry points to, read and kept once: 0 when the
 * caller walks it now, -1 when it is null, seen before or unreadable.
 */
static int read_entry(meta_walk *w, const zval *val, void *buf, size_t size)
{
	uint64_t addr = P(Z_PTR_P(val));

	if (Z_TYPE_P(val) != IS_PTR || addr == 0 || !first_visit(w, addr)) {
		return -1;
	}
	if (rd(w, addr, buf, size) < 0) {
		w->st->broken++;
		return -1;
	}
	keep(w, addr, size);
	return 0;
}

static void entry_property(meta_walk *w, const zval *val, int depth)
{
	zend_property_info pi;

	(void) depth; /* attributes only (PHP 8) */
	if (read_entry(w, val, &pi, sizeof(pi)) < 0) {
		return;
	}
	keep_str(w, P(pi.name));
	keep_str(w, P(pi.doc_comment));
#if PHP_VERSION_ID >= 80000
	walk_type(w, pi.type, 0);
	walk_attributes(w, P(pi.attributes), depth);
#endif
#if PHP_VERSION_ID >= 80400
	/* property hooks: a get and a set function */
	if (pi.hooks != NULL) {
		uint64_t hooks[ZEND_PROPERTY_HOOK_COUNT];
		int i;

		keep(w, P(pi.hooks), sizeof(hooks));
		if (rd(w, P(pi.hooks), hooks, sizeof(hooks)) < 0) {
			w->st->broken++;
			return;
		}
		for (i = 0; i < ZEND_PROPERTY_HOOK_COUNT; i++) {
			walk_function(w, hooks[i], depth);
		}
	}
#endif
}

static void entry_class_constant(meta_walk *w, const zval *val, int depth)
{
#if PHP_VERSION_ID < 70100
	/* PHP 7.0 stores class constants as plain values */
	walk_zval(w, val, depth);
#else
	zend_class_constant c;

	if (read_entry(w, val, &c, sizeof(c)) < 0) {
		return;
	}
	w->st->constants++;
	walk_zval(w, &c.value, depth);
	keep_str(w, P(c.doc_comment));
#if PHP_VERSION_ID >= 80000
	walk_attributes(w, P(c.attributes), depth);
#endif
#if PHP_VERSION_ID >= 80300
	walk_type(w, c.type, 0);
#endif
#endif
}

#if PHP_VERSION_ID >= 70400
/* zend_class_name arrays: unresolved interfaces, traits. */
static void walk_class_names(meta_walk *w, uint64_t addr, uint32_t n)
{
	zend_class_name names[16];
	uint32_t i;

	if (addr == 0 || n == 0) {
		return;
	}
	keep(w, addr, (uint64_t) n * sizeof(zend_class_name));
	for (i = 0; i < n;) {
		uint32_t k = n - i < 16 ? n - i : 16, j;

		if (rd(w, addr + (uint64_t) i * sizeof(zend_class_name), names, k * sizeof(zend_class_name)) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < k; j++) {
			keep_str(w, P(names[j].name));
			keep_str(w, P(names[j].lc_name));
		}
		i += k;
	}
}
#endif

static void walk_interfaces(meta_walk *w, uint64_t addr, uint32_t n)
{
	uint64_t ces[16];
	uint32_t i;

	if (addr == 0 || n == 0) {
		return;
	}
	keep(w, addr, (uint64_t) n * sizeof(zend_class_entry *));
	for (i = 0; i < n;) {
		uint32_t k = n - i < 16 ? n - i : 16, j;

		if (rd(w, addr + (uint64_t) i * sizeof(uint64_t), ces, k * sizeof(uint64_t)) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < k; j++) {
			keep_class_ref(w, ces[j]);
		}
		i += k;
	}
}

static void walk_class(meta_walk *w, uint64_t addr, int depth)
{
	zend_class_entry ce;
	uint64_t p;

	if (addr == 0 || (w->skip_kept_code && kept_range(w, addr) != NULL) || !first_visit(w, addr)) {
		return;
	}
	if (rd(w, addr, &ce, sizeof(ce)) < 0
		|| (ce.type != ZEND_INTERNAL_CLASS && ce.type != ZEND_USER_CLASS)
		|| ce.default_properties_count < 0 || ce.default_static_members_count < 0
		|| ce.num_interfaces > META_MAX_COUNT || ce.num_traits > META_MAX_COUNT) {
		w->st->broken++;
		return;
	}
	keep(w, addr, sizeof(ce));
	w->st->classes++;
	keep_str(w, P(ce.name));
#if PHP_VERSION_ID >= 70400
	/* linking resolves names into entries */
	if (ce.ce_flags & ZEND_ACC_RESOLVED_PARENT) {
		keep_class_ref(w, P(ce.parent));
	} else {
		keep_str(w, P(ce.parent_name));
	}
	if (ce.ce_flags & ZEND_ACC_RESOLVED_INTERFACES) {
		walk_interfaces(w, P(ce.interfaces), ce.num_interfaces);
	} else {
		walk_class_names(w, P(ce.interface_names), ce.num_interfaces);
	}
	walk_class_names(w, P(ce.trait_names), ce.num_traits);
#else
	keep_class_ref(w, P(ce.parent));
	walk_interfaces(w, P(ce.interfaces), ce.num_interfaces);
	walk_interfaces(w, P(ce.traits), ce.num_traits);
#endif

	walk_zvals(w, P(ce.default_properties_table), (uint64_t) ce.default_properties_count, depth);
	walk_zvals(w, P(ce.default_static_members_table), (uint64_t) ce.default_static_members_count, depth);
#if PHP_VERSION_ID >= 80100
	p = map_ptr_get(w, P(ZEND_MAP_PTR(ce.static_members_table)));
#elif PHP_VERSION_ID >= 70400
	p = 0; /* 7.4 and 8.0 keep it in a map_ptr slot too, as a pointer to the slot: in ZendMM either way */
#else
	p = P(ce.static_members_table);
#endif
	if (p != 0 && p != P(ce.default_static_members_table)) {
		walk_zvals(w, p, (uint64_t) ce.default_static_members_count, depth);
	}
#if PHP_VERSION_ID >= 70400
	if (ce.properties_info_table && ce.default_properties_count > 0) {
		keep(w, P(ce.properties_info_table), (uint64_t) ce.default_properties_count * sizeof(void *));
	}
#endif

	walk_ht(w, &ce.function_table, depth, entry_function);
	walk_ht(w, &ce.properties_info, depth, entry_property);
	walk_ht(w, &ce.constants_table, depth, entry_class_constant);

#if PHP_VERSION_ID >= 80100
	p = map_ptr_get(w, P(ZEND_MAP_PTR(ce.mutable_data)));
	if (p != 0) {
		zend_class_mutable_data md;

		if (rd(w, p, &md, sizeof(md)) < 0) {
			w->st->broken++;
		} else {
			keep(w, p, sizeof(md));
			walk_zvals(w, P(md.default_properties_table), (uint64_t) ce.default_properties_count, depth);
			walk_ht_ptr(w, P(md.constants_table), depth, entry_class_constant);
#if PHP_VERSION_ID >= 80200
			walk_ht_ptr(w, P(md.backed_enum_table), depth, entry_zval);
#endif
		}
	}
	walk_ht_ptr(w, P(ce.backed_enum_table), depth, entry_zval);
#endif
#if PHP_VERSION_ID >= 70300
	if (ce.iterator_funcs_ptr) {
		keep(w, P(ce.iterator_funcs_ptr), sizeof(zend_class_iterator_funcs));
	}
#endif
#if PHP_VERSION_ID >= 80200
	if (ce.arrayaccess_funcs_ptr) {
		keep(w, P(ce.arrayaccess_funcs_ptr), sizeof(zend_class_arrayaccess_funcs));
	}
#endif
#if PHP_VERSION_ID >= 80000
	walk_attributes(w, P(ce.attributes), depth);
#endif
#if PHP_VERSION_ID >= 80400
	keep_str(w, P(ce.doc_comment));
#endif
	if (ce.type == ZEND_USER_CLASS) {
		keep_str(w, P(ce.info.user.filename));
#if PHP_VERSION_ID < 80400
		keep_str(w, P(ce.info.user.doc_comment));
#endif
	}
}

static void entry_class(meta_walk *w, const zval *val, int depth)
{
	/* class aliases (class_alias()) are IS_ALIAS_PTR to the same entry */
#ifdef IS_ALIAS_PTR
	if (Z_TYPE_P(val) == IS_PTR || Z_TYPE_P(val) == IS_ALIAS_PTR) {
#else
	if (Z_TYPE_P(val) == IS_PTR) {
#endif
		walk_class(w, P(Z_PTR_P(val)), depth);
	}
}

static void entry_constant(meta_walk *w, const zval *val, int depth)
{
	zend_constant c;

	if (read_entry(w, val, &c, sizeof(c)) < 0) {
		return;
	}
	w->st->constants++;
	keep_str(w, P(c.name));
	walk_zval(w, &c.value, depth);
}

static void entry_auto_global(meta_walk *w, const zval *val, int depth)
{
	zend_auto_global ag;
	uint64_t addr = P(Z_PTR_P(val));

	(void) depth;
	if (Z_TYPE_P(val) != IS_PTR || addr == 0) {
		return;
	}
	if (rd(w, addr, &ag, sizeof(ag)) < 0) {
		w->st->broken++;
		return;
	}
	keep(w, addr, sizeof(ag));
	keep_str(w, P(ag.name));
}

/* Globals: names and string values; arrays and objects are ZendMM's. */
static void entry_global(meta_walk *w, const zval *val, int depth)
{
	zval zv = *val;

	(void) depth;
	if (Z_TYPE(zv) == IS_INDIRECT && rd(w, P(Z_INDIRECT(zv)), &zv, sizeof(zv)) < 0) {
		w->st->broken++;
		return;
	}
	if (Z_TYPE(zv) == IS_STRING) {
		keep_str(w, P(Z_STR(zv)));
	}
}

/* The pointer array behind zend_known_strings and each string. */
static void walk_string_array(meta_walk *w, uint64_t array, uint32_t n)
{
	uint64_t strs[64];
	uint32_t i;

	if (array == 0) {
		return;
	}
	keep(w, array, (uint64_t) n * sizeof(uint64_t));
	for (i = 0; i < n;) {
		uint32_t k = n - i < 64 ? n - i : 64, j;

		if (rd(w, array + (uint64_t) i * sizeof(uint64_t), strs, k * sizeof(uint64_t)) < 0) {
			w->st->broken++;
			return;
		}
		for (j = 0; j < k; j++) {
			keep_str(w, strs[j]);
		}
		i += k;
	}
}

/* Does the string table ht hold the interned string at key (hash h) as a key? */
static int table_holds(meta_walk *w, const HashTable *ht, uint64_t key, zend_ulong h)
{
	uint64_t ar = P(ht->arData);
	uint32_t idx;
	int n;

	if (rd(w, ar + (uint64_t) (int64_t) (int32_t) ((uint32_t) h | ht->nTableMask) * sizeof(uint32_t),
			&idx, sizeof(idx)) < 0) {
		return 0;
	}
	for (n = 0; idx != HT_INVALID_IDX && n < 1024; n++) {
		Bucket b;

		if (idx >= ht->nNumUsed || rd(w, ar + (uint64_t) idx * sizeof(Bucket), &b, sizeof(b)) < 0) {
			return 0;
		}
		if (P(b.key) == key) {
			return 1;
		}
		idx = Z_NEXT(b.val);
	}
	return 0;
}

static int looks_like_string_table(const HashTable *ht)
{
	uint32_t size = ht->nTableSize;

	return GC_TYPE(ht) == IS_ARRAY && META_HT_PERSISTENT(ht) && !META_HT_PACKED(ht) && !META_HT_UNINITIALIZED(ht)
		&& size >= HT_MIN_SIZE && size <= HT_MAX_SIZE && (size & (size - 1)) == 0
		&& ht->nTableMask == META_HT_SIZE_TO_MASK(size) && ht->nNumUsed <= size
		&& ht->nNumOfElements <= ht->nNumUsed && ht->nNumUsed > 0
		&& ht->arData != NULL && (P(ht->arData) & 7) == 0;
}

/*
 * Without opcache the names interned at start-up (every class, function,
 * constant, ini and superglobal name, and many strings user code shares
 * with them) live in a static HashTable of the engine (zend_string.c's
 * interned_strings_permanent) that no exported symbol names. It sits in the
 * engine's writable segment next to zend_known_strings; the one table there
 * that holds zend_empty_string under its own hash is it. With opcache the
 * strings were copied to shared memory and the lookup fails: nothing to do.
 */
static int walk_permanent_strings(meta_walk *w, const rdump_php_addrs *a)
{
	const rdump_map_entry *map = w->t->map.items;
	size_t nmap = w->t->map.count, i, first, last;
	uint64_t empty, start, end, pos;
	zend_string hdr;
	unsigned char *buf;

	if (a->empty_string == 0 || a->known_strings == 0 || rd_ptr(w, a->empty_string, &empty) < 0
		|| rd(w, empty, &hdr, _ZSTR_HEADER_SIZE) < 0 || ZSTR_H(&hdr) == 0) {
		return 0;
	}
	for (i = 0; i < nmap && !(map[i].begin <= a->known_strings && a->known_strings < map[i].end); i++) {
	}
	if (i == nmap || !map[i].w) {
		return 0;
	}
	/* the writable run of mappings around it: .data, .bss and its anonymous tail */
	first = last = i;
	while (first > 0 && map[first - 1].end == map[first].begin && map[first - 1].w && map[first - 1].r) {
		first--;
	}
	while (last + 1 < nmap && map[last + 1].begin == map[last].end && map[last + 1].w && map[last + 1].r) {
		last++;
	}
	start = map[first].begin;
	end = map[last].end;
	if (end - start > META_SCAN_MAX) {
		w->st->truncated++;
		start = a->known_strings > META_SCAN_MAX / 2 + map[first].begin
			? a->known_strings - META_SCAN_MAX / 2 : map[first].begin;
		end = start + META_SCAN_MAX < end ? start + META_SCAN_MAX : end;
	}
	buf = rdump_mem_alloc(META_SCAN_CHUNK + sizeof(HashTable));
	if (buf == NULL) {
		w->oom = 1;
		return 0;
	}
	for (pos = start; pos < end; pos += META_SCAN_CHUNK) {
		size_t n = end - pos < META_SCAN_CHUNK + sizeof(HashTable)
			? (size_t) (end - pos) : META_SCAN_CHUNK + sizeof(HashTable), off;

		if (rd(w, pos, buf, n) < 0) {
			continue;
		}
		for (off = 0; off + sizeof(HashTable) <= n && off < META_SCAN_CHUNK; off += 8) {
			HashTable ht;

			memcpy(&ht, buf + off, sizeof(ht));
			if (looks_like_string_table(&ht) && table_holds(w, &ht, empty, ZSTR_H(&hdr))) {
				rdump_mem_free(buf, META_SCAN_CHUNK + sizeof(HashTable));
				w->st->permanent_strings = ht.nNumOfElements;
				keep(w, pos + off, sizeof(ht));
				walk_ht(w, &ht, 0, entry_none);
				return 1;
			}
		}
	}
	rdump_mem_free(buf, META_SCAN_CHUNK + sizeof(HashTable));
	return 0;
}

/*
 * Memory the plan keeps whole whatever the roots say: the engine's own
 * ranges found so far (ZendMM, arenas, VM stack, globals), shared memory
 * (opcache) and writable file-backed segments. Pointers into it need no
 * reading, which is most of user code's metadata.
 */
static int build_kept(meta_walk *w, const rdump_vec *roots)
{
	const rdump_map_entry *map = w->t->map.items;
	size_t i;

	rdump_vec_init(&w->kept, sizeof(rdump_range));
	for (i = 0; i < roots->count; i++) {
		const rdump_range *r = &RDUMP_VEC_AT(roots, rdump_range, i);

		if (rdump_ranges_add(&w->kept, r->start, r->end) < 0) {
			return -1;
		}
	}
	for (i = 0; i < w->t->map.count; i++) {
		rdump_map_kind kind = rdump_map_classify(&map[i]);

		if (map[i].r && (kind == RDUMP_MAP_SHM || kind == RDUMP_MAP_FILE_RW)
			&& rdump_ranges_add(&w->kept, map[i].begin, map[i].end) < 0) {
			return -1;
		}
	}
	rdump_ranges_normalize(&w->kept);
	return 0;
}

int rdump_php_meta(rdump_target *t, const rdump_php_addrs *a, rdump_vec *roots, rdump_meta_stats *st)
{
	zend_executor_globals eg;
	zend_compiler_globals cg;
	meta_walk w;
	uint64_t empty = 0;
	int have_eg, have_cg, rc = -1;

	memset(st, 0, sizeof(*st));
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.roots = roots;
	w.st = st;
	w.page_mask = rdump_page_size() - 1;
	w.budget = META_BUDGET;
	w.scratch = rdump_mem_alloc((size_t) META_MAX_DEPTH * META_CHUNK);
	/* without the cache the walk is only slower */
	w.cache = rdump_mem_alloc((size_t) META_CACHE_PAGES * rdump_page_size());
	if (w.scratch == NULL || build_kept(&w, roots) < 0) {
		goto out;
	}
	have_eg = a->eg && rdump_target_read(t, a->eg, &eg, sizeof(eg)) == 0;
	have_cg = a->cg && rdump_target_read(t, a->cg, &cg, sizeof(cg)) == 0;
	if (!have_eg || !have_cg) {
		st->broken++;
	}

	/* The strings first: whether they are covered decides how much of the tables to walk. */
#if PHP_VERSION_ID >= 70100
	if (a->known_strings) {
		uint64_t known;

		if (rd_ptr(&w, a->known_strings, &known) == 0) {
			walk_string_array(&w, known, ZEND_STR_LAST_KNOWN);
		} else {
			st->broken++;
		}
	}
#endif
	walk_string_array(&w, a->one_char_string, 256);
	if (a->empty_string && rd_ptr(&w, a->empty_string, &empty) == 0) {
		keep_str(&w, empty);
	} else if (a->empty_string) {
		st->broken++;
	}
	/*
	 * User classes and functions live in arenas, ZendMM or opcache memory,
	 * all kept. What they point to in the C heap is internal classes and
	 * functions (walked from the tables below) and permanent interned
	 * strings: walked from their table, or copied by opcache into shared
	 * memory (then zend_empty_string lives there). Only when neither holds
	 * must user code be walked too.
	 */
	w.skip_kept_code = walk_permanent_strings(&w, a) || (empty != 0 && kept_range(&w, empty) != NULL);

	if (have_cg) {
#if PHP_VERSION_ID >= 80100
		w.map_ptr_base = P(cg.map_ptr_base);
#endif
		walk_ht_ptr(&w, P(cg.class_table), 0, entry_class);
		walk_ht_ptr(&w, P(cg.function_table), 0, entry_function);
		walk_ht_ptr(&w, P(cg.auto_globals), 0, entry_auto_global);
		walk_ht(&w, &cg.interned_strings, 0, entry_none);
	}
	if (have_eg) {
		/* the same tables as CG's unless a thread has its own copy */
		walk_ht_ptr(&w, P(eg.class_table), 0, entry_class);
		walk_ht_ptr(&w, P(eg.function_table), 0, entry_function);
		walk_ht_ptr(&w, P(eg.zend_constants), 0, entry_constant);
		walk_ht(&w, &eg.symbol_table, 0, entry_global);
	}
	rc = w.oom || roots->failed ? -1 : 0;
out:
	rdump_mem_free(w.scratch, (size_t) META_MAX_DEPTH * META_CHUNK);
	rdump_mem_free(w.cache, (size_t) META_CACHE_PAGES * rdump_page_size());
	rdump_mem_free(w.seen, w.seen_cap * sizeof(uint64_t));
	rdump_vec_free(&w.kept);
	return rc;
}
