/*
 * heldset.h - the sets of locks a thread held when it made an order, shared
 * by prefix.
 *
 * A thread's held stack A, B, C is the chain C -> B -> A of nodes; every
 * stack that starts with A, B shares their nodes, so 1,000 nested locks
 * cost 1,000 nodes, not half a million ids. Nodes are reference counted:
 * held entries own theirs, and so do the graph's witnesses, so a set lives
 * as long as something names it and no longer (locks that come and go do
 * not pile up sets).
 */
#ifndef LW_HELDSET_H
#define LW_HELDSET_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct lw_hset {
  struct lw_hset *parent; /* the set without the top lock; NULL for one lock */
  uint64_t id;            /* the top lock's id */
  _Atomic uint32_t refs;
  uint32_t size;          /* number of locks in the set */
} lw_hset_t;

/* Makes the set parent + id with one reference (taking one on parent); NULL on OOM. */
lw_hset_t *lw_hset_push(lw_hset_t *parent, uint64_t id);

static inline lw_hset_t *lw_hset_ref(lw_hset_t *s) {
  if (s) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
  return s;
}

/* Drops a reference; frees the node (and releases its parent) at zero. NULL is fine. */
void lw_hset_unref(lw_hset_t *s);

/* Writes the set's ids, oldest first, into out (room for max); returns the set's size. */
uint32_t lw_hset_ids(const lw_hset_t *s, uint64_t *out, uint32_t max);

#endif
