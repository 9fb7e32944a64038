/*
 * Unit tests of the RDUMP writer (format/writer.c) and the capture plan
 * (capture/dump.c, capture/target.c, capture/mem.c): what is written reads
 * back byte for byte, vanished pages become zeros, a dropped region patches
 * the count, zero blocks become holes, residency filtering keeps only
 * touched pages, and touching ranges form one region; the temporary file
 * of a dump is locked while it is written, and what a killed dump left is
 * removed by the next complete one, and nothing else; checking a path
 * (an async dump's caller) creates nothing. The header's size is known
 * before it is written, and a prefilled file (rdump-cli's copy read into
 * the output's own pages) ends up as the same dump: bytes in place kept,
 * zeros punched out over stale blocks, the length cut to the stream.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "rdump_test.h"
#include "../../format/writer.h"
#include "../../format/reader.h"
#include "../../format/output.h"
#include "../../capture/dump.h"

static char dir[] = "/tmp/rdump-test-writer-XXXXXX";
static size_t ps;

static char *path_in(const char *name)
{
	return rdump_test_path_in(dir, name);
}

static void header_for(rdump_header *h, uint32_t regions)
{
	memset(h, 0, sizeof(*h));
	h->php_version = "v82";
	h->pid = 42;
	h->eg_address = 0x1000;
	h->cg_address = 0x2000;
	h->rss_bytes = -1;
	h->region_count = regions;
}

static int open_reader(rdump_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	return rdump_reader_open(r, path);
}

static void test_roundtrip_and_vanished_page(void)
{
	rdump_writer *w = calloc(1, sizeof(*w));
	rdump_header h;
	rdump_reader r;
	unsigned char *mem = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char got[3 * 4096];
	const char *path = path_in("roundtrip.rdump");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t i;

	memset(mem, 0xab, 3 * ps);
	/* The middle page disappears: the writer must write zeros for it and go on. */
	munmap(mem + ps, ps);
	rdump_writer_init(w, fd);
	header_for(&h, 1);
	RDUMP_CHECK(rdump_writer_header(w, &h) == 0, "header");
	RDUMP_CHECK(rdump_writer_region_begin(w, (uint64_t) (uintptr_t) mem, 3 * ps) == 0, "region");
	RDUMP_CHECK(rdump_writer_mem(w, (uint64_t) (uintptr_t) mem, 3 * ps) == 0, "mem write err=%d", w->err);
	RDUMP_CHECK(rdump_writer_finish(w) == 0, "finish");
	RDUMP_CHECK(w->zero_pages == 1, "one page written as zeros, got %llu", (unsigned long long) w->zero_pages);
	close(fd);
	RDUMP_CHECK(open_reader(&r, path) == RDUMP_ROK, "reader: %s", r.message);
	RDUMP_CHECK(r.region_count == 1 && r.regions[0].size == 3 * ps, "one region of 3 pages");
	RDUMP_CHECK(rdump_reader_read(&r, (uint64_t) (uintptr_t) mem, got, 3 * ps) == RDUMP_MEM_REGION, "read back");
	for (i = 0; i < 3 * ps; i++) {
		unsigned char want = (i >= ps && i < 2 * ps) ? 0 : 0xab;

		if (got[i] != want) {
			break;
		}
	}
	RDUMP_CHECK(i == 3 * ps, "bytes differ at %zu", i);
	RDUMP_CHECK(r.pid == 42 && r.eg_address == 0x1000 && r.cg_address == 0x2000, "header fields");
	rdump_reader_close(&r);
	munmap(mem, 3 * ps);
	free(w);
}

static void test_dropped_region_patches_count(void)
{
	rdump_writer *w = calloc(1, sizeof(*w));
	rdump_header h;
	rdump_reader r;
	const char *path = path_in("patched.rdump");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char data[64];

	memset(data, 7, sizeof(data));
	rdump_writer_init(w, fd);
	header_for(&h, 3);
	rdump_writer_header(w, &h);
	rdump_writer_region_begin(w, 0x10000, sizeof(data));
	rdump_writer_bytes(w, data, sizeof(data));
	rdump_writer_region_begin(w, 0x20000, sizeof(data));
	rdump_writer_bytes(w, data, sizeof(data));
	RDUMP_CHECK(rdump_writer_finish(w) == 0, "finish with a dropped region");
	close(fd);
	RDUMP_CHECK(open_reader(&r, path) == RDUMP_ROK, "patched file is valid: %s", r.message);
	RDUMP_CHECK(r.region_count == 2, "count patched to 2, got %u", r.region_count);
	rdump_reader_close(&r);
	free(w);
}

static void test_sparse_buffers_and_pipes(void)
{
	rdump_writer *w = calloc(1, sizeof(*w));
	rdump_header h;
	rdump_reader r;
	const char *path = path_in("sparse.rdump");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = 64 << 20;
	unsigned char *buf = calloc(1, len);
	unsigned char probe[16];
	struct stat st;
	int pfd[2];
	ssize_t total = 0, n;
	char sink[65536];

	buf[0] = 1;
	buf[len - 1] = 2;
	rdump_writer_init(w, fd);
	header_for(&h, 2);
	rdump_writer_header(w, &h);
	rdump_writer_region_begin(w, 0x100000, len);
	RDUMP_CHECK(rdump_writer_bytes(w, buf, len) == 0, "bytes");
	rdump_writer_region_begin(w, 0x100000 + len + 4096, 4096);
	RDUMP_CHECK(rdump_writer_zeros(w, 4096) == 0, "zeros");
	RDUMP_CHECK(rdump_writer_finish(w) == 0, "finish");
	close(fd);
	stat(path, &st);
	RDUMP_CHECK((uint64_t) st.st_size > len, "apparent size covers the region");
	RDUMP_CHECK((uint64_t) st.st_blocks * 512 < len / 8, "zero blocks are holes: %lld bytes on disk",
		(long long) st.st_blocks * 512);
	RDUMP_CHECK(open_reader(&r, path) == RDUMP_ROK, "sparse file valid: %s", r.message);
	rdump_reader_read(&r, 0x100000 + len - 8, probe, 8);
	RDUMP_CHECK(probe[7] == 2 && probe[0] == 0, "last byte survives the holes");
	rdump_reader_read(&r, 0x100000 + len + 4096, probe, 16);
	RDUMP_CHECK(probe[0] == 0 && probe[15] == 0, "trailing zero region reads as zeros");
	rdump_reader_close(&r);

	/* A pipe cannot seek: zeros are written as bytes, and the stream is complete. */
	RDUMP_CHECK(pipe(pfd) == 0, "pipe");
	if (fork() == 0) {
		close(pfd[0]);
		rdump_writer_init(w, pfd[1]);
		header_for(&h, 1);
		rdump_writer_header(w, &h);
		rdump_writer_region_begin(w, 0x100000, 1 << 20);
		rdump_writer_zeros(w, 1 << 20);
		_exit(rdump_writer_finish(w) == 0 && !w->seekable ? 0 : 1);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], sink, sizeof(sink))) > 0) {
		total += n;
	}
	close(pfd[0]);
	RDUMP_CHECK(total > (1 << 20), "pipe got the whole region as bytes (%zd)", total);
	free(buf);
	free(w);
}

static void test_maps_parse_and_ranges(void)
{
	char text[] =
		"55d0c2a00000-55d0c2a21000 rw-p 00000000 00:00 0                          [heap]\n"
		"7f0000000000-7f0000001000 r--p 00001000 fd:01 1234                       /usr/lib/x y.so\n"
		"7f0000002000-7f0008002000 rw-s 00000000 00:01 5                          /dev/zero (deleted)\n";
	rdump_vec maps, ranges;
	rdump_map_entry *m;
	rdump_range *rv;

	rdump_vec_init(&maps, sizeof(rdump_map_entry));
	RDUMP_CHECK(rdump_parse_maps(text, strlen(text), &maps) == 0 && maps.count == 3, "three lines");
	m = maps.items;
	RDUMP_CHECK(m[0].begin == 0x55d0c2a00000ULL && m[0].end == 0x55d0c2a21000ULL && m[0].w && m[0].p, "heap line");
	RDUMP_CHECK(rdump_map_classify(&m[0]) == RDUMP_MAP_HEAP, "heap kind");
	RDUMP_CHECK(rdump_str_eq(m[1].name_s, "/usr/lib/x y.so") && m[1].inode == 1234 && m[1].offset == 0x1000,
		"names with spaces, inode, offset");
	RDUMP_CHECK(rdump_map_classify(&m[1]) == RDUMP_MAP_FILE_RO, "read-only file kind");
	RDUMP_CHECK(rdump_map_classify(&m[2]) == RDUMP_MAP_SHM, "opcache shm kind");
	rdump_vec_free(&maps);

	rdump_vec_init(&ranges, sizeof(rdump_range));
	rdump_ranges_add(&ranges, 300, 400);
	rdump_ranges_add(&ranges, 100, 200);
	rdump_ranges_add(&ranges, 200, 250);
	rdump_ranges_add(&ranges, 350, 500);
	rdump_ranges_normalize(&ranges);
	rv = ranges.items;
	RDUMP_CHECK(ranges.count == 2 && rv[0].start == 100 && rv[0].end == 250 && rv[1].start == 300 && rv[1].end == 500,
		"sorted, overlapping and touching ranges merged");
	rdump_vec_free(&ranges);
}

/* Residency: of a fresh 256-page anonymous mapping, only the touched pages are kept. */
/* This process as a target with its maps read, default options and empty plan vectors. */
static void plan_setup(rdump_target *t, rdump_dump_opts *o, rdump_vec *pieces, rdump_vec *roots)
{
	rdump_error e;

	memset(o, 0, sizeof(*o));
	rdump_vec_init(pieces, sizeof(rdump_piece));
	rdump_vec_init(roots, sizeof(rdump_range));
	RDUMP_CHECK(rdump_target_open(t, getpid(), 1, &e) == 0, "open self");
	RDUMP_CHECK(rdump_target_read_maps(t, &e) == 0, "maps");
}

static void test_residency_plan(void)
{
	size_t npages = 256, i, kept_pages = 0;
	unsigned char *mem = mmap(NULL, npages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rdump_target t;
	rdump_error e;
	rdump_vec pieces, roots;
	rdump_dump_opts o;
	uint32_t regions = 0;
	uint64_t total = 0, lo = (uint64_t) (uintptr_t) mem, hi = lo + npages * ps;
	int contiguous_touched_as_one = 0;

	mem[3 * ps] = 1;
	mem[4 * ps] = 1;  /* pages 3 and 4 touch: one piece */
	mem[100 * ps] = 1;
	plan_setup(&t, &o, &pieces, &roots);
	RDUMP_CHECK(rdump_plan_build(&t, &roots, &o, &pieces, &regions, &total, &e) == 0, "plan");
	for (i = 0; i < pieces.count; i++) {
		rdump_piece *p = &RDUMP_VEC_AT(&pieces, rdump_piece, i);

		if (p->end <= lo || p->start >= hi) {
			continue;
		}
		kept_pages += (p->end - p->start) / ps;
		if (p->start == lo + 3 * ps && p->end == lo + 5 * ps) {
			contiguous_touched_as_one = 1;
		}
	}
	RDUMP_CHECK(kept_pages == 3, "3 touched pages kept of %zu, got %zu", npages, kept_pages);
	RDUMP_CHECK(contiguous_touched_as_one, "touching pages form one piece");

	/* A root over the untouched range keeps it whole, its untouched pages as zeros. */
	rdump_ranges_add(&roots, lo + 10 * ps, lo + 20 * ps);
	RDUMP_CHECK(rdump_plan_build(&t, &roots, &o, &pieces, &regions, &total, &e) == 0, "plan with root");
	kept_pages = 0;
	for (i = 0; i < pieces.count; i++) {
		rdump_piece *p = &RDUMP_VEC_AT(&pieces, rdump_piece, i);

		if (p->start >= lo + 10 * ps && p->end <= lo + 20 * ps && p->zero) {
			kept_pages += (p->end - p->start) / ps;
		}
	}
	RDUMP_CHECK(kept_pages == 10, "root pages kept as zeros: %zu", kept_pages);
	rdump_vec_free(&pieces);
	rdump_vec_free(&roots);
	rdump_target_close(&t);
	munmap(mem, npages * ps);
}

/*
 * /proc/<pid>/maps of a process that runs on is read in chunks and can
 * repeat part of a mapping: the plan must still ascend without overlap.
 */
static void test_overlapping_maps_plan(void)
{
	size_t npages = 64, i, at = 0, kept_pages = 0;
	unsigned char *mem = mmap(NULL, npages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t lo = (uint64_t) (uintptr_t) mem, hi = lo + npages * ps, total = 0;
	rdump_target t;
	rdump_error e;
	rdump_vec pieces, roots;
	rdump_dump_opts o;
	rdump_map_entry *m;
	uint32_t regions = 0;
	int ordered = 1, found = 0;

	mem[2 * ps] = 1;
	mem[40 * ps] = 1;
	plan_setup(&t, &o, &pieces, &roots);
	for (i = 0; i < t.map.count; i++) {
		m = &RDUMP_VEC_AT(&t.map, rdump_map_entry, i);
		if (m->begin <= lo && hi <= m->end) {
			at = i;
			found = 1;
		}
	}
	RDUMP_CHECK(found, "the test mapping is in the maps");
	/* The entry again right after itself, from its middle: as a resumed read prints it. */
	RDUMP_CHECK(rdump_vec_push(&t.map) != NULL, "room for the repeated entry");
	memmove(&RDUMP_VEC_AT(&t.map, rdump_map_entry, at + 1), &RDUMP_VEC_AT(&t.map, rdump_map_entry, at),
		(t.map.count - 1 - at) * sizeof(rdump_map_entry));
	RDUMP_VEC_AT(&t.map, rdump_map_entry, at + 1).begin = lo + 20 * ps;
	RDUMP_CHECK(rdump_plan_build(&t, &roots, &o, &pieces, &regions, &total, &e) == 0, "plan");
	for (i = 0; i < pieces.count; i++) {
		rdump_piece *p = &RDUMP_VEC_AT(&pieces, rdump_piece, i);

		if (i > 0 && p->start < RDUMP_VEC_AT(&pieces, rdump_piece, i - 1).end) {
			ordered = 0;
		}
		if (p->start >= lo && p->end <= hi) {
			kept_pages += (p->end - p->start) / ps;
		}
	}
	RDUMP_CHECK(ordered, "pieces ascend and do not overlap");
	RDUMP_CHECK(kept_pages == 2, "each touched page planned once: %zu", kept_pages);
	rdump_vec_free(&pieces);
	rdump_vec_free(&roots);
	rdump_target_close(&t);
	munmap(mem, npages * ps);
}

/* A whole self-dump without PHP: valid, and failed output leaves nothing behind. */
static void test_self_dump_and_output(void)
{
	rdump_target t;
	rdump_error e;
	rdump_dump_opts o;
	rdump_dump_result res;
	rdump_reader r;
	const char *path = path_in("self.rdump");
	static const char marker[] = "rdump-self-dump-marker";
	char got[sizeof(marker)];
	struct stat st;

	memset(&o, 0, sizeof(o));
	o.php_version = "v82";
	rdump_target_open(&t, getpid(), 1, &e);
	RDUMP_CHECK(rdump_dump_path(&t, &o, path, &res, &e) == 0, "self dump: %s", e.what);
	RDUMP_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "0600");
	RDUMP_CHECK(open_reader(&r, path) == RDUMP_ROK, "self dump valid: %s", r.message);
	RDUMP_CHECK(r.map_count == res.map_entries && r.region_count == res.regions, "counts match");
	RDUMP_CHECK(rdump_reader_read(&r, (uint64_t) (uintptr_t) marker, got, sizeof(got)) != RDUMP_MEM_MISSING
		&& memcmp(got, marker, sizeof(got)) == 0, "rodata readable through the file fall-back");
	rdump_reader_close(&r);
	RDUMP_CHECK(rdump_dump_path(&t, &o, path_in("no/such/dir.rdump"), &res, &e) < 0 && e.err == ENOENT,
		"missing directory fails");
	rdump_target_close(&t);
}

/* Sets the modification time of path age seconds into the past. */
static int age_file(const char *path, time_t age)
{
	struct timespec ts[2];

	if (clock_gettime(CLOCK_REALTIME, &ts[0]) < 0) {
		return -1;
	}
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* A file of name with a few bytes, age seconds old; its descriptor (open), or -1. */
static int aged_file(const char *name, time_t age)
{
	int fd = open(path_in(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, "partial", 7) != 7 || age_file(path_in(name), age) < 0) {
		perror(name);
		exit(2);
	}
	return fd;
}

/* The temporary file of a dump that a SIGKILL stopped, as the OOM killer would. */
static void killed_dump_file(char *tmp, size_t size)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0) {
		perror("pipe");
		exit(2);
	}
	pid = fork();
	if (pid == 0) {
		rdump_output out;
		rdump_error e;

		close(p[0]);
		if (rdump_output_open(&out, path_in("killed.rdump"), &e) < 0
				|| write(out.fd, "partial", 7) != 7
				|| write(p[1], out.tmp_path, strlen(out.tmp_path) + 1) < 0) {
			_exit(1);
		}
		pause();
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], tmp, size - 1);
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	tmp[n > 0 ? n : 0] = '\0';
}

static void test_output_sweep(void)
{
	rdump_output out;
	rdump_error e;
	char killed[PATH_MAX];
	struct stat st;
	int held, fd, locked;

	killed_dump_file(killed, sizeof(killed));
	RDUMP_CHECK(killed[0] != '\0' && access(killed, F_OK) == 0, "a killed dump leaves its temporary file");
	RDUMP_CHECK(age_file(killed, RDUMP_STALE_TMP_SECONDS + 5) == 0, "age it");
	/* Old but locked: a dump still writing (another open file is another lock owner). */
	held = aged_file(".rdump-tmp.999999.1.1", RDUMP_STALE_TMP_SECONDS + 5);
	RDUMP_CHECK(flock(held, LOCK_EX) == 0, "lock");
	/* Unlocked but new: the instant between a dump's open and its lock. */
	close(aged_file(".rdump-tmp.999999.1.2", 0));
	/* Old and unlocked, but not named like ours, or a symlink named like ours. */
	close(aged_file("other.rdump", RDUMP_STALE_TMP_SECONDS + 5));
	RDUMP_CHECK(symlink(path_in("other.rdump"), path_in(".rdump-tmp.999999.1.3")) == 0, "symlink");
	RDUMP_CHECK(age_file(path_in(".rdump-tmp.999999.1.3"), RDUMP_STALE_TMP_SECONDS + 5) == 0, "age the symlink");
	/* Someone else's. */
	if (geteuid() == 0) {
		close(aged_file(".rdump-tmp.999999.1.4", RDUMP_STALE_TMP_SECONDS + 5));
		RDUMP_CHECK(chown(path_in(".rdump-tmp.999999.1.4"), 65534, 65534) == 0, "chown");
	}

	RDUMP_CHECK(rdump_output_open(&out, path_in("sweep.rdump"), &e) == 0, "open: %s", e.what);
	fd = open(out.tmp_path, O_RDONLY | O_CLOEXEC);
	locked = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (fd >= 0) {
		close(fd);
	}
	RDUMP_CHECK(locked, "a dump holds the lock of its temporary file while it writes");
	RDUMP_CHECK(write(out.fd, "whole", 5) == 5, "write");
	RDUMP_CHECK(rdump_output_commit(&out, &e) == 0, "commit: %s", e.what);

	RDUMP_CHECK(access(killed, F_OK) < 0 && errno == ENOENT, "the killed dump's file is removed by the next dump");
	RDUMP_CHECK(access(path_in(".rdump-tmp.999999.1.1"), F_OK) == 0, "a locked one is kept");
	RDUMP_CHECK(access(path_in(".rdump-tmp.999999.1.2"), F_OK) == 0, "a new one is kept");
	RDUMP_CHECK(access(path_in("other.rdump"), F_OK) == 0, "other names are kept");
	RDUMP_CHECK(lstat(path_in(".rdump-tmp.999999.1.3"), &st) == 0 && S_ISLNK(st.st_mode), "a symlink is kept");
	if (geteuid() == 0) {
		RDUMP_CHECK(access(path_in(".rdump-tmp.999999.1.4"), F_OK) == 0, "another user's is kept");
		unlink(path_in(".rdump-tmp.999999.1.4"));
	}
	RDUMP_CHECK(stat(path_in("sweep.rdump"), &st) == 0 && st.st_size == 5, "the new dump is in place");
	close(held);
	unlink(path_in(".rdump-tmp.999999.1.1"));
	unlink(path_in(".rdump-tmp.999999.1.2"));
	unlink(path_in(".rdump-tmp.999999.1.3"));
	unlink(path_in("other.rdump"));
	unlink(path_in("sweep.rdump"));
}

/* How many entries a directory holds besides . and .. */
static int entries_in(const char *path)
{
	return rdump_test_count_prefix(path, "") - 2;
}

/*
 * An async dump checks its path in the caller (check_new) and creates the
 * file in the writer (open): check_new refuses what open refuses and
 * creates nothing; open names the file after the process that creates it.
 */
static void test_output_check_new_then_open(void)
{
	rdump_output out;
	rdump_error e;
	char prefix[PATH_MAX];
	int fd;

	RDUMP_CHECK(mkdir(path_in("prep"), 0700) == 0, "mkdir");
	RDUMP_CHECK(rdump_output_check_new(path_in("prep/a.rdump"), &e) == 0, "check_new: %s", e.what);
	RDUMP_CHECK(entries_in(path_in("prep")) == 0, "check_new creates nothing");
	RDUMP_CHECK(rdump_output_open(&out, path_in("prep/a.rdump"), &e) == 0 && out.fd >= 0, "open: %s", e.what);
	snprintf(prefix, sizeof(prefix), "%s/.rdump-tmp.%d.", path_in("prep"), (int) getpid());
	RDUMP_CHECK(strncmp(out.tmp_path, prefix, strlen(prefix)) == 0, "named after its creator: %s", out.tmp_path);
	fd = open(out.tmp_path, O_RDONLY | O_CLOEXEC);
	RDUMP_CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK, "locked once created");
	if (fd >= 0) {
		close(fd);
	}
	RDUMP_CHECK(write(out.fd, "dump", 4) == 4, "write");
	RDUMP_CHECK(rdump_output_commit(&out, &e) == 0, "commit: %s", e.what);
	RDUMP_CHECK(access(path_in("prep/a.rdump"), F_OK) == 0 && entries_in(path_in("prep")) == 1,
		"the dump in place, nothing else");

	RDUMP_CHECK(symlink(path_in("prep/a.rdump"), path_in("prep/link.rdump")) == 0, "symlink");
	RDUMP_CHECK(rdump_output_check_new(path_in("prep/link.rdump"), &e) < 0 && e.err == EEXIST,
		"check_new refuses a symlink");
	RDUMP_CHECK(rdump_output_check_new(path_in("prep/"), &e) < 0 && e.err == EISDIR,
		"check_new refuses a directory name");
	RDUMP_CHECK(rdump_output_check_new(path_in("prep/none/b.rdump"), &e) < 0 && e.err == ENOENT,
		"check_new refuses a missing directory");
	RDUMP_CHECK(entries_in(path_in("prep")) == 2, "refusals create nothing");
	unlink(path_in("prep/link.rdump"));
	unlink(path_in("prep/a.rdump"));
	rmdir(path_in("prep"));
}

static void test_prefilled_file(void)
{
	rdump_writer *w = calloc(1, sizeof(*w));
	rdump_header h;
	rdump_reader r;
	rdump_module_global mg;
	rdump_map_entry map[2];
	const char *path = path_in("prefilled.rdump");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	uint64_t head, data, want_len;
	unsigned char *m, *got = malloc(4 * ps), stale[4096];
	size_t i;
	off_t hole;

	memset(map, 0, sizeof(map));
	mg.name.ptr = "basic_globals";
	mg.name.len = 13;
	mg.address = 0x3000;
	for (i = 0; i < 2; i++) {
		map[i].begin_s.ptr = "7f0000000000";
		map[i].begin_s.len = 12;
		map[i].end_s.ptr = "7f0000003000";
		map[i].end_s.len = 12;
		map[i].offset_s.ptr = "0";
		map[i].offset_s.len = 1;
		map[i].dev_s.ptr = "00:00";
		map[i].dev_s.len = 5;
		map[i].name_s.ptr = i ? "[heap]" : "";
		map[i].name_s.len = i ? 6 : 0;
		map[i].r = map[i].w = map[i].p = 1;
	}
	header_for(&h, 2);
	h.module_globals = &mg;
	h.module_globals_count = 1;
	h.map = map;
	h.map_count = 2;
	head = rdump_writer_header_size(&h);
	data = head + RDUMP_REGION_HEAD;
	/* A last region written, not placed: the file's end is then where the descriptor is. */
	want_len = data + 4 * ps + RDUMP_REGION_HEAD + 64;

	/* A file set aside as rdump-cli does, holding stale bytes, with pages 0 and 3 of the region in place. */
	RDUMP_CHECK(fd >= 0 && fallocate(fd, 0, 0, 16 * 4096) == 0, "fallocate: %s", strerror(errno));
	memset(stale, 0x5a, sizeof(stale));
	for (i = 0; i < 16; i++) {
		RDUMP_CHECK(pwrite(fd, stale, sizeof(stale), (off_t) (i * 4096)) == 4096, "stale bytes");
	}
	m = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	RDUMP_CHECK(m != MAP_FAILED, "map the file: %s", strerror(errno));
	memset(m + data, 'x', ps);
	memset(m + data + 3 * ps, 0, ps);

	/* Not prefilled: bytes cannot be taken as already in place. */
	rdump_writer_init(w, fd);
	header_for(&h, 2);
	h.module_globals = &mg;
	h.module_globals_count = 1;
	h.map = map;
	h.map_count = 2;
	rdump_writer_header(w, &h);
	RDUMP_CHECK(w->pos == head, "header size %llu, but the writer put %llu bytes",
		(unsigned long long) head, (unsigned long long) w->pos);
	rdump_writer_region_begin(w, 0x7f0000000000, 4 * ps);
	RDUMP_CHECK(rdump_writer_placed(w, m + data, ps) < 0 && w->err == EINVAL, "placed bytes on a plain file sink");
	rdump_writer_release(w);
	/* Only the header went out: it is written again, from the start. */
	RDUMP_CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind");

	rdump_writer_init(w, fd);
	rdump_sink_prefilled(&w->sink);
	RDUMP_CHECK(rdump_writer_header(w, &h) == 0, "header");
	RDUMP_CHECK(rdump_writer_region_begin(w, 0x7f0000000000, 4 * ps) == 0, "region");
	RDUMP_CHECK(w->pos == data, "region data at %llu, expected %llu", (unsigned long long) w->pos,
		(unsigned long long) data);
	RDUMP_CHECK(rdump_writer_placed(w, m + data, ps) == 0, "placed page 0: err %d", w->err);
	RDUMP_CHECK(rdump_writer_zeros(w, 2 * ps) == 0, "zero pages 1-2");
	RDUMP_CHECK(rdump_writer_placed(w, m + data + 3 * ps, ps) == 0, "placed page 3 (zeros)");
	memset(stale, 'y', 64);
	RDUMP_CHECK(rdump_writer_region_begin(w, 0x7f0000100000, 64) == 0 && rdump_writer_bytes(w, stale, 64) == 0,
		"last region");
	RDUMP_CHECK(rdump_writer_finish(w) == 0, "finish: err %d", w->err);
	munmap(m, 16 * 4096);
	close(fd);

	RDUMP_CHECK(open_reader(&r, path) == RDUMP_ROK, "reader: %s", r.message);
	RDUMP_CHECK(r.file_size == want_len, "file of %llu bytes, the stream has %llu",
		(unsigned long long) r.file_size, (unsigned long long) want_len);
	RDUMP_CHECK(r.region_count == 2 && r.map_count == 2 && r.module_globals_count == 1, "header read back");
	RDUMP_CHECK(rdump_reader_read(&r, 0x7f0000000000, got, 4 * ps) == RDUMP_MEM_REGION, "read back");
	for (i = 0; i < 4 * ps; i++) {
		if (got[i] != (i < ps ? 'x' : 0)) {
			break;
		}
	}
	RDUMP_CHECK(i == 4 * ps, "byte %zu is %#x: stale bytes left in the dump", i, i < 4 * ps ? got[i] : 0);
	rdump_reader_close(&r);
	/* The first whole file block of the zero pages is a hole again. */
	fd = open(path, O_RDONLY);
	hole = lseek(fd, (off_t) ((data + ps + 4095) & ~(uint64_t) 4095), SEEK_HOLE);
	RDUMP_CHECK(hole == (off_t) ((data + ps + 4095) & ~(uint64_t) 4095), "the zero page was not punched out (hole at %lld)",
		(long long) hole);
	close(fd);
	free(got);
	free(w);
}

int main(void)
{
	char cmd[600];

	ps = (size_t) sysconf(_SC_PAGESIZE);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_roundtrip_and_vanished_page();
	test_dropped_region_patches_count();
	test_sparse_buffers_and_pipes();
	test_prefilled_file();
	test_maps_parse_and_ranges();
	test_residency_plan();
	test_overlapping_maps_plan();
	test_self_dump_and_output();
	test_output_sweep();
	test_output_check_new_then_open();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot remove %s\n", dir);
	}
	return rdump_test_summary();
}
