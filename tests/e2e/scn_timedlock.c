/*
 * scn_timedlock.c - a timed lock waits, so it orders like a lock.
 *
 * Thread 1 holds A and takes B with pthread_mutex_timedlock and a generous
 * timeout (it succeeds at once: nobody holds B). After it is joined, thread 2
 * takes B then A. A timed lock can wait, so A -> B is an order: an inversion.
 *
 *   --ordered       thread 2 takes A then B (B timed again): nothing to report.
 *   --clocklock     use pthread_mutex_clocklock (CLOCK_MONOTONIC) instead.
 *   --timeout-fails another thread holds B while thread 1, holding A, asks
 *                   for B with a 20 ms timeout, which expires (ETIMEDOUT). The
 *                   attempt could have waited, so A -> B still counts; then
 *                   thread 2 takes B then A: an inversion (with --ordered:
 *                   A then B, nothing).
 *
 * The threads are sequenced with joins and semaphores; only the expiring
 * timeout waits on the clock, and its outcome does not depend on timing.
 * Exit status 0; 4 if a timed lock does not end as described; 99 if a
 * pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static int ordered, use_clocklock, timeout_fails;
static sem_t b_held, b_may_go;
static int work;

/* The absolute time `ms` milliseconds from now on `clock`. */
static struct timespec deadline(clockid_t clock, long ms)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Takes B with a timed lock; returns its result. */
static int timed_lock_b(long ms)
{
    if (use_clocklock) {
        struct timespec ts = deadline(CLOCK_MONOTONIC, ms);
        return pthread_mutex_clocklock(&mu_b, CLOCK_MONOTONIC, &ts); /* LW:tl-b-clock */
    }
    struct timespec ts = deadline(CLOCK_REALTIME, ms);
    return pthread_mutex_timedlock(&mu_b, &ts); /* LW:tl-b-timed */
}

/* Thread 1: holds A and asks for B with a timed lock. */
static void *thread1(void *arg)
{
    (void)arg;
    if (timeout_fails)
        while (sem_wait(&b_held) != 0)
            continue;
    pthread_mutex_lock(&mu_a); /* LW:tl-a-first */
    int rc = timed_lock_b(timeout_fails ? 20 : 60000);
    if (timeout_fails ? rc != ETIMEDOUT : rc != 0) {
        fprintf(stderr, "scn_timedlock: timed lock of B returned %d\n", rc);
        exit(4);
    }
    work++;
    if (rc == 0)
        pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    if (timeout_fails)
        sem_post(&b_may_go);
    return NULL;
}

/* --timeout-fails: holds B until thread 1's timed lock has expired. */
static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_b); /* LW:tl-holder-b */
    sem_post(&b_held);
    while (sem_wait(&b_may_go) != 0)
        continue;
    pthread_mutex_unlock(&mu_b);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_mutex_lock(&mu_a); /* LW:tl-t2-ordered-a */
        if (timed_lock_b(60000) != 0)
            exit(4);
    } else {
        pthread_mutex_lock(&mu_b); /* LW:tl-t2-b-first */
        pthread_mutex_lock(&mu_a); /* LW:tl-t2-a-second */
    }
    work++;
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
    return NULL;
}

int main(int argc, char **argv)
{
    ordered = scn_flag(argc, argv, "--ordered");
    use_clocklock = scn_flag(argc, argv, "--clocklock");
    timeout_fails = scn_flag(argc, argv, "--timeout-fails");

    if (timeout_fails) {
        pthread_t h, t1;
        if (sem_init(&b_held, 0, 0) != 0 || sem_init(&b_may_go, 0, 0) != 0)
            return SCN_FAILED;
        SCN_CHECK(pthread_create(&h, NULL, holder, NULL));
        SCN_CHECK(pthread_create(&t1, NULL, thread1, NULL));
        SCN_CHECK(pthread_join(t1, NULL));
        SCN_CHECK(pthread_join(h, NULL));
    } else {
        scn_run_thread(thread1, NULL);
    }
    scn_run_thread(thread2, NULL);
    printf("work %d\n", work);
    return 0;
}
