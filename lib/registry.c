/*
 * registry.c - the address table behind lw_registry_* (see registry.h).
 *
 * Open addressing with linear probing. A slot publishes its value before its
 * key; a deleted slot's key becomes LW_TOMB. When live plus dead slots pass
 * half the capacity, a new table is built from the live entries and
 * published; the old one is kept (readers may still be in it) and its memory
 * is less than the new table's. Readers validate the record they find.
 */
#include "registry.h"

#include "alloc.h"
#include "pages.h"
#include "types.h"
#include "u64map.h"

#define LW_TOMB ((uintptr_t)1)

struct slot {
  _Atomic uintptr_t key;
  lw_lock_t *_Atomic val;
};

struct table {
  uint32_t mask;
  uint32_t used; /* live + tombstones */
  struct table *older;
  struct slot slots[];
};

static lw_ilock_t reg_lock = LW_ILOCK_INIT;
static struct table *_Atomic current;
static lw_lock_t *free_records;
static _Atomic uint64_t next_id = 1;
static uint64_t live_count, created_count, table_bytes, record_bytes;

static uint32_t home(uintptr_t addr, uint32_t mask) {
  return (uint32_t)lw_u64_mix((uint64_t)addr) & mask;
}

/* Looks addr up in t; returns the record or NULL. */
static lw_lock_t *table_lookup(struct table *t, uintptr_t addr) {
  for (uint32_t i = home(addr, t->mask);; i = (i + 1) & t->mask) {
    uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
    if (k == addr) return atomic_load_explicit(&t->slots[i].val, memory_order_relaxed);
    if (k == 0) return NULL;
  }
}

lw_lock_t *lw_registry_find(uintptr_t addr, uint64_t *id) {
  struct table *t = atomic_load_explicit(&current, memory_order_acquire);
  if (!t) return NULL;
  lw_lock_t *rec = table_lookup(t, addr);
  if (!rec) return NULL;
  uint64_t a = atomic_load_explicit(&rec->id, memory_order_acquire);
  if (a == 0 || atomic_load_explicit(&rec->addr, memory_order_acquire) != addr) return NULL;
  if (atomic_load_explicit(&rec->id, memory_order_acquire) != a) return NULL;
  *id = a;
  return rec;
}

static size_t table_size(uint32_t cap) { return sizeof(struct table) + cap * sizeof(struct slot); }

/* Builds a bigger table from t's live entries; caller holds reg_lock. */
static struct table *rebuild(struct table *t) {
  uint32_t cap = 1024;
  while (cap < (live_count + 1) * 4) cap *= 2;
  struct table *n = lw_alloc(table_size(cap));
  if (!n) return NULL;
  n->mask = cap - 1;
  table_bytes += table_size(cap);
  for (uint32_t i = 0; t && i <= t->mask; i++) {
    uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    if (k == 0 || k == LW_TOMB) continue;
    uint32_t j = home(k, n->mask);
    while (atomic_load_explicit(&n->slots[j].key, memory_order_relaxed)) j = (j + 1) & n->mask;
    atomic_store_explicit(&n->slots[j].val, atomic_load_explicit(&t->slots[i].val, memory_order_relaxed), memory_order_relaxed);
    atomic_store_explicit(&n->slots[j].key, k, memory_order_relaxed);
    n->used++;
  }
  n->older = t;
  atomic_store_explicit(&current, n, memory_order_release);
  return n;
}

/* Inserts rec under addr; caller holds reg_lock. Returns false on OOM. */
static bool insert(uintptr_t addr, lw_lock_t *rec) {
  struct table *t = atomic_load_explicit(&current, memory_order_relaxed);
  if (!t || (t->used + 1) * 2 > t->mask + 1) {
    if (!(t = rebuild(t))) return false;
  }
  uint32_t i = home(addr, t->mask);
  for (;; i = (i + 1) & t->mask) {
    uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    if (k == 0 || k == LW_TOMB) break;
  }
  if (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed) == 0) t->used++;
  atomic_store_explicit(&t->slots[i].val, rec, memory_order_relaxed);
  atomic_store_explicit(&t->slots[i].key, addr, memory_order_release);
  return true;
}

lw_lock_t *lw_registry_get(uintptr_t addr, unsigned type, unsigned kind, uint32_t create_stack,
                           uint64_t *id) {
  lw_lock_t *rec = lw_registry_find(addr, id);
  if (rec) return rec;
  lw_ilock_acquire(&reg_lock);
  struct table *t = atomic_load_explicit(&current, memory_order_relaxed);
  rec = t ? table_lookup(t, addr) : NULL;
  if (rec) {
    *id = atomic_load_explicit(&rec->id, memory_order_relaxed);
    lw_ilock_release(&reg_lock);
    return rec;
  }
  rec = free_records;
  if (rec) {
    free_records = rec->next_free;
  } else if ((rec = lw_alloc(sizeof *rec))) {
    record_bytes += sizeof *rec;
  }
  if (rec) {
    uint64_t nid = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
    rec->type = (uint8_t)type;
    rec->kind = (uint8_t)kind;
    rec->create_stack = create_stack;
    rec->next_free = NULL;
    lw_graph_node_init(&rec->node, nid, (kind & LW_KIND_READER_PREF) != 0);
    atomic_store_explicit(&rec->addr, addr, memory_order_relaxed);
    atomic_store_explicit(&rec->id, nid, memory_order_release);
    if (insert(addr, rec)) {
      lw_pages_add(addr);
      live_count++;
      created_count++;
      *id = nid;
    } else {
      atomic_store_explicit(&rec->id, 0, memory_order_relaxed);
      rec->next_free = free_records;
      free_records = rec;
      rec = NULL;
    }
  }
  lw_ilock_release(&reg_lock);
  return rec;
}

lw_lock_t *lw_registry_unlink(uintptr_t addr) {
  lw_lock_t *rec = NULL;
  lw_ilock_acquire(&reg_lock);
  struct table *t = atomic_load_explicit(&current, memory_order_relaxed);
  for (uint32_t i = t ? home(addr, t->mask) : 0; t; i = (i + 1) & t->mask) {
    uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    if (k == 0) break;
    if (k == addr) {
      rec = atomic_load_explicit(&t->slots[i].val, memory_order_relaxed);
      atomic_store_explicit(&t->slots[i].key, LW_TOMB, memory_order_release);
      lw_pages_remove(addr);
      live_count--;
      break;
    }
  }
  lw_ilock_release(&reg_lock);
  return rec;
}

void lw_registry_recycle(lw_lock_t *rec) {
  lw_ilock_acquire(&reg_lock);
  rec->next_free = free_records;
  free_records = rec;
  lw_ilock_release(&reg_lock);
}

void lw_registry_stats(uint64_t *live, uint64_t *created, uint64_t *bytes) {
  lw_ilock_acquire(&reg_lock);
  *live = live_count;
  *created = created_count;
  *bytes = table_bytes + record_bytes + lw_pages_bytes();
  lw_ilock_release(&reg_lock);
}

void lw_registry_fork_prepare(void) { lw_ilock_acquire(&reg_lock); }
void lw_registry_fork_parent(void) { lw_ilock_release(&reg_lock); }
void lw_registry_fork_child(void) { lw_ilock_reset(&reg_lock); }
