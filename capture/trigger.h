/*
 * The decisions behind automatic dumps (OOM and signal triggers), as plain
 * functions the extension calls and the C tests check: path templates, the
 * size syntax of rdump.oom_dump_max_total, the byte budget of a dump
 * directory, the per-process rate limit, signal names and the completion
 * marker. Nothing here calls PHP or allocates from the heap: it runs while
 * ZendMM is exhausted, and the marker functions in forked writers too.
 */
#ifndef RDUMP_TRIGGER_H
#define RDUMP_TRIGGER_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include "../format/rdump_format.h"

/*
 * Expands a path template into out: %p pid, %i thread id, %t Unix time,
 * %% a literal %, any other %x (and a trailing %) kept as written.
 * Returns the length, or -1 when the result does not fit in out_size
 * (terminating NUL included): the caller skips the dump rather than use a
 * truncated path that other workers would share.
 */
int rdump_template_expand(const char *tmpl, uint64_t pid, uint64_t tid, int64_t now,
	char *out, size_t out_size);

/*
 * Parses a byte size: digits, an optional fraction (".5"), an optional
 * suffix K, M, G or T (either case, powers of 1024), spaces around allowed.
 * The same in every locale ("1,5G" is an error). Returns 0 or -1 with *why
 * set to a static description.
 */
int rdump_size_parse(const char *s, uint64_t *out, const char **why);

/*
 * Sums the sizes of the regular files named *.rdump in the directory of
 * path, leaving out path itself (the file a new dump would replace).
 * Symlinks, directories and temporary files of unfinished dumps are not
 * counted.
 */
int rdump_dir_dump_bytes(const char *path, uint64_t *total, rdump_error *e);

/* Whether existing + incoming stays within budget (0 = no budget). */
int rdump_budget_allows(uint64_t budget, uint64_t existing, uint64_t incoming);

/* Per-process limits on automatic dumps; shared by every thread. */
typedef struct rdump_gate {
	int lock;
	uint64_t attempts;
	int64_t last;      /* monotonic seconds of the last attempt */
} rdump_gate;

typedef enum rdump_gate_verdict {
	RDUMP_GATE_GO = 0,
	RDUMP_GATE_MAX,       /* max attempts reached */
	RDUMP_GATE_INTERVAL   /* too soon after the last attempt */
} rdump_gate_verdict;

/*
 * Whether one more attempt may start at now (monotonic seconds); when it
 * may, counts it. max 0 = unlimited, min_interval 0 = no spacing.
 */
rdump_gate_verdict rdump_gate_enter(rdump_gate *g, int64_t max, int64_t min_interval, int64_t now);

/*
 * A signal by name ("SIGUSR2", "USR2", "SIGRTMIN+1") or number. Signals that
 * cannot be caught, report faults, or that PHP itself relies on (SIGPROF
 * for timeouts, SIGCHLD) are refused. Returns 0 or -1 with *why set.
 */
int rdump_signal_parse(const char *s, int *signo, const char **why);

/*
 * The completion marker "<path>.done". rdump_marker_clear removes a stale
 * one before a dump starts (a missing one is fine); rdump_marker_write
 * creates the empty file once the dump is in place. Both are
 * async-signal-safe.
 */
int rdump_marker_path(const char *path, char *out, size_t out_size);
int rdump_marker_clear(const char *path, rdump_error *e);
int rdump_marker_write(const char *path, rdump_error *e);

#endif
