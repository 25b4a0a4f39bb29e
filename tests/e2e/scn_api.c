/*
 * scn_api.c - a program that says what it means through lockwatch.h:
 * names, ranks and held-lock assertions. It links with nothing but -pthread
 * and must behave the same with and without lockwatch.
 *
 * Threads run one after the other (joined) unless stated otherwise.
 *
 *   names        accounts[0] and accounts[1] (named with lockwatch_namef):
 *                T1 locks 0 then 1, T2 1 then 0: an inversion naming both.
 *                --ordered: both 0 then 1. --name-first: the names are
 *                given before pthread_mutex_init.
 *   ranks        ledger (rank 10) and journal (rank 20): one thread takes
 *                journal then ledger, once: a rank-violation (no cycle).
 *                --ordered: ledger then journal.
 *   same-rank    two locks of rank 5 held together: a rank-violation.
 *                --nestable: both declared with LOCKWATCH_RANK_NESTABLE.
 *   assert       update_table() asserts it holds `table`; it is called once
 *                with the lock and once without: one not-held.
 *                --ordered: both calls with the lock.
 *   assert-rw    an rwlock read-locked: LOCKWATCH_ASSERT_HELD fails
 *                (read-held), LOCKWATCH_ASSERT_READ_HELD does not.
 *                --ordered: write-locked, both assertions hold.
 *   assert-types a spinlock and a C11 mtx_t named, ranked and asserted
 *                held; --unheld: asserted while not held (two not-held).
 *   bad          NULL locks, NULL, empty and overlong names, ranks out of
 *                range: each is refused with one line, nothing is reported.
 *   gate         G held around both orders of A and B (T1: G A B, T2: G B
 *                A): a cycle that cannot deadlock. --open: T2 takes B A
 *                without G. --open-later: T2 takes G B A, then B A without
 *                G. --open-new-thread: a third thread takes B A without G.
 *   single       one thread takes A then B, then B then A.
 *   three        A B C in a cycle made by two threads (T1: A B and B C; T2:
 *                C A). --three-threads: T1 A B, T2 B C, T3 C A.
 *   together     T1 A then B and T2 B then A, both alive at once (kept from
 *                meeting by semaphores): a cycle not ordered by create/join.
 *
 * Prints what it did on stdout. Exit status 0 (99 if a pthread call fails).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include <lockwatch/lockwatch.h>

#include "scn_util.h"

static pthread_mutex_t accounts[2];
static pthread_mutex_t ledger = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t journal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t table = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t mu_g = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static int ordered;

static void lock2(pthread_mutex_t *x, pthread_mutex_t *y)
{
    pthread_mutex_lock(x); /* LW:api-first */
    pthread_mutex_lock(y); /* LW:api-second */
    counter++;
    pthread_mutex_unlock(y);
    pthread_mutex_unlock(x);
}

/* ---- names ---------------------------------------------------------------- */

static void *names_t1(void *arg) { (void)arg; lock2(&accounts[0], &accounts[1]); return NULL; }
static void *names_t2(void *arg)
{
    (void)arg;
    if (ordered) lock2(&accounts[0], &accounts[1]);
    else lock2(&accounts[1], &accounts[0]);
    return NULL;
}

static void names(int name_first)
{
    for (int i = 0; i < 2; i++) {
        if (name_first) lockwatch_namef(&accounts[i], "accounts[%d]", i);
        SCN_CHECK(pthread_mutex_init(&accounts[i], NULL));
        if (!name_first) lockwatch_namef(&accounts[i], "accounts[%d]", i);
    }
    scn_run_thread(names_t1, NULL);
    scn_run_thread(names_t2, NULL);
}

/* ---- ranks ---------------------------------------------------------------- */

static void ranks(void)
{
    LOCKWATCH_NAME(&ledger, "ledger");
    LOCKWATCH_NAME(&journal, "journal");
    LOCKWATCH_RANK(&ledger, 10);
    LOCKWATCH_RANK(&journal, 20);
    if (ordered) {
        lock2(&ledger, &journal);
    } else {
        for (int i = 0; i < 2; i++) { /* twice: the same place is reported once */
            pthread_mutex_lock(&journal); /* LW:rank-held */
            pthread_mutex_lock(&ledger);  /* LW:rank-requested */
            counter++;
            pthread_mutex_unlock(&ledger);
            pthread_mutex_unlock(&journal);
        }
    }
}

static void same_rank(int nestable)
{
    if (nestable) {
        LOCKWATCH_RANK_NESTABLE(&mu_a, 5);
        LOCKWATCH_RANK_NESTABLE(&mu_b, 5);
    } else {
        LOCKWATCH_RANK(&mu_a, 5);
        LOCKWATCH_RANK(&mu_b, 5);
    }
    lock2(&mu_a, &mu_b);
}

/* ---- assertions ----------------------------------------------------------- */

static void update_table(void)
{
    LOCKWATCH_ASSERT_HELD(&table); /* LW:api-assert */
    counter++;
}

static void asserts(void)
{
    LOCKWATCH_NAME(&table, "table");
    pthread_mutex_lock(&table);
    update_table();
    pthread_mutex_unlock(&table);
    if (ordered) pthread_mutex_lock(&table);
    update_table();
    if (ordered) pthread_mutex_unlock(&table);
}

static void assert_rw(void)
{
    if (ordered) pthread_rwlock_wrlock(&rw);
    else pthread_rwlock_rdlock(&rw);
    LOCKWATCH_ASSERT_READ_HELD(&rw);
    LOCKWATCH_ASSERT_HELD(&rw); /* LW:api-assert-rw */
    pthread_rwlock_unlock(&rw);
}

static void assert_types(int unheld)
{
    pthread_spinlock_t spin;
    mtx_t m;
    SCN_CHECK(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE));
    if (mtx_init(&m, mtx_plain) != thrd_success) exit(SCN_FAILED);
    LOCKWATCH_NAME(&spin, "spin");
    LOCKWATCH_NAME(&m, "c11");
    LOCKWATCH_RANK(&spin, 1);
    LOCKWATCH_RANK(&m, 2);
    if (!unheld) pthread_spin_lock(&spin);
    LOCKWATCH_ASSERT_HELD(&spin);
    if (!unheld) pthread_spin_unlock(&spin);
    if (!unheld) mtx_lock(&m);
    LOCKWATCH_ASSERT_HELD(&m);
    if (!unheld) mtx_unlock(&m);
    mtx_destroy(&m);
    pthread_spin_destroy(&spin);
}

static void bad(void)
{
    char longname[600];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    printf("name NULL lock: %d\n", lockwatch_name(NULL, "x") != 0 || !lockwatch_active());
    printf("name NULL name: %d\n", lockwatch_name(&mu_a, NULL) != 0 || !lockwatch_active());
    printf("name empty: %d\n", lockwatch_name(&mu_a, "") != 0 || !lockwatch_active());
    printf("name long: %d\n", lockwatch_name(&mu_a, longname) != 0 || !lockwatch_active());
    printf("rank -1: %d\n", lockwatch_rank(&mu_a, -1) != 0 || !lockwatch_active());
    printf("rank huge: %d\n", lockwatch_rank(&mu_a, 1L << 40) != 0 || !lockwatch_active());
    printf("rank NULL lock: %d\n", lockwatch_rank(NULL, 3) != 0 || !lockwatch_active());
    LOCKWATCH_ASSERT_HELD(NULL);
    LOCKWATCH_ASSERT_READ_HELD((void *)16);
    lockwatch_namef(&mu_a, "%s", longname); /* formatted: cut to the longest name */
    lock2(&mu_a, &mu_b);
}

/* ---- gate locks ----------------------------------------------------------- */

static int gate_mode; /* 0 closed, 1 open, 2 open later, 3 open in a new thread */

static void *gate_t1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_g); /* LW:gate-g1 */
    lock2(&mu_a, &mu_b);
    pthread_mutex_unlock(&mu_g);
    return NULL;
}

static void *gate_t2(void *arg)
{
    (void)arg;
    if (gate_mode == 1) {
        lock2(&mu_b, &mu_a);
        return NULL;
    }
    pthread_mutex_lock(&mu_g); /* LW:gate-g2 */
    lock2(&mu_b, &mu_a);
    pthread_mutex_unlock(&mu_g);
    if (gate_mode == 2) lock2(&mu_b, &mu_a);
    return NULL;
}

static void *gate_t3(void *arg) { (void)arg; lock2(&mu_b, &mu_a); return NULL; }

static void gate(void)
{
    LOCKWATCH_NAME(&mu_g, "G");
    scn_run_thread(gate_t1, NULL);
    scn_run_thread(gate_t2, NULL);
    if (gate_mode == 3) scn_run_thread(gate_t3, NULL);
}

/* ---- thread labels -------------------------------------------------------- */

static void *three_t1(void *arg)
{
    int all = *(int *)arg;
    lock2(&mu_a, &mu_b);
    if (!all) lock2(&mu_b, &mu_c);
    return NULL;
}
static void *three_t2(void *arg) { (void)arg; lock2(&mu_b, &mu_c); return NULL; }
static void *three_t3(void *arg) { (void)arg; lock2(&mu_c, &mu_a); return NULL; }

static sem_t first_done, second_may;

static void *together_t1(void *arg)
{
    (void)arg;
    lock2(&mu_a, &mu_b);
    sem_post(&first_done);
    sem_wait(&second_may);
    return NULL;
}

static void *together_t2(void *arg)
{
    (void)arg;
    sem_wait(&first_done);
    lock2(&mu_b, &mu_a);
    sem_post(&second_may);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    ordered = scn_flag(argc, argv, "--ordered");
    /* differs with and without lockwatch: on stderr, so stdout stays the same */
    fprintf(stderr, "api: checker %s\n", lockwatch_active() ? "present" : "absent");
    if (strcmp(mode, "names") == 0) {
        names(scn_flag(argc, argv, "--name-first"));
    } else if (strcmp(mode, "ranks") == 0) {
        ranks();
    } else if (strcmp(mode, "same-rank") == 0) {
        same_rank(scn_flag(argc, argv, "--nestable"));
    } else if (strcmp(mode, "assert") == 0) {
        asserts();
    } else if (strcmp(mode, "assert-rw") == 0) {
        assert_rw();
    } else if (strcmp(mode, "assert-types") == 0) {
        assert_types(scn_flag(argc, argv, "--unheld"));
    } else if (strcmp(mode, "bad") == 0) {
        bad();
    } else if (strcmp(mode, "gate") == 0) {
        gate_mode = scn_flag(argc, argv, "--open")              ? 1
                    : scn_flag(argc, argv, "--open-later")      ? 2
                    : scn_flag(argc, argv, "--open-new-thread") ? 3
                                                                : 0;
        gate();
    } else if (strcmp(mode, "single") == 0) {
        lock2(&mu_a, &mu_b);
        if (!ordered) lock2(&mu_b, &mu_a);
    } else if (strcmp(mode, "three") == 0) {
        int all = scn_flag(argc, argv, "--three-threads");
        scn_run_thread(three_t1, &all);
        if (all) scn_run_thread(three_t2, NULL);
        scn_run_thread(three_t3, NULL);
    } else if (strcmp(mode, "together") == 0) {
        pthread_t t1, t2;
        sem_init(&first_done, 0, 0);
        sem_init(&second_may, 0, 0);
        SCN_CHECK(pthread_create(&t1, NULL, together_t1, NULL));
        SCN_CHECK(pthread_create(&t2, NULL, together_t2, NULL));
        SCN_CHECK(pthread_join(t1, NULL));
        SCN_CHECK(pthread_join(t2, NULL));
    } else {
        fprintf(stderr, "usage: scn_api MODE [options] (see the source)\n");
        return 2;
    }
    printf("counter %ld\n", counter);
    return 0;
}
