/*
 * contended.c - T threads hammering one mutex with a tiny critical section.
 *
 * Every thread locks the same mutex N times, increments a shared counter
 * and unlocks. The cost is dominated by the lock's cache line moving between
 * CPUs and by threads sleeping in the kernel; a checker adds its bookkeeping
 * and whatever it changes in how a thread waits.
 *
 *   contended [-t THREADS] [-n PAIRS_PER_THREAD]
 *
 * Prints one line:
 *   bench=contended threads=T pairs=N ns_per_op=X cpu_per_wall=C seconds=S
 * ns_per_op is the wall time of the timed phase divided by all pairs of all
 * threads (T * N). cpu_per_wall is the process's CPU time over that wall
 * time: close to the number of CPUs when the threads really ran at the same
 * time and spun or retried, near 1 when they took turns (another program
 * busy on the other CPUs, or waiters asleep in the kernel), in which case
 * there was little contention to measure. Exits with status 1 if the
 * counter is wrong.
 */
#include "bench.h"

#include <getopt.h>

static const char *prog = "contended";

static pthread_mutex_t the_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter; /* guarded by the_lock */

struct worker {
    unsigned long pairs;
    struct bench_gate *gate;
};

/* Thread body: waits for the others, then takes the lock `pairs` times. Returns NULL. */
static void *worker_main(void *arg)
{
    const struct worker *w = arg;

    bench_gate_wait(w->gate);
    for (unsigned long i = 0; i < w->pairs; i++) {
        pthread_mutex_lock(&the_lock);
        counter++;
        bench_clobber();
        pthread_mutex_unlock(&the_lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = 2;
    unsigned long pairs = 2000000;
    int opt;

    while ((opt = getopt(argc, argv, "t:n:")) != -1) {
        switch (opt) {
        case 't': threads = (unsigned)bench_number(prog, 't', optarg, 1, 1024); break;
        case 'n': pairs = bench_number(prog, 'n', optarg, 1, 1UL << 40); break;
        default:
            fprintf(stderr, "usage: %s [-t THREADS] [-n PAIRS_PER_THREAD]\n", prog);
            return 2;
        }
    }

    /* One untimed pair, so that a checker's first-use work is not timed. */
    pthread_mutex_lock(&the_lock);
    pthread_mutex_unlock(&the_lock);

    struct bench_gate gate = { .n = threads };
    struct worker *w = calloc(threads, sizeof *w);
    if (!w)
        bench_die(prog, "calloc", errno);
    for (unsigned i = 0; i < threads; i++)
        w[i] = (struct worker){ .pairs = pairs, .gate = &gate };

    uint64_t cpu = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t start = bench_now_ns();
    bench_run_threads(prog, threads, worker_main, w, sizeof *w);
    uint64_t wall = bench_now_ns() - start;
    cpu = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu;

    if (counter != pairs * threads) {
        fprintf(stderr, "%s: counter is %lu, expected %lu\n", prog, counter, pairs * threads);
        return 1;
    }
    printf("bench=contended threads=%u pairs=%lu ns_per_op=%.2f cpu_per_wall=%.2f seconds=%.3f\n",
           threads, pairs, (double)wall / (double)(pairs * threads), (double)cpu / (double)wall,
           wall / 1e9);
    free(w);
    return 0;
}
