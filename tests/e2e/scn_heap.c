/*
 * scn_heap.c - mutexes in malloc'd memory in an AB/BA.
 *
 * Two mutexes are malloc'd and initialised with pthread_mutex_init, each on
 * its own line. Thread 1 takes A then B; after it is joined, thread 2 takes
 * B then A. Heap locks have no symbol; a checker shows where they were
 * created instead.
 *
 *   --ordered   thread 2 takes A then B too: nothing to report.
 *
 * Exit status 0 (99 if a pthread call or malloc fails).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

struct account {
    long balance;
    pthread_mutex_t lock;
};

static struct account *acct_a, *acct_b;
static int ordered;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&acct_a->lock); /* LW:heap-a-first */
    pthread_mutex_lock(&acct_b->lock); /* LW:heap-b-second */
    acct_a->balance -= 10;
    acct_b->balance += 10;
    pthread_mutex_unlock(&acct_b->lock);
    pthread_mutex_unlock(&acct_a->lock);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    struct account *first = ordered ? acct_a : acct_b;
    struct account *second = ordered ? acct_b : acct_a;

    pthread_mutex_lock(&first->lock); /* LW:heap-t2-first */
    pthread_mutex_lock(&second->lock); /* LW:heap-t2-second */
    acct_b->balance -= 10;
    acct_a->balance += 10;
    pthread_mutex_unlock(&second->lock);
    pthread_mutex_unlock(&first->lock);
    return NULL;
}

int main(int argc, char **argv)
{
    ordered = scn_flag(argc, argv, "--ordered");
    acct_a = malloc(sizeof *acct_a);
    acct_b = malloc(sizeof *acct_b);
    if (!acct_a || !acct_b)
        return SCN_FAILED;
    acct_a->balance = acct_b->balance = 100;
    SCN_CHECK(pthread_mutex_init(&acct_a->lock, NULL)); /* LW:heap-init-a */
    SCN_CHECK(pthread_mutex_init(&acct_b->lock, NULL)); /* LW:heap-init-b */

    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    printf("balances %ld %ld\n", acct_a->balance, acct_b->balance);

    SCN_CHECK(pthread_mutex_destroy(&acct_b->lock));
    SCN_CHECK(pthread_mutex_destroy(&acct_a->lock));
    free(acct_b);
    free(acct_a);
    return 0;
}
