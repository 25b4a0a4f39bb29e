/*
 * lock_pair.c - the cost of one uncontended pthread_mutex_lock + unlock pair
 * (or, with -s, of one sem_wait + sem_post pair on a semaphore initialised
 * to 1: a semaphore used as a lock).
 *
 * Each of T threads locks and unlocks its own private mutex (on its own
 * cache line) N times, with nothing else held: no nesting, no contention,
 * so a checker can only add its per-operation bookkeeping. With several
 * threads, a checker that shares anything between threads on this path
 * (a global counter, a global lock) shows up as a cost that grows with T.
 *
 *   lock_pair [-s] [-t THREADS] [-n PAIRS_PER_THREAD] [-w WARMUP_PAIRS] [-a]
 *
 * -a names and ranks every lock through lockwatch.h (LOCKWATCH_NAME,
 * LOCKWATCH_RANK): a declared lock must cost no more per pair than another.
 *
 * Prints one line:
 *   bench=lock_pair (bench=sem_pair with -s) threads=T pairs=N ns_per_op=X wall_ns_per_op=Y seconds=S
 * ns_per_op is the mean over threads of the thread's CPU time divided by
 * its pairs (not inflated when T exceeds the CPUs); wall_ns_per_op is the
 * wall time of the timed phase divided by the pairs of one thread.
 */
#include "bench.h"

#include <getopt.h>
#include <semaphore.h>

#include <lockwatch/lockwatch.h>

static const char *prog = "lock_pair";

struct worker {
    _Alignas(BENCH_LINE) pthread_mutex_t lock;
    sem_t sem;               /* -s: the lock */
    int use_sem;
    unsigned long pairs;
    unsigned long warmup;
    unsigned long counter;   /* touched inside the critical section */
    uint64_t cpu_ns;         /* out: CPU time of the timed loop */
    struct bench_gate *gate;
};

/* Thread body: warms up, waits for the others, then runs the timed loop. Returns NULL. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;

    for (unsigned long i = 0; i < w->warmup; i++) {
        if (w->use_sem) {
            sem_wait(&w->sem);
            w->counter++;
            sem_post(&w->sem);
        } else {
            pthread_mutex_lock(&w->lock);
            w->counter++;
            pthread_mutex_unlock(&w->lock);
        }
    }
    bench_gate_wait(w->gate);
    uint64_t start = bench_thread_cpu_ns();
    if (w->use_sem) {
        for (unsigned long i = 0; i < w->pairs; i++) {
            sem_wait(&w->sem);
            w->counter++;
            bench_clobber();
            sem_post(&w->sem);
        }
    } else {
        for (unsigned long i = 0; i < w->pairs; i++) {
            pthread_mutex_lock(&w->lock);
            w->counter++;
            bench_clobber();
            pthread_mutex_unlock(&w->lock);
        }
    }
    w->cpu_ns = bench_thread_cpu_ns() - start;
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = 1;
    unsigned long pairs = 20000000, warmup = 100000;
    int opt, use_sem = 0, declare = 0;

    while ((opt = getopt(argc, argv, "st:n:w:a")) != -1) {
        switch (opt) {
        case 's': use_sem = 1; prog = "sem_pair"; break;
        case 't': threads = (unsigned)bench_number(prog, 't', optarg, 1, 1024); break;
        case 'n': pairs = bench_number(prog, 'n', optarg, 1, 1UL << 40); break;
        case 'w': warmup = bench_number(prog, 'w', optarg, 0, 1UL << 40); break;
        case 'a': declare = 1; break;
        default:
            fprintf(stderr, "usage: %s [-s] [-t THREADS] [-n PAIRS_PER_THREAD] [-w WARMUP_PAIRS] [-a]\n", prog);
            return 2;
        }
    }

    struct bench_gate gate = { .n = threads };
    struct worker *w = aligned_alloc(BENCH_LINE, sizeof *w * threads);
    if (!w)
        bench_die(prog, "aligned_alloc", errno);
    for (unsigned i = 0; i < threads; i++) {
        w[i] = (struct worker){ .pairs = pairs, .warmup = warmup, .gate = &gate, .use_sem = use_sem };
        int err = pthread_mutex_init(&w[i].lock, NULL);
        if (err)
            bench_die(prog, "pthread_mutex_init", err);
        if (sem_init(&w[i].sem, 0, 1) != 0)
            bench_die(prog, "sem_init", errno);
        if (declare) {
            lockwatch_namef(&w[i].lock, "worker[%u]", i);
            LOCKWATCH_RANK(&w[i].lock, 100 + i);
        }
    }

    uint64_t start = bench_now_ns();
    bench_run_threads(prog, threads, worker_main, w, sizeof *w);
    uint64_t wall = bench_now_ns() - start;

    double cpu = 0;
    for (unsigned i = 0; i < threads; i++) {
        if (w[i].counter != pairs + warmup) {
            fprintf(stderr, "%s: thread %u counted %lu pairs, expected %lu\n",
                    prog, i, w[i].counter, pairs + warmup);
            return 1;
        }
        cpu += (double)w[i].cpu_ns / (double)pairs;
        pthread_mutex_destroy(&w[i].lock);
        sem_destroy(&w[i].sem);
    }
    printf("bench=%s%s threads=%u pairs=%lu ns_per_op=%.2f wall_ns_per_op=%.2f seconds=%.3f\n",
           prog, declare ? " declared=1" : "", threads, pairs, cpu / threads, (double)wall / (double)pairs, wall / 1e9);
    free(w);
    return 0;
}
