/*
 * scn_many_held.c - one thread holds many mutexes at once.
 *
 * N mutexes (default 1,000; --count N). Thread 1 locks all of them, nested,
 * in increasing order, then unlocks them in reverse order. Thread 2 does the
 * same but unlocks them oldest first (never the top of its held stack until
 * the last one). Consistent: nothing to report.
 *
 *   --reverse-one  a third thread takes them all again with the middle pair
 *                  swapped (N/2 + 1 before N/2): one inversion of two locks.
 *
 * Exit status 0 (99 if a pthread call or malloc fails).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

static pthread_mutex_t *locks;
static long nlocks = 1000;

static void *lock_all_lifo(void *arg)
{
    (void)arg;
    for (long i = 0; i < nlocks; i++)
        pthread_mutex_lock(&locks[i]); /* LW:mh-lock */
    for (long i = nlocks - 1; i >= 0; i--)
        pthread_mutex_unlock(&locks[i]);
    return NULL;
}

static void *lock_all_fifo(void *arg)
{
    (void)arg;
    for (long i = 0; i < nlocks; i++)
        pthread_mutex_lock(&locks[i]); /* LW:mh-lock-fifo */
    for (long i = 0; i < nlocks; i++)
        pthread_mutex_unlock(&locks[i]);
    return NULL;
}

static void *lock_all_one_swapped(void *arg)
{
    (void)arg;
    long mid = nlocks / 2;
    for (long k = 0; k < nlocks; k++) {
        long i = k == mid ? mid + 1 : k == mid + 1 ? mid : k;
        pthread_mutex_lock(&locks[i]); /* LW:mh-lock-swapped */
    }
    for (long i = nlocks - 1; i >= 0; i--)
        pthread_mutex_unlock(&locks[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    nlocks = scn_opt_long(argc, argv, "--count", 1000);
    if (nlocks < 4) {
        fprintf(stderr, "scn_many_held: --count must be at least 4\n");
        return 2;
    }
    locks = calloc((size_t)nlocks, sizeof *locks);
    if (!locks)
        return SCN_FAILED;
    for (long i = 0; i < nlocks; i++)
        SCN_CHECK(pthread_mutex_init(&locks[i], NULL));

    scn_run_thread(lock_all_lifo, NULL);
    scn_run_thread(lock_all_fifo, NULL);
    if (scn_flag(argc, argv, "--reverse-one"))
        scn_run_thread(lock_all_one_swapped, NULL);

    printf("held %ld mutexes at once\n", nlocks);
    return 0;
}
