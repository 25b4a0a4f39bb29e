/*
 * registry.c - the address table behind lw_registry_* (see registry.h).
 *
 * The table is an lw_lfmap (lock-free reads); records are never given back
 * to the allocator, so a reader may find a stale record but never foreign
 * memory: it validates the record's address and id.
 */
#include "registry.h"

#include "class.h"

#include "alloc.h"
#include "lfmap.h"
#include "pages.h"
#include "types.h"
#include "u64map.h"
#include "lw_uthash.h"

static lw_ilock_t reg_lock = LW_ILOCK_INIT;
static lw_lfmap_t table; /* address -> record; written under reg_lock */
static lw_lock_t *free_records;
static _Atomic uint64_t next_id = 1;
static uint64_t live_count, created_count, record_bytes;
static _Atomic uint64_t retired_count;

/* Declarations made for an address where no lock lives yet; under reg_lock. */
struct pending {
  uintptr_t addr; /* the key */
  unsigned what;
  const char *name;
  int32_t rank;
  unsigned rank_flags;
  UT_hash_handle hh;
};
static struct pending *pendings;
static _Atomic uint32_t npending; /* read without the lock: 0 means nothing to look up */

static void apply(lw_lock_t *rec, unsigned what, const char *name, int32_t rank,
                  unsigned rank_flags) {
  if (what & LW_ANNOTATE_NAME) __atomic_store_n(&rec->name, name, __ATOMIC_RELEASE);
  if (what & LW_ANNOTATE_RANK) {
    rec->rank_flags = (uint8_t)rank_flags;
    __atomic_store_n(&rec->rank, rank, __ATOMIC_RELAXED);
  }
}

/* A new record at addr takes the declarations waiting for it; caller holds reg_lock. */
static void adopt_pending(lw_lock_t *rec, uintptr_t addr) {
  struct pending *p;
  HASH_FIND(hh, pendings, &addr, sizeof addr, p);
  if (!p) return;
  apply(rec, p->what, p->name, p->rank, p->rank_flags);
  HASH_DEL(pendings, p);
  lw_free(p, sizeof *p);
  atomic_fetch_sub_explicit(&npending, 1, memory_order_relaxed);
}

bool lw_registry_annotate(uintptr_t addr, unsigned what, const char *name, int32_t rank,
                          unsigned rank_flags) {
  bool ok = true;
  lw_ilock_acquire(&reg_lock);
  lw_lock_t *rec = (lw_lock_t *)lw_lfmap_get(&table, addr);
  if (rec && !atomic_load_explicit(&rec->id, memory_order_acquire)) rec = NULL; /* ended */
  if (rec) {
    apply(rec, what, name, rank, rank_flags);
  } else {
    struct pending *p;
    HASH_FIND(hh, pendings, &addr, sizeof addr, p);
    if (!p && (p = lw_alloc(sizeof *p))) {
      p->addr = addr;
      p->what = 0;
      lw_uthash_oom = 0;
      HASH_ADD(hh, pendings, addr, sizeof p->addr, p);
      if (lw_uthash_oom) {
        lw_free(p, sizeof *p);
        p = NULL;
      } else {
        atomic_fetch_add_explicit(&npending, 1, memory_order_relaxed);
      }
    }
    if (p) {
      p->what |= what;
      if (what & LW_ANNOTATE_NAME) p->name = name;
      if (what & LW_ANNOTATE_RANK) {
        p->rank = rank;
        p->rank_flags = rank_flags;
      }
    }
    ok = p != NULL;
  }
  lw_ilock_release(&reg_lock);
  return ok;
}

void lw_registry_forget_pending(uintptr_t lo, uintptr_t hi) {
  if (!atomic_load_explicit(&npending, memory_order_relaxed)) return;
  struct pending *p, *tmp;
  lw_ilock_acquire(&reg_lock);
  HASH_ITER(hh, pendings, p, tmp) {
    if (p->addr < lo || p->addr >= hi) continue;
    HASH_DEL(pendings, p);
    lw_free(p, sizeof *p);
    atomic_fetch_sub_explicit(&npending, 1, memory_order_relaxed);
  }
  lw_ilock_release(&reg_lock);
}

uint64_t lw_registry_retired(void) { return atomic_load_explicit(&retired_count, memory_order_relaxed); }

lw_lock_t *lw_registry_find(uintptr_t addr, uint64_t *id) {
  lw_lock_t *rec = (lw_lock_t *)lw_lfmap_get(&table, addr);
  if (!rec) return NULL;
  uint64_t a = atomic_load_explicit(&rec->id, memory_order_acquire);
  if (a == 0 || atomic_load_explicit(&rec->addr, memory_order_acquire) != addr) return NULL;
  if (atomic_load_explicit(&rec->id, memory_order_acquire) != a) return NULL;
  *id = a;
  return rec;
}

lw_lock_t *lw_registry_get(uintptr_t addr, unsigned type, unsigned kind, uint32_t create_stack,
                           uint64_t *id) {
  return lw_registry_get_in(addr, type, kind, create_stack, NULL, id);
}

lw_lock_t *lw_registry_get_in(uintptr_t addr, unsigned type, unsigned kind, uint32_t create_stack,
                              struct lw_class *cls, uint64_t *id) {
  lw_lock_t *rec = lw_registry_find(addr, id);
  if (rec) return rec;
  return lw_registry_make(addr, type, kind, create_stack, cls, id);
}

lw_lock_t *lw_registry_make(uintptr_t addr, unsigned type, unsigned kind, uint32_t create_stack,
                            struct lw_class *cls, uint64_t *id) {
  lw_ilock_acquire(&reg_lock);
  lw_lock_t *rec = (lw_lock_t *)lw_lfmap_get(&table, addr);
  uint64_t old = rec ? atomic_load_explicit(&rec->id, memory_order_acquire) : 0;
  if (old) {
    *id = old;
    lw_ilock_release(&reg_lock);
    return rec;
  }
  /* an ended record still in the table (lw_registry_kill) is replaced, and buried by its ender */
  bool replace = rec != NULL;
  rec = free_records;
  if (rec) {
    free_records = rec->next_free;
  } else if ((rec = lw_alloc(sizeof *rec))) {
    record_bytes += sizeof *rec;
  }
  if (rec) {
    /* ids are handed out under reg_lock only: a plain increment, no atomic read-modify-write */
    uint64_t nid = atomic_load_explicit(&next_id, memory_order_relaxed);
    atomic_store_explicit(&next_id, nid + 1, memory_order_relaxed);
    rec->type = (uint8_t)type;
    rec->kind = (uint8_t)kind;
    rec->create_stack = create_stack;
    rec->cls = cls;
    atomic_store_explicit(&rec->users, 0, memory_order_relaxed);
    rec->next_free = NULL;
    rec->name = NULL;
    rec->rank = LW_RANK_NONE;
    rec->rank_flags = 0;
    if (atomic_load_explicit(&npending, memory_order_relaxed)) adopt_pending(rec, addr);
    lw_graph_node_init(&rec->node, nid, (kind & LW_KIND_READER_PREF) != 0);
    atomic_store_explicit(&rec->addr, addr, memory_order_relaxed);
    atomic_store_explicit(&rec->id, nid, memory_order_release);
    if (lw_lfmap_put(&table, addr, (uintptr_t)rec)) {
      if (!replace) lw_pages_add(addr);
      live_count++;
      created_count++;
      if (cls) /* counted under reg_lock too */
        atomic_store_explicit(&cls->instances,
                              atomic_load_explicit(&cls->instances, memory_order_relaxed) + 1,
                              memory_order_relaxed);
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

bool lw_registry_kill(lw_lock_t *rec, uint64_t id) {
  return atomic_compare_exchange_strong_explicit(&rec->id, &id, 0, memory_order_acq_rel,
                                                 memory_order_relaxed);
}

void lw_registry_bury(lw_lock_t *const *recs, const uintptr_t *addrs, uint32_t n) {
  if (!n) return;
  lw_ilock_acquire(&reg_lock);
  for (uint32_t i = 0; i < n; i++) {
    if (lw_lfmap_get(&table, addrs[i]) == (uintptr_t)recs[i]) { /* not replaced meanwhile */
      lw_lfmap_remove(&table, addrs[i]);
      lw_pages_remove(addrs[i]);
    }
    live_count--;
    recs[i]->next_free = free_records;
    free_records = recs[i];
  }
  lw_ilock_release(&reg_lock);
  atomic_fetch_add_explicit(&retired_count, n, memory_order_relaxed);
}

void lw_registry_stats(uint64_t *live, uint64_t *created, uint64_t *bytes) {
  lw_ilock_acquire(&reg_lock);
  *live = live_count;
  *created = created_count;
  *bytes = table.bytes + record_bytes + lw_pages_bytes();
  lw_ilock_release(&reg_lock);
}

void lw_registry_fork_prepare(void) { lw_ilock_acquire(&reg_lock); }
void lw_registry_fork_parent(void) { lw_ilock_release(&reg_lock); }
void lw_registry_fork_child(void) { lw_ilock_reset(&reg_lock); }
