/*
 * registry.h - lock identity: lock address -> lock record.
 *
 * A record's id is never reused. Lookups take no lock; creating and retiring
 * records take the registry lock. A retired record goes back to a free list
 * and is later reused with a new id, so a pointer to a record is always
 * readable, but callers check the id they saw before trusting it.
 */
#ifndef LW_REGISTRY_H
#define LW_REGISTRY_H

#include <stdatomic.h>
#include <stdint.h>

#include "graph.h"

typedef struct lw_lock {
  _Atomic uint64_t id; /* 0 while free */
  _Atomic uintptr_t addr;
  uint8_t type; /* enum lw_type */
  uint8_t kind; /* LW_KIND_* */
  uint32_t create_stack;
  _Atomic uint32_t foreign_unlocks; /* unlocks by a thread that did not hold it */
  lw_node_t node; /* in the lock-order graph */
  struct lw_lock *next_free;
  /* profile=1: made when first needed, kept (zeroed) across the record's identities */
  struct lw_prof *_Atomic prof;
} lw_lock_t;

/*
 * Finds the live record of addr without locking. Returns it and stores its
 * id in *id, or returns NULL if addr has no live record.
 */
lw_lock_t *lw_registry_find(uintptr_t addr, uint64_t *id);

/*
 * Returns the live record of addr, creating it (with type, kind and
 * create_stack) when there is none. Returns NULL when memory is exhausted.
 */
lw_lock_t *lw_registry_get(uintptr_t addr, unsigned type, unsigned kind, uint32_t create_stack,
                           uint64_t *id);

/*
 * Unlinks the live record of addr (if any) from the address table and
 * returns it, still carrying its id. The caller then, holding the graph
 * lock, clears the id and removes the node from the graph (so no edge can
 * be added to it afterwards), and finally calls lw_registry_recycle.
 * Returns NULL if addr had no record.
 */
lw_lock_t *lw_registry_unlink(uintptr_t addr);

/* Puts a record whose id is already 0 and whose node left the graph on the free list. */
void lw_registry_recycle(lw_lock_t *rec);

/* Number of identities ended so far (lock-free). */
uint64_t lw_registry_retired(void);

/* Number of live records, of records ever created, and bytes used. */
void lw_registry_stats(uint64_t *live, uint64_t *created, uint64_t *bytes);

/* Fork hooks. */
void lw_registry_fork_prepare(void);
void lw_registry_fork_parent(void);
void lw_registry_fork_child(void);

#endif
