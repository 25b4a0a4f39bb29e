/*
 * scn_output.c - lots of buffered output around an AB/BA inversion.
 *
 * Writes LINES lines (default 100,000; --lines N) to stdout with printf,
 * half before the inversion and half after, and a few lines to stderr; the
 * inversion is thread 1 taking A then B and, after it is joined, thread 2
 * taking B then A. Returns 0 from main, leaving stdio to flush at exit what
 * it still buffers.
 *
 *   --file PATH also writes 10,000 lines to PATH through a FILE opened with
 *               fopen and never closed or flushed (stdio flushes it at exit).
 *   --ordered   thread 2 takes A then B: nothing to report.
 *
 * 99 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static int ordered;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:out-a-first */
    pthread_mutex_lock(&mu_b); /* LW:out-b-second */
    printf("thread 1 holds A and B\n");
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    pthread_mutex_t *first = ordered ? &mu_a : &mu_b;
    pthread_mutex_t *second = ordered ? &mu_b : &mu_a;

    pthread_mutex_lock(first); /* LW:out-t2-first */
    pthread_mutex_lock(second); /* LW:out-t2-second */
    printf("thread 2 holds both\n");
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

int main(int argc, char **argv)
{
    long lines = scn_opt_long(argc, argv, "--lines", 100000);

    ordered = scn_flag(argc, argv, "--ordered");
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--file") == 0) {
            FILE *f = fopen(argv[i + 1], "w");
            if (!f)
                return SCN_FAILED;
            for (int k = 0; k < 10000; k++)
                fprintf(f, "file line %d\n", k);
            fprintf(f, "file end\n");
        }
    }
    fprintf(stderr, "scn_output: starting\n");
    for (long i = 0; i < lines / 2; i++)
        printf("line %ld: the quick brown fox jumps over the lazy dog\n", i);
    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    fprintf(stderr, "scn_output: threads done\n");
    for (long i = lines / 2; i < lines; i++)
        printf("line %ld: the quick brown fox jumps over the lazy dog\n", i);
    printf("end of output (no newline after this)");
    fprintf(stderr, "scn_output: returning 0\n");
    return 0;
}
