/*
 * scn_threads_many.c [--count N] [--batch K] [--inverted-last] - many
 * short-lived threads.
 *
 * N threads (default 10,000) are created and joined in batches of K
 * (default 100), K alive at a time. Each takes mu_a, then mu_b, then its
 * batch's mutex (initialised for the batch and destroyed after it), bumps
 * a counter and unlocks. Prints the count.
 *
 *   --inverted-last  the very last thread takes mu_b then mu_a, alone in
 *                    its batch: an inversion made by the N-th thread.
 *
 * 99 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t batch_mu;
static long counter;

static void *one(void *arg)
{
    if (arg) {
        pthread_mutex_lock(&mu_b); /* LW:tm-inv-b */
        pthread_mutex_lock(&mu_a); /* LW:tm-inv-a */
    } else {
        pthread_mutex_lock(&mu_a); /* LW:tm-a */
        pthread_mutex_lock(&mu_b); /* LW:tm-b */
    }
    pthread_mutex_lock(&batch_mu); /* LW:tm-batch */
    counter++;
    pthread_mutex_unlock(&batch_mu);
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = scn_opt_long(argc, argv, "--count", 10000);
    long k = scn_opt_long(argc, argv, "--batch", 100);
    int inverted_last = scn_flag(argc, argv, "--inverted-last");
    pthread_t *t = calloc((size_t)k, sizeof *t);

    if (!t || k <= 0)
        return SCN_FAILED;
    for (long done = 0; done < n;) {
        long m = n - done < k ? n - done : k;
        /* the inverted thread runs alone (with others it could deadlock for real) */
        int last_alone = inverted_last && done + m == n;
        if (last_alone && m > 1)
            m--;
        SCN_CHECK(pthread_mutex_init(&batch_mu, NULL));
        for (long i = 0; i < m; i++) {
            void *arg = last_alone && done + i == n - 1 ? (void *)1 : NULL;
            SCN_CHECK(pthread_create(&t[i], NULL, one, arg));
        }
        for (long i = 0; i < m; i++)
            SCN_CHECK(pthread_join(t[i], NULL));
        SCN_CHECK(pthread_mutex_destroy(&batch_mu));
        done += m;
    }
    printf("threads: %ld, counter: %ld\n", n, counter);
    free(t);
    return 0;
}
