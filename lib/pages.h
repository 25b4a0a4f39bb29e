/*
 * pages.h - which memory pages hold the start of a live lock.
 *
 * Lets a wrapper of free, realloc and munmap tell in a few loads whether the
 * memory being released can hold a lock (whose identity must then end, as
 * if destroyed). Reads take no lock; writes happen under the registry lock.
 */
#ifndef LW_PAGES_H
#define LW_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_PAGE_SHIFT 12

/* A live lock starts at addr. Caller holds the registry lock. */
void lw_pages_add(uintptr_t addr);

/* The live lock at addr ends. Caller holds the registry lock. */
void lw_pages_remove(uintptr_t addr);

/* Number of pages holding live locks (0 makes every query trivially false). */
uint64_t lw_pages_live(void);

/* Does the page of addr hold the start of a live lock? */
bool lw_pages_has(uintptr_t addr);

/* Bytes used by the page table. */
uint64_t lw_pages_bytes(void);

#endif
