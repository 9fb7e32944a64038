/*
 * mmap-backed allocation and range lists for the capture path; see mem.h for
 * why nothing here may use malloc or ZendMM.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "mem.h"

size_t rdump_page_size(void)
{
	static size_t page_size;

	if (page_size == 0) {
		long ps = sysconf(_SC_PAGESIZE);
		page_size = ps > 0 ? (size_t) ps : 4096;
	}
	return page_size;
}

static size_t round_to_pages(size_t size)
{
	size_t ps = rdump_page_size();

	return (size + ps - 1) & ~(ps - 1);
}

void *rdump_mem_alloc(size_t size)
{
	void *p;

	if (size == 0) {
		size = 1;
	}
	p = mmap(NULL, round_to_pages(size), PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void rdump_mem_free(void *p, size_t size)
{
	if (p != NULL) {
		munmap(p, round_to_pages(size ? size : 1));
	}
}

void *rdump_mem_grow(void *p, size_t old_size, size_t new_size)
{
	void *q;

	if (p == NULL) {
		return rdump_mem_alloc(new_size);
	}
	q = mremap(p, round_to_pages(old_size), round_to_pages(new_size), MREMAP_MAYMOVE);
	return q == MAP_FAILED ? NULL : q;
}

void rdump_vec_init(rdump_vec *v, size_t item_size)
{
	memset(v, 0, sizeof(*v));
	v->item_size = item_size;
}

void *rdump_vec_push(rdump_vec *v)
{
	char *item;

	if (v->failed) {
		return NULL;
	}
	if (v->count == v->capacity) {
		size_t cap = v->capacity ? v->capacity * 2 : rdump_page_size() / v->item_size + 1;
		void *items = rdump_mem_grow(v->items, v->capacity * v->item_size, cap * v->item_size);

		if (items == NULL) {
			v->failed = 1;
			return NULL;
		}
		v->items = items;
		v->capacity = cap;
	}
	item = (char *) v->items + v->count * v->item_size;
	memset(item, 0, v->item_size);
	v->count++;
	return item;
}

void rdump_vec_free(rdump_vec *v)
{
	rdump_mem_free(v->items, v->capacity * v->item_size);
	v->items = NULL;
	v->count = v->capacity = 0;
}

int rdump_ranges_add(rdump_vec *ranges, uint64_t start, uint64_t end)
{
	rdump_range *r;

	if (end <= start) {
		return 0;
	}
	r = rdump_vec_push(ranges);
	if (r == NULL) {
		return -1;
	}
	r->start = start;
	r->end = end;
	return 0;
}

/* Heapsort: qsort may malloc, which a forked writer must not do. */
static void sift_down(rdump_range *a, size_t start, size_t n)
{
	size_t root = start;

	while (2 * root + 1 < n) {
		size_t child = 2 * root + 1;
		rdump_range tmp;

		if (child + 1 < n && a[child].start < a[child + 1].start) {
			child++;
		}
		if (a[root].start >= a[child].start) {
			return;
		}
		tmp = a[root];
		a[root] = a[child];
		a[child] = tmp;
		root = child;
	}
}

void rdump_ranges_normalize(rdump_vec *ranges)
{
	rdump_range *a = ranges->items;
	size_t n = ranges->count, i, out;

	if (n < 2) {
		return;
	}
	for (i = n / 2; i-- > 0;) {
		sift_down(a, i, n);
	}
	for (i = n - 1; i > 0; i--) {
		rdump_range tmp = a[0];

		a[0] = a[i];
		a[i] = tmp;
		sift_down(a, 0, i);
	}
	out = 0;
	for (i = 1; i < n; i++) {
		if (a[i].start <= a[out].end) {
			if (a[i].end > a[out].end) {
				a[out].end = a[i].end;
			}
		} else {
			a[++out] = a[i];
		}
	}
	ranges->count = out + 1;
}
