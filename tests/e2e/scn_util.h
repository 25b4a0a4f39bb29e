/*
 * scn_util.h - small helpers shared by the end-to-end scenario programs.
 *
 * The scenarios are plain pthread programs that know nothing of lockwatch.
 * They are deterministic: threads are sequenced with joins or POSIX
 * semaphores, never with sleeps. A failed pthread call ends the program
 * with status 99 (never a status lockwatch uses: 0, 1, 66).
 */
#ifndef SCN_UTIL_H
#define SCN_UTIL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCN_FAILED 99

/* Ends the program with SCN_FAILED if a pthread call returned an error. */
#define SCN_CHECK(call)                                                       \
    do {                                                                      \
        int scn_err_ = (call);                                                \
        if (scn_err_ != 0) {                                                  \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,     \
                    strerror(scn_err_));                                      \
            exit(SCN_FAILED);                                                 \
        }                                                                     \
    } while (0)

/* Runs fn(arg) on a new thread and waits for it to finish. */
static inline void scn_run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;

    SCN_CHECK(pthread_create(&t, NULL, fn, arg)); /* LW:util-create */
    SCN_CHECK(pthread_join(t, NULL));
}

/* True if argv[1..argc-1] contains `flag`. */
static inline int scn_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return 1;
    return 0;
}

/* The integer after `opt` on the command line, or `def` if absent. */
static inline long scn_opt_long(int argc, char **argv, const char *opt, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], opt) == 0)
            return strtol(argv[i + 1], NULL, 10);
    return def;
}

#endif
