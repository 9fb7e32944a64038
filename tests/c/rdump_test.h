/*
 * A minimal test harness for the C unit tests: checks count instead of
 * aborting, so one run reports every failure, and the final summary line is
 * what the build greps for.
 */
#ifndef RDUMP_TEST_H
#define RDUMP_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static int rdump_test_passed;
static int rdump_test_failed;

/* RDUMP_CHECK(cond, printf-format, args...): the message is printed on failure. */
#define RDUMP_CHECK(cond, ...) do { \
		if (cond) { \
			rdump_test_passed++; \
		} else { \
			rdump_test_failed++; \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

/* dir/name in one of 8 rotating buffers: the last 8 results stay valid. */
static inline char *rdump_test_path_in(const char *dir, const char *name)
{
	static char buf[8][1024];
	static int n;
	char *p = buf[n++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* Names in directory in that start with prefix ("" counts . and .. too); -1 if it cannot be read. */
static inline int rdump_test_count_prefix(const char *in, const char *prefix)
{
	DIR *d = opendir(in);
	struct dirent *de;
	int n = 0;

	if (d == NULL) {
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Prints "N passed, N failed"; the result is the process exit status. */
static inline int rdump_test_summary(void)
{
	printf("%d passed, %d failed\n", rdump_test_passed, rdump_test_failed);
	fflush(stdout);
	return rdump_test_failed != 0;
}

#endif
