/*
 * scn_stderr_reuse.c FILE - a program that closes its stderr and reuses fd 2
 * for a data file, then has an AB/BA inversion.
 *
 * fd 2 is closed and FILE is opened (and gets fd 2). The program writes
 * "data 1" to fd 2, runs thread 1 (A then B) and thread 2 (B then A), writes
 * "data 2", and reads FILE back: it must hold exactly its two lines. Prints
 * "file clean" (exit 0) or "file polluted" with what it found (exit 5).
 *
 *   --ordered   thread 2 takes A then B: nothing to report.
 *
 * 99 if a pthread call or a file operation fails.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static int ordered;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:sr-a-first */
    pthread_mutex_lock(&mu_b); /* LW:sr-b-second */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    pthread_mutex_t *first = ordered ? &mu_a : &mu_b;
    pthread_mutex_t *second = ordered ? &mu_b : &mu_a;

    pthread_mutex_lock(first); /* LW:sr-t2-first */
    pthread_mutex_lock(second); /* LW:sr-t2-second */
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

int main(int argc, char **argv)
{
    static const char want[] = "data 1\ndata 2\n";
    char got[4096];

    if (argc < 2) {
        fprintf(stderr, "usage: scn_stderr_reuse FILE [--ordered]\n");
        return 2;
    }
    ordered = scn_flag(argc, argv, "--ordered");
    close(2);
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd != 2)
        return SCN_FAILED;
    if (write(2, "data 1\n", 7) != 7)
        return SCN_FAILED;
    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    if (write(2, "data 2\n", 7) != 7)
        return SCN_FAILED;

    ssize_t n = pread(2, got, sizeof got - 1, 0);
    if (n < 0)
        return SCN_FAILED;
    got[n] = 0;
    if (strcmp(got, want) == 0) {
        printf("file clean\n");
        return 0;
    }
    printf("file polluted: %zd bytes:\n%s\n", n, got);
    return 5;
}
