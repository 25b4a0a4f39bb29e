/*
 * core.c - the lock events (see core.h and docs/design.md, "What an
 * acquisition does"). The fast path of lw_acquire_before is a registry
 * lookup, a scan of the (short) held stack, a call-site lookup and a chain
 * cache lookup, all without locks or allocation.
 */
#include "core.h"
#include "core_internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "lw_uthash.h"
#include "depot.h"
#include "options.h"
#include "output.h"
#include "pages.h"
#include "stack.h"
#include "symbolize.h"
#include "types.h"

static lw_graph_t graph;
static uint64_t graph_ns; /* time spent adding edges and searching cycles; under graph.lock */
static void release_witness(lw_witness_t *w);
static lw_u64map_t seen_cycles; /* signatures of reported cycles; under graph.lock */
static _Atomic int finished;
const char *lw_core_caveat;

static void memory_exhausted(void) {
  char msg[200];
  if (lw_opt.max_memory_mb)
    snprintf(msg, sizeof msg, "memory limit reached (max_memory_mb=%ld): new locks and orders "
             "are no longer checked", lw_opt.max_memory_mb);
  else
    snprintf(msg, sizeof msg, "out of memory: new locks and orders are no longer checked");
  lw_output_message(msg);
}

void lw_core_init(void) {
  lw_alloc_set_limit((size_t)lw_opt.max_memory_mb << 20, memory_exhausted);
  lw_profile_init();
  lw_graph_init(&graph);
  lw_graph_witness_release = release_witness;
  lw_u64map_init(&seen_cycles, false);
}

/* Sets when t's first tick comes: its first hold sample with profile=1, else its first tuning. */
static lw_thread_t *first_tick(lw_thread_t *t) {
  if (!t) return NULL;
  t->next_tick = lw_thread_next_window(t->acquisitions);
  t->next_sample = 0;
  if (lw_profile_on) {
    t->rng = lw_u64_mix((uint64_t)(uintptr_t)t ^ (uint64_t)t->tid << 32 ^ lw_profile_now()) | 1;
    t->next_sample = t->acquisitions + lw_profile_interval(t);
    if (t->next_sample < t->next_tick) t->next_tick = t->next_sample;
  }
  return t;
}

lw_thread_t *lw_core_thread(void) {
  lw_thread_t *t = lw_tls_self;
  if (t) return t;
  return lw_tls_self = first_tick(lw_thread_create(LW_NO_SEQ));
}

uint32_t lw_core_thread_spawn(lw_thread_t *parent) {
  return lw_thread_new_seq(parent->seq + 1, lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth));
}

lw_thread_t *lw_core_thread_start(uint32_t seq) {
  return lw_tls_self = first_tick(lw_thread_create(seq));
}

void lw_core_thread_exit(lw_thread_t *t) {
  if (t->nheld) lw__report_exit_holding(t);
  if (lw_profile_on) lw_profile_fold_thread(t, true);
  for (uint32_t i = 0; i < t->nheld; i++) lw_hset_unref(t->held[i].set);
  if (lw_tls_self == t) lw_tls_self = NULL;
  lw_thread_release(t);
}

/* ---- identity ------------------------------------------------------------ */

/* Ends the identity of the lock at addr, if it has one. */
static void retire(uintptr_t addr) {
  lw_lock_t *rec = lw_registry_unlink(addr);
  if (!rec) return;
  uint64_t id = atomic_load_explicit(&rec->id, memory_order_relaxed);
  if (lw_profile_on) { /* this thread's own count of it, before the identity ends */
    lw_thread_t *t = lw_tls_self;
    if (t) lw_profile_fold_entry(&t->lcache[lw_lcache_index(addr, t->lcache_mask)], true);
  }
  lw_ilock_acquire(&graph.lock);
  atomic_store_explicit(&rec->id, 0, memory_order_release);
  lw_graph_remove_node(&graph, &rec->node);
  lw_ilock_release(&graph.lock);
  if (lw_profile_on) lw_profile_retire(rec, id, addr);
  lw_registry_recycle(rec);
}

uint32_t lw__site_stack(lw_thread_t *t, uintptr_t pc) {
  uint64_t v = 0;
  if (lw_u64map_get(&t->sites, pc, &v)) return (uint32_t)v;
  uint32_t id = lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth);
  lw_u64map_put(&t->sites, pc, id);
  return id;
}

void lw_lock_created(lw_thread_t *t, uintptr_t addr, unsigned type, unsigned kind, uintptr_t pc) {
  uint64_t id;
  if (addr < 4096) return;
  retire(addr);
  (void)lw_registry_get(addr, type, kind, lw__site_stack(t, pc ? pc : 1), &id);
}

void lw_lock_destroy_check(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                           uintptr_t pc) {
  const lw_held_t *mine = NULL;
  for (uint32_t i = t->nheld; i-- > 0 && !mine;)
    if (t->held[i].addr == addr) mine = &t->held[i];
  lw_lockstate_t st = {LW_OWNER_UNKNOWN, 0};
  if (state) st = state(addr, t->tid);
  if (mine || st.owner == LW_OWNER_SELF || st.owner == LW_OWNER_OTHER || st.owner == LW_OWNER_HELD)
    lw__report_destroy_locked(t, addr, type, mine, &st, pc);
}

void lw__deadlock_action(void) {
  switch (lw_opt.on_deadlock) {
  case LW_ON_DEADLOCK_REPORT:
    return;
  case LW_ON_DEADLOCK_ABORT:
    lw_output_message("on_deadlock=abort: aborting");
    (void)lw_core_finish(0, false);
    abort();
  default:
    lw_output_message("on_deadlock=exit: ending the program");
    if (lw_report_halt) lw_report_halt();
  }
}

void lw_memory_released(lw_thread_t *t, uintptr_t p, size_t n) {
  (void)t;
  uintptr_t end = p + n < p ? UINTPTR_MAX : p + n;
  uintptr_t page = (uintptr_t)1 << LW_PAGE_SHIFT;
  for (uintptr_t pg = p & ~(page - 1); pg < end; pg += page) {
    uintptr_t lo = pg > p ? pg : p;
    uintptr_t hi = pg + page < end ? pg + page : end;
    uintptr_t found[LW_PAGE_GRANULES * 2];
    uint32_t n = lw_pages_find(lo, hi, found);
    for (uint32_t i = 0; i < n; i++) {
      uint64_t id;
      if (lw_registry_find(found[i], &id)) retire(found[i]);
    }
    if (pg + page < pg) break;
  }
}

void lw_lock_destroyed(lw_thread_t *t, uintptr_t addr) {
  (void)t;
  retire(addr);
}

/* ---- orders -------------------------------------------------------------- */


static lw_lock_t *record_of(const lw_node_t *n) {
  return (lw_lock_t *)((char *)n - offsetof(lw_lock_t, node));
}

/*
 * Turns a found cycle into a report, unless the same set of edges was
 * reported before. Rotated so the edge out of the lock with the smallest id
 * comes first. Caller holds graph.lock. Returns NULL if nothing to report.
 */
static lw_report_t *cycle_report(const lw_cycle_t *c) {
  uint64_t sig = 0;
  uint32_t start = 0;
  for (uint32_t i = 0; i < c->n; i++) {
    const lw_edge_t *e = c->steps[i].edge;
    sig += lw_u64_mix(e->from->id * 0x9e3779b97f4a7c15ULL ^ e->to->id);
    if (e->from->id < c->steps[start].edge->from->id) start = i;
  }
  sig |= 1;
  if (lw_u64map_get(&seen_cycles, sig, NULL)) return NULL;
  lw_u64map_put(&seen_cycles, sig, 0);
  lw_report_t *r = lw_report_new(LW_REPORT_LOCK_ORDER_INVERSION, c->n, c->n);
  if (!r) return NULL;
  for (uint32_t k = 0; k < c->n; k++) {
    const lw_cycle_step_t *s = &c->steps[(start + k) % c->n];
    const lw_lock_t *rec = record_of(s->edge->from);
    r->locks[k] = (lw_rlock_t){s->edge->from->id, atomic_load(&rec->addr), rec->type, rec->kind,
                               rec->create_stack};
    r->edges[k].from = k;
    r->edges[k].to = (k + 1) % c->n;
    r->edges[k].from_mode = s->from_mode;
    r->edges[k].to_mode = s->to_mode;
    const lw_witness_t *w = lw_edge_witness(s->edge, LW_PAIR(s->from_mode, s->to_mode));
    const lw_hset_t *held = (const lw_hset_t *)w->held_set;
    r->edges[k].w = *w;
    r->edges[k].w.held_set = 0;
    r->edges[k].other_thread = s->edge->other_thread;
    if (held && (r->edges[k].held_ids = lw_alloc(held->size * sizeof(uint64_t))))
      r->edges[k].nheld_ids = lw_hset_ids(held, r->edges[k].held_ids, held->size);
  }
  r->closing_edge = (c->n - start) % c->n;
  return r;
}

/* The set of every lock t holds, with a reference for the caller (NULL on OOM). */
static lw_hset_t *held_set(lw_thread_t *t) {
  for (uint32_t i = 0; i < t->nheld; i++) {
    lw_held_t *h = &t->held[i];
    if (!h->set && !(h->set = lw_hset_push(i ? t->held[i - 1].set : NULL, h->id))) return NULL;
  }
  return t->nheld ? lw_hset_ref(t->held[t->nheld - 1].set) : NULL;
}

static void release_witness(lw_witness_t *w) { lw_hset_unref((lw_hset_t *)w->held_set); }

/*
 * The slow path: publishes held -> a for each held lock the rule selects
 * (from the top, up to and including the first blocking exclusive
 * acquisition), skipping orders this thread published before.
 */
static void publish_orders(lw_thread_t *t, const lw_acq_t *a) {
  uint32_t stack_to = 0;
  lw_hset_t *set = NULL;
  bool prepared = false;
  for (uint32_t i = t->nheld; i-- > 0;) {
    lw_held_t *h = &t->held[i];
    unsigned pair = LW_PAIR(h->mode, a->mode);
    bool stale = h->foreign != atomic_load_explicit(&h->rec->foreign_unlocks, memory_order_relaxed);
    if (h->id != a->id && !stale && !lw_thread_has_edge(t, h->id, a->id, pair)) {
      if (!prepared) {
        stack_to = lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth);
        set = held_set(t);
        prepared = true;
      }
      lw_witness_t w = {t->seq, h->stack, stack_to, (uintptr_t)lw_hset_ref(set)};
      lw_cycle_t cycle;
      lw_report_t *rep = NULL;
      int r = LW_EDGE_ERROR;
      lw_ilock_acquire(&graph.lock);
      if (atomic_load_explicit(&h->rec->id, memory_order_acquire) == h->id &&
          atomic_load_explicit(&a->rec->id, memory_order_acquire) == a->id) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = lw_graph_add_edge(&graph, &h->rec->node, &a->rec->node, h->mode, a->mode, &w, &cycle);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        graph_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec -
                    (uint64_t)t0.tv_nsec;
        if (r == LW_EDGE_CYCLE) {
          rep = cycle_report(&cycle);
          lw_cycle_release(&cycle);
        }
      }
      lw_ilock_release(&graph.lock);
      if (r != LW_EDGE_ADDED && r != LW_EDGE_CYCLE) release_witness(&w); /* the graph kept none */
      if (r != LW_EDGE_ERROR) lw_thread_add_edge(t, h->id, a->id, pair);
      if (rep) lw_report_submit(rep);
    }
    if (!(h->flags & (LW_ACQ_TRY | LW_HELD_REBRIDGE)) && h->mode == LW_MODE_WRITE) break;
  }
  lw_hset_unref(set);
}

/* ---- acquisitions -------------------------------------------------------- */

lw_lock_t *lw__record_for(lw_thread_t *t, uintptr_t addr, unsigned type, lw_kind_fn kind,
                             uintptr_t pc, uint64_t *id) {
  if (addr < 4096) return NULL; /* not a lock: the real call will fail or fault, untracked */
  lw_lock_t *rec = lw_registry_find(addr, id);
  if (rec && rec->type == type) return rec;
  if (rec) retire(addr); /* memory reused for another kind of lock */
  return lw_registry_get(addr, type, kind ? kind(addr) : 0, lw__site_stack(t, pc), id);
}

void lw__tick(lw_thread_t *t, lw_acq_t *a) {
  uint64_t n = t->acquisitions;
  if (n == lw_thread_next_window(n - 1)) { /* a multiple of LW_TUNE_WINDOW */
    if (lw_profile_on) lw_profile_fold_thread(t, true);
    lw_thread_tune_lcache(t);
  }
  t->next_tick = lw_thread_next_window(n);
  if (!lw_profile_on) return;
  if (n >= t->next_sample) {
    a->relock = LW_ACQ_SAMPLED;
    t->next_sample = n + lw_profile_interval(t);
  }
  if (t->next_sample < t->next_tick) t->next_tick = t->next_sample;
}

void lw__acquire_slow(lw_thread_t *t, lw_acq_t *a, uintptr_t addr, unsigned type,
                      lw_kind_fn kind, unsigned mode, unsigned flags, uintptr_t pc) {
  a->pc = pc ? pc : 1;
  a->rec = lw__record_for(t, addr, type, kind, a->pc, &a->id);
  if (!a->rec) return;
  a->stack = lw__site_stack(t, a->pc);
  lw_lcache_t *c = &t->lcache[lw_lcache_index(addr, t->lcache_mask)];
  uint32_t acq = 1; /* this acquisition, unless the fast path already counted it in c */
  if (c->addr == addr && c->rec == a->rec && c->id == a->id && c->type == type) acq = c->acq;
  else if (lw_profile_on) lw_profile_fold_entry(c, true);
  *c = (lw_lcache_t){addr, a->rec, a->id, a->pc, 0, a->stack, acq, (uint8_t)type};
  t->scache[lw_scache_index(a->pc)] = (lw_scache_t){a->pc, a->stack};
  for (uint32_t i = t->nheld; i-- > 0;) {
    const lw_held_t *h = &t->held[i];
    if (h->addr != addr) continue;
    if (h->id != a->id) break;
    if (h->foreign != atomic_load_explicit(&a->rec->foreign_unlocks, memory_order_relaxed)) {
      /* another thread unlocked it for us (reported then): we no longer hold it */
      lw_release(t, addr, type, NULL, pc);
      break;
    }
    if ((a->rec->kind & LW_KIND_RECURSIVE) ||
        (type == LW_TYPE_RWLOCK && mode == LW_MODE_READ && h->mode == LW_MODE_READ &&
         (a->rec->kind & LW_KIND_READER_PREF)))
      a->relock = LW_ACQ_RELOCK;
    else if (!(flags & LW_ACQ_TRY))
      lw__report_double_lock(t, a, h);
    if (type == LW_TYPE_RWLOCK && mode == LW_MODE_READ && h->mode == LW_MODE_READ)
      a->relock = LW_ACQ_RELOCK;
    break;
  }
  if (a->relock == LW_ACQ_RELOCK || (flags & LW_ACQ_TRY) || t->nheld == 0) return;
  uint64_t key = lw_chain_key(t, a->id, mode);
  if (lw_u64map_get(&t->chains, key, NULL)) {
    t->fast_hits++;
    return;
  }
  lw_thread_trim_orders(t);
  publish_orders(t, a);
  lw_u64map_put(&t->chains, key, 0);
}

void lw__after_slow(lw_thread_t *t, const lw_acq_t *a) {
  if (a->relock == LW_ACQ_RELOCK) {
    for (uint32_t i = t->nheld; i-- > 0;)
      if (t->held[i].addr == a->addr) {
        t->held[i].count++;
        return;
      }
  }
  if (!lw_thread_reserve_held(t)) return;
  uint64_t prev = t->nheld ? t->held[t->nheld - 1].chain : 0;
  bool sampled = a->relock == LW_ACQ_SAMPLED;
  t->held[t->nheld++] = (lw_held_t){
      a->addr, a->rec, a->id, lw_chain_step(prev, a->id, a->mode, a->flags), a->stack,
      sampled ? 1 | LW_HELD_SAMPLED : 1,
      atomic_load_explicit(&a->rec->foreign_unlocks, memory_order_relaxed), NULL, a->mode,
      a->flags, a->type, sampled ? lw_profile_now() : 0};
}

bool lw__release_slow(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                      uintptr_t pc) {
  for (uint32_t i = t->nheld; i-- > 0;) {
    lw_held_t *h = &t->held[i];
    if (h->addr != addr) continue;
    if (LW_HELD_COUNT(h) > 1) {
      h->count--;
      return false;
    }
    if (h->count & LW_HELD_SAMPLED) lw_profile_held(h->rec, h->id, h->stack, h->since);
    lw_hset_unref(h->set);
    memmove(h, h + 1, (t->nheld - 1 - i) * sizeof *h);
    t->nheld--;
    for (uint32_t j = i; j < t->nheld; j++) {
      lw_held_t *e = &t->held[j];
      lw_hset_unref(e->set); /* its prefix changed */
      e->set = NULL;
      if (i > 0) e->flags |= LW_HELD_REBRIDGE; /* locks below the gap lost their path to it */
      e->chain = lw_chain_step(j ? t->held[j - 1].chain : 0, e->id, e->mode, e->flags);
    }
    return false;
  }
  if (!state) return false;
  lw_lockstate_t st = state(addr, t->tid);
  if (st.owner != LW_OWNER_NONE && st.owner != LW_OWNER_OTHER) return false;
  lw__report_unlock_not_owner(t, addr, type, &st, pc);
  return true;
}

void lw_foreign_unlock(lw_thread_t *t, uintptr_t addr) {
  uint64_t id;
  lw_lock_t *rec = lw_registry_find(addr, &id);
  (void)t;
  if (rec) atomic_fetch_add_explicit(&rec->foreign_unlocks, 1, memory_order_relaxed);
}

/* ---- condition variables ----------------------------------------------- */

/* Which mutex each condition variable was last waited on with. */
struct cond_binding {
  uintptr_t cond; /* the key */
  uintptr_t mutex;
  uint64_t mutex_id;
  uint32_t thread, stack;
  UT_hash_handle hh;
};
static lw_ilock_t cond_lock = LW_ILOCK_INIT;
static struct cond_binding *cond_bindings;

/*
 * Binds cond to the mutex (id) unless it is bound to another live mutex, in
 * which case that binding is copied to *earlier and false returned.
 */
static bool cond_bind(uintptr_t cond, uintptr_t mutex, uint64_t id, uint32_t thread,
                      uint32_t stack, lw_cond_earlier_t *earlier) {
  struct cond_binding *b;
  bool ok = true;
  lw_ilock_acquire(&cond_lock);
  HASH_FIND(hh, cond_bindings, &cond, sizeof cond, b);
  if (b && b->mutex_id != id) {
    uint64_t live_id;
    if (lw_registry_find(b->mutex, &live_id) && live_id == b->mutex_id) {
      *earlier = (lw_cond_earlier_t){b->mutex, b->mutex_id, b->thread, b->stack};
      ok = false;
    }
  }
  if (ok && !b && (b = lw_alloc(sizeof *b))) {
    b->cond = cond;
    lw_uthash_oom = 0;
    HASH_ADD(hh, cond_bindings, cond, sizeof b->cond, b);
    if (lw_uthash_oom) {
      lw_free(b, sizeof *b);
      b = NULL;
    }
  }
  if (ok && b) {
    b->mutex = mutex;
    b->mutex_id = id;
    b->thread = thread;
    b->stack = stack;
  }
  lw_ilock_release(&cond_lock);
  return ok;
}

void lw_cond_wait_before(lw_thread_t *t, lw_acq_t *a, uintptr_t cond, uintptr_t mutex,
                         unsigned type, lw_kind_fn kind, lw_state_fn state, uintptr_t pc) {
  bool held = false;
  for (uint32_t i = t->nheld; i-- > 0 && !held;) held = t->held[i].addr == mutex;
  lw_lockstate_t st = {LW_OWNER_UNKNOWN, 0};
  if (!held && state) st = state(mutex, t->tid);
  lw_release(t, mutex, type, NULL, pc);
  lw_acquire_before(t, a, mutex, type, kind, LW_MODE_WRITE, 0, pc);
  if (!a->rec) return;
  /*
   * Until the wait returns, the thread stands waiting for the mutex: whether
   * it is still waiting for a signal or already taking the mutex back, it
   * cannot go on while another thread holds the mutex, so the deadlock
   * search of the others may go through it.
   */
  lw_wait_begin(t, a);
  if (!held && (st.owner == LW_OWNER_NONE || st.owner == LW_OWNER_OTHER))
    lw__report_cond(t, a, cond, LW_DETAIL_NOT_HELD, NULL);
  uint64_t pair = lw_u64_mix((uint64_t)cond * 0x9e3779b97f4a7c15ULL ^ a->id) | 1;
  if (lw_u64map_get(&t->conds, pair, NULL)) return;
  lw_cond_earlier_t earlier;
  if (cond_bind(cond, mutex, a->id, t->seq, a->stack, &earlier)) lw_u64map_put(&t->conds, pair, 0);
  else lw__report_cond(t, a, cond, LW_DETAIL_TWO_MUTEXES, &earlier);
}

void lw_cond_wait_after(lw_thread_t *t, const lw_acq_t *a, bool reacquired) {
  lw_wait_end(t);
  lw_acquire_after(t, a, reacquired);
}

void lw_cond_forget(lw_thread_t *t, uintptr_t cond) {
  struct cond_binding *b;
  (void)t;
  lw_ilock_acquire(&cond_lock);
  HASH_FIND(hh, cond_bindings, &cond, sizeof cond, b);
  if (b) HASH_DEL(cond_bindings, b);
  lw_ilock_release(&cond_lock);
  lw_free(b, sizeof *b);
}

/* ---- the end of the run -------------------------------------------------- */

void lw_core_stats(lw_stats_t *s) {
  uint64_t reg_bytes, thr_bytes;
  uint32_t ns;
  memset(s, 0, sizeof *s);
  lw_registry_stats(&s->locks, &s->locks_created, &reg_bytes);
  lw_ilock_acquire(&graph.lock);
  s->edges = graph.nedges;
  s->cycle_searches = graph.searches;
  s->graph_ns = graph_ns;
  lw_ilock_release(&graph.lock);
  lw_thread_stats(&s->threads, &s->acquisitions, &s->fast_path_hits, &thr_bytes);
  s->stacks = lw_depot_count(&lw_stacks, NULL);
  s->bytes = lw_alloc_mapped();
  s->memory_exhausted = (uint64_t)lw_alloc_exhausted();
  (void)lw_report_suppressed(&ns);
  s->suppressed = ns;
}

uint32_t lw_core_report_count(void) {
  uint32_t n;
  (void)lw_report_stored(&n);
  return n;
}

/* Reads a whole small /proc file into lockwatch memory; returns its size. */
static size_t read_proc(const char *path, char **out) {
  size_t cap = 4096, n = 0;
  char *p = lw_alloc(cap);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  *out = p;
  if (!p || fd < 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  for (;;) {
    if (n + 1 == cap) {
      char *q = lw_realloc(p, cap, cap * 2);
      if (!q) break;
      p = q;
      cap *= 2;
    }
    ssize_t r = read(fd, p + n, cap - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  p[n] = 0;
  *out = p;
  return n;
}

/* Builds a NULL-terminated argv from /proc/self/cmdline. */
static const char *const *command_line(void) {
  char *text;
  size_t n = read_proc("/proc/self/cmdline", &text);
  size_t argc = 0;
  for (size_t i = 0; i < n; i++) argc += text[i] == 0;
  const char **argv = lw_alloc((argc + 1) * sizeof *argv);
  if (!argv) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n && k < argc; i += strlen(text + i) + 1) argv[k++] = text + i;
  argv[k] = NULL;
  return argv;
}

/* The program and its command line, read at start-up: once main has called
 * pthread_exit, /proc/self/exe and /proc/self/cmdline read as empty. */
static char program_path[4096];
static const char *const *program_argv;

void lw_core_capture_program(void) {
  ssize_t len = readlink("/proc/self/exe", program_path, sizeof program_path - 1);
  program_path[len > 0 ? len : 0] = 0;
  program_argv = command_line();
}

static void write_json(const lw_report_t *reports, const lw_prof_snapshot_t *profile) {
  char path[4096], err[4400];
  lw_run_info_t run;
  run.profile = profile;
  if (!program_argv) lw_core_capture_program();
  run.pid = (int)getpid();
  run.program = program_path;
  run.argv = program_argv;
  lw_core_stats(&run.stats);
  lw_buf_t b = LW_BUF_INIT;
  uint32_t ns;
  const lw_report_t *suppressed = lw_report_suppressed(&ns);
  lw_report_format_json(&b, reports, suppressed, &run);
  lw_output_expand(lw_opt.json_path, path, sizeof path);
  if (b.oom) {
    lw_output_message("out of memory while writing the JSON report");
  } else if (lw_output_file(path, lw_buf_str(&b), b.n, err, sizeof err) != 0) {
    lw_output_message(err);
    lw_output_message("the JSON report follows on stderr instead");
    lw_output_stderr(lw_buf_str(&b), b.n);
  }
  lw_buf_free(&b);
}

int lw_core_finish(int status, bool status_known) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&finished, &expected, 1)) return status;
  lw_alloc_unlimited = 1; /* the document is written whatever memory_mb says */
  if (lw_opt.dump_at_exit) lw_core_dump("at exit");
  uint32_t n;
  const lw_report_t *reports = lw_report_stored(&n);
  lw_prof_snapshot_t prof;
  bool profiled = lw_profile_on && lw_profile_snapshot(&prof);
  if (lw_profile_on && !profiled) lw_output_message("out of memory while making the profile");
  if (lw_opt.json_path && lw_opt.json_path[0]) write_json(reports, profiled ? &prof : NULL);
  if (profiled) {
    lw_profile_print(&prof);
    lw_profile_snapshot_free(&prof);
  }
  int result = status;
  if (n && status_known && status == 0) result = (int)lw_opt.exitcode;
  char msg[256];
  uint32_t ns;
  (void)lw_report_suppressed(&ns);
  if (lw_opt.verbosity >= 1 && (n || ns)) {
    int k = snprintf(msg, sizeof msg, "%u report%s", n, n == 1 ? "" : "s");
    if (ns) k += snprintf(msg + k, sizeof msg - (size_t)k, " (and %u suppressed)", ns);
    if (result != status)
      snprintf(msg + k, sizeof msg - (size_t)k, "; exit status 0 becomes %d (exitcode)", result);
    lw_output_message(msg);
    if (n && lw_core_caveat) lw_output_message(lw_core_caveat);
  }
  if (lw_opt.verbosity >= 2) {
    lw_stats_t s;
    lw_core_stats(&s);
    snprintf(msg, sizeof msg,
             "stats: %llu locks (%llu created), %llu edges, %llu acquisitions, %llu fast-path "
             "hits, %llu threads, %llu stacks, %llu bytes",
             (unsigned long long)s.locks, (unsigned long long)s.locks_created,
             (unsigned long long)s.edges, (unsigned long long)s.acquisitions,
             (unsigned long long)s.fast_path_hits, (unsigned long long)s.threads,
             (unsigned long long)s.stacks, (unsigned long long)s.bytes);
    lw_output_message(msg);
  }
  return result;
}

/* ---- fork ---------------------------------------------------------------- */

void lw_core_fork_prepare(void) {
  /* every lockwatch lock, in an order no thread takes them against */
  lw_report_fork_prepare();
  lw_output_fork_prepare();
  lw_symbolize_fork_prepare();
  lw_ilock_acquire(&cond_lock);
  lw_thread_fork_prepare();
  lw_registry_fork_prepare();
  lw_ilock_acquire(&graph.lock);
  lw_ilock_acquire(&lw_stacks.lock);
  lw_alloc_fork_prepare();
  /*
   * This thread now holds every lockwatch lock. Atfork handlers registered
   * before lockwatch's run after this one, and may lock: their bookkeeping
   * takes no lock in this thread until the fork is done.
   */
  lw_tls_forking = 1;
}

void lw_core_fork_parent(void) {
  lw_tls_forking = 0;
  lw_alloc_fork_parent();
  lw_ilock_release(&lw_stacks.lock);
  lw_ilock_release(&graph.lock);
  lw_registry_fork_parent();
  lw_thread_fork_parent();
  lw_ilock_release(&cond_lock);
  lw_symbolize_fork_parent();
  lw_output_fork_parent();
  lw_report_fork_parent();
}

void lw_core_fork_child(void) {
  lw_tls_forking = 0;
  lw_alloc_fork_child();
  lw_ilock_reset(&lw_stacks.lock);
  lw_ilock_reset(&graph.lock);
  lw_ilock_reset(&cond_lock);
  lw_registry_fork_child();
  lw_thread_fork_child();
  lw_output_fork_child();
  lw_report_fork_child(); /* the parent's reports are the parent's */
  lw_profile_fork_child(); /* and so is its profile */
  lw_symbolize_fork_child();
}
