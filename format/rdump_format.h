/*
 * Constants and plain types of the RDUMP file format (see README, "File
 * format"), shared by the writer, the reader, the extension and rdump-cli.
 * Also the one place that refuses to build on targets the format cannot
 * describe: the layout is little-endian with 64-bit addresses.
 */
#ifndef RDUMP_FORMAT_H
#define RDUMP_FORMAT_H

#include <stdint.h>
#include <stddef.h>

#if !defined(__linux__)
# error "rdump supports Linux only: it reads /proc/<pid>/maps and /proc/<pid>/pagemap"
#endif
#if !defined(__LP64__) && !defined(_LP64)
# error "rdump supports 64-bit targets only: RDUMP addresses are 64-bit"
#endif
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
# error "rdump supports little-endian targets only: RDUMP integers are little-endian"
#endif

#define RDUMP_MAGIC            "RDUMP\0\0\0"
#define RDUMP_MAGIC_LEN        8
#define RDUMP_FORMAT_VERSION   3
#define RDUMP_FORMAT_MIN_READ  1
#define RDUMP_FORMAT_MAX_READ  3
#define RDUMP_EXT_VERSION      "0.1.0"

/* A length-prefixed string as it sits in the file (u32 length, bytes). */
typedef struct rdump_str {
	const char *ptr;
	uint32_t len;
} rdump_str;

/*
 * One line of /proc/<pid>/maps. The textual fields are kept verbatim so that
 * the writer reproduces exactly what the kernel printed; the numeric ones are
 * what the code reasons with.
 */
typedef struct rdump_map_entry {
	uint64_t begin;
	uint64_t end;
	uint64_t offset;
	uint64_t inode;
	rdump_str begin_s;
	rdump_str end_s;
	rdump_str offset_s;
	rdump_str dev_s;
	rdump_str name_s;
	uint8_t r, w, x, p;
} rdump_map_entry;

typedef struct rdump_module_global {
	rdump_str name;
	uint64_t address;
} rdump_module_global;

/* Why an operation failed: a static description and an errno value. */
typedef struct rdump_error {
	const char *what;
	int err;
} rdump_error;

/* Records why and evaluates to -1, for "return RDUMP_FAIL(...)". */
static inline int rdump_fail(rdump_error *e, const char *what, int err)
{
	e->what = what;
	e->err = err;
	return -1;
}
#define RDUMP_FAIL(e, w, code) rdump_fail((e), (w), (code))

#endif
