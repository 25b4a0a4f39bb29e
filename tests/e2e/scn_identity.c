/*
 * scn_identity.c - a lock's identity ends with destroy, free, realloc or
 * munmap; a new lock at the same address starts with no orders.
 *
 * In every mode T1 locks lock 0 then lock 1; the locks' life ends; new locks
 * are made at the same addresses; T2 locks the new lock 1 then the new
 * lock 0. The orders belong to different locks: nothing to report. With
 * --keep the old locks are kept (and used by T2): an inversion.
 *
 *   reinit   static locks, destroyed and initialised again. --type mutex
 *            (default), rwlock (write locks) or spin.
 *   free     heap mutexes (malloc), freed WITHOUT destroy; malloc hands the
 *            same block back; the new mutexes are set up with
 *            pthread_mutex_init (--init) or by zeroing the memory, like
 *            PTHREAD_MUTEX_INITIALIZER (default).
 *   realloc  heap mutexes in a block that realloc moves (it grows to 1 MiB);
 *            malloc hands the old block back, zeroed; T2 uses it, and T3
 *            takes the moved copies in the opposite order too.
 *   munmap   mutexes in an anonymous mapping, unmapped and mapped again at
 *            the same address (fresh zero pages).
 *
 * Prints "address reused: yes" when the new locks are at the old addresses
 * ("no" otherwise: then the run proves nothing). Exit status 0; 99 if a call
 * fails.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "scn_util.h"

enum { TYPE_MUTEX, TYPE_RWLOCK, TYPE_SPIN };

static int type = TYPE_MUTEX;
static pthread_mutex_t st_mutex[2];
static pthread_rwlock_t st_rwlock[2];
static pthread_spinlock_t st_spin[2];
static pthread_mutex_t *mutexes; /* heap or mapped mutexes, when in use */
static long work;

static void lock_one(int i)
{
    if (mutexes)
        pthread_mutex_lock(&mutexes[i]); /* LW:id-lock-heap */
    else if (type == TYPE_MUTEX)
        pthread_mutex_lock(&st_mutex[i]); /* LW:id-lock-mutex */
    else if (type == TYPE_RWLOCK)
        pthread_rwlock_wrlock(&st_rwlock[i]); /* LW:id-lock-rwlock */
    else
        pthread_spin_lock(&st_spin[i]); /* LW:id-lock-spin */
}

static void unlock_one(int i)
{
    if (mutexes)
        pthread_mutex_unlock(&mutexes[i]);
    else if (type == TYPE_MUTEX)
        pthread_mutex_unlock(&st_mutex[i]);
    else if (type == TYPE_RWLOCK)
        pthread_rwlock_unlock(&st_rwlock[i]);
    else
        pthread_spin_unlock(&st_spin[i]);
}

static void *forward(void *arg)
{
    (void)arg;
    lock_one(0);
    lock_one(1);
    work++;
    unlock_one(1);
    unlock_one(0);
    return NULL;
}

static void *backward(void *arg)
{
    (void)arg;
    lock_one(1);
    lock_one(0);
    work++;
    unlock_one(0);
    unlock_one(1);
    return NULL;
}

static void init_static(void)
{
    for (int i = 0; i < 2; i++) {
        if (type == TYPE_MUTEX)
            SCN_CHECK(pthread_mutex_init(&st_mutex[i], NULL));
        else if (type == TYPE_RWLOCK)
            SCN_CHECK(pthread_rwlock_init(&st_rwlock[i], NULL));
        else
            SCN_CHECK(pthread_spin_init(&st_spin[i], PTHREAD_PROCESS_PRIVATE));
    }
}

static void destroy_static(void)
{
    for (int i = 0; i < 2; i++) {
        if (type == TYPE_MUTEX)
            SCN_CHECK(pthread_mutex_destroy(&st_mutex[i]));
        else if (type == TYPE_RWLOCK)
            SCN_CHECK(pthread_rwlock_destroy(&st_rwlock[i]));
        else
            SCN_CHECK(pthread_spin_destroy(&st_spin[i]));
    }
}

static void reused(int yes)
{
    printf("address reused: %s\n", yes ? "yes" : "no");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "reinit";
    int keep = scn_flag(argc, argv, "--keep");
    size_t size = 2 * sizeof(pthread_mutex_t);

    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--type") == 0)
            type = strcmp(argv[i + 1], "rwlock") == 0 ? TYPE_RWLOCK
                   : strcmp(argv[i + 1], "spin") == 0 ? TYPE_SPIN
                                                      : TYPE_MUTEX;

    if (strcmp(mode, "reinit") == 0) {
        init_static();
        scn_run_thread(forward, NULL);
        if (!keep) {
            destroy_static();
            init_static();
            reused(1);
        }
        scn_run_thread(backward, NULL);
    } else if (strcmp(mode, "free") == 0) {
        pthread_mutex_t *old = malloc(size);

        if (!old)
            return SCN_FAILED;
        mutexes = old;
        for (int i = 0; i < 2; i++)
            SCN_CHECK(pthread_mutex_init(&mutexes[i], NULL));
        scn_run_thread(forward, NULL);
        if (!keep) {
            free(old);
            mutexes = malloc(size);
            if (!mutexes)
                return SCN_FAILED;
            reused(mutexes == old);
            if (scn_flag(argc, argv, "--init")) {
                for (int i = 0; i < 2; i++)
                    SCN_CHECK(pthread_mutex_init(&mutexes[i], NULL));
            } else {
                memset(mutexes, 0, size);
            }
        }
        scn_run_thread(backward, NULL);
        free(mutexes);
    } else if (strcmp(mode, "realloc") == 0) {
        pthread_mutex_t *old = malloc(size), *moved = NULL;

        if (!old)
            return SCN_FAILED;
        mutexes = old;
        for (int i = 0; i < 2; i++)
            SCN_CHECK(pthread_mutex_init(&mutexes[i], NULL));
        scn_run_thread(forward, NULL);
        if (!keep) {
            moved = realloc(old, 1 << 20);
            if (!moved)
                return SCN_FAILED;
            printf("moved: %s\n", moved != old ? "yes" : "no");
            mutexes = malloc(size);
            if (!mutexes)
                return SCN_FAILED;
            reused(mutexes == old);
            memset(mutexes, 0, size);
        }
        scn_run_thread(backward, NULL);
        if (moved) {
            pthread_mutex_t *again = mutexes;

            mutexes = moved;
            scn_run_thread(backward, NULL);
            mutexes = again;
            free(moved);
        }
        free(mutexes);
    } else if (strcmp(mode, "munmap") == 0) {
        size_t len = 4096;
        void *old = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (old == MAP_FAILED)
            return SCN_FAILED;
        mutexes = old;
        for (int i = 0; i < 2; i++)
            SCN_CHECK(pthread_mutex_init(&mutexes[i], NULL));
        scn_run_thread(forward, NULL);
        if (!keep) {
            void *again;

            if (munmap(old, len) != 0)
                return SCN_FAILED;
            again = mmap(old, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (again == MAP_FAILED)
                return SCN_FAILED;
            mutexes = again;
            reused(again == old);
        }
        scn_run_thread(backward, NULL);
        munmap(mutexes, len);
    } else {
        fprintf(stderr, "scn_identity: unknown mode %s\n", mode);
        return 2;
    }
    printf("work %ld\n", work);
    return 0;
}
