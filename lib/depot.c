/*
 * depot.c - storage for interned word sequences (see depot.h). One lockwatch
 * lock per depot; used only on slow paths and at report time.
 */
#include "depot.h"

#include <string.h>

#include "alloc.h"
#include "u64map.h"

struct lw_depot_entry {
  uint64_t hash;
  uint32_t n;
  uintptr_t v[];
};

static uint64_t hash_words(const uintptr_t *v, uint32_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  for (uint32_t i = 0; i < n; i++) h = lw_u64_mix(h ^ (uint64_t)v[i]) + i;
  return h | 1;
}

static size_t entry_size(uint32_t n) {
  return sizeof(struct lw_depot_entry) + (size_t)n * sizeof(uintptr_t);
}

/* Doubles the hash table; caller holds the lock. Returns 0 or -1. */
static int grow_slots(lw_depot_t *d) {
  uint32_t cap = d->slots ? (d->mask + 1) * 2 : 256;
  uint32_t *slots = lw_alloc((size_t)cap * sizeof *slots);
  if (!slots) return -1;
  for (uint32_t i = 0; d->slots && i <= d->mask; i++) {
    uint32_t id = d->slots[i];
    if (!id) continue;
    uint32_t j = (uint32_t)d->by_id[id - 1]->hash & (cap - 1);
    while (slots[j]) j = (j + 1) & (cap - 1);
    slots[j] = id;
  }
  if (d->slots) {
    lw_free(d->slots, (size_t)(d->mask + 1) * sizeof *slots);
    d->bytes -= (uint64_t)(d->mask + 1) * sizeof *slots;
  }
  d->bytes += (uint64_t)cap * sizeof *slots;
  d->slots = slots;
  d->mask = cap - 1;
  return 0;
}

uint32_t lw_depot_put(lw_depot_t *d, const uintptr_t *v, uint32_t n) {
  uint64_t h = hash_words(v, n);
  uint32_t id = 0;
  lw_ilock_acquire(&d->lock);
  if ((!d->slots || (uint64_t)(d->nids + 1) * 2 > (uint64_t)d->mask + 1) && grow_slots(d) != 0)
    goto out;
  uint32_t i = (uint32_t)h & d->mask;
  for (; d->slots[i]; i = (i + 1) & d->mask) {
    struct lw_depot_entry *e = d->by_id[d->slots[i] - 1];
    if (e->hash == h && e->n == n && (n == 0 || memcmp(e->v, v, n * sizeof *v) == 0)) {
      id = d->slots[i];
      goto out;
    }
  }
  if (d->nids == d->cap_ids) {
    uint32_t cap = d->cap_ids ? d->cap_ids * 2 : 256;
    void *p = lw_realloc(d->by_id, d->cap_ids * sizeof *d->by_id, cap * sizeof *d->by_id);
    if (!p) goto out;
    d->bytes += (cap - d->cap_ids) * sizeof *d->by_id;
    d->by_id = p;
    d->cap_ids = cap;
  }
  struct lw_depot_entry *e = lw_alloc(entry_size(n));
  if (!e) goto out;
  e->hash = h;
  e->n = n;
  if (n) memcpy(e->v, v, n * sizeof *v);
  d->bytes += entry_size(n);
  d->by_id[d->nids++] = e;
  id = d->nids;
  d->slots[i] = id;
out:
  lw_ilock_release(&d->lock);
  return id;
}

const uintptr_t *lw_depot_get(lw_depot_t *d, uint32_t id, uint32_t *n) {
  struct lw_depot_entry *e = NULL;
  lw_ilock_acquire(&d->lock);
  if (id && id <= d->nids) e = d->by_id[id - 1];
  lw_ilock_release(&d->lock);
  *n = e ? e->n : 0;
  return e ? e->v : NULL;
}

uint32_t lw_depot_count(lw_depot_t *d, uint64_t *bytes) {
  lw_ilock_acquire(&d->lock);
  uint32_t n = d->nids;
  if (bytes) *bytes = d->bytes;
  lw_ilock_release(&d->lock);
  return n;
}

lw_depot_t lw_stacks = LW_DEPOT_INIT;
