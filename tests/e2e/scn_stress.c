/*
 * scn_stress.c - many threads locking at the same time.
 *
 * THREADS threads (default 8) each run ITERS iterations (default 2,000). In
 * each, a thread picks two or three of 16 shared mutexes from its own
 * pseudo-random sequence and locks them nested in increasing index order
 * (consistent everywhere), bumping a counter under them.
 *
 * Beside them, and at the same time, two more threads use two private
 * mutexes X and Y 200 times each: one takes X then Y; the other takes Y and
 * then X with pthread_mutex_timedlock and a 1 ms timeout, backing off
 * (releasing Y and retrying) when it expires. The program never deadlocks,
 * but Y then X could wait on X while X then Y waits on Y: an inversion.
 *
 *   --ordered   the second thread takes X then Y as well: nothing to report.
 *
 * Prints the counters (the same on every run). 99 if a pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scn_util.h"

enum { NLOCKS = 16, PAIR_ITERS = 200 };

static pthread_mutex_t shared[NLOCKS];
static long counters[NLOCKS];
static pthread_mutex_t mu_x = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_y = PTHREAD_MUTEX_INITIALIZER;
static long pair_count;
static long iters = 2000;
static int ordered;

static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void *worker(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;

    for (long it = 0; it < iters; it++) {
        int n = 2 + (int)(next_rand(&seed) % 2);
        int idx[3];
        int lo = (int)(next_rand(&seed) % (NLOCKS - 2));
        idx[0] = lo;
        idx[1] = idx[0] + 1 + (int)(next_rand(&seed) % (unsigned)(NLOCKS - 2 - lo));
        idx[2] = idx[1] + 1 + (int)(next_rand(&seed) % (unsigned)(NLOCKS - 1 - idx[1]));
        for (int k = 0; k < n; k++)
            pthread_mutex_lock(&shared[idx[k]]); /* LW:stress-shared */
        counters[idx[n - 1]]++;
        for (int k = n - 1; k >= 0; k--)
            pthread_mutex_unlock(&shared[idx[k]]);
    }
    return NULL;
}

static void *pair_xy(void *arg)
{
    (void)arg;
    for (int i = 0; i < PAIR_ITERS; i++) {
        pthread_mutex_lock(&mu_x); /* LW:stress-x-first */
        pthread_mutex_lock(&mu_y); /* LW:stress-y-second */
        pair_count++;
        pthread_mutex_unlock(&mu_y);
        pthread_mutex_unlock(&mu_x);
    }
    return NULL;
}

static void *pair_yx(void *arg)
{
    (void)arg;
    for (int i = 0; i < PAIR_ITERS; i++) {
        if (ordered) {
            pthread_mutex_lock(&mu_x); /* LW:stress-ordered-x */
            pthread_mutex_lock(&mu_y); /* LW:stress-ordered-y */
            pair_count++;
            pthread_mutex_unlock(&mu_y);
            pthread_mutex_unlock(&mu_x);
            continue;
        }
        for (;;) {
            struct timespec ts;
            pthread_mutex_lock(&mu_y); /* LW:stress-inv-y-first */
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            int rc = pthread_mutex_timedlock(&mu_x, &ts); /* LW:stress-inv-x-timed */
            if (rc == 0) {
                pair_count++;
                pthread_mutex_unlock(&mu_x);
                pthread_mutex_unlock(&mu_y);
                break;
            }
            pthread_mutex_unlock(&mu_y);
            if (rc != ETIMEDOUT)
                exit(SCN_FAILED);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long nthreads = scn_opt_long(argc, argv, "--threads", 8);
    pthread_t th[64], px, py;

    iters = scn_opt_long(argc, argv, "--iters", 2000);
    ordered = scn_flag(argc, argv, "--ordered");
    if (nthreads < 1 || nthreads > 64)
        return 2;
    for (int i = 0; i < NLOCKS; i++)
        SCN_CHECK(pthread_mutex_init(&shared[i], NULL));
    SCN_CHECK(pthread_create(&px, NULL, pair_xy, NULL));
    SCN_CHECK(pthread_create(&py, NULL, pair_yx, NULL));
    for (long i = 0; i < nthreads; i++)
        SCN_CHECK(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i));
    for (long i = 0; i < nthreads; i++)
        SCN_CHECK(pthread_join(th[i], NULL));
    SCN_CHECK(pthread_join(px, NULL));
    SCN_CHECK(pthread_join(py, NULL));

    long total = 0;
    for (int i = 0; i < NLOCKS; i++)
        total += counters[i];
    printf("shared total %ld, pairs %ld\n", total, pair_count);
    return 0;
}
