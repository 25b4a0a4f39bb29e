/*
 * scn_recursive.c - a recursive mutex re-locked by its owner.
 *
 * R is a recursive mutex, M a plain one. Thread 1 takes R, R again, then M.
 * After it is joined, thread 2 takes R, then M, then R again while holding M:
 * R is already its own, so the re-lock cannot wait and is no order M -> R.
 * Consistent: nothing to report.
 *
 *   --static     R is set up with PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP
 *                instead of pthread_mutex_init with a recursive attribute.
 *   --inverted   thread 2 takes M first, then R: an inversion.
 *
 * Exit status 0 (99 if a pthread call fails).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

static pthread_mutex_t rec_static = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t rec_dynamic;
static pthread_mutex_t *rec;
static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
static int inverted;
static int depth;

static void *thread1(void *arg)
{
    (void)arg;
    SCN_CHECK(pthread_mutex_lock(rec)); /* LW:rec-t1-r */
    SCN_CHECK(pthread_mutex_lock(rec)); /* LW:rec-t1-r-again */
    SCN_CHECK(pthread_mutex_lock(&plain)); /* LW:rec-t1-m */
    depth++;
    SCN_CHECK(pthread_mutex_unlock(&plain));
    SCN_CHECK(pthread_mutex_unlock(rec));
    SCN_CHECK(pthread_mutex_unlock(rec));
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    if (inverted) {
        SCN_CHECK(pthread_mutex_lock(&plain)); /* LW:rec-t2-inv-m */
        SCN_CHECK(pthread_mutex_lock(rec)); /* LW:rec-t2-inv-r */
        depth++;
        SCN_CHECK(pthread_mutex_unlock(rec));
        SCN_CHECK(pthread_mutex_unlock(&plain));
        return NULL;
    }
    SCN_CHECK(pthread_mutex_lock(rec)); /* LW:rec-t2-r */
    SCN_CHECK(pthread_mutex_lock(&plain)); /* LW:rec-t2-m */
    SCN_CHECK(pthread_mutex_lock(rec)); /* LW:rec-t2-r-relock */
    depth++;
    SCN_CHECK(pthread_mutex_unlock(rec));
    SCN_CHECK(pthread_mutex_unlock(&plain));
    /* still held once: take M again under R, the order of thread 1 */
    SCN_CHECK(pthread_mutex_lock(&plain)); /* LW:rec-t2-m-again */
    SCN_CHECK(pthread_mutex_unlock(&plain));
    SCN_CHECK(pthread_mutex_unlock(rec));
    return NULL;
}

int main(int argc, char **argv)
{
    inverted = scn_flag(argc, argv, "--inverted");
    if (scn_flag(argc, argv, "--static")) {
        rec = &rec_static;
    } else {
        pthread_mutexattr_t attr;
        SCN_CHECK(pthread_mutexattr_init(&attr));
        SCN_CHECK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
        SCN_CHECK(pthread_mutex_init(&rec_dynamic, &attr));
        SCN_CHECK(pthread_mutexattr_destroy(&attr));
        rec = &rec_dynamic;
    }
    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    printf("depth %d\n", depth);
    return 0;
}
