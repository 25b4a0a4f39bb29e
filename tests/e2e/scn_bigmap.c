/*
 * scn_bigmap.c - a lock in a huge mapping, and its address reused after
 * munmap.
 *
 * Maps 1 TiB of address space (MAP_NORESERVE: only the page touched is
 * memory), and uses the zeroed mutex A in its middle: A then G (a static
 * mutex). Then unmaps the whole range, maps it again at the same address
 * (MAP_FIXED_NOREPLACE) and takes G then the mutex A2 at A's address: a new
 * lock (the memory was given back), so the two orders make no cycle and the
 * run is silent. With --keep the range is not unmapped but A's memory is
 * zeroed again: A2 is then A itself and the orders A -> G, G -> A2 are an
 * inversion (the detection twin: the same program would report if the
 * release were missed).
 *
 * Exit status 0 (99 if a call fails or the address cannot be had again).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "scn_util.h"

#define SPAN ((size_t)1 << 40)

static pthread_mutex_t g = PTHREAD_MUTEX_INITIALIZER;

static char *map(void *at)
{
    int fixed = at ? MAP_FIXED_NOREPLACE : 0;
    void *p = mmap(at, SPAN, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed, -1, 0);
    if (p == MAP_FAILED || (at && p != at)) {
        perror("scn_bigmap: mmap");
        return NULL;
    }
    return p;
}

int main(int argc, char **argv)
{
    int keep = scn_flag(argc, argv, "--keep");
    char *base = map(NULL);

    if (!base)
        return SCN_FAILED;
    pthread_mutex_t *a = (pthread_mutex_t *)(base + SPAN / 2 + 64);
    SCN_CHECK(pthread_mutex_lock(a)); /* LW:bigmap-a */
    SCN_CHECK(pthread_mutex_lock(&g)); /* LW:bigmap-g-after-a */
    SCN_CHECK(pthread_mutex_unlock(&g));
    SCN_CHECK(pthread_mutex_unlock(a));
    if (keep) {
        memset(a, 0, sizeof *a);
    } else {
        if (munmap(base, SPAN) != 0) {
            perror("scn_bigmap: munmap");
            return SCN_FAILED;
        }
        if (map(base) != base)
            return SCN_FAILED;
    }
    pthread_mutex_t *a2 = (pthread_mutex_t *)(base + SPAN / 2 + 64);
    SCN_CHECK(pthread_mutex_lock(&g)); /* LW:bigmap-g */
    SCN_CHECK(pthread_mutex_lock(a2)); /* LW:bigmap-a2-after-g */
    SCN_CHECK(pthread_mutex_unlock(a2));
    SCN_CHECK(pthread_mutex_unlock(&g));
    munmap(base, SPAN);
    printf("done\n");
    return 0;
}
