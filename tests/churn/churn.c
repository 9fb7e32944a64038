/*
 * Test helper, LD_PRELOADed into php by tests/e2e/hostile_churn.sh, that
 * makes memory vanish under a dump in two ways:
 *
 * - churn: the constructor starts a thread that maps, touches, mprotects and
 *   unmaps 2 MiB regions in a tight loop, so every dump runs while pages
 *   appear, change protection and vanish under it, at random moments;
 * - trap: one 2 MiB region (between two PROT_NONE guard pages, so it is a
 *   region of its own in a dump) whose pages each start with "RDUMPTRAP" and
 *   their index; the first time the dumping code hands an address inside it
 *   to write(2) or process_vm_readv(2), this library (interposing both)
 *   unmaps it, or makes its upper half PROT_NONE, first: the exact moment
 *   the dump code must survive, every time, deterministically.
 *
 * Environment:
 *   RDUMP_CHURN_SLOTS   churn regions alive at once (default 4, 0..64; 0 = no thread)
 *   RDUMP_CHURN_TRAP    unmap-on-write, protect-on-write, unmap-on-read or
 *                       protect-on-read; unset = no trap
 *   RDUMP_CHURN_REPORT  file written at exit: "cycles N", "trap ADDRESS SIZE FIRED"
 *
 * Built by the test with: cc -shared -fPIC -pthread -o churn.so churn.c -ldl
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define CHURN_REGION ((size_t) 2 << 20)
#define CHURN_MAX_SLOTS 64
#define TRAP_MARK "RDUMPTRAP"

static int trap_on;       /* 0 no trap, 'w' write(2), 'r' process_vm_readv(2) */
static int trap_protect;  /* upper half PROT_NONE instead of unmapping it all */

static void *slots[CHURN_MAX_SLOTS];
static unsigned nslots = 4;
static volatile int stop;
static volatile uint64_t cycles;
static pthread_t thread;
static int started;
static pid_t owner;  /* a forked child has no churn thread to stop */
/* Copied at start: php's CLI frees its environment copy before destructors run. */
static char report[4096];

static unsigned char *trap;
static int trap_armed;
static int trap_fired;

static void die(const char *what)
{
	perror(what);
	abort();
}

/* xorshift: a cheap, lock-free source of variety for the loop. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *churn(void *arg)
{
	uint64_t seed = (uint64_t) getpid() * 2654435761u + 1;
	long ps = sysconf(_SC_PAGESIZE);

	(void) arg;
	while (!stop) {
		unsigned i = (unsigned) (next_rand(&seed) % nslots);
		uint64_t r = next_rand(&seed);
		unsigned char *p;
		size_t off;

		if (slots[i] != NULL) {
			if (munmap(slots[i], CHURN_REGION) != 0) {
				die("churn: munmap");
			}
			slots[i] = NULL;
		}
		p = mmap(NULL, CHURN_REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			continue;
		}
		/* Touch every page: resident pages are the ones a dump plans to copy. */
		for (off = 0; off < CHURN_REGION; off += (size_t) ps) {
			p[off] = (unsigned char) (off / (size_t) ps + 1);
		}
		/* Unreadable, read-only or an unreadable hole inside: each makes a plan go stale differently. */
		switch (r % 4) {
		case 0:
			if (mprotect(p, CHURN_REGION, PROT_NONE) != 0) {
				die("churn: mprotect");
			}
			break;
		case 1:
			if (mprotect(p, CHURN_REGION, PROT_READ) != 0) {
				die("churn: mprotect");
			}
			break;
		case 2:
			if (mprotect(p + CHURN_REGION / 2, (size_t) ps * 16, PROT_NONE) != 0) {
				die("churn: mprotect");
			}
			break;
		default:
			break;
		}
		slots[i] = p;
		cycles++;
	}
	return NULL;
}

static void trap_setup(void)
{
	size_t ps = (size_t) sysconf(_SC_PAGESIZE), off;
	unsigned char *p = mmap(NULL, CHURN_REGION + 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		die("churn: trap mmap");
	}
	trap = p + ps;
	if (mprotect(trap, CHURN_REGION, PROT_READ | PROT_WRITE) != 0) {
		die("churn: trap mprotect");
	}
	for (off = 0; off < CHURN_REGION; off += ps) {
		uint32_t index = (uint32_t) (off / ps);

		memset(trap + off, 0xa5, ps);
		memcpy(trap + off, TRAP_MARK, sizeof(TRAP_MARK) - 1);
		memcpy(trap + off + sizeof(TRAP_MARK) - 1, &index, sizeof(index));
	}
	__atomic_store_n(&trap_armed, 1, __ATOMIC_SEQ_CST);
}

/* Springs the trap if [addr, addr+n) touches it and this kind of access is the trigger. */
static void trap_check(uintptr_t addr, size_t n, int is_write)
{
	uintptr_t t = (uintptr_t) trap;

	if (!__atomic_load_n(&trap_armed, __ATOMIC_RELAXED) || addr >= t + CHURN_REGION || addr + n <= t) {
		return;
	}
	if (trap_on != (is_write ? 'w' : 'r')) {
		return;
	}
	if (!__atomic_exchange_n(&trap_armed, 0, __ATOMIC_SEQ_CST)) {
		return;
	}
	if (trap_protect) {
		if (mprotect(trap + CHURN_REGION / 2, CHURN_REGION / 2, PROT_NONE) != 0) {
			die("churn: trap mprotect");
		}
	} else if (munmap(trap, CHURN_REGION) != 0) {
		die("churn: trap munmap");
	}
	__atomic_store_n(&trap_fired, 1, __ATOMIC_SEQ_CST);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real_write)(int, const void *, size_t);

	if (real_write == NULL) {
		real_write = (ssize_t (*)(int, const void *, size_t)) dlsym(RTLD_NEXT, "write");
		if (real_write == NULL) {
			abort();
		}
	}
	trap_check((uintptr_t) buf, n, 1);
	return real_write(fd, buf, n);
}

ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long liovcnt,
	const struct iovec *remote, unsigned long riovcnt, unsigned long flags)
{
	static ssize_t (*real_readv)(pid_t, const struct iovec *, unsigned long,
		const struct iovec *, unsigned long, unsigned long);
	unsigned long i;

	if (real_readv == NULL) {
		real_readv = (ssize_t (*)(pid_t, const struct iovec *, unsigned long,
			const struct iovec *, unsigned long, unsigned long)) dlsym(RTLD_NEXT, "process_vm_readv");
		if (real_readv == NULL) {
			abort();
		}
	}
	if (pid == getpid()) {
		for (i = 0; i < riovcnt; i++) {
			trap_check((uintptr_t) remote[i].iov_base, remote[i].iov_len, 0);
		}
	}
	return real_readv(pid, local, liovcnt, remote, riovcnt, flags);
}

__attribute__((constructor))
static void churn_start(void)
{
	const char *s = getenv("RDUMP_CHURN_SLOTS");
	const char *r = getenv("RDUMP_CHURN_REPORT");
	const char *t = getenv("RDUMP_CHURN_TRAP");
	int err;

	if (r != NULL && strlen(r) < sizeof(report)) {
		strcpy(report, r);
	}
	if (s != NULL && *s != '\0') {
		int v = atoi(s);

		if (v < 0 || v > CHURN_MAX_SLOTS) {
			fprintf(stderr, "churn: RDUMP_CHURN_SLOTS must be 0..%d\n", CHURN_MAX_SLOTS);
			abort();
		}
		nslots = (unsigned) v;
	}
	if (t != NULL && *t != '\0') {
		if (strcmp(t, "unmap-on-write") == 0 || strcmp(t, "protect-on-write") == 0) {
			trap_on = 'w';
		} else if (strcmp(t, "unmap-on-read") == 0 || strcmp(t, "protect-on-read") == 0) {
			trap_on = 'r';
		} else {
			fprintf(stderr, "churn: unknown RDUMP_CHURN_TRAP %s\n", t);
			abort();
		}
		trap_protect = strncmp(t, "protect", 7) == 0;
		trap_setup();
	}
	owner = getpid();
	if (nslots == 0) {
		return;
	}
	err = pthread_create(&thread, NULL, churn, NULL);
	if (err != 0) {
		fprintf(stderr, "churn: pthread_create: %s\n", strerror(err));
		abort();
	}
	started = 1;
}

__attribute__((destructor))
static void churn_stop(void)
{
	char line[160];
	int fd, n;

	if (getpid() != owner) {
		return;
	}
	if (started) {
		stop = 1;
		pthread_join(thread, NULL);
		started = 0;
	}
	if (report[0] == '\0') {
		return;
	}
	fd = open(report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("churn: report");
		return;
	}
	n = snprintf(line, sizeof(line), "cycles %llu\ntrap 0x%llx %zu %d\n", (unsigned long long) cycles,
		(unsigned long long) (uintptr_t) trap, trap ? CHURN_REGION : (size_t) 0, trap_fired);
	if (write(fd, line, (size_t) n) != n) {
		perror("churn: report");
	}
	close(fd);
}
