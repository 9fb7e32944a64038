/*
 * The extension's view of its own process: where this thread's engine
 * globals and the ZendMM heap are, and a dump of the process at this moment.
 * Compiled into the extension only (it calls the engine); rdump-cli finds
 * the same addresses from outside.
 */
#ifndef RDUMP_SELF_H
#define RDUMP_SELF_H

#include "dump.h"

typedef struct rdump_self_opts {
	int full;
	int exclude_heap;
	int async;           /* fork a writer; the caller returns at once */
	int compress;        /* gzip the output */
	int compress_level;  /* 1..9 */
	int marker;          /* an empty <path>.done once the dump is in place (OOM dumps) */
} rdump_self_opts;

/* This thread's engine addresses (EG, CG, basic_globals, the ZendMM heap). */
void rdump_self_addrs(rdump_php_addrs *a);

/* Dumps the own process to path. Does not allocate from ZendMM. */
int rdump_self_dump(const char *path, const rdump_self_opts *so, rdump_dump_result *res, rdump_error *e);

#endif
