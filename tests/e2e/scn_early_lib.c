/*
 * scn_early_lib.c - a shared library whose constructor starts a thread.
 *
 * The loader runs this constructor before those of libraries preloaded
 * after it, so the thread may exist before a preloaded checker has started.
 * The thread waits until scn_early_run() lets it go, then takes early_a then
 * early_b and ends; scn_early_run() returns once it has been joined.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

pthread_mutex_t early_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t early_b = PTHREAD_MUTEX_INITIALIZER;
static sem_t go;
static pthread_t early;

static void *early_thread(void *arg)
{
    (void)arg;
    while (sem_wait(&go) != 0 && errno == EINTR)
        continue;
    pthread_mutex_lock(&early_a); /* LW:early-a-first */
    pthread_mutex_lock(&early_b); /* LW:early-b-second */
    pthread_mutex_unlock(&early_b);
    pthread_mutex_unlock(&early_a);
    return NULL;
}

__attribute__((constructor)) static void early_constructor(void)
{
    if (sem_init(&go, 0, 0) != 0 || pthread_create(&early, NULL, early_thread, NULL) != 0) {
        fprintf(stderr, "scn_early_lib: cannot start the early thread\n");
        exit(99);
    }
}

/* Lets the early thread take its locks and waits for it to end. */
void scn_early_run(void)
{
    sem_post(&go);
    pthread_join(early, NULL);
}
