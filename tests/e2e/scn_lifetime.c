/*
 * scn_lifetime.c HOW [options] - the ways a process ends: exit, _exit,
 * _Exit and quick_exit, with or without other threads still locking.
 *
 * HOW is exit, _exit, _Exit or quick_exit. Before it, main prints
 * "ending with HOW(STATUS)" (flushed), then, unflushed and without a
 * newline, "buffered text": exit flushes it, the others must not.
 *
 *   --status N     the status given to HOW (default 0).
 *   --inversion    first, a thread takes mu_a then mu_b and main takes mu_b
 *                  then mu_a.
 *   --threads      four threads lock until the process ends: two take mu_c
 *                  then mu_d in a loop, two take mu_c then a mutex they have
 *                  just initialised (a new lock and a new order every time).
 *                  HOW is called once each has looped 1,000 times.
 *   --handler      an at_quick_exit (quick_exit) or atexit (exit) handler
 *                  takes mu_a then mu_b and writes "handler ran" on stdout with
 *                  write() (stdio is not flushed by quick_exit).
 *   --handler-inversion  the handler takes mu_b then mu_a instead, after a
 *                  thread took mu_a then mu_b: the inversion is made in the
 *                  handler.
 *
 * 99 if a pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_d = PTHREAD_MUTEX_INITIALIZER;
static sem_t warmed;
static int handler_inversion;

static void *take_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:lt-t-a */
    pthread_mutex_lock(&mu_b); /* LW:lt-t-b */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *looper(void *arg)
{
    (void)arg;
    for (long i = 0;; i++) {
        pthread_mutex_lock(&mu_c); /* LW:lt-loop-c */
        pthread_mutex_lock(&mu_d); /* LW:lt-loop-d */
        pthread_mutex_unlock(&mu_d);
        pthread_mutex_unlock(&mu_c);
        if (i == 1000)
            sem_post(&warmed);
    }
    return NULL;
}

static void *churner(void *arg)
{
    (void)arg;
    for (long i = 0;; i++) {
        pthread_mutex_t fresh;
        SCN_CHECK(pthread_mutex_init(&fresh, NULL));
        pthread_mutex_lock(&mu_c); /* LW:lt-churn-c */
        pthread_mutex_lock(&fresh); /* LW:lt-churn-fresh */
        pthread_mutex_unlock(&fresh);
        pthread_mutex_unlock(&mu_c);
        SCN_CHECK(pthread_mutex_destroy(&fresh));
        if (i == 1000)
            sem_post(&warmed);
    }
    return NULL;
}

static void handler(void)
{
    static const char msg[] = "handler ran\n";

    if (handler_inversion) {
        pthread_mutex_lock(&mu_b); /* LW:lt-handler-b-first */
        pthread_mutex_lock(&mu_a); /* LW:lt-handler-a-second */
    } else {
        pthread_mutex_lock(&mu_a); /* LW:lt-handler-a */
        pthread_mutex_lock(&mu_b); /* LW:lt-handler-b */
    }
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
    if (write(1, msg, sizeof msg - 1) < 0)
        _exit(SCN_FAILED);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: scn_lifetime exit|_exit|_Exit|quick_exit [options]\n");
        return 2;
    }
    const char *how = argv[1];
    int status = (int)scn_opt_long(argc, argv, "--status", 0);
    handler_inversion = scn_flag(argc, argv, "--handler-inversion");
    int handler_wanted = handler_inversion || scn_flag(argc, argv, "--handler");

    if (sem_init(&warmed, 0, 0) != 0)
        return SCN_FAILED;
    if (scn_flag(argc, argv, "--inversion")) {
        scn_run_thread(take_ab, NULL);
        pthread_mutex_lock(&mu_b); /* LW:lt-main-b */
        pthread_mutex_lock(&mu_a); /* LW:lt-main-a */
        pthread_mutex_unlock(&mu_a);
        pthread_mutex_unlock(&mu_b);
    }
    if (handler_inversion)
        scn_run_thread(take_ab, NULL);
    if (handler_wanted) {
        if (strcmp(how, "quick_exit") == 0)
            at_quick_exit(handler);
        else
            atexit(handler);
    }
    if (scn_flag(argc, argv, "--threads")) {
        for (int i = 0; i < 4; i++) {
            pthread_t t;
            SCN_CHECK(pthread_create(&t, NULL, i % 2 ? churner : looper, NULL));
            SCN_CHECK(pthread_detach(t));
        }
        for (int i = 0; i < 4; i++)
            while (sem_wait(&warmed) != 0 && errno == EINTR)
                continue;
    }

    printf("ending with %s(%d)\n", how, status);
    fflush(stdout);
    printf("buffered text");
    if (strcmp(how, "exit") == 0)
        exit(status);
    if (strcmp(how, "_exit") == 0)
        _exit(status);
    if (strcmp(how, "_Exit") == 0)
        _Exit(status);
    if (strcmp(how, "quick_exit") == 0)
        quick_exit(status);
    return 2;
}
