/*
 * scn_sem.c - POSIX semaphores used as locks, and used as signals.
 *
 * A semaphore initialised to 1, waited and then posted by the same thread,
 * is a lock; one posted by a thread that does not hold it is a signal.
 * Threads are sequenced with joins (and, where said, with semaphores
 * initialised to 0, which are never locks).
 *
 *   sems         T1 waits A then B; once joined, T2 waits B then A: an
 *                inversion between two binary semaphores.
 *   mixed        T1 waits semaphore S then locks mutex M; T2 locks M, then
 *                waits S: an inversion between a semaphore and a mutex.
 *   trywait      as sems, but T1 takes B with sem_trywait (it is free): a
 *                successful sem_trywait on a lock counts (not so for mutexes).
 *   named        as sems, with two named semaphores (sem_open).
 *   late-signal  S is a lock in a cycle with mutex M (T1: S then M; T2: M
 *                then S); afterwards T3 posts S without holding it: S is a
 *                signal after all. --no-signal: T3 does nothing.
 *   rewait       as late-signal, but T3 waits S and then waits it again,
 *                which only a post by main can end (a Python Condition's
 *                waiter lock): a signal too. --no-signal: T3 waits once.
 *   buffer       a bounded buffer: counting semaphores (empty, full), a
 *                binary semaphore as its mutex, and a one-shot ready
 *                semaphore posted by main and waited by the consumer.
 *   handoff      binary semaphores posted by threads that never waited them
 *                while locks are taken around them in both orders; and a
 *                thread that ends holding one, which main posts.
 *   eintr        main holds S; T1 waits S and main sends it signals: sem_wait
 *                fails with EINTR, as without lockwatch; with --restart (the
 *                handler has SA_RESTART) it goes on waiting, as without it.
 *   deadlock     T1 waits A, T2 waits B, they meet at a barrier, then T1
 *                waits B and T2 waits A: a real deadlock (never run natively).
 *                With mutex: B is a mutex.
 *   (--ordered: every thread takes its locks in one order; for deadlock, the
 *   threads meet first.)
 *
 * Prints what happened and "done". Exit status 0; 99 if a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scn_util.h"

/* Ends the program with SCN_FAILED if a semaphore call failed. */
#define SEM_CHECK(call)                                                          \
    do {                                                                         \
        if ((call) != 0) {                                                       \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,        \
                    strerror(errno));                                            \
            exit(SCN_FAILED);                                                    \
        }                                                                        \
    } while (0)

static sem_t sem_a, sem_b, sem_s;
static sem_t *named_a, *named_b;
static sem_t *pa = &sem_a, *pb = &sem_b;
static pthread_mutex_t mu_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static int ordered, no_signal, with_mutex;
static long counter;

/* sem_wait that resumes after signals. */
static void sem_wait_fully(sem_t *s)
{
    while (sem_wait(s) != 0)
        if (errno != EINTR)
            SEM_CHECK(-1);
}

/* ---- two semaphores, or a semaphore and a mutex, in both orders --------- */

static void *sems_t1(void *arg)
{
    int try = arg != NULL;

    sem_wait_fully(pa); /* LW:sem-t1-a */
    if (try)
        SEM_CHECK(sem_trywait(pb)); /* LW:sem-t1-b-try */
    else
        sem_wait_fully(pb); /* LW:sem-t1-b */
    counter++;
    SEM_CHECK(sem_post(pb));
    SEM_CHECK(sem_post(pa));
    return NULL;
}

static void *sems_t2(void *arg)
{
    (void)arg;
    if (ordered) {
        sem_wait_fully(pa);
        sem_wait_fully(pb);
    } else {
        sem_wait_fully(pb); /* LW:sem-t2-b */
        sem_wait_fully(pa); /* LW:sem-t2-a */
    }
    counter++;
    SEM_CHECK(sem_post(pa));
    SEM_CHECK(sem_post(pb));
    return NULL;
}

static void *mixed_t1(void *arg)
{
    (void)arg;
    sem_wait_fully(&sem_s); /* LW:sem-mixed-t1-s */
    pthread_mutex_lock(&mu_m); /* LW:sem-mixed-t1-m */
    counter++;
    pthread_mutex_unlock(&mu_m);
    SEM_CHECK(sem_post(&sem_s));
    return NULL;
}

static void *mixed_t2(void *arg)
{
    (void)arg;
    if (ordered) {
        sem_wait_fully(&sem_s);
        pthread_mutex_lock(&mu_m);
    } else {
        pthread_mutex_lock(&mu_m); /* LW:sem-mixed-t2-m */
        sem_wait_fully(&sem_s); /* LW:sem-mixed-t2-s */
    }
    counter++;
    SEM_CHECK(sem_post(&sem_s));
    pthread_mutex_unlock(&mu_m);
    return NULL;
}

/* ---- a lock that turns out to be a signal -------------------------------- */

static sem_t step;

static void *late_t3_post(void *arg)
{
    (void)arg;
    if (!no_signal)
        SEM_CHECK(sem_post(&sem_s)); /* posted by a thread that does not hold it */
    return NULL;
}

static void *late_t3_rewait(void *arg)
{
    (void)arg;
    sem_wait_fully(&sem_s);
    if (no_signal) {
        SEM_CHECK(sem_post(&sem_s));
        return NULL;
    }
    SEM_CHECK(sem_post(&step));
    sem_wait_fully(&sem_s); /* held already: only main's post ends this */
    SEM_CHECK(sem_post(&sem_s));
    return NULL;
}

static void late_signal(int rewait)
{
    SEM_CHECK(sem_init(&sem_s, 0, 1));
    SEM_CHECK(sem_init(&step, 0, 0));
    scn_run_thread(mixed_t1, NULL);
    scn_run_thread(mixed_t2, NULL);
    if (!rewait) {
        scn_run_thread(late_t3_post, NULL);
    } else {
        pthread_t t3;
        SCN_CHECK(pthread_create(&t3, NULL, late_t3_rewait, NULL));
        if (!no_signal) {
            sem_wait_fully(&step);
            /* let T3 reach its second wait first: then this post is the signal that ends it */
            struct timespec pause = {0, 200 * 1000 * 1000};
            nanosleep(&pause, NULL);
            SEM_CHECK(sem_post(&sem_s));
        }
        SCN_CHECK(pthread_join(t3, NULL));
    }
    int v;
    SEM_CHECK(sem_getvalue(&sem_s, &v));
    printf("value of S: %d\n", v);
}

/* ---- a bounded buffer ------------------------------------------------------ */

enum { SLOTS = 4, ITEMS = 20000 };
static sem_t empty, full, buf_mutex, ready;
static long buffer[SLOTS], sum;
static int head, tail;

static void *producer(void *arg)
{
    (void)arg;
    for (long i = 1; i <= ITEMS; i++) {
        sem_wait_fully(&empty);
        sem_wait_fully(&buf_mutex);
        buffer[head] = i;
        head = (head + 1) % SLOTS;
        pthread_mutex_lock(&mu_m); /* buf_mutex -> mu_m */
        counter++;
        pthread_mutex_unlock(&mu_m);
        SEM_CHECK(sem_post(&buf_mutex));
        SEM_CHECK(sem_post(&full));
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    sem_wait_fully(&ready); /* posted once by main */
    for (long i = 1; i <= ITEMS; i++) {
        sem_wait_fully(&full);
        sem_wait_fully(&buf_mutex);
        sum += buffer[tail];
        tail = (tail + 1) % SLOTS;
        pthread_mutex_lock(&mu_m); /* buf_mutex -> mu_m, as in the producer */
        counter++;
        pthread_mutex_unlock(&mu_m);
        SEM_CHECK(sem_post(&buf_mutex));
        SEM_CHECK(sem_post(&empty));
    }
    return NULL;
}

static void bounded_buffer(void)
{
    pthread_t p, c;

    SEM_CHECK(sem_init(&empty, 0, SLOTS));
    SEM_CHECK(sem_init(&full, 0, 0));
    SEM_CHECK(sem_init(&buf_mutex, 0, 1));
    SEM_CHECK(sem_init(&ready, 0, 0));
    SCN_CHECK(pthread_create(&c, NULL, consumer, NULL));
    SCN_CHECK(pthread_create(&p, NULL, producer, NULL));
    SEM_CHECK(sem_post(&ready));
    SCN_CHECK(pthread_join(p, NULL));
    SCN_CHECK(pthread_join(c, NULL));
    printf("sum: %ld (expected %ld)\n", sum, (long)ITEMS * (ITEMS + 1) / 2);
    SEM_CHECK(sem_destroy(&empty));
    SEM_CHECK(sem_destroy(&full));
    SEM_CHECK(sem_destroy(&buf_mutex));
    SEM_CHECK(sem_destroy(&ready));
}

/* ---- binary semaphores handed from thread to thread --------------------------- */

static sem_t token, done;

static void *handoff_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        sem_wait_fully(&token); /* main posts it: a signal */
        pthread_mutex_lock(&mu_m); /* token -> mu_m */
        counter++;
        pthread_mutex_unlock(&mu_m);
        SEM_CHECK(sem_post(&done));
    }
    sem_wait_fully(&token); /* and ends holding it */
    return NULL;
}

static void handoff(void)
{
    pthread_t w;

    SEM_CHECK(sem_init(&token, 0, 1));
    SEM_CHECK(sem_init(&done, 0, 1));
    sem_wait_fully(&token);
    SCN_CHECK(pthread_create(&w, NULL, handoff_worker, NULL));
    for (int i = 0; i < 1000; i++) {
        sem_wait_fully(&done); /* the worker posts it */
        pthread_mutex_lock(&mu_m);
        SEM_CHECK(sem_post(&token)); /* hands it to the worker */
        pthread_mutex_unlock(&mu_m);
    }
    SEM_CHECK(sem_post(&token));
    SCN_CHECK(pthread_join(w, NULL));
    SEM_CHECK(sem_post(&token)); /* for the one the worker kept */
    sem_wait_fully(&done);
    printf("handoffs: %ld\n", counter);
}

/* ---- EINTR ---------------------------------------------------------------- */

static volatile sig_atomic_t handled;
static volatile int eintrs, restart;

static void on_signal(int sig)
{
    (void)sig;
    handled++;
}

static void *eintr_t1(void *arg)
{
    (void)arg;
    while (sem_wait(&sem_s) != 0) {
        if (errno != EINTR)
            SEM_CHECK(-1);
        eintrs++;
    }
    SEM_CHECK(sem_post(&sem_s));
    return NULL;
}

/*
 * main holds S while T1 waits for it and is sent signals. Without
 * SA_RESTART, sem_wait fails with EINTR; with it, the wait goes on (Linux
 * restarts an untimed sem_wait).
 */
static void eintr(void)
{
    struct sigaction sa;
    pthread_t t1;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    SEM_CHECK(sem_init(&sem_s, 0, 1));
    sem_wait_fully(&sem_s);
    SCN_CHECK(pthread_create(&t1, NULL, eintr_t1, NULL));
    struct timespec pause = {0, 30 * 1000 * 1000};
    for (int i = 0; i < 5; i++) {
        nanosleep(&pause, NULL);
        pthread_kill(t1, SIGUSR1);
    }
    nanosleep(&pause, NULL);
    SEM_CHECK(sem_post(&sem_s));
    SCN_CHECK(pthread_join(t1, NULL));
    printf("sem_wait failed with EINTR: %s, handler ran: %s\n", eintrs ? "yes" : "no",
           handled ? "yes" : "no");
}

/* ---- a real deadlock -------------------------------------------------------- */

static pthread_barrier_t meet;

static void take_b(void)
{
    if (with_mutex)
        pthread_mutex_lock(&mu_b); /* LW:sem-dl-b */
    else
        sem_wait_fully(&sem_b); /* LW:sem-dl-b-sem */
}

static void give_b(void)
{
    if (with_mutex)
        pthread_mutex_unlock(&mu_b);
    else
        SEM_CHECK(sem_post(&sem_b));
}

static void *dl_t1(void *arg)
{
    (void)arg;
    if (ordered)
        pthread_barrier_wait(&meet);
    sem_wait_fully(&sem_a); /* LW:sem-dl-t1-a */
    if (!ordered)
        pthread_barrier_wait(&meet);
    take_b();
    counter++;
    give_b();
    SEM_CHECK(sem_post(&sem_a));
    return NULL;
}

static void *dl_t2(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_barrier_wait(&meet);
        sem_wait_fully(&sem_a);
        take_b();
    } else {
        take_b();
        pthread_barrier_wait(&meet);
        sem_wait_fully(&sem_a); /* LW:sem-dl-t2-a */
    }
    counter++;
    SEM_CHECK(sem_post(&sem_a));
    give_b();
    return NULL;
}

static void deadlock(void)
{
    pthread_t t1, t2;

    SCN_CHECK(pthread_barrier_init(&meet, NULL, 2));
    printf("starting\n");
    fflush(stdout);
    SCN_CHECK(pthread_create(&t1, NULL, dl_t1, NULL));
    SCN_CHECK(pthread_create(&t2, NULL, dl_t2, NULL));
    SCN_CHECK(pthread_join(t1, NULL));
    SCN_CHECK(pthread_join(t2, NULL));
    printf("no deadlock\n");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";

    ordered = scn_flag(argc, argv, "--ordered");
    no_signal = scn_flag(argc, argv, "--no-signal");
    with_mutex = scn_flag(argc, argv, "--mutex");
    restart = scn_flag(argc, argv, "--restart");
    SEM_CHECK(sem_init(&sem_a, 0, 1));
    SEM_CHECK(sem_init(&sem_b, 0, 1));
    if (strcmp(mode, "sems") == 0 || strcmp(mode, "trywait") == 0) {
        scn_run_thread(sems_t1, strcmp(mode, "trywait") == 0 ? "try" : NULL);
        scn_run_thread(sems_t2, NULL);
    } else if (strcmp(mode, "named") == 0) {
        char a[64], b[64];
        snprintf(a, sizeof a, "/scn-sem-a-%d", (int)getpid());
        snprintf(b, sizeof b, "/scn-sem-b-%d", (int)getpid());
        named_a = sem_open(a, O_CREAT | O_EXCL, 0600, 1);
        named_b = sem_open(b, O_CREAT | O_EXCL, 0600, 1);
        if (named_a == SEM_FAILED || named_b == SEM_FAILED)
            SEM_CHECK(-1);
        sem_unlink(a);
        sem_unlink(b);
        pa = named_a;
        pb = named_b;
        scn_run_thread(sems_t1, NULL);
        scn_run_thread(sems_t2, NULL);
        SEM_CHECK(sem_close(named_a));
        SEM_CHECK(sem_close(named_b));
    } else if (strcmp(mode, "mixed") == 0) {
        SEM_CHECK(sem_init(&sem_s, 0, 1));
        scn_run_thread(mixed_t1, NULL);
        scn_run_thread(mixed_t2, NULL);
    } else if (strcmp(mode, "late-signal") == 0) {
        late_signal(0);
    } else if (strcmp(mode, "rewait") == 0) {
        late_signal(1);
    } else if (strcmp(mode, "buffer") == 0) {
        bounded_buffer();
    } else if (strcmp(mode, "handoff") == 0) {
        handoff();
    } else if (strcmp(mode, "eintr") == 0) {
        eintr();
    } else if (strcmp(mode, "deadlock") == 0) {
        deadlock();
    } else {
        fprintf(stderr, "usage: scn_sem sems|mixed|trywait|named|late-signal|rewait|buffer|"
                        "handoff|eintr|deadlock [--ordered] [--no-signal] [--mutex] [--restart]\n");
        return 2;
    }
    printf("counter: %ld\ndone\n", counter);
    return 0;
}
