/*
 * scn_signal.c - signal handlers that lock and unlock a mutex while the
 * program locks mutexes of its own.
 *
 *   storm     (default) The handler of SIGUSR1 and SIGALRM locks and unlocks
 *             mu_h (then mu_h2 inside it). Main and two worker threads lock
 *             mu_a then mu_b in a loop. Main raises SIGUSR1 10,000 times,
 *             at every point of its loop: holding nothing, mu_a, or both.
 *             Then an interval timer (ITIMER_REAL, 50 us) sends SIGALRM
 *             while all three threads loop, until the handler has run 2,000
 *             more times, wherever the signal lands (inside the locking
 *             functions too). mu_h is only ever the innermost lock: nothing
 *             to report. Prints the counts.
 *   raise     Main takes mu_a then mu_b. Then, holding mu_b, it raises
 *             SIGUSR1, whose handler locks mu_a: the order mu_b -> mu_a is
 *             made inside the handler and closes a cycle with main's.
 *     --ordered   main holds mu_a when it raises, and the handler takes
 *                 mu_b: the same order as main's, nothing to report.
 *
 * Exit status 0. 98 if the storm does not finish within 30 seconds of
 * looping; 99 if a pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "scn_util.h"

enum { RAISES = 10000, TIMER_SIGNALS = 2000 };

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_h = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_h2 = PTHREAD_MUTEX_INITIALIZER;
static atomic_long handled;
static atomic_int stop;
static long in_handler_count; /* under mu_h */
static int mode_raise, ordered;

static void storm_handler(int sig)
{
    int saved = errno;

    (void)sig;
    pthread_mutex_lock(&mu_h); /* LW:sig-h */
    pthread_mutex_lock(&mu_h2); /* LW:sig-h2 */
    in_handler_count++;
    pthread_mutex_unlock(&mu_h2);
    pthread_mutex_unlock(&mu_h);
    atomic_fetch_add(&handled, 1);
    errno = saved;
}

static void raise_handler(int sig)
{
    (void)sig;
    if (ordered) {
        pthread_mutex_lock(&mu_b); /* LW:sig-handler-b */
        pthread_mutex_unlock(&mu_b);
    } else {
        pthread_mutex_lock(&mu_a); /* LW:sig-handler-a */
        pthread_mutex_unlock(&mu_a);
    }
    atomic_fetch_add(&handled, 1);
}

static void nested_once(void)
{
    pthread_mutex_lock(&mu_a); /* LW:sig-loop-a */
    pthread_mutex_lock(&mu_b); /* LW:sig-loop-b */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
}

static void *worker(void *arg)
{
    long *loops = arg;

    while (!atomic_load(&stop)) {
        nested_once();
        ++*loops;
    }
    return NULL;
}

static void install(void (*fn)(int), int sig)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1); /* one handler at a time on a thread */
    sigaddset(&sa.sa_mask, SIGALRM);
    if (sigaction(sig, &sa, NULL) != 0)
        exit(SCN_FAILED);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int storm(void)
{
    pthread_t t[2];
    long loops[2] = {0, 0};

    install(storm_handler, SIGUSR1);
    install(storm_handler, SIGALRM);
    for (int i = 0; i < 2; i++)
        SCN_CHECK(pthread_create(&t[i], NULL, worker, &loops[i]));

    /* raise() at every point of the nesting */
    for (int i = 0; i < RAISES; i++) {
        switch (i % 3) {
        case 0:
            raise(SIGUSR1);
            nested_once();
            break;
        case 1:
            pthread_mutex_lock(&mu_a); /* LW:sig-raise-a */
            raise(SIGUSR1);
            pthread_mutex_lock(&mu_b); /* LW:sig-raise-b */
            pthread_mutex_unlock(&mu_b);
            pthread_mutex_unlock(&mu_a);
            break;
        default:
            pthread_mutex_lock(&mu_a); /* LW:sig-raise2-a */
            pthread_mutex_lock(&mu_b); /* LW:sig-raise2-b */
            raise(SIGUSR1);
            pthread_mutex_unlock(&mu_b);
            pthread_mutex_unlock(&mu_a);
            break;
        }
    }
    long after_raises = atomic_load(&handled);

    /* timer signals wherever they land, on any of the three threads */
    struct itimerval it = {{0, 50}, {0, 50}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0)
        return SCN_FAILED;
    double deadline = now() + 30;
    long main_loops = 0;
    while (atomic_load(&handled) < RAISES + TIMER_SIGNALS) {
        nested_once();
        if (++main_loops % 1024 == 0 && now() > deadline)
            return 98;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    /* a signal still pending goes to a worker before it is joined, or stays pending */
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    SCN_CHECK(pthread_sigmask(SIG_BLOCK, &alrm, NULL));
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        SCN_CHECK(pthread_join(t[i], NULL));

    pthread_mutex_lock(&mu_h);
    long counted = in_handler_count;
    pthread_mutex_unlock(&mu_h);
    printf("raised: %ld handled (expected %d)\n", after_raises, RAISES);
    printf("timer: at least %d more handled: %s\n", TIMER_SIGNALS,
           counted >= RAISES + TIMER_SIGNALS ? "yes" : "no");
    printf("handler counts agree: %s\n", counted == atomic_load(&handled) ? "yes" : "no");
    return 0;
}

int main(int argc, char **argv)
{
    mode_raise = argc > 1 && strcmp(argv[1], "raise") == 0;
    ordered = scn_flag(argc, argv, "--ordered");
    if (!mode_raise)
        return storm();

    install(raise_handler, SIGUSR1);
    pthread_mutex_lock(&mu_a); /* LW:sig-main-a */
    pthread_mutex_lock(&mu_b); /* LW:sig-main-b */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    if (ordered) {
        pthread_mutex_lock(&mu_a); /* LW:sig-hold-a */
        raise(SIGUSR1);
        pthread_mutex_unlock(&mu_a);
    } else {
        pthread_mutex_lock(&mu_b); /* LW:sig-hold-b */
        raise(SIGUSR1);
        pthread_mutex_unlock(&mu_b);
    }
    printf("handled: %ld\n", atomic_load(&handled));
    return 0;
}
