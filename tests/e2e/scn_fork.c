/*
 * scn_fork.c - locks on both sides of a fork.
 *
 * The parent takes A then B on a thread (joined), then forks. The child
 * takes B then A and exits 0; the parent waits for it and prints the child's
 * exit status, then returns 0. A child inherits what its parent's memory
 * knew: its BA closes a cycle with the parent's AB, in the child only.
 *
 *   --ordered   the child takes A then B: nothing to report anywhere.
 *
 * 99 if a pthread call or fork fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;

static void *take_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:fork-a-first */
    pthread_mutex_lock(&mu_b); /* LW:fork-b-second */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

int main(int argc, char **argv)
{
    int ordered = scn_flag(argc, argv, "--ordered");

    scn_run_thread(take_ab, NULL);
    printf("parent: forking\n");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return SCN_FAILED;
    if (child == 0) {
        if (ordered) {
            pthread_mutex_lock(&mu_a); /* LW:fork-child-a-first */
            pthread_mutex_lock(&mu_b); /* LW:fork-child-b-second */
        } else {
            pthread_mutex_lock(&mu_b); /* LW:fork-child-b-first */
            pthread_mutex_lock(&mu_a); /* LW:fork-child-a-second */
        }
        pthread_mutex_unlock(&mu_a);
        pthread_mutex_unlock(&mu_b);
        printf("child: done\n");
        exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child)
        return SCN_FAILED;
    printf("parent: child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* the parent takes A then B again: still consistent on its side */
    take_ab(NULL);
    return 0;
}
