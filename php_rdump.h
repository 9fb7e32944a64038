/* Module entry, version and INI-backed globals of ext-rdump. */
#ifndef PHP_RDUMP_H
#define PHP_RDUMP_H

#include "format/rdump_format.h"

extern zend_module_entry rdump_module_entry;
#define phpext_rdump_ptr &rdump_module_entry

#define PHP_RDUMP_VERSION RDUMP_EXT_VERSION

ZEND_BEGIN_MODULE_GLOBALS(rdump)
	/* OOM dumps (PHP_INI_SYSTEM) */
	char *oom_dump;
	zend_long oom_dump_full;
	zend_long oom_dump_max;
	zend_long oom_dump_min_interval;
	char *oom_dump_max_total;
	zend_long oom_dump_marker;
	/* signal dumps (PHP_INI_SYSTEM) */
	char *signal;
	char *signal_dump;
	/* ZendMM's chunks on transparent huge pages (PHP_INI_SYSTEM) */
	zend_long huge_pages;
	int huge_pages_state;         /* this request's RDUMP_HP_* (rdump_huge_pages.h) */
	/* defaults of every dump (PHP_INI_ALL) */
	zend_long async;
	zend_long exclude_heap;
	zend_long compress;
	zend_long compress_level;
	/* automatic dumps, per request (rdump_triggers.c) */
	int oom_override;             /* rdump_set_oom_dump(): 0 INI, 1 path, 2 off */
	int oom_override_full;
	int oom_busy;                 /* an OOM dump is being taken on this thread */
	int interrupt_slot;           /* ZTS: where this request's interrupt flag is published */
	char oom_override_path[4096];
ZEND_END_MODULE_GLOBALS(rdump)

ZEND_EXTERN_MODULE_GLOBALS(rdump)
#define RDUMP_G(v) ZEND_MODULE_GLOBALS_ACCESSOR(rdump, v)

#if defined(ZTS) && defined(COMPILE_DL_RDUMP)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

#endif
