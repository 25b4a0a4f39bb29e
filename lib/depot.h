/*
 * depot.h - interned sequences of machine words, named by a 32-bit id.
 *
 * Stacks (return addresses) and held-lock sets (lock ids) are stored here
 * once each; reports and witnesses refer to them by id. Entries are never
 * freed, so a pointer returned by lw_depot_get stays valid for the run.
 */
#ifndef LW_DEPOT_H
#define LW_DEPOT_H

#include <stdint.h>

#include "lwlock.h"

typedef struct lw_depot {
  lw_ilock_t lock;
  struct lw_depot_entry **by_id; /* entry of id i at [i - 1] */
  uint32_t nids, cap_ids;
  uint32_t *slots; /* hash table of ids; 0 is empty */
  uint32_t mask;
  uint64_t bytes;
} lw_depot_t;

#define LW_DEPOT_INIT {LW_ILOCK_INIT, 0, 0, 0, 0, 0, 0}

/*
 * Stores the n words at v (n may be 0) and returns their id, the same id for
 * an equal sequence. Returns 0 when memory is exhausted.
 */
uint32_t lw_depot_put(lw_depot_t *d, const uintptr_t *v, uint32_t n);

/*
 * Returns the words of id and their number in *n, or NULL (and *n = 0) for
 * id 0 or an unknown id.
 */
const uintptr_t *lw_depot_get(lw_depot_t *d, uint32_t id, uint32_t *n);

/* Returns the number of sequences stored and, in *bytes, their memory. */
uint32_t lw_depot_count(lw_depot_t *d, uint64_t *bytes);



/* The run's depot of stacks (return addresses). */
extern lw_depot_t lw_stacks;
#endif
