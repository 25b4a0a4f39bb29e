/*
 * scn_close_stderr.c [options] - a program that closes its stderr (as xz
 * and other tools do before they exit), around an AB/BA inversion.
 *
 * By default: a thread takes mu_a then mu_b, main takes mu_b then mu_a,
 * then main closes fd 2 and returns 0.
 *
 *   --ordered       main takes mu_a then mu_b: nothing to report.
 *   --fclose        fclose(stderr) instead of close(2).
 *   --close-first   close fd 2 before the inversion (nothing is opened on it).
 *   --plant PREFIX  before the inversion, make PREFIX.<pid> a symbolic link
 *                   to PREFIX.victim (where log_path would write).
 *
 * Prints "closed stderr" and "done" on stdout. 99 if a call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;

static void *take_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:cs-t-a */
    pthread_mutex_lock(&mu_b); /* LW:cs-t-b */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void close_stderr(int use_fclose)
{
    if (use_fclose ? fclose(stderr) != 0 : close(2) != 0)
        exit(SCN_FAILED);
    printf("closed stderr\n");
}

int main(int argc, char **argv)
{
    int ordered = scn_flag(argc, argv, "--ordered");
    int use_fclose = scn_flag(argc, argv, "--fclose");
    int close_first = scn_flag(argc, argv, "--close-first");

    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--plant") == 0) {
            char link[4096], target[4096];
            snprintf(link, sizeof link, "%s.%d", argv[i + 1], (int)getpid());
            snprintf(target, sizeof target, "%s.victim", argv[i + 1]);
            if (symlink(target, link) != 0)
                return SCN_FAILED;
        }
    }
    if (close_first)
        close_stderr(use_fclose);
    scn_run_thread(take_ab, NULL);
    if (ordered) {
        pthread_mutex_lock(&mu_a); /* LW:cs-main-a */
        pthread_mutex_lock(&mu_b); /* LW:cs-main-b */
    } else {
        pthread_mutex_lock(&mu_b); /* LW:cs-main-b-first */
        pthread_mutex_lock(&mu_a); /* LW:cs-main-a-second */
    }
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);
    if (!close_first)
        close_stderr(use_fclose);
    printf("done\n");
    return 0;
}
