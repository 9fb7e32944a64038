/*
 * The PHP engine's own memory: the ranges an analyser dereferences when it
 * walks from executor_globals and compiler_globals (ZendMM chunks and huge
 * blocks, VM stack pages, compiler arenas, object buckets, the map_ptr table,
 * the globals structs). Found by reading the target through rdump_target,
 * with the struct layouts of the PHP headers this is compiled against, so
 * the same walk serves the extension and rdump-cli. It never calls into PHP.
 */
#ifndef RDUMP_PHP_ROOTS_H
#define RDUMP_PHP_ROOTS_H

#include <stdint.h>
#include "target.h"

typedef struct rdump_php_addrs {
	uint64_t eg;            /* zend_executor_globals of the dumping thread */
	uint64_t cg;            /* zend_compiler_globals */
	uint64_t basic_globals; /* php_basic_globals, 0 if unknown */
	uint64_t mm_heap;       /* zend_mm_heap when ZendMM is in use, else 0 */
	/* Exported engine symbols (exclude-heap needs what they point to), 0 if unknown: */
	uint64_t known_strings;   /* &zend_known_strings, the pointer variable */
	uint64_t one_char_string; /* zend_one_char_string[256] */
	uint64_t empty_string;    /* &zend_empty_string, the pointer variable */
} rdump_php_addrs;

typedef struct rdump_php_stats {
	uint32_t chunks;
	uint32_t huge_blocks;
	uint32_t vm_stack_pages;
	uint32_t arenas;
	uint32_t broken;        /* links that could not be read or failed validation */
} rdump_php_stats;

/* The version tag of the PHP this was compiled against ("v82"). */
const char *rdump_php_version_tag(void);

/* Appends the engine's ranges to roots (rdump_range). */
int rdump_php_roots(rdump_target *t, const rdump_php_addrs *a, rdump_vec *roots, rdump_php_stats *st);

#endif
