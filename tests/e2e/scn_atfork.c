/*
 * scn_atfork.c [--child-inversion] [--lock-first] - fork in a program whose
 * library (scn_atfork_lib) registered, from its constructor, pthread_atfork
 * handlers that lock lib_p then lib_q.
 *
 * Main forks three times; each child takes lib_p then lib_q through the
 * library, prints "child N: done" and exits 0; the parent prints each
 * child's exit status, then returns 0.
 *
 *   --child-inversion  the children take lib_q then lib_p: an inversion with
 *                      the prepare handler's order, in each child.
 *   --lock-first       main takes lib_p then lib_q before the first fork,
 *                      so the locks are known before the handlers run.
 *
 * 99 if fork fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scn_util.h"

void scn_atfork_pair(int reverse);

int main(int argc, char **argv)
{
    int inversion = scn_flag(argc, argv, "--child-inversion");

    if (scn_flag(argc, argv, "--lock-first"))
        scn_atfork_pair(0);
    for (int i = 0; i < 3; i++) {
        printf("parent: fork %d\n", i);
        fflush(stdout);
        pid_t child = fork();
        if (child < 0)
            return SCN_FAILED;
        if (child == 0) {
            scn_atfork_pair(inversion);
            printf("child %d: done\n", i);
            exit(0);
        }
        int status;
        if (waitpid(child, &status, 0) != child)
            return SCN_FAILED;
        printf("parent: child %d exited with %d\n", i,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    scn_atfork_pair(0);
    printf("parent: done\n");
    return 0;
}
