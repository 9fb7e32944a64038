/*
 * `rdump-cli dump` (also plain `rdump-cli -p PID -o FILE`): a dump of another
 * PHP process taken from outside. capture/remote.c finds the engine and holds
 * the target; capture/dump.c plans and writes exactly as for the extension's
 * own dumps. This file parses the command line, orders the steps so that the
 * target is stopped as briefly as possible and always resumed, and reports.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cli.h"
#include "remote.h"

#define DUMP_PROGRESS_MIN ((uint64_t) 64 << 20)
#define MIB(x) ((double) (x) / (1024.0 * 1024.0))

static const char dump_usage[] =
	"usage: rdump-cli [dump] -p PID -o FILE [options]\n"
	"       rdump-cli [dump] -o FILE [options] -- CMD [ARGS...]\n"
	"\n"
	"Dumps a running PHP process (php, php-fpm worker, libphp*.so host) from outside.\n"
	"\n"
	"  -p, --pid PID          the process to dump\n"
	"  -o, --output FILE      where to write the dump; '-' for standard output\n"
	"  -- CMD [ARGS...]       start CMD, dump it after --delay seconds, let it run on,\n"
	"                         and wait for it to finish\n"
	"      --delay SECONDS    wait this long before dumping (default 1 with CMD, 0 with --pid)\n"
	"      --stop-process     hold every thread of the target while its memory is read (default)\n"
	"      --no-stop-process  read the target while it runs (the dump may be inconsistent)\n"
	"      --include-binary   also embed read-only file-backed mappings (self-contained dump)\n"
	"      --exclude-heap     leave out the C heap and anonymous memory PHP does not own\n"
	"      --compress[=LEVEL] write a gzip stream (level 1-9, default 1)\n"
	"      --max-buffer SIZE  read up to SIZE bytes into memory before resuming the target,\n"
	"                         so it is stopped only while memory is read: into the output\n"
	"                         file's pages, or a buffer for --compress and -o - (default\n"
	"                         1G; K, M, G, T suffixes; 0: keep it stopped until the dump\n"
	"                         is written)\n"
	"  -q, --quiet            no progress line and no report; errors and warnings only\n"
	"  -h, --help             this text\n"
	"\n"
	"exit status: 0 dumped, 1 failed, 2 bad command line, 3 no such process,\n"
	"4 not a PHP process, 5 permission denied, 6 the process exited during the dump\n";

typedef struct dump_cli {
	pid_t pid;
	const char *output;
	char **cmd;
	double delay;
	int delay_set;
	int stop;
	int full;
	int exclude_heap;
	int compress;
	int compress_level;
	uint64_t max_buffer;
	int quiet;
	int progress_on;    /* stderr is a terminal and not --quiet */
} dump_cli;

/* Everything the dump steps share, also reached from the signal handler. */
typedef struct dump_run {
	dump_cli *cli;
	rdump_target target;
	rdump_remote_hold stop;
	rdump_remote_php php;
	rdump_snapshot snap;
	rdump_output out;
	rdump_remote_fault fault;
	int buffered;          /* the copy was taken and the target resumed */
	int prefilled;         /* the copy's place was set aside in the output file */
	uint64_t buffer_need;  /* bytes the copy would have needed */
	double read_seconds;
	const char *phase;
	double phase_start;
	double last_print;
	int printed;
} dump_run;

static dump_run *volatile g_run;

/* Interrupted: let the target go, leave no temporary file, then die of the signal. */
static void on_fatal_signal(int sig)
{
	dump_run *r = g_run;

	if (r != NULL) {
		rdump_remote_resume(&r->stop);
		if (!r->out.to_stdout && r->out.tmp_path[0] != '\0') {
			unlink(r->out.tmp_path);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void block_fatal(int block, sigset_t *old)
{
	sigset_t set;
	size_t i;

	if (!block) {
		sigprocmask(SIG_SETMASK, old, NULL);
		return;
	}
	sigemptyset(&set);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		sigaddset(&set, fatal_signals[i]);
	}
	sigprocmask(SIG_BLOCK, &set, old);
}

static void install_handlers(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		sigaction(fatal_signals[i], &sa, NULL);
	}
	/* A closed pipe behind -o - must be a write error, not death with the target held. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void resume(dump_run *r)
{
	sigset_t old;

	block_fatal(1, &old);
	rdump_remote_resume(&r->stop);
	block_fatal(0, &old);
}

/* ---- progress --------------------------------------------------------- */

static void progress_show(dump_run *r, const char *phase, uint64_t done, uint64_t total)
{
	double now = rdump_remote_now(), secs;

	if (!r->cli->progress_on || total < DUMP_PROGRESS_MIN) {
		return;
	}
	if (r->phase != phase) {
		r->phase = phase;
		r->phase_start = now;
		r->last_print = 0;
	}
	if (done < total && now - r->last_print < 0.2) {
		return;
	}
	r->last_print = now;
	secs = now - r->phase_start;
	fprintf(stderr, "\r%s %.1f / %.1f MiB, %.0f MiB/s\033[K", phase, MIB(done), MIB(total),
		secs > 0 ? MIB(done) / secs : 0.0);
	r->printed = 1;
}

static void progress_clear(dump_run *r)
{
	if (r->printed) {
		fputs("\r\033[K", stderr);
		r->printed = 0;
	}
}

static void on_read_progress(void *ctx, uint64_t done, uint64_t total)
{
	progress_show(ctx, "reading", done, total);
}

static void on_write_progress(void *ctx, uint64_t done, uint64_t total)
{
	progress_show(ctx, "writing", done, total);
}

/* ---- the plan hook: copy, then let the target run ---------------------- */

/* Room set aside in the file for what precedes the memory: the header, the memory map, region heads. */
#define RDUMP_FILE_HEAD_ROOM ((uint64_t) 1 << 20)

static int on_planned(void *ctx, rdump_target *t, const rdump_vec *pieces, uint64_t total,
	uint64_t stream_start, rdump_error *e)
{
	dump_run *r = ctx;
	double start;
	char state;

	(void) total;
	if (!r->stop.holding) {
		return 0;
	}
	r->buffer_need = rdump_snapshot_bytes(pieces);
	if (r->buffer_need > r->cli->max_buffer) {
		return 0;   /* stays stopped until the dump is written */
	}
	start = rdump_remote_now();
	r->snap.progress = on_read_progress;
	r->snap.progress_ctx = r;
	if (rdump_snapshot_fill(&r->snap, t, pieces, stream_start, &r->fault, e) < 0) {
		return -1;
	}
	r->read_seconds = rdump_remote_now() - start;
	state = rdump_remote_state(r->cli->pid);
	if (state == 0 || state == 'Z' || state == 'X') {
		r->fault = RDUMP_RF_EXITED;
		return RDUMP_FAIL(e, "the process exited during the dump", ESRCH);
	}
	resume(r);
	r->buffered = 1;
	return 0;
}

/* ---- the command line --------------------------------------------------- */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (*s < '0' || *s > '9') {
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0) {
		return -1;
	}
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if ((*end == 'i' || *end == 'I') && shift) {
		end++;
	}
	if ((*end == 'b' || *end == 'B') && shift) {
		end++;
	}
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift))) {
		return -1;
	}
	*out = (uint64_t) v << shift;
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("rdump-cli dump: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	fputs(dump_usage, stderr);
	return RDUMP_EXIT_USAGE;
}

enum {
	OPT_STOP = 256, OPT_NO_STOP, OPT_INCLUDE_BINARY, OPT_EXCLUDE_HEAP, OPT_COMPRESS,
	OPT_MAX_BUFFER, OPT_DELAY
};

/* 0 parsed, 1 --help shown, or an exit status. */
static int parse_args(int argc, char **argv, dump_cli *c)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "stop-process", no_argument, NULL, OPT_STOP },
		{ "no-stop-process", no_argument, NULL, OPT_NO_STOP },
		{ "include-binary", no_argument, NULL, OPT_INCLUDE_BINARY },
		{ "exclude-heap", no_argument, NULL, OPT_EXCLUDE_HEAP },
		{ "compress", optional_argument, NULL, OPT_COMPRESS },
		{ "max-buffer", required_argument, NULL, OPT_MAX_BUFFER },
		{ "delay", required_argument, NULL, OPT_DELAY },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	memset(c, 0, sizeof(*c));
	c->stop = 1;
	c->compress_level = 1;
	c->max_buffer = (uint64_t) 1 << 30;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:p:o:qh", longopts, NULL)) != -1) {
		char *end;
		long v;
		double d;

		switch (opt) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v <= 0 || v > INT32_MAX) {
				return usage_error("--pid needs a process id, not '%s'", optarg);
			}
			c->pid = (pid_t) v;
			break;
		case 'o':
			if (optarg[0] == '\0') {
				return usage_error("--output needs a path%s", "");
			}
			c->output = optarg;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'h':
			fputs(dump_usage, stdout);
			return 1;
		case OPT_STOP:
			c->stop = 1;
			break;
		case OPT_NO_STOP:
			c->stop = 0;
			break;
		case OPT_INCLUDE_BINARY:
			c->full = 1;
			break;
		case OPT_EXCLUDE_HEAP:
			c->exclude_heap = 1;
			break;
		case OPT_COMPRESS:
			c->compress = 1;
			if (optarg != NULL) {
				if (optarg[0] < '1' || optarg[0] > '9' || optarg[1] != '\0') {
					return usage_error("--compress level must be from 1 to 9, not '%s'", optarg);
				}
				c->compress_level = optarg[0] - '0';
			}
			break;
		case OPT_MAX_BUFFER:
			if (parse_size(optarg, &c->max_buffer) < 0) {
				return usage_error("--max-buffer needs a size such as 512M or 2G, not '%s'", optarg);
			}
			break;
		case OPT_DELAY:
			errno = 0;
			d = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || end == optarg || !(d >= 0) || d > 86400 * 365) {
				return usage_error("--delay needs a number of seconds, not '%s'", optarg);
			}
			c->delay = d;
			c->delay_set = 1;
			break;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0) {
			return usage_error("unexpected argument '%s' (a command to start goes after --)", argv[optind]);
		}
		c->cmd = argv + optind;
	}
	if (c->output == NULL) {
		return usage_error("--output is required%s", "");
	}
	if (c->pid == 0 && c->cmd == NULL) {
		return usage_error("give --pid PID, or a command after --%s", "");
	}
	if (c->pid == getpid()) {
		return usage_error("--pid names rdump-cli itself%s", "");
	}
	if (c->pid != 0 && c->cmd != NULL) {
		return usage_error("give either --pid or a command after --, not both%s", "");
	}
	if (!c->delay_set) {
		c->delay = c->cmd ? 1.0 : 0.0;
	}
	c->progress_on = !c->quiet && isatty(STDERR_FILENO);
	return 0;
}

/* ---- starting CMD --------------------------------------------------------- */

static void sleep_seconds(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t) s;
	ts.tv_nsec = (long) ((s - (double) ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* Starts CMD and waits for the delay; the child's pid, or -1 (reported). */
static pid_t spawn(dump_cli *c)
{
	int fds[2], err = 0;
	pid_t child;
	ssize_t n;
	double until;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "rdump-cli dump: cannot create a pipe: %s\n", strerror(errno));
		return -1;
	}
	child = fork();
	if (child < 0) {
		fprintf(stderr, "rdump-cli dump: cannot start %s: %s\n", c->cmd[0], strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (child == 0) {
		close(fds[0]);
		execvp(c->cmd[0], c->cmd);
		err = errno;
		if (write(fds[1], &err, sizeof(err)) < 0) {
			_exit(127);
		}
		_exit(127);
	}
	close(fds[1]);
	/* The pipe closes on a successful exec; otherwise it carries errno. */
	do {
		n = read(fds[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t) sizeof(err)) {
		waitpid(child, NULL, 0);
		fprintf(stderr, "rdump-cli dump: cannot start %s: %s\n", c->cmd[0], strerror(err));
		return -1;
	}
	until = rdump_remote_now() + c->delay;
	for (;;) {
		int status;
		pid_t w = waitpid(child, &status, WNOHANG);
		double left = until - rdump_remote_now();

		if (w == child) {
			if (WIFEXITED(status)) {
				fprintf(stderr, "rdump-cli dump: %s exited with status %d before the dump\n",
					c->cmd[0], WEXITSTATUS(status));
			} else {
				fprintf(stderr, "rdump-cli dump: %s was killed by signal %d before the dump\n",
					c->cmd[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			}
			return -1;
		}
		if (left <= 0) {
			break;
		}
		sleep_seconds(left < 0.01 ? left : 0.01);
	}
	return child;
}

/* Lets CMD run to its end; rdump-cli's status stays the dump's. */
static void wait_child(pid_t child)
{
	struct sigaction ign, old_int, old_quit;
	int status;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	/* Like system(3): a Ctrl-C is the child's to handle. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
}

/* ---- reporting ------------------------------------------------------------ */

static int fault_status(rdump_remote_fault f)
{
	switch (f) {
	case RDUMP_RF_NO_PROCESS: return RDUMP_EXIT_NO_PROCESS;
	case RDUMP_RF_NOT_PHP: return RDUMP_EXIT_NOT_PHP;
	case RDUMP_RF_PERMISSION: return RDUMP_EXIT_PERMISSION;
	case RDUMP_RF_EXITED: return RDUMP_EXIT_EXITED;
	default: return RDUMP_EXIT_FAILURE;
	}
}

static void permission_hint(pid_t pid)
{
	char buf[16];
	FILE *f;
	pid_t tracer = rdump_remote_tracer(pid);

	if (tracer > 0) {
		fprintf(stderr, "rdump-cli dump: process %ld is already being traced by process %ld "
			"(a debugger?); only one tracer can attach\n", (long) pid, (long) tracer);
		return;
	}
	fprintf(stderr, "rdump-cli dump: hint: run rdump-cli as the same user as process %ld, "
		"or with CAP_SYS_PTRACE (e.g. as root)", (long) pid);
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL && buf[0] >= '1' && buf[0] <= '3') {
			fprintf(stderr, "; kernel.yama.ptrace_scope is %c, which restricts attaching to "
				"non-descendants (sysctl kernel.yama.ptrace_scope=0 lifts it)", buf[0]);
		}
		fclose(f);
	}
	fputs("\n", stderr);
}

static int report_error(dump_run *r, const char *step, const rdump_error *e)
{
	int status = fault_status(r->fault);

	progress_clear(r);
	if (r->fault == RDUMP_RF_EXITED) {
		fprintf(stderr, "rdump-cli dump: process %ld exited during the dump; %s\n", (long) r->cli->pid,
			r->out.to_stdout ? "the dump on standard output is incomplete" : "no file was written");
		return status;
	}
	fprintf(stderr, "rdump-cli dump: %s process %ld: %s", step, (long) r->cli->pid, e->what);
	if (e->err != 0 && r->fault != RDUMP_RF_NOT_PHP && r->fault != RDUMP_RF_NO_PROCESS) {
		fprintf(stderr, " (%s)", strerror(e->err));
	}
	fputs("\n", stderr);
	if (r->fault == RDUMP_RF_PERMISSION) {
		permission_hint(r->cli->pid);
	}
	return status;
}

static void report_success(dump_run *r, const rdump_dump_result *res, double seconds)
{
	const dump_cli *c = r->cli;

	fprintf(stderr, "rdump-cli: dumped process %ld (PHP %s%s%s, %s) to %s\n", (long) c->pid,
		r->php.version[0] ? r->php.version : r->php.tag, r->php.build_id[0] ? ", " : "",
		r->php.build_id, r->php.engine_path, c->output);
	fprintf(stderr, "rdump-cli: %.1f MiB in %" PRIu32 " regions (%.1f MiB of it zeros left as holes), "
		"%.1f MiB written, %.3f s", MIB(res->region_bytes), res->regions, MIB(res->hole_bytes),
		MIB(res->file_bytes), seconds);
	if (r->stop.was_stopped) {
		fputs("; the process was already stopped and was left stopped\n", stderr);
	} else if (!c->stop) {
		fputs("; the process was not stopped (--no-stop-process)\n", stderr);
	} else if (r->buffered && r->snap.in_file) {
		fprintf(stderr, "; process stopped %.3f s (%.1f MiB of memory read into the file's pages in %.3f s)\n",
			r->stop.seconds, MIB(r->buffer_need), r->read_seconds);
	} else if (r->buffered) {
		fprintf(stderr, "; process stopped %.3f s (memory read into a %.1f MiB buffer in %.3f s)\n",
			r->stop.seconds, MIB(r->buffer_need), r->read_seconds);
	} else {
		fprintf(stderr, "; process stopped %.3f s (the whole dump: %.1f MiB exceeds --max-buffer)\n",
			r->stop.seconds, MIB(r->buffer_need));
	}
	if (!r->php.layouts_match) {
		return;
	}
	fprintf(stderr, "rdump-cli: PHP memory: %" PRIu32 " ZendMM chunks, %" PRIu32 " huge blocks, %" PRIu32
		" VM stack pages, %" PRIu32 " arenas", res->php.chunks, res->php.huge_blocks,
		res->php.vm_stack_pages, res->php.arenas);
	if (res->php.broken) {
		fprintf(stderr, ", %" PRIu32 " links unreadable", res->php.broken);
	}
	if (res->zero_pages || res->regions_dropped) {
		fprintf(stderr, "; %" PRIu64 " pages vanished (zeros), %" PRIu32 " regions dropped",
			res->zero_pages, res->regions_dropped);
	}
	fputs("\n", stderr);
}

/* ---- the dump ------------------------------------------------------------- */

static int run_dump(dump_run *r)
{
	dump_cli *c = r->cli;
	rdump_error e = { NULL, 0 };
	rdump_dump_opts o;
	rdump_dump_result res;
	rdump_module_global mg;
	sigset_t old;
	double started;
	char state;
	int rc;

	started = rdump_remote_now();
	if (rdump_remote_check_access(c->pid, &r->fault, &e) < 0) {
		return report_error(r, "cannot dump", &e);
	}
	if (rdump_target_open(&r->target, c->pid, 0, &e) < 0 || rdump_target_read_maps(&r->target, &e) < 0) {
		if (rdump_remote_state(c->pid) == 0) {
			r->fault = RDUMP_RF_NO_PROCESS;
		}
		return report_error(r, "cannot read", &e);
	}
	if (rdump_remote_find_php(&r->target, &r->php, &r->fault, &e) < 0) {
		return report_error(r, "cannot dump", &e);
	}
	if (!r->php.layouts_match) {
		fprintf(stderr, "rdump-cli dump: warning: process %ld runs PHP %s (%s) but this rdump-cli was "
			"built for %s (%s): capturing the memory map and resident memory only, without "
			"walking PHP's structures\n", (long) c->pid,
			r->php.version[0] ? r->php.version : r->php.tag,
			r->php.build_id[0] ? r->php.build_id : "build unknown",
			rdump_php_version_tag(), rdump_remote_build_id());
		if (c->exclude_heap) {
			fputs("rdump-cli dump: warning: --exclude-heap needs PHP's structures; dumping without it\n", stderr);
			c->exclude_heap = 0;
		}
	} else {
		rdump_remote_find_heap(&r->target, &r->php);
		if (r->php.addrs.mm_heap == 0 && c->exclude_heap) {
			fprintf(stderr, "rdump-cli dump: warning: no ZendMM heap found (%" PRIu32 " candidates; "
				"USE_ZEND_ALLOC=0?): --exclude-heap would lose PHP's data; dumping without it\n",
				r->php.heap_candidates);
			c->exclude_heap = 0;
		}
	}
	/* The file is created before the target is stopped: a bad path costs the target nothing. */
	if (strcmp(c->output, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			fputs("rdump-cli dump: refusing to write a dump to a terminal; redirect standard output\n", stderr);
			return RDUMP_EXIT_USAGE;
		}
		rdump_output_use_fd(&r->out, STDOUT_FILENO);
	} else if (rdump_output_open(&r->out, c->output, &e) < 0) {
		fprintf(stderr, "rdump-cli dump: cannot write \"%s\": %s", c->output, e.what);
		if (e.err) {
			fprintf(stderr, " (%s)", strerror(e.err));
		}
		fputs("\n", stderr);
		return RDUMP_EXIT_FAILURE;
	}
	if (c->stop && c->max_buffer > 0 && rdump_remote_state(c->pid) != 'T') {
		/* The resident size is what a default dump reads; a miss is allocated while stopped. */
		int64_t rss = rdump_proc_rss(r->target.pid);
		uint64_t want = rss > 0 ? (uint64_t) rss : 0;

		if (want > c->max_buffer) {
			want = c->max_buffer;
		}
		/*
		 * Into the output file's own pages where it can: the copy then
		 * takes no memory besides the file's, and nothing is copied again
		 * to write it. A gzip stream or a pipe needs the copy in memory.
		 */
		if (want > 0 && !r->out.to_stdout && !c->compress
				&& rdump_snapshot_reserve_file(&r->snap, r->out.fd, want + RDUMP_FILE_HEAD_ROOM) == 0) {
			r->prefilled = 1;
		} else if (want > 0 && rdump_snapshot_reserve(&r->snap, want) < 0) {
			rdump_snapshot_free(&r->snap, NULL);
		}
	}
	if (c->stop) {
		block_fatal(1, &old);
		rc = rdump_remote_stop(&r->stop, r->php.zts, &r->fault, &e);
		block_fatal(0, &old);
		if (rc < 0) {
			rdump_output_abort(&r->out);
			return report_error(r, "cannot stop", &e);
		}
	}
	if (r->php.zts) {
		if (r->stop.main_tp == 0 && rdump_remote_read_main_tp(&r->stop, &e) < 0) {
			resume(r);
			rdump_output_abort(&r->out);
			return report_error(r, "cannot dump ZTS", &e);
		}
		if (rdump_remote_zts_addrs(&r->target, &r->php, r->stop.main_tp, &e) < 0) {
			resume(r);
			rdump_output_abort(&r->out);
			return report_error(r, "cannot dump", &e);
		}
	}
	memset(&o, 0, sizeof(o));
	mg.name.ptr = "basic_globals";
	mg.name.len = sizeof("basic_globals") - 1;
	mg.address = r->php.addrs.basic_globals;
	o.full = c->full;
	o.exclude_heap = c->exclude_heap;
	o.compress = c->compress;
	o.compress_level = c->compress_level;
	o.copy = RDUMP_COPY_READ;
	o.php = &r->php.addrs;
	o.php_foreign = !r->php.layouts_match;
	o.php_version = r->php.tag;
	o.module_globals = &mg;
	o.module_globals_count = mg.address ? 1 : 0;
	o.planned = on_planned;
	o.planned_ctx = r;
	o.out_prefilled = r->prefilled;
	if (c->progress_on) {
		o.progress = on_write_progress;
		o.progress_ctx = r;
	}
	rc = rdump_dump_fd(&r->target, &o, r->out.fd, &res, &e);
	resume(r);
	progress_clear(r);
	if (rc == 0 && !r->buffered && !r->stop.was_stopped) {
		/* Read while it ran or while held to the end: it must still be there now. */
		state = rdump_remote_state(c->pid);
		if (state == 0 || state == 'Z' || state == 'X') {
			r->fault = RDUMP_RF_EXITED;
			rc = -1;
		}
	}
	if (rc < 0) {
		rdump_output_abort(&r->out);
		state = rdump_remote_state(c->pid);
		if (r->fault == RDUMP_RF_OTHER && (state == 0 || state == 'Z' || state == 'X')) {
			r->fault = RDUMP_RF_EXITED;
		}
		return report_error(r, "cannot dump", &e);
	}
	if (rdump_output_commit(&r->out, &e) < 0) {
		fprintf(stderr, "rdump-cli dump: cannot write \"%s\": %s (%s)\n", c->output, e.what, strerror(e.err));
		return RDUMP_EXIT_FAILURE;
	}
	if (!c->quiet) {
		report_success(r, &res, rdump_remote_now() - started);
	}
	return RDUMP_EXIT_OK;
}

int rdump_cli_dump(int argc, char **argv)
{
	dump_cli c;
	dump_run *r;
	pid_t child = -1;
	int status;

	status = parse_args(argc, argv, &c);
	if (status != 0) {
		return status == 1 ? RDUMP_EXIT_OK : status;
	}
	/* Large and shared with the signal handler: not on the stack. */
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		fputs("rdump-cli dump: out of memory\n", stderr);
		return RDUMP_EXIT_FAILURE;
	}
	r->cli = &c;
	r->out.fd = -1;
	r->target.pagemap_fd = r->target.mem_fd = -1;
	if (c.cmd != NULL) {
		child = spawn(&c);
		if (child < 0) {
			free(r);
			return RDUMP_EXIT_FAILURE;
		}
		c.pid = child;
	} else if (c.delay > 0) {
		sleep_seconds(c.delay);
	}
	rdump_remote_stop_init(&r->stop, c.pid);
	g_run = r;
	install_handlers();
	status = run_dump(r);
	g_run = NULL;
	rdump_remote_stop_free(&r->stop);
	rdump_snapshot_free(&r->snap, &r->target);
	rdump_target_close(&r->target);
	free(r);
	if (child > 0) {
		wait_child(child);
	}
	return status;
}
