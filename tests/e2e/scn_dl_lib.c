/*
 * scn_dl_lib.c - a library that scn_dlopen loads with dlopen: it locks its
 * own static mutexes in its constructor, in an exported function and in its
 * destructor.
 *
 * The constructor takes lib_m then lib_n. The destructor takes lib_m then
 * lib_n too, or lib_n then lib_m once scn_dl_reverse_in_destructor is set.
 * scn_dl_with(outer, lib_first) nests lib_m and the caller's mutex: outer
 * then lib_m, or lib_m then outer.
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lib_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lib_n = PTHREAD_MUTEX_INITIALIZER;
int scn_dl_reverse_in_destructor;

__attribute__((constructor)) static void dl_constructor(void)
{
    pthread_mutex_lock(&lib_m); /* LW:dl-ctor-m */
    pthread_mutex_lock(&lib_n); /* LW:dl-ctor-n */
    pthread_mutex_unlock(&lib_n);
    pthread_mutex_unlock(&lib_m);
}

__attribute__((destructor)) static void dl_destructor(void)
{
    if (scn_dl_reverse_in_destructor) {
        pthread_mutex_lock(&lib_n); /* LW:dl-dtor-n-first */
        pthread_mutex_lock(&lib_m); /* LW:dl-dtor-m-second */
    } else {
        pthread_mutex_lock(&lib_m); /* LW:dl-dtor-m */
        pthread_mutex_lock(&lib_n); /* LW:dl-dtor-n */
    }
    pthread_mutex_unlock(&lib_n);
    pthread_mutex_unlock(&lib_m);
}

/* The address of the library's first mutex (to see where the library was mapped). */
void *scn_dl_lock_address(void)
{
    return &lib_m;
}

void scn_dl_with(pthread_mutex_t *outer, int lib_first)
{
    if (lib_first) {
        pthread_mutex_lock(&lib_m); /* LW:dl-with-m-first */
        pthread_mutex_lock(outer); /* LW:dl-with-outer-second */
    } else {
        pthread_mutex_lock(outer); /* LW:dl-with-outer-first */
        pthread_mutex_lock(&lib_m); /* LW:dl-with-m-second */
    }
    pthread_mutex_unlock(outer);
    pthread_mutex_unlock(&lib_m);
}
