/*
 * scn_trylock_kinds.c - a successful trylock adds no order into the lock it
 * took, whatever the kind of lock; orders requested while it is held count.
 *
 * A and C are mutexes; B is the lock under test, chosen with --kind:
 * mutex (pthread_mutex_trylock), rd (pthread_rwlock_tryrdlock),
 * wr (pthread_rwlock_trywrlock), spin (pthread_spin_trylock) or mtx
 * (C11 mtx_trylock). Its blocking lock is the matching lock call
 * (pthread_rwlock_wrlock for both rwlock kinds).
 *
 *   backoff   T1 locks A, then trylocks B; T2 locks B, then A. Nothing to
 *             report. --blocking: T1 takes B with the blocking call: an
 *             inversion.
 *   through   T1 trylocks B, then locks C; T2 locks C, then B: an inversion
 *             (the order B -> C was requested while the trylocked B was held).
 *             --ordered: T2 locks B, then C: nothing to report.
 *
 * Threads run one after the other. Exit status 0; 3 if a trylock fails (it
 * cannot here); 99 if a call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t b_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t b_spin;
static mtx_t b_mtx;
static const char *kind = "mutex";
static int blocking, ordered;
static long work;

static void b_try(void)
{
    int r;

    if (strcmp(kind, "mutex") == 0)
        r = pthread_mutex_trylock(&b_mutex); /* LW:tk-try-mutex */
    else if (strcmp(kind, "rd") == 0)
        r = pthread_rwlock_tryrdlock(&b_rwlock); /* LW:tk-try-rd */
    else if (strcmp(kind, "wr") == 0)
        r = pthread_rwlock_trywrlock(&b_rwlock); /* LW:tk-try-wr */
    else if (strcmp(kind, "spin") == 0)
        r = pthread_spin_trylock(&b_spin); /* LW:tk-try-spin */
    else
        r = mtx_trylock(&b_mtx) == thrd_success ? 0 : 1; /* LW:tk-try-mtx */
    if (r != 0) {
        fprintf(stderr, "scn_trylock_kinds: trylock of B (%s) failed\n", kind);
        exit(3);
    }
}

static void b_lock(void)
{
    if (strcmp(kind, "mutex") == 0)
        pthread_mutex_lock(&b_mutex); /* LW:tk-lock-mutex */
    else if (strcmp(kind, "rd") == 0 || strcmp(kind, "wr") == 0)
        pthread_rwlock_wrlock(&b_rwlock); /* LW:tk-lock-rw */
    else if (strcmp(kind, "spin") == 0)
        pthread_spin_lock(&b_spin); /* LW:tk-lock-spin */
    else
        mtx_lock(&b_mtx); /* LW:tk-lock-mtx */
}

static void b_unlock(void)
{
    if (strcmp(kind, "mutex") == 0)
        pthread_mutex_unlock(&b_mutex);
    else if (strcmp(kind, "rd") == 0 || strcmp(kind, "wr") == 0)
        pthread_rwlock_unlock(&b_rwlock);
    else if (strcmp(kind, "spin") == 0)
        pthread_spin_unlock(&b_spin);
    else
        mtx_unlock(&b_mtx);
}

static void *backoff_t1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:tk-backoff-a */
    if (blocking)
        b_lock();
    else
        b_try();
    work++;
    b_unlock();
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *backoff_t2(void *arg)
{
    (void)arg;
    b_lock();
    pthread_mutex_lock(&mu_a); /* LW:tk-backoff-t2-a */
    work++;
    pthread_mutex_unlock(&mu_a);
    b_unlock();
    return NULL;
}

static void *through_t1(void *arg)
{
    (void)arg;
    b_try();
    pthread_mutex_lock(&mu_c); /* LW:tk-through-c */
    work++;
    pthread_mutex_unlock(&mu_c);
    b_unlock();
    return NULL;
}

static void *through_t2(void *arg)
{
    (void)arg;
    if (ordered) {
        b_lock();
        pthread_mutex_lock(&mu_c);
        work++;
        pthread_mutex_unlock(&mu_c);
        b_unlock();
    } else {
        pthread_mutex_lock(&mu_c); /* LW:tk-through-t2-c */
        b_lock();
        work++;
        b_unlock();
        pthread_mutex_unlock(&mu_c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "backoff";

    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--kind") == 0)
            kind = argv[i + 1];
    blocking = scn_flag(argc, argv, "--blocking");
    ordered = scn_flag(argc, argv, "--ordered");
    SCN_CHECK(pthread_spin_init(&b_spin, PTHREAD_PROCESS_PRIVATE));
    if (mtx_init(&b_mtx, mtx_plain) != thrd_success)
        return SCN_FAILED;
    if (strcmp(mode, "backoff") == 0) {
        scn_run_thread(backoff_t1, NULL);
        scn_run_thread(backoff_t2, NULL);
    } else if (strcmp(mode, "through") == 0) {
        scn_run_thread(through_t1, NULL);
        scn_run_thread(through_t2, NULL);
    } else {
        fprintf(stderr, "scn_trylock_kinds: unknown mode %s\n", mode);
        return 2;
    }
    mtx_destroy(&b_mtx);
    printf("work %ld\n", work);
    return 0;
}
