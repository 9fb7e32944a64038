/*
 * Memory for code that runs while a dump is taken. It never comes from ZendMM
 * (which is being snapshotted, and exhausted on the OOM path) nor from malloc
 * (a forked writer may not take libc locks): only anonymous mmap.
 * Also the growable arrays capture/ builds its lists in.
 */
#ifndef RDUMP_MEM_H
#define RDUMP_MEM_H

#include <stddef.h>
#include <stdint.h>

void *rdump_mem_alloc(size_t size);
void rdump_mem_free(void *p, size_t size);
/* Grows (or moves) an rdump_mem_alloc block; NULL on failure, old block kept. */
void *rdump_mem_grow(void *p, size_t old_size, size_t new_size);
size_t rdump_page_size(void);

/* A growable array of fixed-size items in mmap'd memory. */
typedef struct rdump_vec {
	void *items;
	size_t count;
	size_t capacity;   /* in items */
	size_t item_size;
	int failed;        /* an append ran out of memory; the list is incomplete */
} rdump_vec;

void rdump_vec_init(rdump_vec *v, size_t item_size);
/* Returns a pointer to the new zeroed item, or NULL (and sets failed). */
void *rdump_vec_push(rdump_vec *v);
void rdump_vec_free(rdump_vec *v);
#define RDUMP_VEC_AT(v, type, i) (((type *)(v)->items)[i])

/* An address range [start, end). */
typedef struct rdump_range {
	uint64_t start;
	uint64_t end;
} rdump_range;

int rdump_ranges_add(rdump_vec *ranges, uint64_t start, uint64_t end);
/* Sorts by start and merges overlapping or touching ranges, in place. */
void rdump_ranges_normalize(rdump_vec *ranges);

#endif
