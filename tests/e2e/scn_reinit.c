/*
 * scn_reinit.c - a lock's identity follows its life, not its address.
 *
 * Thread 1 takes A then B. Then A is destroyed and initialised again at the
 * same address: a new mutex that has never been held with B. Thread 2 then
 * takes B then A. No inversion: the A of thread 2 is not the A of thread 1.
 *
 *   --no-reinit    skip the destroy and init: the same A, an AB/BA inversion.
 *   --heap         A lives in malloc'd memory: destroyed, freed, and a new
 *                  block of the same size is malloc'd and initialised. Prints
 *                  whether the allocator gave back the same address (the
 *                  verdict is "nothing to report" either way).
 *   --no-destroy   with --heap: free A without destroying it; the init of the
 *                  new block (same address if reused) must still start a new
 *                  identity.
 *   --no-init      with --heap: the new block is not passed to
 *                  pthread_mutex_init but set up by assigning
 *                  PTHREAD_MUTEX_INITIALIZER (with --no-destroy: the old
 *                  mutex is only freed). The freed memory ended the old lock.
 *   --require-reuse  with --heap: exit 98 if the allocator did not give the
 *                  same address back (the test would prove nothing).
 *   --same-thread  do everything on the main thread, no other threads.
 *
 * Exit status 0 (99 if a pthread call or malloc fails).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

static pthread_mutex_t static_a;
static pthread_mutex_t mu_b;
static pthread_mutex_t *mu_a;
static int work;

static void *take_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(mu_a); /* LW:reinit-a-first */
    pthread_mutex_lock(&mu_b); /* LW:reinit-b-second */
    work++;
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(mu_a);
    return NULL;
}

static void *take_ba(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_b); /* LW:reinit-b-first */
    pthread_mutex_lock(mu_a); /* LW:reinit-a-second */
    work++;
    pthread_mutex_unlock(mu_a);
    pthread_mutex_unlock(&mu_b);
    return NULL;
}

static void run(void *(*fn)(void *), int same_thread)
{
    if (same_thread)
        fn(NULL);
    else
        scn_run_thread(fn, NULL);
}

int main(int argc, char **argv)
{
    int heap = scn_flag(argc, argv, "--heap");
    int reinit = !scn_flag(argc, argv, "--no-reinit");
    int destroy = !scn_flag(argc, argv, "--no-destroy");
    int same_thread = scn_flag(argc, argv, "--same-thread");
    int init_again = !scn_flag(argc, argv, "--no-init");

    SCN_CHECK(pthread_mutex_init(&mu_b, NULL)); /* LW:reinit-init-b */
    if (heap) {
        mu_a = malloc(sizeof *mu_a);
        if (!mu_a)
            return SCN_FAILED;
    } else {
        mu_a = &static_a;
    }
    SCN_CHECK(pthread_mutex_init(mu_a, NULL)); /* LW:reinit-init-first */

    run(take_ab, same_thread);

    if (reinit) {
        if (destroy)
            SCN_CHECK(pthread_mutex_destroy(mu_a));
        if (heap) {
            uintptr_t old = (uintptr_t)mu_a;
            free(mu_a);
            mu_a = malloc(sizeof *mu_a);
            if (!mu_a)
                return SCN_FAILED;
            printf("address reused: %s\n", (uintptr_t)mu_a == old ? "yes" : "no");
            if ((uintptr_t)mu_a != old && scn_flag(argc, argv, "--require-reuse"))
                return 98;
        }
        if (init_again) {
            SCN_CHECK(pthread_mutex_init(mu_a, NULL)); /* LW:reinit-init-again */
        } else {
            pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
            *mu_a = fresh;
        }
    }

    run(take_ba, same_thread);

    printf("work %d\n", work);
    return 0;
}
