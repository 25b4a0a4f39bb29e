/*
 * scn_exec.c [--inversion] [--ordered-inversion] MODE PROG [ARGS...] - a
 * program that runs another one.
 *
 * MODE says how PROG runs:
 *   fork-exec     fork, then execv(PROG, ARGS) in the child
 *   sh            fork, then sh -c 'PROG ARGS; ...' in the child: the shell
 *                 forks PROG, prints "sh: child exited with S" and exits S
 *   vfork         vfork, then execv (the child _exit(127)s if execv fails)
 *   posix_spawn   posix_spawn(PROG, ARGS)
 *   system        system("PROG ARGS")
 *   exec          execv(PROG, ARGS) in this very process (no fork)
 * Every mode but exec waits for the child and prints
 * "launcher: child exited with S" (-1 if it was killed, 127 if it could not
 * be started), then returns 0.
 *
 *   --inversion          before running PROG, a thread takes mu_a then mu_b
 *                        and main takes mu_b then mu_a.
 *   --ordered-inversion  the same, with main taking mu_a then mu_b.
 *
 * ARGS must not need quoting for sh and system. 99 if a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scn_util.h"

extern char **environ;

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;

static void *take_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:ex-t-a */
    pthread_mutex_lock(&mu_b); /* LW:ex-t-b */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void pair(int inverted)
{
    scn_run_thread(take_ab, NULL);
    if (inverted) {
        pthread_mutex_lock(&mu_b); /* LW:ex-main-b */
        pthread_mutex_lock(&mu_a); /* LW:ex-main-a */
    } else {
        pthread_mutex_lock(&mu_a); /* LW:ex-main-a-first */
        pthread_mutex_lock(&mu_b); /* LW:ex-main-b-second */
    }
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
}

/* "PROG ARGS..." joined with spaces. */
static char *joined(char **argv)
{
    size_t n = 1;
    for (char **a = argv; *a; a++)
        n += strlen(*a) + 1;
    char *s = calloc(1, n + 64);
    if (!s)
        exit(SCN_FAILED);
    for (char **a = argv; *a; a++) {
        if (a != argv)
            strcat(s, " ");
        strcat(s, *a);
    }
    return s;
}

static int status_of(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
    int i = 1;
    int inversion = 0, ordered_inversion = 0;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--inversion") == 0)
            inversion = 1;
        else if (strcmp(argv[i], "--ordered-inversion") == 0)
            ordered_inversion = 1;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: scn_exec [--inversion] MODE PROG [ARGS...]\n");
        return 2;
    }
    const char *mode = argv[i];
    char **child_argv = argv + i + 1;
    if (inversion || ordered_inversion)
        pair(inversion);
    printf("launcher: running %s\n", mode);
    fflush(stdout);

    int st = 0;
    pid_t pid;
    if (strcmp(mode, "exec") == 0) {
        execv(child_argv[0], child_argv);
        return SCN_FAILED;
    } else if (strcmp(mode, "fork-exec") == 0 || strcmp(mode, "sh") == 0) {
        pid = fork();
        if (pid < 0)
            return SCN_FAILED;
        if (pid == 0) {
            if (strcmp(mode, "sh") == 0) {
                char *cmd = joined(child_argv);
                char *script = malloc(strlen(cmd) + 128);
                if (!script)
                    _exit(SCN_FAILED);
                sprintf(script, "%s; st=$?; echo \"sh: child exited with $st\"; exit $st", cmd);
                execl("/bin/sh", "sh", "-c", script, (char *)NULL);
            } else {
                execv(child_argv[0], child_argv);
            }
            _exit(127);
        }
        if (waitpid(pid, &st, 0) != pid)
            return SCN_FAILED;
    } else if (strcmp(mode, "vfork") == 0) {
        pid = vfork();
        if (pid < 0)
            return SCN_FAILED;
        if (pid == 0) {
            execv(child_argv[0], child_argv);
            _exit(127);
        }
        if (waitpid(pid, &st, 0) != pid)
            return SCN_FAILED;
    } else if (strcmp(mode, "posix_spawn") == 0) {
        int rc = posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ);
        if (rc != 0) {
            printf("launcher: posix_spawn: %s\n", strerror(rc));
            st = 127 << 8;
        } else if (waitpid(pid, &st, 0) != pid) {
            return SCN_FAILED;
        }
    } else if (strcmp(mode, "system") == 0) {
        st = system(joined(child_argv));
        if (st == -1)
            return SCN_FAILED;
    } else {
        fprintf(stderr, "scn_exec: unknown mode %s\n", mode);
        return 2;
    }
    printf("launcher: child exited with %d\n", status_of(st));
    return 0;
}
