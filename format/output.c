/*
 * Safe creation and atomic publication of dump files; see output.h.
 * Async-signal-safe: used by forked writers too.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "output.h"

/* Not ending in .rdump, so quota scans and globs skip unfinished dumps. */
#define RDUMP_TMP_PREFIX ".rdump-tmp."
#define RDUMP_SWEEP_READS 128

static size_t append(char *buf, size_t pos, size_t size, const char *s)
{
	while (*s && pos + 1 < size) {
		buf[pos++] = *s++;
	}
	buf[pos] = '\0';
	return pos;
}

size_t rdump_append_dec(char *buf, size_t pos, size_t size, uint64_t v)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0 && pos + 1 < size) {
		buf[pos++] = digits[--n];
	}
	buf[pos] = '\0';
	return pos;
}

int rdump_output_check_path(const char *path, rdump_error *e)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT) {
			return 0;
		}
		return RDUMP_FAIL(e, "cannot examine the path", errno);
	}
	if (S_ISLNK(st.st_mode)) {
		return RDUMP_FAIL(e, "it is a symbolic link; refusing to write through it", EEXIST);
	}
	if (S_ISDIR(st.st_mode)) {
		return RDUMP_FAIL(e, "it is a directory", EISDIR);
	}
	if (!S_ISREG(st.st_mode)) {
		return RDUMP_FAIL(e, "it is not a regular file (device, FIFO or socket)", EEXIST);
	}
	return 0;
}

/* Why a file cannot be made in the directory of a path, as the user can act on it. */
static int dir_failure(rdump_error *e, int err, const char *otherwise)
{
	if (err == ENOENT) {
		return RDUMP_FAIL(e, "the directory does not exist", err);
	}
	if (err == EACCES || err == EPERM) {
		return RDUMP_FAIL(e, "cannot create a file in the directory", err);
	}
	if (err == EROFS) {
		return RDUMP_FAIL(e, "the directory is on a read-only file system", err);
	}
	return RDUMP_FAIL(e, otherwise, err);
}

/* The directory part of path ("." for none, "/" for the root) into dir; -1 if it does not fit. */
static int dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash == NULL ? 0 : (slash == path ? 1 : (size_t) (slash - path));

	if (len >= size) {
		return -1;
	}
	if (slash == NULL) {
		dir[0] = '.';
		len = 1;
	} else {
		memcpy(dir, path, len);
	}
	dir[len] = '\0';
	return 0;
}

int rdump_output_check_dir(const char *path, rdump_error *e)
{
	char dir[PATH_MAX];
	struct stat st;

	if (dir_of(path, dir, sizeof(dir)) < 0) {
		return RDUMP_FAIL(e, "the path is too long", ENAMETOOLONG);
	}
	if (stat(dir, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			return RDUMP_FAIL(e, "the directory does not exist", ENOENT);
		}
		return RDUMP_FAIL(e, "cannot examine the directory", errno);
	}
	if (!S_ISDIR(st.st_mode)) {
		return RDUMP_FAIL(e, "the directory does not exist", ENOTDIR);
	}
	/* The effective ids decide, as for the open() that will create the file. */
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		return dir_failure(e, errno, "cannot examine the directory");
	}
	return 0;
}

/*
 * The last part of a temporary name: the monotonic clock in ns, distinct
 * for each dump of one thread. Not a static counter: after an async dump's
 * fork, the caller's first write to that page would be a copy-on-write
 * fault (0.02-0.08 ms on a VM) inside its next call.
 */
static uint64_t tmp_name_tick(int attempt)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		return (uint64_t) attempt;
	}
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* What rdump_output_open() refuses before it creates anything. */
static int check_name(const char *path, size_t len, rdump_error *e)
{
	if (len == 0) {
		return RDUMP_FAIL(e, "the path is empty", ENOENT);
	}
	/* Room for the temporary name beside it, too. */
	if (len + 64 >= PATH_MAX) {
		return RDUMP_FAIL(e, "the path is too long", ENAMETOOLONG);
	}
	if (path[len - 1] == '/') {
		return RDUMP_FAIL(e, "the path names a directory", EISDIR);
	}
	return rdump_output_check_path(path, e);
}

int rdump_output_check_new(const char *path, rdump_error *e)
{
	if (check_name(path, strlen(path), e) < 0) {
		return -1;
	}
	return rdump_output_check_dir(path, e);
}

int rdump_output_open(rdump_output *o, const char *path, rdump_error *e)
{
	size_t len = strlen(path), dir_len, pos;
	const char *slash;
	int attempt;

	o->fd = -1;
	o->to_stdout = 0;
	o->path[0] = o->tmp_path[0] = '\0';
	if (check_name(path, len, e) < 0) {
		return -1;
	}
	memcpy(o->path, path, len + 1);
	slash = strrchr(path, '/');
	dir_len = slash ? (size_t) (slash - path) + 1 : 0;
	for (attempt = 0; attempt < 100; attempt++) {
		memcpy(o->tmp_path, path, dir_len);
		o->tmp_path[dir_len] = '\0';
		pos = append(o->tmp_path, dir_len, sizeof(o->tmp_path), RDUMP_TMP_PREFIX);
		pos = rdump_append_dec(o->tmp_path, pos, sizeof(o->tmp_path), (uint64_t) getpid());
		pos = append(o->tmp_path, pos, sizeof(o->tmp_path), ".");
		pos = rdump_append_dec(o->tmp_path, pos, sizeof(o->tmp_path), (uint64_t) syscall(SYS_gettid));
		pos = append(o->tmp_path, pos, sizeof(o->tmp_path), ".");
		rdump_append_dec(o->tmp_path, pos, sizeof(o->tmp_path), tmp_name_tick(attempt));
		o->fd = open(o->tmp_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (o->fd >= 0) {
			/*
			 * Held for the file's life by whoever holds the descriptor:
			 * rdump_output_sweep() removes only files nobody holds. On a
			 * new file only a sweep's instant check can make this wait.
			 */
			if (flock(o->fd, LOCK_EX) < 0) {
				/* No locks here (ENOLCK): the sweep's age limit still keeps a file being written. */
			}
			return 0;
		}
		if (errno != EEXIST && errno != EINTR) {
			o->tmp_path[0] = '\0';
			return dir_failure(e, errno, "cannot create the file");
		}
	}
	o->tmp_path[0] = '\0';
	return RDUMP_FAIL(e, "cannot find a free temporary name", EEXIST);
}

void rdump_output_use_fd(rdump_output *o, int fd)
{
	o->fd = fd;
	o->to_stdout = 1;
	o->path[0] = o->tmp_path[0] = '\0';
}

int rdump_output_commit(rdump_output *o, rdump_error *e)
{
	if (o->to_stdout) {
		o->fd = -1;
		return 0;
	}
	if (close(o->fd) < 0) {
		int err = errno;

		o->fd = -1;
		rdump_output_abort(o);
		return RDUMP_FAIL(e, "cannot close the file", err);
	}
	o->fd = -1;
	/* Something may have appeared at the path while we wrote. */
	if (rdump_output_check_path(o->path, e) < 0) {
		rdump_output_abort(o);
		return -1;
	}
	if (rename(o->tmp_path, o->path) < 0) {
		int err = errno;

		rdump_output_abort(o);
		return RDUMP_FAIL(e, "cannot rename the finished dump into place", err);
	}
	o->tmp_path[0] = '\0';
	rdump_output_sweep(o->path);
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Removes name in dir if it is a leftover temporary file; see output.h. */
static void sweep_one(int dir, const char *name, time_t now)
{
	struct stat st, opened, again;
	int fd;

	/* Decided before any open: opening a device or a FIFO can have effects of its own. */
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)
			|| st.st_uid != geteuid() || now - st.st_mtime < RDUMP_STALE_TMP_SECONDS) {
		return;
	}
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		return;
	}
	if (fstat(fd, &opened) == 0 && same_file(&opened, &st)
			&& flock(fd, LOCK_EX | LOCK_NB) == 0
			/* Still the same file under that name. */
			&& fstatat(dir, name, &again, AT_SYMLINK_NOFOLLOW) == 0 && same_file(&again, &st)) {
		unlinkat(dir, name, 0); /* ENOENT: another sweep took it first */
	}
	close(fd);
}

void rdump_output_sweep(const char *path)
{
	char dir_path[PATH_MAX], buf[4096];
	struct timespec now;
	long n;
	int dir, reads = 0;

	if (dir_of(path, dir_path, sizeof(dir_path)) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0) {
		return;
	}
	dir = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		return;
	}
	/*
	 * getdents64, not readdir: no allocation, for the forked writer. At most
	 * RDUMP_SWEEP_READS reads of 4 KiB (some 15,000 names), so a dump into a
	 * crowded /tmp does not pay for the whole directory.
	 */
	while (reads++ < RDUMP_SWEEP_READS && (n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			/* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (reclen == 0) {
				break;
			}
			if (strncmp(name, RDUMP_TMP_PREFIX, sizeof(RDUMP_TMP_PREFIX) - 1) == 0) {
				sweep_one(dir, name, now.tv_sec);
			}
			off += reclen;
		}
	}
	close(dir);
}

void rdump_output_abort(rdump_output *o)
{
	if (o->fd >= 0 && !o->to_stdout) {
		close(o->fd);
	}
	o->fd = -1;
	if (o->tmp_path[0]) {
		unlink(o->tmp_path);
		o->tmp_path[0] = '\0';
	}
}
