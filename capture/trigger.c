/*
 * Path templates, budgets, rate limits, signal names and markers of the
 * automatic dumps; see trigger.h. Raw syscalls and stack or mmap'd memory
 * only: these run on the OOM path and in forked writers.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "trigger.h"
#include "mem.h"
#include "../format/output.h"

static size_t put_str(char *out, size_t pos, size_t size, const char *s, int *overflow)
{
	for (; *s; s++) {
		if (pos + 1 >= size) {
			*overflow = 1;
			return pos;
		}
		out[pos++] = *s;
	}
	return pos;
}

static size_t put_num(char *out, size_t pos, size_t size, uint64_t v, int neg, int *overflow)
{
	char digits[24];

	digits[0] = '-';
	rdump_append_dec(digits, neg ? 1 : 0, sizeof(digits), v);
	return put_str(out, pos, size, digits, overflow);
}

int rdump_template_expand(const char *tmpl, uint64_t pid, uint64_t tid, int64_t now,
	char *out, size_t out_size)
{
	size_t pos = 0;
	int overflow = 0;
	const char *p;

	if (out_size == 0) {
		return -1;
	}
	for (p = tmpl; *p && !overflow; p++) {
		char lit[3] = { 0, 0, 0 };

		if (*p != '%') {
			lit[0] = *p;
			pos = put_str(out, pos, out_size, lit, &overflow);
			continue;
		}
		switch (p[1]) {
		case 'p':
			pos = put_num(out, pos, out_size, pid, 0, &overflow);
			p++;
			break;
		case 'i':
			pos = put_num(out, pos, out_size, tid, 0, &overflow);
			p++;
			break;
		case 't':
			pos = put_num(out, pos, out_size, now < 0 ? (uint64_t) 0 - (uint64_t) now : (uint64_t) now,
				now < 0, &overflow);
			p++;
			break;
		case '%':
			pos = put_str(out, pos, out_size, "%", &overflow);
			p++;
			break;
		case '\0':
			pos = put_str(out, pos, out_size, "%", &overflow);
			break;
		default:
			lit[0] = '%';
			lit[1] = p[1];
			pos = put_str(out, pos, out_size, lit, &overflow);
			p++;
			break;
		}
	}
	out[overflow ? 0 : pos] = '\0';
	return overflow ? -1 : (int) pos;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int rdump_size_parse(const char *s, uint64_t *out, const char **why)
{
	const char *p = s;
	unsigned __int128 whole = 0, frac = 0, scale = 1, mult = 1, v;
	int digits = 0;

	while (is_space(*p)) {
		p++;
	}
	if (*p == '-') {
		*why = "a size cannot be negative";
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		whole = whole * 10 + (unsigned) (*p - '0');
		if (whole > UINT64_MAX) {
			*why = "the size is too large";
			return -1;
		}
	}
	if (digits == 0) {
		*why = "expected a number such as 512M or 1.5G";
		return -1;
	}
	if (*p == '.') {
		int fdigits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
			/* Digits past the 18th weigh less than a byte even in terabytes. */
			if (fdigits < 18) {
				frac = frac * 10 + (unsigned) (*p - '0');
				scale *= 10;
			}
		}
		if (fdigits == 0) {
			*why = "expected digits after the decimal point";
			return -1;
		}
	}
	while (is_space(*p)) {
		p++;
	}
	switch (*p) {
	case 'k': case 'K':
		mult = (unsigned __int128) 1 << 10;
		p++;
		break;
	case 'm': case 'M':
		mult = (unsigned __int128) 1 << 20;
		p++;
		break;
	case 'g': case 'G':
		mult = (unsigned __int128) 1 << 30;
		p++;
		break;
	case 't': case 'T':
		mult = (unsigned __int128) 1 << 40;
		p++;
		break;
	default:
		break;
	}
	while (is_space(*p)) {
		p++;
	}
	if (*p != '\0') {
		*why = "unexpected characters (use digits, an optional fraction with '.', and K, M, G or T)";
		return -1;
	}
	v = whole * mult + frac * mult / scale;
	if (v > UINT64_MAX) {
		*why = "the size is too large";
		return -1;
	}
	*out = (uint64_t) v;
	return 0;
}

/* Splits path into its directory (into dir) and its last component. */
static int split_dir(const char *path, char *dir, size_t dir_size, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		if (dir_size < 2) {
			return -1;
		}
		dir[0] = '.';
		dir[1] = '\0';
		*base = path;
		return 0;
	}
	n = slash == path ? 1 : (size_t) (slash - path);
	if (n + 1 > dir_size) {
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash + 1;
	return 0;
}

struct rdump_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define RDUMP_DENTS_BUF 65536

int rdump_dir_dump_bytes(const char *path, uint64_t *total, rdump_error *e)
{
	char dir[PATH_MAX];
	const char *base;
	char *buf;
	int fd, rc = 0;

	*total = 0;
	if (split_dir(path, dir, sizeof(dir), &base) < 0) {
		return RDUMP_FAIL(e, "the path is too long", ENAMETOOLONG);
	}
	do {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		return RDUMP_FAIL(e, "cannot open the directory to add up its dumps", errno);
	}
	/* opendir() would malloc. */
	buf = rdump_mem_alloc(RDUMP_DENTS_BUF);
	if (buf == NULL) {
		close(fd);
		return RDUMP_FAIL(e, "cannot allocate the directory buffer", ENOMEM);
	}
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, RDUMP_DENTS_BUF);
		long off;

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			rc = RDUMP_FAIL(e, "cannot read the directory to add up its dumps", errno);
			break;
		}
		if (n == 0) {
			break;
		}
		for (off = 0; off < n;) {
			struct rdump_dirent64 *d = (struct rdump_dirent64 *) (buf + off);
			size_t len = strlen(d->d_name);
			struct stat st;

			off += d->d_reclen;
			if (len <= 6 || memcmp(d->d_name + len - 6, ".rdump", 6) != 0
				|| strcmp(d->d_name, base) == 0) {
				continue;
			}
			if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
				/* Gone meanwhile, or not a regular file: not a dump that takes space. */
				continue;
			}
			*total += (uint64_t) st.st_size;
		}
	}
	rdump_mem_free(buf, RDUMP_DENTS_BUF);
	close(fd);
	return rc;
}

int rdump_budget_allows(uint64_t budget, uint64_t existing, uint64_t incoming)
{
	if (budget == 0) {
		return 1;
	}
	return existing <= budget && incoming <= budget - existing;
}

rdump_gate_verdict rdump_gate_enter(rdump_gate *g, int64_t max, int64_t min_interval, int64_t now)
{
	rdump_gate_verdict v = RDUMP_GATE_GO;

	while (__atomic_exchange_n(&g->lock, 1, __ATOMIC_ACQUIRE)) {
		/* Held only for the few instructions below. */
	}
	if (max > 0 && g->attempts >= (uint64_t) max) {
		v = RDUMP_GATE_MAX;
	} else if (min_interval > 0 && g->attempts > 0 && now - g->last < min_interval) {
		v = RDUMP_GATE_INTERVAL;
	} else {
		g->attempts++;
		g->last = now;
	}
	__atomic_store_n(&g->lock, 0, __ATOMIC_RELEASE);
	return v;
}

static const struct {
	const char *name;
	int signo;
} signal_names[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
	{ "URG", SIGURG }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PWR", SIGPWR }, { "CONT", SIGCONT },
	{ "TSTP", SIGTSTP }, { "PIPE", SIGPIPE }, { "IO", SIGIO },
	{ "KILL", SIGKILL }, { "STOP", SIGSTOP }, { "SEGV", SIGSEGV }, { "BUS", SIGBUS },
	{ "FPE", SIGFPE }, { "ILL", SIGILL }, { "ABRT", SIGABRT }, { "TRAP", SIGTRAP },
	{ "SYS", SIGSYS }, { "CHLD", SIGCHLD }, { "PROF", SIGPROF }
};

static int parse_small_int(const char *p, int *out)
{
	int v = 0, n = 0;

	for (; *p >= '0' && *p <= '9' && n < 4; p++, n++) {
		v = v * 10 + (*p - '0');
	}
	if (n == 0 || *p != '\0') {
		return -1;
	}
	*out = v;
	return 0;
}

static int ci_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = *a >= 'a' && *a <= 'z' ? (char) (*a - 32) : *a;

		if (ca != *b) {
			return 0;
		}
	}
	return *a == *b;
}

static int ci_prefix(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++) {
		char c = *s >= 'a' && *s <= 'z' ? (char) (*s - 32) : *s;

		if (c != *prefix) {
			return 0;
		}
	}
	return 1;
}

int rdump_signal_parse(const char *s, int *signo, const char **why)
{
	const char *name = s;
	int sig = -1, n;
	size_t i;

	if (s[0] >= '0' && s[0] <= '9') {
		if (parse_small_int(s, &sig) < 0) {
			*why = "not a signal number";
			return -1;
		}
	} else {
		if (ci_prefix(name, "SIG")) {
			name += 3;
		}
		if (ci_prefix(name, "RTMIN")) {
			sig = SIGRTMIN;
			if (name[5] == '+' && parse_small_int(name + 6, &n) == 0) {
				sig += n;
			} else if (name[5] != '\0') {
				sig = -1;
			}
		} else if (ci_prefix(name, "RTMAX")) {
			sig = SIGRTMAX;
			if (name[5] == '-' && parse_small_int(name + 6, &n) == 0) {
				sig -= n;
			} else if (name[5] != '\0') {
				sig = -1;
			}
		} else {
			for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
				if (ci_eq(name, signal_names[i].name)) {
					sig = signal_names[i].signo;
					break;
				}
			}
		}
		if (sig < 0) {
			*why = "unknown signal name (use e.g. SIGUSR2, SIGRTMIN+1 or a number)";
			return -1;
		}
	}
	if (sig <= 0 || sig >= NSIG || (sig > SIGSYS && (sig < SIGRTMIN || sig > SIGRTMAX))) {
		*why = "no such signal";
		return -1;
	}
	if (sig == SIGKILL || sig == SIGSTOP) {
		*why = "this signal cannot be caught";
		return -1;
	}
	if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGABRT
		|| sig == SIGTRAP || sig == SIGSYS) {
		*why = "this signal reports a fault; a dump on it would hide crashes";
		return -1;
	}
	if (sig == SIGPROF || sig == SIGCHLD) {
		*why = "PHP relies on this signal (timeouts, child processes)";
		return -1;
	}
	*signo = sig;
	return 0;
}

int rdump_marker_path(const char *path, char *out, size_t out_size)
{
	size_t len = strlen(path);

	if (len + sizeof(".done") > out_size) {
		return -1;
	}
	memcpy(out, path, len);
	memcpy(out + len, ".done", sizeof(".done"));
	return 0;
}

int rdump_marker_clear(const char *path, rdump_error *e)
{
	char marker[PATH_MAX];

	if (rdump_marker_path(path, marker, sizeof(marker)) < 0) {
		return RDUMP_FAIL(e, "the marker path is too long", ENAMETOOLONG);
	}
	if (unlink(marker) < 0 && errno != ENOENT) {
		return RDUMP_FAIL(e, "cannot remove the stale marker (the dump path plus \".done\")", errno);
	}
	return 0;
}

int rdump_marker_write(const char *path, rdump_error *e)
{
	char marker[PATH_MAX];
	int fd;

	if (rdump_marker_path(path, marker, sizeof(marker)) < 0) {
		return RDUMP_FAIL(e, "the marker path is too long", ENAMETOOLONG);
	}
	do {
		fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		return RDUMP_FAIL(e, "cannot create the marker (the dump path plus \".done\")", errno);
	}
	if (close(fd) < 0) {
		return RDUMP_FAIL(e, "cannot create the marker (the dump path plus \".done\")", errno);
	}
	return 0;
}
