/*
 * scn_atfork_lib.c - a shared library whose constructor registers
 * pthread_atfork handlers that lock, as libraries with their own locks do
 * to be safe across fork; linked into scn_atfork.
 *
 * The library's constructor runs before those of libraries preloaded after
 * it, so its handlers may be registered before a preloaded checker's: its
 * prepare handler then runs after the checker's, and its parent and child
 * handlers before the checker's.
 *
 * prepare takes lib_p then lib_q; the parent and child handlers release
 * them. scn_atfork_pair(reverse) takes lib_p then lib_q (lib_q then lib_p
 * if reverse != 0).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lib_p = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lib_q = PTHREAD_MUTEX_INITIALIZER;

static void prepare(void)
{
    pthread_mutex_lock(&lib_p); /* LW:afl-prepare-p */
    pthread_mutex_lock(&lib_q); /* LW:afl-prepare-q */
}

static void after_fork(void)
{
    pthread_mutex_unlock(&lib_q);
    pthread_mutex_unlock(&lib_p);
}

__attribute__((constructor)) static void atfork_lib_constructor(void)
{
    if (pthread_atfork(prepare, after_fork, after_fork) != 0) {
        fprintf(stderr, "scn_atfork_lib: pthread_atfork failed\n");
        exit(99);
    }
}

void scn_atfork_pair(int reverse)
{
    if (reverse) {
        pthread_mutex_lock(&lib_q); /* LW:afl-pair-q-first */
        pthread_mutex_lock(&lib_p); /* LW:afl-pair-p-second */
    } else {
        pthread_mutex_lock(&lib_p); /* LW:afl-pair-p */
        pthread_mutex_lock(&lib_q); /* LW:afl-pair-q */
    }
    pthread_mutex_unlock(&lib_q);
    pthread_mutex_unlock(&lib_p);
}
