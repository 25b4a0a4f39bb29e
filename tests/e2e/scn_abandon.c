/*
 * scn_abandon.c - a lock on the stack abandoned while held, and a new lock
 * made at the same address by assignment (no init call), as in Helgrind's
 * tc04_free_lock.
 *
 * lock_on_stack() initialises a mutex (or an rwlock, with --rwlock) on its
 * stack with the static initialiser, locks it and returns without
 * unlocking it. main calls it three times from the same place, so every
 * call's lock lives at the same address: each call's lock is a new,
 * unlocked lock, and the real lock call returns at once.
 *
 *   --unlock   lock_on_stack() unlocks before returning: nothing to report.
 *
 * Prints "done 3" at the end. 99 if a lock call fails.
 */
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

static int unlock_it, use_rwlock;

static __attribute__((noinline)) void lock_on_stack(void)
{
    pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

    if (use_rwlock) {
        SCN_CHECK(pthread_rwlock_wrlock(&rw)); /* LW:abandon-rw-lock */
        if (unlock_it)
            SCN_CHECK(pthread_rwlock_unlock(&rw));
    } else {
        SCN_CHECK(pthread_mutex_lock(&mx)); /* LW:abandon-lock */
        if (unlock_it)
            SCN_CHECK(pthread_mutex_unlock(&mx));
    }
    __asm__ volatile("" : : "r"(&mx), "r"(&rw) : "memory");
}

int main(int argc, char **argv)
{
    int n = 0;

    unlock_it = scn_flag(argc, argv, "--unlock");
    use_rwlock = scn_flag(argc, argv, "--rwlock");
    for (int i = 0; i < 3; i++) {
        lock_on_stack();
        n++;
    }
    printf("done %d\n", n);
    return 0;
}
