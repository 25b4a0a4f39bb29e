/*
 * scn_mutex_kinds.c - re-locking each kind of mutex, and robust mutexes.
 *
 *   recursive   a recursive mutex locked three times (another mutex taken
 *               inside), unlocked three times: nothing to report.
 *   errorcheck  an error-checking mutex locked twice: the second call fails
 *               with EDEADLK ("EDEADLK seen") and the program goes on.
 *   normal      a normal mutex locked twice: natively this waits forever
 *               (never run it natively).
 *   timed       a normal mutex held, then pthread_mutex_timedlock on it with
 *               a 50 ms timeout (--clock: pthread_mutex_clocklock): it times
 *               out ("ETIMEDOUT seen") and the program goes on.
 *               With --unlock-first, each of these unlocks in between:
 *               nothing wrong.
 *   robust      T1 locks a robust mutex R and ends holding it. Main locks R:
 *               EOWNERDEAD ("EOWNERDEAD seen"), makes it consistent, unlocks
 *               it. Then T2 locks R then A, and T3 locks R then A: nothing to
 *               report. --inverted: T3 locks A then R: an inversion.
 *
 *   recount     T1 locks a recursive mutex R twice and unlocks it once (it
 *               still holds it), then locks M; T2 locks M then R: an
 *               inversion. --rw: R is a reader-preferring rwlock read-locked
 *               twice, and T2 write-locks it. --ordered: T2 takes R then M.
 *
 * Exit status 0; 3 if a lock call does not return what glibc documents;
 * 99 if a pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scn_util.h"

static pthread_mutex_t mu_k; /* the mutex of the kind under test */
static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static int unlock_first, inverted;
static long work;

static void expect(int got, int want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "scn_mutex_kinds: %s returned %s, expected %s\n", what, strerror(got),
                strerror(want));
        exit(3);
    }
}

static void init_kind(int type, int robust)
{
    pthread_mutexattr_t attr;

    SCN_CHECK(pthread_mutexattr_init(&attr));
    SCN_CHECK(pthread_mutexattr_settype(&attr, type));
    if (robust)
        SCN_CHECK(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST));
    SCN_CHECK(pthread_mutex_init(&mu_k, &attr)); /* LW:mk-init */
    SCN_CHECK(pthread_mutexattr_destroy(&attr));
}

static void recursive(void)
{
    init_kind(PTHREAD_MUTEX_RECURSIVE, 0);
    pthread_mutex_lock(&mu_k);
    pthread_mutex_lock(&mu_a);
    expect(pthread_mutex_lock(&mu_k), 0, "recursive re-lock");
    expect(pthread_mutex_lock(&mu_k), 0, "recursive re-lock");
    work++;
    pthread_mutex_unlock(&mu_k);
    pthread_mutex_unlock(&mu_k);
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_k);
}

static void errorcheck(void)
{
    init_kind(PTHREAD_MUTEX_ERRORCHECK, 0);
    pthread_mutex_lock(&mu_k); /* LW:mk-ec-first */
    if (unlock_first) {
        pthread_mutex_unlock(&mu_k);
        expect(pthread_mutex_lock(&mu_k), 0, "lock after unlock");
    } else {
        int r = pthread_mutex_lock(&mu_k); /* LW:mk-ec-second */
        expect(r, EDEADLK, "error-checking re-lock");
        printf("EDEADLK seen\n");
    }
    pthread_mutex_unlock(&mu_k);
    printf("going on\n");
}

static void normal(void)
{
    init_kind(PTHREAD_MUTEX_NORMAL, 0);
    pthread_mutex_lock(&mu_k); /* LW:mk-normal-first */
    if (unlock_first)
        pthread_mutex_unlock(&mu_k);
    printf("relocking\n");
    fflush(stdout);
    pthread_mutex_lock(&mu_k); /* LW:mk-normal-second */
    printf("relocked\n");
    pthread_mutex_unlock(&mu_k);
}

static void timed(int use_clock)
{
    struct timespec ts;
    int r;

    init_kind(PTHREAD_MUTEX_NORMAL, 0);
    pthread_mutex_lock(&mu_k); /* LW:mk-timed-first */
    if (unlock_first)
        pthread_mutex_unlock(&mu_k);
    clock_gettime(use_clock ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    if (use_clock)
        r = pthread_mutex_clocklock(&mu_k, CLOCK_MONOTONIC, &ts); /* LW:mk-clock-second */
    else
        r = pthread_mutex_timedlock(&mu_k, &ts); /* LW:mk-timed-second */
    if (unlock_first) {
        expect(r, 0, "timed lock of a free mutex");
    } else {
        expect(r, ETIMEDOUT, "timed re-lock");
        printf("ETIMEDOUT seen\n");
    }
    pthread_mutex_unlock(&mu_k);
    printf("going on\n");
}

static void *die_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_k); /* LW:mk-robust-die */
    return NULL;
}

static void *robust_r_then_a(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_k); /* LW:mk-robust-r-first */
    pthread_mutex_lock(&mu_a); /* LW:mk-robust-a-second */
    work++;
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_k);
    return NULL;
}

static void *robust_a_then_r(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:mk-robust-a-first */
    pthread_mutex_lock(&mu_k); /* LW:mk-robust-r-second */
    work++;
    pthread_mutex_unlock(&mu_k);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void robust(void)
{
    int r;

    init_kind(PTHREAD_MUTEX_NORMAL, 1);
    scn_run_thread(die_holding, NULL);
    r = pthread_mutex_lock(&mu_k); /* LW:mk-robust-recover */
    expect(r, EOWNERDEAD, "lock of a robust mutex whose owner died");
    printf("EOWNERDEAD seen\n");
    SCN_CHECK(pthread_mutex_consistent(&mu_k));
    pthread_mutex_unlock(&mu_k);
    scn_run_thread(robust_r_then_a, NULL);
    scn_run_thread(inverted ? robust_a_then_r : robust_r_then_a, NULL);
}

static pthread_rwlock_t rw_r = PTHREAD_RWLOCK_INITIALIZER;
static int use_rw;

static void *recount_t1(void *arg)
{
    (void)arg;
    if (use_rw) {
        pthread_rwlock_rdlock(&rw_r); /* LW:mk-recount-rw-first */
        expect(pthread_rwlock_rdlock(&rw_r), 0, "second read");
        pthread_rwlock_unlock(&rw_r);
    } else {
        pthread_mutex_lock(&mu_k); /* LW:mk-recount-first */
        expect(pthread_mutex_lock(&mu_k), 0, "recursive re-lock");
        pthread_mutex_unlock(&mu_k);
    }
    pthread_mutex_lock(&mu_a); /* LW:mk-recount-a */
    work++;
    pthread_mutex_unlock(&mu_a);
    if (use_rw)
        pthread_rwlock_unlock(&rw_r);
    else
        pthread_mutex_unlock(&mu_k);
    return NULL;
}

static void *recount_t2(void *arg)
{
    (void)arg;
    if (inverted)
        pthread_mutex_lock(&mu_a); /* LW:mk-recount-t2-a */
    if (use_rw)
        pthread_rwlock_wrlock(&rw_r); /* LW:mk-recount-t2-rw */
    else
        pthread_mutex_lock(&mu_k); /* LW:mk-recount-t2-r */
    if (!inverted)
        pthread_mutex_lock(&mu_a);
    work++;
    pthread_mutex_unlock(&mu_a);
    if (use_rw)
        pthread_rwlock_unlock(&rw_r);
    else
        pthread_mutex_unlock(&mu_k);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "recursive";

    unlock_first = scn_flag(argc, argv, "--unlock-first");
    inverted = scn_flag(argc, argv, "--inverted");
    if (strcmp(mode, "recursive") == 0)
        recursive();
    else if (strcmp(mode, "errorcheck") == 0)
        errorcheck();
    else if (strcmp(mode, "normal") == 0)
        normal();
    else if (strcmp(mode, "timed") == 0)
        timed(scn_flag(argc, argv, "--clock"));
    else if (strcmp(mode, "robust") == 0)
        robust();
    else if (strcmp(mode, "recount") == 0) {
        use_rw = scn_flag(argc, argv, "--rw");
        inverted = !scn_flag(argc, argv, "--ordered");
        init_kind(PTHREAD_MUTEX_RECURSIVE, 0);
        scn_run_thread(recount_t1, NULL);
        scn_run_thread(recount_t2, NULL);
    }
    else {
        fprintf(stderr, "scn_mutex_kinds: unknown mode %s\n", mode);
        return 2;
    }
    SCN_CHECK(pthread_mutex_destroy(&mu_k));
    printf("work %ld\n", work);
    return 0;
}
