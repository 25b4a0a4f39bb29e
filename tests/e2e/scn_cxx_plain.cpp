/*
 * scn_cxx_plain.cpp - C++ that uses nothing of the C++ library: free
 * functions with C++ (mangled) names lock pthread mutexes, AB then BA, so
 * the program may not load libstdc++ at all. Reports must still name
 * thread_ab(void*) and thread_ba(void*), never their mangled symbols.
 *
 *   --ordered   both threads take A then B: nothing to report.
 *
 * Exit status 0 (99 if a pthread call fails).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static bool ordered;

void *thread_ab(void *)
{
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b); /* LW:plain-ab */
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
    return nullptr;
}

void *thread_ba(void *)
{
    pthread_mutex_t *first = ordered ? &lock_a : &lock_b;
    pthread_mutex_t *second = ordered ? &lock_b : &lock_a;
    pthread_mutex_lock(first);
    pthread_mutex_lock(second); /* LW:plain-ba */
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return nullptr;
}

int main(int argc, char **argv)
{
    pthread_t t;
    ordered = argc > 1 && strcmp(argv[1], "--ordered") == 0;
    if (pthread_create(&t, nullptr, thread_ab, nullptr) || pthread_join(t, nullptr))
        return 99;
    if (pthread_create(&t, nullptr, thread_ba, nullptr) || pthread_join(t, nullptr))
        return 99;
    printf("done\n");
    return 0;
}
