/*
 * rdump.huge_pages: ZendMM's chunks on transparent huge pages, asked for in
 * php.ini, where USE_ZEND_ALLOC_HUGE_PAGES=1 must be in the environment of
 * the process that starts PHP (an FPM master, a container's entrypoint).
 * An async dump's pause is the kernel's copy of the page tables at the
 * fork: one entry per 2 MiB instead of 512.
 *
 * ZendMM lets a heap take its chunks from a "storage" (zend_mm_handlers) but
 * offers no setter for the process's own heap: the pointer is written at its
 * place in the heap, and kept only if zend_mm_get_storage() reads it back.
 * It is there only while a request runs: ZendMM frees the request's chunks
 * with its own munmap() after RSHUTDOWN, and a heap never outlives the
 * module with a pointer into it.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1   /* mremap() */
#endif
#ifdef HAVE_CONFIG_H
# include "config.h"
#endif

#include <string.h>
#include "php.h"
#include "zend_alloc.h"
#include "php_rdump.h"
#include "rdump_huge_pages.h"
#include "capture/mem.h"
#include "capture/target.h"

#include <sys/mman.h>

#if PHP_VERSION_ID >= 80300
# include "zend_mmap.h"
#endif

/* What zend_mm_chunk_truncate_t and _extend_t return: int before PHP 8.0, bool since. */
#if PHP_VERSION_ID >= 80000
typedef bool rdump_mm_result;
#else
typedef int rdump_mm_result;
#endif

/* What precedes `storage` in zend_mm_heap (ZEND_MM_CUSTOM, ZEND_MM_STORAGE) from PHP 7.0 to 8.4. */
typedef struct rdump_mm_heap_head {
	int use_custom_heap;
	zend_mm_storage *storage;
} rdump_mm_heap_head;

/*
 * As ZendMM's own: aligned by mapping more and unmapping the ends, then
 * advised. An end that cannot be unmapped (the process at its map count
 * limit) gives it all back: ZendMM then reports the allocation as failed.
 */
static void *hp_chunk_alloc(zend_mm_storage *storage, size_t size, size_t alignment)
{
	size_t extra = alignment - rdump_page_size(), head;
	char *p;

	(void) storage;
	p = rdump_mem_alloc(size);
	if (p == NULL) {
		return NULL;
	}
	if (((uintptr_t) p & (alignment - 1)) != 0) {
		if (munmap(p, size) != 0) {
			return NULL;
		}
		p = rdump_mem_alloc(size + extra);
		if (p == NULL) {
			return NULL;
		}
		head = (alignment - ((uintptr_t) p & (alignment - 1))) & (alignment - 1);
		if ((head != 0 && munmap(p, head) != 0)
				|| (extra > head && munmap(p + head + size, extra - head) != 0)) {
			munmap(p, size + extra);
			return NULL;
		}
		p += head;
	}
	if (madvise(p, size, MADV_HUGEPAGE) != 0) {
		/* A kernel without THP: the chunk works on 4 KiB pages, as without the setting. */
	}
#if PHP_VERSION_ID >= 80300
	zend_mmap_set_name(p, size, "zend_alloc");
#endif
	return p;
}

static void hp_chunk_free(zend_mm_storage *storage, void *chunk, size_t size)
{
	(void) storage;
	if (munmap(chunk, size) != 0) {
		/* Only on an address ZendMM never had from us; nothing left to free. */
	}
}

static rdump_mm_result hp_chunk_truncate(zend_mm_storage *storage, void *chunk, size_t old_size, size_t new_size)
{
	(void) storage;
	return munmap((char *) chunk + new_size, old_size - new_size) == 0;
}

/* In place only: the block's 2 MiB alignment must stay. */
static rdump_mm_result hp_chunk_extend(zend_mm_storage *storage, void *chunk, size_t old_size, size_t new_size)
{
	void *p;

	(void) storage;
	p = mremap(chunk, old_size, new_size, 0);
	return p != MAP_FAILED;
}

static zend_mm_storage hp_storage = {
	{ hp_chunk_alloc, hp_chunk_free, hp_chunk_truncate, hp_chunk_extend },
	NULL
};

/* The kernel's THP mode, the bracketed word of its sysfs file: "always", "madvise", "never". */
static int thp_mode(char *buf, size_t size)
{
	char text[128], *lb, *rb;

	if (rdump_read_small("/sys/kernel/mm/transparent_hugepage/enabled", text, sizeof(text)) <= 0) {
		return -1;
	}
	lb = strchr(text, '[');
	rb = lb ? strchr(lb, ']') : NULL;
	if (lb == NULL || rb == NULL || (size_t) (rb - lb) > size) {
		return -1;
	}
	memcpy(buf, lb + 1, (size_t) (rb - lb - 1));
	buf[rb - lb - 1] = '\0';
	return 0;
}

/* Whether the kernel offers THP, read once per process: one file read, not one per request. */
static int thp_available(void)
{
	static int thp = -1;
	char mode[16];

	if (__atomic_load_n(&thp, __ATOMIC_RELAXED) < 0) {
		__atomic_store_n(&thp, thp_mode(mode, sizeof(mode)) == 0 && strcmp(mode, "never") != 0, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&thp, __ATOMIC_RELAXED);
}

/* Installs hp_storage on heap when it can; the RDUMP_HP_* state either way. */
static int install(zend_mm_heap *heap)
{
	rdump_mm_heap_head *head = (rdump_mm_heap_head *) heap;
	zend_mm_storage *storage;

	if (!thp_available()) {
		return RDUMP_HP_NO_THP;
	}
	if (zend_mm_is_custom_heap(heap)) {
		return RDUMP_HP_CUSTOM_HEAP;
	}
	storage = zend_mm_get_storage(heap);
	if (storage != NULL) {
		return storage == &hp_storage ? RDUMP_HP_ON : RDUMP_HP_OTHER_STORAGE;
	}
	if (head->storage != NULL) {
		/* Something else than the storage pointer sits where we would write it. */
		return RDUMP_HP_UNKNOWN_LAYOUT;
	}
#if ZEND_DEBUG
	/*
	 * zend_mm_chunk_alloc() asserts `((ptr + (alignment-1)) & (alignment-1)) == ptr`
	 * of every chunk a storage returns, which no aligned address passes:
	 * a debug build would abort on the first chunk (PHP 7.0 to 8.4).
	 */
	return RDUMP_HP_DEBUG_BUILD;
#else
	head->storage = &hp_storage;
	if (zend_mm_get_storage(heap) != &hp_storage) {
		/* Not the layout we know: what was there (zero) goes back. */
		head->storage = NULL;
		return RDUMP_HP_UNKNOWN_LAYOUT;
	}
	return RDUMP_HP_ON;
#endif
}

void rdump_huge_pages_rinit(void)
{
	RDUMP_G(huge_pages_state) = RDUMP_G(huge_pages) ? install(zend_mm_get_heap()) : RDUMP_HP_OFF;
}

void rdump_huge_pages_rshutdown(void)
{
	zend_mm_heap *heap = zend_mm_get_heap();

	if (zend_mm_get_storage(heap) == &hp_storage) {
		((rdump_mm_heap_head *) heap)->storage = NULL;
	}
}

const char *rdump_huge_pages_describe(void)
{
	switch (RDUMP_G(huge_pages_state)) {
	case RDUMP_HP_ON:
		return "yes (rdump.huge_pages)";
	case RDUMP_HP_NO_THP:
		return "no: the kernel has no transparent huge pages, or they are set to \"never\"";
	case RDUMP_HP_CUSTOM_HEAP:
		return "no: ZendMM is replaced (USE_ZEND_ALLOC=0 or another extension)";
	case RDUMP_HP_OTHER_STORAGE:
		return "no: another extension supplies ZendMM's chunks";
	case RDUMP_HP_DEBUG_BUILD:
		return "no: a debug build of PHP aborts on any chunk not made by ZendMM itself (an assertion in zend_mm_chunk_alloc())";
	case RDUMP_HP_UNKNOWN_LAYOUT:
		return "no: this PHP's heap layout is not one rdump knows";
	default:
		return "no (rdump.huge_pages=0)";
	}
}
