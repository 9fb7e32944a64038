/*
 * ext-rdump's PHP glue: INI entries, argument parsing, warnings, phpinfo().
 * The work is done by capture/ and format/.
 */
#ifdef HAVE_CONFIG_H
# include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include "php.h"
#include "php_ini.h"
#include "ext/standard/info.h"
#include "php_rdump.h"
#include "capture/self.h"
#include "capture/fork.h"
#include "rdump_triggers.h"
#include "rdump_huge_pages.h"

#if PHP_VERSION_ID < 80000
typedef zend_bool rdump_bool;
#else
typedef bool rdump_bool;
#endif

/* PHP 7.0 and 7.1 take a class name (none here) before allow_null. */
#if PHP_VERSION_ID < 70200
# define RDUMP_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(name, ref, required, type, allow_null) \
	ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(name, ref, required, type, NULL, allow_null)
#else
# define RDUMP_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX
#endif

ZEND_DECLARE_MODULE_GLOBALS(rdump)

PHP_INI_BEGIN()
	STD_PHP_INI_ENTRY("rdump.oom_dump", "", PHP_INI_SYSTEM, OnUpdateString, oom_dump, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_BOOLEAN("rdump.oom_dump_full", "0", PHP_INI_SYSTEM, OnUpdateBool, oom_dump_full, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_ENTRY("rdump.oom_dump_max", "1", PHP_INI_SYSTEM, OnUpdateLong, oom_dump_max, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_ENTRY("rdump.oom_dump_min_interval", "0", PHP_INI_SYSTEM, OnUpdateLong, oom_dump_min_interval, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_ENTRY("rdump.oom_dump_max_total", "0", PHP_INI_SYSTEM, OnUpdateString, oom_dump_max_total, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_BOOLEAN("rdump.oom_dump_marker", "0", PHP_INI_SYSTEM, OnUpdateBool, oom_dump_marker, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_ENTRY("rdump.signal", "", PHP_INI_SYSTEM, OnUpdateString, signal, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_ENTRY("rdump.signal_dump", "", PHP_INI_SYSTEM, OnUpdateString, signal_dump, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_BOOLEAN("rdump.huge_pages", "0", PHP_INI_SYSTEM, OnUpdateBool, huge_pages, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_BOOLEAN("rdump.async", "0", PHP_INI_ALL, OnUpdateBool, async, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_BOOLEAN("rdump.exclude_heap", "0", PHP_INI_ALL, OnUpdateBool, exclude_heap, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_BOOLEAN("rdump.compress", "0", PHP_INI_ALL, OnUpdateBool, compress, zend_rdump_globals, rdump_globals)
	STD_PHP_INI_ENTRY("rdump.compress_level", "1", PHP_INI_ALL, OnUpdateLong, compress_level, zend_rdump_globals, rdump_globals)
PHP_INI_END()

static void warn_failure(const char *path, const rdump_error *e)
{
	if (e->err) {
		php_error_docref(NULL, E_WARNING, "Cannot dump to \"%s\": %s (%s)", path, e->what, strerror(e->err));
	} else {
		php_error_docref(NULL, E_WARNING, "Cannot dump to \"%s\": %s", path, e->what);
	}
}

/* The INI defaults every dump starts from. */
static void default_opts(rdump_self_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->async = RDUMP_G(async) != 0;
	so->exclude_heap = RDUMP_G(exclude_heap) != 0;
	so->compress = RDUMP_G(compress) != 0;
	so->compress_level = (int) RDUMP_G(compress_level);
}

/* The same defaults for the OOM and signal dumps of rdump_triggers.c. */
void rdump_ini_dump_opts(rdump_self_opts *so)
{
	default_opts(so);
}

/* $options of rdump_dump(): each key overrides its INI default. */
static int parse_options(HashTable *options, rdump_self_opts *so)
{
	zend_string *key;
	zval *val;

	ZEND_HASH_FOREACH_STR_KEY_VAL(options, key, val) {
		int *flag = NULL;

		if (key == NULL) {
			php_error_docref(NULL, E_WARNING, "Option keys must be strings (async, exclude_heap, compress, compress_level)");
			return -1;
		}
		if (zend_string_equals_literal(key, "async")) {
			flag = &so->async;
		} else if (zend_string_equals_literal(key, "exclude_heap")) {
			flag = &so->exclude_heap;
		} else if (zend_string_equals_literal(key, "compress")) {
			flag = &so->compress;
		} else if (zend_string_equals_literal(key, "compress_level")) {
			if (Z_TYPE_P(val) != IS_LONG || Z_LVAL_P(val) < 1 || Z_LVAL_P(val) > 9) {
				php_error_docref(NULL, E_WARNING, "Option \"compress_level\" must be an integer from 1 to 9");
				return -1;
			}
			so->compress_level = (int) Z_LVAL_P(val);
			continue;
		} else {
			php_error_docref(NULL, E_WARNING, "Unknown option \"%s\" (known: async, exclude_heap, compress, compress_level)", ZSTR_VAL(key));
			return -1;
		}
		if (Z_TYPE_P(val) != IS_TRUE && Z_TYPE_P(val) != IS_FALSE) {
			php_error_docref(NULL, E_WARNING, "Option \"%s\" must be a bool", ZSTR_VAL(key));
			return -1;
		}
		*flag = Z_TYPE_P(val) == IS_TRUE;
	} ZEND_HASH_FOREACH_END();
	return 0;
}

/* {{{ rdump_dump(string $path, bool $full = false, array $options = []): bool */
PHP_FUNCTION(rdump_dump)
{
	char *path;
	size_t path_len;
	rdump_bool full = 0;
	HashTable *options = NULL;
	rdump_self_opts so;
	rdump_dump_result res;
	rdump_error e;

	ZEND_PARSE_PARAMETERS_START(1, 3)
		Z_PARAM_STRING(path, path_len)
		Z_PARAM_OPTIONAL
		Z_PARAM_BOOL(full)
		Z_PARAM_ARRAY_HT(options)
	ZEND_PARSE_PARAMETERS_END();

	if (path_len == 0) {
		php_error_docref(NULL, E_WARNING, "Cannot dump: the path is empty");
		RETURN_FALSE;
	}
	if (memchr(path, '\0', path_len) != NULL) {
		php_error_docref(NULL, E_WARNING, "Cannot dump to \"%s\\0%s\": the path contains a NUL byte",
			path, path + strlen(path) + 1);
		RETURN_FALSE;
	}
	default_opts(&so);
	so.full = full;
	if (options != NULL && parse_options(options, &so) < 0) {
		RETURN_FALSE;
	}
	if (so.exclude_heap && !is_zend_mm()) {
		php_error_docref(NULL, E_WARNING, "exclude_heap ignored for \"%s\": with USE_ZEND_ALLOC=0 PHP's own memory is in the C heap, which is kept", path);
		so.exclude_heap = 0;
	}
	if (rdump_self_dump(path, &so, &res, &e) < 0) {
		warn_failure(path, &e);
		RETURN_FALSE;
	}
	RETURN_TRUE;
}
/* }}} */

RDUMP_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_rdump_dump, 0, 1, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, full, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, options, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

RDUMP_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_rdump_set_oom_dump, 0, 1, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 1)
	ZEND_ARG_TYPE_INFO(0, full, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry rdump_functions[] = {
	PHP_FE(rdump_dump, arginfo_rdump_dump)
	PHP_FE(rdump_set_oom_dump, arginfo_rdump_set_oom_dump)
	PHP_FE_END
};

static PHP_GINIT_FUNCTION(rdump)
{
#if defined(COMPILE_DL_RDUMP) && defined(ZTS)
	ZEND_TSRMLS_CACHE_UPDATE();
#endif
	memset(rdump_globals, 0, sizeof(*rdump_globals));
}

PHP_MINIT_FUNCTION(rdump)
{
	(void) type;
	REGISTER_INI_ENTRIES();
	rdump_triggers_minit();
	return SUCCESS;
}

PHP_MSHUTDOWN_FUNCTION(rdump)
{
	(void) type;
	/* Again: a fatal error in an earlier module's RSHUTDOWN skips ours, and the heap outlives this module. */
	rdump_huge_pages_rshutdown();
	rdump_triggers_mshutdown();
	rdump_fork_finish();
	UNREGISTER_INI_ENTRIES();
	return SUCCESS;
}

PHP_RINIT_FUNCTION(rdump)
{
	(void) type;
	(void) module_number;
#if defined(COMPILE_DL_RDUMP) && defined(ZTS)
	ZEND_TSRMLS_CACHE_UPDATE();
#endif
	rdump_huge_pages_rinit();
	rdump_triggers_rinit();
	return SUCCESS;
}

PHP_RSHUTDOWN_FUNCTION(rdump)
{
	(void) type;
	(void) module_number;
	rdump_huge_pages_rshutdown();
	rdump_triggers_rshutdown();
	rdump_fork_reap();
	return SUCCESS;
}

PHP_MINFO_FUNCTION(rdump)
{
	(void) zend_module;
	php_info_print_table_start();
	php_info_print_table_row(2, "rdump support", "enabled");
	php_info_print_table_row(2, "Extension version", PHP_RDUMP_VERSION);
	php_info_print_table_row(2, "RDUMP format version", ZEND_TOSTR(RDUMP_FORMAT_VERSION));
	php_info_print_table_row(2, "PHP version tag in dumps", rdump_php_version_tag());
	php_info_print_table_row(2, "ZendMM chunks of this request on huge pages", rdump_huge_pages_describe());
	php_info_print_table_end();
	DISPLAY_INI_ENTRIES();
}

zend_module_entry rdump_module_entry = {
	STANDARD_MODULE_HEADER,
	"rdump",
	rdump_functions,
	PHP_MINIT(rdump),
	PHP_MSHUTDOWN(rdump),
	PHP_RINIT(rdump),
	PHP_RSHUTDOWN(rdump),
	PHP_MINFO(rdump),
	PHP_RDUMP_VERSION,
	PHP_MODULE_GLOBALS(rdump),
	PHP_GINIT(rdump),
	NULL,
	NULL,
	STANDARD_MODULE_PROPERTIES_EX
};

#ifdef COMPILE_DL_RDUMP
# ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
# endif
ZEND_GET_MODULE(rdump)
#endif
