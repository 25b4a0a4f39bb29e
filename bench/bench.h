/*
 * bench.h - what the overhead programs share: clocks, memory readings, the
 * command line and the result line. libc only: these programs know nothing
 * of lockwatch and are run the same way natively, under the preload and
 * under other checkers.
 *
 * Every program prints exactly one line on stdout, made of `key=value`
 * pairs separated by spaces and starting with `bench=<name>`; the number
 * that bench/run.sh compares is `ns_per_op`. Errors go to stderr, with exit
 * status 1 (a failed call) or 2 (a bad command line).
 */
#ifndef BENCH_H
#define BENCH_H

#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Keeps the compiler from caching memory across this point or deleting a loop. */
#define bench_clobber() __asm__ volatile("" ::: "memory")

/* One cache line, so that per-thread data shares no line with another thread's. */
#define BENCH_LINE 64

/* Reads clock `clk` in nanoseconds. Cannot fail for the clocks used here. */
static inline uint64_t bench_clock_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall time (monotonic) in nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
    return bench_clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread in nanoseconds. */
static inline uint64_t bench_thread_cpu_ns(void)
{
    return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * Returns the value in kB of `field` ("VmRSS", "VmHWM", ...) in
 * /proc/self/status, or -1 if the file or the field cannot be read.
 */
static inline long bench_status_kb(const char *field)
{
    char line[256];
    size_t len = strlen(field);
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* Prints `msg: strerror(err)` for program `prog` on stderr and exits with status 1. */
static inline void bench_die(const char *prog, const char *msg, int err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, msg, strerror(err));
    exit(1);
}

/*
 * Parses `text` as a whole number in [min, max] for option `opt` of program
 * `prog`. Returns it; on a bad value prints a line naming the option and
 * exits with status 2.
 */
static inline unsigned long bench_number(const char *prog, char opt, const char *text,
                                         unsigned long min, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
        fprintf(stderr, "%s: -%c wants a whole number from %lu to %lu, not '%s'\n",
                prog, opt, min, max, text);
        exit(2);
    }
    return v;
}

/*
 * Starts `n` threads running `fn(args + i * size)`, waits for all of them
 * and returns. Exits with status 1 if one cannot be started.
 */
static inline void bench_run_threads(const char *prog, unsigned n, void *(*fn)(void *),
                                     void *args, size_t size)
{
    pthread_t *tids = calloc(n, sizeof *tids);

    if (!tids)
        bench_die(prog, "calloc", errno);
    for (unsigned i = 0; i < n; i++) {
        int err = pthread_create(&tids[i], NULL, fn, (char *)args + (size_t)i * size);
        if (err)
            bench_die(prog, "pthread_create", err);
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    free(tids);
}

/*
 * A start line for worker threads: bench_gate_wait blocks until `n` threads
 * have arrived, so the timed loops start together. Spins on an atomic
 * counter (with sched_yield), so it takes no lock a checker would watch.
 */
struct bench_gate {
    unsigned n;
    unsigned arrived;
};

/* Arrives at gate `g` and waits for the others. */
static inline void bench_gate_wait(struct bench_gate *g)
{
    __atomic_add_fetch(&g->arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&g->arrived, __ATOMIC_ACQUIRE) < g->n)
        sched_yield();
}

#endif
