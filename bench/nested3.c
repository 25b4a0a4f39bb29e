/*
 * nested3.c - 3-deep nested acquisitions in one fixed order over many locks.
 *
 * The locks are an array of L mutexes. A group locks m[i], m[i+1], m[i+2]
 * (in that order, each while holding the ones before), then unlocks them in
 * reverse; i advances by one per group and goes back to 0 after L-3, so
 * every order is increasing and there is no cycle (no wrap-around group).
 * After the first walk a checker knows every order; what is timed is the
 * cost of nested acquisitions whose order is already known.
 *
 *   nested3 [-t THREADS] [-n GROUPS_PER_THREAD] [-l LOCKS] [-a]
 *
 * -a names every lock and ranks it by its index (lockwatch.h), so every
 * group respects the ranks: ranks are checked only when a chain is new, and
 * a ranked walk must cost what an unranked one does.
 *
 * With several threads, thread k starts its walk at k * L / T, so threads
 * rarely meet on a lock. One untimed walk per thread comes first.
 *
 * Prints one line:
 *   bench=nested3 threads=T locks=L groups=N ns_per_group=G ns_per_op=P seconds=S
 * ns_per_group is per 3-lock group (three lock+unlock pairs) from the
 * thread's CPU time, averaged over threads; ns_per_op is per pair (G / 3).
 */
#include "bench.h"

#include <getopt.h>

#include <lockwatch/lockwatch.h>

static const char *prog = "nested3";

struct worker {
    _Alignas(BENCH_LINE) pthread_mutex_t *locks;
    unsigned long nlocks;
    unsigned long groups;
    unsigned long start;     /* first i of the walk */
    unsigned long counter;
    uint64_t cpu_ns;
    struct bench_gate *gate;
};

/* Locks the group at i, touches the counter, unlocks in reverse. */
static inline void group(struct worker *w, unsigned long i)
{
    pthread_mutex_t *m = w->locks + i;

    pthread_mutex_lock(&m[0]);
    pthread_mutex_lock(&m[1]);
    pthread_mutex_lock(&m[2]);
    w->counter++;
    bench_clobber();
    pthread_mutex_unlock(&m[2]);
    pthread_mutex_unlock(&m[1]);
    pthread_mutex_unlock(&m[0]);
}

/* Thread body: one untimed walk, the start gate, then the timed groups. Returns NULL. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned long last = w->nlocks - 3; /* the largest first index of a group */

    for (unsigned long i = 0; i <= last; i++)
        group(w, i);
    bench_gate_wait(w->gate);
    uint64_t start = bench_thread_cpu_ns();
    unsigned long i = w->start;
    for (unsigned long g = 0; g < w->groups; g++) {
        group(w, i);
        i = i == last ? 0 : i + 1;
    }
    w->cpu_ns = bench_thread_cpu_ns() - start;
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = 1;
    unsigned long groups = 5000000, nlocks = 1000;
    int opt, declare = 0;

    while ((opt = getopt(argc, argv, "t:n:l:a")) != -1) {
        switch (opt) {
        case 't': threads = (unsigned)bench_number(prog, 't', optarg, 1, 1024); break;
        case 'n': groups = bench_number(prog, 'n', optarg, 1, 1UL << 40); break;
        case 'l': nlocks = bench_number(prog, 'l', optarg, 3, 1UL << 26); break;
        case 'a': declare = 1; break;
        default:
            fprintf(stderr, "usage: %s [-t THREADS] [-n GROUPS_PER_THREAD] [-l LOCKS] [-a]\n", prog);
            return 2;
        }
    }

    pthread_mutex_t *locks = calloc(nlocks, sizeof *locks);
    struct worker *w = aligned_alloc(BENCH_LINE, sizeof *w * threads);
    if (!locks || !w)
        bench_die(prog, "allocation", errno);
    for (unsigned long i = 0; i < nlocks; i++) {
        int err = pthread_mutex_init(&locks[i], NULL);
        if (err)
            bench_die(prog, "pthread_mutex_init", err);
        if (declare) { /* ranks in index order: every group respects them */
            lockwatch_namef(&locks[i], "locks[%lu]", i);
            LOCKWATCH_RANK(&locks[i], (long)i);
        }
    }
    struct bench_gate gate = { .n = threads };
    for (unsigned i = 0; i < threads; i++)
        w[i] = (struct worker){ .locks = locks, .nlocks = nlocks, .groups = groups,
                                .start = (nlocks - 2) * i / threads, .gate = &gate };

    uint64_t start = bench_now_ns();
    bench_run_threads(prog, threads, worker_main, w, sizeof *w);
    uint64_t wall = bench_now_ns() - start;

    double cpu = 0;
    for (unsigned i = 0; i < threads; i++)
        cpu += (double)w[i].cpu_ns / (double)groups;
    cpu /= threads;
    for (unsigned long i = 0; i < nlocks; i++)
        pthread_mutex_destroy(&locks[i]);
    printf("bench=nested3 threads=%u locks=%lu groups=%lu ns_per_group=%.2f ns_per_op=%.2f seconds=%.3f\n",
           threads, nlocks, groups, cpu, cpu / 3, wall / 1e9);
    free(w);
    free(locks);
    return 0;
}
