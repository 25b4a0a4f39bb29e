/*
 * scn_realdl.c - REAL deadlocks, and long waits that are not deadlocks.
 *
 * The deadlock modes hang forever natively: never run them without
 * lockwatch (whose default on_deadlock=exit ends them with a report).
 * Their --ordered twins take the same locks in one order and finish.
 *
 *   abba        T1 locks A, T2 locks B, they meet at a barrier, then T1
 *               asks for B and T2 for A.
 *   cycle3      T1, T2, T3 lock A, B, C, meet, then ask for B, C, A.
 *   rwlock      T1 read-locks rwlock W, T2 locks mutex M, they meet, then T1
 *               asks for M and T2 asks for W for writing.
 *   spin        abba with spinlocks.
 *   cond        T1 locks L and M and waits on a condition variable with M;
 *               T2 locks M (free while T1 waits), signals, and asks for L:
 *               T1 wakes up and needs M back inside pthread_cond_wait while
 *               T2 holds M and waits for L.
 *   queued-writer  (no --ordered) main read-locks a writer-preferring
 *               (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) rwlock; T1
 *               asks for it for writing and queues; once main sees the
 *               writer queued (its tryrdlock fails), it read-locks again and
 *               waits behind the writer, which waits for main's first read.
 *               --ordered: main unlocks its first read before reading again.
 *   (--ordered: the threads meet first, then take the locks in one order.)
 *   --main      with abba: main itself plays T2's part.
 *   --try-first with abba: T1 takes A with pthread_mutex_trylock (it is
 *               free, so it succeeds); the deadlock is the same. (Not
 *               with --ordered, where T2 may hold A already.)
 *
 *   contention  8 threads take one mutex 3 times each and hold it 50 ms
 *               (long waits, no cycle). Prints "contention done".
 *   read-read   T1 read-locks A, T2 read-locks B (reader-preferring), they
 *               meet, then T1 read-locks B and T2 read-locks A: readers do
 *               not block readers, the run finishes. Prints "no deadlock".
 *   stall       T1 locks M and sleeps 300 ms holding it; main waits for M
 *               meanwhile. Prints "stall done".
 *   dump-exit   T1 locks dump_alpha and blocks forever on a semaphore; main
 *               locks dump_beta and returns holding it.
 *   dump-signal main locks dump_alpha and dump_beta, raises SIGUSR2 (run it
 *               with dump_signal=SIGUSR2: natively the signal kills it),
 *               waits 500 ms, unlocks them. Prints "dump-signal done".
 *   dump-signal-exit  main locks dump_alpha, raises SIGUSR2 and returns at once.
 *
 * Prints "starting" first and "no deadlock" when the threads of a deadlock
 * mode (or its twin) all finish. Exit status 0; 99 if a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw_w = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw_a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw_b = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t sp_a, sp_b;
pthread_mutex_t dump_alpha = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t dump_beta = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_l = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw_q;
static int signalled;
static pthread_barrier_t meet;
static sem_t locked, never;
static int ordered, try_first;
static long work;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void meet_if(int before)
{
    if (before == ordered)
        pthread_barrier_wait(&meet);
}

/* ---- abba ---- */
static void *abba_t1(void *arg)
{
    (void)arg;
    meet_if(1);
    if (try_first && !ordered) /* nobody else has taken a lock yet */
        SCN_CHECK(pthread_mutex_trylock(&mu_a)); /* LW:rd-abba-t1-a-try */
    else
        pthread_mutex_lock(&mu_a); /* LW:rd-abba-t1-a */
    meet_if(0);
    pthread_mutex_lock(&mu_b); /* LW:rd-abba-t1-b */
    work++;
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *abba_t2(void *arg)
{
    pthread_mutex_t *first = ordered ? &mu_a : &mu_b, *second = ordered ? &mu_b : &mu_a;

    (void)arg;
    meet_if(1);
    pthread_mutex_lock(first); /* LW:rd-abba-t2-first */
    meet_if(0);
    pthread_mutex_lock(second); /* LW:rd-abba-t2-second */
    work++;
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

/* ---- cycle3 ---- */
static pthread_mutex_t *ring[3] = {&mu_a, &mu_b, &mu_c};

static void *cycle3_worker(void *arg)
{
    int i = *(int *)arg;
    pthread_mutex_t *first = ring[i], *second = ring[(i + 1) % 3];

    if (ordered && i == 2) { /* C then A would close the ring: take A then C */
        first = ring[0];
        second = ring[2];
    }
    meet_if(1);
    pthread_mutex_lock(first); /* LW:rd-c3-first */
    meet_if(0);
    pthread_mutex_lock(second); /* LW:rd-c3-second */
    work++;
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

/* ---- rwlock ---- */
static void *rw_reader(void *arg)
{
    (void)arg;
    meet_if(1);
    pthread_rwlock_rdlock(&rw_w); /* LW:rd-rw-t1-read */
    meet_if(0);
    pthread_mutex_lock(&mu_m); /* LW:rd-rw-t1-m */
    work++;
    pthread_mutex_unlock(&mu_m);
    pthread_rwlock_unlock(&rw_w);
    return NULL;
}

static void *rw_writer(void *arg)
{
    (void)arg;
    meet_if(1);
    if (ordered) {
        pthread_rwlock_wrlock(&rw_w);
        pthread_mutex_lock(&mu_m);
    } else {
        pthread_mutex_lock(&mu_m); /* LW:rd-rw-t2-m */
        meet_if(0);
        pthread_rwlock_wrlock(&rw_w); /* LW:rd-rw-t2-write */
    }
    work++;
    pthread_rwlock_unlock(&rw_w);
    pthread_mutex_unlock(&mu_m);
    return NULL;
}

/* ---- spin ---- */
static void *spin_worker(void *arg)
{
    int second = *(int *)arg;
    pthread_spinlock_t *first_lock = second && !ordered ? &sp_b : &sp_a;
    pthread_spinlock_t *second_lock = second && !ordered ? &sp_a : &sp_b;

    meet_if(1);
    pthread_spin_lock(first_lock); /* LW:rd-spin-first */
    meet_if(0);
    pthread_spin_lock(second_lock); /* LW:rd-spin-second */
    work++;
    pthread_spin_unlock(second_lock);
    pthread_spin_unlock(first_lock);
    return NULL;
}

/* ---- cond ---- */
static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_l); /* LW:rd-cond-l */
    pthread_mutex_lock(&mu_m); /* LW:rd-cond-m */
    sem_post(&locked);
    while (!signalled)
        pthread_cond_wait(&cv, &mu_m); /* LW:rd-cond-wait */
    work++;
    pthread_mutex_unlock(&mu_m);
    pthread_mutex_unlock(&mu_l);
    return NULL;
}

static void *cond_signaller(void *arg)
{
    (void)arg;
    sem_wait(&locked);
    if (ordered) {
        pthread_mutex_lock(&mu_m);
        signalled = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu_m);
        pthread_mutex_lock(&mu_l);
        pthread_mutex_lock(&mu_m);
    } else {
        pthread_mutex_lock(&mu_m); /* LW:rd-cond-t2-m */
        signalled = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_lock(&mu_l); /* LW:rd-cond-t2-l */
    }
    work++;
    pthread_mutex_unlock(&mu_l);
    pthread_mutex_unlock(&mu_m);
    return NULL;
}

/* ---- queued-writer ---- */
static void *queue_writer(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&rw_q); /* LW:rd-q-write */
    work++;
    pthread_rwlock_unlock(&rw_q);
    return NULL;
}

static void queued_writer(void)
{
    pthread_rwlockattr_t attr;
    pthread_t t;
    int r;

    SCN_CHECK(pthread_rwlockattr_init(&attr));
    SCN_CHECK(pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
    SCN_CHECK(pthread_rwlock_init(&rw_q, &attr));
    pthread_rwlock_rdlock(&rw_q); /* LW:rd-q-read */
    SCN_CHECK(pthread_create(&t, NULL, queue_writer, NULL));
    /* a writer-preferring rwlock refuses new readers once a writer waits */
    while ((r = pthread_rwlock_tryrdlock(&rw_q)) == 0) {
        pthread_rwlock_unlock(&rw_q);
        sched_yield();
    }
    printf("writer queued (%s)\n", r == EBUSY ? "EBUSY" : "?");
    if (ordered) /* let the writer go first */
        pthread_rwlock_unlock(&rw_q);
    pthread_rwlock_rdlock(&rw_q); /* LW:rd-q-reread */
    pthread_rwlock_unlock(&rw_q);
    if (!ordered)
        pthread_rwlock_unlock(&rw_q);
    SCN_CHECK(pthread_join(t, NULL));
    printf("no deadlock\n");
}

/* ---- read-read ---- */
static void *rr_worker(void *arg)
{
    int second = *(int *)arg;
    pthread_rwlock_t *first_lock = second ? &rw_b : &rw_a;
    pthread_rwlock_t *second_lock = second ? &rw_a : &rw_b;

    pthread_rwlock_rdlock(first_lock);
    pthread_barrier_wait(&meet);
    pthread_rwlock_rdlock(second_lock);
    work++;
    pthread_rwlock_unlock(second_lock);
    pthread_rwlock_unlock(first_lock);
    return NULL;
}

/* ---- contention ---- */
static long counter;

static void *contender(void *arg)
{
    (void)arg;
    for (int round = 0; round < 3; round++) {
        pthread_mutex_lock(&mu_m);
        counter++;
        sleep_ms(50);
        pthread_mutex_unlock(&mu_m);
    }
    return NULL;
}

/* ---- stall ---- */
static void *sleep_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_m); /* LW:rd-stall-holder */
    sem_post(&locked);
    sleep_ms(300);
    pthread_mutex_unlock(&mu_m);
    return NULL;
}

/* ---- dump-exit ---- */
static void *hold_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&dump_alpha); /* LW:rd-dump-alpha */
    sem_post(&locked);
    sem_wait(&never);
    return NULL;
}

static void run_threads(int n, void *(*fn)(void *))
{
    pthread_t t[8];
    int ids[8];

    for (int i = 0; i < n; i++) {
        ids[i] = i;
        SCN_CHECK(pthread_create(&t[i], NULL, fn, &ids[i]));
    }
    for (int i = 0; i < n; i++)
        SCN_CHECK(pthread_join(t[i], NULL));
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "abba";
    pthread_t t, t2;

    ordered = scn_flag(argc, argv, "--ordered");
    try_first = scn_flag(argc, argv, "--try-first");
    setvbuf(stdout, NULL, _IONBF, 0);
    SCN_CHECK(sem_init(&locked, 0, 0));
    SCN_CHECK(sem_init(&never, 0, 0));
    SCN_CHECK(pthread_spin_init(&sp_a, PTHREAD_PROCESS_PRIVATE));
    SCN_CHECK(pthread_spin_init(&sp_b, PTHREAD_PROCESS_PRIVATE));
    printf("starting\n");
    if (strcmp(mode, "abba") == 0) {
        SCN_CHECK(pthread_barrier_init(&meet, NULL, 2));
        SCN_CHECK(pthread_create(&t, NULL, abba_t1, NULL));
        if (scn_flag(argc, argv, "--main")) {
            abba_t2(NULL);
        } else {
            SCN_CHECK(pthread_create(&t2, NULL, abba_t2, NULL));
            SCN_CHECK(pthread_join(t2, NULL));
        }
        SCN_CHECK(pthread_join(t, NULL));
        printf("no deadlock\n");
    } else if (strcmp(mode, "cycle3") == 0) {
        SCN_CHECK(pthread_barrier_init(&meet, NULL, 3));
        run_threads(3, cycle3_worker);
        printf("no deadlock\n");
    } else if (strcmp(mode, "rwlock") == 0) {
        SCN_CHECK(pthread_barrier_init(&meet, NULL, 2));
        SCN_CHECK(pthread_create(&t, NULL, rw_reader, NULL));
        SCN_CHECK(pthread_create(&t2, NULL, rw_writer, NULL));
        SCN_CHECK(pthread_join(t, NULL));
        SCN_CHECK(pthread_join(t2, NULL));
        printf("no deadlock\n");
    } else if (strcmp(mode, "spin") == 0) {
        SCN_CHECK(pthread_barrier_init(&meet, NULL, 2));
        run_threads(2, spin_worker);
        printf("no deadlock\n");
    } else if (strcmp(mode, "cond") == 0) {
        SCN_CHECK(pthread_create(&t, NULL, cond_waiter, NULL));
        SCN_CHECK(pthread_create(&t2, NULL, cond_signaller, NULL));
        SCN_CHECK(pthread_join(t, NULL));
        SCN_CHECK(pthread_join(t2, NULL));
        printf("no deadlock\n");
    } else if (strcmp(mode, "queued-writer") == 0) {
        queued_writer();
    } else if (strcmp(mode, "read-read") == 0) {
        SCN_CHECK(pthread_barrier_init(&meet, NULL, 2));
        run_threads(2, rr_worker);
        printf("no deadlock\n");
    } else if (strcmp(mode, "contention") == 0) {
        run_threads(8, contender);
        printf("contention done: %ld\n", counter);
    } else if (strcmp(mode, "stall") == 0) {
        SCN_CHECK(pthread_create(&t, NULL, sleep_holding, NULL));
        sem_wait(&locked);
        pthread_mutex_lock(&mu_m); /* LW:rd-stall-wait */
        pthread_mutex_unlock(&mu_m);
        SCN_CHECK(pthread_join(t, NULL));
        printf("stall done\n");
    } else if (strcmp(mode, "dump-exit") == 0) {
        SCN_CHECK(pthread_create(&t, NULL, hold_forever, NULL));
        sem_wait(&locked);
        pthread_mutex_lock(&dump_beta); /* LW:rd-dump-beta */
        printf("returning holding dump_beta\n");
        return 0;
    } else if (strcmp(mode, "dump-signal") == 0) {
        pthread_mutex_lock(&dump_alpha);
        pthread_mutex_lock(&dump_beta);
        raise(SIGUSR2);
        sleep_ms(500);
        pthread_mutex_unlock(&dump_beta);
        pthread_mutex_unlock(&dump_alpha);
        printf("dump-signal done\n");
    } else if (strcmp(mode, "dump-signal-exit") == 0) {
        pthread_mutex_lock(&dump_alpha);
        raise(SIGUSR2);
        printf("dump-signal-exit done\n");
        return 0; /* at once, holding it: the dump is still written */
    } else {
        fprintf(stderr, "scn_realdl: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
