/*
 * many_locks.c - many locks, many known orders, many threads, and memory.
 *
 * L mutexes (pthread_mutex_init'ed, in one array) are walked by T threads.
 * A step of a walk takes m[i], then m[i+1] while holding m[i], then unlocks
 * both: there are L-1 distinct orders (i -> i+1), all increasing. Thread k
 * starts at (L-1) * k / T, walks to the end, then from 0 back to where it
 * started, so threads are spread along the array and no walk wraps around
 * (no order L-1 -> 0). A checker learns every lock and every order on the
 * first walks, then runs on its fast path with L locks in its tables.
 *
 *   many_locks [-t THREADS] [-n WALKS_PER_THREAD] [-l LOCKS]
 *
 * Everything is timed, the first walks included. Memory is the growth of
 * the resident set over the whole run: VmRSS read at the start of main,
 * before anything is allocated, and VmHWM (the peak) read at the end, from
 * /proc/self/status. Under a preloaded checker this growth includes the
 * checker's own tables, which is what is measured.
 *
 * Prints one line:
 *   bench=many_locks threads=T locks=L walks=N ns_per_op=X rss_kb=R hwm_kb=H
 *       bytes_per_lock=B seconds=S
 * ns_per_op is the total CPU time of the threads divided by all acquisitions
 * (2 per step); bytes_per_lock is (H - R) * 1024 / L.
 */
#include "bench.h"

#include <getopt.h>

static const char *prog = "many_locks";

struct worker {
    _Alignas(BENCH_LINE) pthread_mutex_t *locks;
    unsigned long nlocks;
    unsigned long walks;
    unsigned long start;
    unsigned long counter;
    uint64_t cpu_ns;
    struct bench_gate *gate;
};

/* Takes m[i] then m[i+1], touches the counter, unlocks both. */
static inline void step(struct worker *w, unsigned long i)
{
    pthread_mutex_lock(&w->locks[i]);
    pthread_mutex_lock(&w->locks[i + 1]);
    w->counter++;
    bench_clobber();
    pthread_mutex_unlock(&w->locks[i + 1]);
    pthread_mutex_unlock(&w->locks[i]);
}

/* Thread body: waits for the others, then walks `walks` times. Returns NULL. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned long last = w->nlocks - 2; /* the largest first index of a step */

    bench_gate_wait(w->gate);
    uint64_t start = bench_thread_cpu_ns();
    for (unsigned long n = 0; n < w->walks; n++) {
        for (unsigned long i = w->start; i <= last; i++)
            step(w, i);
        for (unsigned long i = 0; i < w->start; i++)
            step(w, i);
    }
    w->cpu_ns = bench_thread_cpu_ns() - start;
    return NULL;
}

int main(int argc, char **argv)
{
    long rss_kb = bench_status_kb("VmRSS");
    unsigned threads = 8;
    unsigned long walks = 150, nlocks = 10000;
    int opt;

    while ((opt = getopt(argc, argv, "t:n:l:")) != -1) {
        switch (opt) {
        case 't': threads = (unsigned)bench_number(prog, 't', optarg, 1, 1024); break;
        case 'n': walks = bench_number(prog, 'n', optarg, 1, 1UL << 32); break;
        case 'l': nlocks = bench_number(prog, 'l', optarg, 2, 1UL << 26); break;
        default:
            fprintf(stderr, "usage: %s [-t THREADS] [-n WALKS_PER_THREAD] [-l LOCKS]\n", prog);
            return 2;
        }
    }

    uint64_t start = bench_now_ns();
    pthread_mutex_t *locks = malloc(nlocks * sizeof *locks);
    struct worker *w = aligned_alloc(BENCH_LINE, sizeof *w * threads);
    if (!locks || !w)
        bench_die(prog, "allocation", errno);
    for (unsigned long i = 0; i < nlocks; i++) {
        int err = pthread_mutex_init(&locks[i], NULL);
        if (err)
            bench_die(prog, "pthread_mutex_init", err);
    }
    struct bench_gate gate = { .n = threads };
    for (unsigned i = 0; i < threads; i++)
        w[i] = (struct worker){ .locks = locks, .nlocks = nlocks, .walks = walks,
                                .start = (nlocks - 1) * i / threads, .gate = &gate };

    bench_run_threads(prog, threads, worker_main, w, sizeof *w);
    uint64_t wall = bench_now_ns() - start;
    long hwm_kb = bench_status_kb("VmHWM");

    double cpu = 0, acquisitions = 2.0 * (double)(nlocks - 1) * (double)walks * threads;
    for (unsigned i = 0; i < threads; i++) {
        if (w[i].counter != (nlocks - 1) * walks) {
            fprintf(stderr, "%s: thread %u made %lu steps, expected %lu\n",
                    prog, i, w[i].counter, (nlocks - 1) * walks);
            return 1;
        }
        cpu += (double)w[i].cpu_ns;
    }
    for (unsigned long i = 0; i < nlocks; i++)
        pthread_mutex_destroy(&locks[i]);
    printf("bench=many_locks threads=%u locks=%lu walks=%lu ns_per_op=%.2f rss_kb=%ld hwm_kb=%ld "
           "bytes_per_lock=%.1f seconds=%.3f\n",
           threads, nlocks, walks, cpu / acquisitions, rss_kb, hwm_kb,
           (double)(hwm_kb - rss_kb) * 1024.0 / (double)nlocks, wall / 1e9);
    free(w);
    free(locks);
    return 0;
}
