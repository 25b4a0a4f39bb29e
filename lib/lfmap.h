/*
 * lfmap.h - a hash map from machine words to machine words that readers
 * search without a lock while one writer at a time (the caller's lock)
 * changes it.
 *
 * Open addressing with linear probing. A writer publishes a slot's value
 * before its key; a removed key becomes a tombstone. When live and dead
 * slots fill half the table, the live entries move to a fresh table, which
 * is published. Tables are never given back to the allocator: a retired
 * table is kept for reuse by a later table of the same size, so a reader
 * still in it reads registry data, never foreign memory; what it finds may
 * be stale, so readers must validate values (the registry does). Memory:
 * at most two tables per size reached.
 */
#ifndef LW_LFMAP_H
#define LW_LFMAP_H

#include <stdbool.h>
#include <stdint.h>

struct lw_lfmap_table;

typedef struct lw_lfmap {
  struct lw_lfmap_table *_Atomic current;
  struct lw_lfmap_table *spares; /* retired tables, by size, for reuse */
  uint64_t live;
  uint64_t bytes;
} lw_lfmap_t;

/* Keys are never 0 or 1 (1 marks a tombstone). */
#define LW_LFMAP_TOMB ((uintptr_t)1)

/* Returns the value of key, or 0 if absent. Lock-free; the value may be stale. */
uintptr_t lw_lfmap_get(lw_lfmap_t *m, uintptr_t key);

/* Inserts or overwrites key. Caller serializes writers. Returns false on OOM. */
bool lw_lfmap_put(lw_lfmap_t *m, uintptr_t key, uintptr_t val);

/* Removes key; returns its value, or 0 if absent. Caller serializes writers. */
uintptr_t lw_lfmap_remove(lw_lfmap_t *m, uintptr_t key);

#endif
