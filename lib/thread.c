/*
 * thread.c - creation, reuse and bookkeeping of per-thread state, and the
 * thread facts table. Thread states live on one list so that statistics
 * (and later, dumps and the deadlock detector) can walk them; a state freed
 * at thread exit is reused by the next new thread.
 */
#include "thread.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "lw_uthash.h"
#include "profile.h"

__thread struct lw_tls lw_tls __attribute__((tls_model("initial-exec")));
_Thread_local int lw_uthash_oom;

/*
 * An order this thread published: a slot of its table (open addressing,
 * linear probing, at most half full; to == 0 marks an empty slot, as no
 * live lock has id 0). 32 bytes, no allocation per order.
 */
struct lw_pub_slot {
  uint64_t from, to;
  uint64_t gate_sig; /* the gate candidates this thread last narrowed it with (a hash) */
  uint32_t pair;
  uint32_t gated; /* the edge's gate set was not empty when this thread last saw it */
};

static lw_ilock_t threads_lock = LW_ILOCK_INIT;
static lw_thread_t *all_threads, *free_threads;
static lw_thread_info_t *infos;
static uint32_t ninfos, cap_infos;
/* counters of released threads */
static uint64_t gone_acq, gone_fast;

/* Adds a facts entry; caller holds threads_lock. Returns its seq or LW_NO_SEQ. */
static uint32_t new_info(uint32_t parent, uint32_t create_stack) {
  if (ninfos == cap_infos) {
    uint32_t cap = cap_infos ? cap_infos * 2 : 64;
    void *p = lw_realloc(infos, cap_infos * sizeof *infos, cap * sizeof *infos);
    if (!p) return LW_NO_SEQ;
    infos = p;
    cap_infos = cap;
  }
  infos[ninfos] = (lw_thread_info_t){0, parent, create_stack, false};
  return ninfos++;
}

static void hb_created(uint32_t seq, uint32_t parent);

uint32_t lw_thread_new_seq(uint32_t parent, uint32_t create_stack) {
  lw_ilock_acquire(&threads_lock);
  uint32_t seq = new_info(parent, create_stack);
  lw_ilock_release(&threads_lock);
  if (seq != LW_NO_SEQ) hb_created(seq, parent);
  return seq;
}

lw_thread_t *lw_thread_create(uint32_t seq) {
  lw_ilock_acquire(&threads_lock);
  if (seq == LW_NO_SEQ || seq >= ninfos) seq = new_info(0, 0);
  lw_thread_t *t = NULL;
  if (seq != LW_NO_SEQ) {
    t = free_threads;
    if (t) {
      free_threads = t->next_free;
    } else if ((t = lw_alloc(sizeof *t))) {
      lw_u64map_init(&t->chains, false);
      lw_u64map_init(&t->sites, true);
      lw_u64map_init(&t->conds, false);
      lw_u64map_init(&t->classes, true);
      t->next_all = all_threads;
      all_threads = t;
    }
  }
  if (t) {
    if (!t->lcache) {
      t->lcache = t->lcache0;
      t->lcache_mask = LW_LCACHE_SIZE - 1;
    }
    t->seq = seq;
    t->tid = (pid_t)syscall(SYS_gettid);
    t->live = true;
    t->nheld = t->nholes = t->sets_from = 0;
    t->acquisitions = t->fast_hits = 0;
    t->next_tick = LW_TUNE_WINDOW; /* the core may bring it forward (profile samples) */
    infos[seq].tid = t->tid;
    infos[seq].alive = true;
  }
  lw_ilock_release(&threads_lock);
  return t;
}

/* Empties the order caches: the published edges and the chain cache. */
static void forget_orders(lw_thread_t *t) {
  if (t->pub) lw_free(t->pub, (size_t)(t->pub_mask + 1) * sizeof *t->pub);
  t->pub = NULL;
  t->pub_mask = t->pub_count = 0;
  lw_u64map_clear(&t->chains);
  memset(t->chain_front, 0, sizeof t->chain_front);
}

static void clear_caches(lw_thread_t *t) {
  forget_orders(t);
  lw_u64map_clear(&t->sites);
  lw_u64map_clear(&t->conds);
  lw_u64map_clear(&t->classes);
}

struct lw_old_held {
  struct lw_old_held *next;
  lw_held_t *held;
  uint32_t cap;
};

static void free_old_held(lw_thread_t *t) {
  while (t->old_held) {
    struct lw_old_held *o = t->old_held;
    t->old_held = o->next;
    lw_free(o->held, (size_t)o->cap * sizeof *o->held);
    lw_free(o, sizeof *o);
  }
}

void lw_thread_release(lw_thread_t *t) {
  clear_caches(t);
  memset(t->scache, 0, sizeof t->scache); /* call sites are this thread's, not the next one's */
  lw_ilock_acquire(&threads_lock); /* no deadlock search (or profile) may be reading t now */
  if (t->lcache != t->lcache0) {
    lw_free(t->lcache, (t->lcache_mask + 1) * sizeof *t->lcache);
    t->lcache = t->lcache0;
    t->lcache_mask = LW_LCACHE_SIZE - 1;
  }
  memset(t->lcache0, 0, sizeof t->lcache0);
  free_old_held(t);
  lw_held_clear(t);
  lw_free(t->held, (size_t)t->cap_held * sizeof *t->held);
  t->held = NULL;
  t->nheld = t->cap_held = 0;
  atomic_store(&t->wait_id, 0);
  gone_acq += t->acquisitions;
  gone_fast += t->fast_hits;
  if (t->seq < ninfos) infos[t->seq].alive = false;
  t->live = false;
  t->next_free = free_threads;
  free_threads = t;
  lw_ilock_release(&threads_lock);
}

void lw_thread_tune_lcache(lw_thread_t *t) {
  uint32_t misses = t->lcache_misses;
  t->lcache_misses = 0;
  uint32_t size = t->lcache_mask + 1;
  /* more than one miss in eight acquisitions over the last window: four times the room */
  if (misses < (LW_TUNE_WINDOW >> 3) || size >= LW_LCACHE_MAX) return;
  uint32_t nsize = size * 4;
  lw_lcache_t *n = lw_alloc(nsize * sizeof *n);
  if (!n) return;
  if (lw_profile_on) lw_profile_fold_thread(t, true); /* the counts in the entries left behind */
  /* under the threads lock: the profile at exit reads other threads' caches */
  lw_ilock_acquire(&threads_lock);
  lw_lcache_t *old = t->lcache;
  t->lcache = n; /* entries refill from the registry */
  t->lcache_mask = nsize - 1;
  if (old != t->lcache0) lw_free(old, size * sizeof *old);
  lw_ilock_release(&threads_lock);
}

bool lw_thread_reserve_held(lw_thread_t *t) {
  if (t->nheld < t->cap_held) return true;
  uint32_t cap = t->cap_held ? t->cap_held * 2 : 16;
  lw_held_t *p = lw_alloc((size_t)cap * sizeof *p);
  struct lw_old_held *o = t->held ? lw_alloc(sizeof *o) : NULL;
  if (!p || (t->held && !o)) {
    lw_free(p, (size_t)cap * sizeof *p);
    return false;
  }
  for (uint32_t i = 0; i < t->nheld; i++) p[i] = t->held[i];
  if (o) { /* another thread may be reading the old array: keep it until exit */
    *o = (struct lw_old_held){t->old_held, t->held, t->cap_held};
    t->old_held = o;
  }
  t->held = p;
  t->cap_held = cap;
  return true;
}

void lw_threads_lock(void) { lw_ilock_acquire(&threads_lock); }
void lw_threads_unlock(void) { lw_ilock_release(&threads_lock); }
lw_thread_t *lw_threads_first(void) { return all_threads; }

uint64_t lw_thread_dead_pending(void) {
  uint64_t n = 0;
  lw_ilock_acquire(&threads_lock);
  for (lw_thread_t *t = all_threads; t; t = t->next_all)
    if (t->live) n += __atomic_load_n(&t->ndead, __ATOMIC_RELAXED);
  lw_ilock_release(&threads_lock);
  return n;
}

uint32_t lw_thread_seq_of_tid(pid_t tid) {
  uint32_t seq = LW_NO_SEQ;
  lw_ilock_acquire(&threads_lock);
  for (uint32_t i = ninfos; i-- > 0 && seq == LW_NO_SEQ;)
    if (infos[i].alive && infos[i].tid == tid) seq = i;
  lw_ilock_release(&threads_lock);
  return seq;
}

void lw_thread_trim_orders(lw_thread_t *t) {
  uint64_t size = t->chains.count + t->pub_count;
  uint64_t retired = lw_registry_retired();
  if (size < 1024 || (retired - t->flush_mark) * 2 < size) return;
  forget_orders(t);
  t->flush_mark = retired;
}

static inline uint32_t pub_hash(uint64_t from, uint64_t to, unsigned pair) {
  return (uint32_t)(lw_u64_mix(from * 0x9e3779b97f4a7c15ULL ^ (to << 2 | pair)) >> 32);
}

/* The slot of (from, to, pair): where it is, or the empty slot where it would go. */
static struct lw_pub_slot *pub_slot(const lw_thread_t *t, uint64_t from, uint64_t to,
                                    unsigned pair) {
  for (uint32_t i = pub_hash(from, to, pair) & t->pub_mask;; i = (i + 1) & t->pub_mask) {
    struct lw_pub_slot *s = &t->pub[i];
    if (!s->to || (s->to == to && s->from == from && s->pair == pair)) return s;
  }
}

static struct lw_pub_slot *find_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair) {
  if (!t->pub) return NULL;
  struct lw_pub_slot *s = pub_slot(t, from, to, pair);
  return s->to ? s : NULL;
}

/* Doubles t's table (or makes it); false if memory ran out. */
static bool pub_grow(lw_thread_t *t) {
  uint32_t cap = t->pub ? (t->pub_mask + 1) * 2 : 256;
  struct lw_pub_slot *n = lw_alloc((size_t)cap * sizeof *n), *old = t->pub;
  if (!n) return false;
  uint32_t old_cap = old ? t->pub_mask + 1 : 0;
  t->pub = n;
  t->pub_mask = cap - 1;
  for (uint32_t i = 0; i < old_cap; i++)
    if (old[i].to) *pub_slot(t, old[i].from, old[i].to, old[i].pair) = old[i];
  if (old) lw_free(old, (size_t)old_cap * sizeof *old);
  return true;
}

bool lw_thread_has_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair) {
  return find_edge(t, from, to, pair) != NULL;
}

int lw_thread_edge_gated(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair,
                         uint64_t *gate_sig) {
  struct lw_pub_slot *e = find_edge(t, from, to, pair);
  if (e && gate_sig) *gate_sig = e->gate_sig;
  return e ? (int)e->gated : -1;
}

void lw_thread_add_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair) {
  lw_thread_put_edge(t, from, to, pair, false, 0);
}

void lw_thread_put_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair, bool gated,
                        uint64_t gate_sig) {
  if (!to) return; /* never a live lock's id */
  struct lw_pub_slot *s = find_edge(t, from, to, pair);
  if (!s) {
    if ((t->pub_count + 1) * 2 > (t->pub ? t->pub_mask + 1 : 0) && !pub_grow(t)) return;
    s = pub_slot(t, from, to, pair);
    *s = (struct lw_pub_slot){from, to, 0, pair, 0};
    t->pub_count++;
  }
  s->gated = gated;
  s->gate_sig = gate_sig;
}

/* ---- happens-before by create and join -------------------------------------- */

/* Per thread number: who created it and when, and who joined it and when (logical times). */
typedef struct hb_info {
  uint32_t parent;    /* seq + 1 of the creator; 0 if unknown */
  uint32_t joiner;    /* seq + 1 of the thread whose join returned it; 0 if none */
  uint64_t created;   /* logical time of the creation */
  uint64_t joined;    /* logical time of the join */
  uintptr_t handle;   /* its pthread_t, to recognise it in a join */
} hb_info_t;
static lw_ilock_t hb_lock = LW_ILOCK_INIT; /* a leaf: taken under any other lockwatch lock */
static hb_info_t *hbs;
static uint32_t nhbs, cap_hbs;
static uint64_t hb_clock;

/* Makes room for thread seq; caller holds hb_lock. */
static bool hb_reserve(uint32_t seq) {
  if (seq < cap_hbs) {
    if (seq >= nhbs) nhbs = seq + 1;
    return true;
  }
  uint32_t cap = cap_hbs ? cap_hbs : 64;
  while (cap <= seq) cap *= 2;
  void *p = lw_realloc(hbs, cap_hbs * sizeof *hbs, cap * sizeof *hbs);
  if (!p) return false;
  hbs = p;
  cap_hbs = cap;
  nhbs = seq + 1;
  return true;
}

static void hb_created(uint32_t seq, uint32_t parent) {
  lw_ilock_acquire(&hb_lock);
  if (hb_reserve(seq)) hbs[seq] = (hb_info_t){parent, 0, ++hb_clock, 0, 0};
  lw_ilock_release(&hb_lock);
}

void lw_thread_hb_start(uint32_t seq, uintptr_t handle) {
  lw_ilock_acquire(&hb_lock);
  if (seq < nhbs) hbs[seq].handle = handle;
  lw_ilock_release(&hb_lock);
}

void lw_thread_hb_joined(uint32_t joiner, uintptr_t handle) {
  lw_ilock_acquire(&hb_lock);
  /* handles are reused once joined: the latest thread with it, not yet joined */
  for (uint32_t i = nhbs; i-- > 0;)
    if (hbs[i].handle == handle && i != joiner) {
      if (!hbs[i].joiner) {
        hbs[i].joiner = joiner + 1;
        hbs[i].joined = ++hb_clock;
      }
      break;
    }
  lw_ilock_release(&hb_lock);
}

bool lw_thread_before(uint32_t a, uint32_t b) {
  bool before = false;
  lw_ilock_acquire(&hb_lock);
  /* a ended before time `at` in thread j: its join returned there (or j's own end did) */
  uint32_t x = a;
  for (uint32_t step = 0; step < 64 && x < nhbs && hbs[x].joiner && !before; step++) {
    uint32_t j = hbs[x].joiner - 1;
    uint64_t at = hbs[x].joined;
    /* is b, or one of its creators, created by j after that? */
    uint32_t y = b;
    for (uint32_t up = 0; up < 64 && y < nhbs && hbs[y].parent && !before; up++) {
      if (hbs[y].parent - 1 == j && hbs[y].created > at) before = true;
      y = hbs[y].parent - 1;
    }
    x = j; /* all of j's life up to `at` is before j's end: follow j's own join */
  }
  lw_ilock_release(&hb_lock);
  return before;
}

bool lw_thread_info(uint32_t seq, lw_thread_info_t *out) {
  bool ok = false;
  lw_ilock_acquire(&threads_lock);
  if (seq < ninfos) {
    *out = infos[seq];
    ok = true;
  }
  lw_ilock_release(&threads_lock);
  return ok;
}

void lw_thread_stats(uint64_t *threads, uint64_t *acquisitions, uint64_t *fast_hits,
                     uint64_t *bytes) {
  lw_ilock_acquire(&threads_lock);
  uint64_t acq = gone_acq, fast = gone_fast, b = (uint64_t)cap_infos * sizeof *infos;
  for (lw_thread_t *t = all_threads; t; t = t->next_all) {
    b += sizeof *t + (uint64_t)t->cap_held * sizeof *t->held;
    if (t->lcache != t->lcache0) b += (uint64_t)(t->lcache_mask + 1) * sizeof *t->lcache;
    b += lw_u64map_bytes(&t->chains) + lw_u64map_bytes(&t->sites) + lw_u64map_bytes(&t->conds) +
         lw_u64map_bytes(&t->classes);
    if (t->pub) b += (uint64_t)(t->pub_mask + 1) * sizeof *t->pub;
    if (!t->live) continue;
    acq += t->acquisitions;
    fast += t->fast_hits;
  }
  *threads = ninfos;
  *acquisitions = acq;
  *fast_hits = fast;
  *bytes = b;
  lw_ilock_release(&threads_lock);
}

void lw_thread_fork_prepare(void) { lw_ilock_acquire(&threads_lock); }
void lw_thread_fork_parent(void) { lw_ilock_release(&threads_lock); }
void lw_thread_hb_fork_prepare(void) { lw_ilock_acquire(&hb_lock); }
void lw_thread_hb_fork_parent(void) { lw_ilock_release(&hb_lock); }
void lw_thread_hb_fork_child(void) { lw_ilock_reset(&hb_lock); }

void lw_thread_fork_child(void) {
  lw_ilock_reset(&threads_lock);
  /* only the forking thread survives; the others' states are dropped, not freed */
  lw_thread_t *self = lw_tls_self;
  for (lw_thread_t *t = all_threads; t; t = t->next_all) {
    if (t == self || !t->live) continue;
    gone_acq += t->acquisitions;
    gone_fast += t->fast_hits;
    t->live = false;
    t->nheld = t->nholes = t->sets_from = 0; /* dropped, not freed */
    t->indexed = t->held_slow = false;
    t->held_index = NULL;
    if (t->seq < ninfos) infos[t->seq].alive = false;
  }
  if (self) {
    self->tid = (pid_t)syscall(SYS_gettid);
    if (self->seq < ninfos) infos[self->seq].tid = self->tid;
  }
}

/* ---- held stack -------------------------------------------------------------- */

/*
 * The address index of a thread holding many locks: open addressing with
 * linear probing and backward-shift deletion; address -> entry index. A
 * slot counts only when its generation is the index's, so emptying the
 * index is a bump of the generation: its memory is kept for the thread's
 * next burst of held locks (mapping fresh pages costs more than the index).
 */
struct lw_held_index {
  uint32_t mask, count, gen;
  struct held_slot {
    uintptr_t addr; /* 0: empty */
    uint32_t pos, gen;
  } slots[];
};

static uint32_t index_home(uintptr_t addr, uint32_t mask) {
  return (uint32_t)(lw_u64_mix(addr) & mask);
}

static size_t index_size(uint32_t cap) {
  return sizeof(struct lw_held_index) + (size_t)cap * sizeof(struct held_slot);
}

static void index_free(lw_thread_t *t) {
  if (t->held_index) lw_free(t->held_index, index_size(t->held_index->mask + 1));
  t->held_index = NULL;
}

static bool slot_used(const struct lw_held_index *x, const struct held_slot *s) {
  return s->gen == x->gen && s->addr != 0;
}

/* Finds addr's slot, or the empty slot where it would go. */
static struct held_slot *index_slot(struct lw_held_index *x, uintptr_t addr) {
  for (uint32_t i = index_home(addr, x->mask);; i = (i + 1) & x->mask) {
    struct held_slot *s = &x->slots[i];
    if (!slot_used(x, s) || s->addr == addr) return s;
  }
}

static bool index_grow(lw_thread_t *t);

/* Points addr at entry pos; false on OOM (the index is then dropped). */
static bool index_put(lw_thread_t *t, uintptr_t addr, uint32_t pos) {
  struct lw_held_index *x = t->held_index;
  if ((x->count + 1) * 2 > x->mask + 1 && !index_grow(t)) return false;
  x = t->held_index;
  struct held_slot *s = index_slot(x, addr);
  if (!slot_used(x, s)) {
    x->count++;
    s->addr = addr;
    s->gen = x->gen;
  } else if (s->pos != pos) { /* (a rebuild just now may have put this very entry in) */
    t->held_dups++;
  }
  s->pos = pos;
  return true;
}

static void index_del(struct lw_held_index *x, uintptr_t addr) {
  struct held_slot *s = index_slot(x, addr);
  if (!slot_used(x, s)) return;
  uint32_t i = (uint32_t)(s - x->slots), j = i;
  for (;;) { /* backward shift: no tombstones */
    x->slots[i].addr = 0;
    for (;;) {
      j = (j + 1) & x->mask;
      if (!slot_used(x, &x->slots[j])) {
        x->count--;
        return;
      }
      uint32_t h = index_home(x->slots[j].addr, x->mask);
      /* the entry at j may move to i if its home is not in (i, j] */
      if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) break;
    }
    x->slots[i] = x->slots[j];
    i = j;
  }
}

/* Empties the index (a new generation). */
static void index_empty(struct lw_held_index *x) {
  x->count = 0;
  if (++x->gen == 0) { /* wrapped: old stamps could look current */
    memset(x->slots, 0, (size_t)(x->mask + 1) * sizeof *x->slots);
    x->gen = 1;
  }
}

/* (Re)builds the index over every live entry, with at least cap slots; false on OOM. */
static bool index_build(lw_thread_t *t, uint32_t cap) {
  uint32_t live = lw_held_live(t);
  while (cap < (live + 1) * 4) cap *= 2;
  struct lw_held_index *x = t->held_index;
  t->indexed = false;
  t->held_dups = 0;
  if (!x || x->mask + 1 < cap) {
    index_free(t);
    if (!(x = lw_alloc(index_size(cap)))) return false;
    x->mask = cap - 1;
    x->gen = 1;
    t->held_index = x;
  } else {
    index_empty(x);
  }
  t->indexed = true;
  for (uint32_t i = 0; i < t->nheld; i++)
    if (t->held[i].addr) (void)index_put(t, t->held[i].addr, i);
  return t->indexed;
}

static bool index_grow(lw_thread_t *t) {
  if (index_build(t, (t->held_index->mask + 1) * 2)) return true;
  t->held_slow = t->nholes != 0;
  return false;
}

static void update_slow(lw_thread_t *t) { t->held_slow = t->indexed || t->nholes != 0; }

uint32_t lw_held_find(const lw_thread_t *t, uintptr_t addr) {
  if (t->indexed) {
    struct held_slot *s = index_slot(t->held_index, addr);
    return slot_used(t->held_index, s) ? s->pos : LW_HELD_NONE;
  }
  for (uint32_t i = t->nheld; i-- > 0;)
    if (t->held[i].addr == addr) return i;
  return LW_HELD_NONE;
}

/* Moves the live entries down over the holes; indexes change, links are redone. */
static void compact(lw_thread_t *t) {
  uint32_t k = 0, sets_from = LW_HELD_NONE;
  for (uint32_t i = 0; i < t->nheld; i++) {
    if (i == t->sets_from) sets_from = k;
    if (!t->held[i].addr) continue;
    t->held[k] = t->held[i];
    t->held[k].below = k ? k - 1 : LW_HELD_NONE;
    t->held[k].above = LW_HELD_NONE;
    if (k) t->held[k - 1].above = k;
    k++;
  }
  t->sets_from = sets_from == LW_HELD_NONE ? k : sets_from;
  t->nheld = k;
  t->nholes = 0;
  if (t->indexed) (void)index_build(t, 64);
  update_slow(t);
}

bool lw_held_push(lw_thread_t *t, const lw_held_t *e) {
  if (!lw_thread_reserve_held(t)) return false;
  uint32_t pos = t->nheld;
  lw_held_t *h = &t->held[pos];
  *h = *e;
  h->below = pos ? pos - 1 : LW_HELD_NONE; /* the top is always live */
  h->above = LW_HELD_NONE;
  h->set = NULL;
  h->chain = lw_chain_of(pos ? &t->held[pos - 1] : NULL, h->id, h->mode, h->flags);
  if (pos) t->held[pos - 1].above = pos;
  t->nheld = pos + 1;
  if (t->sets_from > pos) t->sets_from = pos;
  if (t->indexed) {
    if (!index_put(t, h->addr, pos)) t->indexed = false;
  } else if (lw_held_live(t) > LW_HELD_SCAN) {
    index_build(t, 64);
  }
  update_slow(t);
  return true;
}

/* Redoes the walk hashes from entry i up, until an entry that stops walks (whose hash is its own). */
static void rechain(lw_thread_t *t, uint32_t i) {
  while (i != LW_HELD_NONE) {
    lw_held_t *h = &t->held[i];
    h->chain = lw_chain_of(h->below == LW_HELD_NONE ? NULL : &t->held[h->below], h->id, h->mode,
                           h->flags);
    if (lw_held_stops(h->mode, h->flags)) return;
    i = h->above;
  }
}

void lw_held_remove(lw_thread_t *t, uint32_t i) {
  lw_held_t *h = &t->held[i];
  uint32_t below = h->below, above = h->above;
  uintptr_t addr = h->addr;
  lw_hset_unref(h->set);
  *h = (lw_held_t){0};
  h->below = below;
  h->above = above;
  if (below != LW_HELD_NONE) t->held[below].above = above;
  if (above != LW_HELD_NONE) t->held[above].below = below;
  if (t->indexed) {
    index_del(t->held_index, addr);
    if (t->held_dups) { /* another entry of the same address: the newest takes its place */
      for (uint32_t k = t->nheld; k-- > 0;)
        if (t->held[k].addr == addr) {
          t->held_dups--;
          index_put(t, addr, k);
          break;
        }
    }
  }
  if (above == LW_HELD_NONE) { /* the top: it goes with the holes under it */
    uint32_t n = below == LW_HELD_NONE ? 0 : below + 1;
    t->nholes -= t->nheld - 1 - n;
    t->nheld = n;
    if (t->sets_from > n) t->sets_from = n;
  } else {
    t->nholes++;
    if (below != LW_HELD_NONE) {
      /* the locks below lost their path (through this one) to those whose walks stopped here */
      if (t->sets_from > i) t->sets_from = i; /* and the sets above name it in the middle */
      for (uint32_t k = above; k != LW_HELD_NONE; k = t->held[k].above) {
        lw_held_t *e = &t->held[k];
        bool stopped = lw_held_stops(e->mode, e->flags);
        e->flags |= LW_HELD_REBRIDGE;
        if (stopped) break;
      }
    }
    /* removed from the bottom, the sets above keep it as their oldest lock: see held_set */
    rechain(t, above);
  }
  if (t->nheld == 0) {
    t->nholes = 0;
    t->sets_from = 0;
    t->indexed = false; /* its memory stays for the next time */
  } else if (t->nholes > 16 && t->nholes > lw_held_live(t)) {
    compact(t);
  }
  update_slow(t);
}

void lw_held_clear(lw_thread_t *t) {
  for (uint32_t i = 0; i < t->nheld; i++) lw_hset_unref(t->held[i].set);
  t->nheld = t->nholes = t->sets_from = 0;
  index_free(t);
  t->indexed = false;
  t->held_dups = 0;
  update_slow(t);
}
