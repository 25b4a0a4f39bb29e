/*
 * pages.c - a counted set of page numbers (see pages.h), open-addressed,
 * read without locks. A count that drops to zero stays in the table until
 * the next rebuild; rebuilt tables are published and the old ones kept, as
 * in registry.c.
 */
#include "pages.h"

#include <stdatomic.h>

#include "alloc.h"
#include "u64map.h"

struct pslot {
  _Atomic uint64_t key; /* page number + 1; 0 is empty */
  _Atomic uint32_t count;
};

struct ptable {
  uint32_t mask, used;
  struct ptable *older;
  struct pslot slots[];
};

static struct ptable *_Atomic current;
static _Atomic uint64_t live_pages;
static uint64_t bytes;

static uint64_t page_key(uintptr_t addr) { return ((uint64_t)addr >> LW_PAGE_SHIFT) + 1; }

static struct pslot *find(struct ptable *t, uint64_t key) {
  for (uint32_t i = (uint32_t)lw_u64_mix(key) & t->mask;; i = (i + 1) & t->mask) {
    uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
    if (k == key) return &t->slots[i];
    if (k == 0) return NULL;
  }
}

/* Rebuilds with room for one more; drops empty pages. Returns false on OOM. */
static bool rebuild(void) {
  struct ptable *t = atomic_load_explicit(&current, memory_order_relaxed);
  uint32_t cap = 256;
  while ((uint64_t)cap < (atomic_load(&live_pages) + 1) * 4) cap *= 2;
  size_t size = sizeof(struct ptable) + cap * sizeof(struct pslot);
  struct ptable *n = lw_alloc(size);
  if (!n) return false;
  bytes += size;
  n->mask = cap - 1;
  for (uint32_t i = 0; t && i <= t->mask; i++) {
    uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    uint32_t c = atomic_load_explicit(&t->slots[i].count, memory_order_relaxed);
    if (!k || !c) continue;
    uint32_t j = (uint32_t)lw_u64_mix(k) & n->mask;
    while (atomic_load_explicit(&n->slots[j].key, memory_order_relaxed)) j = (j + 1) & n->mask;
    atomic_store_explicit(&n->slots[j].count, c, memory_order_relaxed);
    atomic_store_explicit(&n->slots[j].key, k, memory_order_relaxed);
    n->used++;
  }
  n->older = t;
  atomic_store_explicit(&current, n, memory_order_release);
  return true;
}

void lw_pages_add(uintptr_t addr) {
  uint64_t key = page_key(addr);
  struct ptable *t = atomic_load_explicit(&current, memory_order_relaxed);
  struct pslot *s = t ? find(t, key) : NULL;
  if (!s) {
    if ((!t || (t->used + 1) * 2 > t->mask + 1) && !rebuild()) return;
    t = atomic_load_explicit(&current, memory_order_relaxed);
    uint32_t i = (uint32_t)lw_u64_mix(key) & t->mask;
    while (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed)) i = (i + 1) & t->mask;
    s = &t->slots[i];
    atomic_store_explicit(&s->key, key, memory_order_release);
    t->used++;
  }
  if (atomic_fetch_add_explicit(&s->count, 1, memory_order_release) == 0)
    atomic_fetch_add_explicit(&live_pages, 1, memory_order_relaxed);
}

void lw_pages_remove(uintptr_t addr) {
  struct ptable *t = atomic_load_explicit(&current, memory_order_relaxed);
  struct pslot *s = t ? find(t, page_key(addr)) : NULL;
  if (!s || atomic_load_explicit(&s->count, memory_order_relaxed) == 0) return;
  if (atomic_fetch_sub_explicit(&s->count, 1, memory_order_release) == 1)
    atomic_fetch_sub_explicit(&live_pages, 1, memory_order_relaxed);
}

uint64_t lw_pages_live(void) { return atomic_load_explicit(&live_pages, memory_order_relaxed); }

bool lw_pages_has(uintptr_t addr) {
  struct ptable *t = atomic_load_explicit(&current, memory_order_acquire);
  struct pslot *s = t ? find(t, page_key(addr)) : NULL;
  return s && atomic_load_explicit(&s->count, memory_order_acquire) > 0;
}

uint64_t lw_pages_bytes(void) { return bytes; }
