/*
 * scn_ctor_lib.c - a shared library that locks in its constructor, its
 * destructor and an atexit handler it registers; linked into scn_ctor.
 *
 * Its constructor takes lib_a then lib_b. Its destructor takes lib_a then
 * lib_b as well, or lib_b then lib_a if the program asked for it with
 * scn_lib_pair(1), which itself takes lib_a then lib_b. Every step prints a
 * line, so a run that skips one shows it on stdout.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lib_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lib_b = PTHREAD_MUTEX_INITIALIZER;
static int reverse_in_destructor;

static void lib_atexit_handler(void)
{
    pthread_mutex_lock(&lib_a); /* LW:lib-atexit-a */
    printf("lib: atexit handler\n");
    pthread_mutex_unlock(&lib_a);
}

__attribute__((constructor)) static void lib_constructor(void)
{
    pthread_mutex_lock(&lib_a); /* LW:lib-ctor-a */
    pthread_mutex_lock(&lib_b); /* LW:lib-ctor-b */
    printf("lib: constructor\n");
    pthread_mutex_unlock(&lib_b);
    pthread_mutex_unlock(&lib_a);
    atexit(lib_atexit_handler);
}

__attribute__((destructor)) static void lib_destructor(void)
{
    if (reverse_in_destructor) {
        pthread_mutex_lock(&lib_b); /* LW:lib-dtor-b-first */
        pthread_mutex_lock(&lib_a); /* LW:lib-dtor-a-second */
        printf("lib: destructor (b then a)\n");
        pthread_mutex_unlock(&lib_a);
        pthread_mutex_unlock(&lib_b);
    } else {
        pthread_mutex_lock(&lib_a); /* LW:lib-dtor-a-first */
        pthread_mutex_lock(&lib_b); /* LW:lib-dtor-b-second */
        printf("lib: destructor\n");
        pthread_mutex_unlock(&lib_b);
        pthread_mutex_unlock(&lib_a);
    }
}

/* Takes lib_a then lib_b; reverse != 0 makes the destructor take them b then a. */
void scn_lib_pair(int reverse)
{
    reverse_in_destructor = reverse;
    pthread_mutex_lock(&lib_a); /* LW:lib-pair-a */
    pthread_mutex_lock(&lib_b); /* LW:lib-pair-b */
    printf("lib: pair\n");
    pthread_mutex_unlock(&lib_b);
    pthread_mutex_unlock(&lib_a);
}
