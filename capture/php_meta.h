/*
 * Engine metadata that lives in the C heap: what an analyser needs to name
 * every class, function and constant when an exclude-heap dump leaves the
 * C heap out. Internal classes and functions, their tables, argument info
 * and the permanent interned strings are malloc'd at start-up, so nothing
 * else keeps them. Walked through rdump_target like php_roots.c, so the
 * same code serves the extension and rdump-cli; it never calls into PHP.
 */
#ifndef RDUMP_PHP_META_H
#define RDUMP_PHP_META_H

#include <stdint.h>
#include "target.h"
#include "php_roots.h"

typedef struct rdump_meta_stats {
	uint32_t classes;           /* class entries walked */
	uint32_t functions;         /* functions and methods walked */
	uint32_t constants;         /* global and class constants walked */
	uint32_t strings;           /* distinct zend_strings kept */
	uint32_t permanent_strings; /* entries of the permanent interned-string table (0: not found) */
	uint32_t broken;            /* pointers that could not be read or failed validation */
	uint32_t truncated;         /* walks cut short by a depth or size bound */
} rdump_meta_stats;

/*
 * Appends (page-rounded) the ranges of the class table, the function table,
 * the constants table, the interned strings and the known-string arrays to
 * roots (rdump_range). Returns -1 only when roots cannot grow; unreadable or
 * implausible pointers are counted in st->broken and skipped.
 */
int rdump_php_meta(rdump_target *t, const rdump_php_addrs *a, rdump_vec *roots, rdump_meta_stats *st);

#endif
