/*
 * lfmap.c - the lock-free-read map (see lfmap.h).
 */
#include "lfmap.h"

#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "u64map.h"

struct slot {
  _Atomic uintptr_t key;
  _Atomic uintptr_t val;
};

struct lw_lfmap_table {
  uint32_t mask;
  uint32_t used; /* live + tombstones */
  struct lw_lfmap_table *next_spare;
  struct slot slots[];
};

static uint32_t home(uintptr_t key, uint32_t mask) { return (uint32_t)lw_u64_mix(key) & mask; }

uintptr_t lw_lfmap_get(lw_lfmap_t *m, uintptr_t key) {
  struct lw_lfmap_table *t = atomic_load_explicit(&m->current, memory_order_acquire);
  if (!t) return 0;
  uint32_t mask = t->mask;
  for (uint32_t i = home(key, mask), n = 0; n <= mask; i = (i + 1) & mask, n++) {
    uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
    if (k == key) {
      uintptr_t v = atomic_load_explicit(&t->slots[i].val, memory_order_acquire);
      /* the slot may have been reused meanwhile: trust the value only if the key stayed */
      return atomic_load_explicit(&t->slots[i].key, memory_order_acquire) == key ? v : 0;
    }
    if (k == 0) return 0;
  }
  return 0;
}

static size_t table_size(uint32_t cap) {
  return sizeof(struct lw_lfmap_table) + (size_t)cap * sizeof(struct slot);
}

/* A zeroed table of cap slots, from the spares if one fits. */
static struct lw_lfmap_table *table_new(lw_lfmap_t *m, uint32_t cap) {
  for (struct lw_lfmap_table **p = &m->spares; *p; p = &(*p)->next_spare) {
    struct lw_lfmap_table *t = *p;
    if (t->mask + 1 != cap) continue;
    *p = t->next_spare;
    /* a reader still here sees empty slots (a miss) while the table is rebuilt */
    for (uint32_t i = 0; i < cap; i++) {
      atomic_store_explicit(&t->slots[i].key, 0, memory_order_relaxed);
      atomic_store_explicit(&t->slots[i].val, 0, memory_order_relaxed);
    }
    t->used = 0;
    t->next_spare = NULL;
    return t;
  }
  struct lw_lfmap_table *t = lw_alloc(table_size(cap));
  if (!t) return NULL;
  m->bytes += table_size(cap);
  t->mask = cap - 1;
  return t;
}

static void insert_raw(struct lw_lfmap_table *t, uintptr_t key, uintptr_t val) {
  uint32_t i = home(key, t->mask);
  for (;; i = (i + 1) & t->mask) {
    uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    if (k == 0 || k == LW_LFMAP_TOMB) break;
  }
  if (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed) == 0) t->used++;
  atomic_store_explicit(&t->slots[i].val, val, memory_order_release);
  atomic_store_explicit(&t->slots[i].key, key, memory_order_release);
}

/* Moves the live entries to a table sized for them; keeps the old table as a spare. */
static bool rebuild(lw_lfmap_t *m) {
  struct lw_lfmap_table *old = atomic_load_explicit(&m->current, memory_order_relaxed);
  uint32_t cap = 256;
  while ((uint64_t)cap < (m->live + 1) * 4) cap *= 2;
  struct lw_lfmap_table *t = table_new(m, cap);
  if (!t) return false;
  for (uint32_t i = 0; old && i <= old->mask; i++) {
    uintptr_t k = atomic_load_explicit(&old->slots[i].key, memory_order_relaxed);
    if (k != 0 && k != LW_LFMAP_TOMB)
      insert_raw(t, k, atomic_load_explicit(&old->slots[i].val, memory_order_relaxed));
  }
  atomic_store_explicit(&m->current, t, memory_order_release);
  if (old) { /* a spare until a table of its size is needed again */
    old->next_spare = m->spares;
    m->spares = old;
  }
  return true;
}

/* Finds key's slot in the current table, or NULL. Writer side. */
static struct slot *find_slot(lw_lfmap_t *m, uintptr_t key) {
  struct lw_lfmap_table *t = atomic_load_explicit(&m->current, memory_order_relaxed);
  if (!t) return NULL;
  for (uint32_t i = home(key, t->mask);; i = (i + 1) & t->mask) {
    uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    if (k == key) return &t->slots[i];
    if (k == 0) return NULL;
  }
}

bool lw_lfmap_put(lw_lfmap_t *m, uintptr_t key, uintptr_t val) {
  struct slot *s = find_slot(m, key);
  if (s) {
    atomic_store_explicit(&s->val, val, memory_order_release);
    return true;
  }
  struct lw_lfmap_table *t = atomic_load_explicit(&m->current, memory_order_relaxed);
  if ((!t || (t->used + 1) * 2 > t->mask + 1) && !rebuild(m)) return false;
  insert_raw(atomic_load_explicit(&m->current, memory_order_relaxed), key, val);
  m->live++;
  return true;
}

uintptr_t lw_lfmap_remove(lw_lfmap_t *m, uintptr_t key) {
  struct slot *s = find_slot(m, key);
  if (!s) return 0;
  uintptr_t v = atomic_load_explicit(&s->val, memory_order_relaxed);
  atomic_store_explicit(&s->key, LW_LFMAP_TOMB, memory_order_release);
  m->live--;
  /*
   * When the next slot is empty, no probe goes past this one: it and the
   * tombstones just before it become empty again, so that churn at a few
   * addresses does not lengthen every search until the next rebuild. A
   * reader passing there looks for a key that is not further on anyway.
   */
  struct lw_lfmap_table *t = atomic_load_explicit(&m->current, memory_order_relaxed);
  uint32_t i = (uint32_t)(s - t->slots);
  if (atomic_load_explicit(&t->slots[(i + 1) & t->mask].key, memory_order_relaxed) == 0) {
    while (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed) == LW_LFMAP_TOMB) {
      atomic_store_explicit(&t->slots[i].key, 0, memory_order_release);
      t->used--;
      i = (i - 1) & t->mask;
    }
  }
  return v;
}
