/*
 * Host program of tests/e2e/zts_threads.sh: PHP's embed SAPI on a ZTS build
 * with several threads at once, as FrankenPHP runs PHP. Each thread gets its
 * own TSRM resources (and so its own EG, CG and ZendMM heap), starts its own
 * request and runs its own script; the main thread keeps the request that
 * php_embed_init() opened. Prints one "thread N: exit status S" line per
 * thread and exits 0 once every thread has joined.
 *
 * Usage: zts_threads SCRIPT...   (one thread per script; INI from $PHPRC)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sapi/embed/php_embed.h>

#ifndef ZTS
# error "zts_threads needs the headers of a ZTS build of PHP"
#endif

#define MAX_THREADS 64

typedef struct job {
	int n;
	const char *script;
	const char *failure; /* NULL: the request ran */
	int exit_status;
} job;

static void *run(void *arg)
{
	job *j = arg;
	zend_file_handle fh;

	/* this thread's globals: every module's GINIT runs for it here */
	(void) ts_resource(0);
	SG(options) |= SAPI_OPTION_NO_CHDIR;
	SG(request_info).argc = 0;
	SG(request_info).argv = NULL;
	if (php_request_startup() == FAILURE) {
		j->failure = "php_request_startup() failed";
		ts_free_thread();
		return NULL;
	}
	SG(headers_sent) = 1;
	SG(request_info).no_headers = 1;
	zend_stream_init_filename(&fh, j->script);
	php_execute_script(&fh);
#if PHP_VERSION_ID >= 80100
	/* from 8.1 the caller owns the handle's opened_path and buffer */
	zend_destroy_file_handle(&fh);
#endif
	/* a fatal error (the OOM the script ends with) is 255 */
	j->exit_status = EG(exit_status);
	php_request_shutdown(NULL);
	ts_free_thread();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[MAX_THREADS];
	job jobs[MAX_THREADS];
	int n = argc - 1, i, rc = 0;

	if (n < 1 || n > MAX_THREADS) {
		fprintf(stderr, "usage: %s SCRIPT... (1 to %d scripts, one thread each)\n", argv[0], MAX_THREADS);
		return 2;
	}
	if (php_embed_init(0, NULL) == FAILURE) {
		fprintf(stderr, "php_embed_init() failed\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].n = i;
		jobs[i].script = argv[i + 1];
		if (pthread_create(&tid[i], NULL, run, &jobs[i]) != 0) {
			fprintf(stderr, "pthread_create() failed for thread %d\n", i);
			n = i;
			rc = 1;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
	}
	php_embed_shutdown();
	for (i = 0; i < n; i++) {
		if (jobs[i].failure) {
			printf("thread %d: %s\n", i, jobs[i].failure);
			rc = 1;
		} else {
			printf("thread %d: exit status %d\n", i, jobs[i].exit_status);
		}
	}
	return rc;
}
