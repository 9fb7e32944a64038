/*
 * rdump-cli's side of a dump from outside; see remote.h. Everything read
 * from the target or its files may be stale or hostile: ELF tables are
 * bounds-checked, target pointers are only ever read through the kernel.
 * No stdio and no malloc, as everywhere in capture/.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include "php.h"
#include "zend_modules.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include "remote.h"

#define RDUMP_MM_CHUNK ((uint64_t) 2 << 20)
/* The chunk header is padded to 64 bytes in every PHP 7 and 8: heap_slot follows. */
#define RDUMP_MM_HEAP_SLOT 64
#define RDUMP_MM_HEAP_WORDS 256
#define RDUMP_MAX_THREAD_PASSES 100
#define RDUMP_BATCH_IOV 512
#define RDUMP_BATCH_BYTES ((uint64_t) 64 << 20)
#define RDUMP_IOV_MAX_BYTES ((uint64_t) 8 << 20)
/* How far below the thread pointer static TLS is searched for the TSRM cache. */
#define RDUMP_TLS_SCAN ((uint64_t) 64 << 10)

double rdump_remote_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		return 0;
	}
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

const char *rdump_remote_build_id(void)
{
	return ZEND_MODULE_BUILD_ID;
}

/* "/proc/<pid>/<leaf>" without stdio. */
static void proc_path(char *buf, size_t size, pid_t pid, const char *leaf)
{
	char digits[24];
	size_t n = 0, pos = 0;
	unsigned long v = (unsigned long) pid;
	const char *p;

	do {
		digits[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(digits));
	for (p = "/proc/"; *p && pos + 1 < size; p++) {
		buf[pos++] = *p;
	}
	while (n > 0 && pos + 1 < size) {
		buf[pos++] = digits[--n];
	}
	if (pos + 1 < size) {
		buf[pos++] = '/';
	}
	for (p = leaf; *p && pos + 1 < size; p++) {
		buf[pos++] = *p;
	}
	buf[pos] = '\0';
}

char rdump_remote_state(pid_t pid)
{
	char path[64], buf[1024], *p;

	proc_path(path, sizeof(path), pid, "stat");
	if (rdump_read_small(path, buf, sizeof(buf)) <= 0) {
		return 0;
	}
	/* The command name may itself contain ") ": the state follows the last one. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ' || p[2] == '\0') {
		return 0;
	}
	return p[2];
}

pid_t rdump_remote_tracer(pid_t pid)
{
	char path[64], buf[4096], *p;
	long v = 0;

	proc_path(path, sizeof(path), pid, "status");
	if (rdump_read_small(path, buf, sizeof(buf)) <= 0) {
		return -1;
	}
	p = strstr(buf, "\nTracerPid:");
	if (p == NULL) {
		return -1;
	}
	p += sizeof("\nTracerPid:") - 1;
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p - '0');
		p++;
	}
	return (pid_t) v;
}

static int fault_fail(rdump_remote_fault *fault, rdump_remote_fault f, rdump_error *e,
	const char *what, int err)
{
	*fault = f;
	return RDUMP_FAIL(e, what, err);
}

int rdump_remote_check_access(pid_t pid, rdump_remote_fault *fault, rdump_error *e)
{
	char path[64], state = rdump_remote_state(pid);
	int fd;

	*fault = RDUMP_RF_OTHER;
	if (pid <= 0 || state == 0) {
		return fault_fail(fault, RDUMP_RF_NO_PROCESS, e, "no such process", ESRCH);
	}
	if (state == 'Z' || state == 'X') {
		return fault_fail(fault, RDUMP_RF_NO_PROCESS, e, "the process has exited (zombie)", ESRCH);
	}
	/* Opening mem is the same ptrace-attach check that process_vm_readv and PTRACE_SEIZE pass. */
	proc_path(path, sizeof(path), pid, "mem");
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT || err == ESRCH) {
			return fault_fail(fault, RDUMP_RF_NO_PROCESS, e, "no such process", ESRCH);
		}
		if (err == EACCES || err == EPERM) {
			return fault_fail(fault, RDUMP_RF_PERMISSION, e, "not allowed to read its memory", err);
		}
		return fault_fail(fault, RDUMP_RF_OTHER, e, "cannot open /proc/<pid>/mem", err);
	}
	close(fd);
	return 0;
}

/* ---- ELF files ---------------------------------------------------------- */

typedef struct elf_file {
	const unsigned char *data;
	size_t size;
	const Elf64_Ehdr *eh;
} elf_file;

static void elf_unmap(elf_file *f)
{
	if (f->data != NULL) {
		munmap((void *) f->data, f->size);
	}
	f->data = NULL;
	f->size = 0;
}

static int in_file(const elf_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

static int elf_map(int fd, elf_file *f)
{
	struct stat st;
	void *p;

	memset(f, 0, sizeof(*f));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t) sizeof(Elf64_Ehdr)) {
		return -1;
	}
	p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		return -1;
	}
	f->data = p;
	f->size = (size_t) st.st_size;
	f->eh = p;
	if (memcmp(f->eh->e_ident, ELFMAG, SELFMAG) != 0 || f->eh->e_ident[EI_CLASS] != ELFCLASS64
		|| f->eh->e_ident[EI_DATA] != ELFDATA2LSB
		|| (f->eh->e_shnum != 0 && (f->eh->e_shentsize != sizeof(Elf64_Shdr)
			|| !in_file(f, f->eh->e_shoff, (uint64_t) f->eh->e_shnum * sizeof(Elf64_Shdr))))
		|| (f->eh->e_phnum != 0 && (f->eh->e_phentsize != sizeof(Elf64_Phdr)
			|| !in_file(f, f->eh->e_phoff, (uint64_t) f->eh->e_phnum * sizeof(Elf64_Phdr))))) {
		elf_unmap(f);
		return -1;
	}
	return 0;
}

static const Elf64_Shdr *elf_shdr(const elf_file *f, size_t i)
{
	return (const Elf64_Shdr *) (const void *) (f->data + f->eh->e_shoff + i * sizeof(Elf64_Shdr));
}

static const Elf64_Phdr *elf_phdr(const elf_file *f, size_t i)
{
	return (const Elf64_Phdr *) (const void *) (f->data + f->eh->e_phoff + i * sizeof(Elf64_Phdr));
}

/* The symbols and string table of section i, checked; 0 when usable. */
static int elf_symtab(const elf_file *f, size_t i, const Elf64_Sym **syms, size_t *count,
	const char **strs, size_t *strsz)
{
	const Elf64_Shdr *sh = elf_shdr(f, i), *st;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || !in_file(f, sh->sh_offset, sh->sh_size)
		|| sh->sh_link >= f->eh->e_shnum) {
		return -1;
	}
	st = elf_shdr(f, sh->sh_link);
	if (st->sh_type != SHT_STRTAB || !in_file(f, st->sh_offset, st->sh_size)) {
		return -1;
	}
	*syms = (const Elf64_Sym *) (const void *) (f->data + sh->sh_offset);
	*count = sh->sh_size / sizeof(Elf64_Sym);
	*strs = (const char *) f->data + st->sh_offset;
	*strsz = st->sh_size;
	return 0;
}

static int sym_name_is(const char *strs, size_t strsz, uint32_t off, const char *name)
{
	size_t n = strlen(name);

	return off < strsz && strsz - off > n && memcmp(strs + off, name, n + 1) == 0;
}

/* A defined symbol by name: .dynsym first, then (unless dynamic_only) .symtab. */
static int elf_lookup(const elf_file *f, const char *name, Elf64_Sym *out, int dynamic_only)
{
	static const uint32_t order[2] = { SHT_DYNSYM, SHT_SYMTAB };
	int pass;

	for (pass = 0; pass < (dynamic_only ? 1 : 2); pass++) {
		size_t i;

		for (i = 0; i < f->eh->e_shnum; i++) {
			const Elf64_Sym *syms;
			const char *strs;
			size_t count, strsz, k;

			if (elf_shdr(f, i)->sh_type != order[pass]
				|| elf_symtab(f, i, &syms, &count, &strs, &strsz) < 0) {
				continue;
			}
			for (k = 1; k < count; k++) {
				if (syms[k].st_shndx != SHN_UNDEF && sym_name_is(strs, strsz, syms[k].st_name, name)) {
					*out = syms[k];
					return 0;
				}
			}
		}
	}
	return -1;
}

/* The GOT slot the dynamic linker fills with name's offset from the thread pointer. */
static int elf_tpoff_slot(const elf_file *f, const char *name, uint64_t *slot)
{
#if defined(__x86_64__)
	size_t i;

	for (i = 0; i < f->eh->e_shnum; i++) {
		const Elf64_Shdr *sh = elf_shdr(f, i);
		const Elf64_Rela *rel;
		const Elf64_Sym *syms;
		const char *strs;
		size_t count, strsz, n, k;

		if (sh->sh_type != SHT_RELA || sh->sh_entsize != sizeof(Elf64_Rela)
			|| !in_file(f, sh->sh_offset, sh->sh_size) || sh->sh_link >= f->eh->e_shnum
			|| elf_shdr(f, sh->sh_link)->sh_type != SHT_DYNSYM
			|| elf_symtab(f, sh->sh_link, &syms, &count, &strs, &strsz) < 0) {
			continue;
		}
		rel = (const Elf64_Rela *) (const void *) (f->data + sh->sh_offset);
		n = sh->sh_size / sizeof(Elf64_Rela);
		for (k = 0; k < n; k++) {
			uint64_t s = ELF64_R_SYM(rel[k].r_info);

			if (ELF64_R_TYPE(rel[k].r_info) == R_X86_64_TPOFF64 && s < count
				&& sym_name_is(strs, strsz, syms[s].st_name, name)) {
				*slot = rel[k].r_offset;
				return 0;
			}
		}
	}
#else
	(void) f;
	(void) name;
	(void) slot;
#endif
	return -1;
}

static int elf_is_executable(const elf_file *f)
{
	size_t i;

	if (f->eh->e_type == ET_EXEC) {
		return 1;
	}
	for (i = 0; i < f->eh->e_phnum; i++) {
		if (elf_phdr(f, i)->p_type == PT_INTERP) {
			return 1;
		}
	}
	return 0;
}

/*
 * Offset from the thread pointer of a TLS symbol of the main executable:
 * glibc on x86-64 places the executable's TLS block first, directly below
 * the thread pointer, rounded to its alignment.
 */
static int elf_exec_tpoff(const elf_file *f, uint64_t st_value, int64_t *tpoff)
{
#if defined(__x86_64__)
	size_t i;

	for (i = 0; i < f->eh->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_phdr(f, i);
		uint64_t align, first, off;

		if (ph->p_type != PT_TLS) {
			continue;
		}
		align = ph->p_align ? ph->p_align : 1;
		if ((align & (align - 1)) != 0) {
			return -1;
		}
		first = (0 - (ph->p_vaddr & (align - 1))) & (align - 1);
		off = ((ph->p_memsz - first + align - 1) & ~(align - 1)) + first;
		*tpoff = (int64_t) st_value - (int64_t) off;
		return 0;
	}
#else
	(void) f;
	(void) st_value;
	(void) tpoff;
#endif
	return -1;
}

/*
 * Finds a NUL-terminated string in the file that starts with prefix (a
 * literal sized with sizeof may sit in .rodata between other data, so no
 * NUL is required before it).
 */
static const char *elf_find_string(const elf_file *f, const char *prefix, size_t *len)
{
	const unsigned char *p = f->data, *end = f->data + f->size;
	size_t n = strlen(prefix);

	while (p < end) {
		const unsigned char *hit = memmem(p, (size_t) (end - p), prefix, n), *z;

		if (hit == NULL) {
			return NULL;
		}
		z = memchr(hit, '\0', (size_t) (end - hit));
		if (z != NULL && z - hit < 128) {
			*len = (size_t) (z - hit);
			return (const char *) hit;
		}
		p = hit + 1;
	}
	return NULL;
}

/* "API" + 8 digits + "," (the module build id; the zend-extension one has 9 digits). */
static const char *elf_find_build_id(const elf_file *f, size_t *len)
{
	const unsigned char *p = f->data, *end = f->data + f->size;

	while (p < end) {
		const unsigned char *hit = memmem(p, (size_t) (end - p), "API", 3), *z;
		int i;

		if (hit == NULL) {
			return NULL;
		}
		p = hit + 1;
		if ((hit != f->data && hit[-1] != '\0') || end - hit < 13) {
			continue;
		}
		for (i = 3; i < 11 && hit[i] >= '0' && hit[i] <= '9'; i++) {
		}
		if (i != 11 || hit[11] != ',') {
			continue;
		}
		z = memchr(hit, '\0', (size_t) (end - hit));
		if (z != NULL && (size_t) (z - hit) < 64) {
			*len = (size_t) (z - hit);
			return (const char *) hit;
		}
	}
	return NULL;
}

/* The module API number of every PHP release rdump knows a tag for. */
static const struct { const char *api; const char *tag; } api_tags[] = {
	{ "20151012", "v70" }, { "20160303", "v71" }, { "20170718", "v72" }, { "20180731", "v73" },
	{ "20190902", "v74" }, { "20200930", "v80" }, { "20210902", "v81" }, { "20220829", "v82" },
	{ "20230831", "v83" }, { "20240924", "v84" }, { "20250925", "v85" },
};

static void set_version(rdump_remote_php *php, const elf_file *f)
{
	const char *s;
	size_t len, i;

	s = elf_find_string(f, "X-Powered-By: PHP/", &len);
	if (s != NULL) {
		s += sizeof("X-Powered-By: PHP/") - 1;
		len -= sizeof("X-Powered-By: PHP/") - 1;
		if (len >= sizeof(php->version)) {
			len = sizeof(php->version) - 1;
		}
		memcpy(php->version, s, len);
		php->version[len] = '\0';
	}
	s = elf_find_build_id(f, &len);
	if (s != NULL) {
		memcpy(php->build_id, s, len);
		php->build_id[len] = '\0';
		php->zts = strstr(php->build_id, ",TS") != NULL;
	}
	/* "8.2.36": major and minor digits make the tag; two-digit minors do not exist. */
	if (php->version[0] >= '5' && php->version[0] <= '9' && php->version[1] == '.'
		&& php->version[2] >= '0' && php->version[2] <= '9'
		&& (php->version[3] == '.' || php->version[3] == '\0' || php->version[3] == '-')) {
		php->tag[0] = 'v';
		php->tag[1] = php->version[0];
		php->tag[2] = php->version[2];
		php->tag[3] = '\0';
		return;
	}
	php->version[0] = '\0';
	for (i = 0; php->build_id[0] && i < sizeof(api_tags) / sizeof(api_tags[0]); i++) {
		if (memcmp(php->build_id + 3, api_tags[i].api, 8) == 0) {
			memcpy(php->tag, api_tags[i].tag, 4);
			return;
		}
	}
}

/* ---- the engine mapping ------------------------------------------------- */

static int map_path(const rdump_map_entry *m, char *buf, size_t size)
{
	size_t n = m->name_s.len;

	if (n == 0 || m->name_s.ptr[0] != '/' || n >= size) {
		return -1;
	}
	memcpy(buf, m->name_s.ptr, n);
	buf[n] = '\0';
	if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0) {
		buf[n - 10] = '\0';
	}
	return 0;
}

/*
 * The file behind a mapping, as the target sees it: map_files names the very
 * inode even when it was replaced or deleted (needs CAP_SYS_ADMIN), the
 * target's root covers containers, the plain path the rest.
 */
static int open_mapped_file(pid_t pid, const rdump_map_entry *m, const char *path)
{
	char buf[PATH_MAX + 64];
	size_t pos;
	int attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		struct stat st;
		int fd;

		if (attempt == 0) {
			proc_path(buf, sizeof(buf), pid, "map_files/");
			pos = rdump_append_hex(buf, strlen(buf), sizeof(buf), m->begin);
			if (pos + 1 < sizeof(buf)) {
				buf[pos++] = '-';
			}
			rdump_append_hex(buf, pos, sizeof(buf), m->end);
		} else if (attempt == 1) {
			proc_path(buf, sizeof(buf), pid, "root");
			pos = strlen(buf);
			if (pos + strlen(path) + 1 > sizeof(buf)) {
				continue;
			}
			memcpy(buf + pos, path, strlen(path) + 1);
		} else {
			if (strlen(path) + 1 > sizeof(buf)) {
				continue;
			}
			memcpy(buf, path, strlen(path) + 1);
		}
		do {
			fd = open(buf, O_RDONLY | O_CLOEXEC);
		} while (fd < 0 && errno == EINTR);
		if (fd < 0) {
			continue;
		}
		if (fstat(fd, &st) == 0 && (uint64_t) st.st_ino == m->inode) {
			return fd;
		}
		close(fd);
	}
	return -1;
}

static int same_file(const rdump_map_entry *a, const rdump_map_entry *b)
{
	return a->inode == b->inode && a->dev_s.len == b->dev_s.len
		&& memcmp(a->dev_s.ptr, b->dev_s.ptr, a->dev_s.len) == 0;
}

/* Load bias of the ELF mapped by the mappings of m's file. */
static int load_bias(const rdump_target *t, const rdump_map_entry *m, const elf_file *f, uint64_t *bias)
{
	uint64_t ps = rdump_page_size(), vaddr = UINT64_MAX, offset = 0;
	size_t i;

	for (i = 0; i < f->eh->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_phdr(f, i);

		if (ph->p_type == PT_LOAD && ph->p_vaddr < vaddr) {
			vaddr = ph->p_vaddr;
			offset = ph->p_offset;
		}
	}
	if (vaddr == UINT64_MAX) {
		return -1;
	}
	for (i = 0; i < t->map.count; i++) {
		const rdump_map_entry *o = &RDUMP_VEC_AT(&t->map, rdump_map_entry, i);

		if (same_file(o, m) && o->offset == (offset & ~(ps - 1))) {
			*bias = o->begin - (vaddr & ~(ps - 1));
			return 0;
		}
	}
	return -1;
}

static int writable_in_target(const rdump_target *t, uint64_t addr, uint64_t len)
{
	size_t i;

	for (i = 0; i < t->map.count; i++) {
		const rdump_map_entry *m = &RDUMP_VEC_AT(&t->map, rdump_map_entry, i);

		if (addr >= m->begin && addr < m->end) {
			return m->w && m->r && addr + len <= m->end;
		}
	}
	return 0;
}

static int basename_has_php(const rdump_map_entry *m)
{
	const char *p = m->name_s.ptr, *end = p + m->name_s.len, *base = p;

	for (; p < end; p++) {
		if (*p == '/') {
			base = p + 1;
		}
	}
	return memmem(base, (size_t) (end - base), "php", 3) != NULL;
}

/* An ELF object of the target with the bias it is loaded at. */
typedef struct elf_object {
	elf_file f;
	uint64_t bias;
	int ok;
} elf_object;

static int open_object(rdump_target *t, const rdump_map_entry *m, elf_object *o)
{
	char path[PATH_MAX];
	int fd;

	memset(o, 0, sizeof(*o));
	if (map_path(m, path, sizeof(path)) < 0) {
		return -1;
	}
	fd = open_mapped_file(t->pid, m, path);
	if (fd < 0) {
		return -1;
	}
	if (elf_map(fd, &o->f) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	if (load_bias(t, m, &o->f, &o->bias) < 0) {
		elf_unmap(&o->f);
		return -1;
	}
	o->ok = 1;
	return 0;
}

/*
 * The target's executable when it is not the engine: a program linked
 * against libphp that uses the engine's globals gets copy relocations, and
 * then the executable's copies are the live ones, not the library's.
 */
static void open_executable(rdump_target *t, const rdump_map_entry *engine, elf_object *exe)
{
	char path[64];
	struct stat st;
	size_t i;

	memset(exe, 0, sizeof(*exe));
	proc_path(path, sizeof(path), t->pid, "exe");
	if (stat(path, &st) < 0 || (uint64_t) st.st_ino == engine->inode) {
		return;
	}
	for (i = 0; i < t->map.count; i++) {
		const rdump_map_entry *m = &RDUMP_VEC_AT(&t->map, rdump_map_entry, i);

		if (m->inode == (uint64_t) st.st_ino && m->name_s.len > 0 && m->name_s.ptr[0] == '/') {
			open_object(t, m, exe);
			return;
		}
	}
}

/* A data symbol as the dynamic linker binds it: the executable's definition first. */
static int resolve(const elf_object *engine, const elf_object *exe, const char *name,
	uint64_t *addr, uint64_t *size)
{
	Elf64_Sym s;

	if (exe->ok && elf_lookup(&exe->f, name, &s, 1) == 0 && ELF64_ST_TYPE(s.st_info) == STT_OBJECT) {
		*addr = exe->bias + s.st_value;
		*size = s.st_size;
		return 0;
	}
	if (elf_lookup(&engine->f, name, &s, 0) == 0) {
		*addr = engine->bias + s.st_value;
		*size = s.st_size;
		return 0;
	}
	return -1;
}

/* Examines one mapped file; 1 when it holds the engine, 0 when not. */
static int try_engine(rdump_target *t, const rdump_map_entry *m, rdump_remote_php *php)
{
	elf_object eng, exe;
	Elf64_Sym sym;
	uint64_t slot, size, egs = 0, cgs = 0;
	int nts, zts;

	if (open_object(t, m, &eng) < 0) {
		return 0;
	}
	nts = elf_lookup(&eng.f, "executor_globals", &sym, 0) == 0 && sym.st_size > 0;
	zts = !nts && elf_lookup(&eng.f, "executor_globals_id", &sym, 0) == 0;
	if (!nts && !zts) {
		elf_unmap(&eng.f);
		return 0;
	}
	memset(php, 0, sizeof(*php));
	memcpy(php->engine_path, m->name_s.ptr, m->name_s.len < sizeof(php->engine_path)
		? m->name_s.len : sizeof(php->engine_path) - 1);
	php->load_bias = eng.bias;
	set_version(php, &eng.f);
	php->zts = php->zts || zts;
	php->layouts_match = php->build_id[0] != '\0' && strcmp(php->build_id, ZEND_MODULE_BUILD_ID) == 0;
	open_executable(t, m, &exe);
	if (nts) {
		resolve(&eng, &exe, "executor_globals", &php->addrs.eg, &egs);
		resolve(&eng, &exe, "compiler_globals", &php->addrs.cg, &cgs);
		resolve(&eng, &exe, "basic_globals", &php->addrs.basic_globals, &size);
		if (!writable_in_target(t, php->addrs.eg, egs)
			|| (php->addrs.cg && !writable_in_target(t, php->addrs.cg, cgs))) {
			php->addrs.eg = php->addrs.cg = php->addrs.basic_globals = 0;
		}
	} else {
		resolve(&eng, &exe, "executor_globals_id", &php->eg_id_at, &size);
		resolve(&eng, &exe, "compiler_globals_id", &php->cg_id_at, &size);
		resolve(&eng, &exe, "basic_globals_id", &php->bg_id_at, &size);
		if (elf_lookup(&eng.f, "_tsrm_ls_cache", &sym, 0) == 0 && ELF64_ST_TYPE(sym.st_info) == STT_TLS) {
			int64_t v;

			if (elf_tpoff_slot(&eng.f, "_tsrm_ls_cache", &slot) == 0
				&& rdump_target_read(t, eng.bias + slot, &v, sizeof(v)) == 0) {
				php->tls_cache_tpoff = v;
				php->have_tls_cache = 1;
			} else if (elf_is_executable(&eng.f) && elf_exec_tpoff(&eng.f, sym.st_value, &v) == 0) {
				php->tls_cache_tpoff = v;
				php->have_tls_cache = 1;
			}
		}
	}
	/* True globals in ZTS builds too; exclude-heap walks what they point to. */
	resolve(&eng, &exe, "zend_known_strings", &php->addrs.known_strings, &size);
	resolve(&eng, &exe, "zend_one_char_string", &php->addrs.one_char_string, &size);
	resolve(&eng, &exe, "zend_empty_string", &php->addrs.empty_string, &size);
	if (exe.ok) {
		elf_unmap(&exe.f);
	}
	elf_unmap(&eng.f);
	return 1;
}

int rdump_remote_find_php(rdump_target *t, rdump_remote_php *php,
	rdump_remote_fault *fault, rdump_error *e)
{
	int pass;

	*fault = RDUMP_RF_OTHER;
	/* php, php-fpm, libphp*.so first; any other file may embed the engine statically. */
	for (pass = 0; pass < 2; pass++) {
		size_t i;

		for (i = 0; i < t->map.count; i++) {
			const rdump_map_entry *m = &RDUMP_VEC_AT(&t->map, rdump_map_entry, i);
			size_t j;
			int seen = 0;

			if (m->inode == 0 || m->name_s.len == 0 || m->name_s.ptr[0] != '/'
				|| basename_has_php(m) != (pass == 0)) {
				continue;
			}
			for (j = 0; j < i && !seen; j++) {
				seen = same_file(&RDUMP_VEC_AT(&t->map, rdump_map_entry, j), m);
			}
			if (seen) {
				continue;
			}
			if (!try_engine(t, m, php)) {
				continue;
			}
			if (php->tag[0] == '\0') {
				return RDUMP_FAIL(e, "cannot tell which PHP version the engine is", ENOEXEC);
			}
			if (!php->zts && php->addrs.eg == 0) {
				return RDUMP_FAIL(e, "the engine's globals are not in a writable mapping", ENOEXEC);
			}
			return 0;
		}
	}
	return fault_fail(fault, RDUMP_RF_NOT_PHP, e,
		"not a PHP process (no mapped file defines executor_globals)", ENOEXEC);
}

static int read_u64(rdump_target *t, uint64_t addr, uint64_t *v)
{
	return rdump_target_read(t, addr, v, sizeof(*v));
}

static int read_id(rdump_target *t, uint64_t addr, uint64_t storage, int count, uint64_t *out)
{
	int32_t id;

	if (addr == 0 || rdump_target_read(t, addr, &id, sizeof(id)) < 0 || id < 1 || id > count) {
		return -1;
	}
	/* TSRM resource ids are 1-based indexes into the thread's storage array. */
	return read_u64(t, storage + (uint64_t) (id - 1) * 8, out);
}

/* Reads a tsrm_tls_entry { void **storage; int count; THREAD_T thread_id; ... } and checks it is tp's. */
static int tsrm_entry(rdump_target *t, uint64_t entry, uint64_t tp, uint64_t *storage, int32_t *count)
{
	uint64_t w[3];

	if (entry == 0 || (entry & 7) != 0 || rdump_target_read(t, entry, w, sizeof(w)) < 0) {
		return -1;
	}
	memcpy(count, &w[1], sizeof(*count));
	*storage = w[0];
	/* pthread_self() of a glibc thread is its thread pointer. */
	return w[0] != 0 && (w[0] & 7) == 0 && *count > 0 && *count < 100000 && w[2] == tp ? 0 : -1;
}

static int in_writable_mapping(const rdump_target *t, uint64_t addr)
{
	size_t lo = 0, hi = t->map.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const rdump_map_entry *m = &RDUMP_VEC_AT(&t->map, rdump_map_entry, mid);

		if (m->end <= addr) {
			lo = mid + 1;
		} else if (m->begin > addr) {
			hi = mid;
		} else {
			return m->w && m->r;
		}
	}
	return 0;
}

/*
 * Without a usable _tsrm_ls_cache symbol (stripped binaries, libphp with a
 * dynamic TLS model): the cache is a word of static TLS, just below the
 * thread pointer, that points at the thread's own TSRM entry.
 */
static int scan_static_tls(rdump_target *t, uint64_t tp, uint64_t *entry)
{
	uint64_t ps = rdump_page_size(), page, words[512];
	size_t k, n = ps / 8 < 512 ? ps / 8 : 512;

	for (page = (tp & ~(ps - 1)); page + RDUMP_TLS_SCAN > (tp & ~(ps - 1)) && page > ps; page -= ps) {
		if (rdump_target_read(t, page, words, n * 8) < 0) {
			continue;
		}
		for (k = 0; k < n; k++) {
			uint64_t storage;
			int32_t count;

			if (page + k * 8 < tp && words[k] != 0 && in_writable_mapping(t, words[k])
				&& tsrm_entry(t, words[k], tp, &storage, &count) == 0) {
				*entry = words[k];
				return 0;
			}
		}
	}
	return -1;
}

int rdump_remote_zts_addrs(rdump_target *t, rdump_remote_php *php, uint64_t main_tp, rdump_error *e)
{
	uint64_t entry = 0, storage;
	int32_t count;

	if (main_tp == 0) {
		return RDUMP_FAIL(e, "ZTS PHP: cannot read the main thread's thread pointer", ENOEXEC);
	}
	if (!php->have_tls_cache || read_u64(t, main_tp + (uint64_t) php->tls_cache_tpoff, &entry) < 0
		|| tsrm_entry(t, entry, main_tp, &storage, &count) < 0) {
		if (scan_static_tls(t, main_tp, &entry) < 0 || tsrm_entry(t, entry, main_tp, &storage, &count) < 0) {
			return RDUMP_FAIL(e, "ZTS PHP: cannot find the main thread's TSRM globals (no TSRM "
				"entry of the main thread in its thread-local storage; a PHP still starting has none yet)", ENOEXEC);
		}
	}
	if (read_id(t, php->eg_id_at, storage, count, &php->addrs.eg) < 0
		|| read_id(t, php->cg_id_at, storage, count, &php->addrs.cg) < 0) {
		return RDUMP_FAIL(e, "ZTS PHP: cannot find the main thread's TSRM globals "
			"(executor/compiler globals ids unreadable)", ENOEXEC);
	}
	if (read_id(t, php->bg_id_at, storage, count, &php->addrs.basic_globals) < 0) {
		php->addrs.basic_globals = 0;
	}
	return 0;
}

void rdump_remote_find_heap(rdump_target *t, rdump_remote_php *php)
{
	size_t i;
	uint64_t found = 0;

	php->heap_candidates = 0;
	php->addrs.mm_heap = 0;
	for (i = 0; i < t->map.count; i++) {
		const rdump_map_entry *m = &RDUMP_VEC_AT(&t->map, rdump_map_entry, i);
		uint64_t a;

		if (!m->r || !m->w || rdump_map_classify(m) != RDUMP_MAP_ANON) {
			continue;
		}
		for (a = (m->begin + RDUMP_MM_CHUNK - 1) & ~(RDUMP_MM_CHUNK - 1);
			a >= m->begin && a + rdump_page_size() <= m->end; a += RDUMP_MM_CHUNK) {
			uint64_t hdr[5], words[RDUMP_MM_HEAP_WORDS];
			unsigned char res;
			uint32_t num;
			int k, back = 0;

			/* Never-touched pages stay untouched: reading them would map the zero page. */
			if (rdump_target_residency(t, m, a, 1, &res) < 0 || !res
				|| rdump_target_read(t, a, hdr, sizeof(hdr)) < 0) {
				continue;
			}
			memcpy(&num, (const char *) hdr + 32, sizeof(num));
			if (hdr[0] != a + RDUMP_MM_HEAP_SLOT || num != 0 || hdr[1] == 0 || hdr[2] == 0
				|| (hdr[1] & (RDUMP_MM_CHUNK - 1)) != 0 || (hdr[2] & (RDUMP_MM_CHUNK - 1)) != 0
				|| rdump_target_read(t, a + RDUMP_MM_HEAP_SLOT, words, sizeof(words)) < 0) {
				continue;
			}
			for (k = 0; k < RDUMP_MM_HEAP_WORDS && !back; k++) {
				back = words[k] == a;
			}
			if (back) {
				php->heap_candidates++;
				found = a + RDUMP_MM_HEAP_SLOT;
			}
		}
	}
	/* Several heaps (ZTS threads, a forked copy) cannot be told apart from here. */
	if (php->heap_candidates == 1) {
		php->addrs.mm_heap = found;
	}
}

/* ---- holding the target ------------------------------------------------- */

void rdump_remote_stop_init(rdump_remote_hold *s, pid_t pid)
{
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	rdump_vec_init(&s->threads, sizeof(rdump_remote_thread));
}

void rdump_remote_stop_free(rdump_remote_hold *s)
{
	rdump_remote_resume(s);
	rdump_vec_free(&s->threads);
}

void rdump_remote_resume(rdump_remote_hold *s)
{
	size_t i;

	if (!s->holding) {
		return;
	}
	for (i = 0; i < s->threads.count; i++) {
		rdump_remote_thread *th = &RDUMP_VEC_AT(&s->threads, rdump_remote_thread, i);

		if (th->held) {
			/* ESRCH: the thread is gone, nothing to give back. */
			ptrace(PTRACE_DETACH, th->tid, NULL, (void *) (uintptr_t) th->sig);
			th->held = 0;
		}
	}
	s->holding = 0;
	s->seconds = rdump_remote_now() - s->started;
}

/* Waits until a seized, interrupted thread reports its stop. 0 stopped, 1 gone, -1 error. */
static int wait_stopped(rdump_remote_thread *th)
{
	for (;;) {
		int status;
		pid_t r = waitpid(th->tid, &status, __WALL);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			th->held = 0;
			return errno == ECHILD ? 1 : -1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			th->held = 0;
			return 1;
		}
		if (!WIFSTOPPED(status)) {
			continue;
		}
		if ((status >> 16) != PTRACE_EVENT_STOP) {
			/* A signal arrived first: the thread is held in its delivery stop; give it back on detach. */
			th->sig = WSTOPSIG(status);
		}
		return 0;
	}
}

static int read_tp(pid_t tid, uint64_t *tp)
{
#if defined(__x86_64__)
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKUSER, tid, (void *) offsetof(struct user_regs_struct, fs_base), NULL);
	if (v == -1 && errno != 0) {
		return -1;
	}
	*tp = (uint64_t) v;
	return 0;
#else
	(void) tid;
	(void) tp;
	errno = ENOSYS;
	return -1;
#endif
}

struct linux_dirent64_ {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int find_thread(const rdump_remote_hold *s, pid_t tid)
{
	size_t i;

	for (i = 0; i < s->threads.count; i++) {
		if (RDUMP_VEC_AT(&s->threads, rdump_remote_thread, i).tid == tid) {
			return 1;
		}
	}
	return 0;
}

/* One pass over /proc/<pid>/task: seizes and interrupts threads not seen before. */
static int seize_new_threads(rdump_remote_hold *s, size_t *added, rdump_remote_fault *fault, rdump_error *e)
{
	char path[64], buf[8192];
	int fd;

	*added = 0;
	proc_path(path, sizeof(path), s->pid, "task");
	do {
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		return fault_fail(fault, errno == ENOENT ? RDUMP_RF_EXITED : RDUMP_RF_OTHER, e,
			"cannot list the process's threads", errno);
	}
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		long off;

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int err = errno;

			close(fd);
			return fault_fail(fault, RDUMP_RF_OTHER, e, "cannot list the process's threads", err);
		}
		if (n == 0) {
			break;
		}
		for (off = 0; off < n;) {
			struct linux_dirent64_ *d = (struct linux_dirent64_ *) (void *) (buf + off);
			pid_t tid = 0;
			const char *c;
			rdump_remote_thread *th;

			off += d->d_reclen;
			for (c = d->d_name; *c >= '0' && *c <= '9'; c++) {
				tid = tid * 10 + (*c - '0');
			}
			if (*c != '\0' || tid <= 0 || find_thread(s, tid)) {
				continue;
			}
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
				int err = errno;

				if (err == ESRCH) {
					continue;   /* exited meanwhile */
				}
				close(fd);
				return fault_fail(fault, err == EPERM || err == EACCES ? RDUMP_RF_PERMISSION
					: RDUMP_RF_OTHER, e, "cannot attach to the process (PTRACE_SEIZE)", err);
			}
			th = rdump_vec_push(&s->threads);
			if (th == NULL) {
				ptrace(PTRACE_DETACH, tid, NULL, NULL);
				close(fd);
				return fault_fail(fault, RDUMP_RF_OTHER, e, "cannot allocate the thread list", ENOMEM);
			}
			th->tid = tid;
			th->held = 1;
			s->holding = 1;
			if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH) {
				int err = errno;

				close(fd);
				return fault_fail(fault, RDUMP_RF_OTHER, e, "cannot stop a thread (PTRACE_INTERRUPT)", err);
			}
			(*added)++;
		}
	}
	close(fd);
	return 0;
}

int rdump_remote_stop(rdump_remote_hold *s, int want_tp, rdump_remote_fault *fault, rdump_error *e)
{
	char state = rdump_remote_state(s->pid);
	int pass;

	*fault = RDUMP_RF_OTHER;
	if (state == 0 || state == 'Z' || state == 'X') {
		return fault_fail(fault, RDUMP_RF_EXITED, e, "the process exited", ESRCH);
	}
	if (state == 'T' || state == 't') {
		s->was_stopped = 1;
		return 0;
	}
	s->started = rdump_remote_now();
	for (pass = 0; pass < RDUMP_MAX_THREAD_PASSES; pass++) {
		size_t added, i;

		if (seize_new_threads(s, &added, fault, e) < 0) {
			rdump_remote_resume(s);
			return -1;
		}
		for (i = s->threads.count - added; i < s->threads.count; i++) {
			rdump_remote_thread *th = &RDUMP_VEC_AT(&s->threads, rdump_remote_thread, i);
			int r = wait_stopped(th);

			if (r < 0) {
				int err = errno;

				rdump_remote_resume(s);
				return fault_fail(fault, RDUMP_RF_OTHER, e, "cannot wait for a thread to stop", err);
			}
			if (r == 1 && th->tid == s->pid) {
				s->leader_gone = 1;
			}
		}
		/* Threads started by a thread before it stopped show up in the next pass. */
		if (added == 0) {
			break;
		}
	}
	if (s->leader_gone || s->threads.count == 0) {
		rdump_remote_resume(s);
		return fault_fail(fault, RDUMP_RF_EXITED, e, "the process exited", ESRCH);
	}
	if (pass == RDUMP_MAX_THREAD_PASSES) {
		rdump_remote_resume(s);
		return fault_fail(fault, RDUMP_RF_OTHER, e, "the process keeps starting threads", EAGAIN);
	}
	if (want_tp && read_tp(s->pid, &s->main_tp) < 0) {
		s->main_tp = 0;
	}
	return 0;
}

int rdump_remote_read_main_tp(rdump_remote_hold *s, rdump_error *e)
{
	rdump_remote_thread th;
	int r;

	if (s->holding) {
		return read_tp(s->pid, &s->main_tp) < 0 ? RDUMP_FAIL(e, "cannot read the thread pointer", errno) : 0;
	}
	if (ptrace(PTRACE_SEIZE, s->pid, NULL, NULL) < 0) {
		return RDUMP_FAIL(e, "cannot attach to the main thread (PTRACE_SEIZE)", errno);
	}
	th.tid = s->pid;
	th.held = 1;
	th.sig = 0;
	if (ptrace(PTRACE_INTERRUPT, s->pid, NULL, NULL) < 0) {
		int err = errno;

		ptrace(PTRACE_DETACH, s->pid, NULL, NULL);
		return RDUMP_FAIL(e, "cannot stop the main thread (PTRACE_INTERRUPT)", err);
	}
	r = wait_stopped(&th);
	if (r != 0) {
		return RDUMP_FAIL(e, "the main thread did not stop", r > 0 ? ESRCH : errno);
	}
	r = read_tp(s->pid, &s->main_tp);
	/* A group stop the target was in before persists across the detach. */
	ptrace(PTRACE_DETACH, s->pid, NULL, (void *) (uintptr_t) th.sig);
	return r < 0 ? RDUMP_FAIL(e, "cannot read the thread pointer", errno) : 0;
}

/* ---- the in-memory copy ------------------------------------------------- */

#ifndef MADV_POPULATE_WRITE
# define MADV_POPULATE_WRITE 23
#endif

static void buffer_release(rdump_snapshot *s)
{
	if (s->raw != NULL) {
		munmap(s->raw, s->raw_size);
	}
	s->raw = NULL;
	s->raw_size = 0;
	s->buf = NULL;
	s->capacity = 0;
	s->in_file = 0;
}

/*
 * The copy's buffer: 2 MiB aligned for transparent huge pages, which make
 * both the faults and the copy itself several times cheaper than 4 KiB pages.
 */
static int buffer_alloc(rdump_snapshot *s, uint64_t bytes)
{
	uint64_t ps = rdump_page_size(), size = (bytes + ps - 1) & ~(ps - 1);
	uintptr_t aligned;
	void *p;

	if (size == 0) {
		size = ps;
	}
	if (size > SIZE_MAX - RDUMP_MM_CHUNK) {
		errno = ENOMEM;
		return -1;
	}
	p = mmap(NULL, (size_t) (size + RDUMP_MM_CHUNK), PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		return -1;
	}
	s->raw = p;
	s->raw_size = (size_t) (size + RDUMP_MM_CHUNK);
	aligned = ((uintptr_t) p + RDUMP_MM_CHUNK - 1) & ~(uintptr_t) (RDUMP_MM_CHUNK - 1);
	s->buf = (unsigned char *) aligned;
	s->capacity = size;
	/* Advice only: without THP or MADV_POPULATE_WRITE (Linux < 5.14) pages fault in on first use. */
	madvise(s->buf, (size_t) size, MADV_HUGEPAGE);
	if (madvise(s->buf, (size_t) size, MADV_POPULATE_WRITE) < 0 && (errno == ENOMEM || errno == EFAULT)) {
		buffer_release(s);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int rdump_snapshot_reserve(rdump_snapshot *s, uint64_t bytes)
{
	buffer_release(s);
	return buffer_alloc(s, bytes);
}

/* Allocates the file's first size bytes (its length grows to them); EINTR retried. */
static int file_allocate(int fd, uint64_t size)
{
	int r;

	if (size > (uint64_t) INT64_MAX) {
		errno = EFBIG;
		return -1;
	}
	do {
		r = fallocate(fd, 0, 0, (off_t) size);
	} while (r < 0 && errno == EINTR);
	return r;
}

int rdump_snapshot_reserve_file(rdump_snapshot *s, int fd, uint64_t bytes)
{
	uint64_t ps = rdump_page_size(), size = (bytes + ps - 1) & ~(ps - 1);
	void *p;
	int err;

	buffer_release(s);
	if (size == 0) {
		size = ps;
	}
	/*
	 * Blocks first: a full disk is an error here, not a SIGBUS on a page of
	 * the mapping, and the target has not been stopped yet.
	 */
	if (file_allocate(fd, size) < 0) {
		goto fail;
	}
	p = mmap(NULL, (size_t) size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		goto fail;
	}
	s->raw = p;
	s->raw_size = (size_t) size;
	s->buf = p;
	s->capacity = size;
	s->in_file = 1;
	s->fd = fd;
	/* Before Linux 5.14 (EINVAL) the pages fault in during the read instead. */
	if (madvise(p, (size_t) size, MADV_POPULATE_WRITE) < 0 && errno != EINVAL) {
		goto fail;
	}
	return 0;
fail:
	err = errno;
	buffer_release(s);
	if (ftruncate(fd, 0) < 0) {
		/* A file that cannot be cut back: the caller's write fails on it as well. */
	}
	errno = err;
	return -1;
}

/* Grows a copy in the file to size bytes while the target is held; -1 leaves it as it was. */
static int file_grow(rdump_snapshot *s, uint64_t size)
{
	void *p;

	if (file_allocate(s->fd, size) < 0) {
		return -1;
	}
	p = mremap(s->raw, s->raw_size, (size_t) size, MREMAP_MAYMOVE);
	if (p == MAP_FAILED) {
		return -1;
	}
	s->raw = p;
	s->raw_size = (size_t) size;
	s->buf = p;
	s->capacity = size;
	return 0;
}

uint64_t rdump_snapshot_bytes(const rdump_vec *pieces)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < pieces->count; i++) {
		const rdump_piece *p = &RDUMP_VEC_AT(pieces, rdump_piece, i);

		if (!p->zero) {
			total += p->end - p->start;
		}
	}
	return total;
}

/* The piece holding addr, or -1. */
static ptrdiff_t find_piece(const rdump_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->npieces;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->pieces[mid].end <= addr) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo < s->npieces && s->pieces[lo].start <= addr) {
		return (ptrdiff_t) lo;
	}
	return -1;
}

/* Whether any page of the copied bytes [off, off + n) could not be read. */
static int any_bad(const rdump_snapshot *s, uint64_t off, uint64_t n)
{
	uint64_t ps = rdump_page_size(), pg;

	for (pg = off / ps; pg <= (off + n - 1) / ps; pg++) {
		if (s->bad[pg / 8] & (1u << (pg % 8))) {
			return 1;
		}
	}
	return 0;
}

static int snapshot_read(void *ctx, uint64_t addr, void *out, size_t n)
{
	rdump_snapshot *s = ctx;
	ptrdiff_t i = find_piece(s, addr);
	const rdump_piece *p;

	if (i < 0) {
		return 1;
	}
	p = &s->pieces[i];
	if (n > p->end - addr) {
		return 1;   /* spans pieces: let a live read answer */
	}
	if (p->zero) {
		memset(out, 0, n);
		return 0;
	}
	if (n > 0 && any_bad(s, s->offsets[i] + (addr - p->start), n)) {
		return -1;
	}
	memcpy(out, s->buf + s->at[i] + (addr - p->start), n);
	return 0;
}

static int snapshot_place(void *ctx, uint64_t addr, uint64_t len, uint64_t pos, const void **out)
{
	rdump_snapshot *s = ctx;
	ptrdiff_t i = find_piece(s, addr);
	const rdump_piece *p;
	uint64_t at;

	if (i < 0 || !s->in_file) {
		return 0;
	}
	p = &s->pieces[i];
	if (p->zero || len == 0 || len > p->end - addr) {
		return 0;
	}
	at = s->at[i] + (addr - p->start);
	if (pos > at) {
		return -1;
	}
	/*
	 * Below: a region before this one was dropped, and what follows moves
	 * down by as much; written from the copy in order, no byte is
	 * overwritten before it was read.
	 */
	if (pos < at || any_bad(s, s->offsets[i] + (addr - p->start), len)) {
		return 0;
	}
	*out = s->buf + at;
	return 1;
}

/* Zeros in the copy at buffer offset at for n bytes of copied offset off, marked unreadable. */
static void mark_bad(rdump_snapshot *s, uint64_t at, uint64_t off, uint64_t len)
{
	uint64_t ps = rdump_page_size(), pg;

	memset(s->buf + at, 0, len);
	for (pg = off / ps; pg <= (off + len - 1) / ps; pg++) {
		if (!(s->bad[pg / 8] & (1u << (pg % 8)))) {
			s->bad[pg / 8] |= (unsigned char) (1u << (pg % 8));
			s->bad_pages++;
		}
	}
}

/* One range that the batch read did not complete: page by page, zeros where nothing is left. */
static void fill_slowly(rdump_snapshot *s, rdump_target *t, uint64_t addr, uint64_t at, uint64_t off, uint64_t len)
{
	uint64_t ps = rdump_page_size(), done = 0;

	while (done < len) {
		uint64_t n = ps - ((addr + done) & (ps - 1));

		if (n > len - done) {
			n = len - done;
		}
		if (rdump_target_read(t, addr + done, s->buf + at + done, (size_t) n) < 0) {
			mark_bad(s, at + done, off + done, n);
		}
		done += n;
	}
}

/*
 * Where each piece's bytes go. In the output file, at the stream offset the
 * writer gives them: a region record (its head, then its pieces, zero ones
 * included) for each run of touching pieces, as rdump_dump_fd() writes them.
 * Returns the bytes buf must hold.
 */
static uint64_t lay_out(rdump_snapshot *s, uint64_t stream_start)
{
	uint64_t off = 0, place = stream_start;
	size_t i;

	for (i = 0; i < s->npieces; i++) {
		const rdump_piece *p = &s->pieces[i];

		if (i == 0 || p->start != s->pieces[i - 1].end) {
			place += RDUMP_REGION_HEAD;
		}
		s->offsets[i] = off;
		s->at[i] = s->in_file ? place : off;
		if (!p->zero) {
			off += p->end - p->start;
		}
		place += p->end - p->start;
	}
	return s->in_file ? place : off;
}

int rdump_snapshot_fill(rdump_snapshot *s, rdump_target *t, const rdump_vec *pieces,
	uint64_t stream_start, rdump_remote_fault *fault, rdump_error *e)
{
	struct iovec local[RDUMP_BATCH_IOV], remote[RDUMP_BATCH_IOV];
	uint64_t bufoff[RDUMP_BATCH_IOV], copyoff[RDUMP_BATCH_IOV];
	uint64_t ps = rdump_page_size(), done = 0, need, piece_off = 0;
	size_t i = 0;
	int batch_ok = 1;

	*fault = RDUMP_RF_OTHER;
	s->pieces = pieces->items;
	s->npieces = pieces->count;
	s->size = rdump_snapshot_bytes(pieces);
	s->offsets_size = 2 * (s->npieces ? s->npieces : 1) * sizeof(uint64_t);
	s->offsets = rdump_mem_alloc(s->offsets_size);
	s->at = s->offsets != NULL ? s->offsets + (s->npieces ? s->npieces : 1) : NULL;
	s->bad_size = (size_t) ((s->size / ps) / 8 + 1);
	s->bad = rdump_mem_alloc(s->bad_size);
	s->bad_pages = 0;
	if (s->offsets == NULL || s->bad == NULL) {
		rdump_snapshot_free(s, NULL);
		return RDUMP_FAIL(e, "cannot allocate memory for the copy of the target", ENOMEM);
	}
	need = lay_out(s, stream_start);
	if (s->in_file && s->capacity < need && file_grow(s, need) < 0) {
		/* No room in the file for the rest: the copy moves to memory, the writer writes it all. */
		buffer_release(s);
		need = lay_out(s, stream_start);
	}
	if (!s->in_file && (s->buf == NULL || s->capacity < need)) {
		buffer_release(s);
		if (buffer_alloc(s, need) < 0) {
			s->buf = NULL;
		}
	}
	if (s->buf == NULL) {
		rdump_snapshot_free(s, NULL);
		return RDUMP_FAIL(e, "cannot allocate memory for the copy of the target (lower --max-buffer)", ENOMEM);
	}
	i = 0;
	while (i < s->npieces) {
		size_t n = 0, k;
		uint64_t bytes = 0;
		ssize_t got;

		/* Gather up to RDUMP_BATCH_IOV ranges (long pieces split) for one syscall. */
		while (i < s->npieces && n < RDUMP_BATCH_IOV && bytes < RDUMP_BATCH_BYTES) {
			const rdump_piece *p = &s->pieces[i];
			uint64_t len;

			if (p->zero) {
				i++;
				continue;
			}
			len = p->end - p->start - piece_off;
			if (len > RDUMP_IOV_MAX_BYTES) {
				len = RDUMP_IOV_MAX_BYTES;
			}
			remote[n].iov_base = (void *) (uintptr_t) (p->start + piece_off);
			remote[n].iov_len = (size_t) len;
			bufoff[n] = s->at[i] + piece_off;
			copyoff[n] = s->offsets[i] + piece_off;
			local[n].iov_base = s->buf + bufoff[n];
			local[n].iov_len = (size_t) len;
			n++;
			bytes += len;
			piece_off += len;
			if (piece_off == p->end - p->start) {
				piece_off = 0;
				i++;
			}
		}
		if (n == 0) {
			break;
		}
		got = -1;
		if (batch_ok) {
			do {
				got = process_vm_readv(t->pid, local, n, remote, n, 0);
			} while (got < 0 && errno == EINTR);
			if (got < 0 && errno == ESRCH) {
				rdump_snapshot_free(s, NULL);
				return fault_fail(fault, RDUMP_RF_EXITED, e, "the process exited during the dump", ESRCH);
			}
			if (got < 0 && (errno == ENOSYS || errno == EPERM)) {
				batch_ok = 0;   /* rdump_target_read falls back to /proc/<pid>/mem */
			}
		}
		if (got < 0) {
			got = 0;
		}
		/* What the batch did not deliver, range by range. */
		for (k = 0; k < n; k++) {
			uint64_t len = local[k].iov_len, addr = (uint64_t) (uintptr_t) remote[k].iov_base;

			if ((uint64_t) got >= len) {
				got -= (ssize_t) len;
				continue;
			}
			addr += (uint64_t) got;
			if (rdump_target_read(t, addr, s->buf + bufoff[k] + (uint64_t) got, (size_t) (len - (uint64_t) got)) < 0) {
				fill_slowly(s, t, addr, bufoff[k] + (uint64_t) got, copyoff[k] + (uint64_t) got,
					len - (uint64_t) got);
			}
			got = 0;
		}
		done += bytes;
		if (s->progress) {
			s->progress(s->progress_ctx, done, s->size);
		}
	}
	if (s->bad_pages > 0 && (rdump_remote_state(t->pid) == 0 || rdump_remote_state(t->pid) == 'Z')) {
		rdump_snapshot_free(s, NULL);
		return fault_fail(fault, RDUMP_RF_EXITED, e, "the process exited during the dump", ESRCH);
	}
	t->read_hook = snapshot_read;
	t->read_hook_ctx = s;
	t->place_hook = s->in_file ? snapshot_place : NULL;
	return 0;
}

void rdump_snapshot_free(rdump_snapshot *s, rdump_target *t)
{
	if (t != NULL && t->read_hook_ctx == s) {
		t->read_hook = NULL;
		t->place_hook = NULL;
		t->read_hook_ctx = NULL;
	}
	rdump_mem_free(s->offsets, s->offsets_size);
	rdump_mem_free(s->bad, s->bad_size);
	buffer_release(s);
	s->offsets = NULL;
	s->at = NULL;
	s->bad = NULL;
}
