/*
 * scn_profile.c - one hot lock and several cold ones, for the profile.
 *
 * Four threads take the global mutex hot_lock ROUNDS times each (default
 * 25; --rounds N) and hold it for about 2 ms (a sleep), so that the others
 * wait. Each thread also takes its own cold mutex (cold[i]) and a shared
 * rwlock for reading, briefly, and main takes a heap mutex alone. Then two
 * threads contend on a heap mutex made by make_pool() with shorter
 * critical sections, which is destroyed and freed before exit: its profile
 * must survive it. Main holds each of the two until a thread waits for it
 * (glibc marks a mutex with waiters: __lock == 2), so both are contended
 * at least once whatever the scheduling.
 *
 * The program measures itself: the time spent in pthread_mutex_lock on
 * hot_lock and the time hot_lock is held, summed over all threads, printed
 * as hot_wait_ns=N and hot_hold_ns=N. Consistent locking: nothing to
 * report. Exit status 0 (99 if a pthread call fails).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scn_util.h"

#define THREADS 4

pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t cold[THREADS] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                 PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
static long rounds;
static long shared_counter;

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t hot_wait_ns, hot_hold_ns; /* guarded by counter_lock */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec ts = {0, us * 1000};

    nanosleep(&ts, NULL);
}

/* Releases m, which the caller holds, once a thread waits for it. */
static void unlock_when_waited_for(pthread_mutex_t *m)
{
    while (__atomic_load_n(&m->__data.__lock, __ATOMIC_ACQUIRE) != 2)
        sched_yield();
    SCN_CHECK(pthread_mutex_unlock(m));
}

static void *hot_worker(void *arg)
{
    long me = (long)(intptr_t)arg;
    uint64_t waited = 0, held = 0;

    for (long r = 0; r < rounds; r++) {
        SCN_CHECK(pthread_mutex_lock(&cold[me]));
        shared_counter += 0;
        SCN_CHECK(pthread_mutex_unlock(&cold[me]));
        SCN_CHECK(pthread_rwlock_rdlock(&table));
        SCN_CHECK(pthread_rwlock_unlock(&table));

        uint64_t t0 = now_ns();
        SCN_CHECK(pthread_mutex_lock(&hot_lock)); /* LW:prof-hot-lock */
        uint64_t t1 = now_ns();
        shared_counter++;
        sleep_us(2000);
        uint64_t t2 = now_ns();
        SCN_CHECK(pthread_mutex_unlock(&hot_lock));
        waited += t1 - t0;
        held += t2 - t1;
    }
    SCN_CHECK(pthread_mutex_lock(&counter_lock));
    hot_wait_ns += waited;
    hot_hold_ns += held;
    SCN_CHECK(pthread_mutex_unlock(&counter_lock));
    return NULL;
}

static pthread_mutex_t *make_pool(void)
{
    pthread_mutex_t *m = malloc(sizeof *m);

    if (!m)
        exit(SCN_FAILED);
    SCN_CHECK(pthread_mutex_init(m, NULL)); /* LW:prof-pool-created */
    return m;
}

static void *pool_worker(void *arg)
{
    pthread_mutex_t *pool = arg;

    for (int r = 0; r < 10; r++) {
        SCN_CHECK(pthread_mutex_lock(pool)); /* LW:prof-pool-lock */
        sleep_us(300);
        SCN_CHECK(pthread_mutex_unlock(pool));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[THREADS];

    rounds = scn_opt_long(argc, argv, "--rounds", 25);

    pthread_mutex_t *alone = malloc(sizeof *alone);
    if (!alone)
        return SCN_FAILED;
    SCN_CHECK(pthread_mutex_init(alone, NULL));
    for (int i = 0; i < 1000; i++) {
        SCN_CHECK(pthread_mutex_lock(alone));
        SCN_CHECK(pthread_mutex_unlock(alone));
    }

    SCN_CHECK(pthread_mutex_lock(&hot_lock));
    for (long i = 0; i < THREADS; i++)
        SCN_CHECK(pthread_create(&t[i], NULL, hot_worker, (void *)(intptr_t)i));
    unlock_when_waited_for(&hot_lock);
    for (int i = 0; i < THREADS; i++)
        SCN_CHECK(pthread_join(t[i], NULL));

    pthread_mutex_t *pool = make_pool();
    SCN_CHECK(pthread_mutex_lock(pool));
    for (int i = 0; i < 2; i++)
        SCN_CHECK(pthread_create(&t[i], NULL, pool_worker, pool));
    unlock_when_waited_for(pool);
    for (int i = 0; i < 2; i++)
        SCN_CHECK(pthread_join(t[i], NULL));
    SCN_CHECK(pthread_mutex_destroy(pool));
    free(pool);

    printf("counter=%ld\n", shared_counter);
    printf("hot_wait_ns=%llu\n", (unsigned long long)hot_wait_ns);
    printf("hot_hold_ns=%llu\n", (unsigned long long)hot_hold_ns);
    SCN_CHECK(pthread_mutex_destroy(alone));
    free(alone);
    return 0;
}
