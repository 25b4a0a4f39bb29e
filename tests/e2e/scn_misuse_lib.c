/*
 * scn_misuse_lib.c - a shared library whose constructor locks a mutex and
 * leaves it locked for the program to unlock (linked into scn_misuse).
 * The constructor runs on the main thread before main, before lockwatch's
 * own constructor.
 */
#include <pthread.h>

static pthread_mutex_t lib_held = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void lib_lock_early(void)
{
    pthread_mutex_lock(&lib_held); /* LW:misuse-lib-lock */
}

pthread_mutex_t *scn_misuse_lib_mutex(void)
{
    return &lib_held;
}
