/*
 * Walks the PHP engine's structures in the target (see php_roots.h). Every
 * pointer comes from the target and may be stale or garbage: each read goes
 * through rdump_target_read, each chain is bounded, each range sanity-checked.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <string.h>
#include "php.h"
#include "zend_globals.h"
#include "zend_arena.h"
#include "ext/standard/basic_functions.h"
#include "php_roots.h"

#define RDUMP_STR2(x) #x
#define RDUMP_STR(x) RDUMP_STR2(x)
#define RDUMP_MM_CHUNK_SIZE ((uint64_t) 2 * 1024 * 1024)
#define RDUMP_MAX_CHAIN 1000000
/* A single engine structure larger than this is garbage, not data. */
#define RDUMP_MAX_RANGE ((uint64_t) 64 << 30)

const char *rdump_php_version_tag(void)
{
	return "v" RDUMP_STR(PHP_MAJOR_VERSION) RDUMP_STR(PHP_MINOR_VERSION);
}

static int add(rdump_vec *roots, uint64_t start, uint64_t len, rdump_php_stats *st)
{
	if (start == 0 || len == 0 || len > RDUMP_MAX_RANGE || start + len < start) {
		st->broken++;
		return 0;
	}
	return rdump_ranges_add(roots, start, start + len);
}

static int read_ptr(rdump_target *t, uint64_t addr, uint64_t *out)
{
	return rdump_target_read(t, addr, out, sizeof(*out));
}

/* Chains of { ..., end, prev } blocks: VM stack pages and arenas share the shape. */
static int walk_blocks(rdump_target *t, uint64_t head, size_t end_off, size_t prev_off,
	rdump_vec *roots, rdump_php_stats *st, uint32_t *count)
{
	uint64_t p = head;
	int n;

	for (n = 0; p != 0 && n < RDUMP_MAX_CHAIN; n++) {
		uint64_t end, prev;

		if (read_ptr(t, p + end_off, &end) < 0 || read_ptr(t, p + prev_off, &prev) < 0
			|| end < p) {
			st->broken++;
			return 0;
		}
		if (add(roots, p, end - p, st) < 0) {
			return -1;
		}
		(*count)++;
		p = prev;
	}
	return 0;
}

/*
 * zend_mm_heap and zend_mm_chunk are private to zend_alloc.c. What is stable
 * across versions: a chunk starts with { heap, next, prev, ... }, chunks are
 * 2 MiB aligned, the heap lives in the main chunk, and huge_list sits right
 * before main_chunk in the heap struct.
 */
static int walk_zend_mm(rdump_target *t, uint64_t heap, rdump_vec *roots, rdump_php_stats *st)
{
	uint64_t main_chunk = heap & ~(RDUMP_MM_CHUNK_SIZE - 1);
	uint64_t words[256], chunk, huge = 0;
	int i, found = 0, n;

	if (read_ptr(t, main_chunk, &chunk) < 0 || chunk != heap) {
		st->broken++;
		return 0;
	}
	chunk = main_chunk;
	for (n = 0; n < RDUMP_MAX_CHAIN; n++) {
		uint64_t next;

		if (add(roots, chunk, RDUMP_MM_CHUNK_SIZE, st) < 0) {
			return -1;
		}
		st->chunks++;
		if (read_ptr(t, chunk + 8, &next) < 0 || (next & (RDUMP_MM_CHUNK_SIZE - 1)) != 0) {
			st->broken++;
			break;
		}
		if (next == main_chunk || next == 0) {
			break;
		}
		chunk = next;
	}
	if (rdump_target_read(t, heap, words, sizeof(words)) < 0) {
		st->broken++;
		return 0;
	}
	for (i = 1; i < (int) (sizeof(words) / sizeof(words[0])); i++) {
		if (words[i] == main_chunk) {
			huge = words[i - 1];
			found = 1;
			break;
		}
	}
	if (!found) {
		st->broken++;
		return 0;
	}
	for (n = 0; huge != 0 && n < RDUMP_MAX_CHAIN; n++) {
		uint64_t node[3]; /* ptr, size, next */

		if (rdump_target_read(t, huge, node, sizeof(node)) < 0) {
			st->broken++;
			break;
		}
		if (add(roots, node[0], node[1], st) < 0) {
			return -1;
		}
		/* The list node itself is a small allocation inside a chunk, already kept. */
		st->huge_blocks++;
		huge = node[2];
	}
	return 0;
}

int rdump_php_roots(rdump_target *t, const rdump_php_addrs *a, rdump_vec *roots, rdump_php_stats *st)
{
	zend_executor_globals eg;
	zend_compiler_globals cg;
	int have_eg, have_cg;

	memset(st, 0, sizeof(*st));
	if (a->eg && add(roots, a->eg, sizeof(eg), st) < 0) {
		return -1;
	}
	if (a->cg && add(roots, a->cg, sizeof(cg), st) < 0) {
		return -1;
	}
	if (a->basic_globals && add(roots, a->basic_globals, sizeof(php_basic_globals), st) < 0) {
		return -1;
	}
	have_eg = a->eg && rdump_target_read(t, a->eg, &eg, sizeof(eg)) == 0;
	have_cg = a->cg && rdump_target_read(t, a->cg, &cg, sizeof(cg)) == 0;
	if (a->eg && !have_eg) {
		st->broken++;
	}
	if (a->cg && !have_cg) {
		st->broken++;
	}
	if (a->mm_heap && walk_zend_mm(t, a->mm_heap, roots, st) < 0) {
		return -1;
	}
	if (have_eg) {
		if (walk_blocks(t, (uint64_t) (uintptr_t) eg.vm_stack,
				offsetof(struct _zend_vm_stack, end), offsetof(struct _zend_vm_stack, prev),
				roots, st, &st->vm_stack_pages) < 0) {
			return -1;
		}
		if (eg.objects_store.object_buckets && eg.objects_store.size
			&& add(roots, (uint64_t) (uintptr_t) eg.objects_store.object_buckets,
				(uint64_t) eg.objects_store.size * sizeof(zend_object *), st) < 0) {
			return -1;
		}
	}
	if (have_cg) {
		if (walk_blocks(t, (uint64_t) (uintptr_t) cg.arena,
				offsetof(zend_arena, end), offsetof(zend_arena, prev), roots, st, &st->arenas) < 0
			|| walk_blocks(t, (uint64_t) (uintptr_t) cg.ast_arena,
				offsetof(zend_arena, end), offsetof(zend_arena, prev), roots, st, &st->arenas) < 0) {
			return -1;
		}
#if PHP_VERSION_ID >= 80100
		if (cg.map_ptr_real_base && cg.map_ptr_size
			&& add(roots, (uint64_t) (uintptr_t) cg.map_ptr_real_base,
				(uint64_t) cg.map_ptr_size * sizeof(void *), st) < 0) {
			return -1;
		}
#elif PHP_VERSION_ID >= 80000
		/* 8.0 keeps the table's address minus one in map_ptr_base */
		if (cg.map_ptr_base && cg.map_ptr_size
			&& add(roots, (uint64_t) (uintptr_t) ZEND_MAP_PTR_REAL_BASE(cg.map_ptr_base),
				(uint64_t) cg.map_ptr_size * sizeof(void *), st) < 0) {
			return -1;
		}
#elif PHP_VERSION_ID >= 70400
		if (cg.map_ptr_base && cg.map_ptr_size
			&& add(roots, (uint64_t) (uintptr_t) cg.map_ptr_base,
				(uint64_t) cg.map_ptr_size * sizeof(void *), st) < 0) {
			return -1;
		}
#endif
	}
	return roots->failed ? -1 : 0;
}
