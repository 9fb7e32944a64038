/*
 * Unit tests of capture/php_meta.c on engine structures built by hand in
 * this process (malloc'd, like an internal class's): every piece an analyser
 * needs must end up in the roots, and garbage (unmapped pointers, implausible
 * tables, reference cycles, nesting deeper than the bound) must be counted,
 * never followed forever or crashed on. Also the discovery of the permanent
 * interned-string table next to zend_known_strings.
 */
/* PHP's headers first: php_config.h sets the feature macros they rely on */
#include "php_version.h"
#include "zend.h"
#include "zend_globals.h"
#include "zend_constants.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "rdump_test.h"
#include "../../capture/php_meta.h"

#define P(x) ((uint64_t) (uintptr_t) (x))

#if PHP_VERSION_ID < 70400
/* The fake engine below is built with the class layouts of PHP 7.4 and later. */
int main(void)
{
	puts("test_php_meta: not run: it builds its engine structures with PHP 7.4+ layouts");
	return rdump_test_summary();
}
#else

/* What the engine's symbols would point to; static, so in this binary's .data/.bss. */
static zend_executor_globals fake_eg;
static zend_compiler_globals fake_cg;
static zend_string **fake_known_strings;
static zend_string *fake_one_char[256];
static zend_string *fake_empty_string;
static HashTable fake_permanent; /* found by the scan next to fake_known_strings */

static zend_string *mkstr(const char *s, zend_ulong h)
{
	size_t len = strlen(s);
	zend_string *str = calloc(1, _ZSTR_STRUCT_SIZE(len));

	str->gc.refcount = 1;
	GC_TYPE_INFO(str) = IS_STRING | ((IS_STR_INTERNED | IS_STR_PERSISTENT) << GC_FLAGS_SHIFT);
	str->h = h ? h : (zend_ulong) 0x8000000000000000ULL | (zend_ulong) (len * 31 + (unsigned char) s[0]);
	str->len = len;
	memcpy(str->val, s, len + 1);
	return str;
}

/* A hash table of n entries; keys may be NULL (then numeric). */
static void mkht(HashTable *ht, uint32_t n, zend_string **keys, const zval *vals)
{
	uint32_t size = 8, i;
	char *data;

	while (size < n) {
		size *= 2;
	}
	memset(ht, 0, sizeof(*ht));
	ht->gc.refcount = 1;
	GC_TYPE_INFO(ht) = IS_ARRAY | (GC_PERSISTENT << GC_FLAGS_SHIFT);
	ht->nTableSize = size;
	ht->nTableMask = HT_SIZE_TO_MASK(size);
	data = calloc(1, HT_SIZE_EX(size, ht->nTableMask));
	HT_SET_DATA_ADDR(ht, data);
	memset(data, 0xff, HT_HASH_SIZE(ht->nTableMask));
	for (i = 0; i < n; i++) {
		Bucket *b = ht->arData + i;
		uint32_t idx;

		b->key = keys ? keys[i] : NULL;
		b->h = keys ? ZSTR_H(keys[i]) : i;
		b->val = vals[i];
		idx = (uint32_t) b->h | ht->nTableMask;
		Z_NEXT(b->val) = HT_HASH(ht, idx);
		HT_HASH(ht, idx) = i;
	}
	ht->nNumUsed = ht->nNumOfElements = n;
	ht->nNextFreeElement = ZEND_LONG_MIN;
	HT_FLAGS(ht) = HASH_FLAG_STATIC_KEYS;
}

static HashTable *new_ht(uint32_t n, zend_string **keys, const zval *vals)
{
	HashTable *ht = malloc(sizeof(*ht));

	mkht(ht, n, keys, vals);
	return ht;
}

static void uninit_ht(HashTable *ht)
{
	memset(ht, 0, sizeof(*ht));
	HT_FLAGS(ht) = HASH_FLAG_UNINITIALIZED;
}

/* An address that cannot be read (PROT_NONE: unlike an unmapped hole, no later mmap reuses it). */
static void *unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

static int covered(const rdump_vec *roots, const void *addr, size_t len)
{
	size_t i;

	for (i = 0; i < roots->count; i++) {
		const rdump_range *r = &RDUMP_VEC_AT(roots, rdump_range, i);

		if (r->start <= P(addr) && P(addr) + len <= r->end) {
			return 1;
		}
	}
	return 0;
}

#define STR_COVERED(roots, s) covered(roots, s, _ZSTR_STRUCT_SIZE(ZSTR_LEN(s)))

int main(void)
{
	zend_string *cls_name, *fn_name, *arg_type, *prop_name, *const_name, *const_val, *def_str,
		*static_str, *perm_only, *known0, *global_name, *const2_name, *const2_val, *method_key;
	zend_class_entry *ce;
	zend_internal_function *fn;
	zend_internal_arg_info *ai;
	zend_property_info *pi;
	zend_class_constant *cc;
	zend_constant *gc;
	zend_reference *ref;
	HashTable *cyc, *deep, *bad;
	zval v[4], *defaults, *statics;
	void **map_slots;
	zend_string *keys[4];
	rdump_php_addrs a;
	rdump_meta_stats st;
	rdump_target t;
	rdump_vec roots;
	rdump_error e;
	int i, rc;

	/* strings */
	fake_empty_string = mkstr("", 0);
	known0 = mkstr("known-zero", 0);
	fake_known_strings = calloc(ZEND_STR_LAST_KNOWN, sizeof(zend_string *));
	for (i = 0; i < ZEND_STR_LAST_KNOWN; i++) {
		fake_known_strings[i] = known0;
	}
	fake_one_char['a'] = mkstr("a", 0);
	cls_name = mkstr("FakeInternalClass", 0);
	fn_name = mkstr("fakeMethod", 0);
	method_key = mkstr("fakemethod", 0);
	arg_type = mkstr("ArgTypeName", 0);
	prop_name = mkstr("fakeProperty", 0);
	const_name = mkstr("FAKE_CONST", 0);
	const_val = mkstr("class constant value", 0);
	def_str = mkstr("default value", 0);
	static_str = mkstr("static value", 0);
	perm_only = mkstr("only in the permanent table", 0);
	global_name = mkstr("FAKE_GLOBAL_CONSTANT", 0);
	const2_name = mkstr("BROKEN_CONST", 0);
	const2_val = mkstr("never reached", 0);

	/* the permanent interned-string table: "" and one string nothing else names */
	keys[0] = fake_empty_string;
	keys[1] = perm_only;
	ZVAL_INTERNED_STR(&v[0], fake_empty_string);
	ZVAL_INTERNED_STR(&v[1], perm_only);
	mkht(&fake_permanent, 2, keys, v);

	/* a method with one class-typed argument (return type at [-1], as internal functions have) */
	ai = calloc(2, sizeof(*ai));
	ai[1].name = "arg";
#if PHP_VERSION_ID >= 80000
	ai[1].type = (zend_type) ZEND_TYPE_INIT_CLASS(arg_type, 0, 0);
#else
	(void) arg_type; /* PHP 7.4's zend_type packs a name differently: not walked */
#endif
	fn = calloc(1, sizeof(*fn));
	fn->type = ZEND_INTERNAL_FUNCTION;
	fn->function_name = fn_name;
	fn->num_args = 1;
	fn->arg_info = ai + 1;
	fn->fn_flags = ZEND_ACC_PUBLIC | ZEND_ACC_HAS_TYPE_HINTS;

	pi = calloc(1, sizeof(*pi));
	pi->name = prop_name;
	cc = calloc(1, sizeof(*cc));
	ZVAL_INTERNED_STR(&cc->value, const_val);

	/* a default property holding an array that refers to itself through a reference */
	cyc = malloc(sizeof(*cyc));
	ref = calloc(1, sizeof(*ref));
	ref->gc.refcount = 1;
	GC_TYPE_INFO(ref) = IS_REFERENCE;
	ZVAL_REF(&v[0], ref);
	mkht(cyc, 1, NULL, v);
	ZVAL_ARR(&ref->val, cyc);
	/* and one nested deeper than any bound */
	deep = NULL;
	for (i = 0; i < 40; i++) {
		HashTable *outer = malloc(sizeof(*outer));

		if (deep) {
			ZVAL_ARR(&v[0], deep);
		} else {
			ZVAL_INTERNED_STR(&v[0], def_str);
		}
		mkht(outer, 1, NULL, v);
		deep = outer;
	}
	defaults = calloc(4, sizeof(zval));
	ZVAL_ARR(&defaults[0], cyc);
	ZVAL_INTERNED_STR(&defaults[1], def_str);
	ZVAL_ARR(&defaults[2], deep);

	statics = calloc(1, sizeof(zval));
	ZVAL_INTERNED_STR(&statics[0], static_str);
	map_slots = calloc(4, sizeof(void *));
	map_slots[2] = statics;

	ce = calloc(1, sizeof(*ce));
	ce->type = ZEND_INTERNAL_CLASS;
	ce->name = cls_name;
	ce->ce_flags = ZEND_ACC_LINKED | ZEND_ACC_RESOLVED_PARENT | ZEND_ACC_RESOLVED_INTERFACES;
	ce->default_properties_count = 4;
	ce->default_properties_table = defaults;
#if PHP_VERSION_ID >= 80100
	ce->default_static_members_count = 1;
	/* a map_ptr offset, as ZEND_MAP_PTR_NEW() stores it: slot 2 */
	ZEND_MAP_PTR(ce->static_members_table) = (void *) (uintptr_t) (2 * sizeof(void *) + 1);
#endif
	keys[0] = method_key;
	ZVAL_PTR(&v[0], fn);
	mkht(&ce->function_table, 1, keys, v);
	keys[0] = prop_name;
	ZVAL_PTR(&v[0], pi);
	mkht(&ce->properties_info, 1, keys, v);
	keys[0] = const_name;
	ZVAL_PTR(&v[0], cc);
	mkht(&ce->constants_table, 1, keys, v);

	/* the class table: the class, an entry pointing at unmapped memory */
	keys[0] = cls_name;
	keys[1] = mkstr("gone", 0);
	ZVAL_PTR(&v[0], ce);
	ZVAL_PTR(&v[1], unmapped());
	fake_cg.class_table = new_ht(2, keys, v);
	fake_cg.function_table = new_ht(0, NULL, v);
#if PHP_VERSION_ID >= 80100
	fake_cg.map_ptr_base = (char *) map_slots - 1;
#endif
	uninit_ht(&fake_cg.interned_strings);

	/* constants: one fine, one whose table claims more slots than it has */
	gc = calloc(1, sizeof(*gc));
	gc->name = global_name;
	ZVAL_LONG(&gc->value, 42);
	keys[0] = global_name;
	ZVAL_PTR(&v[0], gc);
	fake_eg.zend_constants = new_ht(1, keys, v);
	bad = calloc(1, sizeof(*bad));
	keys[0] = const2_name;
	ZVAL_INTERNED_STR(&v[0], const2_val);
	mkht(bad, 1, keys, v);
	bad->nNumUsed = bad->nTableSize + 1;
	ZVAL_ARR(&ce->default_properties_table[3], bad);
	uninit_ht(&fake_eg.symbol_table);

	memset(&a, 0, sizeof(a));
	a.eg = P(&fake_eg);
	a.cg = P(&fake_cg);
	a.known_strings = P(&fake_known_strings);
	a.one_char_string = P(fake_one_char);
	a.empty_string = P(&fake_empty_string);

	rc = rdump_target_open(&t, getpid(), 1, &e);
	RDUMP_CHECK(rc == 0, "cannot open the own process: %s", e.what);
	if (rc < 0) {
		return rdump_test_summary();
	}
	RDUMP_CHECK(rdump_target_read_maps(&t, &e) == 0, "cannot read the own maps: %s", e.what);
	rdump_vec_init(&roots, sizeof(rdump_range));

	rc = rdump_php_meta(&t, &a, &roots, &st);
	rdump_ranges_normalize(&roots);
	RDUMP_CHECK(rc == 0, "the walk failed");
	RDUMP_CHECK(st.classes == 1, "classes walked: %u", st.classes);
	RDUMP_CHECK(st.functions == 1, "functions walked: %u", st.functions);
	RDUMP_CHECK(st.constants == 2, "constants walked: %u (one global, one class constant)", st.constants);
	RDUMP_CHECK(st.permanent_strings == 2, "the permanent string table was not found (%u)", st.permanent_strings);
	/* the unmapped class, the implausible table */
	RDUMP_CHECK(st.broken == 2, "broken: %u, want 2", st.broken);
	RDUMP_CHECK(st.truncated >= 1, "the 40-deep nesting was not cut short");

	RDUMP_CHECK(covered(&roots, ce, sizeof(*ce)), "class entry not kept");
	RDUMP_CHECK(STR_COVERED(&roots, cls_name), "class name not kept");
	RDUMP_CHECK(covered(&roots, fn, sizeof(*fn)), "method not kept");
	RDUMP_CHECK(STR_COVERED(&roots, fn_name), "method name not kept");
	RDUMP_CHECK(STR_COVERED(&roots, method_key), "method key not kept");
	RDUMP_CHECK(covered(&roots, ai, 2 * sizeof(*ai)), "arg_info (with the return type) not kept");
#if PHP_VERSION_ID >= 80000
	RDUMP_CHECK(STR_COVERED(&roots, arg_type), "argument type name not kept");
#endif
	RDUMP_CHECK(covered(&roots, pi, sizeof(*pi)), "property info not kept");
	RDUMP_CHECK(STR_COVERED(&roots, prop_name), "property name not kept");
	RDUMP_CHECK(covered(&roots, cc, sizeof(*cc)), "class constant not kept");
	RDUMP_CHECK(STR_COVERED(&roots, const_val), "class constant value not kept");
	RDUMP_CHECK(covered(&roots, defaults, 4 * sizeof(zval)), "default properties not kept");
	RDUMP_CHECK(STR_COVERED(&roots, def_str), "default value string not kept");
	RDUMP_CHECK(covered(&roots, cyc, sizeof(*cyc)) && covered(&roots, ref, sizeof(*ref)),
		"self-referencing array not kept");
#if PHP_VERSION_ID >= 80100
	RDUMP_CHECK(covered(&roots, statics, sizeof(zval)), "static members (through map_ptr) not kept");
	RDUMP_CHECK(STR_COVERED(&roots, static_str), "static member string not kept");
#endif
	RDUMP_CHECK(covered(&roots, HT_GET_DATA_ADDR(fake_cg.class_table), HT_USED_SIZE(fake_cg.class_table)),
		"class table arData not kept");
	RDUMP_CHECK(covered(&roots, gc, sizeof(*gc)) && STR_COVERED(&roots, global_name), "global constant not kept");
	RDUMP_CHECK(covered(&roots, fake_known_strings, ZEND_STR_LAST_KNOWN * sizeof(zend_string *))
		&& STR_COVERED(&roots, known0), "known strings not kept");
	RDUMP_CHECK(STR_COVERED(&roots, fake_one_char['a']), "one-char string not kept");
	RDUMP_CHECK(STR_COVERED(&roots, fake_empty_string), "empty string not kept");
	RDUMP_CHECK(STR_COVERED(&roots, perm_only), "string only in the permanent table not kept");
	RDUMP_CHECK(covered(&roots, HT_GET_DATA_ADDR(&fake_permanent), HT_USED_SIZE(&fake_permanent)),
		"permanent table arData not kept");
	for (i = 0; i < (int) roots.count; i++) {
		const rdump_range *r = &RDUMP_VEC_AT(&roots, rdump_range, i);

		RDUMP_CHECK(r->start % rdump_page_size() == 0 && r->end % rdump_page_size() == 0,
			"root %d is not page-aligned", i);
	}

	/* without the permanent table nothing breaks: the string it alone names is simply not kept */
	fake_permanent.nTableMask = 0;
	roots.count = 0;
	rc = rdump_php_meta(&t, &a, &roots, &st);
	rdump_ranges_normalize(&roots);
	RDUMP_CHECK(rc == 0 && st.permanent_strings == 0 && st.classes == 1, "walk without the table: rc %d, %u strings, %u classes",
		rc, st.permanent_strings, st.classes);
	RDUMP_CHECK(STR_COVERED(&roots, cls_name), "class name not kept without the permanent table");

	/* symbols unknown (a stripped target): the tables are still walked */
	a.known_strings = a.one_char_string = a.empty_string = 0;
	roots.count = 0;
	rc = rdump_php_meta(&t, &a, &roots, &st);
	RDUMP_CHECK(rc == 0 && st.classes == 1 && st.functions == 1, "walk without symbols: rc %d, %u classes", rc, st.classes);

	/* unreadable globals: counted, nothing walked */
	a.eg = a.cg = P(unmapped());
	roots.count = 0;
	rc = rdump_php_meta(&t, &a, &roots, &st);
	RDUMP_CHECK(rc == 0 && st.classes == 0 && st.broken == 1, "walk of unreadable globals: rc %d, broken %u", rc, st.broken);

	rdump_vec_free(&roots);
	rdump_target_close(&t);
	return rdump_test_summary();
}
#endif
