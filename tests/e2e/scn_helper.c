/*
 * scn_helper.c - locks taken through the program's own helper function, so
 * that every lock call has the same return address (as with an out-of-line
 * std::mutex::lock()).
 *
 * T1 takes A then B, T2 takes B then A, each through lock_via_helper: an
 * inversion. The stacks must still show each thread's own callers: where T2
 * took B is T2's line, not a line of T1 (T1's thread has ended by then, and
 * T2 may run on its recycled state).
 *
 *   --overlap   T1 stays alive (waiting on a semaphore) while T2 runs.
 *   --ordered   T2 takes A then B: nothing to report.
 *
 * Exit status 0; 99 if a pthread call fails.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static sem_t t1_done, t2_done;
static int overlap, ordered;
static long work;

__attribute__((noinline)) static void lock_via_helper(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    __asm__ volatile("" ::: "memory"); /* keep the call a call, not a tail call */
}

static void *t1_main(void *arg)
{
    (void)arg;
    lock_via_helper(&mu_a); /* LW:helper-t1-a */
    lock_via_helper(&mu_b); /* LW:helper-t1-b */
    work++;
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    if (overlap) {
        sem_post(&t1_done);
        sem_wait(&t2_done);
    }
    return NULL;
}

static void *t2_main(void *arg)
{
    (void)arg;
    if (ordered) {
        lock_via_helper(&mu_a);
        lock_via_helper(&mu_b);
    } else {
        lock_via_helper(&mu_b); /* LW:helper-t2-b */
        lock_via_helper(&mu_a); /* LW:helper-t2-a */
    }
    work++;
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t1, t2;

    overlap = scn_flag(argc, argv, "--overlap");
    ordered = scn_flag(argc, argv, "--ordered");
    SCN_CHECK(sem_init(&t1_done, 0, 0));
    SCN_CHECK(sem_init(&t2_done, 0, 0));
    SCN_CHECK(pthread_create(&t1, NULL, t1_main, NULL));
    if (overlap)
        sem_wait(&t1_done);
    else
        SCN_CHECK(pthread_join(t1, NULL));
    SCN_CHECK(pthread_create(&t2, NULL, t2_main, NULL));
    SCN_CHECK(pthread_join(t2, NULL));
    if (overlap) {
        sem_post(&t2_done);
        SCN_CHECK(pthread_join(t1, NULL));
    }
    printf("work %ld\n", work);
    return 0;
}
