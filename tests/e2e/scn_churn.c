/*
 * scn_churn.c - many short-lived mutexes, at most two alive at a time.
 *
 * N times (default 200,000; --count N), a mutex at a new address (the next
 * slot of one big calloc'd array) is initialised, locked, unlocked and
 * destroyed. With --nested each one is locked while a long-lived mutex G is
 * held (an order G -> M that ends with M). Consistent: nothing to report.
 * The number of live locks never exceeds two, so a checker's memory for
 * them should not grow with N.
 *
 * Exit status 0 (99 if a pthread call or calloc fails).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

static pthread_mutex_t g = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
    long n = scn_opt_long(argc, argv, "--count", 200000);
    int nested = scn_flag(argc, argv, "--nested");
    pthread_mutex_t *slots = calloc((size_t)n, sizeof *slots);

    if (!slots)
        return SCN_FAILED;
    for (long i = 0; i < n; i++) {
        SCN_CHECK(pthread_mutex_init(&slots[i], NULL));
        if (nested)
            pthread_mutex_lock(&g); /* LW:churn-g */
        pthread_mutex_lock(&slots[i]); /* LW:churn-m */
        pthread_mutex_unlock(&slots[i]);
        if (nested)
            pthread_mutex_unlock(&g);
        SCN_CHECK(pthread_mutex_destroy(&slots[i]));
    }
    free(slots);
    printf("%ld mutex lifetimes\n", n);
    return 0;
}
