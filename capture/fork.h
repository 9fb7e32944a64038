/*
 * Fork snapshots: the process forks a writer that dumps the copy-on-write
 * image of the moment of the fork (every thread's memory at one instant)
 * while the caller carries on. A double fork leaves no zombie to the caller
 * (a caller that adopts its orphans keeps the writer as a child it reaps)
 * and neither child sends it SIGCHLD. The writer uses only async-signal-safe
 * calls (raw syscalls, mmap'd memory) since another thread may have held a
 * libc lock at the fork, and ends with _exit.
 */
#ifndef RDUMP_FORK_H
#define RDUMP_FORK_H

#include "dump.h"

/* The stack of the first child, which the writer runs on a copy of: room for the whole dump path. */
#define RDUMP_FORK_STACK ((size_t) 1 << 20)

/*
 * Dumps this process to path from a forked writer. What can be checked
 * before the fork is checked here and reported through e: the path (a
 * symlink, a directory), its directory (missing, not writable), the stale
 * marker, the fork itself. The writer creates the temporary file and
 * publishes the dump atomically (rename), then "<path>.done" when marker is
 * set; on failure it removes its temporary file and writes one line naming
 * the path and the reason to stderr.
 * o->php must point to addresses valid in this process; o->copy is ignored
 * (the writer reads its own image directly).
 */
int rdump_fork_dump(const rdump_dump_opts *o, const char *path, int marker, rdump_error *e);

/*
 * Reaps, without waiting, the writers that have ended among those this
 * process had to keep as its own children (it is the init of its PID
 * namespace or a subreaper, so a double fork would bring them back).
 * rdump_fork_dump() calls it first; the extension calls it at the end of
 * every request. Cheap when there is nothing to reap.
 */
void rdump_fork_reap(void);

/*
 * For the end of the process. PID 1 of a PID namespace waits here until its
 * writers have finished: when it exits, the kernel kills every process left
 * in the namespace, and the dump with them (an async OOM dump of PHP as a
 * container's entrypoint would never be written). Anywhere else the writers
 * outlive the caller, and this only reaps those that have ended. It also
 * frees the stack rdump_fork_dump() keeps for its first child.
 */
void rdump_fork_finish(void);

#endif
