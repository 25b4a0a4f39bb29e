/*
 * scn_misuse.c - misuse of locks: each mode does one wrong thing, and its
 * twin flag does the right thing instead.
 *
 *   unlock-unlocked   unlocks a normal mutex nobody holds.
 *                     --locked: locks it first.
 *   unlock-other      T1 locks M and waits; main unlocks M (glibc lets it,
 *                     for a normal mutex), then lets T1 end. Prints
 *                     "owner_tid=N", T1's thread id.
 *                     --own: T1 unlocks M itself before main goes on.
 *   ctor-held         a library constructor locked a mutex before main; main
 *                     unlocks it: its own, nothing wrong. --other-thread:
 *                     another thread unlocks it instead (prints
 *                     "owner_tid=N", the main thread's id).
 *   destroy-self      destroys a mutex it holds: glibc says EBUSY ("EBUSY
 *                     seen"); then unlocks and destroys it.
 *                     --unlock-first: unlocks before destroying.
 *   destroy-other     T1 locks a mutex and waits; main destroys it: glibc
 *                     says EBUSY ("EBUSY seen"); prints "owner_tid=N", T1's
 *                     thread id. --unlock-first: T1 unlocks it first.
 *   destroy-c11       main destroys a C11 mutex (mtx_destroy) it holds.
 *                     --unlock-first: unlocks it first.
 *   destroy-rw-other  T1 read-locks an rwlock and waits; main destroys it;
 *                     then T1 unlocks it. --unlock-first: T1 unlocks before
 *                     main destroys.
 *   exit-return       T1 locks M then N and returns holding both.
 *                     --unlock: unlocks them before returning.
 *   exit-pthread      T1 locks M and calls pthread_exit holding it.
 *                     --unlock: unlocks it first.
 *   exit-mixed        T1 locks a robust mutex, a recursive mutex twice, and
 *                     read-locks an rwlock, then returns holding them all:
 *                     the report names the recursive mutex and the rwlock,
 *                     not the robust mutex (main recovers it: EOWNERDEAD).
 *                     --unlock: unlocks them all before returning.
 *   unlock-eperm      an error-checking mutex E (--recursive: a recursive one):
 *                     T1 locks E and waits; main tries to unlock E, which
 *                     fails with EPERM ("EPERM seen"), so T1 still holds E;
 *                     T1 then locks F (E before F) and ends; T2 locks F then
 *                     E: an inversion, besides the failed unlock.
 *                     --ordered: T2 locks E then F. --no-foreign: main does
 *                     not try to unlock E.
 *   ticket            the ticket office: buyers (one after the other) take
 *                     tickets under a lock; a buyer who finds too few returns
 *                     early WITHOUT unlocking (the last buyer, so that nobody
 *                     waits for the lock after). --fixed: it unlocks.
 *
 * Exit status 0; 3 if a call does not return what glibc documents; 99 if a
 * pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

#include "scn_util.h"

pthread_mutex_t *scn_misuse_lib_mutex(void);

static pthread_mutex_t mu_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_n = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t locked, go_on;
static int twin;
static pid_t t1_tid;

static void expect(int got, int want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "scn_misuse: %s returned %s, expected %s\n", what, strerror(got),
                strerror(want));
        exit(3);
    }
}

/* ---- unlock-other ---- */
static void *lock_and_wait(void *arg)
{
    (void)arg;
    t1_tid = gettid();
    pthread_mutex_lock(&mu_m); /* LW:misuse-t1-lock */
    if (twin)
        pthread_mutex_unlock(&mu_m);
    sem_post(&locked);
    sem_wait(&go_on);
    return NULL;
}

static void unlock_other(void)
{
    pthread_t t;

    SCN_CHECK(pthread_create(&t, NULL, lock_and_wait, NULL));
    sem_wait(&locked);
    printf("owner_tid=%d\n", (int)t1_tid);
    if (!twin)
        pthread_mutex_unlock(&mu_m); /* LW:misuse-unlock-other */
    sem_post(&go_on);
    SCN_CHECK(pthread_join(t, NULL));
}

/* ---- ctor-held ---- */
static void *unlock_lib_mutex(void *arg)
{
    (void)arg;
    pthread_mutex_unlock(scn_misuse_lib_mutex()); /* LW:misuse-unlock-lib-other */
    return NULL;
}

static void ctor_held(int other_thread)
{
    if (other_thread) {
        printf("owner_tid=%d\n", (int)gettid());
        scn_run_thread(unlock_lib_mutex, NULL);
    } else {
        pthread_mutex_unlock(scn_misuse_lib_mutex()); /* LW:misuse-unlock-lib */
    }
    /* unlocked either way: usable as usual now */
    pthread_mutex_lock(scn_misuse_lib_mutex());
    pthread_mutex_unlock(scn_misuse_lib_mutex());
}

/* ---- destroy-self ---- */
static void destroy_self(void)
{
    pthread_mutex_t m;

    SCN_CHECK(pthread_mutex_init(&m, NULL));
    pthread_mutex_lock(&m); /* LW:misuse-destroy-held */
    if (twin) {
        pthread_mutex_unlock(&m);
        SCN_CHECK(pthread_mutex_destroy(&m));
        return;
    }
    expect(pthread_mutex_destroy(&m), EBUSY, "destroy of a locked mutex"); /* LW:misuse-destroy */
    printf("EBUSY seen\n");
    pthread_mutex_unlock(&m);
    SCN_CHECK(pthread_mutex_destroy(&m));
}

/* ---- destroy-other ---- */
static void *lock_m_and_wait(void *arg)
{
    (void)arg;
    t1_tid = gettid();
    pthread_mutex_lock(&mu_m); /* LW:misuse-other-lock */
    if (twin)
        pthread_mutex_unlock(&mu_m);
    sem_post(&locked);
    sem_wait(&go_on);
    if (!twin)
        pthread_mutex_unlock(&mu_m);
    return NULL;
}

static void destroy_other(void)
{
    pthread_t t;
    int r;

    SCN_CHECK(pthread_create(&t, NULL, lock_m_and_wait, NULL));
    sem_wait(&locked);
    printf("owner_tid=%d\n", (int)t1_tid);
    r = pthread_mutex_destroy(&mu_m); /* LW:misuse-other-destroy */
    if (!twin) {
        expect(r, EBUSY, "destroy of a mutex another thread holds");
        printf("EBUSY seen\n");
    }
    sem_post(&go_on);
    SCN_CHECK(pthread_join(t, NULL));
}

/* ---- destroy-c11 ---- */
static void destroy_c11(void)
{
    mtx_t m;

    if (mtx_init(&m, mtx_plain) != thrd_success)
        exit(SCN_FAILED);
    mtx_lock(&m); /* LW:misuse-c11-lock */
    if (twin)
        mtx_unlock(&m);
    mtx_destroy(&m); /* LW:misuse-c11-destroy */
}

/* ---- destroy-rw-other ---- */
static void *read_and_wait(void *arg)
{
    (void)arg;
    t1_tid = gettid();
    pthread_rwlock_rdlock(&rw); /* LW:misuse-rw-read */
    if (twin)
        pthread_rwlock_unlock(&rw);
    sem_post(&locked);
    sem_wait(&go_on);
    if (!twin)
        pthread_rwlock_unlock(&rw);
    return NULL;
}

static void destroy_rw_other(void)
{
    pthread_t t;

    SCN_CHECK(pthread_create(&t, NULL, read_and_wait, NULL));
    sem_wait(&locked);
    SCN_CHECK(pthread_rwlock_destroy(&rw)); /* LW:misuse-rw-destroy */
    sem_post(&go_on);
    SCN_CHECK(pthread_join(t, NULL));
}

/* ---- exit-return, exit-pthread ---- */
static void *return_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_m); /* LW:misuse-exit-m */
    pthread_mutex_lock(&mu_n); /* LW:misuse-exit-n */
    if (twin) {
        pthread_mutex_unlock(&mu_n);
        pthread_mutex_unlock(&mu_m);
    }
    return NULL;
}

static void *pthread_exit_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_m); /* LW:misuse-pexit-m */
    if (twin)
        pthread_mutex_unlock(&mu_m);
    pthread_exit(NULL);
}

/* ---- exit-mixed ---- */
static pthread_mutex_t mu_robust, mu_rec;

static void *return_holding_mixed(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_robust); /* LW:misuse-mixed-robust */
    pthread_mutex_lock(&mu_rec); /* LW:misuse-mixed-rec */
    pthread_mutex_lock(&mu_rec); /* LW:misuse-mixed-rec-again */
    pthread_rwlock_rdlock(&rw); /* LW:misuse-mixed-rw */
    if (twin) {
        pthread_rwlock_unlock(&rw);
        pthread_mutex_unlock(&mu_rec);
        pthread_mutex_unlock(&mu_rec);
        pthread_mutex_unlock(&mu_robust);
    }
    return NULL;
}

static void exit_mixed(void)
{
    pthread_mutexattr_t attr;
    int r;

    SCN_CHECK(pthread_mutexattr_init(&attr));
    SCN_CHECK(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST));
    SCN_CHECK(pthread_mutex_init(&mu_robust, &attr));
    SCN_CHECK(pthread_mutexattr_destroy(&attr));
    SCN_CHECK(pthread_mutexattr_init(&attr));
    SCN_CHECK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
    SCN_CHECK(pthread_mutex_init(&mu_rec, &attr));
    SCN_CHECK(pthread_mutexattr_destroy(&attr));
    scn_run_thread(return_holding_mixed, NULL);
    r = pthread_mutex_lock(&mu_robust);
    expect(r, twin ? 0 : EOWNERDEAD, "lock of the robust mutex");
    if (r == EOWNERDEAD) {
        printf("EOWNERDEAD seen\n");
        SCN_CHECK(pthread_mutex_consistent(&mu_robust));
    }
    pthread_mutex_unlock(&mu_robust);
}

/* ---- unlock-eperm ---- */
static pthread_mutex_t mu_e, mu_f = PTHREAD_MUTEX_INITIALIZER;
static int ordered;

static void *lock_e_then_f(void *arg)
{
    (void)arg;
    t1_tid = gettid();
    pthread_mutex_lock(&mu_e); /* LW:misuse-eperm-e */
    sem_post(&locked);
    sem_wait(&go_on);
    pthread_mutex_lock(&mu_f); /* LW:misuse-eperm-f */
    pthread_mutex_unlock(&mu_f);
    pthread_mutex_unlock(&mu_e);
    return NULL;
}

static void *lock_f_then_e(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_mutex_lock(&mu_e);
        pthread_mutex_lock(&mu_f);
    } else {
        pthread_mutex_lock(&mu_f); /* LW:misuse-eperm-t2-f */
        pthread_mutex_lock(&mu_e); /* LW:misuse-eperm-t2-e */
    }
    pthread_mutex_unlock(&mu_e);
    pthread_mutex_unlock(&mu_f);
    return NULL;
}

static void unlock_eperm(int recursive, int foreign)
{
    pthread_mutexattr_t attr;
    pthread_t t;

    SCN_CHECK(pthread_mutexattr_init(&attr));
    SCN_CHECK(pthread_mutexattr_settype(&attr, recursive ? PTHREAD_MUTEX_RECURSIVE
                                                         : PTHREAD_MUTEX_ERRORCHECK));
    SCN_CHECK(pthread_mutex_init(&mu_e, &attr));
    SCN_CHECK(pthread_mutexattr_destroy(&attr));
    SCN_CHECK(pthread_create(&t, NULL, lock_e_then_f, NULL));
    sem_wait(&locked);
    if (foreign) {
        printf("owner_tid=%d\n", (int)t1_tid);
        int r = pthread_mutex_unlock(&mu_e); /* LW:misuse-eperm-unlock */
        expect(r, EPERM, "unlock of another thread's mutex");
        printf("EPERM seen\n");
    }
    sem_post(&go_on);
    SCN_CHECK(pthread_join(t, NULL));
    scn_run_thread(lock_f_then_e, NULL);
}

/* ---- ticket ---- */
static pthread_mutex_t stock_lock = PTHREAD_MUTEX_INITIALIZER;
static int stock = 10;

static void *buyer(void *arg)
{
    int wanted = *(int *)arg;

    pthread_mutex_lock(&stock_lock); /* LW:misuse-ticket-lock */
    if (stock < wanted) {
        printf("buyer wants %d, only %d left\n", wanted, stock);
        if (twin)
            pthread_mutex_unlock(&stock_lock);
        return NULL; /* the bug: without --fixed, the lock stays locked */
    }
    stock -= wanted;
    printf("buyer takes %d, %d left\n", wanted, stock);
    pthread_mutex_unlock(&stock_lock);
    return NULL;
}

static void ticket(void)
{
    int wanted[] = {4, 5, 3};

    for (int i = 0; i < 3; i++)
        scn_run_thread(buyer, &wanted[i]);
    printf("final stock: %d\n", stock);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "unlock-unlocked";

    twin = scn_flag(argc, argv, "--locked") || scn_flag(argc, argv, "--own") ||
           scn_flag(argc, argv, "--unlock-first") || scn_flag(argc, argv, "--unlock") ||
           scn_flag(argc, argv, "--fixed");
    SCN_CHECK(sem_init(&locked, 0, 0));
    SCN_CHECK(sem_init(&go_on, 0, 0));
    if (strcmp(mode, "unlock-unlocked") == 0) {
        if (twin)
            pthread_mutex_lock(&mu_m);
        pthread_mutex_unlock(&mu_m); /* LW:misuse-unlock-unlocked */
    } else if (strcmp(mode, "unlock-other") == 0) {
        unlock_other();
    } else if (strcmp(mode, "ctor-held") == 0) {
        ctor_held(scn_flag(argc, argv, "--other-thread"));
    } else if (strcmp(mode, "destroy-self") == 0) {
        destroy_self();
    } else if (strcmp(mode, "destroy-other") == 0) {
        destroy_other();
    } else if (strcmp(mode, "destroy-c11") == 0) {
        destroy_c11();
    } else if (strcmp(mode, "destroy-rw-other") == 0) {
        destroy_rw_other();
    } else if (strcmp(mode, "exit-return") == 0) {
        scn_run_thread(return_holding, NULL);
    } else if (strcmp(mode, "exit-pthread") == 0) {
        scn_run_thread(pthread_exit_holding, NULL);
    } else if (strcmp(mode, "exit-mixed") == 0) {
        exit_mixed();
    } else if (strcmp(mode, "unlock-eperm") == 0) {
        ordered = scn_flag(argc, argv, "--ordered");
        unlock_eperm(scn_flag(argc, argv, "--recursive"), !scn_flag(argc, argv, "--no-foreign"));
    } else if (strcmp(mode, "ticket") == 0) {
        ticket();
    } else {
        fprintf(stderr, "scn_misuse: unknown mode %s\n", mode);
        return 2;
    }
    printf("done\n");
    return 0;
}
