/*
 * scn_c11.c - C11 <threads.h>: mtx_*, cnd_* and thrd_create.
 *
 * Every thread is started with thrd_create. Unless stated otherwise the
 * threads run one after the other (thrd_join), so no run deadlocks.
 *
 *   abba       T1 locks A then B (mtx_plain); then a thread T2 starts T3,
 *              which locks B then A: an inversion.
 *              --ordered: T3 locks A then B: nothing to report.
 *   timed      as abba, but T1 takes B with mtx_timedlock (deadline far).
 *   try        T1 locks A, then takes B with mtx_trylock; T3 locks B then A:
 *              nothing to report.
 *   recursive  an mtx_recursive mutex locked three times: nothing to report.
 *   relock     an mtx_plain mutex locked twice: natively waits forever
 *              (never run it natively). --unlock-first: unlocks in between.
 *   cnd        T1 locks L, takes M with mtx_trylock, waits on a cnd_t with M
 *              (cnd_wait; --timed: cnd_timedwait) until main signals; then
 *              T3 locks M then L: an inversion. --ordered: L then M.
 *   deadlock   a REAL deadlock: T1 locks A, T2 locks B, they meet, then each
 *              asks for the other's (never run it natively).
 *              --ordered: both meet first and take A then B: no deadlock.
 *
 * Exit status 0; 3 if a C11 call fails; 99 if a pthread call fails.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#include "scn_util.h"

static mtx_t mx_a, mx_b, mx_l, mx_m, mx_r;
static cnd_t cv;
static sem_t ready;
static pthread_barrier_t meet;
static int ordered, use_timed, flag;
static const char *mode = "abba";
static long work;

#define C11_CHECK(call)                                                                      \
    do {                                                                                     \
        if ((call) != thrd_success) {                                                        \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #call);                \
            exit(3);                                                                         \
        }                                                                                    \
    } while (0)

static struct timespec far_deadline(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    ts.tv_sec += 10;
    return ts;
}

static int first_half(void *arg)
{
    (void)arg;
    if (strcmp(mode, "cnd") == 0) {
        mtx_lock(&mx_l); /* LW:c11-cnd-l */
        C11_CHECK(mtx_trylock(&mx_m));
        sem_post(&ready);
        while (!flag) {
            if (use_timed) {
                struct timespec ts = far_deadline();
                int r = cnd_timedwait(&cv, &mx_m, &ts); /* LW:c11-cnd-timedwait */
                C11_CHECK(r);
            } else {
                cnd_wait(&cv, &mx_m); /* LW:c11-cnd-wait */
            }
        }
        work++;
        mtx_unlock(&mx_m);
        mtx_unlock(&mx_l);
        return 0;
    }
    mtx_lock(&mx_a); /* LW:c11-t1-a */
    if (strcmp(mode, "timed") == 0) {
        struct timespec ts = far_deadline();
        int r = mtx_timedlock(&mx_b, &ts); /* LW:c11-t1-b-timed */
        C11_CHECK(r);
    } else if (strcmp(mode, "try") == 0) {
        C11_CHECK(mtx_trylock(&mx_b)); /* LW:c11-t1-b-try */
    } else {
        mtx_lock(&mx_b); /* LW:c11-t1-b */
    }
    work++;
    mtx_unlock(&mx_b);
    mtx_unlock(&mx_a);
    return 0;
}

static int second_half(void *arg)
{
    mtx_t *first = ordered ? &mx_a : &mx_b, *second = ordered ? &mx_b : &mx_a;

    (void)arg;
    if (strcmp(mode, "cnd") == 0) {
        first = ordered ? &mx_l : &mx_m;
        second = ordered ? &mx_m : &mx_l;
    }
    mtx_lock(first); /* LW:c11-t3-first */
    mtx_lock(second); /* LW:c11-t3-second */
    work++;
    mtx_unlock(second);
    mtx_unlock(first);
    return 0;
}

/* T2: starts T3 and waits for it, so that T3's creator is T2. */
static int spawner(void *arg)
{
    thrd_t t;

    (void)arg;
    C11_CHECK(thrd_create(&t, second_half, NULL)); /* LW:c11-create-t3 */
    C11_CHECK(thrd_join(t, NULL));
    return 0;
}

static int deadlock_worker(void *arg)
{
    int second = *(int *)arg;
    mtx_t *first_lock = second && !ordered ? &mx_b : &mx_a;
    mtx_t *second_lock = second && !ordered ? &mx_a : &mx_b;

    if (ordered)
        pthread_barrier_wait(&meet);
    mtx_lock(first_lock); /* LW:c11-dl-first */
    if (!ordered)
        pthread_barrier_wait(&meet);
    mtx_lock(second_lock); /* LW:c11-dl-second */
    work++;
    mtx_unlock(second_lock);
    mtx_unlock(first_lock);
    return 0;
}

int main(int argc, char **argv)
{
    thrd_t t;

    if (argc > 1)
        mode = argv[1];
    ordered = scn_flag(argc, argv, "--ordered");
    use_timed = scn_flag(argc, argv, "--timed");
    C11_CHECK(mtx_init(&mx_a, mtx_plain)); /* LW:c11-init-a */
    C11_CHECK(mtx_init(&mx_b, mtx_timed)); /* LW:c11-init-b */
    C11_CHECK(mtx_init(&mx_l, mtx_plain));
    C11_CHECK(mtx_init(&mx_m, mtx_plain));
    C11_CHECK(mtx_init(&mx_r, mtx_plain | mtx_recursive));
    C11_CHECK(cnd_init(&cv));
    setvbuf(stdout, NULL, _IONBF, 0);

    if (strcmp(mode, "abba") == 0 || strcmp(mode, "timed") == 0 || strcmp(mode, "try") == 0) {
        C11_CHECK(thrd_create(&t, first_half, NULL)); /* LW:c11-create-t1 */
        C11_CHECK(thrd_join(t, NULL));
        C11_CHECK(thrd_create(&t, spawner, NULL)); /* LW:c11-create-t2 */
        C11_CHECK(thrd_join(t, NULL));
    } else if (strcmp(mode, "cnd") == 0) {
        SCN_CHECK(sem_init(&ready, 0, 0));
        C11_CHECK(thrd_create(&t, first_half, NULL));
        sem_wait(&ready);
        mtx_lock(&mx_m); /* free once T1 waits */
        flag = 1;
        cnd_signal(&cv);
        mtx_unlock(&mx_m);
        C11_CHECK(thrd_join(t, NULL));
        C11_CHECK(thrd_create(&t, spawner, NULL));
        C11_CHECK(thrd_join(t, NULL));
    } else if (strcmp(mode, "recursive") == 0) {
        mtx_lock(&mx_r);
        C11_CHECK(mtx_lock(&mx_r));
        C11_CHECK(mtx_lock(&mx_r));
        work++;
        mtx_unlock(&mx_r);
        mtx_unlock(&mx_r);
        mtx_unlock(&mx_r);
    } else if (strcmp(mode, "relock") == 0) {
        mtx_lock(&mx_a); /* LW:c11-relock-first */
        if (scn_flag(argc, argv, "--unlock-first"))
            mtx_unlock(&mx_a);
        printf("relocking\n");
        mtx_lock(&mx_a); /* LW:c11-relock-second */
        printf("relocked\n");
        mtx_unlock(&mx_a);
    } else if (strcmp(mode, "deadlock") == 0) {
        thrd_t d[2];
        int ids[2] = {0, 1};

        SCN_CHECK(pthread_barrier_init(&meet, NULL, 2));
        printf("starting\n");
        for (int i = 0; i < 2; i++)
            C11_CHECK(thrd_create(&d[i], deadlock_worker, &ids[i]));
        for (int i = 0; i < 2; i++)
            C11_CHECK(thrd_join(d[i], NULL));
        printf("no deadlock\n");
    } else {
        fprintf(stderr, "scn_c11: unknown mode %s\n", mode);
        return 2;
    }
    cnd_destroy(&cv);
    mtx_destroy(&mx_a);
    mtx_destroy(&mx_b);
    mtx_destroy(&mx_l);
    mtx_destroy(&mx_m);
    mtx_destroy(&mx_r);
    printf("work %ld\n", work);
    return 0;
}
