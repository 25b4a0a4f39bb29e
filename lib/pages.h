/*
 * pages.h - which memory pages hold the start of a live lock.
 *
 * Lets a wrapper of free, realloc and munmap tell in a few loads whether the
 * memory being released can hold a lock (whose identity must then end, as
 * if destroyed). Above the pages, a summary tree (each node a bitmap of
 * which of its 512 children hold locks) lets a release of any length visit
 * only the populated parts of its range: its cost follows the pages that
 * hold locks, not the length. Reads take no lock; writes happen under the
 * registry lock.
 */
#ifndef LW_PAGES_H
#define LW_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_PAGE_SHIFT 12
#define LW_GRANULE_SHIFT 3 /* a page's locks are noted per 8 bytes */
#define LW_PAGE_GRANULES (1u << (LW_PAGE_SHIFT - LW_GRANULE_SHIFT))

/* A live lock starts at addr. Caller holds the registry lock. */
void lw_pages_add(uintptr_t addr);

/* The live lock at addr ends. Caller holds the registry lock. */
void lw_pages_remove(uintptr_t addr);

/* Number of pages holding live locks (0 makes every query trivially false). */
uint64_t lw_pages_live(void);

/*
 * Stores in out the addresses, within [lo, hi) (one page at most), where a
 * live lock may start, and returns their number (at most 2 *
 * LW_PAGE_GRANULES; 4-byte-aligned candidates of the granules marked).
 * Lock-free: a lock made or ended meanwhile may be missed or listed.
 */
uint32_t lw_pages_find(uintptr_t lo, uintptr_t hi, uintptr_t *out);

/*
 * Calls fn(arg, addr) for every address within [lo, hi) where a live lock
 * may start (as lw_pages_find, over a range of any length), visiting only
 * the summary nodes and pages that hold locks. Lock-free, with the same
 * staleness as lw_pages_find: callers validate each address.
 */
void lw_pages_scan(uintptr_t lo, uintptr_t hi, void (*fn)(void *arg, uintptr_t addr), void *arg);

/* Bytes used by the page table. */
uint64_t lw_pages_bytes(void);

#endif
