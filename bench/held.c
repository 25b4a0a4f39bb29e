/*
 * held.c - many locks held at once.
 *
 * One thread initialises N mutexes, then R times: locks all N in order
 * (each while holding all the ones before), then unlocks them oldest
 * first (FIFO: every unlock is of the lock at the bottom of the held
 * stack), or newest first with -o lifo. A checker whose held-lock
 * operations are not O(1), or that records an order from every held lock,
 * is quadratic here.
 *
 *   held [-n LOCKS] [-r ROUNDS] [-o fifo|lifo]
 *
 * Prints one line:
 *   bench=held locks=N rounds=R order=O ns_per_lock=X seconds=S
 * ns_per_lock is the thread's CPU time over all rounds divided by N * R
 * (one lock and one unlock each), the first round (where a checker learns
 * the orders) included.
 */
#include "bench.h"

#include <getopt.h>
#include <string.h>

static const char *prog = "held";

int main(int argc, char **argv)
{
    unsigned long n = 10000, rounds = 3;
    int fifo = 1;
    int c;

    while ((c = getopt(argc, argv, "n:r:o:")) != -1) {
        switch (c) {
        case 'n': n = bench_number(prog, 'n', optarg, 1, 10000000); break;
        case 'r': rounds = bench_number(prog, 'r', optarg, 1, 1000000); break;
        case 'o':
            if (strcmp(optarg, "fifo") == 0) fifo = 1;
            else if (strcmp(optarg, "lifo") == 0) fifo = 0;
            else bench_die(prog, "-o wants fifo or lifo", EINVAL);
            break;
        default:
            fprintf(stderr, "usage: %s [-n LOCKS] [-r ROUNDS] [-o fifo|lifo]\n", prog);
            return 2;
        }
    }
    pthread_mutex_t *m = calloc(n, sizeof *m);
    if (!m) bench_die(prog, "out of memory", ENOMEM);
    for (unsigned long i = 0; i < n; i++) pthread_mutex_init(&m[i], NULL);
    uint64_t t0 = bench_thread_cpu_ns(), w0 = bench_now_ns();
    for (unsigned long r = 0; r < rounds; r++) {
        for (unsigned long i = 0; i < n; i++) pthread_mutex_lock(&m[i]);
        bench_clobber();
        for (unsigned long i = 0; i < n; i++) pthread_mutex_unlock(&m[fifo ? i : n - 1 - i]);
    }
    uint64_t t1 = bench_thread_cpu_ns(), w1 = bench_now_ns();
    for (unsigned long i = 0; i < n; i++) pthread_mutex_destroy(&m[i]);
    free(m);
    printf("bench=held locks=%lu rounds=%lu order=%s ns_per_lock=%.1f seconds=%.3f\n", n, rounds,
           fifo ? "fifo" : "lifo", (double)(t1 - t0) / ((double)n * (double)rounds),
           (double)(w1 - w0) / 1e9);
    return 0;
}
