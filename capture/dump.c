/*
 * The plan (what to keep) and its execution through the writer; see dump.h.
 * Runs on the dump path: mmap'd memory only, no stdio, no malloc.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "dump.h"

enum policy { P_SKIP, P_WHOLE, P_RESIDENT, P_ROOTS_ONLY };

static enum policy policy_for(const rdump_target *t, size_t idx, const rdump_dump_opts *o)
{
	const rdump_map_entry *m = &RDUMP_VEC_AT(&t->map, rdump_map_entry, idx);
	rdump_map_kind kind = rdump_map_classify(m);

	if (!m->r || kind == RDUMP_MAP_SPECIAL) {
		return P_SKIP;
	}
	if (kind == RDUMP_MAP_FILE_RO) {
		return o->full ? P_WHOLE : P_SKIP;
	}
	if (o->naive || kind == RDUMP_MAP_FILE_RW) {
		return P_WHOLE;
	}
	if (kind == RDUMP_MAP_SHM) {
		return P_RESIDENT;
	}
	if (o->exclude_heap) {
		/* .bss: the anonymous tail of a binary's writable segment holds engine and module globals. */
		if (idx > 0 && kind == RDUMP_MAP_ANON) {
			const rdump_map_entry *prev = &RDUMP_VEC_AT(&t->map, rdump_map_entry, idx - 1);

			if (prev->end == m->begin && prev->w && rdump_map_classify(prev) == RDUMP_MAP_FILE_RW) {
				return P_RESIDENT;
			}
		}
		return P_ROOTS_ONLY;
	}
	return P_RESIDENT;
}

static int push_piece(rdump_vec *pieces, uint64_t start, uint64_t end, uint32_t zero,
	uint32_t *regions, uint64_t *total)
{
	rdump_piece *last = pieces->count ? &RDUMP_VEC_AT(pieces, rdump_piece, pieces->count - 1) : NULL;

	if (end <= start) {
		return 0;
	}
	*total += end - start;
	if (last == NULL || last->end != start) {
		(*regions)++;
	}
	if (last != NULL && last->end == start && last->zero == zero) {
		last->end = end;
		return 0;
	}
	last = rdump_vec_push(pieces);
	if (last == NULL) {
		return -1;
	}
	last->start = start;
	last->end = end;
	last->zero = zero;
	return 0;
}

int rdump_plan_build(rdump_target *t, const rdump_vec *roots, const rdump_dump_opts *o,
	rdump_vec *pieces, uint32_t *region_count, uint64_t *total_bytes, rdump_error *e)
{
	const rdump_range *rv = roots ? roots->items : NULL;
	size_t nroots = roots ? roots->count : 0, ri = 0, i;
	uint64_t ps = rdump_page_size();
	unsigned char *res = t->mc_buf == NULL ? NULL : rdump_mem_alloc(RDUMP_PM_BATCH);

	if (res == NULL) {
		return RDUMP_FAIL(e, "cannot allocate the residency buffer", ENOMEM);
	}
	*region_count = 0;
	*total_bytes = 0;
	pieces->count = 0;
	for (i = 0; i < t->map.count; i++) {
		const rdump_map_entry *m = &RDUMP_VEC_AT(&t->map, rdump_map_entry, i);
		enum policy p = policy_for(t, i, o);
		uint64_t addr, begin = m->begin;

		/*
		 * Regions must ascend and never overlap, but the maps of a process
		 * that runs on (rdump-cli --no-stop-process) are read in several
		 * chunks and can repeat part of a mapping that grew or merged in
		 * between: plan only what lies above what is planned already.
		 */
		if (pieces->count > 0) {
			uint64_t planned_end = RDUMP_VEC_AT(pieces, rdump_piece, pieces->count - 1).end;

			if (begin < planned_end) {
				begin = planned_end;
			}
		}
		if (p == P_SKIP || begin >= m->end) {
			continue;
		}
		if (p == P_WHOLE) {
			if (push_piece(pieces, begin, m->end, 0, region_count, total_bytes) < 0) {
				goto nomem;
			}
			continue;
		}
		for (addr = begin; addr < m->end;) {
			size_t n = (size_t) ((m->end - addr) / ps), k;

			if (n > RDUMP_PM_BATCH) {
				n = RDUMP_PM_BATCH;
			}
			if (rdump_target_residency(t, m, addr, n, res) < 0) {
				memset(res, 1, n);
			}
			for (k = 0; k < n; k++, addr += ps) {
				int in_root;

				while (ri < nroots && rv[ri].end <= addr) {
					ri++;
				}
				in_root = ri < nroots && rv[ri].start < addr + ps;
				if (p == P_ROOTS_ONLY && !in_root) {
					continue;
				}
				if (res[k]) {
					if (push_piece(pieces, addr, addr + ps, 0, region_count, total_bytes) < 0) {
						goto nomem;
					}
				} else if (in_root) {
					if (push_piece(pieces, addr, addr + ps, 1, region_count, total_bytes) < 0) {
						goto nomem;
					}
				}
			}
		}
	}
	rdump_mem_free(res, RDUMP_PM_BATCH);
	return 0;
nomem:
	rdump_mem_free(res, RDUMP_PM_BATCH);
	return RDUMP_FAIL(e, "cannot allocate the dump plan", ENOMEM);
}

/* A region is dropped only when none of its pages can be read any more. */
static int region_vanished(rdump_target *t, const rdump_piece *first, size_t npieces)
{
	uint64_t ps = rdump_page_size();
	size_t i;
	char c;

	if (rdump_target_read(t, first->start, &c, 1) == 0) {
		return 0;
	}
	for (i = 0; i < npieces; i++) {
		uint64_t a;

		for (a = first[i].start; a < first[i].end; a += ps) {
			if (rdump_target_read(t, a, &c, 1) == 0) {
				return 0;
			}
		}
	}
	return 1;
}

#define RDUMP_COPY_BUF ((size_t) 1 << 20)

/* Returns -2 when the copy in the output file does not match the writer's layout. */
static int copy_read(rdump_target *t, rdump_writer *w, uint64_t addr, uint64_t len,
	unsigned char *buf, uint64_t *zero_pages)
{
	uint64_t ps = rdump_page_size();

	if (t->place_hook != NULL) {
		const void *at = NULL;
		int r = t->place_hook(t->read_hook_ctx, addr, len, w->pos, &at);

		if (r > 0) {
			return rdump_writer_placed(w, at, len);
		}
		if (r < 0) {
			return -2;
		}
	}
	while (len > 0) {
		size_t n = len > RDUMP_COPY_BUF ? RDUMP_COPY_BUF : (size_t) len;

		if (rdump_target_read(t, addr, buf, n) < 0) {
			size_t off;

			/* Page by page: keep what is still there, zeros for what vanished. */
			for (off = 0; off < n; off += ps) {
				size_t k = n - off < ps ? n - off : ps;

				if (rdump_target_read(t, addr + off, buf + off, k) < 0) {
					memset(buf + off, 0, k);
					(*zero_pages)++;
				}
			}
		}
		if (rdump_writer_bytes(w, buf, n) < 0) {
			return -1;
		}
		addr += n;
		len -= n;
	}
	return 0;
}

typedef struct progress_bridge {
	const rdump_dump_opts *o;
	uint64_t total;
} progress_bridge;

static void progress_cb(void *ctx, uint64_t done)
{
	progress_bridge *b = ctx;

	b->o->progress(b->o->progress_ctx, done, b->total);
}

int rdump_dump_fd(rdump_target *t, const rdump_dump_opts *o, int fd,
	rdump_dump_result *res, rdump_error *e)
{
	rdump_vec roots, pieces;
	rdump_writer *w = NULL;
	unsigned char *buf = NULL;
	rdump_header h;
	uint32_t regions = 0;
	uint64_t total = 0, read_zero_pages = 0;
	size_t i, j;
	int rc = -1;
	progress_bridge bridge;
	rdump_copy_mode copy = o->copy;
	rdump_dump_opts keep_heap;

	memset(res, 0, sizeof(*res));
	/* Without ZendMM (or without PHP's layouts) PHP's own data lives where exclude-heap drops it. */
	if (o->exclude_heap && (o->php == NULL || o->php_foreign || o->php->mm_heap == 0)) {
		keep_heap = *o;
		keep_heap.exclude_heap = 0;
		o = &keep_heap;
		res->exclude_heap_ignored = 1;
	}
	rdump_vec_init(&roots, sizeof(rdump_range));
	rdump_vec_init(&pieces, sizeof(rdump_piece));
	if (rdump_target_read_maps(t, e) < 0) {
		goto out;
	}
	if (o->php != NULL && !o->naive && !o->php_foreign) {
		if (rdump_php_roots(t, o->php, &roots, &res->php) < 0) {
			RDUMP_FAIL(e, "cannot allocate the list of PHP memory", ENOMEM);
			goto out;
		}
		/* The C heap is left out: add back the engine metadata that lives there. */
		if (o->exclude_heap && rdump_php_meta(t, o->php, &roots, &res->meta) < 0) {
			RDUMP_FAIL(e, "cannot allocate the list of engine metadata", ENOMEM);
			goto out;
		}
		rdump_ranges_normalize(&roots);
	}
	if (rdump_plan_build(t, &roots, o, &pieces, &regions, &total, e) < 0) {
		goto out;
	}
	memset(&h, 0, sizeof(h));
	h.php_version = o->php_version ? o->php_version : rdump_php_version_tag();
	h.pid = o->header_pid ? o->header_pid : (uint64_t) t->pid;
	h.eg_address = o->php ? o->php->eg : 0;
	h.cg_address = o->php ? o->php->cg : 0;
	h.module_globals = o->module_globals;
	h.module_globals_count = o->module_globals_count;
	h.map = t->map.items;
	h.map_count = (uint32_t) t->map.count;
	h.region_count = regions;
	if (o->planned != NULL && o->planned(o->planned_ctx, t, &pieces, total, rdump_writer_header_size(&h), e) < 0) {
		goto out;
	}
	/* zlib must never read region memory itself: a compressed dump copies it through the kernel first. */
	if (o->compress && copy == RDUMP_COPY_KERNEL) {
		copy = RDUMP_COPY_READ;
	}
	w = rdump_mem_alloc(sizeof(*w));
	if (w == NULL || (copy == RDUMP_COPY_READ && (buf = rdump_mem_alloc(RDUMP_COPY_BUF)) == NULL)) {
		RDUMP_FAIL(e, "cannot allocate the writer", ENOMEM);
		goto out;
	}
	if (!o->compress) {
		rdump_writer_init(w, fd);
		if (o->out_prefilled) {
			rdump_sink_prefilled(&w->sink);
		}
	} else if (rdump_writer_init_gzip(w, fd, o->compress_level) < 0) {
		RDUMP_FAIL(e, w->err == EINVAL ? "the compression level must be from 1 to 9"
			: "cannot allocate the compressor", w->err);
		goto out;
	}
	if (o->progress) {
		bridge.o = o;
		bridge.total = total;
		w->progress = progress_cb;
		w->progress_ctx = &bridge;
	}
	/* After the hook: rdump-cli has let the target run on, and this reads its status file. */
	h.rss_bytes = o->header_rss ? o->header_rss : rdump_proc_rss(t->pid);
	if (rdump_writer_header(w, &h) < 0) {
		goto write_error;
	}
	for (i = 0; i < pieces.count; i = j) {
		const rdump_piece *first = &RDUMP_VEC_AT(&pieces, rdump_piece, i);
		uint64_t end = first->end;

		for (j = i + 1; j < pieces.count && RDUMP_VEC_AT(&pieces, rdump_piece, j).start == end; j++) {
			end = RDUMP_VEC_AT(&pieces, rdump_piece, j).end;
		}
		/*
		 * region_count is already out in a stream that cannot seek (gzip,
		 * pipe): there a region that vanished is kept, its pages as zeros.
		 */
		if (copy != RDUMP_COPY_DIRECT && w->seekable && region_vanished(t, first, j - i)) {
			res->regions_dropped++;
			continue;
		}
		if (rdump_writer_region_begin(w, first->start, end - first->start) < 0) {
			goto write_error;
		}
		for (; first < &RDUMP_VEC_AT(&pieces, rdump_piece, j); first++) {
			uint64_t len = first->end - first->start;
			int r;

			if (first->zero) {
				r = rdump_writer_zeros(w, len);
			} else if (copy == RDUMP_COPY_KERNEL || (copy == RDUMP_COPY_DIRECT && o->compress)) {
				r = rdump_writer_mem(w, first->start, len);
			} else if (copy == RDUMP_COPY_DIRECT) {
				r = rdump_writer_bytes(w, (const void *) (uintptr_t) first->start, len);
			} else {
				r = copy_read(t, w, first->start, len, buf, &read_zero_pages);
			}
			if (r == -2) {
				RDUMP_FAIL(e, "the copy of the process in the output file does not match the dump's layout", EIO);
				goto out;
			}
			if (r < 0) {
				goto write_error;
			}
		}
	}
	if (rdump_writer_finish(w) < 0) {
		goto write_error;
	}
	res->file_bytes = w->sink.out_bytes;
	res->rdump_bytes = w->pos;
	res->region_bytes = w->data_bytes;
	res->hole_bytes = w->hole_bytes;
	res->zero_pages = w->zero_pages + read_zero_pages;
	res->regions = w->regions_written;
	res->map_entries = h.map_count;
	rc = 0;
	goto out;
write_error:
	if (w->err == ENOSPC || w->err == EDQUOT) {
		RDUMP_FAIL(e, "the disk is full", w->err);
	} else {
		RDUMP_FAIL(e, "cannot write the dump", w->err);
	}
out:
	if (w != NULL) {
		rdump_writer_release(w);
		rdump_mem_free(w, sizeof(*w));
	}
	rdump_mem_free(buf, RDUMP_COPY_BUF);
	rdump_vec_free(&roots);
	rdump_vec_free(&pieces);
	return rc;
}

int rdump_dump_path(rdump_target *t, const rdump_dump_opts *o, const char *path,
	rdump_dump_result *res, rdump_error *e)
{
	rdump_output out;

	if (rdump_output_open(&out, path, e) < 0) {
		return -1;
	}
	if (rdump_dump_fd(t, o, out.fd, res, e) < 0) {
		rdump_output_abort(&out);
		return -1;
	}
	return rdump_output_commit(&out, e);
}
