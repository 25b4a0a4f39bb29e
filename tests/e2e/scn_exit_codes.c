/*
 * scn_exit_codes.c N - an AB/BA inversion, then the program ends with status N.
 *
 * Thread 1 takes A then B; after it is joined, thread 2 takes B then A. Then
 * main ends with status N (default 0):
 *
 *   (default)       exit(N)
 *   --return        return N from main
 *   --pthread-exit  main calls pthread_exit; the process ends with status 0
 *                   when its last thread does (N is ignored)
 *   --exit-from-thread  a new thread calls exit(N) while main waits for it
 *                   in pthread_join.
 *   --abort         abort() instead: the program dies of SIGABRT, and only
 *                   what was written as it ran survives.
 *   --ordered       thread 2 takes A then B: nothing to report.
 *
 * Prints "ending with N" last. 99 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static int ordered;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:ec-a-first */
    pthread_mutex_lock(&mu_b); /* LW:ec-b-second */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    pthread_mutex_t *first = ordered ? &mu_a : &mu_b;
    pthread_mutex_t *second = ordered ? &mu_b : &mu_a;

    pthread_mutex_lock(first); /* LW:ec-t2-first */
    pthread_mutex_lock(second); /* LW:ec-t2-second */
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

static int exit_status;

/* Ends the process from a thread that is not the main one. */
static void *exiting_thread(void *arg)
{
    (void)arg;
    printf("thread: exit(%d)\n", exit_status);
    exit(exit_status);
}

/* Keeps the process alive after main's pthread_exit, then lets it end. */
static void *last_thread(void *arg)
{
    (void)arg;
    printf("last thread ending\n");
    return NULL;
}

int main(int argc, char **argv)
{
    int status = argc > 1 && argv[1][0] != '-' ? atoi(argv[1]) : 0;

    ordered = scn_flag(argc, argv, "--ordered");
    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);

    if (scn_flag(argc, argv, "--exit-from-thread")) {
        exit_status = status;
        scn_run_thread(exiting_thread, NULL); /* never returns */
    }
    if (scn_flag(argc, argv, "--pthread-exit")) {
        pthread_t t;
        printf("main: pthread_exit\n");
        fflush(stdout);
        SCN_CHECK(pthread_create(&t, NULL, last_thread, NULL));
        pthread_exit(NULL);
    }
    printf("ending with %d\n", status);
    if (scn_flag(argc, argv, "--abort")) {
        fflush(stdout);
        abort();
    }
    if (scn_flag(argc, argv, "--return"))
        return status;
    exit(status);
}
