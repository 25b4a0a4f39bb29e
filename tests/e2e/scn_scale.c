/*
 * scn_scale.c - many locks: a stress run, deep nesting, a long mixed cycle.
 *
 *   stress      16,000 rwlocks; 4 threads at the same time walk them in
 *               increasing order, holding a window of 4 at once, taken with
 *               wrlock, timedrdlock, trywrlock (skipped if busy) and
 *               clockwrlock; inside the window each thread takes one of its
 *               own 16 rwlocks, which it destroys and initialises again
 *               on the fly. One order for everyone: nothing to report.
 *               --reversed: afterwards one more thread write-locks lock
 *               8,001 then lock 8,000: one inversion.
 *   nested      1,000 rwlocks: T1 write-locks all of them, nested, in
 *               increasing order, then unlocks them; T2 does the same.
 *               --reversed: T2 swaps the middle pair: one inversion.
 *   cycle N     N locks, alternately mutex, rwlock (write) and spinlock.
 *               Edge i is made by its own thread (joined before the next):
 *               lock i, then lock (i+1) mod N: a cycle of N locks.
 *               --open: the closing edge is left out: nothing to report.
 *
 * Exit status 0; 2 on a bad command line; 3 if a lock call that cannot fail
 * fails; 99 if a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scn_util.h"

enum { STRESS_LOCKS = 16000, STRESS_THREADS = 4, WINDOW = 4, PRIVATE_LOCKS = 16 };

static pthread_rwlock_t *rw;
static long nlocks;
static int reversed;

static void check(int r, const char *what)
{
    if (r != 0) {
        fprintf(stderr, "scn_scale: %s: %s\n", what, strerror(r));
        exit(3);
    }
}

static struct timespec far_deadline(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    ts.tv_sec += 30;
    return ts;
}

/* ---- stress ---- */
struct stress_arg {
    int id;
    pthread_rwlock_t own[PRIVATE_LOCKS];
    long taken, skipped;
};

static void *stress_worker(void *p)
{
    struct stress_arg *a = p;
    long start = a->id; /* threads start at different places, then overlap */

    for (int i = 0; i < PRIVATE_LOCKS; i++)
        SCN_CHECK(pthread_rwlock_init(&a->own[i], NULL));
    for (long n = 0; n + WINDOW <= STRESS_LOCKS; n += WINDOW) {
        long base = (start * 997 * WINDOW + n) % (STRESS_LOCKS - WINDOW + 1);
        int held[WINDOW] = {0};
        struct timespec ts;

        base -= base % WINDOW; /* windows never overlap each other partially */
        check(pthread_rwlock_wrlock(&rw[base]), "wrlock"); /* LW:scale-stress-wr */
        held[0] = 1;
        ts = far_deadline(CLOCK_REALTIME);
        check(pthread_rwlock_timedrdlock(&rw[base + 1], &ts), "timedrdlock"); /* LW:scale-stress-rd */
        held[1] = 1;
        int r = pthread_rwlock_trywrlock(&rw[base + 2]);
        if (r == 0)
            held[2] = 1;
        else if (r == EBUSY)
            a->skipped++;
        else
            check(r, "trywrlock");
        ts = far_deadline(CLOCK_MONOTONIC);
        check(pthread_rwlock_clockwrlock(&rw[base + 3], CLOCK_MONOTONIC, &ts), "clockwrlock");
        held[3] = 1;

        pthread_rwlock_t *own = &a->own[(n / WINDOW) % PRIVATE_LOCKS];
        if ((n / WINDOW) % 50 == 0) { /* a new lock at the same address */
            SCN_CHECK(pthread_rwlock_destroy(own));
            SCN_CHECK(pthread_rwlock_init(own, NULL));
        }
        check(pthread_rwlock_wrlock(own), "own wrlock");
        a->taken++;
        pthread_rwlock_unlock(own);
        for (int k = WINDOW - 1; k >= 0; k--)
            if (held[k])
                pthread_rwlock_unlock(&rw[base + k]);
    }
    for (int i = 0; i < PRIVATE_LOCKS; i++)
        SCN_CHECK(pthread_rwlock_destroy(&a->own[i]));
    return NULL;
}

static void *swap_pair(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&rw[8001]); /* LW:scale-rev-first */
    pthread_rwlock_wrlock(&rw[8000]); /* LW:scale-rev-second */
    pthread_rwlock_unlock(&rw[8000]);
    pthread_rwlock_unlock(&rw[8001]);
    return NULL;
}

static int stress(void)
{
    pthread_t t[STRESS_THREADS];
    static struct stress_arg args[STRESS_THREADS];
    long taken = 0;

    nlocks = STRESS_LOCKS;
    rw = calloc((size_t)nlocks, sizeof *rw);
    if (!rw)
        return SCN_FAILED;
    for (long i = 0; i < nlocks; i++)
        SCN_CHECK(pthread_rwlock_init(&rw[i], NULL));
    for (int i = 0; i < STRESS_THREADS; i++) {
        args[i].id = i;
        SCN_CHECK(pthread_create(&t[i], NULL, stress_worker, &args[i]));
    }
    for (int i = 0; i < STRESS_THREADS; i++) {
        SCN_CHECK(pthread_join(t[i], NULL));
        taken += args[i].taken;
    }
    if (reversed)
        scn_run_thread(swap_pair, NULL);
    /* a pass over all of them, in order, one at a time, with init/destroy */
    for (long i = 0; i < nlocks; i++) {
        SCN_CHECK(pthread_rwlock_destroy(&rw[i]));
        SCN_CHECK(pthread_rwlock_init(&rw[i], NULL));
    }
    for (long i = 0; i < nlocks; i++)
        SCN_CHECK(pthread_rwlock_destroy(&rw[i]));
    free(rw);
    printf("windows: %ld\n", taken);
    return 0;
}

/* ---- nested ---- */
static void *lock_all(void *arg)
{
    int swap = *(int *)arg;
    long mid = nlocks / 2;

    for (long i = 0; i < nlocks; i++) {
        long k = i;
        if (swap && i == mid - 1)
            k = mid;
        else if (swap && i == mid)
            k = mid - 1;
        pthread_rwlock_wrlock(&rw[k]); /* LW:scale-nested-lock */
    }
    for (long i = nlocks - 1; i >= 0; i--)
        pthread_rwlock_unlock(&rw[i]);
    return NULL;
}

static int nested(void)
{
    int no = 0, yes = reversed;

    nlocks = 1000;
    rw = calloc((size_t)nlocks, sizeof *rw);
    if (!rw)
        return SCN_FAILED;
    for (long i = 0; i < nlocks; i++)
        SCN_CHECK(pthread_rwlock_init(&rw[i], NULL));
    scn_run_thread(lock_all, &no);
    scn_run_thread(lock_all, &yes);
    for (long i = 0; i < nlocks; i++)
        SCN_CHECK(pthread_rwlock_destroy(&rw[i]));
    free(rw);
    return 0;
}

/* ---- cycle ---- */
union any_lock {
    pthread_mutex_t m;
    pthread_rwlock_t rw;
    pthread_spinlock_t sp;
};

static union any_lock *mixed;

static void lock_any(long i)
{
    switch (i % 3) {
    case 0: pthread_mutex_lock(&mixed[i].m); break;   /* LW:scale-cycle-mutex */
    case 1: pthread_rwlock_wrlock(&mixed[i].rw); break; /* LW:scale-cycle-rwlock */
    default: pthread_spin_lock(&mixed[i].sp); break;  /* LW:scale-cycle-spin */
    }
}

static void unlock_any(long i)
{
    switch (i % 3) {
    case 0: pthread_mutex_unlock(&mixed[i].m); break;
    case 1: pthread_rwlock_unlock(&mixed[i].rw); break;
    default: pthread_spin_unlock(&mixed[i].sp); break;
    }
}

static void *edge(void *arg)
{
    long i = *(long *)arg, j = (i + 1) % nlocks;

    lock_any(i);
    lock_any(j);
    unlock_any(j);
    unlock_any(i);
    return NULL;
}

static int cycle(long n, int open)
{
    nlocks = n;
    mixed = calloc((size_t)n, sizeof *mixed);
    if (!mixed)
        return SCN_FAILED;
    for (long i = 0; i < n; i++) {
        if (i % 3 == 0)
            SCN_CHECK(pthread_mutex_init(&mixed[i].m, NULL));
        else if (i % 3 == 1)
            SCN_CHECK(pthread_rwlock_init(&mixed[i].rw, NULL));
        else
            SCN_CHECK(pthread_spin_init(&mixed[i].sp, PTHREAD_PROCESS_PRIVATE));
    }
    for (long i = 0; i < n - (open ? 1 : 0); i++)
        scn_run_thread(edge, &i);
    free(mixed);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "stress";

    reversed = scn_flag(argc, argv, "--reversed");
    if (strcmp(mode, "stress") == 0)
        return stress();
    if (strcmp(mode, "nested") == 0)
        return nested();
    if (strcmp(mode, "cycle") == 0) {
        long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
        if (n < 2) {
            fprintf(stderr, "scn_scale: cycle needs N >= 2\n");
            return 2;
        }
        return cycle(n, scn_flag(argc, argv, "--open"));
    }
    fprintf(stderr, "scn_scale: unknown mode %s\n", mode);
    return 2;
}
