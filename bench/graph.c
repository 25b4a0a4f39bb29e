/*
 * graph.c - build a big lock-order graph: L locks and E distinct orders.
 *
 * One thread takes E distinct pairs (i, j), i < j: it locks m[i], then m[j]
 * while holding m[i], then unlocks both, each pair once. Every order is
 * increasing, so the graph has no cycle; what a checker spends is the cost
 * of learning E new orders, and of checking each one that contradicts the
 * orders it has seen so far for a cycle.
 *
 *   graph [-l LOCKS] [-e EDGES] [-s SEED] [-o random|chain|ordered]
 *
 * -o chooses the pairs and the order they are taken in (fixed seed):
 *   random   (default) E pairs chosen pseudo-randomly, in that order.
 *   chain    the L-1 "chain" pairs (i, i+1) plus pseudo-random ones,
 *            shuffled. The chain makes long paths, so a checker that keeps
 *            a topological order of its graph (numbering locks as they first
 *            appear in an order) has big regions to search and renumber
 *            each time a new order contradicts its numbering.
 *   ordered  the same pairs as chain, chain first: locks appear in index
 *            order, no new order ever contradicts it, and such a checker
 *            never has to search. The difference from chain (and, roughly,
 *            from random) is the cost of its searches and renumbering.
 *
 * Prints one line:
 *   bench=graph locks=L edges=E order=O ns_per_op=X seconds=S setup_seconds=U
 * seconds is the wall time of the E pairs (the timed phase), ns_per_op that
 * time divided by E; setup_seconds is choosing the pairs and initialising
 * the locks, untimed.
 */
#include "bench.h"

#include <getopt.h>

static const char *prog = "graph";

/* xorshift64*: a small deterministic generator; never returns the same state twice in a row. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/*
 * A set of pair keys (i << 32 | j), open addressed with linear probing;
 * key 0 never occurs since i < j means j > 0. Returns true if `key` was
 * added, false if it was already there. `mask` is the capacity minus one.
 */
static bool set_add(uint64_t *slots, uint64_t mask, uint64_t key)
{
    uint64_t h = (key * 0x9E3779B97F4A7C15ULL) >> 20;

    for (;; h++) {
        uint64_t *s = &slots[h & mask];
        if (*s == key)
            return false;
        if (*s == 0) {
            *s = key;
            return true;
        }
    }
}

int main(int argc, char **argv)
{
    unsigned long nlocks = 16000, nedges = 250000, seed = 42;
    const char *order = "random";
    int opt;

    while ((opt = getopt(argc, argv, "l:e:s:o:")) != -1) {
        switch (opt) {
        case 'l': nlocks = bench_number(prog, 'l', optarg, 2, 1UL << 31); break;
        case 'e': nedges = bench_number(prog, 'e', optarg, 1, 1UL << 31); break;
        case 's': seed = bench_number(prog, 's', optarg, 1, ~0UL); break;
        case 'o':
            if (strcmp(optarg, "random") == 0 || strcmp(optarg, "chain") == 0 ||
                strcmp(optarg, "ordered") == 0) {
                order = optarg;
                break;
            }
            fprintf(stderr, "%s: -o wants random, chain or ordered, not '%s'\n", prog, optarg);
            return 2;
        default:
            fprintf(stderr, "usage: %s [-l LOCKS] [-e EDGES] [-s SEED] [-o random|chain|ordered]\n", prog);
            return 2;
        }
    }
    bool chain = strcmp(order, "random") != 0, shuffled = strcmp(order, "chain") == 0;
    if (chain && nedges < nlocks - 1) {
        fprintf(stderr, "%s: -e must be at least the number of locks minus one (%lu)\n",
                prog, nlocks - 1);
        return 2;
    }
    if ((double)nedges > (double)nlocks * (double)(nlocks - 1) / 2 * 0.5) {
        fprintf(stderr, "%s: %lu edges is too many for %lu locks (at most half of all pairs)\n",
                prog, nedges, nlocks);
        return 2;
    }

    uint64_t setup = bench_now_ns();
    uint64_t state = seed;
    uint64_t mask = 1;
    while (mask < nedges * 2)
        mask <<= 1;
    uint64_t *set = calloc(mask, sizeof *set);
    uint32_t (*pairs)[2] = malloc(nedges * sizeof *pairs);
    pthread_mutex_t *locks = malloc(nlocks * sizeof *locks);
    if (!set || !pairs || !locks)
        bench_die(prog, "allocation", errno);
    mask -= 1;
    unsigned long count = 0;
    for (uint32_t i = 0; chain && i + 1 < nlocks; i++, count++) {
        set_add(set, mask, (uint64_t)i << 32 | (i + 1));
        pairs[count][0] = i;
        pairs[count][1] = i + 1;
    }
    while (count < nedges) {
        uint32_t i = (uint32_t)(next_random(&state) % nlocks);
        uint32_t j = (uint32_t)(next_random(&state) % nlocks);
        if (i == j)
            continue;
        if (i > j) {
            uint32_t t = i;
            i = j;
            j = t;
        }
        if (set_add(set, mask, (uint64_t)i << 32 | j)) {
            pairs[count][0] = i;
            pairs[count][1] = j;
            count++;
        }
    }
    free(set);

    if (shuffled) {
        for (unsigned long n = nedges - 1; n > 0; n--) { /* Fisher-Yates */
            unsigned long k = (unsigned long)(next_random(&state) % (n + 1));
            uint32_t i = pairs[n][0], j = pairs[n][1];
            pairs[n][0] = pairs[k][0];
            pairs[n][1] = pairs[k][1];
            pairs[k][0] = i;
            pairs[k][1] = j;
        }
    }
    for (unsigned long i = 0; i < nlocks; i++) {
        int err = pthread_mutex_init(&locks[i], NULL);
        if (err)
            bench_die(prog, "pthread_mutex_init", err);
    }
    setup = bench_now_ns() - setup;

    uint64_t start = bench_now_ns();
    for (unsigned long n = 0; n < nedges; n++) {
        pthread_mutex_t *a = &locks[pairs[n][0]], *b = &locks[pairs[n][1]];
        pthread_mutex_lock(a);
        pthread_mutex_lock(b);
        bench_clobber();
        pthread_mutex_unlock(b);
        pthread_mutex_unlock(a);
    }
    uint64_t wall = bench_now_ns() - start;

    /*
     * The locks are neither destroyed nor freed: a checker's statistics at
     * exit then describe the whole graph.
     */
    printf("bench=graph locks=%lu edges=%lu order=%s ns_per_op=%.2f seconds=%.4f setup_seconds=%.4f\n",
           nlocks, nedges, order, (double)wall / (double)nedges,
           wall / 1e9, setup / 1e9);
    free(pairs);
    return 0;
}
