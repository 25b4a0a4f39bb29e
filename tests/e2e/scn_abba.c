/*
 * scn_abba.c - the classic AB/BA lock-order inversion, without a deadlock.
 *
 * Thread 1 locks A then B; once it has been joined, thread 2 locks B then A.
 * The threads never overlap, so the run always finishes; the two orders
 * together could deadlock, which is what a lock-order checker reports.
 *
 *   (no option)  AB then BA: one inversion.
 *   --ordered    both threads take A then B: consistent, nothing to report.
 *   --twice      a second, independent pair C/D with the same shape (two
 *                inversions; with --ordered, none).
 *   --witness-twice  thread 1's A then B is done again by another thread
 *                before thread 2 runs (the edge A -> B has two witnesses).
 *   --repeat N   thread 2 repeats its acquisitions N times, and a third
 *                thread does the same (still one report per distinct cycle).
 *
 * Prints "before" before the threads run and "after inversion" once they are
 * done. Exit status 0 (99 if a pthread call fails).
 */
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_d = PTHREAD_MUTEX_INITIALIZER;

static int ordered;
static long repeat = 1;
static long counter;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a); /* LW:abba-t1-first */
    pthread_mutex_lock(&mu_b); /* LW:abba-t1-second */
    counter++;
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    for (long i = 0; i < repeat; i++) {
        if (ordered) {
            pthread_mutex_lock(&mu_a); /* LW:abba-t2-ordered-first */
            pthread_mutex_lock(&mu_b); /* LW:abba-t2-ordered-second */
            counter++;
            pthread_mutex_unlock(&mu_b);
            pthread_mutex_unlock(&mu_a);
        } else {
            pthread_mutex_lock(&mu_b); /* LW:abba-t2-first */
            pthread_mutex_lock(&mu_a); /* LW:abba-t2-second */
            counter++;
            pthread_mutex_unlock(&mu_a);
            pthread_mutex_unlock(&mu_b);
        }
    }
    return NULL;
}

static void *thread_cd(void *arg)
{
    int second = *(int *)arg;

    if (second && !ordered) {
        pthread_mutex_lock(&mu_d); /* LW:abba-d-first */
        pthread_mutex_lock(&mu_c); /* LW:abba-c-second */
        counter++;
        pthread_mutex_unlock(&mu_c);
        pthread_mutex_unlock(&mu_d);
    } else {
        pthread_mutex_lock(&mu_c); /* LW:abba-c-first */
        pthread_mutex_lock(&mu_d); /* LW:abba-d-second */
        counter++;
        pthread_mutex_unlock(&mu_d);
        pthread_mutex_unlock(&mu_c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    ordered = scn_flag(argc, argv, "--ordered");
    repeat = scn_opt_long(argc, argv, "--repeat", 1);

    printf("before\n");
    scn_run_thread(thread1, NULL);
    if (scn_flag(argc, argv, "--witness-twice"))
        scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    if (repeat > 1)
        scn_run_thread(thread2, NULL);
    if (scn_flag(argc, argv, "--twice")) {
        int first = 0, second = 1;
        scn_run_thread(thread_cd, &first);
        scn_run_thread(thread_cd, &second);
    }
    printf("after inversion\n");
    printf("counter %ld\n", counter);
    return 0;
}
