/*
 * munmap.c - the cost of giving back a huge mapping that holds one lock.
 *
 * R times for each size (1 GiB and 1 TiB of address space, mapped with
 * MAP_NORESERVE: only the page touched becomes memory): maps the range,
 * locks and unlocks a (zeroed) mutex in its middle, and times the munmap of
 * the whole range. A checker that forgets the locks of released memory page
 * by page pays for the length; one that visits only the pages holding locks
 * pays for the lock.
 *
 *   munmap [-r REPEATS]
 *
 * Prints one line:
 *   bench=munmap repeats=R ns_1g=X ns_1t=Y ratio=Y/X ns_per_op=Y
 * ns_1g and ns_1t are the median times of one munmap of each size; ratio
 * is the 1 TiB time over the 1 GiB time (the same when the cost does not
 * follow the length); ns_per_op is ns_1t, the number run.sh compares.
 */
#include "bench.h"

#include <getopt.h>
#include <sys/mman.h>

static const char *prog = "munmap";

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median time in ns of munmap of a mapping of `span` bytes holding one used mutex. */
static uint64_t unmap_ns(size_t span, unsigned repeats)
{
    uint64_t *t = calloc(repeats, sizeof *t);

    if (!t)
        bench_die(prog, "calloc", errno);
    for (unsigned i = 0; i < repeats; i++) {
        char *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            bench_die(prog, "mmap", errno);
        pthread_mutex_t *m = (pthread_mutex_t *)(p + span / 2);
        pthread_mutex_lock(m);
        bench_clobber();
        pthread_mutex_unlock(m);
        uint64_t start = bench_now_ns();
        if (munmap(p, span) != 0)
            bench_die(prog, "munmap", errno);
        t[i] = bench_now_ns() - start;
    }
    qsort(t, repeats, sizeof *t, cmp_u64);
    uint64_t med = t[repeats / 2];
    free(t);
    return med;
}

int main(int argc, char **argv)
{
    unsigned repeats = 21;
    int opt;

    while ((opt = getopt(argc, argv, "r:")) != -1) {
        switch (opt) {
        case 'r': repeats = (unsigned)bench_number(prog, 'r', optarg, 1, 100000); break;
        default:
            fprintf(stderr, "usage: %s [-r REPEATS]\n", prog);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
        return 2;
    }
    uint64_t g = unmap_ns((size_t)1 << 30, repeats);
    uint64_t t = unmap_ns((size_t)1 << 40, repeats);
    printf("bench=munmap repeats=%u ns_1g=%llu ns_1t=%llu ratio=%.2f ns_per_op=%llu\n", repeats,
           (unsigned long long)g, (unsigned long long)t, g ? (double)t / (double)g : 0.0,
           (unsigned long long)t);
    return 0;
}
