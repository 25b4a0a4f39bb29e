/*
 * scn_deadlock.c - a REAL AB/BA deadlock (run it only with halt_on_error=1).
 *
 * Two threads meet at a barrier, each holding its first lock (thread 1 A,
 * thread 2 B), then each asks for the other's: natively this hangs forever.
 * A checker that records an order before the thread blocks sees the cycle
 * when the second request arrives, before anyone waits on it, and with
 * halt_on_error ends the program there.
 *
 *   --ordered   both threads meet at the barrier first, then take A then B:
 *               no deadlock, nothing to report, exit 0.
 *
 * Prints "no deadlock" if both threads finish. 99 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t meet;
static int ordered;

static void *worker(void *arg)
{
    int second = *(int *)arg;
    pthread_mutex_t *first_lock = second && !ordered ? &mu_b : &mu_a;
    pthread_mutex_t *second_lock = second && !ordered ? &mu_a : &mu_b;

    if (ordered)
        pthread_barrier_wait(&meet);
    pthread_mutex_lock(first_lock); /* LW:dl-first */
    if (!ordered)
        pthread_barrier_wait(&meet);
    pthread_mutex_lock(second_lock); /* LW:dl-second */
    pthread_mutex_unlock(second_lock);
    pthread_mutex_unlock(first_lock);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[2];
    int ids[2] = {0, 1};

    ordered = scn_flag(argc, argv, "--ordered");
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("starting\n");
    SCN_CHECK(pthread_barrier_init(&meet, NULL, 2));
    for (int i = 0; i < 2; i++)
        SCN_CHECK(pthread_create(&t[i], NULL, worker, &ids[i]));
    for (int i = 0; i < 2; i++)
        SCN_CHECK(pthread_join(t[i], NULL));
    printf("no deadlock\n");
    return 0;
}
