/*
 * Another PHP process, seen from outside (rdump-cli): finding its engine
 * (ELF symbols of the php / php-fpm binary or libphp*.so plus the load bias),
 * its PHP version and build, its ZendMM heap; holding all its threads still
 * with ptrace for a consistent image; and an in-memory copy of the planned
 * memory, so the target runs on while the copy is written out.
 */
#ifndef RDUMP_REMOTE_H
#define RDUMP_REMOTE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include "dump.h"

/* Why a remote step failed, beyond rdump_error: decides rdump-cli's exit code. */
typedef enum rdump_remote_fault {
	RDUMP_RF_OTHER = 0,
	RDUMP_RF_NO_PROCESS,    /* no such pid, or already a zombie */
	RDUMP_RF_PERMISSION,    /* ptrace access refused */
	RDUMP_RF_NOT_PHP,       /* no mapping holds a PHP engine */
	RDUMP_RF_EXITED         /* the target went away while we worked on it */
} rdump_remote_fault;

/* What the engine mapping says about the target's PHP. */
typedef struct rdump_remote_php {
	char engine_path[PATH_MAX]; /* the mapping's path as /proc/<pid>/maps shows it */
	char version[32];       /* "8.2.36", or "" when only the API number was found */
	char build_id[64];      /* the target's ZEND_MODULE_BUILD_ID: "API20220829,NTS" */
	char tag[8];            /* RDUMP header tag: "v82" */
	int zts;
	int layouts_match;      /* same build id as the PHP headers this was compiled against */
	uint64_t load_bias;
	/* ZTS: addresses of the executor_globals_id, compiler_globals_id, basic_globals_id ints */
	uint64_t eg_id_at, cg_id_at, bg_id_at;
	int64_t tls_cache_tpoff;  /* _tsrm_ls_cache relative to the thread pointer */
	int have_tls_cache;
	rdump_php_addrs addrs;    /* eg, cg, basic_globals, mm_heap (0 = none found) */
	uint32_t heap_candidates; /* main chunks seen by the heap scan */
} rdump_remote_php;

/* ZEND_MODULE_BUILD_ID of the PHP headers this was compiled against. */
const char *rdump_remote_build_id(void);

/* /proc/<pid>/stat state letter ('R', 'S', 'T', 't', 'Z', ...), or 0 if the process is gone. */
char rdump_remote_state(pid_t pid);
/* TracerPid from /proc/<pid>/status: 0 when not traced, -1 when unknown. */
pid_t rdump_remote_tracer(pid_t pid);

/*
 * Checks that pid exists and that its memory may be read; fault says which
 * of no-process / permission applies.
 */
int rdump_remote_check_access(pid_t pid, rdump_remote_fault *fault, rdump_error *e);

/*
 * Finds the engine in the target's memory map (t->map must be read) and
 * fills php: symbols, load bias, version, build. NTS targets get their
 * globals' addresses here; ZTS targets need rdump_remote_zts_addrs.
 */
int rdump_remote_find_php(rdump_target *t, rdump_remote_php *php,
	rdump_remote_fault *fault, rdump_error *e);

/* ZTS: the main thread's globals, from its thread pointer (see rdump_remote_stop). */
int rdump_remote_zts_addrs(rdump_target *t, rdump_remote_php *php, uint64_t main_tp, rdump_error *e);

/*
 * Scans the target's anonymous mappings for the ZendMM main chunk: 2 MiB
 * aligned, its first word pointing at its own heap_slot, num 0, its list
 * links chunk-aligned, and the heap naming the chunk as main_chunk. Sets
 * php->addrs.mm_heap when exactly one is found.
 */
void rdump_remote_find_heap(rdump_target *t, rdump_remote_php *php);

/* One thread of a target. */
typedef struct rdump_remote_thread {
	pid_t tid;
	int held;       /* seized, not yet detached */
	int sig;        /* signal caught while stopping it, given back on detach */
} rdump_remote_thread;

typedef struct rdump_remote_hold {
	pid_t pid;
	int was_stopped;      /* stopped before we came: left alone, never resumed */
	int holding;          /* some threads are held */
	int leader_gone;      /* the main thread exited while we stopped it */
	rdump_vec threads;    /* rdump_remote_thread */
	uint64_t main_tp;     /* thread pointer of the main thread, 0 if not read */
	double started;       /* monotonic seconds when the first thread was stopped */
	double seconds;       /* how long the target was held, once resumed */
} rdump_remote_hold;

void rdump_remote_stop_init(rdump_remote_hold *s, pid_t pid);
/*
 * PTRACE_SEIZE + PTRACE_INTERRUPT on every thread, until a pass over
 * /proc/<pid>/task finds no new thread. A target that is already stopped
 * (state T or t) is not touched: was_stopped is set instead. With want_tp,
 * also reads the main thread's thread pointer. On failure, whatever was held
 * is released again.
 */
int rdump_remote_stop(rdump_remote_hold *s, int want_tp, rdump_remote_fault *fault, rdump_error *e);
/*
 * Holds the main thread just long enough to read its thread pointer (a ZTS
 * target dumped without stopping it, or one that was already stopped: a
 * group stop outlasts the detach).
 */
int rdump_remote_read_main_tp(rdump_remote_hold *s, rdump_error *e);
/* Detaches every held thread; idempotent and async-signal-safe. */
void rdump_remote_resume(rdump_remote_hold *s);
void rdump_remote_stop_free(rdump_remote_hold *s);

/* Monotonic clock in seconds. */
double rdump_remote_now(void);

/*
 * A copy of the planned memory of a held target (the non-zero pieces of
 * rdump_plan_build), read with process_vm_readv in large batches. Installed
 * as the target's read hook, it answers the writer's reads once the target
 * runs again. Pages that could not be read stay failures, as a live read
 * would have reported them.
 * The copy lives in anonymous memory, or in the output file's own pages
 * (rdump_snapshot_reserve_file): there each piece is read to the offset the
 * writer will give it, so the writer only adds the header and the region
 * heads, and the dump's bytes are copied once instead of three times.
 */
typedef struct rdump_snapshot {
	const rdump_piece *pieces;
	size_t npieces;
	uint64_t *offsets;       /* each piece's offset among the copied bytes: the bad-page bitmap's index */
	uint64_t *at;            /* where each piece's bytes sit in buf: offsets, or its stream offset in a file */
	size_t offsets_size;     /* of the mapping holding both arrays */
	unsigned char *buf;      /* anonymous: 2 MiB aligned inside [raw, raw + raw_size); file: raw */
	uint64_t size;           /* bytes of the copy */
	uint64_t capacity;       /* bytes buf can hold */
	void *raw;
	size_t raw_size;
	int in_file;             /* buf maps the output file, fd */
	int fd;
	unsigned char *bad;      /* bitmap of copied pages that could not be read */
	size_t bad_size;
	uint64_t bad_pages;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
} rdump_snapshot;

/* Bytes a snapshot of these pieces takes. */
uint64_t rdump_snapshot_bytes(const rdump_vec *pieces);
/*
 * Sets memory aside for a copy of up to bytes, before the target is
 * stopped: faulting fresh pages in while it is held would count against its
 * stop time. Huge pages where the kernel allows, populated now.
 */
int rdump_snapshot_reserve(rdump_snapshot *s, uint64_t bytes);
/*
 * The same in the output file, a new regular file open for reading and
 * writing that the dump will be written to: its first bytes are allocated
 * (fallocate), mapped shared and populated. The copy then costs no memory
 * besides the file's own pages, and the write no copy. -1 with errno when
 * the file system cannot (the file is then empty again): use
 * rdump_snapshot_reserve. The sink writing the dump must then be set
 * prefilled (rdump_sink_prefilled).
 */
int rdump_snapshot_reserve_file(rdump_snapshot *s, int fd, uint64_t bytes);
/*
 * Reads the pieces into memory and installs the read hook on t (and for a
 * copy in the output file the place hook; stream_start is then where the
 * writer puts the first region record). The pieces must stay valid until
 * rdump_snapshot_free. fault is EXITED when the target vanished meanwhile.
 */
int rdump_snapshot_fill(rdump_snapshot *s, rdump_target *t, const rdump_vec *pieces,
	uint64_t stream_start, rdump_remote_fault *fault, rdump_error *e);
/* Removes the hook from t and frees the copy; safe on a zeroed snapshot. */
void rdump_snapshot_free(rdump_snapshot *s, rdump_target *t);

#endif
