/*
 * Unit tests of the automatic-dump decisions (capture/trigger.c) and the
 * forked writer (capture/fork.c): template expansion and its overflow, the
 * size syntax in every locale, the directory budget, the per-process gate,
 * signal names, the marker, and an asynchronous dump that appears whole,
 * leaves no zombie and sends no SIGCHLD (also to a subreaper), removes its
 * temporary file when it fails, reports a fork that fails and leaves nothing
 * behind, and is written by a task that does not take the caller's CPU when
 * it wakes and that the OOM killer takes first.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "rdump_test.h"
#include "../../format/reader.h"
#include "../../capture/trigger.h"
#include "../../capture/fork.h"
#include "../../capture/mem.h"

static char dir[] = "/tmp/rdump-test-trigger-XXXXXX";

static char *path_in(const char *name)
{
	return rdump_test_path_in(dir, name);
}

static void write_file(const char *name, size_t size)
{
	int fd = open(path_in(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t) size) < 0 || close(fd) < 0) {
		perror(name);
		exit(2);
	}
}

static void test_template(void)
{
	char out[64];
	int n;

	n = rdump_template_expand("/d/oom-%p-%i-%t.rdump", 123, 456, 1700000000, out, sizeof(out));
	RDUMP_CHECK(n > 0 && strcmp(out, "/d/oom-123-456-1700000000.rdump") == 0, "expanded: %s", out);
	RDUMP_CHECK(n == (int) strlen(out), "length %d", n);
	n = rdump_template_expand("100%% %x %p%", 7, 8, 9, out, sizeof(out));
	RDUMP_CHECK(n >= 0 && strcmp(out, "100% %x 7%") == 0, "literal and unknown: %s", out);
	n = rdump_template_expand("%%p", 7, 8, 9, out, sizeof(out));
	RDUMP_CHECK(n >= 0 && strcmp(out, "%p") == 0, "%%%%p is a literal %%p: %s", out);
	n = rdump_template_expand("", 7, 8, 9, out, sizeof(out));
	RDUMP_CHECK(n == 0 && out[0] == '\0', "empty template");
	/* Exactly fits: 9 characters and the NUL in 10 bytes. */
	n = rdump_template_expand("a-%p", 1234567, 0, 0, out, 10);
	RDUMP_CHECK(n == 9 && strcmp(out, "a-1234567") == 0, "exact fit: %d %s", n, out);
	n = rdump_template_expand("a-%p", 12345678, 0, 0, out, 10);
	RDUMP_CHECK(n == -1 && out[0] == '\0', "one byte too long must fail, not truncate: %d '%s'", n, out);
	n = rdump_template_expand("/very/long/%p/%i/%t", 99999, 99999, 1700000000, out, 20);
	RDUMP_CHECK(n == -1, "a pid cut off must fail");
}

static void check_size(const char *s, uint64_t want)
{
	const char *why = NULL;
	uint64_t v = 0;
	int rc = rdump_size_parse(s, &v, &why);

	RDUMP_CHECK(rc == 0 && v == want, "\"%s\": rc %d value %llu want %llu (%s)", s, rc,
		(unsigned long long) v, (unsigned long long) want, why ? why : "");
}

static void check_size_bad(const char *s)
{
	const char *why = NULL;
	uint64_t v = 0;

	RDUMP_CHECK(rdump_size_parse(s, &v, &why) < 0 && why != NULL && why[0], "\"%s\" must be refused", s);
}

static void test_size_parse(void)
{
	check_size("0", 0);
	check_size("1024", 1024);
	check_size("1K", 1024);
	check_size("1k", 1024);
	check_size("10M", 10485760);
	check_size("1.5G", 1610612736ULL);
	check_size("1.5g", 1610612736ULL);
	check_size(" 2 M ", 2097152);
	check_size("0.5K", 512);
	check_size("2T", 2199023255552ULL);
	check_size("1.25", 1);
	check_size("0.000000000000000000001T", 0);
	check_size("18446744073709551615", UINT64_MAX);
	check_size_bad("18446744073709551616");
	check_size_bad("16777216T");
	check_size_bad("-1");
	check_size_bad("1,5G");
	check_size_bad("abc");
	check_size_bad("");
	check_size_bad("1.G");
	check_size_bad(".5G");
	check_size_bad("1KB");
	check_size_bad("1 K 2");
	check_size_bad("5P");
}

static void test_size_locales(void)
{
	static const char *locales[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "ru_RU.UTF-8", "de_DE", NULL };
	int i, tried = 0;

	for (i = 0; locales[i]; i++) {
		if (setlocale(LC_ALL, locales[i]) != NULL) {
			tried++;
			test_size_parse();
		}
	}
	setlocale(LC_ALL, "C");
	printf("size parse re-checked under %d comma-decimal locale(s)\n", tried);
}

static void test_dir_bytes(void)
{
	uint64_t total = 0;
	rdump_error e;
	char sub[600];

	write_file("a.rdump", 100);
	write_file("b.rdump", 200);
	write_file("x.rdump", 300);
	write_file("notes.txt", 5000);
	write_file(".rdump-tmp.1.2.3", 7000);
	write_file("rdump", 9000);
	snprintf(sub, sizeof(sub), "%s/sub.rdump", dir);
	RDUMP_CHECK(mkdir(sub, 0700) == 0, "mkdir");
	RDUMP_CHECK(symlink(path_in("b.rdump"), path_in("link.rdump")) == 0, "symlink");

	RDUMP_CHECK(rdump_dir_dump_bytes(path_in("new.rdump"), &total, &e) == 0, "scan");
	RDUMP_CHECK(total == 600, "a + b + x, nothing else: %llu", (unsigned long long) total);
	RDUMP_CHECK(rdump_dir_dump_bytes(path_in("x.rdump"), &total, &e) == 0, "scan");
	RDUMP_CHECK(total == 300, "the file to be replaced is not counted: %llu", (unsigned long long) total);
	RDUMP_CHECK(rdump_dir_dump_bytes("/nonexistent-rdump-dir/x.rdump", &total, &e) < 0 && e.err == ENOENT,
		"a missing directory is an error");

	unlink(path_in("a.rdump"));
	unlink(path_in("b.rdump"));
	unlink(path_in("x.rdump"));
	unlink(path_in("notes.txt"));
	unlink(path_in(".rdump-tmp.1.2.3"));
	unlink(path_in("rdump"));
	unlink(path_in("link.rdump"));
	rmdir(sub);
}

static void test_budget(void)
{
	RDUMP_CHECK(rdump_budget_allows(0, UINT64_MAX, UINT64_MAX), "no budget");
	RDUMP_CHECK(rdump_budget_allows(1000, 600, 400), "exactly at the budget");
	RDUMP_CHECK(!rdump_budget_allows(1000, 600, 401), "the incoming dump tips it over");
	RDUMP_CHECK(!rdump_budget_allows(1000, 1001, 0), "already over");
	RDUMP_CHECK(!rdump_budget_allows(1000, 500, UINT64_MAX), "no wrap-around");
	RDUMP_CHECK(rdump_budget_allows(1000, 0, 1000), "empty directory");
}

static void test_gate(void)
{
	rdump_gate g;

	memset(&g, 0, sizeof(g));
	RDUMP_CHECK(rdump_gate_enter(&g, 1, 0, 100) == RDUMP_GATE_GO, "first of max 1");
	RDUMP_CHECK(rdump_gate_enter(&g, 1, 0, 1000) == RDUMP_GATE_MAX, "second of max 1");
	RDUMP_CHECK(g.attempts == 1, "refusals are not attempts");

	memset(&g, 0, sizeof(g));
	RDUMP_CHECK(rdump_gate_enter(&g, 0, 10, 100) == RDUMP_GATE_GO, "first with interval");
	RDUMP_CHECK(rdump_gate_enter(&g, 0, 10, 109) == RDUMP_GATE_INTERVAL, "9 s later");
	RDUMP_CHECK(rdump_gate_enter(&g, 0, 10, 110) == RDUMP_GATE_GO, "10 s later");
	RDUMP_CHECK(rdump_gate_enter(&g, 0, 10, 115) == RDUMP_GATE_INTERVAL, "measured from the last attempt");

	memset(&g, 0, sizeof(g));
	RDUMP_CHECK(rdump_gate_enter(&g, 2, 0, 5) == RDUMP_GATE_GO, "1 of 2");
	RDUMP_CHECK(rdump_gate_enter(&g, 2, 0, 5) == RDUMP_GATE_GO, "2 of 2");
	RDUMP_CHECK(rdump_gate_enter(&g, 2, 0, 5) == RDUMP_GATE_MAX, "3 of 2");

	memset(&g, 0, sizeof(g));
	RDUMP_CHECK(rdump_gate_enter(&g, 0, 0, 5) == RDUMP_GATE_GO
		&& rdump_gate_enter(&g, 0, 0, 5) == RDUMP_GATE_GO
		&& rdump_gate_enter(&g, 0, 0, 5) == RDUMP_GATE_GO, "unlimited");
}

static void check_sig(const char *s, int want)
{
	const char *why = NULL;
	int sig = -1;

	RDUMP_CHECK(rdump_signal_parse(s, &sig, &why) == 0 && sig == want, "\"%s\" -> %d, want %d (%s)",
		s, sig, want, why ? why : "");
}

static void check_sig_bad(const char *s)
{
	const char *why = NULL;
	int sig = -1;

	RDUMP_CHECK(rdump_signal_parse(s, &sig, &why) < 0 && why != NULL, "\"%s\" must be refused", s);
}

static void test_signal_parse(void)
{
	check_sig("SIGUSR2", SIGUSR2);
	check_sig("USR2", SIGUSR2);
	check_sig("sigusr1", SIGUSR1);
	check_sig("12", 12);
	check_sig("SIGRTMIN+1", SIGRTMIN + 1);
	check_sig("SIGRTMAX", SIGRTMAX);
	check_sig("SIGRTMAX-2", SIGRTMAX - 2);
	check_sig("SIGPWR", SIGPWR);
	check_sig_bad("SIGKILL");
	check_sig_bad("9");
	check_sig_bad("SIGSTOP");
	check_sig_bad("SIGSEGV");
	check_sig_bad("SIGPROF");
	check_sig_bad("SIGCHLD");
	check_sig_bad("SIGFOO");
	check_sig_bad("0");
	check_sig_bad("65");
	check_sig_bad("12x");
	check_sig_bad("SIGRTMIN+100");
	check_sig_bad("SIGRTMIN1");
}

static void test_marker(void)
{
	const char *p = path_in("m.rdump");
	rdump_error e;
	struct stat st;
	char m[600];

	snprintf(m, sizeof(m), "%s.done", p);
	RDUMP_CHECK(rdump_marker_clear(p, &e) == 0, "no stale marker is fine");
	RDUMP_CHECK(rdump_marker_write(p, &e) == 0, "write");
	RDUMP_CHECK(stat(m, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0, "an empty <path>.done");
	RDUMP_CHECK(rdump_marker_clear(p, &e) == 0 && lstat(m, &st) < 0, "cleared");
	RDUMP_CHECK(symlink("/etc/passwd", m) == 0, "symlink");
	RDUMP_CHECK(rdump_marker_write(p, &e) < 0, "never written through a symlink");
	unlink(m);
	RDUMP_CHECK(mkdir(m, 0700) == 0, "mkdir");
	RDUMP_CHECK(rdump_marker_clear(p, &e) < 0 && e.err != 0, "a directory cannot be cleared: reported");
	rmdir(m);
}

/* Waits up to 20 s for path to appear; returns 0 when it did. */
static int wait_for(const char *path)
{
	struct stat st;
	int i;

	for (i = 0; i < 2000; i++) {
		if (lstat(path, &st) == 0) {
			return 0;
		}
		usleep(10000);
	}
	return -1;
}

static int count_prefix(const char *prefix)
{
	return rdump_test_count_prefix(dir, prefix);
}

static void test_fork_dump(void)
{
	rdump_dump_opts o;
	rdump_error e;
	rdump_reader r;
	const char *p = path_in("async.rdump");
	char m[600];
	size_t big = 32 << 20;
	unsigned char *data = malloc(big);
	struct timespec t0, t1;
	int status;

	memset(data, 0x5a, big);
	data[12345] = 0xa5;
	snprintf(m, sizeof(m), "%s.done", p);
	write_file("async.rdump.done", 0);
	memset(&o, 0, sizeof(o));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	RDUMP_CHECK(rdump_fork_dump(&o, p, 1, &e) == 0, "fork dump: %s", e.what);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* The stale marker goes before the call returns. */
	RDUMP_CHECK(access(m, F_OK) < 0, "stale marker removed at once");
	/* What the child sees is the image of the fork: later writes are not in it. */
	data[12345] = 0x00;
	RDUMP_CHECK(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD, "no child left to reap");
	RDUMP_CHECK(wait_for(m) == 0, "marker appears after the dump");
	RDUMP_CHECK(access(p, F_OK) == 0, "the dump is in place before its marker");
	memset(&r, 0, sizeof(r));
	RDUMP_CHECK(rdump_reader_open(&r, p) == RDUMP_ROK, "reads back: %s", r.message);
	if (r.error == RDUMP_ROK) {
		unsigned char b = 0;

		RDUMP_CHECK(r.pid == (uint64_t) getpid(), "the header names the caller, not the writer: %llu",
			(unsigned long long) r.pid);
		RDUMP_CHECK(r.rss_bytes > (int64_t) big, "rss measured in the caller: %lld", (long long) r.rss_bytes);
		RDUMP_CHECK(rdump_reader_read(&r, (uint64_t) (uintptr_t) (data + 12345), &b, 1) == RDUMP_MEM_REGION
			&& b == 0xa5, "the byte as it was at the fork: %02x", b);
		rdump_reader_close(&r);
	}
	RDUMP_CHECK(count_prefix(".rdump-tmp.") == 0, "no temporary file left");
	printf("fork dump of %zu MiB: caller paused %.2f ms\n", big >> 20,
		(double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6);
	unlink(p);
	unlink(m);
	free(data);

	/* Errors that can be known before the fork are reported by the call. */
	RDUMP_CHECK(rdump_fork_dump(&o, "/nonexistent-rdump-dir/x.rdump", 0, &e) < 0 && e.err == ENOENT,
		"missing directory: %s", e.what);
	RDUMP_CHECK(symlink("/tmp", path_in("ln.rdump")) == 0, "symlink");
	RDUMP_CHECK(rdump_fork_dump(&o, path_in("ln.rdump"), 0, &e) < 0, "a symlink is refused");
	unlink(path_in("ln.rdump"));
	RDUMP_CHECK(count_prefix(".rdump-tmp.") == 0, "no temporary file after refusals");
}

/* /proc/<pid>/<name> into buf, NUL-terminated; -1 if unreadable. */
static int read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		return -1;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0) {
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* Field `want` of /proc/<pid>/stat as a number; -1000 if unreadable. */
static int stat_field(pid_t pid, int want)
{
	char buf[1024], *p;
	int field;

	if (read_proc(pid, "stat", buf, sizeof(buf)) < 0) {
		return -1000;
	}
	/* The command name in parentheses may hold spaces: count from its end, field 2. */
	p = strrchr(buf, ')');
	for (field = 2; p != NULL && field < want; field++) {
		p = strchr(p + 1, ' ');
	}
	return p != NULL ? atoi(p + 1) : -1000;
}

#define RDUMP_STAT_NICE 19
#define RDUMP_STAT_POLICY 41

/* se.slice in /proc/<pid>/sched (Linux 6.6 on, with the scheduler's debug files), in ns; -1 if absent. */
static long long sched_slice(pid_t pid)
{
	char buf[8192], *p;

	if (read_proc(pid, "sched", buf, sizeof(buf)) < 0 || (p = strstr(buf, "\nse.slice")) == NULL
			|| (p = strchr(p, ':')) == NULL) {
		return -1;
	}
	return atoll(p + 1);
}

/* /proc/<pid>/oom_score_adj; -1001 if unreadable. */
static int oom_score_adj(pid_t pid)
{
	char buf[32];

	return read_proc(pid, "oom_score_adj", buf, sizeof(buf)) < 0 ? -1001 : atoi(buf);
}

/*
 * The writer runs as SCHED_BATCH with oom_score_adj 1000. A subreaper keeps
 * the writer as its own child (exit_signal 0, hence __WALL), so it can read
 * both from the writer's zombie before reaping it.
 */
static void test_fork_writer_policy(void)
{
	const char *p = path_in("batch.rdump");
	int status = 0, policy, adj;
	pid_t pid, writer;
	siginfo_t si;

	pid = fork();
	if (pid == 0) {
		rdump_dump_opts o;
		rdump_error e;

		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
			_exit(3);
		}
		memset(&o, 0, sizeof(o));
		if (rdump_fork_dump(&o, p, 0, &e) < 0) {
			_exit(4);
		}
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL) < 0) {
			_exit(5);
		}
		writer = si.si_pid;
		policy = stat_field(writer, RDUMP_STAT_POLICY);
		adj = oom_score_adj(writer);
		if (waitpid(writer, &status, __WALL) != writer || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			_exit(6);
		}
		if (adj != 1000) {
			_exit(7);
		}
		_exit(policy == SCHED_BATCH ? 0 : 10 + (policy < 0 ? 0 : policy));
	}
	RDUMP_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status),
		"the subreaper test process ends");
	RDUMP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the writer ran as SCHED_BATCH (%d), first in line for the OOM killer, and succeeded: exit %d "
		"(3 to 6: a step failed; 7: its oom_score_adj was not 1000; 10 + n: the policy was n)",
		SCHED_BATCH, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	RDUMP_CHECK(access(p, F_OK) == 0, "the dump is written");
	unlink(p);
}

/*
 * What the double-forked writer runs with: SCHED_BATCH at the caller's
 * nice (sched_setattr() sets both, and may not lower a nice), the default
 * time slice rather than the long one its first child forks with
 * (fork.c, spawn_policies), and the caller's CPUs, which the caller gets
 * back too although it pins itself while the first child forks (pin_here).
 * The caller is a child of a subreaper here, so the writer comes back to
 * the subreaper, which reads all this from the writer's zombie.
 */
static void test_fork_writer_sched(void)
{
	const char *p = path_in("sched.rdump");
	cpu_set_t before;
	int status = 0, nice;
	pid_t pid;

	RDUMP_CHECK(sched_getaffinity(0, sizeof(before), &before) == 0, "sched_getaffinity");
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	RDUMP_CHECK(errno == 0, "getpriority");
	/* Not the default 0, which a writer given a nice of 0 would also show. */
	nice = nice + 3 > 19 ? 19 : nice + 3;
	pid = fork();
	if (pid == 0) {
		cpu_set_t after;
		siginfo_t si;
		pid_t caller, writer;
		long long slice;
		int policy, writer_nice;

		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
			_exit(3);
		}
		caller = fork();
		if (caller == 0) {
			rdump_dump_opts o;
			rdump_error e;

			if (setpriority(PRIO_PROCESS, 0, nice) < 0) {
				_exit(11);
			}
			memset(&o, 0, sizeof(o));
			if (rdump_fork_dump(&o, p, 0, &e) < 0) {
				_exit(4);
			}
			if (sched_getaffinity(0, sizeof(after), &after) < 0 || !CPU_EQUAL(&before, &after)) {
				_exit(5);
			}
			_exit(0);
		}
		if (caller < 0 || waitpid(caller, &status, 0) != caller || !WIFEXITED(status)) {
			_exit(6);
		}
		if (WEXITSTATUS(status) != 0) {
			_exit(WEXITSTATUS(status));
		}
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL) < 0) {
			_exit(7);
		}
		writer = si.si_pid;
		if (sched_getaffinity(writer, sizeof(after), &after) < 0) {
			_exit(8);
		}
		policy = stat_field(writer, RDUMP_STAT_POLICY);
		writer_nice = stat_field(writer, RDUMP_STAT_NICE);
		slice = sched_slice(writer);
		if (waitpid(writer, &status, __WALL) != writer || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			_exit(9);
		}
		if (!CPU_EQUAL(&before, &after)) {
			_exit(10);
		}
		if (policy != SCHED_BATCH) {
			_exit(12);
		}
		if (writer_nice != nice) {
			_exit(13);
		}
		/* The first child's slice is the kernel's longest, 100 ms; -1: no debug file to tell. */
		_exit(slice >= 100000000LL ? 14 : 0);
	}
	RDUMP_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status),
		"the subreaper test process ends");
	RDUMP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"after an async dump the caller and the writer have the caller's %d CPUs, and the writer "
		"runs as SCHED_BATCH at the caller's nice %d with the default slice: exit %d (5: the caller's "
		"CPUs changed; 10: the writer's differ; 12: not SCHED_BATCH; 13: another nice; 14: the first "
		"child's slice; 3, 4, 6 to 9, 11: a step failed)",
		CPU_COUNT(&before), nice, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	RDUMP_CHECK(access(p, F_OK) == 0, "the dump is written");
	unlink(p);
}

static volatile sig_atomic_t sigchld_count;

static void count_sigchld(int sig)
{
	(void) sig;
	sigchld_count++;
}

/*
 * Once the writers have ended: -1 if a child is still there after 5 s of
 * rdump_fork_reap() (the last writer may still be exiting after its
 * marker), else the SIGCHLDs counted 50 ms later.
 */
static int after_writers(void)
{
	siginfo_t si;
	int i;

	for (i = 0; i < 500; i++) {
		rdump_fork_reap();
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 && errno == ECHILD) {
			usleep(50000);
			return (int) sigchld_count;
		}
		usleep(10000);
	}
	return -1;
}

/*
 * Three async dumps send no SIGCHLD to the caller (its handler is the
 * script's, for its own children) and leave it no zombie: as an ordinary
 * process, and as a subreaper, which adopts the writers it does not reap
 * itself. The exit code says what went wrong: 3 to 5 a step failed,
 * 6 a child was left, 10 + n n signals came.
 */
static int sigchld_child(int subreaper)
{
	struct sigaction sa;
	int i, left;

	if (subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		return 3;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_sigchld;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	for (i = 0; i < 3; i++) {
		rdump_dump_opts o;
		rdump_error e;
		char name[32], m[600];

		snprintf(name, sizeof(name), "chld-%d-%d.rdump", subreaper, i);
		snprintf(m, sizeof(m), "%s.done", path_in(name));
		memset(&o, 0, sizeof(o));
		if (rdump_fork_dump(&o, path_in(name), 1, &e) < 0) {
			return 4;
		}
		if (wait_for(m) < 0) {
			return 5;
		}
	}
	left = after_writers();
	return left < 0 ? 6 : (left == 0 ? 0 : 10 + left);
}

static void test_fork_no_sigchld(void)
{
	int subreaper, status, i;
	pid_t pid;

	for (subreaper = 0; subreaper <= 1; subreaper++) {
		pid = fork();
		if (pid == 0) {
			_exit(sigchld_child(subreaper));
		}
		RDUMP_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status),
			"the %s test process ends", subreaper ? "subreaper" : "plain");
		RDUMP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			"%s: no SIGCHLD and no child left after three async dumps: exit %d "
			"(3 to 5: a step failed; 6: a child left; 10 + n: n SIGCHLDs)",
			subreaper ? "subreaper" : "plain", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		for (i = 0; i < 3; i++) {
			char name[32];

			snprintf(name, sizeof(name), "chld-%d-%d.rdump", subreaper, i);
			RDUMP_CHECK(access(path_in(name), F_OK) == 0, "%s is written", name);
			unlink(path_in(name));
			snprintf(name, sizeof(name), "chld-%d-%d.rdump.done", subreaper, i);
			unlink(path_in(name));
		}
	}
}

/*
 * The fork fails (RLIMIT_NPROC, as a user with no other process): the call
 * says so with the errno, whichever of the two forks failed, and leaves no
 * temporary file, no marker and no child; the next dump, once the limit
 * allows it, succeeds. A subreaper gets back the slot of its own writer
 * each time: after more failures than it has slots, its writer is still its
 * own child (exit signal 0), not a double-forked one that would come back
 * with a SIGCHLD. Exit codes: 3 a setup step failed, 4 + n the dump under
 * a limit of n processes succeeded or failed with another error, 8 a file
 * was left, 9 a child was left, 10 the dump after the limit failed, 11 its
 * marker never came, 12 + n n SIGCHLDs.
 */
#define RDUMP_TEST_UID 61234

static int nproc_child(const char *in, int subreaper)
{
	struct sigaction sa;
	struct rlimit rl;
	rdump_dump_opts o;
	rdump_error e;
	siginfo_t si;
	char p[600], m[608];
	int i, limit, left;

	snprintf(p, sizeof(p), "%s/nproc.rdump", in);
	snprintf(m, sizeof(m), "%s.done", p);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_sigchld;
	sigemptyset(&sa.sa_mask);
	if ((subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) || sigaction(SIGCHLD, &sa, NULL) < 0
			|| setgroups(0, NULL) < 0 || setgid(RDUMP_TEST_UID) < 0 || setuid(RDUMP_TEST_UID) < 0) {
		return 3;
	}
	memset(&o, 0, sizeof(o));
	/* 1: the first fork fails; 2: the first succeeds, the writer's fails (no subreaper). */
	for (limit = 1; limit <= (subreaper ? 1 : 2); limit++) {
		for (i = 0; i < (subreaper ? 20 : 3); i++) {
			rl.rlim_cur = (rlim_t) limit;
			rl.rlim_max = 64;
			if (setrlimit(RLIMIT_NPROC, &rl) < 0) {
				return 3;
			}
			memset(&e, 0, sizeof(e));
			if (rdump_fork_dump(&o, p, 1, &e) == 0 || e.err != EAGAIN
					|| strcmp(e.what, "cannot fork the writer process") != 0) {
				return 4 + limit;
			}
			if (rdump_test_count_prefix(in, ".rdump-tmp.") != 0 || access(p, F_OK) == 0 || access(m, F_OK) == 0) {
				return 8;
			}
			if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 || errno != ECHILD) {
				return 9;
			}
		}
	}
	rl.rlim_cur = 64;
	if (setrlimit(RLIMIT_NPROC, &rl) < 0) {
		return 3;
	}
	if (rdump_fork_dump(&o, p, 1, &e) < 0) {
		return 10;
	}
	if (wait_for(m) < 0) {
		return 11;
	}
	left = after_writers();
	return left < 0 ? 9 : (left == 0 ? 0 : 12 + left);
}

static void test_fork_dump_nproc(void)
{
	char in[] = "/tmp/rdump-test-nproc-XXXXXX";
	int subreaper, status;
	pid_t pid;

	if (geteuid() != 0) {
		/* Root ignores RLIMIT_NPROC, and only root can become a user with no other process. */
		printf("skip: the fork-failure test needs root to switch to uid %d\n", RDUMP_TEST_UID);
		return;
	}
	RDUMP_CHECK(mkdtemp(in) != NULL && chown(in, RDUMP_TEST_UID, RDUMP_TEST_UID) == 0,
		"a directory for uid %d", RDUMP_TEST_UID);
	for (subreaper = 0; subreaper <= 1; subreaper++) {
		char p[600];

		pid = fork();
		if (pid == 0) {
			_exit(nproc_child(in, subreaper));
		}
		RDUMP_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
			"%s: a failed fork is reported with EAGAIN and leaves nothing behind; the next dump succeeds: "
			"exit %d (3: setup; 5, 6: the dump under a limit of 1, 2 processes; 8: a file left; "
			"9: a child left; 10, 11: the dump after; 12 + n: n SIGCHLDs)",
			subreaper ? "subreaper" : "plain", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		snprintf(p, sizeof(p), "%s/nproc.rdump", in);
		RDUMP_CHECK(access(p, F_OK) == 0, "%s: the dump after the limit is written", subreaper ? "subreaper" : "plain");
		unlink(p);
		snprintf(p, sizeof(p), "%s/nproc.rdump.done", in);
		unlink(p);
	}
	RDUMP_CHECK(rmdir(in) == 0, "nothing else left in %s", in);
}

#define RDUMP_TEST_THREADS 4
#define RDUMP_TEST_THREAD_DUMPS 5

static pthread_barrier_t dump_barrier;

static void *thread_dumps(void *arg)
{
	long n = (long) arg, failed = 0;
	int i;

	pthread_barrier_wait(&dump_barrier);
	for (i = 0; i < RDUMP_TEST_THREAD_DUMPS; i++) {
		rdump_dump_opts o;
		rdump_error e;
		char p[600];

		snprintf(p, sizeof(p), "%s/thr-%ld-%d.rdump", dir, n, i);
		memset(&o, 0, sizeof(o));
		if (rdump_fork_dump(&o, p, 1, &e) < 0) {
			fprintf(stderr, "thread %ld, dump %d: %s\n", n, i, e.what);
			failed++;
		}
	}
	return (void *) failed;
}

static void *thread_idle(void *arg)
{
	pthread_barrier_wait(&dump_barrier);
	return arg;
}

/* Whether the reader accepts the dump at path. */
static int check_dump(const char *path)
{
	rdump_reader r;
	int ok;

	memset(&r, 0, sizeof(r));
	ok = rdump_reader_open(&r, path) == RDUMP_ROK;
	if (ok) {
		rdump_reader_close(&r);
	}
	return ok;
}

/* VmSize of this process in KiB, -1 when unreadable. */
static long vm_size_kib(void)
{
	char buf[4096], *v;

	if (read_proc(getpid(), "status", buf, sizeof(buf)) < 0 || (v = strstr(buf, "VmSize:")) == NULL) {
		return -1;
	}
	return strtol(v + 7, NULL, 10);
}

/* Runs RDUMP_TEST_THREADS threads of fn, started together; returns the sum of their results. */
static long run_threads(void *(*fn)(void *))
{
	pthread_t t[RDUMP_TEST_THREADS];
	long n, sum = 0;

	pthread_barrier_init(&dump_barrier, NULL, RDUMP_TEST_THREADS);
	for (n = 0; n < RDUMP_TEST_THREADS; n++) {
		if (pthread_create(&t[n], NULL, fn, (void *) n) != 0) {
			perror("pthread_create");
			exit(2);
		}
	}
	for (n = 0; n < RDUMP_TEST_THREADS; n++) {
		void *r;

		pthread_join(t[n], &r);
		sum += (long) r;
	}
	pthread_barrier_destroy(&dump_barrier);
	return sum;
}

/*
 * Threads of one process dump at the same moment (ZTS): every dump is
 * written whole. One stack for the first child is kept between dumps (with
 * the page of its busy flag); the stacks of the threads that found it taken
 * are unmapped again, and rdump_fork_finish() unmaps the kept one.
 */
static void test_fork_threads(void)
{
	long before, during, checked, after;
	int n, i;

	run_threads(thread_idle); /* glibc keeps the thread stacks for the next threads */
	rdump_fork_finish();
	before = vm_size_kib();
	RDUMP_CHECK(run_threads(thread_dumps) == 0, "every thread's dumps start");
	during = vm_size_kib();
	RDUMP_CHECK(before > 0 && during - before == (long) ((RDUMP_FORK_STACK + rdump_page_size()) >> 10),
		"only the kept stack and its flag's page stay mapped: VmSize %ld KiB before, %ld KiB after %d dumps from %d threads",
		before, during, RDUMP_TEST_THREADS * RDUMP_TEST_THREAD_DUMPS, RDUMP_TEST_THREADS);
	for (n = 0; n < RDUMP_TEST_THREADS; n++) {
		for (i = 0; i < RDUMP_TEST_THREAD_DUMPS; i++) {
			char p[600], m[608];

			snprintf(p, sizeof(p), "%s/thr-%d-%d.rdump", dir, n, i);
			snprintf(m, sizeof(m), "%s.done", p);
			RDUMP_CHECK(wait_for(m) == 0, "%s is written", p);
			RDUMP_CHECK(check_dump(p), "%s passes the reader", p);
			unlink(p);
			unlink(m);
		}
	}
	RDUMP_CHECK(count_prefix(".rdump-tmp.") == 0, "no temporary file");
	checked = vm_size_kib();
	rdump_fork_finish();
	after = vm_size_kib();
	RDUMP_CHECK(checked - after == (long) ((RDUMP_FORK_STACK + rdump_page_size()) >> 10),
		"rdump_fork_finish() unmaps the kept stack and its flag's page: VmSize %ld KiB, %ld before", after, checked);
}

/* The writer fails (file size limit): it removes its temporary file, writes no marker, and says why. */
static void test_fork_dump_failure(void)
{
	const char *p = path_in("fail.rdump");
	int errpipe[2], status, i;
	char msg[1024];
	ssize_t n = 0;
	pid_t pid;

	if (pipe(errpipe) < 0) {
		perror("pipe");
		exit(2);
	}
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 65536, 65536 };
		rdump_dump_opts o;
		rdump_error e;

		close(errpipe[0]);
		dup2(errpipe[1], STDERR_FILENO);
		setrlimit(RLIMIT_FSIZE, &rl);
		memset(&o, 0, sizeof(o));
		_exit(rdump_fork_dump(&o, p, 1, &e) == 0 ? 0 : 1);
	}
	close(errpipe[1]);
	RDUMP_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the call itself succeeds: the failure comes later");
	/* EOF once the writer, the last holder of stderr, has exited. */
	for (i = 0; i < 100; i++) {
		ssize_t got = read(errpipe[0], msg + n, sizeof(msg) - 1 - (size_t) n);

		if (got <= 0) {
			break;
		}
		n += got;
	}
	msg[n] = '\0';
	close(errpipe[0]);
	RDUMP_CHECK(strstr(msg, "rdump: async dump to \"") != NULL && strstr(msg, "fail.rdump") != NULL
		&& strstr(msg, "failed") != NULL, "the writer reports: %s", msg);
	RDUMP_CHECK(access(p, F_OK) < 0, "no dump");
	RDUMP_CHECK(access(path_in("fail.rdump.done"), F_OK) < 0, "no marker");
	RDUMP_CHECK(count_prefix(".rdump-tmp.") == 0, "no temporary file");
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_template();
	test_size_parse();
	test_size_locales();
	test_dir_bytes();
	test_budget();
	test_gate();
	test_signal_parse();
	test_marker();
	test_fork_dump();
	test_fork_dump_failure();
	test_fork_writer_policy();
	test_fork_writer_sched();
	test_fork_no_sigchld();
	test_fork_dump_nproc();
	test_fork_threads();
	rmdir(dir);
	return rdump_test_summary();
}
