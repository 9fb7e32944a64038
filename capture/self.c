/*
 * In-process dumps: collects this thread's engine addresses and runs the
 * shared capture on the own pid; see self.h.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <unistd.h>
#include "php.h"
#include "zend_globals.h"
#include "zend_alloc.h"
#include "ext/standard/basic_functions.h"
#include "self.h"
#include "fork.h"
#include "trigger.h"

#if defined(ZTS) && defined(COMPILE_DL_RDUMP)
/* EG()/CG()/BG() of a ZTS build read this thread's storage through the cache rdump.c defines */
ZEND_TSRMLS_CACHE_EXTERN()
#endif

void rdump_self_addrs(rdump_php_addrs *a)
{
	/* &G(member) - offsetof works for NTS globals and for ZTS thread storage alike. */
	a->eg = (uint64_t) (uintptr_t) ((char *) &EG(current_execute_data)
		- offsetof(zend_executor_globals, current_execute_data));
	a->cg = (uint64_t) (uintptr_t) ((char *) &CG(arena) - offsetof(zend_compiler_globals, arena));
	a->basic_globals = (uint64_t) (uintptr_t) ((char *) &BG(user_shutdown_function_names)
		- offsetof(php_basic_globals, user_shutdown_function_names));
	a->mm_heap = is_zend_mm() ? (uint64_t) (uintptr_t) zend_mm_get_heap() : 0;
#if PHP_VERSION_ID >= 70200
	/* The same exported symbols rdump-cli looks up in the ELF file of a target. */
	a->known_strings = (uint64_t) (uintptr_t) &zend_known_strings;
	a->one_char_string = (uint64_t) (uintptr_t) &ZSTR_CHAR(0);
	a->empty_string = (uint64_t) (uintptr_t) &zend_empty_string;
#else
	/* 7.0 and 7.1 keep them in CG (known strings from 7.1), inside the CG root */
# if PHP_VERSION_ID >= 70100
	a->known_strings = (uint64_t) (uintptr_t) &CG(known_strings);
# else
	a->known_strings = 0;
# endif
	a->one_char_string = (uint64_t) (uintptr_t) &CG(one_char_string)[0];
	a->empty_string = (uint64_t) (uintptr_t) &CG(empty_string);
#endif
}

int rdump_self_dump(const char *path, const rdump_self_opts *so, rdump_dump_result *res, rdump_error *e)
{
	rdump_php_addrs addrs;
	rdump_module_global mg;
	rdump_dump_opts o;
	rdump_target t;
	int rc;

	rdump_self_addrs(&addrs);
	mg.name.ptr = "basic_globals";
	mg.name.len = sizeof("basic_globals") - 1;
	mg.address = addrs.basic_globals;
	memset(&o, 0, sizeof(o));
	o.full = so->full;
	o.exclude_heap = so->exclude_heap;
	o.compress = so->compress;
	o.compress_level = so->compress_level;
	/* Undocumented on purpose: the "every writable mapping in full" baseline for bench/. */
	o.naive = getenv("RDUMP_BENCH_NAIVE") != NULL;
	o.copy = RDUMP_COPY_KERNEL;
	o.php = &addrs;
	o.module_globals = &mg;
	o.module_globals_count = 1;
	if (so->async) {
		/* The writer reports nothing back: the result stays zero. */
		memset(res, 0, sizeof(*res));
		return rdump_fork_dump(&o, path, so->marker, e);
	}
	if (so->marker && rdump_marker_clear(path, e) < 0) {
		return -1;
	}
	if (rdump_target_open(&t, getpid(), 1, e) < 0) {
		return -1;
	}
	rc = rdump_dump_path(&t, &o, path, res, e);
	rdump_target_close(&t);
	if (rc == 0 && so->marker) {
		rc = rdump_marker_write(path, e);
	}
	return rc;
}
