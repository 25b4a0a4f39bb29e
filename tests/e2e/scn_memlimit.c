/*
 * scn_memlimit.c [--count N] - many locks and many orders: N mutexes
 * (default 200,000) on the heap, locked nested in pairs (i then i+1) in one
 * pass, each pair once: N locks, N-1 orders.
 *
 * Prints the number of pairs and a checksum of the work done under the
 * locks, the same on every run. 99 if a pthread call or malloc fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

int main(int argc, char **argv)
{
    long n = scn_opt_long(argc, argv, "--count", 200000);
    pthread_mutex_t *mu = malloc((size_t)n * sizeof *mu);
    unsigned long sum = 0;

    if (!mu || n < 2)
        return SCN_FAILED;
    for (long i = 0; i < n; i++)
        SCN_CHECK(pthread_mutex_init(&mu[i], NULL));
    for (long i = 0; i + 1 < n; i++) {
        pthread_mutex_lock(&mu[i]); /* LW:ml-first */
        pthread_mutex_lock(&mu[i + 1]); /* LW:ml-second */
        sum = sum * 31 + (unsigned long)i;
        pthread_mutex_unlock(&mu[i + 1]);
        pthread_mutex_unlock(&mu[i]);
    }
    for (long i = 0; i < n; i++)
        SCN_CHECK(pthread_mutex_destroy(&mu[i]));
    free(mu);
    printf("pairs: %ld, checksum: %lu\n", n - 1, sum);
    return 0;
}
