/*
 * scn_fatal.c MODE - an AB/BA inversion, then the program dies of a signal
 * (or survives one), as MODE says:
 *
 *   abort       abort() (an assert that fails)
 *   segv        a store through a null pointer
 *   bus         a read past the end of a mapped empty file
 *   fpe         an integer division by zero
 *   term        another thread sends SIGTERM while main sleeps (a timeout)
 *   int         SIGINT sent to the process (Ctrl-C)
 *   catch-term  the program catches SIGTERM with sigaction, carries on and
 *               exits 0
 *   catch-early the same, with the handler installed before the inversion
 *   ignore-term the program ignores SIGTERM with signal(), raises it and
 *               carries on
 *   reraise     the program's SIGSEGV handler (set with signal()) says so,
 *               restores SIG_DFL and raises SIGSEGV again
 *   oneshot     a SA_RESETHAND handler of SIGINT catches the first SIGINT;
 *               the second one ends the program
 *   query       the program reads its dispositions back (SIGTERM default,
 *               SIGUSR1 its handler) and exits 0
 *   --ordered   thread 2 takes A then B: nothing to report
 *
 * Prints what it does on stdout (unbuffered). 99 if a pthread call fails,
 * 97 if a disposition read back is not what the program set.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static int ordered;
static volatile sig_atomic_t caught;
static int *volatile null_ptr;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a);
    pthread_mutex_lock(&mu_b);
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    pthread_mutex_t *first = ordered ? &mu_a : &mu_b;
    pthread_mutex_t *second = ordered ? &mu_b : &mu_a;

    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

static void say(const char *s)
{
    if (write(1, s, strlen(s)) < 0) {
        /* nothing to do */
    }
}

static void on_term(int sig)
{
    (void)sig;
    caught++;
    say("handler ran\n");
}

static void on_segv(int sig)
{
    say("segv caught, dying for real\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

static void *killer(void *arg)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(getpid(), *(int *)arg);
    return NULL;
}

static void catch_term(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    SCN_CHECK(sigaction(SIGTERM, &sa, NULL));
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "abort";

    ordered = scn_flag(argc, argv, "--ordered");
    if (strcmp(mode, "catch-early") == 0)
        catch_term();
    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    say("after inversion\n");

    if (strcmp(mode, "abort") == 0) {
        abort();
    } else if (strcmp(mode, "segv") == 0) {
        *null_ptr = 1;
    } else if (strcmp(mode, "bus") == 0) {
        FILE *f = tmpfile();
        volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fileno(f), 0);
        if (p == MAP_FAILED)
            return SCN_FAILED;
        say(p[0] ? "read\n" : "read 0\n");
    } else if (strcmp(mode, "fpe") == 0) {
        volatile int zero = 0;
        printf("%d\n", argc / zero);
    } else if (strcmp(mode, "term") == 0 || strcmp(mode, "int") == 0) {
        static int sig;
        pthread_t t;
        sig = strcmp(mode, "term") == 0 ? SIGTERM : SIGINT;
        SCN_CHECK(pthread_create(&t, NULL, killer, &sig));
        for (;;)
            pause();
    } else if (strcmp(mode, "catch-term") == 0 || strcmp(mode, "catch-early") == 0) {
        if (strcmp(mode, "catch-term") == 0)
            catch_term();
        raise(SIGTERM);
        say(caught == 1 ? "carried on\n" : "handler did not run\n");
    } else if (strcmp(mode, "ignore-term") == 0) {
        signal(SIGTERM, SIG_IGN);
        raise(SIGTERM);
        say("carried on\n");
    } else if (strcmp(mode, "reraise") == 0) {
        signal(SIGSEGV, on_segv);
        *null_ptr = 1;
    } else if (strcmp(mode, "oneshot") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sa.sa_flags = SA_RESETHAND;
        SCN_CHECK(sigaction(SIGINT, &sa, NULL));
        raise(SIGINT);
        say(caught == 1 ? "first caught\n" : "first not caught\n");
        raise(SIGINT);
        say("second caught\n");
    } else if (strcmp(mode, "query") == 0) {
        struct sigaction old, sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sa.sa_flags = SA_RESTART;
        SCN_CHECK(sigaction(SIGUSR1, &sa, NULL));
        SCN_CHECK(sigaction(SIGTERM, NULL, &old));
        if (old.sa_handler != SIG_DFL)
            return 97;
        SCN_CHECK(sigaction(SIGUSR1, NULL, &old));
        if (old.sa_handler != on_term || !(old.sa_flags & SA_RESTART) || (old.sa_flags & SA_SIGINFO))
            return 97;
        if (signal(SIGUSR1, SIG_DFL) != on_term)
            return 97;
        say("dispositions as set\n");
    }
    return 0;
}
