/*
 * scn_trylock.c - a successful trylock adds no lock order.
 *
 * Thread 1 holds A and takes B with pthread_mutex_trylock (which succeeds:
 * nobody else holds B). After it is joined, thread 2 takes B then A with
 * blocking locks. A trylock cannot wait, so A -> B is no order and there is
 * nothing to report.
 *
 *   --blocking     thread 1 takes B with a blocking lock: an inversion.
 *   --try-last     the other way round: thread 1 takes B then A (blocking),
 *                  thread 2 holds A and trylocks B. Nothing to report.
 *   --through-try  thread 1 holds A, trylocks B, then takes C (blocking);
 *                  thread 2 takes C then A: an inversion A -> C -> A (the
 *                  trylock on top of A must not hide the order A -> C).
 *   --ordered      with --through-try: thread 2 takes A then C: nothing.
 *
 * Exit status 0; 3 if the trylock fails (it cannot here); 99 if a pthread
 * call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static int blocking, ordered;
static int work;

/* Holds A and takes B by trylock (or by a blocking lock with --blocking). */
static void *hold_a_take_b(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:try-a-first */
    if (blocking) {
        pthread_mutex_lock(&mu_b); /* LW:try-b-blocking */
    } else if (pthread_mutex_trylock(&mu_b) != 0) { /* LW:try-b-try */
        fprintf(stderr, "scn_trylock: trylock of B failed\n");
        exit(3);
    }
    work++;
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *take_b_then_a(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_b); /* LW:try-b-first */
    pthread_mutex_lock(&mu_a); /* LW:try-a-second */
    work++;
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
    return NULL;
}

/* Holds A, trylocks B, then takes C with a blocking lock. */
static void *a_try_b_then_c(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:tt-a-first */
    if (pthread_mutex_trylock(&mu_b) != 0) { /* LW:tt-b-try */
        fprintf(stderr, "scn_trylock: trylock of B failed\n");
        exit(3);
    }
    pthread_mutex_lock(&mu_c); /* LW:tt-c-third */
    work++;
    pthread_mutex_unlock(&mu_c);
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *c_then_a(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_mutex_lock(&mu_a); /* LW:tt-ordered-a */
        pthread_mutex_lock(&mu_c); /* LW:tt-ordered-c */
    } else {
        pthread_mutex_lock(&mu_c); /* LW:tt-c-first */
        pthread_mutex_lock(&mu_a); /* LW:tt-a-second */
    }
    work++;
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_c);
    return NULL;
}

int main(int argc, char **argv)
{
    blocking = scn_flag(argc, argv, "--blocking");
    ordered = scn_flag(argc, argv, "--ordered");
    if (scn_flag(argc, argv, "--through-try")) {
        scn_run_thread(a_try_b_then_c, NULL);
        scn_run_thread(c_then_a, NULL);
    } else if (scn_flag(argc, argv, "--try-last")) {
        scn_run_thread(take_b_then_a, NULL);
        scn_run_thread(hold_a_take_b, NULL);
    } else {
        scn_run_thread(hold_a_take_b, NULL);
        scn_run_thread(take_b_then_a, NULL);
    }
    printf("work %d\n", work);
    return 0;
}
