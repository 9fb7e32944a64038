/*
 * The forked writer of asynchronous dumps; see fork.h. Everything after the
 * fork is async-signal-safe: raw syscalls, the mmap-only capture code, the
 * writer's own buffers, no stdio, no malloc, _exit.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include "fork.h"
#include "trigger.h"

/* The writer's temporary file, for its termination handler. */
static char writer_tmp[PATH_MAX];

static void writer_terminated(int sig)
{
	if (writer_tmp[0]) {
		unlink(writer_tmp);
	}
	_exit(128 + sig);
}

static void put(char *buf, size_t *pos, size_t size, const char *s)
{
	while (*s && *pos + 1 < size) {
		buf[(*pos)++] = *s++;
	}
}

/* One line on stderr: the writer has no caller left to tell. */
static void writer_report(const char *path, const rdump_error *e)
{
	char line[PATH_MAX + 512], num[16];
	size_t pos = 0, n = 0;
	int v = e->err;
	ssize_t w;

	put(line, &pos, sizeof(line), "rdump: async dump to \"");
	put(line, &pos, sizeof(line), path);
	put(line, &pos, sizeof(line), "\" failed: ");
	put(line, &pos, sizeof(line), e->what);
	if (e->err) {
		put(line, &pos, sizeof(line), " (");
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
		/* Unlike strerror, no locale and no allocation. */
		if (strerrordesc_np(e->err) != NULL) {
			put(line, &pos, sizeof(line), strerrordesc_np(e->err));
		} else
#endif
		{
			put(line, &pos, sizeof(line), "errno ");
			do {
				num[n++] = (char) ('0' + v % 10);
				v /= 10;
			} while (v > 0 && n < sizeof(num));
			while (n > 0 && pos + 1 < sizeof(line)) {
				line[pos++] = num[--n];
			}
		}
		put(line, &pos, sizeof(line), ")");
	}
	line[pos++] = '\n';
	do {
		w = write(STDERR_FILENO, line, pos);
	} while (w < 0 && errno == EINTR);
}

static void close_range_fds(unsigned int from, unsigned int to)
{
	struct rlimit rl;
	unsigned int fd, max;

	if (from > to) {
		return;
	}
#ifdef SYS_close_range
	if (syscall(SYS_close_range, from, to, 0) == 0) {
		return;
	}
#endif
	max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max) {
		max = (unsigned int) rl.rlim_cur;
	}
	for (fd = from; fd <= to && fd < max; fd++) {
		close((int) fd); /* EBADF for the many unused numbers is expected */
	}
}

/*
 * The writer keeps stderr only: an inherited FastCGI or HTTP connection
 * held open here would keep the client waiting for the dump.
 */
static void keep_stderr_only(void)
{
	close_range_fds(0, STDERR_FILENO - 1);
	close_range_fds(STDERR_FILENO + 1, ~0U);
}

static void writer_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* The caller's handlers (PHP's, FPM's) must not run in the writer. */
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP) {
			continue;
		}
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL); /* EINVAL for the numbers libc reserves is expected */
	}
	/* A broken stderr or a file size limit must be errors to handle, not deaths. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
	/* Stopped with its pool or its terminal: leave no temporary file behind. */
	sa.sa_handler = writer_terminated;
	sigfillset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Waits until the caller is back from rdump_fork_dump() (it closes the
 * gate's write end last): the writer's first touches of its image are
 * page-table work that would otherwise compete with the caller's return.
 * Bounded, in case another thread's child inherited the write end.
 */
static void writer_wait_gate(const int gate[2])
{
	struct pollfd p;
	int i;

	if (gate[0] < 0) {
		return;
	}
	close(gate[1]);
	p.fd = gate[0];
	p.events = POLLIN;
	/* Nothing is ever written: readiness is the end of file, POLLHUP. At most 1 s. */
	for (i = 0; i < 10; i++) {
		int r = poll(&p, 1, 100);

		if (r > 0 || (r < 0 && errno != EINTR)) {
			break;
		}
	}
	close(gate[0]);
}

/*
 * The kernel's struct sched_attr, its first version (48 bytes): glibc
 * declares it only from 2.41.
 */
typedef struct rdump_sched_attr {
	uint32_t size;
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime;   /* SCHED_OTHER and SCHED_BATCH: the time slice (Linux 6.12 on); 0 = the default */
	uint64_t deadline;
	uint64_t period;
} rdump_sched_attr;

#define RDUMP_SCHED_FLAG_KEEP_POLICY 0x08
/* The kernel's longest slice; longer than any fork. */
#define RDUMP_FORK_SLICE_NS 100000000ULL

/*
 * The writer shares the caller's pages until either writes to them. If the
 * copies push the memory cgroup or the machine over its limit, the OOM
 * killer must take the writer (one lost dump) and not the process being
 * dumped, which would otherwise score about the same.
 */
static void writer_first_to_oom_kill(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		/* No /proc: the writer keeps the caller's score. */
		return;
	}
	if (write(fd, "1000", 4) != 4) {
		/* Raising one's own score needs no privilege; nothing else to try. */
	}
	close(fd);
}

/* The writer, once the caller is back: sched_policy and CPUs are settled. */
static void writer_main(const rdump_dump_opts *o, const char *path, pid_t caller, int marker)
{
	rdump_dump_opts wo = *o;
	rdump_output out;
	rdump_target t;
	rdump_dump_result res;
	rdump_error e;
	size_t len;
	int64_t rss;

	wo.copy = RDUMP_COPY_DIRECT;
	wo.header_pid = (uint64_t) caller;
	/*
	 * The caller's RSS, read here to keep it out of the caller's pause: the
	 * writer's own lacks the file pages fork does not map.
	 */
	rss = rdump_proc_rss(caller);
	wo.header_rss = rss > 0 ? rss : 0;
	writer_first_to_oom_kill();
	/* First, so an inherited descriptor table at its limit cannot refuse the file. */
	keep_stderr_only();
	if (rdump_output_open(&out, path, &e) < 0) {
		writer_report(path, &e);
		_exit(1);
	}
	len = strlen(out.tmp_path);
	memcpy(writer_tmp, out.tmp_path, len + 1);
	writer_signals();
	if (rdump_target_open(&t, getpid(), 1, &e) < 0) {
		rdump_output_abort(&out);
		writer_report(out.path, &e);
		_exit(1);
	}
	if (rdump_dump_fd(&t, &wo, out.fd, &res, &e) < 0) {
		rdump_target_close(&t);
		rdump_output_abort(&out);
		writer_report(out.path, &e);
		_exit(1);
	}
	rdump_target_close(&t);
	if (rdump_output_commit(&out, &e) < 0) {
		writer_tmp[0] = '\0';
		writer_report(out.path, &e);
		_exit(1);
	}
	writer_tmp[0] = '\0';
	if (marker && rdump_marker_write(out.path, &e) < 0) {
		writer_report(out.path, &e);
		_exit(1);
	}
	_exit(0);
}

/*
 * The first child shares the caller's memory (CLONE_VM, as posix_spawn
 * does): the caller sleeps only until it has forked the writer and ended,
 * and no second copy of the page tables is made and torn down on the way.
 * The writer is forked with the raw system call, so no atfork handler runs
 * in a process that may have inherited a lock held by another thread.
 * When this process would adopt the writer anyway (adopts_orphans), the
 * writer is its direct child instead, reaped by rdump_fork_reap().
 */
typedef struct spawn_ctx {
	const rdump_dump_opts *o;
	const char *path;   /* the caller's: the writer's copy of its memory holds it too */
	pid_t caller;
	int marker;
	int gate[2];        /* a pipe the caller closes when it is back; -1 = none */
	struct pollfd gate_poll;    /* fork_gated()'s wait on it, at most gate_limit */
	struct timespec gate_limit;
	rdump_sched_attr forker;    /* the first child's: its policy and nice, RDUMP_FORK_SLICE_NS */
	rdump_sched_attr batch;     /* the writer's: SCHED_BATCH, its nice, the default slice */
	int fork_errno;     /* written by the first child, read by the caller */
	int pinned;         /* the caller runs pinned to its CPU until the first child is gone */
	cpu_set_t cpus;     /* the CPUs the caller gets back then, the first child before it forks (pin_here) */
} spawn_ctx;

/*
 * Writers this process must reap itself (see adopts_orphans); 0 = free,
 * -1 = claimed by a call that is creating its writer. Atomic: under ZTS
 * several threads dump and reap at once.
 */
#define RDUMP_OWN_WRITERS 16
static pid_t own_writers[RDUMP_OWN_WRITERS];

/* A stack for the first child (RDUMP_FORK_STACK), with a guard page at its end. */
static char *stack_alloc(void)
{
	char *stack = rdump_mem_alloc(RDUMP_FORK_STACK);

	if (stack != NULL && mprotect(stack, rdump_page_size(), PROT_NONE) < 0) {
		int err = errno;

		rdump_mem_free(stack, RDUMP_FORK_STACK);
		errno = err;
		return NULL;
	}
	return stack;
}

/*
 * One stack is kept from the first async dump on: a new one each time cost
 * the caller a map, a protect and an unmap (with its TLB flush) in its
 * pause. A thread that finds it taken (ZTS) maps a stack of its own.
 * Its busy flag has a page whose entries fork does not copy
 * (MADV_WIPEONFORK; a child sees it zeroed, free): the caller clears it
 * right after the fork, and a write to a page the writer still shares
 * costs a copy-on-write fault (0.02-0.1 ms on a VM) in the pause.
 */
static char *kept_stack;
static int *kept_stack_busy;

static int *busy_flag(void)
{
	int *flag = __atomic_load_n(&kept_stack_busy, __ATOMIC_ACQUIRE), *expected = NULL;

	if (flag != NULL) {
		return flag;
	}
	flag = rdump_mem_alloc(rdump_page_size());
	if (flag == NULL) {
		return NULL;
	}
#ifdef MADV_WIPEONFORK
	if (madvise(flag, rdump_page_size(), MADV_WIPEONFORK) < 0) {
		/* Before Linux 4.14: only the fault it saves is lost. */
	}
#endif
	if (__atomic_compare_exchange_n(&kept_stack_busy, &expected, flag, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		return flag;
	}
	rdump_mem_free(flag, rdump_page_size());
	return expected;
}

static char *stack_take(void)
{
	int *busy = busy_flag();

	if (busy != NULL && __atomic_exchange_n(busy, 1, __ATOMIC_ACQUIRE) == 0) {
		if (kept_stack == NULL) {
			kept_stack = stack_alloc();
		}
		if (kept_stack != NULL) {
			return kept_stack;
		}
		__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
	}
	return stack_alloc();
}

static void stack_give(char *stack)
{
	if (stack == kept_stack) {
		__atomic_store_n(kept_stack_busy, 0, __ATOMIC_RELEASE);
	} else {
		rdump_mem_free(stack, RDUMP_FORK_STACK);
	}
}

static void close_gate(const int gate[2])
{
	if (gate[0] >= 0) {
		close(gate[0]);
		close(gate[1]);
	}
}

/*
 * Both policies, from the caller's nice: sched_setattr() sets the nice
 * too, and an unprivileged task may not lower it.
 *
 * The first child forks with a slice longer than the fork and without the
 * caller's pin (forker_enter()). The writer is born with both, so its
 * first deadline (EEVDF, Linux 6.6 on) falls after those of that child and
 * of the caller, and it may run on any CPU: it no longer runs first, and
 * its start (a switch to its new address space, a fault on its first page
 * of code, 0.15-0.3 ms on a VM) comes after the caller is back or on
 * another CPU, not inside the caller's pause. Either change alone left it
 * running first in our traces (Linux 6.18).
 *
 * The writer then takes SCHED_BATCH with the default slice. A batch task
 * never preempts the task it wakes beside: without it, one async dump in
 * four or five cost the caller a whole time slice (1 to 4.5 ms measured)
 * when the gate opened and the writer took the caller's CPU. It still
 * gets its fair share of the CPU afterwards.
 */
static void spawn_policies(spawn_ctx *c)
{
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (nice == -1 && errno != 0) {
		/* Refused (a seccomp filter): the default, so the calls below at worst fail. */
		nice = 0;
	}
	memset(&c->forker, 0, sizeof(c->forker));
	c->forker.size = sizeof(c->forker);
	c->forker.flags = RDUMP_SCHED_FLAG_KEEP_POLICY;
	c->forker.nice = nice;
	c->forker.runtime = RDUMP_FORK_SLICE_NS;
	memset(&c->batch, 0, sizeof(c->batch));
	c->batch.size = sizeof(c->batch);
	c->batch.policy = SCHED_BATCH;
	c->batch.nice = nice;
}

/*
 * In the first child before it forks. Its CPUs back too: the writer then
 * starts with the caller's CPUs and can run on an idle one at once.
 */
static void forker_enter(const spawn_ctx *c)
{
	if (syscall(SYS_sched_setattr, 0, &c->forker, 0) < 0) {
		/* Before Linux 5.3 (no KEEP_POLICY) or refused: the writer may only start sooner. */
	}
	if (c->pinned && sched_setaffinity(0, sizeof(c->cpus), &c->cpus) < 0) {
		/* Refused (a seccomp filter): the writer shares the caller's CPU. */
	}
}

/*
 * Until the gate opens the writer only settles its policy, then sleeps:
 * everything it touches in its new image costs a page fault (0.05-0.3 ms
 * on a VM), and the caller may still be inside rdump_dump().
 */
static void writer_enter(const spawn_ctx *c)
{
	if (syscall(SYS_sched_setattr, 0, &c->batch, 0) < 0) {
		/* Refused (a seccomp filter): the writer may then take the caller's CPU when the gate opens. */
	}
	writer_wait_gate(c->gate);
}

#if defined(__x86_64__)
# define RDUMP_FORK_GATED 1
/*
 * Forks the writer and, in it, does writer_enter()'s work without leaving
 * this code: close the gate's write end, take SCHED_BATCH, then ppoll the
 * gate until the caller closes it (at most 1 s). Where the writer still
 * runs before the caller is back (no EEVDF, a refused slice; see
 * spawn_policies()), every fault it takes before it sleeps is in the
 * caller's pause: here only this page of code, where the C version took
 * five or six (libc's syscall(), this file's text, a stack write, libc's
 * close and poll); what ppoll writes back lands after the gate opened.
 * The first child exits here once the fork succeeded, without writing to
 * its stack, now shared copy-on-write with the writer.
 * Returns 0 in the writer, -errno if the fork failed.
 */
static long fork_gated(spawn_ctx *c)
{
	long rax = SYS_clone, rdi = SIGCHLD, rsi = 0, rdx = 0;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	register long gate_w __asm__("r12") = c->gate[1];
	register struct pollfd *gate_poll __asm__("r13") = &c->gate_poll;
	register const rdump_sched_attr *batch __asm__("r14") = &c->batch;
	register struct timespec *limit __asm__("r15") = &c->gate_limit;

	__asm__ volatile (
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 2f\n\t"
		"mov %%r12, %%rdi\n\t"
		"mov %[nr_close], %%eax\n\t"
		"syscall\n\t"
		"xor %%edi, %%edi\n\t"
		"mov %%r14, %%rsi\n\t"
		"xor %%edx, %%edx\n\t"
		"mov %[nr_setattr], %%eax\n\t"
		"syscall\n"
		"1:\n\t"
		"mov %%r13, %%rdi\n\t"
		"mov $1, %%esi\n\t"
		"mov %%r15, %%rdx\n\t"
		"xor %%r10d, %%r10d\n\t"
		"xor %%r8d, %%r8d\n\t"
		"mov %[nr_ppoll], %%eax\n\t"
		"syscall\n\t"
		"cmp %[eintr], %%rax\n\t"
		"je 1b\n\t"
		"xor %%eax, %%eax\n\t"
		"jmp 3f\n"
		"2:\n\t"
		"js 3f\n\t"
		"mov %[nr_exit], %%eax\n\t"
		"xor %%edi, %%edi\n\t"
		"syscall\n"
		"3:\n\t"
		: "+a" (rax), "+D" (rdi), "+S" (rsi), "+d" (rdx), "+r" (r10), "+r" (r8)
		: "r" (gate_w), "r" (gate_poll), "r" (batch), "r" (limit),
		  [nr_close] "i" (SYS_close), [nr_setattr] "i" (SYS_sched_setattr),
		  [nr_ppoll] "i" (SYS_ppoll),
		  [eintr] "i" (-EINTR), [nr_exit] "i" (SYS_exit)
		: "rcx", "r11", "r9", "memory", "cc");
	return rax;
}
#else
# define RDUMP_FORK_GATED 0
#endif

static int first_child(void *arg)
{
	spawn_ctx *c = arg;
	long pid;

	forker_enter(c);
#if RDUMP_FORK_GATED
	if (c->gate[0] >= 0) {
		/*
		 * fork_gated()'s arguments live in the caller's frame, not in that
		 * function's: its frame never returns in this child, and under ASan
		 * the redzones around addressed locals would stay poisoned on the
		 * kept stack for the next dump's writer. The writer only reads
		 * them until its ppoll returns.
		 */
		c->gate_poll.fd = c->gate[0];
		c->gate_poll.events = POLLIN;
		c->gate_poll.revents = 0;
		c->gate_limit.tv_sec = 1;
		c->gate_limit.tv_nsec = 0;
		pid = fork_gated(c);
		if (pid == 0) {
			close(c->gate[0]);
			writer_main(c->o, c->path, c->caller, c->marker);
		}
		/* Only a failed fork comes back here. */
		c->fork_errno = (int) -pid;
		_exit(0);
	}
#endif
	pid = syscall(SYS_clone, (unsigned long) SIGCHLD, 0UL, 0UL, 0UL, 0UL);
	if (pid == 0) {
		writer_enter(c);
		writer_main(c->o, c->path, c->caller, c->marker);
	}
	if (pid < 0) {
		c->fork_errno = errno ? errno : EAGAIN;
	}
	_exit(0);
}

/*
 * Pins the caller to the CPU it runs on. The first child inherits the pin,
 * so it starts at once on the CPU the caller leaves to it rather than on an
 * idle one whose wake-up (0.1-0.3 ms on a VM) the caller would wait
 * through, and the caller is woken where that child ends, not on a CPU gone
 * idle meanwhile. That child drops the pin before it forks
 * (forker_enter()): the writer never has it. Returns 0 when there is
 * nothing to gain (one CPU) or the pin is refused; else 1 and in `back`
 * the mask that undoes it.
 * sched_setaffinity() also records its mask as the task's own request
 * (Linux 6.2 on), to which a later change of the cpuset is narrowed: a
 * caller that could run on every online CPU gets a full mask back, so it
 * follows its cpuset as it did; a restricted one (taskset) its own mask.
 */
static int pin_here(cpu_set_t *back)
{
	static int online;   /* online CPUs, read once: get_nprocs() reads sysfs */
	cpu_set_t had, one;
	int cpu = sched_getcpu(), n;

	if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof(had), &had) < 0
			|| !CPU_ISSET(cpu, &had) || CPU_COUNT(&had) < 2) {
		return 0;
	}
	n = __atomic_load_n(&online, __ATOMIC_RELAXED);
	if (n == 0) {
		n = get_nprocs();
		__atomic_store_n(&online, n, __ATOMIC_RELAXED);
	}
	if (CPU_COUNT(&had) == n) {
		memset(back, 0xff, sizeof(*back));
	} else {
		*back = had;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) == 0;
}

static int writer_child(void *arg)
{
	spawn_ctx *c = arg;

	writer_enter(c);
	writer_main(c->o, c->path, c->caller, c->marker);
	return 0;
}

/*
 * The init of a PID namespace (PHP as a container's entrypoint, FrankenPHP
 * as PID 1) and a subreaper adopt their orphans: a double-forked writer
 * would come back to this process anyway, reparented with a SIGCHLD for
 * its pcntl handler and a zombie nobody reaps.
 */
static int adopts_orphans(pid_t self)
{
	int flag = 0;

	if (self == 1) {
		return 1;
	}
	return prctl(PR_GET_CHILD_SUBREAPER, &flag) == 0 && flag != 0;
}

static int own_writer_claim(void)
{
	int i;

	for (i = 0; i < RDUMP_OWN_WRITERS; i++) {
		pid_t expected = 0;

		if (__atomic_compare_exchange_n(&own_writers[i], &expected, (pid_t) -1, 0,
				__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			return i;
		}
	}
	return -1;
}

/* Reaps the own writers that have ended, or with wait, all of them once they end. */
static void reap_own_writers(int wait)
{
	int i, status;

	for (i = 0; i < RDUMP_OWN_WRITERS; i++) {
		pid_t pid = __atomic_load_n(&own_writers[i], __ATOMIC_ACQUIRE), w;

		if (pid <= 0) {
			continue;
		}
		do {
			w = waitpid(pid, &status, (wait ? 0 : WNOHANG) | __WALL);
		} while (w < 0 && errno == EINTR);
		/* ECHILD: another thread, or the script with __WALL, reaped it first. */
		if (w == pid || (w < 0 && errno == ECHILD)) {
			__atomic_compare_exchange_n(&own_writers[i], &pid, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		}
	}
}

void rdump_fork_reap(void)
{
	reap_own_writers(0);
}

void rdump_fork_finish(void)
{
	reap_own_writers(getpid() == 1);
	/*
	 * An embedding SAPI may unload the extension and load it again: the
	 * kept stack and its flag go with it (no dump runs any more).
	 */
	if (kept_stack_busy != NULL && __atomic_exchange_n(kept_stack_busy, 1, __ATOMIC_ACQUIRE) == 0) {
		if (kept_stack != NULL) {
			rdump_mem_free(kept_stack, RDUMP_FORK_STACK);
			kept_stack = NULL;
		}
		rdump_mem_free(kept_stack_busy, rdump_page_size());
		kept_stack_busy = NULL;
	}
}

int rdump_fork_dump(const rdump_dump_opts *o, const char *path, int marker, rdump_error *e)
{
	spawn_ctx ctx;
	sigset_t all, old;
	char *stack;
	pid_t first, w;
	int status, err, own;

	rdump_fork_reap();
	if (marker && rdump_marker_clear(path, e) < 0) {
		return -1;
	}
	/*
	 * The writer creates the temporary file: creating a file (0.05-0.15 ms
	 * on a VM's ext4) is the longest step a caller would take before the
	 * fork. What the caller can be told still is checked here: the path,
	 * its directory, the right to create a file in it. Nothing of the
	 * output lives in this frame: each page of its stack the call writes is
	 * a copy-on-write fault after the previous dump's fork and after this one.
	 */
	if (rdump_output_check_new(path, e) < 0) {
		return -1;
	}
	errno = 0;
	stack = stack_take();
	if (stack == NULL) {
		return RDUMP_FAIL(e, "cannot allocate the writer's stack", errno ? errno : ENOMEM);
	}
	ctx.o = o;
	ctx.path = path;
	ctx.caller = getpid();
	ctx.marker = marker;
	ctx.fork_errno = 0;
	if (pipe2(ctx.gate, O_CLOEXEC) < 0) {
		/* Only an optimization: the writer then starts at once. */
		ctx.gate[0] = ctx.gate[1] = -1;
	}
	/* No handler of the caller may run in the children before they reset them. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0) {
		err = errno;
		stack_give(stack);
		return RDUMP_FAIL(e, "cannot block signals around the fork", err);
	}
	/*
	 * Exit signal 0 for the child made here, either one: no SIGCHLD for the
	 * caller's handlers, and waitpid(-1) in the script never sees it. With
	 * every slot taken, the double fork: the writer then comes back, reparented.
	 */
	own = adopts_orphans(ctx.caller) ? own_writer_claim() : -1;
	/* A writer that stays this process's child is forked here: nothing to hand over. */
	ctx.pinned = own < 0 && pin_here(&ctx.cpus);
	spawn_policies(&ctx);
	if (own >= 0) {
		first = clone(writer_child, stack + RDUMP_FORK_STACK, 0, &ctx);
		err = errno;
	} else {
		/*
		 * The first child shares our memory, descriptors, working directory
		 * and handlers, so making it copies nothing. Not CLONE_VFORK, which
		 * woke us while it was still exiting, only to sleep again in
		 * waitpid(): we wait for its end at once. It forks while we sleep
		 * there (or, unpinned, while we only touch our own stack).
		 */
		first = clone(first_child, stack + RDUMP_FORK_STACK,
			CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND, &ctx);
		err = errno;
		if (first > 0) {
			do {
				w = waitpid(first, &status, __WALL);
			} while (w < 0 && errno == EINTR);
			/* ECHILD: another thread reaped it with __WALL; it is gone either way. */
		}
	}
	if (ctx.pinned && sched_setaffinity(0, sizeof(ctx.cpus), &ctx.cpus) < 0) {
		/* Refused now only if a cpuset or a seccomp filter changed meanwhile: it stays pinned. */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (own >= 0) {
		/* Reaped by a later call or at the end of the request. */
		__atomic_store_n(&own_writers[own], first > 0 ? first : 0, __ATOMIC_RELEASE);
	}
	stack_give(stack);
	/* Either fork may have failed: the first here, the writer's in the first child. */
	if (first < 0 || ctx.fork_errno != 0) {
		close_gate(ctx.gate);
		return RDUMP_FAIL(e, "cannot fork the writer process", first < 0 ? err : ctx.fork_errno);
	}
	close_gate(ctx.gate);
	return 0;
}
