/*
 * churn.c - the cost of short-lived mutexes: one round is the whole life of
 * a lock, uncontended and with nothing else held.
 *
 *   churn [-z] [-t THREADS] [-n ROUNDS_PER_THREAD] [-s SLOTS] [-c]
 *
 * Default: a round is pthread_mutex_init + lock + unlock + destroy of the
 * next of SLOTS mutexes (default 64) of the thread's own array, so the same
 * addresses come back as new locks again and again (a mutex on the stack,
 * a pooled object).
 * -z: a round is calloc of a mutex, lock + unlock of that never initialised
 * (zeroed) memory, and free: a lock first seen at its first use, in fresh
 * heap memory, whose life ends with the memory.
 * -c: also runs this program natively (again, with LD_PRELOAD removed from
 * its environment) and prints the native time, the difference and the
 * ratio in the same line, so that one command shows the overhead. Without
 * LD_PRELOAD, -c changes nothing.
 *
 * Prints one line:
 *   bench=churn (bench=churn_zeroed with -z) threads=T rounds=N ns_per_op=X seconds=S
 *       [native_ns_per_op=Y added_ns=X-Y ratio=X/Y]
 * ns_per_op is the mean over threads of the thread's CPU time divided by
 * its rounds.
 */
#include "bench.h"

#include <getopt.h>
#include <sys/wait.h>

static const char *prog = "churn";

struct worker {
    _Alignas(BENCH_LINE) pthread_mutex_t *slots;
    unsigned long nslots;
    unsigned long rounds;
    int zeroed;
    unsigned long counter; /* touched inside the critical section */
    uint64_t cpu_ns;       /* out: CPU time of the timed loop */
    struct bench_gate *gate;
};

/* One round of -z: a zeroed mutex in fresh heap memory. */
static void zeroed_round(struct worker *w)
{
    pthread_mutex_t *m = calloc(1, sizeof *m);

    if (!m)
        bench_die(prog, "calloc", errno);
    pthread_mutex_lock(m);
    w->counter++;
    bench_clobber();
    pthread_mutex_unlock(m);
    free(m);
}

/* Thread body: waits for the others, then runs the rounds. Returns NULL. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;

    bench_gate_wait(w->gate);
    uint64_t start = bench_thread_cpu_ns();
    for (unsigned long i = 0, k = 0; i < w->rounds; i++) {
        if (w->zeroed) {
            zeroed_round(w);
            continue;
        }
        pthread_mutex_t *m = &w->slots[k];
        int err = pthread_mutex_init(m, NULL);
        if (err)
            bench_die(prog, "pthread_mutex_init", err);
        pthread_mutex_lock(m);
        w->counter++;
        bench_clobber();
        pthread_mutex_unlock(m);
        if ((err = pthread_mutex_destroy(m)))
            bench_die(prog, "pthread_mutex_destroy", err);
        if (++k == w->nslots)
            k = 0;
    }
    w->cpu_ns = bench_thread_cpu_ns() - start;
    return NULL;
}

/*
 * Runs argv again without LD_PRELOAD and -c, and returns the ns_per_op of
 * its line; exits with status 1 if it fails.
 */
static double native_ns(char **argv)
{
    int fd[2];
    char line[512];

    if (pipe(fd) != 0)
        bench_die(prog, "pipe", errno);
    pid_t pid = fork();
    if (pid < 0)
        bench_die(prog, "fork", errno);
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        unsetenv("LD_PRELOAD");
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fd[1]);
    ssize_t n = 0, r;
    while (n < (ssize_t)sizeof line - 1 && (r = read(fd[0], line + n, sizeof line - 1 - n)) > 0)
        n += r;
    close(fd[0]);
    line[n > 0 ? n : 0] = '\0';
    int status;
    waitpid(pid, &status, 0);
    const char *p = strstr(line, " ns_per_op=");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !p) {
        fprintf(stderr, "%s: the native run failed\n", prog);
        exit(1);
    }
    return strtod(p + 11, NULL);
}

int main(int argc, char **argv)
{
    unsigned threads = 1;
    unsigned long rounds = 5000000, nslots = 64;
    int zeroed = 0, compare = 0, opt;
    char *args[16];
    int nargs = 0;

    args[nargs++] = argv[0];
    while ((opt = getopt(argc, argv, "zt:n:s:c")) != -1) {
        switch (opt) {
        case 'z': zeroed = 1; args[nargs++] = "-z"; break;
        case 't': threads = (unsigned)bench_number(prog, 't', optarg, 1, 1024);
                  args[nargs++] = "-t"; args[nargs++] = optarg; break;
        case 'n': rounds = bench_number(prog, 'n', optarg, 1, 1000000000000ul);
                  args[nargs++] = "-n"; args[nargs++] = optarg; break;
        case 's': nslots = bench_number(prog, 's', optarg, 1, 1u << 24);
                  args[nargs++] = "-s"; args[nargs++] = optarg; break;
        case 'c': compare = 1; break;
        default:
            fprintf(stderr, "usage: %s [-z] [-t THREADS] [-n ROUNDS_PER_THREAD] [-s SLOTS] [-c]\n", prog);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
        return 2;
    }
    args[nargs] = NULL;

    struct bench_gate gate = {threads, 0};
    struct worker *w = aligned_alloc(BENCH_LINE, threads * sizeof *w);
    if (!w)
        bench_die(prog, "aligned_alloc", errno);
    for (unsigned i = 0; i < threads; i++) {
        w[i] = (struct worker){.nslots = nslots, .rounds = rounds, .zeroed = zeroed, .gate = &gate};
        if (!zeroed && !(w[i].slots = calloc(nslots, sizeof *w[i].slots)))
            bench_die(prog, "calloc", errno);
    }
    uint64_t wall = bench_now_ns();
    bench_run_threads(prog, threads, worker_main, w, sizeof *w);
    wall = bench_now_ns() - wall;

    double ns = 0;
    for (unsigned i = 0; i < threads; i++) {
        if (w[i].counter != rounds) {
            fprintf(stderr, "%s: thread %u counted %lu rounds, expected %lu\n", prog, i,
                    w[i].counter, rounds);
            return 1;
        }
        ns += (double)w[i].cpu_ns / (double)rounds;
        free(w[i].slots);
    }
    ns /= threads;
    printf("bench=%s threads=%u rounds=%lu ns_per_op=%.2f seconds=%.3f", zeroed ? "churn_zeroed" : "churn",
           threads, rounds, ns, (double)wall / 1e9);
    const char *pre = getenv("LD_PRELOAD");
    if (compare && pre && *pre) {
        fflush(stdout);
        double nat = native_ns(args);
        printf(" native_ns_per_op=%.2f added_ns=%.2f ratio=%.2f", nat, ns - nat, nat > 0 ? ns / nat : 0);
    }
    printf("\n");
    free(w);
    return 0;
}
