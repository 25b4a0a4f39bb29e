/*
 * scn_cond.c - condition variables: a wait releases and re-takes its mutex.
 *
 *   order        T1 locks L, takes M with a trylock (no order into M), then
 *                waits on the condition variable with M until main signals
 *                it. Re-taking M inside the wait, while L is held, orders L
 *                before M. Then T2 locks M then L: an inversion.
 *                --ordered: T2 locks L then M: nothing to report.
 *                --no-wait: T1 does not wait (so only the trylock took M):
 *                nothing to report.
 *                --timed / --clock: pthread_cond_timedwait /
 *                pthread_cond_clockwait (deadline far away) instead.
 *   unheld       waits (pthread_cond_timedwait, deadline already past, so it
 *                cannot block) with a mutex nobody holds: misuse.
 *                --held: locks the mutex first: nothing wrong. Prints
 *                "cv=ADDRESS" and "mutex=ADDRESS".
 *   two-mutexes  T1 waits on the condition variable with M1 (deadline past),
 *                then main waits on it with M2 while M1 is still alive:
 *                misuse. --destroy-first: M1 is destroyed before main's wait;
 *                --reinit-cond: the condition variable is destroyed and
 *                initialised again before main's wait: nothing wrong.
 *
 * Threads are sequenced with joins and a semaphore; the signalled wait loops
 * on a flag. Exit status 0; 3 if a wait does not return what it must; 99 if
 * a pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scn_util.h"

static pthread_mutex_t mu_l = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_m1, mu_m2;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t ready;
static int flag, ordered, use_timed, use_clock, no_wait;
static long work;

static void expect(int got, int want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "scn_cond: %s returned %s, expected %s\n", what, strerror(got),
                strerror(want));
        exit(3);
    }
}

static struct timespec from_now(clockid_t clk, int seconds)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_sec += seconds;
    return ts;
}

/* ---- order ---- */
static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_l); /* LW:cond-l */
    expect(pthread_mutex_trylock(&mu_m), 0, "trylock of M");
    sem_post(&ready);
    while (!no_wait && !flag) {
        if (use_clock) {
            struct timespec ts = from_now(CLOCK_MONOTONIC, 10);
            int r = pthread_cond_clockwait(&cv, &mu_m, CLOCK_MONOTONIC, &ts); /* LW:cond-clockwait */
            expect(r, 0, "pthread_cond_clockwait");
        } else if (use_timed) {
            struct timespec ts = from_now(CLOCK_REALTIME, 10);
            int r = pthread_cond_timedwait(&cv, &mu_m, &ts); /* LW:cond-timedwait */
            expect(r, 0, "pthread_cond_timedwait");
        } else {
            pthread_cond_wait(&cv, &mu_m); /* LW:cond-wait */
        }
    }
    work++;
    pthread_mutex_unlock(&mu_m);
    pthread_mutex_unlock(&mu_l);
    return NULL;
}

static void *m_then_l(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_mutex_lock(&mu_l);
        pthread_mutex_lock(&mu_m);
    } else {
        pthread_mutex_lock(&mu_m); /* LW:cond-t2-m */
        pthread_mutex_lock(&mu_l); /* LW:cond-t2-l */
    }
    work++;
    pthread_mutex_unlock(&mu_l);
    pthread_mutex_unlock(&mu_m);
    return NULL;
}

static void order(void)
{
    pthread_t t;

    SCN_CHECK(sem_init(&ready, 0, 0));
    SCN_CHECK(pthread_create(&t, NULL, waiter, NULL));
    sem_wait(&ready);
    if (!no_wait) {
        /* blocks until the waiter has released M inside its wait */
        pthread_mutex_lock(&mu_m);
        flag = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu_m);
    }
    SCN_CHECK(pthread_join(t, NULL));
    scn_run_thread(m_then_l, NULL);
}

/* ---- unheld ---- */
static void unheld(int held)
{
    struct timespec past = from_now(CLOCK_REALTIME, -1);
    int r;

    printf("cv=%p\nmutex=%p\n", (void *)&cv, (void *)&mu_m);
    if (held)
        pthread_mutex_lock(&mu_m);
    r = pthread_cond_timedwait(&cv, &mu_m, &past); /* LW:cond-unheld-wait */
    expect(r, ETIMEDOUT, "pthread_cond_timedwait");
    /* the wait returns with the mutex locked, held or not before */
    pthread_mutex_unlock(&mu_m);
    printf("timed out\n");
}

/* ---- two-mutexes ---- */
static void *wait_m1(void *arg)
{
    struct timespec past = from_now(CLOCK_REALTIME, -1);
    int r;

    (void)arg;
    pthread_mutex_lock(&mu_m1);
    r = pthread_cond_timedwait(&cv, &mu_m1, &past); /* LW:cond-two-first */
    expect(r, ETIMEDOUT, "first pthread_cond_timedwait");
    pthread_mutex_unlock(&mu_m1);
    return NULL;
}

static void two_mutexes(int destroy_first, int reinit_cond)
{
    struct timespec past = from_now(CLOCK_REALTIME, -1);
    int r;

    SCN_CHECK(pthread_mutex_init(&mu_m1, NULL));
    SCN_CHECK(pthread_mutex_init(&mu_m2, NULL));
    scn_run_thread(wait_m1, NULL);
    if (destroy_first)
        SCN_CHECK(pthread_mutex_destroy(&mu_m1));
    if (reinit_cond) {
        SCN_CHECK(pthread_cond_destroy(&cv));
        SCN_CHECK(pthread_cond_init(&cv, NULL));
    }
    pthread_mutex_lock(&mu_m2);
    past = from_now(CLOCK_REALTIME, -1);
    r = pthread_cond_timedwait(&cv, &mu_m2, &past); /* LW:cond-two-second */
    expect(r, ETIMEDOUT, "second pthread_cond_timedwait");
    pthread_mutex_unlock(&mu_m2);
    if (!destroy_first)
        SCN_CHECK(pthread_mutex_destroy(&mu_m1));
    SCN_CHECK(pthread_mutex_destroy(&mu_m2));
    printf("both timed out\n");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "order";

    ordered = scn_flag(argc, argv, "--ordered");
    use_timed = scn_flag(argc, argv, "--timed");
    use_clock = scn_flag(argc, argv, "--clock");
    no_wait = scn_flag(argc, argv, "--no-wait");
    if (strcmp(mode, "order") == 0)
        order();
    else if (strcmp(mode, "unheld") == 0)
        unheld(scn_flag(argc, argv, "--held"));
    else if (strcmp(mode, "two-mutexes") == 0)
        two_mutexes(scn_flag(argc, argv, "--destroy-first"), scn_flag(argc, argv, "--reinit-cond"));
    else {
        fprintf(stderr, "scn_cond: unknown mode %s\n", mode);
        return 2;
    }
    printf("work %ld\n", work);
    return 0;
}
