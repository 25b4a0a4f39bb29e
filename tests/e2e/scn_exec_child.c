/*
 * scn_exec_child.c - a program that other scenarios execute: it tells what
 * LD_PRELOAD it was given and makes an AB/BA inversion.
 *
 * Prints "exec child: LD_PRELOAD=[VALUE]" (or "exec child: LD_PRELOAD unset")
 * on stdout and exec_child_pid=PID on stderr. A thread takes mu_a then mu_b
 * and is joined; then main takes mu_b then mu_a. Returns 0.
 *
 *   --ordered   main takes mu_a then mu_b: nothing to report.
 *
 * 99 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;

static void *take_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:ec-t-a */
    pthread_mutex_lock(&mu_b); /* LW:ec-t-b */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *preload = getenv("LD_PRELOAD");

    if (preload)
        printf("exec child: LD_PRELOAD=[%s]\n", preload);
    else
        printf("exec child: LD_PRELOAD unset\n");
    fflush(stdout);
    fprintf(stderr, "exec_child_pid=%d\n", (int)getpid());
    scn_run_thread(take_ab, NULL);
    if (scn_flag(argc, argv, "--ordered")) {
        pthread_mutex_lock(&mu_a); /* LW:ec-main-a */
        pthread_mutex_lock(&mu_b); /* LW:ec-main-b */
    } else {
        pthread_mutex_lock(&mu_b); /* LW:ec-main-b-first */
        pthread_mutex_lock(&mu_a); /* LW:ec-main-a-second */
    }
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
    printf("exec child: done\n");
    return 0;
}
