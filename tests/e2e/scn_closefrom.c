/*
 * scn_closefrom.c DIR [--ordered] [--signal] [--input F] - a program that
 * takes over file descriptors above 2 (as daemons, supervisors and shells
 * do), and checks that the files on them hold only its own data.
 *
 * First, a thread takes mu_a then mu_b and main takes mu_b then mu_a (an
 * inversion). Then every descriptor from 3 up is closed, and DIR/data1 to
 * DIR/data16 are created (they get descriptors 3 to 18); "data N" is written
 * to each. Then a thread takes mu_c then mu_d and main takes mu_d then mu_c
 * (a second inversion), and with --signal, SIGUSR1 is raised (its
 * disposition is left as lockwatch's dump_signal may have set it; the
 * program ignores it otherwise). Finally the files are read back: "files
 * clean" and status 0 if each holds exactly its line, else "file N
 * polluted" with what it holds, and status 5.
 *
 *   --ordered   both pairs are taken in one order: nothing to report.
 *   --input F   instead of closing descriptors, put F on descriptor 3 and
 *               /dev/null on 4 with dup2 (a shell's "exec 3<F 4>/dev/null"),
 *               wait 200 ms (time for anyone else to misuse descriptor 3;
 *               the result never depends on it), read descriptor 3 and print
 *               "input: " and what it read. The data files then get the
 *               lowest free descriptors.
 *
 * 99 if a call fails.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_d = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *first, *second;

static void *take_pair(void *arg)
{
    (void)arg;
    pthread_mutex_lock(first); /* LW:cf-t-first */
    pthread_mutex_lock(second); /* LW:cf-t-second */
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

static void pair(pthread_mutex_t *x, pthread_mutex_t *y, int ordered)
{
    first = x;
    second = y;
    scn_run_thread(take_pair, NULL);
    pthread_mutex_t *m1 = ordered ? x : y, *m2 = ordered ? y : x;
    pthread_mutex_lock(m1); /* LW:cf-main-first */
    pthread_mutex_lock(m2); /* LW:cf-main-second */
    pthread_mutex_unlock(m2);
    pthread_mutex_unlock(m1);
}

static int check(int fd, const char *want, int n)
{
    char got[4096];
    ssize_t k = pread(fd, got, sizeof got - 1, 0);

    if (k < 0)
        return SCN_FAILED;
    got[k] = 0;
    if (strcmp(got, want) == 0)
        return 0;
    printf("file %d polluted: %zd bytes: %s\n", n, k, got);
    return 5;
}

int main(int argc, char **argv)
{
    char path[4096];
    struct rlimit rl;

    if (argc < 2) {
        fprintf(stderr, "usage: scn_closefrom DIR [--ordered] [--signal]\n");
        return 2;
    }
    int ordered = scn_flag(argc, argv, "--ordered");
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    struct sigaction old;
    if (sigaction(SIGUSR1, NULL, &old) != 0)
        return SCN_FAILED;
    if (old.sa_handler == SIG_DFL)
        signal(SIGUSR1, SIG_IGN); /* natively, the raise below must not kill us */

    pair(&mu_a, &mu_b, ordered);

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return SCN_FAILED;
    const char *input = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--input") == 0)
            input = argv[i + 1];
    if (input) {
        /* put F on descriptor 3 and /dev/null on 4, as a shell's "exec 3<F 4>/dev/null" */
        int in = open(input, O_RDONLY), null = open("/dev/null", O_WRONLY);
        if (in < 0 || null < 0 || dup2(in, 3) != 3 || dup2(null, 4) != 4)
            return SCN_FAILED;
        if (in > 4)
            close(in);
        if (null > 4)
            close(null);
        usleep(200000);
        char in_text[256];
        ssize_t k = read(3, in_text, sizeof in_text - 1);
        if (k < 0)
            return SCN_FAILED;
        in_text[k] = 0;
        printf("input: %s\n", in_text);
    } else {
        for (int fd = 3; fd < (int)rl.rlim_cur && fd < 65536; fd++)
            close(fd);
    }
    int base = 3;
    enum { NFILES = 16 };
    int fds[NFILES];
    char line[NFILES][32];
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "%s/data%d", argv[1], i + 1);
        fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fds[i] < 0 || (!input && fds[i] != base + i))
            return SCN_FAILED;
        int n = snprintf(line[i], sizeof line[i], "data %d\n", i + 1);
        if (write(fds[i], line[i], (size_t)n) != n)
            return SCN_FAILED;
    }

    pair(&mu_c, &mu_d, ordered);
    if (scn_flag(argc, argv, "--signal"))
        raise(SIGUSR1);

    int rc = 0;
    for (int i = 0; i < NFILES; i++) {
        int r = check(fds[i], line[i], i + 1);
        if (r && !rc)
            rc = r;
    }
    if (rc)
        return rc;
    printf("files clean\n");
    return 0;
}
