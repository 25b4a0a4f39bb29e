/*
 * api_noop.c - the cost of lockwatch.h's calls in a program that runs
 * without lockwatch: each must be a check of one cached pointer.
 *
 *   api_noop [-n CALLS]
 *
 * Times CALLS calls each of LOCKWATCH_ASSERT_HELD and LOCKWATCH_NAME on a
 * mutex (after the first call has looked lockwatch up and found nothing).
 * Prints one line:
 *   bench=api_noop active=0 calls=N ns_per_call=X
 * (active=1 when run under lockwatch: the numbers then time lockwatch.)
 */
#include "bench.h"

#include <getopt.h>

#include <lockwatch/lockwatch.h>

static const char *prog = "api_noop";

int main(int argc, char **argv)
{
    unsigned long calls = 200000000;
    int opt;
    while ((opt = getopt(argc, argv, "n:")) != -1) {
        switch (opt) {
        case 'n': calls = bench_number(prog, 'n', optarg, 1, 1UL << 40); break;
        default:
            fprintf(stderr, "usage: %s [-n CALLS]\n", prog);
            return 2;
        }
    }
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    int active = lockwatch_active(); /* the lookup, once */
    pthread_mutex_lock(&m);
    uint64_t start = bench_thread_cpu_ns();
    for (unsigned long i = 0; i < calls; i++) {
        LOCKWATCH_ASSERT_HELD(&m);
        bench_clobber();
        LOCKWATCH_NAME(&m, "m");
        bench_clobber();
    }
    uint64_t ns = bench_thread_cpu_ns() - start;
    pthread_mutex_unlock(&m);
    printf("bench=api_noop active=%d calls=%lu ns_per_call=%.3f\n", active, 2 * calls,
           (double)ns / (double)(2 * calls));
    return 0;
}
