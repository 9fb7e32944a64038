/*
 * Inflating a compressed dump (a gzip stream of RDUMP bytes) into a file,
 * leaving all-zero 4 KiB blocks as holes where the output can seek: rdump-cli
 * unpack publishes the result, the reader parses it from an unlinked
 * temporary file. Strict, because a dump that inflates only partly must not
 * pass for a whole one: a stream that is corrupt, fails its crc32 or length
 * check, ends early, or is followed by anything but another gzip member
 * (concatenated members are standard gzip) is an error.
 * Command-line side only (uses malloc): the dump path never inflates.
 */
#ifndef RDUMP_GUNZIP_H
#define RDUMP_GUNZIP_H

#include <stdint.h>
#include <stddef.h>

typedef enum rdump_gunzip_status {
	RDUMP_GUNZIP_OK = 0,
	RDUMP_GUNZIP_READ,      /* reading the input failed: res->err */
	RDUMP_GUNZIP_WRITE,     /* writing the output failed: res->err */
	RDUMP_GUNZIP_NOMEM,
	RDUMP_GUNZIP_CORRUPT,   /* not gzip, bad deflate data, crc32 or length mismatch */
	RDUMP_GUNZIP_TRUNCATED, /* the input ends inside the stream */
	RDUMP_GUNZIP_TRAILING   /* bytes after the last member that are not another member */
} rdump_gunzip_status;

typedef struct rdump_gunzip_result {
	uint64_t in_bytes;      /* compressed bytes read */
	uint64_t out_bytes;     /* bytes inflated: the length of the output */
	uint64_t hole_bytes;    /* of out_bytes, left as holes */
	uint32_t members;       /* gzip members inflated */
	int err;                /* errno, for READ and WRITE */
	char message[256];      /* what went wrong and where; no path, the caller adds it */
} rdump_gunzip_result;

/* The first bytes of a gzip stream (RFC 1952): 1f 8b. */
int rdump_gunzip_magic(const unsigned char *p, size_t n);

/*
 * Reads in_fd from its current offset to its end and writes the inflated
 * bytes to out_fd from its current offset (a fresh file: holes read back as
 * zeros). Where out_fd seeks, it is cut to the inflated length at the end.
 */
rdump_gunzip_status rdump_gunzip_fd(int in_fd, int out_fd, rdump_gunzip_result *res);

#endif
