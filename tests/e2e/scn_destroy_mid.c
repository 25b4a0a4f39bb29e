/*
 * scn_destroy_mid.c - an order that must survive the destruction of a lock
 * taken between its two ends.
 *
 * Thread 1 takes A, then B, then C (nested), releases B and destroys it
 * (legal: B is unlocked), then takes D while still holding A and C. So
 * thread 1 asked for D while holding A. After it is joined, thread 2 takes D
 * then A: together with thread 1 that is an AB/BA-style inversion on A and D
 * (thread 1: A held, D wanted; thread 2: D held, A wanted).
 *
 *   --ordered      thread 2 takes A then D: nothing to report.
 *   --no-destroy   B is released but not destroyed (a control: the same
 *                  inversion, with B still alive).
 *
 * Exit status 0 (99 if a pthread call fails).
 */
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_d = PTHREAD_MUTEX_INITIALIZER;
static int ordered, destroy = 1;
static int work;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:dm-a-first */
    pthread_mutex_lock(&mu_b); /* LW:dm-b-second */
    pthread_mutex_lock(&mu_c); /* LW:dm-c-third */
    pthread_mutex_unlock(&mu_b);
    if (destroy)
        SCN_CHECK(pthread_mutex_destroy(&mu_b));
    pthread_mutex_lock(&mu_d); /* LW:dm-d-fourth */
    work++;
    pthread_mutex_unlock(&mu_d);
    pthread_mutex_unlock(&mu_c);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_mutex_lock(&mu_a); /* LW:dm-t2-ordered-a */
        pthread_mutex_lock(&mu_d); /* LW:dm-t2-ordered-d */
    } else {
        pthread_mutex_lock(&mu_d); /* LW:dm-t2-d-first */
        pthread_mutex_lock(&mu_a); /* LW:dm-t2-a-second */
    }
    work++;
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_d);
    return NULL;
}

int main(int argc, char **argv)
{
    ordered = scn_flag(argc, argv, "--ordered");
    destroy = !scn_flag(argc, argv, "--no-destroy");
    SCN_CHECK(pthread_mutex_init(&mu_b, NULL));
    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    printf("work %d\n", work);
    return 0;
}
