/*
 * heldset.c - reference-counted prefix-shared lock sets (see heldset.h).
 */
#include "heldset.h"

#include "alloc.h"

lw_hset_t *lw_hset_push(lw_hset_t *parent, uint64_t id) {
  lw_hset_t *s = lw_alloc(sizeof *s);
  if (!s) return NULL;
  s->parent = lw_hset_ref(parent);
  s->id = id;
  atomic_store_explicit(&s->refs, 1, memory_order_relaxed);
  s->size = parent ? parent->size + 1 : 1;
  return s;
}

void lw_hset_unref(lw_hset_t *s) {
  /* iterative: a long chain must not recurse deeply */
  while (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
    lw_hset_t *parent = s->parent;
    lw_free(s, sizeof *s);
    s = parent;
  }
}

uint32_t lw_hset_ids(const lw_hset_t *s, uint64_t *out, uint32_t max) {
  uint32_t n = s ? s->size : 0;
  for (uint32_t i = n; s && i-- > 0; s = s->parent)
    if (i < max) out[i] = s->id;
  return n;
}
