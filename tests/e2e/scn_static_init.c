/*
 * scn_static_init.c - statically initialised global mutexes in an AB/BA.
 *
 * g_alpha and g_beta are globals set up with PTHREAD_MUTEX_INITIALIZER and
 * never passed to pthread_mutex_init. Thread 1 takes g_alpha then g_beta;
 * after it is joined, thread 2 takes g_beta then g_alpha. A checker names
 * such locks by their symbols.
 *
 *   --ordered   thread 2 takes g_alpha then g_beta too: nothing to report.
 *
 * Exit status 0 (99 if a pthread call fails).
 */
#include <pthread.h>
#include <stdio.h>

#include "scn_util.h"

pthread_mutex_t g_alpha = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_beta = PTHREAD_MUTEX_INITIALIZER;
static int ordered;
static int work;

static void *thread1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_alpha); /* LW:si-alpha-first */
    pthread_mutex_lock(&g_beta); /* LW:si-beta-second */
    work++;
    pthread_mutex_unlock(&g_beta);
    pthread_mutex_unlock(&g_alpha);
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_mutex_lock(&g_alpha); /* LW:si-ordered-alpha */
        pthread_mutex_lock(&g_beta); /* LW:si-ordered-beta */
        work++;
        pthread_mutex_unlock(&g_beta);
        pthread_mutex_unlock(&g_alpha);
    } else {
        pthread_mutex_lock(&g_beta); /* LW:si-beta-first */
        pthread_mutex_lock(&g_alpha); /* LW:si-alpha-second */
        work++;
        pthread_mutex_unlock(&g_alpha);
        pthread_mutex_unlock(&g_beta);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    ordered = scn_flag(argc, argv, "--ordered");
    scn_run_thread(thread1, NULL);
    scn_run_thread(thread2, NULL);
    printf("work %d\n", work);
    return 0;
}
