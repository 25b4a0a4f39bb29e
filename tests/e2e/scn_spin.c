/*
 * scn_spin.c - spinlocks order like mutexes.
 *
 * Threads run one after the other (joined): no run deadlocks, except
 * "relock", which spins forever natively (never run it natively).
 *
 *   abba     T1 locks A then B, T2 B then A: an inversion.
 *            --ordered: T2 takes A then B: nothing to report.
 *   try      T1 locks A then takes B with pthread_spin_trylock, T2 locks B
 *            then A: a trylock adds no order, nothing to report.
 *   relock   one thread locks A twice: it would spin forever.
 *            --unlock-first: unlocks in between, nothing wrong.
 *   destroy-held  destroys A while holding it (glibc does not check), then
 *            initialises it again. --unlock-first: unlocks it first.
 *
 *   unlock-unlocked  unlocks A, which nobody holds (glibc does not check).
 *            --locked: locks it first.
 *
 * --destroy: at the end, destroys both spinlocks (unlocked by then).
 *
 * Exit status 0; 3 if the trylock fails (it cannot here); 99 if a pthread
 * call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "scn_util.h"

static pthread_spinlock_t sp_a, sp_b;
static int ordered;
static long work;

static void *t1_main(void *arg)
{
    int try_b = *(int *)arg;

    pthread_spin_lock(&sp_a); /* LW:spin-t1-a */
    if (try_b) {
        if (pthread_spin_trylock(&sp_b) != 0) { /* LW:spin-t1-b-try */
            fprintf(stderr, "scn_spin: trylock failed\n");
            exit(3);
        }
    } else {
        pthread_spin_lock(&sp_b); /* LW:spin-t1-b */
    }
    work++;
    pthread_spin_unlock(&sp_b);
    pthread_spin_unlock(&sp_a);
    return NULL;
}

static void *t2_main(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_spin_lock(&sp_a);
        pthread_spin_lock(&sp_b);
    } else {
        pthread_spin_lock(&sp_b); /* LW:spin-t2-b */
        pthread_spin_lock(&sp_a); /* LW:spin-t2-a */
    }
    work++;
    pthread_spin_unlock(&sp_a);
    pthread_spin_unlock(&sp_b);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "abba";
    int try_b = 0;

    ordered = scn_flag(argc, argv, "--ordered");
    SCN_CHECK(pthread_spin_init(&sp_a, PTHREAD_PROCESS_PRIVATE));
    SCN_CHECK(pthread_spin_init(&sp_b, PTHREAD_PROCESS_PRIVATE));
    if (strcmp(mode, "abba") == 0 || strcmp(mode, "try") == 0) {
        try_b = strcmp(mode, "try") == 0;
        scn_run_thread(t1_main, &try_b);
        scn_run_thread(t2_main, NULL);
    } else if (strcmp(mode, "relock") == 0) {
        pthread_spin_lock(&sp_a); /* LW:spin-relock-first */
        if (scn_flag(argc, argv, "--unlock-first"))
            pthread_spin_unlock(&sp_a);
        printf("relocking\n");
        fflush(stdout);
        pthread_spin_lock(&sp_a); /* LW:spin-relock-second */
        printf("relocked\n");
        pthread_spin_unlock(&sp_a);
    } else if (strcmp(mode, "unlock-unlocked") == 0) {
        if (scn_flag(argc, argv, "--locked"))
            pthread_spin_lock(&sp_a);
        pthread_spin_unlock(&sp_a); /* LW:spin-unlock-unlocked */
    } else if (strcmp(mode, "destroy-held") == 0) {
        pthread_spin_lock(&sp_a); /* LW:spin-destroy-held */
        if (scn_flag(argc, argv, "--unlock-first"))
            pthread_spin_unlock(&sp_a);
        SCN_CHECK(pthread_spin_destroy(&sp_a)); /* LW:spin-destroy */
        SCN_CHECK(pthread_spin_init(&sp_a, PTHREAD_PROCESS_PRIVATE));
    } else {
        fprintf(stderr, "scn_spin: unknown mode %s\n", mode);
        return 2;
    }
    if (scn_flag(argc, argv, "--destroy")) {
        SCN_CHECK(pthread_spin_destroy(&sp_a)); /* LW:spin-destroy-a */
        SCN_CHECK(pthread_spin_destroy(&sp_b)); /* LW:spin-destroy-b */
    }
    printf("work %ld\n", work);
    return 0;
}
