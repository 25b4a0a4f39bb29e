/*
 * scn_cycle3.c - a lock-order cycle through three locks and three threads.
 *
 * Thread 1 takes A then B, thread 2 B then C, thread 3 C then A, one after
 * the other (each is joined before the next starts). No two orders conflict
 * directly; together they make the cycle A -> B -> C -> A.
 *
 *   --ordered   thread 3 takes A then C instead: consistent, nothing to report.
 *   --with-abba first a thread takes B then A (after thread 1's A then B):
 *               an AB/BA inversion; then the three-lock cycle is a second,
 *               distinct cycle (with --ordered: only the AB/BA one).
 *   --shortest  before thread 3, another thread takes A then C: thread 3's
 *               C then A closes both A -> C -> A and A -> B -> C -> A; only
 *               the shortest is reported.
 *
 * Exit status 0 (99 if a pthread call fails).
 */
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static int ordered;
static int work;

static void *thread_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:c3-a-first */
    pthread_mutex_lock(&mu_b); /* LW:c3-b-second */
    work++;
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *thread_bc(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_b); /* LW:c3-b-first */
    pthread_mutex_lock(&mu_c); /* LW:c3-c-second */
    work++;
    pthread_mutex_unlock(&mu_c);
    pthread_mutex_unlock(&mu_b);
    return NULL;
}

static void *thread_ca(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_mutex_lock(&mu_a); /* LW:c3-ordered-a-first */
        pthread_mutex_lock(&mu_c); /* LW:c3-ordered-c-second */
        work++;
        pthread_mutex_unlock(&mu_c);
        pthread_mutex_unlock(&mu_a);
    } else {
        pthread_mutex_lock(&mu_c); /* LW:c3-c-first */
        pthread_mutex_lock(&mu_a); /* LW:c3-a-second */
        work++;
        pthread_mutex_unlock(&mu_a);
        pthread_mutex_unlock(&mu_c);
    }
    return NULL;
}

static void *thread_ba(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_b); /* LW:c3-ba-b-first */
    pthread_mutex_lock(&mu_a); /* LW:c3-ba-a-second */
    work++;
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
    return NULL;
}

static void *thread_ac(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:c3-ac-a-first */
    pthread_mutex_lock(&mu_c); /* LW:c3-ac-c-second */
    work++;
    pthread_mutex_unlock(&mu_c);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

int main(int argc, char **argv)
{
    ordered = scn_flag(argc, argv, "--ordered");
    scn_run_thread(thread_ab, NULL);
    if (scn_flag(argc, argv, "--with-abba"))
        scn_run_thread(thread_ba, NULL);
    scn_run_thread(thread_bc, NULL);
    if (scn_flag(argc, argv, "--shortest"))
        scn_run_thread(thread_ac, NULL);
    scn_run_thread(thread_ca, NULL);
    printf("work %d\n", work);
    return 0;
}
