/*
 * Unit tests of capture/remote.c on child processes of the test: process
 * state and access checks, holding and resuming every thread (and leaving a
 * stopped process alone), the in-memory copy and its read hook (zero pieces,
 * pages that cannot be read), the copy read into the output file at the
 * writer's offsets and its place hook, the ZendMM main-chunk scan on a forged chunk,
 * and finding the engine in a real php process and not in a non-PHP one.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "rdump_test.h"
#include "../../capture/remote.h"

#define CHUNK ((uintptr_t) 2 << 20)

static size_t ps;

/* Shared with the children: where their interesting memory is. */
typedef struct child_info {
	volatile int ready;
	volatile uint64_t data;     /* 4 pages, page i filled with 'a' + i */
	volatile uint64_t hole;     /* 1 page, then unmapped */
	volatile uint64_t chunk;    /* forged ZendMM main chunk */
	volatile uint64_t decoy;    /* chunk-aligned, heap pointer elsewhere */
	volatile unsigned long beats;
} child_info;

static child_info *info;

/*
 * The child's second thread, made with clone(2) rather than pthreads (no
 * -pthread on older toolchains): it only counts and sleeps through raw
 * syscalls, which need no thread-local state of its own.
 */
static int spin(void *arg)
{
	struct timespec ts = { 0, 1000000 };

	(void) arg;
	for (;;) {
		__atomic_add_fetch(&info->beats, 1, __ATOMIC_RELAXED);
		syscall(SYS_nanosleep, &ts, NULL);
	}
	return 0;
}

static unsigned char *aligned_chunk(void)
{
	unsigned char *p = mmap(NULL, 2 * CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		_exit(3);
	}
	return (unsigned char *) (((uintptr_t) p + CHUNK - 1) & ~(CHUNK - 1));
}

/* A child with a second thread, known memory, and a forged main chunk. */
static pid_t start_child(void)
{
	pid_t pid;

	info->ready = 0;
	pid = fork();
	if (pid == 0) {
		unsigned char *d = mmap(NULL, 5 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned char *c = aligned_chunk(), *x = aligned_chunk();
		uint64_t *w = (uint64_t *) (void *) c, *v = (uint64_t *) (void *) x;
		char *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int i;

		for (i = 0; i < 5; i++) {
			memset(d + i * ps, 'a' + i, ps);
		}
		munmap(d + 4 * ps, ps);
		/* { heap, next, prev, free_pages, free_tail, num }, heap_slot at 64, main_chunk inside it */
		w[0] = (uint64_t) (uintptr_t) c + 64;
		w[1] = w[2] = (uint64_t) (uintptr_t) c;
		w[4] = 0;
		w[8 + 40] = (uint64_t) (uintptr_t) c;
		/* Not a main chunk: its heap lives in another chunk. */
		v[0] = (uint64_t) (uintptr_t) c + 64;
		v[1] = v[2] = (uint64_t) (uintptr_t) c;
		info->data = (uint64_t) (uintptr_t) d;
		info->hole = (uint64_t) (uintptr_t) d + 4 * ps;
		info->chunk = (uint64_t) (uintptr_t) c;
		info->decoy = (uint64_t) (uintptr_t) x;
		if (stack == MAP_FAILED || clone(spin, stack + 65536, CLONE_VM | CLONE_FS | CLONE_FILES
				| CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL) < 0) {
			_exit(4);
		}
		info->ready = 1;
		for (;;) {
			pause();
		}
	}
	while (pid > 0 && !info->ready) {
		usleep(1000);
	}
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int beating(void)
{
	unsigned long b = __atomic_load_n(&info->beats, __ATOMIC_RELAXED);

	usleep(50000);
	return __atomic_load_n(&info->beats, __ATOMIC_RELAXED) != b;
}

static void test_state_and_access(void)
{
	rdump_remote_fault f;
	rdump_error e;

	RDUMP_CHECK(rdump_remote_state(getpid()) == 'R', "own state is %c", rdump_remote_state(getpid()));
	RDUMP_CHECK(rdump_remote_check_access(getpid(), &f, &e) == 0, "own process not accessible: %s", e.what);
	RDUMP_CHECK(rdump_remote_check_access(999999999, &f, &e) < 0 && f == RDUMP_RF_NO_PROCESS,
		"a missing pid is not reported as no process (fault %d)", f);
	RDUMP_CHECK(rdump_remote_tracer(getpid()) >= 0, "TracerPid of the own process unreadable");
}

/* A small file read whole, or cut to the buffer, always NUL-terminated; a missing one is -1 with ENOENT. */
static void test_read_small(void)
{
	char path[] = "/tmp/rdump-read-small-XXXXXX", buf[8];
	int fd = mkstemp(path);

	RDUMP_CHECK(fd >= 0, "mkstemp failed");
	if (fd < 0) {
		return;
	}
	RDUMP_CHECK(write(fd, "abc [x] def", 11) == 11, "write failed");
	close(fd);
	memset(buf, 'z', sizeof(buf));
	RDUMP_CHECK(rdump_read_small(path, buf, sizeof(buf)) == 7 && strcmp(buf, "abc [x]") == 0,
		"a file longer than the buffer read as \"%.8s\"", buf);
	RDUMP_CHECK(rdump_read_small(path, buf, 4) == 3 && strcmp(buf, "abc") == 0, "cut to 4 bytes: \"%.8s\"", buf);
	unlink(path);
	errno = 0;
	RDUMP_CHECK(rdump_read_small(path, buf, sizeof(buf)) == -1 && errno == ENOENT,
		"a missing file gave errno %d", errno);
}

static void test_hold_and_resume(void)
{
	pid_t pid = start_child();
	rdump_remote_hold h;
	rdump_remote_fault f;
	rdump_error e;
	char st;

	rdump_remote_stop_init(&h, pid);
	RDUMP_CHECK(rdump_remote_stop(&h, 1, &f, &e) == 0, "stop failed: %s", e.what);
	RDUMP_CHECK(h.holding && !h.was_stopped, "not holding after stop");
	RDUMP_CHECK(h.threads.count == 2, "held %zu threads, expected 2", h.threads.count);
	st = rdump_remote_state(pid);
	RDUMP_CHECK(st == 't', "state while held is %c", st);
	RDUMP_CHECK(!beating(), "the child's thread ran while held");
#if defined(__x86_64__)
	RDUMP_CHECK(h.main_tp != 0, "no thread pointer read");
#endif
	rdump_remote_resume(&h);
	RDUMP_CHECK(!h.holding && h.seconds > 0, "resume did not release (seconds %f)", h.seconds);
	RDUMP_CHECK(beating(), "the child does not run after resume");
	rdump_remote_resume(&h);   /* idempotent */
	rdump_remote_stop_free(&h);

	/* Stopped before: left alone, stays stopped. */
	kill(pid, SIGSTOP);
	while (rdump_remote_state(pid) != 'T') {
		usleep(1000);
	}
	rdump_remote_stop_init(&h, pid);
	RDUMP_CHECK(rdump_remote_stop(&h, 0, &f, &e) == 0 && h.was_stopped && !h.holding,
		"a stopped process was not recognised as stopped");
	rdump_remote_resume(&h);
	usleep(20000);
	RDUMP_CHECK(rdump_remote_state(pid) == 'T', "a process stopped before was resumed");
#if defined(__x86_64__)
	RDUMP_CHECK(rdump_remote_read_main_tp(&h, &e) == 0 && h.main_tp != 0, "thread pointer of a stopped process: %s",
		e.what ? e.what : "0");
	usleep(20000);
	RDUMP_CHECK(rdump_remote_state(pid) == 'T', "reading the thread pointer resumed a stopped process");
#endif
	rdump_remote_stop_free(&h);
	kill(pid, SIGCONT);
	RDUMP_CHECK(beating(), "the child does not run after SIGCONT");
	stop_child(pid);

	/* A process that is gone. */
	rdump_remote_stop_init(&h, pid);
	RDUMP_CHECK(rdump_remote_stop(&h, 0, &f, &e) < 0 && f == RDUMP_RF_EXITED, "stopping a reaped pid: fault %d", f);
	rdump_remote_stop_free(&h);
}

static void push_piece(rdump_vec *pieces, uint64_t start, uint64_t end, uint32_t zero)
{
	rdump_piece *p = rdump_vec_push(pieces);

	RDUMP_CHECK(p != NULL, "out of memory for a piece");
	if (p != NULL) {
		p->start = start;
		p->end = end;
		p->zero = zero;
	}
}

/*
 * A child and a copy of its memory to take: page 0 data, page 1 zeros
 * (never touched, as the plan says); each test adds its last piece.
 */
typedef struct snap_case {
	pid_t pid;
	rdump_target t;
	rdump_snapshot s;
	rdump_remote_fault f;
	rdump_error e;
	rdump_vec pieces;
	uint64_t d;        /* the child's 4 pages, page i filled with 'a' + i; page 4 unmapped */
} snap_case;

static void snap_case_open(snap_case *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = start_child();
	c->d = info->data;
	rdump_vec_init(&c->pieces, sizeof(rdump_piece));
	RDUMP_CHECK(rdump_target_open(&c->t, c->pid, 0, &c->e) == 0, "target_open: %s", c->e.what);
	push_piece(&c->pieces, c->d, c->d + ps, 0);
	push_piece(&c->pieces, c->d + ps, c->d + 2 * ps, 1);
}

static void snap_case_close(snap_case *c)
{
	rdump_snapshot_free(&c->s, &c->t);
	RDUMP_CHECK(c->t.read_hook == NULL && c->t.place_hook == NULL, "free left a hook installed");
	rdump_target_close(&c->t);
	rdump_vec_free(&c->pieces);
}

static void test_snapshot(void)
{
	snap_case c;
	unsigned char buf[64];
	uint64_t d;
	int ok;

	snap_case_open(&c);
	d = c.d;
	/* then pages 2-3 data, page 4 unmapped */
	push_piece(&c.pieces, d + 2 * ps, d + 5 * ps, 0);
	RDUMP_CHECK(rdump_snapshot_bytes(&c.pieces) == 4 * ps, "snapshot bytes %llu",
		(unsigned long long) rdump_snapshot_bytes(&c.pieces));
	RDUMP_CHECK(rdump_snapshot_reserve(&c.s, ps) == 0, "reserve failed");
	RDUMP_CHECK(rdump_snapshot_fill(&c.s, &c.t, &c.pieces, 0, &c.f, &c.e) == 0, "fill failed: %s", c.e.what);
	RDUMP_CHECK(c.s.bad_pages == 1, "%llu bad pages, expected 1", (unsigned long long) c.s.bad_pages);
	/* The child changes its memory: reads must still answer the copy. */
	stop_child(c.pid);
	RDUMP_CHECK(rdump_target_read(&c.t, d + 10, buf, sizeof(buf)) == 0 && buf[0] == 'a' && buf[63] == 'a',
		"page 0 not answered from the copy");
	RDUMP_CHECK(rdump_target_read(&c.t, d + ps, buf, sizeof(buf)) == 0 && buf[0] == 0 && buf[63] == 0,
		"a zero piece does not read as zeros");
	RDUMP_CHECK(rdump_target_read(&c.t, d + 3 * ps + ps - 8, buf, 8) == 0 && buf[0] == 'd' && buf[7] == 'd',
		"page 3 not answered from the copy");
	ok = rdump_target_read(&c.t, d + 4 * ps, buf, 8);
	RDUMP_CHECK(ok < 0, "an unreadable page reads as success");
	RDUMP_CHECK(rdump_target_read(&c.t, d + 3 * ps, buf, 8) == 0, "a range beside the bad page fails");
	RDUMP_CHECK(c.t.place_hook == NULL, "a place hook for a copy in memory");
	snap_case_close(&c);
}

static void test_snapshot_in_file(void)
{
	snap_case c;
	unsigned char buf[64];
	const void *at = NULL;
	uint64_t d, start = 100, a0, a2, need;
	char path[] = "/tmp/rdump-test-snap-XXXXXX";   /* mkstemp's template */
	int fd = mkstemp(path);
	struct stat st;

	RDUMP_CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	snap_case_open(&c);
	d = c.d;
	/* then region 2, after a gap: page 3 data, page 4 unmapped */
	push_piece(&c.pieces, d + 3 * ps, d + 5 * ps, 0);
	a0 = start + RDUMP_REGION_HEAD;
	a2 = a0 + 2 * ps + RDUMP_REGION_HEAD;
	need = a2 + 2 * ps;
	/* Smaller than the dump: the copy must grow the file while the target is held. */
	RDUMP_CHECK(rdump_snapshot_reserve_file(&c.s, fd, ps) == 0 && c.s.in_file, "reserve in the file: %s", strerror(errno));
	RDUMP_CHECK(fstat(fd, &st) == 0 && (uint64_t) st.st_size == ps, "file of %lld bytes after reserving a page",
		(long long) st.st_size);
	RDUMP_CHECK(rdump_snapshot_fill(&c.s, &c.t, &c.pieces, start, &c.f, &c.e) == 0, "fill failed: %s", c.e.what);
	RDUMP_CHECK(c.s.in_file && c.s.capacity >= need, "the copy left the file (capacity %llu, need %llu)",
		(unsigned long long) c.s.capacity, (unsigned long long) need);
	RDUMP_CHECK(c.s.at[0] == a0 && c.s.at[1] == a0 + ps && c.s.at[2] == a2, "pieces at %llu %llu %llu, expected %llu %llu %llu",
		(unsigned long long) c.s.at[0], (unsigned long long) c.s.at[1], (unsigned long long) c.s.at[2],
		(unsigned long long) a0, (unsigned long long) a0 + ps, (unsigned long long) a2);
	RDUMP_CHECK(c.s.bad_pages == 1, "%llu bad pages, expected 1", (unsigned long long) c.s.bad_pages);
	stop_child(c.pid);
	/* In the file itself, at the writer's offsets. */
	RDUMP_CHECK(pread(fd, buf, 8, (off_t) a0) == 8 && buf[0] == 'a' && buf[7] == 'a', "page 0 not in the file at its offset");
	RDUMP_CHECK(pread(fd, buf, 8, (off_t) (a2 + ps - 8)) == 8 && buf[0] == 'd' && buf[7] == 'd',
		"page 3 not in the file at its offset");
	RDUMP_CHECK(pread(fd, buf, 8, (off_t) (a2 + ps)) == 8 && buf[0] == 0 && buf[7] == 0, "the unreadable page is not zeros");
	RDUMP_CHECK(rdump_target_read(&c.t, d + 3 * ps + 8, buf, 8) == 0 && buf[0] == 'd', "page 3 not answered from the file");
	RDUMP_CHECK(rdump_target_read(&c.t, d + 4 * ps, buf, 8) < 0, "an unreadable page reads as success");
	/* Where the writer stands decides: in place, to be copied down, or a layout that does not match. */
	RDUMP_CHECK(c.t.place_hook != NULL, "no place hook for a copy in the file");
	if (c.t.place_hook != NULL) {
		RDUMP_CHECK(c.t.place_hook(c.t.read_hook_ctx, d, ps, a0, &at) == 1 && at == c.s.buf + a0, "page 0 not in place");
		RDUMP_CHECK(c.t.place_hook(c.t.read_hook_ctx, d, ps, a0 - 16, &at) == 0, "bytes ahead of the writer taken as in place");
		RDUMP_CHECK(c.t.place_hook(c.t.read_hook_ctx, d, ps, a0 + 1, &at) < 0, "a writer past the bytes not refused");
		RDUMP_CHECK(c.t.place_hook(c.t.read_hook_ctx, d + 3 * ps, ps, a2, &at) == 1, "page 3 not in place");
		RDUMP_CHECK(c.t.place_hook(c.t.read_hook_ctx, d + 3 * ps, 2 * ps, a2, &at) == 0,
			"a range with an unreadable page taken as in place");
		RDUMP_CHECK(c.t.place_hook(c.t.read_hook_ctx, d + ps, ps, a0 + ps, &at) == 0, "a zero piece taken as in place");
	}
	snap_case_close(&c);
	close(fd);
	unlink(path);
}

static void test_heap_scan(void)
{
	pid_t pid = start_child();
	rdump_target t;
	rdump_remote_php php;
	rdump_error e;

	memset(&php, 0, sizeof(php));
	RDUMP_CHECK(rdump_target_open(&t, pid, 0, &e) == 0 && rdump_target_read_maps(&t, &e) == 0, "target: %s", e.what);
	rdump_remote_find_heap(&t, &php);
	RDUMP_CHECK(php.heap_candidates == 1, "%u main chunks found, expected 1", php.heap_candidates);
	RDUMP_CHECK(php.addrs.mm_heap == info->chunk + 64, "heap at %llx, expected %llx",
		(unsigned long long) php.addrs.mm_heap, (unsigned long long) info->chunk + 64);
	rdump_target_close(&t);
	stop_child(pid);
}

static void test_find_php(void)
{
	pid_t pid = start_child(), php_pid;
	rdump_target t;
	rdump_remote_php php;
	rdump_remote_fault f;
	rdump_error e;
	int i;

	RDUMP_CHECK(rdump_target_open(&t, pid, 0, &e) == 0 && rdump_target_read_maps(&t, &e) == 0, "target: %s", e.what);
	RDUMP_CHECK(rdump_remote_find_php(&t, &php, &f, &e) < 0 && f == RDUMP_RF_NOT_PHP,
		"a process without PHP was taken for PHP (fault %d)", f);
	rdump_target_close(&t);
	stop_child(pid);

	php_pid = fork();
	if (php_pid == 0) {
		execlp("php", "php", "-n", "-r", "sleep(10);", (char *) NULL);
		_exit(127);
	}
	/* Until php has mapped its libraries and started the script. */
	for (i = 0; i < 200; i++) {
		usleep(20000);
		if (rdump_remote_state(php_pid) == 'S') {
			break;
		}
	}
	if (rdump_target_open(&t, php_pid, 0, &e) == 0 && rdump_target_read_maps(&t, &e) == 0
		&& rdump_remote_find_php(&t, &php, &f, &e) == 0) {
		RDUMP_CHECK(strcmp(php.tag, rdump_php_version_tag()) == 0 || !php.layouts_match,
			"tag %s for a php of the same build as %s", php.tag, rdump_php_version_tag());
		RDUMP_CHECK(php.build_id[0] == 'A' && php.version[0] != '\0', "no build id (%s) or version (%s)",
			php.build_id, php.version);
		RDUMP_CHECK(php.zts || (php.addrs.eg != 0 && php.addrs.cg != 0 && php.addrs.basic_globals != 0),
			"NTS globals not found");
		rdump_remote_find_heap(&t, &php);
		RDUMP_CHECK(php.addrs.mm_heap != 0, "no ZendMM heap in php (%u candidates)", php.heap_candidates);
		printf("php in PATH: %s, %s, %s, layouts %s\n", php.version, php.build_id, php.engine_path,
			php.layouts_match ? "match" : "differ");
	} else {
		RDUMP_CHECK(0, "cannot find the engine of a php process: %s", e.what);
	}
	rdump_target_close(&t);
	stop_child(php_pid);
}

int main(void)
{
	ps = (size_t) sysconf(_SC_PAGESIZE);
	info = mmap(NULL, sizeof(*info), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (info == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	test_state_and_access();
	test_read_small();
	test_hold_and_resume();
	test_snapshot();
	test_snapshot_in_file();
	test_heap_scan();
	test_find_php();
	return rdump_test_summary();
}
