/*
 * Automatic dumps, PHP glue: a zend_error_cb hook that dumps when a request
 * dies on memory_limit, the per-request override rdump_set_oom_dump(), and a
 * signal whose handler only raises a flag and the engine's interrupt, so the
 * dump is taken at the next VM safe point. The decisions (templates, limits,
 * budget) are in capture/trigger.c, the dump itself in capture/self.c.
 */
#ifdef HAVE_CONFIG_H
# include "config.h"
#endif

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "php.h"
#include "php_rdump.h"
#include "rdump_triggers.h"
#include "capture/self.h"
#include "capture/trigger.h"
#include "format/output.h"

/* Room the output code needs beside the final path for its temporary name. */
#define RDUMP_PATH_ROOM (PATH_MAX - 64)

enum { RDUMP_OOM_INI = 0, RDUMP_OOM_PATH, RDUMP_OOM_OFF };

/* Per process: every thread and every request of a worker counts. */
static rdump_gate oom_gate;

/* ---- reporting without ZendMM ---- */

/*
 * On the OOM path ZendMM is exhausted and php_error_docref() would allocate
 * from it: reports go to stderr with one write(2) from the stack.
 */
static void oom_report(const char *fmt, ...) ZEND_ATTRIBUTE_FORMAT(printf, 1, 2);

static void oom_report(const char *fmt, ...)
{
	char line[PATH_MAX + 512];
	va_list ap;
	int n;
	ssize_t w;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t) n > sizeof(line) - 2) {
		n = (int) sizeof(line) - 2;
	}
	line[n++] = '\n';
	do {
		w = write(STDERR_FILENO, line, (size_t) n);
	} while (w < 0 && errno == EINTR);
}

static int64_t monotonic_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		return (int64_t) time(NULL);
	}
	return (int64_t) ts.tv_sec;
}

static int expand(const char *tmpl, char *out)
{
	return rdump_template_expand(tmpl, (uint64_t) getpid(), (uint64_t) syscall(SYS_gettid),
		(int64_t) time(NULL), out, RDUMP_PATH_ROOM);
}

/* ---- OOM dumps ---- */

static void oom_dump(void)
{
	const char *tmpl = RDUMP_G(oom_dump);
	int full = RDUMP_G(oom_dump_full) != 0;
	char path[PATH_MAX];
	rdump_self_opts so;
	rdump_dump_result res;
	rdump_error e;
	const char *why;
	uint64_t budget = 0, existing = 0, incoming;

	if (RDUMP_G(oom_override) == RDUMP_OOM_OFF) {
		return;
	}
	if (RDUMP_G(oom_override) == RDUMP_OOM_PATH) {
		tmpl = RDUMP_G(oom_override_path);
		full = RDUMP_G(oom_override_full);
	}
	if (tmpl == NULL || tmpl[0] == '\0') {
		return;
	}
	if (expand(tmpl, path) < 0) {
		oom_report("rdump: OOM dump skipped: the path template \"%s\" is longer than %d bytes once expanded",
			tmpl, RDUMP_PATH_ROOM - 1);
		return;
	}
	if (RDUMP_G(oom_dump_max) < 0 || RDUMP_G(oom_dump_min_interval) < 0) {
		oom_report("rdump: OOM dump to \"%s\" skipped: rdump.oom_dump_max and rdump.oom_dump_min_interval must be 0 or more",
			path);
		return;
	}
	if (rdump_gate_enter(&oom_gate, RDUMP_G(oom_dump_max), RDUMP_G(oom_dump_min_interval),
			monotonic_seconds()) != RDUMP_GATE_GO) {
		return;
	}
	if (RDUMP_G(oom_dump_max_total) != NULL
		&& rdump_size_parse(RDUMP_G(oom_dump_max_total), &budget, &why) < 0) {
		oom_report("rdump: OOM dump to \"%s\" skipped: rdump.oom_dump_max_total \"%s\": %s",
			path, RDUMP_G(oom_dump_max_total), why);
		return;
	}
	if (budget > 0) {
		if (rdump_dir_dump_bytes(path, &existing, &e) < 0) {
			oom_report("rdump: OOM dump to \"%s\" skipped: %s (%s)", path, e.what, strerror(e.err));
			return;
		}
		/* The smallest this dump can be: the ZendMM chunks it must hold. */
		incoming = (uint64_t) zend_memory_usage(1);
		if (!rdump_budget_allows(budget, existing, incoming)) {
			oom_report("rdump: OOM dump to \"%s\" skipped: rdump.oom_dump_max_total is %" PRIu64
				" bytes; the directory holds %" PRIu64 " bytes of dumps and this one needs at least %" PRIu64,
				path, budget, existing, incoming);
			return;
		}
	}
	rdump_ini_dump_opts(&so);
	so.full = full;
	so.marker = RDUMP_G(oom_dump_marker) != 0;
	if (rdump_self_dump(path, &so, &res, &e) < 0) {
		if (e.err) {
			oom_report("rdump: OOM dump to \"%s\" failed: %s (%s)", path, e.what, strerror(e.err));
		} else {
			oom_report("rdump: OOM dump to \"%s\" failed: %s", path, e.what);
		}
	}
}

static int is_memory_limit_message(const char *msg)
{
	return strncmp(msg, "Allowed memory size of ", sizeof("Allowed memory size of ") - 1) == 0;
}

/* One hook for every PHP version's zend_error_cb signature. */
#if PHP_VERSION_ID >= 80100
# define RDUMP_ERROR_CB_ARGS int type, zend_string *file, const uint32_t line, zend_string *message
# define RDUMP_ERROR_CB_PASS type, file, line, message
# define RDUMP_ERROR_CB_TEXT ZSTR_VAL(message)
#elif PHP_VERSION_ID >= 80000
# define RDUMP_ERROR_CB_ARGS int type, const char *file, const uint32_t line, zend_string *message
# define RDUMP_ERROR_CB_PASS type, file, line, message
# define RDUMP_ERROR_CB_TEXT ZSTR_VAL(message)
#else
/* 7.4 passes the format: "Allowed memory size of %zu bytes exhausted ..." */
# define RDUMP_ERROR_CB_ARGS int type, const char *file, const uint32_t line, const char *format, va_list args
# define RDUMP_ERROR_CB_PASS type, file, line, format, args
# define RDUMP_ERROR_CB_TEXT format
#endif

static void (*prev_error_cb)(RDUMP_ERROR_CB_ARGS);

static void rdump_error_cb(RDUMP_ERROR_CB_ARGS)
{
	/*
	 * Before the previous handler: PHP's bails out of the request and never
	 * returns, and the memory to capture is that of the failing allocation.
	 * The busy flag stops a second fatal raised while dumping from recursing.
	 */
	if ((type & E_ALL) == E_ERROR && !RDUMP_G(oom_busy) && is_memory_limit_message(RDUMP_ERROR_CB_TEXT)) {
		RDUMP_G(oom_busy) = 1;
		oom_dump();
		RDUMP_G(oom_busy) = 0;
	}
	prev_error_cb(RDUMP_ERROR_CB_PASS);
}

/* {{{ rdump_set_oom_dump(?string $path, bool $full = false): bool */
PHP_FUNCTION(rdump_set_oom_dump)
{
	zend_string *path = NULL;
#if PHP_VERSION_ID >= 80000
	bool full = 0;
#else
	zend_bool full = 0;
#endif
	char probe[PATH_MAX];
	const char *slash;
	rdump_error e;

	ZEND_PARSE_PARAMETERS_START(1, 2)
		Z_PARAM_STR_EX(path, 1, 0)
		Z_PARAM_OPTIONAL
		Z_PARAM_BOOL(full)
	ZEND_PARSE_PARAMETERS_END();

	if (path == NULL) {
		RDUMP_G(oom_override) = RDUMP_OOM_INI;
		RETURN_TRUE;
	}
	if (ZSTR_LEN(path) == 0) {
		RDUMP_G(oom_override) = RDUMP_OOM_OFF;
		RETURN_TRUE;
	}
	if (memchr(ZSTR_VAL(path), '\0', ZSTR_LEN(path)) != NULL) {
		php_error_docref(NULL, E_WARNING, "Cannot use \"%s\\0%s\" as OOM dump path: the path contains a NUL byte",
			ZSTR_VAL(path), ZSTR_VAL(path) + strlen(ZSTR_VAL(path)) + 1);
		RETURN_FALSE;
	}
	/* pid, thread id and the number of digits of the time stay what they are now. */
	if (ZSTR_LEN(path) >= sizeof(RDUMP_G(oom_override_path)) || expand(ZSTR_VAL(path), probe) < 0) {
		php_error_docref(NULL, E_WARNING, "Cannot use \"%s\" as OOM dump path: the path is too long (at most %d bytes once expanded)",
			ZSTR_VAL(path), RDUMP_PATH_ROOM - 1);
		RETURN_FALSE;
	}
	/* A directory named after the time is only known at the dump; any other can be checked now. */
	slash = strrchr(ZSTR_VAL(path), '/');
	if (slash == NULL || zend_memnstr(ZSTR_VAL(path), "%t", 2, slash) == NULL) {
		if (rdump_output_check_dir(probe, &e) < 0) {
			php_error_docref(NULL, E_WARNING, "Cannot use \"%s\" as OOM dump path: %s (%s)",
				probe, e.what, strerror(e.err));
			RETURN_FALSE;
		}
	}
	memcpy(RDUMP_G(oom_override_path), ZSTR_VAL(path), ZSTR_LEN(path) + 1);
	RDUMP_G(oom_override_full) = full;
	RDUMP_G(oom_override) = RDUMP_OOM_PATH;
	RETURN_TRUE;
}
/* }}} */

/* ---- signal dumps ---- */

#if PHP_VERSION_ID >= 80200
typedef zend_atomic_bool rdump_vm_flag;
# define RDUMP_RAISE_INTERRUPT(f) zend_atomic_bool_store_ex((f), true)
#else
typedef volatile zend_bool rdump_vm_flag;
# define RDUMP_RAISE_INTERRUPT(f) (*(f) = 1)
#endif

static volatile sig_atomic_t signal_pending;
static int signal_installed;          /* the signal our handler is on, 0 = none */
static struct sigaction signal_prev;  /* the handler we chain to */
#if PHP_VERSION_ID >= 70100
static void (*prev_interrupt)(zend_execute_data *execute_data);
#else
/* PHP 7.0 has no engine interrupt (EG(vm_interrupt), zend_interrupt_function), so no safe point to dump at */
# define RDUMP_NO_VM_INTERRUPT 1
#endif

#ifdef ZTS
/*
 * A signal lands on any thread, PHP's or not, where thread-local storage
 * may not be touched: each request publishes its engine's interrupt flag
 * here, and the handler raises every published one.
 */
# define RDUMP_INTERRUPT_SLOTS 256
static rdump_vm_flag *interrupt_slots[RDUMP_INTERRUPT_SLOTS];
#endif

static void raise_interrupts(void)
{
#if defined(RDUMP_NO_VM_INTERRUPT)
#elif defined(ZTS)
	size_t i;

	for (i = 0; i < RDUMP_INTERRUPT_SLOTS; i++) {
		rdump_vm_flag *f = __atomic_load_n(&interrupt_slots[i], __ATOMIC_ACQUIRE);

		if (f != NULL) {
			RDUMP_RAISE_INTERRUPT(f);
		}
	}
#else
	RDUMP_RAISE_INTERRUPT(&EG(vm_interrupt));
#endif
}

static void rdump_signal_handler(int signo, siginfo_t *info, void *context)
{
	int saved = errno;

	signal_pending = 1;
	raise_interrupts();
	/* Whatever held the signal before us still gets it. */
	if (signal_prev.sa_flags & SA_SIGINFO) {
		if (signal_prev.sa_sigaction != NULL) {
			signal_prev.sa_sigaction(signo, info, context);
		}
	} else if (signal_prev.sa_handler != SIG_DFL && signal_prev.sa_handler != SIG_IGN) {
		signal_prev.sa_handler(signo);
	}
	errno = saved;
}

static int is_our_handler(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == rdump_signal_handler;
}

/* Parses rdump.signal; 0 when off or unusable (warned once per process). */
static int configured_signal(int warn)
{
	static int warned;
	const char *why;
	int signo;

	if (RDUMP_G(signal) == NULL || RDUMP_G(signal)[0] == '\0') {
		return 0;
	}
#ifdef RDUMP_NO_VM_INTERRUPT
	if (warn && !warned) {
		warned = 1;
		php_error_docref(NULL, E_WARNING, "rdump.signal needs PHP 7.1 or later (PHP 7.0 has no engine interrupt); signal dumps are off");
	}
	return 0;
#endif
	if (rdump_signal_parse(RDUMP_G(signal), &signo, &why) < 0) {
		if (warn && !warned) {
			warned = 1;
			php_error_docref(NULL, E_WARNING, "rdump.signal \"%s\": %s; signal dumps are off", RDUMP_G(signal), why);
		}
		return 0;
	}
	if (RDUMP_G(signal_dump) == NULL || RDUMP_G(signal_dump)[0] == '\0') {
		if (warn && !warned) {
			warned = 1;
			php_error_docref(NULL, E_WARNING, "rdump.signal is set but rdump.signal_dump (the path template) is empty; signal dumps are off");
		}
		return 0;
	}
	if (signal_installed != 0 && signal_installed != signo) {
		/* rdump.signal is PHP_INI_SYSTEM: one signal per process. */
		return 0;
	}
	return signo;
}

static void install_signal(int at_startup)
{
	struct sigaction cur, ours;
	int signo = configured_signal(1);

	if (signo == 0) {
		return;
	}
	memset(&ours, 0, sizeof(ours));
	ours.sa_sigaction = rdump_signal_handler;
	ours.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&ours.sa_mask);
	memset(&cur, 0, sizeof(cur));
#ifdef ZEND_SIGNALS
	/*
	 * During a request the engine owns the real handler and dispatches to
	 * the one registered with zend_sigaction(); it resets that table at
	 * every request start (and FPM resets handlers when it forks a worker),
	 * hence the check at every request.
	 */
	if (!at_startup) {
		zend_sigaction(signo, NULL, &cur);
		if (is_our_handler(&cur)) {
			return;
		}
		signal_prev = cur;
		if (is_our_handler(&signal_prev)) {
			memset(&signal_prev, 0, sizeof(signal_prev));
		}
		zend_sigaction(signo, &ours, NULL);
		signal_installed = signo;
		return;
	}
#else
	(void) at_startup;
#endif
	if (sigaction(signo, NULL, &cur) < 0) {
		php_error_docref(NULL, E_WARNING, "rdump.signal: cannot read the handler of signal %d: %s", signo, strerror(errno));
		return;
	}
	if (is_our_handler(&cur)) {
		return;
	}
	signal_prev = cur;
	if (sigaction(signo, &ours, NULL) < 0) {
		php_error_docref(NULL, E_WARNING, "rdump.signal: cannot install a handler for signal %d: %s", signo, strerror(errno));
		return;
	}
	signal_installed = signo;
}

#ifndef RDUMP_NO_VM_INTERRUPT
static void signal_dump(void)
{
	char path[PATH_MAX];
	rdump_self_opts so;
	rdump_dump_result res;
	rdump_error e;

	if (RDUMP_G(signal_dump) == NULL || RDUMP_G(signal_dump)[0] == '\0') {
		return;
	}
	if (expand(RDUMP_G(signal_dump), path) < 0) {
		php_error_docref(NULL, E_WARNING, "Signal dump skipped: the path template \"%s\" is longer than %d bytes once expanded",
			RDUMP_G(signal_dump), RDUMP_PATH_ROOM - 1);
		return;
	}
	rdump_ini_dump_opts(&so);
	if (rdump_self_dump(path, &so, &res, &e) < 0) {
		if (e.err) {
			php_error_docref(NULL, E_WARNING, "Signal dump to \"%s\" failed: %s (%s)", path, e.what, strerror(e.err));
		} else {
			php_error_docref(NULL, E_WARNING, "Signal dump to \"%s\" failed: %s", path, e.what);
		}
	}
}

static void rdump_interrupt(zend_execute_data *execute_data)
{
	/* Exchanged, so that under ZTS one thread takes the dump. */
	if (signal_pending && __atomic_exchange_n(&signal_pending, 0, __ATOMIC_ACQ_REL)) {
		signal_dump();
	}
	if (prev_interrupt != NULL) {
		prev_interrupt(execute_data);
	}
}
#endif

/* ---- module and request hooks ---- */

void rdump_triggers_minit(void)
{
	const char *why;
	uint64_t budget;

	prev_error_cb = zend_error_cb;
	zend_error_cb = rdump_error_cb;
#ifndef RDUMP_NO_VM_INTERRUPT
	prev_interrupt = zend_interrupt_function;
	zend_interrupt_function = rdump_interrupt;
#endif
	/* Told at startup rather than at the first OOM. */
	if (RDUMP_G(oom_dump_max_total) != NULL
		&& rdump_size_parse(RDUMP_G(oom_dump_max_total), &budget, &why) < 0) {
		php_error_docref(NULL, E_WARNING, "rdump.oom_dump_max_total \"%s\": %s; OOM dumps will be skipped",
			RDUMP_G(oom_dump_max_total), why);
	}
	if (RDUMP_G(oom_dump_max) < 0 || RDUMP_G(oom_dump_min_interval) < 0) {
		php_error_docref(NULL, E_WARNING, "rdump.oom_dump_max and rdump.oom_dump_min_interval must be 0 or more; OOM dumps will be skipped");
	}
	install_signal(1);
}

void rdump_triggers_mshutdown(void)
{
	struct sigaction cur;

	/* Whoever hooked after us keeps our pointer and stays in charge. */
	if (zend_error_cb == rdump_error_cb) {
		zend_error_cb = prev_error_cb;
	}
#ifndef RDUMP_NO_VM_INTERRUPT
	if (zend_interrupt_function == rdump_interrupt) {
		zend_interrupt_function = prev_interrupt;
	}
#endif
	/* Never leave a handler that points into an unloaded library. */
	if (signal_installed == 0) {
		return;
	}
#ifdef ZEND_SIGNALS
	zend_sigaction(signal_installed, NULL, &cur);
	if (is_our_handler(&cur)) {
		zend_sigaction(signal_installed, &signal_prev, NULL);
	}
#endif
	if (sigaction(signal_installed, NULL, &cur) == 0 && is_our_handler(&cur)) {
		sigaction(signal_installed, &signal_prev, NULL);
	}
}

void rdump_triggers_rinit(void)
{
#if defined(ZTS) && !defined(RDUMP_NO_VM_INTERRUPT)
	size_t i;

	for (i = 0; i < RDUMP_INTERRUPT_SLOTS; i++) {
		rdump_vm_flag *expected = NULL;

		if (__atomic_compare_exchange_n(&interrupt_slots[i], &expected, &EG(vm_interrupt), 0,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			RDUMP_G(interrupt_slot) = (int) i + 1;
			break;
		}
	}
#endif
	install_signal(0);
	/* A signal taken between requests: the engine cleared its interrupt flag since. */
	if (signal_pending) {
		raise_interrupts();
	}
}

void rdump_triggers_rshutdown(void)
{
#ifdef ZTS
	if (RDUMP_G(interrupt_slot) > 0) {
		__atomic_store_n(&interrupt_slots[RDUMP_G(interrupt_slot) - 1], NULL, __ATOMIC_RELEASE);
		RDUMP_G(interrupt_slot) = 0;
	}
#endif
	RDUMP_G(oom_override) = RDUMP_OOM_INI;
	RDUMP_G(oom_override_full) = 0;
	RDUMP_G(oom_override_path)[0] = '\0';
}
