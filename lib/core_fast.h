/*
 * core_fast.h - the fast path of lock events, inlined into the wrappers.
 *
 * An acquisition whose lock and call site are in the thread's caches, that
 * holds nothing or whose acquisition context is in the chain cache, and a
 * release of the lock on top of the held stack, touch only the thread's own
 * memory: no lock, no allocation, no stack capture. Anything else goes to the
 * slow functions in core.c. Included by core.h; not to be included alone.
 */
#ifndef LW_CORE_FAST_H
#define LW_CORE_FAST_H

#define LW_FAST_LIKELY(x) __builtin_expect(!!(x), 1)
#define LW_FAST_UNLIKELY(x) __builtin_expect(!!(x), 0)

void lw__tick(lw_thread_t *t, lw_acq_t *a);
void lw__acquire_slow(lw_thread_t *t, lw_acq_t *a, uintptr_t addr, unsigned type,
                      lw_kind_fn kind, unsigned mode, unsigned flags, uintptr_t pc);
void lw__after_slow(lw_thread_t *t, const lw_acq_t *a);
bool lw__release_slow(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                      uintptr_t pc);

/*
 * Gate locks (core.c) narrow an order's gate each time it is taken under
 * other outer locks, so the chain-cache key names the possible gates too:
 * the ids of the first LW_GATE_KEY live write-held entries from the bottom,
 * folded by lw_gate_fold. 0 with gate_locks=0.
 */
#define LW_GATE_KEY 8
static inline uint64_t lw_gate_fold(uint64_t sig, uint64_t id) {
  return (sig ^ id) * 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t lw_gate_scan(const lw_thread_t *t) {
  uint64_t sig = 0;
  if (!lw_opt.gate_locks) return 0;
  for (uint32_t i = 0, n = 0; i < t->nheld && n < LW_GATE_KEY; i++)
    if (t->held[i].addr && t->held[i].mode == LW_MODE_WRITE)
      sig = lw_gate_fold(sig, t->held[i].id), n++;
  return sig;
}

/*
 * t takes the lock rec (a thread's first use of it, or a use after its cache
 * forgot it): rec->users says whether one thread or several took it, for
 * exit-holding-lock. Semaphores keep their own account of users (sem.c).
 */
static inline void lw_lock_note_user(lw_lock_t *rec, const lw_thread_t *t) {
  uint32_t me = t->seq + 1, u = atomic_load_explicit(&rec->users, memory_order_relaxed);
  if (LW_FAST_LIKELY(u == me || u == LW_USERS_SHARED) || rec->type == LW_TYPE_SEM) return;
  if (u != 0 || !atomic_compare_exchange_strong(&rec->users, &u, me))
    if (u != me) atomic_store_explicit(&rec->users, LW_USERS_SHARED, memory_order_relaxed);
}

/* The chain-cache key of requesting id in mode on top of t's held stack (non-zero). */
static inline uint64_t lw_chain_key(const lw_thread_t *t, uint64_t id, unsigned mode) {
  return (lw_chain_step(t->held[t->nheld - 1].chain, id, mode, 0) ^ lw_gate_scan(t)) | 1;
}

static inline __attribute__((always_inline)) void lw_acquire_before(lw_thread_t *t, lw_acq_t *a, uintptr_t addr, unsigned type,
                                     lw_kind_fn kind, unsigned mode, unsigned flags, uintptr_t pc) {
  lw_lcache_t *c = &t->lcache[lw_lcache_index(addr, t->lcache_mask)];
  a->addr = addr;
  a->pc = pc;
  a->mode = (uint8_t)mode;
  a->flags = (uint8_t)flags;
  a->type = (uint8_t)type;
  a->relock = 0;
  /* now and then: tune the lock cache; with profile=1, time a hold */
  if (LW_FAST_UNLIKELY(++t->acquisitions == t->next_tick)) lw__tick(t, a);
  /* the lock's record: from the thread's cache, else from the registry (no lock taken) */
  if (LW_FAST_UNLIKELY(c->addr != addr || c->type != type || !c->rec ||
                       atomic_load_explicit(&c->rec->id, memory_order_relaxed) != c->id)) {
    uint64_t id;
    lw_lock_t *rec = lw_registry_find(addr, &id);
    t->lcache_misses++;
    if (!rec || rec->type != type) goto slow;
    lw_lock_note_user(rec, t);
    if (LW_FAST_UNLIKELY(lw_profile_on)) lw_profile_fold_entry(c, true);
    *c = (lw_lcache_t){addr, rec, id, 0, 0, 0, 0, (uint8_t)type};
  }
  /* counted in the thread's own entry: the profile folds it into the lock later */
  c->acq++;
  /* the stack of this call site, captured the first time this thread used it */
  if (LW_FAST_LIKELY(c->pc == pc)) {
    a->stack = c->stack;
  } else {
    const lw_scache_t *s = &t->scache[lw_scache_index(pc)];
    if (s->pc != pc) goto slow;
    a->stack = c->stack = s->stack;
    c->pc = pc;
  }
  a->rec = c->rec;
  a->id = c->id;
  uint32_t n = t->nheld;
  if (LW_FAST_LIKELY(n == 0)) return;
  if (LW_FAST_UNLIKELY(t->held_slow)) goto slow; /* many held, or holes */
  uint64_t gate = 0; /* lw_gate_scan, in the same pass (no holes here) */
  bool gates = lw_opt.gate_locks;
  for (uint32_t i = 0, g = 0; i < n; i++) {
    if (t->held[i].addr == addr) goto slow; /* a re-lock: the slow path judges it */
    if (gates && t->held[i].mode == LW_MODE_WRITE && g < LW_GATE_KEY)
      gate = lw_gate_fold(gate, t->held[i].id), g++;
  }
  if (flags & LW_ACQ_TRY) return;
  uint64_t key = (lw_chain_step(t->held[n - 1].chain, c->id, mode, 0) ^ gate) | 1;
  if (LW_FAST_LIKELY(c->context == key)) { /* this lock, taken in the same context as last time */
    t->fast_hits++;
    return;
  }
  uint64_t *front = &t->chain_front[key >> 58]; /* the key's top bits are its best mixed */
  if (LW_FAST_LIKELY(*front == key) || lw_u64map_get(&t->chains, key, NULL)) {
    *front = key;
    c->context = key;
    t->fast_hits++;
    return;
  }
slow:
  lw__acquire_slow(t, a, addr, type, kind, mode, flags, pc);
}

static inline __attribute__((always_inline)) void lw_acquire_after(lw_thread_t *t, const lw_acq_t *a, bool acquired) {
  if (LW_FAST_UNLIKELY(!a->rec || !acquired)) {
    if (LW_FAST_UNLIKELY(lw_profile_on) && a->rec) lw_profile_failed(a);
    return;
  }
  uint32_t n = t->nheld;
  if (LW_FAST_UNLIKELY(a->relock || n == t->cap_held || t->held_slow || n >= LW_HELD_SCAN)) {
    lw__after_slow(t, a);
    return;
  }
  lw_held_t *h = &t->held[n];
  h->addr = a->addr;
  h->rec = a->rec;
  h->id = a->id;
  h->chain = lw_chain_of(n ? &t->held[n - 1] : NULL, a->id, a->mode, a->flags);
  h->below = n - 1; /* no holes: the entry below is live (LW_HELD_NONE when n is 0) */
  h->above = LW_HELD_NONE;
  if (n) t->held[n - 1].above = n;
  h->stack = a->stack;
  h->count = 1;
  h->foreign = atomic_load_explicit(&a->rec->foreign_unlocks, memory_order_relaxed);
  h->set = NULL;
  h->mode = a->mode;
  h->flags = a->flags;
  h->type = a->type;
  t->nheld = n + 1;
}

/* Is the lock at addr the top of t's held stack, held once (the fast release)? */
static inline __attribute__((always_inline)) bool lw_release_top_is(const lw_thread_t *t,
                                                                    uintptr_t addr) {
  uint32_t n = t->nheld;
  return n && !t->held_slow && t->held[n - 1].addr == addr && t->held[n - 1].count == 1;
}

static inline __attribute__((always_inline)) bool lw_release(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                              uintptr_t pc) {
  uint32_t n = t->nheld;
  if (LW_FAST_LIKELY(n && !t->held_slow && t->held[n - 1].addr == addr &&
                     t->held[n - 1].count == 1)) {
    if (LW_FAST_UNLIKELY(t->held[n - 1].set != NULL)) lw_hset_unref(t->held[n - 1].set);
    t->nheld = n - 1;
    if (n > 1) t->held[n - 2].above = LW_HELD_NONE;
    if (t->sets_from > n - 1) t->sets_from = n - 1;
    return false;
  }
  return lw__release_slow(t, addr, type, state, pc);
}

#endif
