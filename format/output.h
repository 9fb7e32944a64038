/*
 * Where a dump goes: a temporary file created beside the final path and
 * renamed over it only when the dump is complete, so a reader of the final
 * path sees the old file or the whole new one, never a partial file, and
 * an existing file is replaced by a new inode. Anything at the path that is
 * not a regular file (symlink, directory, device, FIFO) is refused and left
 * alone.
 */
#ifndef RDUMP_OUTPUT_H
#define RDUMP_OUTPUT_H

#include <limits.h>
#include "rdump_format.h"

typedef struct rdump_output {
	int fd;
	int to_stdout;
	char path[PATH_MAX];
	char tmp_path[PATH_MAX];
} rdump_output;

/*
 * Checks the path and creates the temporary file (0600, O_EXCL,
 * O_NOFOLLOW, O_CLOEXEC), named after the process and thread that create it.
 * Open for reading too: rdump-cli maps it to read the target into it.
 */
int rdump_output_open(rdump_output *o, const char *path, rdump_error *e);
/*
 * The checks of rdump_output_open() and rdump_output_check_dir(), creating
 * nothing: for a file another process will create (an async dump's writer).
 */
int rdump_output_check_new(const char *path, rdump_error *e);
/* Output to an already-open descriptor (rdump-cli -o -): no rename. */
void rdump_output_use_fd(rdump_output *o, int fd);
/* Renames the finished file into place; on failure removes it. */
int rdump_output_commit(rdump_output *o, rdump_error *e);
/*
 * Removes the temporary files that dumps killed before they could clean up
 * (SIGKILL, the OOM killer) left in the directory of path: regular files
 * named like ours, owned by this user, unchanged for
 * RDUMP_STALE_TMP_SECONDS, and locked by nobody (every dump holds a lock on
 * its file while it writes). rdump_output_commit() calls it after each
 * complete dump. Async-signal-safe; errors only leave a file in place.
 */
#define RDUMP_STALE_TMP_SECONDS 60
void rdump_output_sweep(const char *path);
/* Closes and removes the temporary file. Safe after commit or on a closed output. */
void rdump_output_abort(rdump_output *o);
/* Appends v in decimal at buf[pos], truncating at size (always terminated); returns the new end. No locale, no allocation. */
size_t rdump_append_dec(char *buf, size_t pos, size_t size, uint64_t v);
/* Checks what is at path now: 0 if nothing or a regular file. */
int rdump_output_check_path(const char *path, rdump_error *e);
/*
 * Checks that the directory path would be created in exists and that this
 * process may create files there: for paths given now and written later
 * (the OOM dump), so that a typo is reported while it can still be fixed.
 */
int rdump_output_check_dir(const char *path, rdump_error *e);

#endif
