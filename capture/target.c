/*
 * Access to the dumped process through /proc and process_vm_readv; see
 * target.h. Runs on the dump path: mmap'd memory only, raw syscalls.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include "target.h"

static void proc_path(char *buf, size_t size, pid_t pid, const char *leaf)
{
	/* "/proc/" + pid + "/" + leaf without snprintf: this runs in forked writers. */
	char digits[24];
	size_t n = 0, i, pos = 0;
	unsigned long v = (unsigned long) pid;

	do {
		digits[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(digits));
	for (i = 0; "/proc/"[i] && pos + 1 < size; i++) {
		buf[pos++] = "/proc/"[i];
	}
	while (n > 0 && pos + 1 < size) {
		buf[pos++] = digits[--n];
	}
	if (pos + 1 < size) {
		buf[pos++] = '/';
	}
	for (i = 0; leaf[i] && pos + 1 < size; i++) {
		buf[pos++] = leaf[i];
	}
	buf[pos] = '\0';
}

static int open_proc(pid_t pid, const char *leaf)
{
	char path[64];
	int fd;

	proc_path(path, sizeof(path), pid, leaf);
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	return fd;
}

int rdump_target_open(rdump_target *t, pid_t pid, int self, rdump_error *e)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->self = self;
	t->mem_fd = -1;
	rdump_vec_init(&t->map, sizeof(rdump_map_entry));
	t->pagemap_fd = open_proc(pid, "pagemap");
	if (t->pagemap_fd < 0 && errno == ENOENT) {
		return RDUMP_FAIL(e, "no such process", ESRCH);
	}
	t->pm_buf = rdump_mem_alloc(RDUMP_PM_BATCH * sizeof(uint64_t));
	t->mc_buf = rdump_mem_alloc(RDUMP_PM_BATCH);
	if (t->pm_buf == NULL || t->mc_buf == NULL) {
		rdump_target_close(t);
		return RDUMP_FAIL(e, "cannot allocate scratch memory", ENOMEM);
	}
	return 0;
}

void rdump_target_close(rdump_target *t)
{
	if (t->pagemap_fd >= 0) {
		close(t->pagemap_fd);
	}
	if (t->mem_fd >= 0) {
		close(t->mem_fd);
	}
	t->pagemap_fd = t->mem_fd = -1;
	rdump_mem_free(t->maps_text, t->maps_cap);
	rdump_mem_free(t->pm_buf, RDUMP_PM_BATCH * sizeof(uint64_t));
	rdump_mem_free(t->mc_buf, RDUMP_PM_BATCH);
	t->maps_text = NULL;
	t->pm_buf = NULL;
	t->mc_buf = NULL;
	rdump_vec_free(&t->map);
}

static int hex_field(const char **pp, const char *end, char stop, uint64_t *out, rdump_str *s)
{
	const char *p = *pp;
	uint64_t v = 0;
	int digits = 0;

	s->ptr = p;
	while (p < end && *p != stop) {
		int d;

		if (*p >= '0' && *p <= '9') {
			d = *p - '0';
		} else if (*p >= 'a' && *p <= 'f') {
			d = *p - 'a' + 10;
		} else if (*p >= 'A' && *p <= 'F') {
			d = *p - 'A' + 10;
		} else {
			return -1;
		}
		v = (v << 4) | (uint64_t) d;
		digits++;
		p++;
	}
	if (p >= end || digits == 0 || digits > 16) {
		return -1;
	}
	s->len = (uint32_t) (p - s->ptr);
	*out = v;
	*pp = p + 1;
	return 0;
}

static int parse_line(const char *p, const char *end, rdump_map_entry *m)
{
	const char *q;

	if (hex_field(&p, end, '-', &m->begin, &m->begin_s) < 0
		|| hex_field(&p, end, ' ', &m->end, &m->end_s) < 0) {
		return -1;
	}
	if (end - p < 5 || p[4] != ' ') {
		return -1;
	}
	m->r = p[0] == 'r';
	m->w = p[1] == 'w';
	m->x = p[2] == 'x';
	m->p = p[3] == 'p';
	p += 5;
	if (hex_field(&p, end, ' ', &m->offset, &m->offset_s) < 0) {
		return -1;
	}
	m->dev_s.ptr = p;
	while (p < end && *p != ' ') {
		p++;
	}
	m->dev_s.len = (uint32_t) (p - m->dev_s.ptr);
	if (p >= end) {
		return -1;
	}
	p++;
	m->inode = 0;
	q = p;
	while (p < end && *p >= '0' && *p <= '9') {
		m->inode = m->inode * 10 + (uint64_t) (*p - '0');
		p++;
	}
	if (p == q) {
		return -1;
	}
	while (p < end && *p == ' ') {
		p++;
	}
	m->name_s.ptr = p;
	m->name_s.len = (uint32_t) (end - p);
	return 0;
}

int rdump_parse_maps(char *text, size_t len, rdump_vec *out)
{
	char *p = text, *end = text + len;

	out->count = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t) (end - p));
		char *line_end = nl ? nl : end;
		rdump_map_entry *m;

		if (line_end > p) {
			m = rdump_vec_push(out);
			if (m == NULL) {
				return -1;
			}
			if (parse_line(p, line_end, m) < 0) {
				out->count--;
				errno = EINVAL;
				return -1;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int rdump_target_read_maps(rdump_target *t, rdump_error *e)
{
	int fd = open_proc(t->pid, "maps");

	if (fd < 0) {
		return RDUMP_FAIL(e, "cannot open /proc/<pid>/maps", errno);
	}
	if (t->maps_text == NULL) {
		/* Reserved generously up front: growing it while reading would change the map being read. */
		t->maps_cap = 4 << 20;
		t->maps_text = rdump_mem_alloc(t->maps_cap);
		if (t->maps_text == NULL) {
			close(fd);
			return RDUMP_FAIL(e, "cannot allocate the memory map buffer", ENOMEM);
		}
	}
	t->maps_len = 0;
	for (;;) {
		ssize_t n;

		if (t->maps_len == t->maps_cap) {
			char *grown = rdump_mem_grow(t->maps_text, t->maps_cap, t->maps_cap * 2);

			if (grown == NULL) {
				close(fd);
				return RDUMP_FAIL(e, "cannot grow the memory map buffer", ENOMEM);
			}
			t->maps_text = grown;
			t->maps_cap *= 2;
		}
		n = read(fd, t->maps_text + t->maps_len, t->maps_cap - t->maps_len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int err = errno;

			close(fd);
			return RDUMP_FAIL(e, "cannot read /proc/<pid>/maps", err);
		}
		if (n == 0) {
			break;
		}
		t->maps_len += (size_t) n;
	}
	close(fd);
	if (rdump_parse_maps(t->maps_text, t->maps_len, &t->map) < 0) {
		return RDUMP_FAIL(e, "cannot parse /proc/<pid>/maps", t->map.failed ? ENOMEM : EINVAL);
	}
	return 0;
}

int rdump_target_read(rdump_target *t, uint64_t addr, void *buf, size_t n)
{
	if (n == 0) {
		return 0;
	}
	if (t->read_hook != NULL) {
		int r = t->read_hook(t->read_hook_ctx, addr, buf, n);

		if (r <= 0) {
			return r;
		}
	}
	if (!t->use_mem_fd) {
		struct iovec local = { buf, n };
		struct iovec remote = { (void *) (uintptr_t) addr, n };
		ssize_t got = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);

		if (got == (ssize_t) n) {
			return 0;
		}
		if (got >= 0 || (errno != ENOSYS && errno != EPERM)) {
			return -1;
		}
		/* Some seccomp profiles refuse process_vm_readv; /proc/<pid>/mem is the same check. */
		t->use_mem_fd = 1;
	}
	if (t->mem_fd < 0) {
		t->mem_fd = open_proc(t->pid, "mem");
		if (t->mem_fd < 0) {
			return -1;
		}
	}
	while (n > 0) {
		ssize_t got = pread(t->mem_fd, buf, n, (off_t) addr);

		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			return -1;
		}
		buf = (char *) buf + got;
		addr += (uint64_t) got;
		n -= (size_t) got;
	}
	return 0;
}

size_t rdump_append_hex(char *buf, size_t pos, size_t size, uint64_t v)
{
	char digits[17];
	size_t n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n > 0 && pos + 1 < size) {
		buf[pos++] = digits[--n];
	}
	buf[pos] = '\0';
	return pos;
}

/*
 * Marks the pages of a shared mapping of another process whose backing
 * object (shmem, tmpfs) holds data, resident or swapped, with SEEK_DATA /
 * SEEK_HOLE on /proc/<pid>/map_files (root or CAP_SYS_ADMIN). Leaves out
 * untouched on failure.
 */
static void shared_data_pages(rdump_target *t, const rdump_map_entry *m,
	uint64_t start, size_t npages, unsigned char *out)
{
	char path[96];
	size_t ps = rdump_page_size(), pos;
	off_t base = (off_t) (m->offset + (start - m->begin)), end = base + (off_t) (npages * ps), at = base;
	int fd;

	proc_path(path, sizeof(path), t->pid, "map_files/");
	pos = rdump_append_hex(path, strlen(path), sizeof(path), m->begin);
	if (pos + 1 < sizeof(path)) {
		path[pos++] = '-';
	}
	rdump_append_hex(path, pos, sizeof(path), m->end);
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		return;
	}
	while (at < end) {
		off_t d = lseek(fd, at, SEEK_DATA), h, k;

		if (d < 0 || d >= end) {
			break;   /* ENXIO: no data after at */
		}
		h = lseek(fd, d, SEEK_HOLE);
		/* A file system without SEEK_HOLE support answers nonsense: trust nothing then. */
		if (d < at || h <= d) {
			break;
		}
		for (k = d - (d - base) % (off_t) ps; k < h && k < end; k += (off_t) ps) {
			out[(k - base) / (off_t) ps] = 1;
		}
		at = h;
	}
	close(fd);
}

int rdump_target_residency(rdump_target *t, const rdump_map_entry *m,
	uint64_t start, size_t npages, unsigned char *out)
{
	size_t ps = rdump_page_size(), i, done = 0;

	if (npages > RDUMP_PM_BATCH) {
		errno = EINVAL;
		return -1;
	}
	if (t->pagemap_fd < 0) {
		memset(out, 1, npages);
		return 0;
	}
	while (done < npages * sizeof(uint64_t)) {
		ssize_t n = pread(t->pagemap_fd, (char *) t->pm_buf + done,
			npages * sizeof(uint64_t) - done,
			(off_t) ((start / ps) * sizeof(uint64_t) + done));

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			/* Unknown residency must not lose data: keep the pages. */
			memset(out, 1, npages);
			return 0;
		}
		done += (size_t) n;
	}
	for (i = 0; i < npages; i++) {
		out[i] = (t->pm_buf[i] >> 62) != 0;
	}
	/*
	 * A shared page written by another process (an FPM sibling filling
	 * opcache) is in the page cache but not in this process's page tables:
	 * pagemap says absent, mincore says resident.
	 */
	if (!m->p && t->self) {
		if (mincore((void *) (uintptr_t) start, npages * ps, t->mc_buf) == 0) {
			for (i = 0; i < npages; i++) {
				out[i] |= t->mc_buf[i] & 1;
			}
		} else {
			memset(out, 1, npages);
		}
	} else if (!m->p) {
		/*
		 * Another process's shared memory: reading a hole of it would
		 * allocate the page in the target (a whole opcache segment per
		 * dump), so ask the shared object which pages hold data. Without
		 * access to map_files, keep what the target itself has mapped.
		 */
		shared_data_pages(t, m, start, npages, out);
	}
	return 0;
}

ssize_t rdump_read_small(const char *path, char *buf, size_t size)
{
	int fd;
	ssize_t n, total = 0;

	do {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		return -1;
	}
	while ((size_t) total + 1 < size) {
		n = read(fd, buf + total, size - 1 - (size_t) total);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int err = errno;

			close(fd);
			errno = err;
			return -1;
		}
		if (n == 0) {
			break;
		}
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

int64_t rdump_proc_rss(pid_t pid)
{
	char buf[128];
	ssize_t n;
	int fd = open_proc(pid, "statm");
	uint64_t v = 0;
	char *p;

	if (fd < 0) {
		return -1;
	}
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0) {
		return -1;
	}
	buf[n] = '\0';
	p = buf;
	while (*p && *p != ' ') {
		p++;
	}
	if (*p != ' ') {
		return -1;
	}
	p++;
	if (*p < '0' || *p > '9') {
		return -1;
	}
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t) (*p - '0');
		p++;
	}
	return (int64_t) (v * rdump_page_size());
}

int rdump_str_eq(rdump_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

int rdump_str_starts(rdump_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len >= n && memcmp(s.ptr, lit, n) == 0;
}

rdump_map_kind rdump_map_classify(const rdump_map_entry *m)
{
	rdump_str n = m->name_s;

	if (rdump_str_eq(n, "[vvar]") || rdump_str_eq(n, "[vdso]") || rdump_str_eq(n, "[vsyscall]")
		|| rdump_str_eq(n, "[vvar_vclock]")) {
		return RDUMP_MAP_SPECIAL;
	}
	if (n.len == 0 || rdump_str_starts(n, "[anon")) {
		return m->p ? RDUMP_MAP_ANON : RDUMP_MAP_SHM;
	}
	if (rdump_str_eq(n, "[heap]")) {
		return RDUMP_MAP_HEAP;
	}
	if (rdump_str_starts(n, "[stack")) {
		return RDUMP_MAP_STACK;
	}
	if (rdump_str_starts(n, "/dev/zero") || rdump_str_starts(n, "/SYSV")
		|| rdump_str_starts(n, "/memfd:") || rdump_str_starts(n, "memfd:")
		|| rdump_str_starts(n, "/anon_hugepage") || rdump_str_starts(n, "[anon_shmem")) {
		return RDUMP_MAP_SHM;
	}
	if (n.ptr[0] == '[') {
		/* Other kernel-named mappings ([uprobes], ...) are not process data. */
		return RDUMP_MAP_SPECIAL;
	}
	if (rdump_str_starts(n, "/dev/") && !rdump_str_starts(n, "/dev/shm/")) {
		/* Device memory may have side effects on read; it is never PHP data. */
		return RDUMP_MAP_SPECIAL;
	}
	return m->w ? RDUMP_MAP_FILE_RW : RDUMP_MAP_FILE_RO;
}
