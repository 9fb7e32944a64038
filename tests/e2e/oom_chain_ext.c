/*
 * A stand-in for another extension that hooks zend_error_cb (as Xdebug or
 * an APM agent does), for tests/e2e/oom_chain.sh: it chains to the handler
 * it found and notes every fatal error it sees on stderr.
 */
#include <unistd.h>
#include "php.h"

static void (*prev_cb)(int type, zend_string *file, const uint32_t line, zend_string *message);

static void note_cb(int type, zend_string *file, const uint32_t line, zend_string *message)
{
	if ((type & E_ALL) == E_ERROR) {
		static const char msg[] = "errhook: saw the fatal error\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void) w;
	}
	prev_cb(type, file, line, message);
}

static PHP_MINIT_FUNCTION(errhook)
{
	(void) type;
	(void) module_number;
	prev_cb = zend_error_cb;
	zend_error_cb = note_cb;
	return SUCCESS;
}

zend_module_entry errhook_module_entry = {
	STANDARD_MODULE_HEADER, "errhook", NULL, PHP_MINIT(errhook), NULL, NULL, NULL, NULL,
	"0.1", STANDARD_MODULE_PROPERTIES
};

ZEND_GET_MODULE(errhook)
