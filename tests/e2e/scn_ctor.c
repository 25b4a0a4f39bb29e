/*
 * scn_ctor.c - locks taken before main and after it: in the program's
 * constructor and destructor, an atexit handler, and a shared library's
 * constructor, destructor and atexit handler (scn_ctor_lib.c).
 *
 * The program's constructor takes A then B. Then, by option:
 *
 *   (default)            main takes B then A: an inversion across the
 *                        constructor and main.
 *   --ordered            main takes A then B: nothing to report.
 *   --atexit-inversion   main takes A then B; an atexit handler takes B then A.
 *   --dtor-inversion     main takes A then B; the program's destructor takes
 *                        B then A.
 *   --lib-dtor-inversion main takes A then B and has the library take its
 *                        pair a then b; the library's destructor takes b then a.
 *   --exit N             end with exit(N) (default: return 0 from main).
 *
 * Otherwise the atexit handler and the destructor take A then B. Every step
 * prints a line. 99 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_util.h"

void scn_lib_pair(int reverse);

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static int atexit_inversion, dtor_inversion;

__attribute__((constructor)) static void prog_constructor(void)
{
    pthread_mutex_lock(&mu_a); /* LW:ctor-a-first */
    pthread_mutex_lock(&mu_b); /* LW:ctor-b-second */
    printf("prog: constructor\n");
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
}

static void prog_atexit_handler(void)
{
    if (atexit_inversion) {
        pthread_mutex_lock(&mu_b); /* LW:atexit-b-first */
        pthread_mutex_lock(&mu_a); /* LW:atexit-a-second */
    } else {
        pthread_mutex_lock(&mu_a); /* LW:atexit-a-first */
        pthread_mutex_lock(&mu_b); /* LW:atexit-b-second */
    }
    printf("prog: atexit handler\n");
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
}

__attribute__((destructor)) static void prog_destructor(void)
{
    if (dtor_inversion) {
        pthread_mutex_lock(&mu_b); /* LW:dtor-b-first */
        pthread_mutex_lock(&mu_a); /* LW:dtor-a-second */
    } else {
        pthread_mutex_lock(&mu_a); /* LW:dtor-a-first */
        pthread_mutex_lock(&mu_b); /* LW:dtor-b-second */
    }
    printf("prog: destructor\n");
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_unlock(&mu_a);
}

int main(int argc, char **argv)
{
    int ordered = scn_flag(argc, argv, "--ordered");
    int lib_dtor_inversion = scn_flag(argc, argv, "--lib-dtor-inversion");

    atexit_inversion = scn_flag(argc, argv, "--atexit-inversion");
    dtor_inversion = scn_flag(argc, argv, "--dtor-inversion");
    if (atexit_inversion || dtor_inversion || lib_dtor_inversion)
        ordered = 1;
    atexit(prog_atexit_handler);

    if (ordered) {
        pthread_mutex_lock(&mu_a); /* LW:main-a-first */
        pthread_mutex_lock(&mu_b); /* LW:main-b-second */
    } else {
        pthread_mutex_lock(&mu_b); /* LW:main-b-first */
        pthread_mutex_lock(&mu_a); /* LW:main-a-second */
    }
    printf("prog: main holds A and B\n");
    pthread_mutex_unlock(&mu_a);
    pthread_mutex_unlock(&mu_b);

    scn_lib_pair(lib_dtor_inversion);

    long status = scn_opt_long(argc, argv, "--exit", -1);
    if (status >= 0) {
        printf("prog: exit(%ld)\n", status);
        exit((int)status);
    }
    printf("prog: return 0\n");
    return 0;
}
