/*
 * scn_long_cycle.c N - a lock-order cycle through N locks.
 *
 * N mutexes L0..L(N-1). Edge i takes Li then L((i+1) mod N). By default every
 * edge is made by its own thread, each joined before the next starts; the
 * last edge, L(N-1) -> L0, closes a cycle of exactly N locks (no shorter
 * cycle exists).
 *
 *   --open        leave out the closing edge: a chain, nothing to report.
 *   --one-thread  make edges 0..N-2 on one thread and the closing edge on
 *                 another.
 *
 * Exit status 0; 2 on a bad N; 99 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

static pthread_mutex_t *locks;
static long nlocks;
static long work;

/* Takes L[i] then L[(i+1) % N]. */
static void make_edge(long i)
{
    pthread_mutex_lock(&locks[i]); /* LW:lc-first */
    pthread_mutex_lock(&locks[(i + 1) % nlocks]); /* LW:lc-second */
    work++;
    pthread_mutex_unlock(&locks[(i + 1) % nlocks]);
    pthread_mutex_unlock(&locks[i]);
}

static void *edge_thread(void *arg)
{
    make_edge(*(long *)arg);
    return NULL;
}

static void *chain_thread(void *arg)
{
    (void)arg;
    for (long i = 0; i + 1 < nlocks; i++)
        make_edge(i);
    return NULL;
}

int main(int argc, char **argv)
{
    nlocks = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    if (nlocks < 2) {
        fprintf(stderr, "usage: scn_long_cycle N [--open] [--one-thread]  (N >= 2)\n");
        return 2;
    }
    int open = scn_flag(argc, argv, "--open");
    locks = calloc((size_t)nlocks, sizeof *locks);
    if (!locks)
        return SCN_FAILED;
    for (long i = 0; i < nlocks; i++)
        SCN_CHECK(pthread_mutex_init(&locks[i], NULL));

    if (scn_flag(argc, argv, "--one-thread")) {
        scn_run_thread(chain_thread, NULL);
    } else {
        for (long i = 0; i + 1 < nlocks; i++)
            scn_run_thread(edge_thread, &i);
    }
    if (!open) {
        long last = nlocks - 1;
        scn_run_thread(edge_thread, &last);
    }
    printf("edges made: %ld\n", work);
    for (long i = 0; i < nlocks; i++)
        SCN_CHECK(pthread_mutex_destroy(&locks[i]));
    free(locks);
    return 0;
}
