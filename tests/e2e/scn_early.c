/*
 * scn_early.c - a thread started by a library constructor before main (and
 * possibly before a preloaded checker), in an AB/BA with the main thread.
 *
 * scn_early_lib's constructor starts a thread; scn_early_run() lets it take
 * early_a then early_b and joins it. Then main takes early_b then early_a.
 *
 *   --ordered   main takes early_a then early_b: nothing to report.
 *
 * Exit status 0.
 */
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

extern pthread_mutex_t early_a, early_b;
void scn_early_run(void);

int main(int argc, char **argv)
{
    int ordered = scn_flag(argc, argv, "--ordered");

    scn_early_run();
    if (ordered) {
        pthread_mutex_lock(&early_a); /* LW:early-main-a-first */
        pthread_mutex_lock(&early_b); /* LW:early-main-b-second */
    } else {
        pthread_mutex_lock(&early_b); /* LW:early-main-b-first */
        pthread_mutex_lock(&early_a); /* LW:early-main-a-second */
    }
    printf("main holds both\n");
    pthread_mutex_unlock(&early_a);
    pthread_mutex_unlock(&early_b);
    return 0;
}
