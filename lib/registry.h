/*
 * registry.h - lock identity: lock address -> lock record.
 *
 * A record's id is never reused. Lookups take no lock; creating and retiring
 * records take the registry lock. A retired record goes back to a free list
 * and is later reused with a new id, so a pointer to a record is always
 * readable, but callers check the id they saw before trusting it. Ending
 * an identity takes no lock (lw_registry_kill); the record leaves the table
 * later, in a batch (lw_registry_bury), or is replaced there by the next
 * lock made at its address.
 */
#ifndef LW_REGISTRY_H
#define LW_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "graph.h"

typedef struct lw_lock {
  _Atomic uint64_t id; /* 0 while free */
  _Atomic uintptr_t addr;
  uint8_t type; /* enum lw_type */
  uint8_t kind; /* LW_KIND_* */
  uint32_t create_stack;
  _Atomic uint32_t foreign_unlocks; /* unlocks by a thread that did not hold it */
  struct lw_class *cls; /* its lock class (class.h), or NULL */
  _Atomic uint32_t users; /* semaphores: 0, 1 + the seq of the only thread that made or asked
                             for it, or LW_USERS_SHARED; other locks: 0, 1 + the seq of the
                             only thread that took it, or LW_USERS_SHARED */
  lw_node_t node; /* in the lock-order graph */
  struct lw_lock *next_free;
  /*
   * Last, so that the fields above keep their places. What the program
   * declared about this identity through the public header (lockwatch.h):
   * a name (interned, never freed; NULL if none) and a rank (LW_RANK_NONE
   * if none). Written under the registry lock, read with atomic loads
   * (lw_lock_name, lw_lock_rank).
   */
  const char *name;
  int32_t rank;
  uint8_t rank_flags; /* LW_RANK_NESTABLE */
  /* profile=1: made when first needed, kept (zeroed) across the record's identities */
  struct lw_prof *_Atomic prof;
} lw_lock_t;

/* lw_lock_t.users of a lock taken by more than one thread. */
#define LW_USERS_SHARED UINT32_MAX
/* No rank declared. */
#define LW_RANK_NONE (-1)
/* The largest rank a program may declare (ranks are 0 to this). */
#define LW_RANK_MAX 1000000000
/* Locks of the same rank declared with this flag may be held together. */
#define LW_RANK_NESTABLE 1u

static inline const char *lw_lock_name(const lw_lock_t *rec) {
  return __atomic_load_n(&rec->name, __ATOMIC_ACQUIRE);
}
static inline int32_t lw_lock_rank(const lw_lock_t *rec) {
  return __atomic_load_n(&rec->rank, __ATOMIC_RELAXED);
}

/* What lw_registry_annotate sets. */
enum { LW_ANNOTATE_NAME = 1u << 0, LW_ANNOTATE_RANK = 1u << 1 };

/*
 * Sets the name (interned by the caller, never freed) and/or the rank (with
 * rank_flags) of the live lock at addr, as `what` says. When no lock lives
 * at addr, keeps them for the first lock created there (a declaration made
 * before the lock is initialised or first used). Returns false only when
 * memory is exhausted (nothing kept).
 */
bool lw_registry_annotate(uintptr_t addr, unsigned what, const char *name, int32_t rank,
                          unsigned rank_flags);

/* Drops the declarations waiting for a lock in [lo, hi) (the memory was given back). */
void lw_registry_forget_pending(uintptr_t lo, uintptr_t hi);

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

/* As lw_registry_get, giving a record it creates the class cls (may be NULL). */
lw_lock_t *lw_registry_get_in(uintptr_t addr, unsigned type, unsigned kind, uint32_t create_stack,
                              struct lw_class *cls, uint64_t *id);

/*
 * As lw_registry_get_in, for a caller that just looked addr up without
 * finding a live record (a lock being initialised): skips that lookup.
 */
lw_lock_t *lw_registry_make(uintptr_t addr, unsigned type, unsigned kind, uint32_t create_stack,
                            struct lw_class *cls, uint64_t *id);

/*
 * Ends the identity id of rec, if it is still its identity: lookups no
 * longer find it, and a lock created at its address gets a new record.
 * Lock-free; of several callers ending the same identity, one alone gets
 * true and then owns the record: it removes the record's node from the
 * order graph (holding the graph lock, so no edge can be added to it
 * afterwards), then gives it to lw_registry_bury. Returns false when the
 * identity had already ended.
 */
bool lw_registry_kill(lw_lock_t *rec, uint64_t id);

/*
 * Takes records ended by lw_registry_kill (recs[i] was at addrs[i]) out of
 * the address table (unless a newer record replaced them there) and puts
 * them on the free list. One registry lock for all n.
 */
void lw_registry_bury(lw_lock_t *const *recs, const uintptr_t *addrs, uint32_t n);

/* Number of identities ended so far (lock-free). */
uint64_t lw_registry_retired(void);

/* Number of live records, of records ever created, and bytes used. */
void lw_registry_stats(uint64_t *live, uint64_t *created, uint64_t *bytes);

/* Fork hooks. */
void lw_registry_fork_prepare(void);
void lw_registry_fork_parent(void);
void lw_registry_fork_child(void);

#endif
