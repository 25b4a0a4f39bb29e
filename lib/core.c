/*
 * core.c - the lock events (see core.h and docs/design.md, "What an
 * acquisition does"). The fast path of lw_acquire_before is a registry
 * lookup, a scan of the (short) held stack, a call-site lookup and a chain
 * cache lookup, all without locks or allocation.
 */
#include "core.h"
#include "core_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "class.h"
#include "docmerge.h"
#include "lw_uthash.h"
#include "depot.h"
#include "options.h"
#include "output.h"
#include "pages.h"
#include "stack.h"
#include "symbolize.h"
#include "types.h"

static lw_graph_t graph;
static lw_graph_t cgraph; /* the class graph (class.h); under graph.lock too */
static lw_u64map_t folded; /* inversion signature -> cycles folded into its report; under graph.lock */
static uint64_t edges_made; /* instance edges ever added; under graph.lock */
static uint64_t graph_ns; /* time spent adding edges and searching cycles; under graph.lock */
/* Locks held for writing that an edge keeps as possible gates (the outermost ones). */
#define LW_GATE_CANDIDATES 8
static void release_witness(lw_witness_t *w);
static void after_report(void);
static void bury_dead(lw_thread_t *t);
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
  lw_graph_init(&cgraph);
  lw_graph_witness_release = release_witness;
  lw_u64map_init(&seen_cycles, false);
  lw_u64map_init(&folded, true);
  lw_report_after_submit = after_report;
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

void lw_core_thread_joined(lw_thread_t *t, uintptr_t handle) { lw_thread_hb_joined(t->seq, handle); }

void lw_core_thread_exit(lw_thread_t *t) {
  lw__sem_purge(t);
  bury_dead(t);
  if (t->nheld) lw__report_exit_holding(t);
  if (lw_profile_on) lw_profile_fold_thread(t, true);
  lw_held_clear(t);
  if (lw_tls_self == t) lw_tls_self = NULL;
  lw_thread_release(t);
}

/* ---- identity ------------------------------------------------------------ */

/* Buries the records t ended and kept for a batch (their nodes leave the graph first). */
static void bury_dead(lw_thread_t *t) {
  uint32_t n = t->ndead;
  if (!n) return;
  lw_ilock_acquire(&graph.lock);
  for (uint32_t i = 0; i < n; i++) lw_graph_remove_node(&graph, &t->dead[i]->node);
  lw_ilock_release(&graph.lock);
  lw_registry_bury(t->dead, t->dead_addr, n);
  t->ndead = 0;
}

/*
 * Ends the identity of the lock at addr, if it has one. For a semaphore,
 * signal says why: it showed signalling use (the reports held for it are
 * dropped) or its life ended as a lock (they may be made now).
 *
 * Ending takes no lock (lw_registry_kill). A lock that took part in no
 * order (no node in the graph) and is no semaphore has nothing more to
 * undo now: its record waits in the thread's batch, buried LW_DEAD_BATCH
 * at a time, so a short-lived lock costs one registry lock, at its birth.
 */
/* lw__retire of the record rec found for addr with identity id. */
static void retire_found(lw_lock_t *rec, uint64_t id, uintptr_t addr, bool signal) {
  lw_thread_t *t = lw_tls_self;
  /* profile=1: this thread's own count of it, while the identity lives */
  if (lw_profile_on && t) lw_profile_fold_entry(&t->lcache[lw_lcache_index(addr, t->lcache_mask)], true);
  if (!lw_registry_kill(rec, id)) return;
  if (lw_profile_on) lw_profile_retire(rec, id, addr); /* its counts join its creation site's */
  if (t && rec->type != LW_TYPE_SEM && !__atomic_load_n(&rec->node.ord, __ATOMIC_RELAXED)) {
    t->dead[t->ndead] = rec;
    t->dead_addr[t->ndead] = addr;
    if (++t->ndead == LW_DEAD_BATCH) bury_dead(t);
    return;
  }
  lw_report_t *ready = NULL;
  lw_ilock_acquire(&graph.lock);
  /* under the graph lock, so no cycle through it can be held after this */
  lw_graph_remove_node(&graph, &rec->node);
  if (rec->type == LW_TYPE_SEM) /* taken by one thread only, it was in no deadlock */
    ready = lw__sem_settle(id, signal || atomic_load_explicit(&rec->users, memory_order_relaxed) !=
                                                LW_USERS_SHARED);
  lw_ilock_release(&graph.lock);
  lw_registry_bury(&rec, &addr, 1);
  lw__sem_submit(ready);
}

void lw__retire(uintptr_t addr, bool signal) {
  uint64_t id;
  lw_lock_t *rec = lw_registry_find(addr, &id);
  if (rec) retire_found(rec, id, addr, signal);
}

static void retire(uintptr_t addr) { lw__retire(addr, false); }

uint32_t lw__site_stack(lw_thread_t *t, uintptr_t pc) {
  uint64_t v = 0;
  if (lw_u64map_get(&t->sites, pc, &v)) return (uint32_t)v;
  uint32_t id = lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth);
  lw_u64map_put(&t->sites, pc, id);
  return id;
}

/* The class of a lock being created at depot stack `stack` (NULL with classes=0). */
static lw_class_t *class_for(lw_thread_t *t, uintptr_t addr, unsigned type, unsigned kind,
                             uint32_t stack, bool at_init) {
  /*
   * Semaphores stay out of the class graph: whether one is a lock is known
   * only per instance, and may change after its orders were taken (a class
   * edge outlives the instance); and every CPython lock is made at the same
   * C call site.
   */
  if (type == LW_TYPE_SEM) return NULL;
  return lw_opt.classes ? lw_class_of(&t->classes, addr, type, kind, stack, at_init) : NULL;
}

/* The thread's cached record of the lock at addr (validated), or NULL. */
static lw_lock_t *cached_record(const lw_thread_t *t, uintptr_t addr, uint64_t *id) {
  const lw_lcache_t *c = &t->lcache[lw_lcache_index(addr, t->lcache_mask)];
  if (c->addr != addr || !c->rec || atomic_load_explicit(&c->rec->id, memory_order_acquire) != c->id)
    return NULL;
  *id = c->id;
  return c->rec;
}

void lw_lock_created(lw_thread_t *t, uintptr_t addr, unsigned type, unsigned kind, uintptr_t pc) {
  uint64_t id;
  if (addr < 4096) return;
  lw_lock_t *rec = lw_registry_find(addr, &id);
  if (rec) retire_found(rec, id, addr, false);
  uint32_t stack = lw__site_stack(t, pc ? pc : 1);
  rec = lw_registry_make(addr, type, kind, stack, class_for(t, addr, type, kind, stack, true), &id);
  /* its first acquisition, most often by this thread, finds it without a lookup */
  if (rec) {
    lw_lcache_t *c = &t->lcache[lw_lcache_index(addr, t->lcache_mask)];
    if (lw_profile_on) lw_profile_fold_entry(c, true); /* the counts of the entry it replaces */
    *c = (lw_lcache_t){addr, rec, id, 0, 0, 0, 0, (uint8_t)type};
  }
}

void lw_custom_created(lw_thread_t *t, uintptr_t addr, unsigned kind, uintptr_t pc,
                       uintptr_t class_key) {
  uint64_t id;
  if (addr < 4096) return;
  retire(addr);
  uint32_t stack = lw__site_stack(t, pc ? pc : 1);
  lw_class_t *cls = NULL;
  if (lw_opt.classes)
    cls = class_key ? lw_class_of_key(class_key, LW_TYPE_CUSTOM, kind, stack)
                    : lw_class_of(&t->classes, addr, LW_TYPE_CUSTOM, kind, stack, true);
  (void)lw_registry_get_in(addr, LW_TYPE_CUSTOM, kind, stack, cls, &id);
}

lw_lockstate_t lw_held_state(uintptr_t addr, int self) {
  lw_lockstate_t st = {LW_OWNER_NONE, 0};
  lw_threads_lock();
  for (lw_thread_t *u = lw_threads_first(); u && st.owner != LW_OWNER_SELF; u = u->next_all) {
    uint32_t n = u->nheld;
    const lw_held_t *held = u->held;
    if (!u->live || !held || n > u->cap_held) continue;
    for (uint32_t i = 0; i < n; i++) {
      if (held[i].addr != addr || !held[i].rec ||
          atomic_load_explicit(&held[i].rec->id, memory_order_relaxed) != held[i].id)
        continue;
      st = (int)u->tid == self ? (lw_lockstate_t){LW_OWNER_SELF, 0}
                               : (lw_lockstate_t){LW_OWNER_OTHER, (int)u->tid};
      break;
    }
  }
  lw_threads_unlock();
  return st;
}

void lw_lock_destroy_check(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                           uintptr_t pc) {
  uint32_t i = lw_held_find(t, addr);
  const lw_held_t *mine = i == LW_HELD_NONE ? NULL : &t->held[i];
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

/* A place in released memory where a lock may start: its identity ends, if it has one. */
static void released_lock(void *arg, uintptr_t addr) {
  uint64_t id;
  (void)arg;
  if (lw_registry_find(addr, &id)) retire(addr);
}

void lw_memory_released(lw_thread_t *t, uintptr_t p, size_t n) {
  (void)t;
  uintptr_t end = p + n < p ? UINTPTR_MAX : p + n;
  lw_registry_forget_pending(p, end);
  /* only the populated parts of the range are visited, whatever its length */
  lw_pages_scan(p, end, released_lock, NULL);
}

void lw_lock_destroyed(lw_thread_t *t, uintptr_t addr) {
  uint64_t id;
  lw_lock_t *rec = cached_record(t, addr, &id);
  if (rec) retire_found(rec, id, addr, false);
  else retire(addr);
}

/* ---- orders -------------------------------------------------------------- */


static lw_lock_t *record_of(const lw_node_t *n) {
  return (lw_lock_t *)((char *)n - offsetof(lw_lock_t, node));
}

static lw_class_t *class_of_node(const lw_node_t *n) {
  return (lw_class_t *)((char *)n - offsetof(lw_class_t, node));
}

/*
 * What makes two inversions one bug: the classes of their edges (lock ids
 * when a lock has no class) and the witness stacks. Never 0.
 */
static uint64_t edge_signature(uint64_t from_key, uint64_t to_key, const lw_witness_t *w) {
  uint64_t h = lw_u64_mix(from_key * 0x9e3779b97f4a7c15ULL ^ to_key);
  return lw_u64_mix(h ^ ((uint64_t)w->stack_from << 32 | w->stack_to));
}

/*
 * True the first time an inversion with signature sig is met; afterwards
 * counts it into the report made the first time and returns false. Caller
 * holds graph.lock.
 */
static bool fold_first(uint64_t sig) {
  uint64_t n = 0;
  if (lw_u64map_get(&folded, sig, &n)) {
    lw_u64map_put(&folded, sig, n + 1);
    return false;
  }
  lw_u64map_put(&folded, sig, 1);
  return true;
}

/*
 * The ids of a witness's held set past its first skip (locks no longer held
 * then), oldest first, in an array of exactly *n ids (NULL and 0 if none).
 */
static uint64_t *held_ids(const lw_hset_t *held, uint32_t skip, uint32_t *n) {
  *n = 0;
  if (!held || held->size <= skip) return NULL;
  uint64_t *ids = lw_alloc(held->size * sizeof(uint64_t));
  if (!ids) return NULL;
  lw_hset_ids(held, ids, held->size);
  uint32_t keep = held->size - skip;
  memmove(ids, ids + skip, keep * sizeof(uint64_t));
  uint64_t *fit = lw_realloc(ids, held->size * sizeof(uint64_t), keep * sizeof(uint64_t));
  if (!fit) {
    lw_free(ids, held->size * sizeof(uint64_t));
    return NULL;
  }
  *n = keep;
  return fit;
}

/* Fills an edge of an inversion report from a cycle step and its witness. */
static void report_edge(lw_report_t *r, uint32_t k, uint32_t n, const lw_cycle_step_t *s) {
  const lw_witness_t *w = lw_edge_witness(s->edge, LW_PAIR(s->from_mode, s->to_mode));
  const lw_hset_t *held = (const lw_hset_t *)w->held_set;
  r->edges[k].from = k;
  r->edges[k].to = (k + 1) % n;
  r->edges[k].from_mode = s->from_mode;
  r->edges[k].to_mode = s->to_mode;
  r->edges[k].w = *w;
  r->edges[k].w.held_set = 0;
  r->edges[k].other_thread = s->edge->other_thread;
  memcpy(r->edges[k].threads, s->edge->threads, sizeof s->edge->threads);
  r->edges[k].nthreads = s->edge->nthreads;
  r->edges[k].held_ids = held_ids(held, w->held_skip, &r->edges[k].nheld_ids);
}

/* The step to start a reported cycle at: the one out of the node with the smallest id. */
static uint32_t cycle_start(const lw_cycle_t *c) {
  uint32_t start = 0;
  for (uint32_t i = 0; i < c->n; i++)
    if (c->steps[i].edge->from->id < c->steps[start].edge->from->id) start = i;
  return start;
}

/* Copies a witness's held set into an edge of a report (held_ids). */
static void redge_held(lw_redge_t *re, const lw_witness_t *w) {
  const lw_hset_t *held = (const lw_hset_t *)w->held_set;
  lw_free(re->held_ids, re->nheld_ids * sizeof *re->held_ids);
  re->held_ids = NULL;
  re->nheld_ids = 0;
  re->w = *w;
  re->w.held_set = 0;
  re->held_ids = held_ids(held, w->held_skip, &re->nheld_ids);
}

/* The held entry of t for lock id, or NULL. */
static const lw_held_t *held_by_id(const lw_thread_t *t, uint64_t id) {
  for (uint32_t i = 0; i < t->nheld; i++)
    if (t->held[i].addr && t->held[i].id == id) return &t->held[i];
  return NULL;
}

/*
 * Turns a cycle of lock instances into a report, unless the same set of
 * edges was reported before, or an inversion of the same classes and
 * witness stacks was (then it only counts as one more instance of it).
 * Rotated so the edge out of the lock with the smallest id comes first.
 * Caller holds graph.lock. Returns NULL if nothing to report.
 */
static lw_report_t *cycle_report(lw_thread_t *t, const lw_cycle_t *c) {
  uint64_t sig = 0, csig = 0;
  for (uint32_t i = 0; i < c->n; i++) {
    const lw_cycle_step_t *st = &c->steps[i];
    const lw_edge_t *e = st->edge;
    sig += lw_u64_mix(e->from->id * 0x9e3779b97f4a7c15ULL ^ e->to->id);
    const lw_class_t *cf = record_of(e->from)->cls, *ct = record_of(e->to)->cls;
    csig += edge_signature(cf ? cf->key : e->from->id, ct ? ct->key : e->to->id,
                           lw_edge_witness(e, LW_PAIR(st->from_mode, st->to_mode)));
  }
  sig |= 1;
  csig |= 1;
  if (lw_u64map_get(&seen_cycles, sig, NULL)) return NULL;
  lw_u64map_put(&seen_cycles, sig, 0);
  /* the gate: locks in the gate set of every edge of the cycle */
  const lw_edge_t *e0 = c->steps[0].edge;
  uint32_t ngate = lw_opt.gate_locks && e0->gate_known ? e0->ngate : 0;
  uint64_t gate[LW_GATE_CANDIDATES];
  for (uint32_t k = 0; k < ngate; k++) gate[k] = e0->gate[k];
  for (uint32_t i = 1; i < c->n && ngate; i++) {
    const lw_edge_t *e = c->steps[i].edge;
    uint32_t kept = 0;
    for (uint32_t k = 0; k < ngate; k++) {
      bool in = false;
      for (uint32_t j = 0; e->gate_known && j < e->ngate && !in; j++) in = e->gate[j] == gate[k];
      if (in) gate[kept++] = gate[k];
    }
    ngate = kept;
  }
  uint32_t nfound = 0;
  const lw_held_t *gate_held[LW_GATE_CANDIDATES];
  for (uint32_t k = 0; k < ngate; k++)
    if ((gate_held[nfound] = held_by_id(t, gate[k]))) gate[nfound++] = gate[k];
  ngate = nfound;
  /* a cycle that can deadlock and that was met before counts as one more instance of it */
  if (!ngate && !fold_first(csig)) return NULL;
  lw_report_t *r = lw_report_new(LW_REPORT_LOCK_ORDER_INVERSION, c->n + ngate, c->n);
  if (!r) return NULL;
  uint32_t start = cycle_start(c);
  for (uint32_t k = 0; k < c->n; k++) {
    const lw_cycle_step_t *s = &c->steps[(start + k) % c->n];
    r->locks[k] = lw__rlock_of(record_of(s->edge->from), s->edge->from->id);
    report_edge(r, k, c->n, s);
  }
  for (uint32_t k = 0; k < ngate; k++) r->locks[c->n + k] = lw__rlock_of(gate_held[k]->rec, gate[k]);
  if (ngate && (r->labels.gate = lw_alloc(ngate * sizeof *r->labels.gate))) {
    memcpy(r->labels.gate, gate, ngate * sizeof *gate);
    r->labels.ngate = ngate;
  }
  r->closing_edge = (c->n - start) % c->n;
  r->signature = ngate ? 0 : csig;
  lw__label_cycle(r);
  return r;
}

/*
 * Turns a cycle of the class graph into a class-level report (no two
 * instances met in both orders), unless its edges were all made by one
 * thread, or an inversion of the same classes and witness stacks was
 * reported. Each lock of the report is the first
 * instance of its class that made the edge out of it. Caller holds
 * graph.lock. Returns NULL if nothing to report.
 */
static lw_report_t *class_cycle_report(const lw_cycle_t *c) {
  uint64_t csig = 0;
  bool threads = false; /* made by more than one thread */
  for (uint32_t i = 0; i < c->n; i++) {
    const lw_cycle_step_t *st = &c->steps[i];
    const lw_witness_t *w = lw_edge_witness(st->edge, LW_PAIR(st->from_mode, st->to_mode));
    csig += edge_signature(class_of_node(st->edge->from)->key, class_of_node(st->edge->to)->key, w);
    threads |= w->thread != lw_edge_witness(c->steps[0].edge, LW_PAIR(c->steps[0].from_mode,
                                                                       c->steps[0].to_mode))->thread;
  }
  csig |= 1;
  /*
   * Locks of several classes taken in a chain (a list of mixed locks, each
   * link by its own thread or not) make class cycles that no two orders of
   * the program make: each instance is met once. A cycle that can close
   * meets one lock twice (the pool that both orders take, a static lock),
   * and is made by two threads: one thread's real cycles are instance
   * cycles, found without classes.
   */
  bool shared = false;
  for (uint32_t i = 0; i < c->n && !shared; i++) {
    const lw_cycle_step_t *a = &c->steps[i];
    const lw_witness_t *wa = lw_edge_witness(a->edge, LW_PAIR(a->from_mode, a->to_mode));
    shared = class_of_node(a->edge->from)->how == LW_CLASS_STATIC;
    for (uint32_t k = i + 1; k < c->n && !shared; k++) {
      const lw_cycle_step_t *b = &c->steps[k];
      const lw_witness_t *wb = lw_edge_witness(b->edge, LW_PAIR(b->from_mode, b->to_mode));
      shared = wa->from_id == wb->to_id || wa->to_id == wb->from_id ||
               wa->from_id == wb->from_id || wa->to_id == wb->to_id;
    }
  }
  if (!threads || !shared) return NULL;
  if (!fold_first(csig)) return NULL;
  lw_report_t *r = lw_report_new(LW_REPORT_LOCK_ORDER_INVERSION, c->n, c->n);
  if (!r) return NULL;
  uint32_t start = cycle_start(c);
  for (uint32_t k = 0; k < c->n; k++) {
    const lw_cycle_step_t *s = &c->steps[(start + k) % c->n];
    const lw_class_t *cls = class_of_node(s->edge->from);
    const lw_witness_t *w = lw_edge_witness(s->edge, LW_PAIR(s->from_mode, s->to_mode));
    r->locks[k] = (lw_rlock_t){.id = w->from_id, .addr = cls->addr, .type = cls->type,
                               .create_stack = cls->stack, .cls = cls};
    report_edge(r, k, c->n, s);
  }
  r->closing_edge = (c->n - start) % c->n;
  r->class_level = true;
  r->signature = csig;
  lw__label_cycle(r);
  return r;
}

/*
 * The set of every lock t holds, with a reference for the caller (NULL on
 * OOM), and in *skip the number of its oldest locks no longer held. Sets are
 * made from t->sets_from up only: below, each entry's set is still right,
 * except that it may keep locks released from the bottom of the stack as
 * its oldest ones (so a release from the bottom costs nothing here).
 */
static lw_hset_t *held_set(lw_thread_t *t, uint32_t *skip) {
  *skip = 0;
  if (!t->nheld) return NULL;
  for (uint32_t i = t->sets_from; i < t->nheld; i++) {
    lw_held_t *h = &t->held[i];
    if (!h->addr) continue;
    lw_hset_unref(h->set);
    h->set = lw_hset_push(h->below == LW_HELD_NONE ? NULL : t->held[h->below].set, h->id);
    if (!h->set) {
      t->sets_from = i;
      return NULL;
    }
  }
  t->sets_from = t->nheld;
  lw_hset_t *top = t->held[t->nheld - 1].set;
  *skip = top->size - lw_held_live(t);
  return lw_hset_ref(top);
}

static void release_witness(lw_witness_t *w) { lw_hset_unref((lw_hset_t *)w->held_set); }

/* Is rec a semaphore that only t made and asked for so far? */
static bool own_semaphore(const lw_thread_t *t, const lw_lock_t *rec, unsigned type) {
  return type == LW_TYPE_SEM && atomic_load_explicit(&rec->users, memory_order_relaxed) == t->seq + 1;
}

/*
 * Records the class edge under the instance edge h -> a that was just added
 * with witness w, unless both locks are of one class (nesting within a
 * class is no cycle by itself). Returns a class-level report if the class
 * edge closes a cycle and the instance edge did not (instance_cycle).
 * Caller holds graph.lock.
 */
static lw_report_t *class_edge(const lw_held_t *h, const lw_acq_t *a, const lw_witness_t *w,
                               bool instance_cycle) {
  lw_class_t *from = h->rec->cls, *to = a->rec->cls;
  if (!from || !to || from == to) return NULL;
  lw_witness_t cw = *w;
  cw.held_set = (uintptr_t)lw_hset_ref((lw_hset_t *)w->held_set);
  lw_cycle_t cycle;
  lw_report_t *rep = NULL;
  int r = lw_graph_add_edge(&cgraph, &from->node, &to->node, h->mode, a->mode, &cw, &cycle);
  if (r != LW_EDGE_ADDED && r != LW_EDGE_CYCLE) release_witness(&cw);
  if (r == LW_EDGE_CYCLE) {
    if (!instance_cycle) rep = class_cycle_report(&cycle);
    lw_cycle_release(&cycle);
  }
  return rep;
}

/*
 * Cycles that pass (guarded, or ordered with report_ordered=0), kept apart
 * until the end of the run: a later witness can still make one fail
 * (aside_update), and what is left is reported, passing, at exit after the
 * other reports. Under graph.lock.
 */
static lw_report_t **aside;
static uint32_t naside, cap_aside;

/* Keeps r apart; false when there is no room (then it is reported now, passing). */
static bool aside_add(lw_report_t *r) {
  if (naside == cap_aside) {
    uint32_t cap = cap_aside ? cap_aside * 2 : 8;
    void *p = lw_realloc(aside, cap_aside * sizeof *aside, cap * sizeof *aside);
    if (!p) return false;
    aside = p;
    cap_aside = cap;
  }
  aside[naside++] = r;
  return true;
}

/*
 * Edge e (pair) changed: its gate set narrowed (narrowed_by is the witness
 * that narrowed it, or NULL) or a new thread made it. Cycles kept apart
 * that contain it are labelled again; those that now fail leave the list and
 * are chained on *out, to be submitted once the graph lock is released.
 */
static void aside_update(const lw_edge_t *e, unsigned pair, const lw_witness_t *narrowed_by,
                         lw_report_t **out) {
  for (uint32_t i = 0; i < naside;) {
    lw_report_t *r = aside[i];
    bool touched = false;
    for (uint32_t k = 0; k < r->nedges; k++) {
      lw_redge_t *re = &r->edges[k];
      if (r->locks[re->from].id != e->from->id || r->locks[re->to].id != e->to->id) continue;
      touched = true;
      memcpy(re->threads, e->threads, sizeof e->threads);
      re->nthreads = e->nthreads;
      if (!narrowed_by) continue;
      if ((unsigned)LW_PAIR(re->from_mode, re->to_mode) == pair) redge_held(re, narrowed_by);
      uint32_t kept = 0;
      for (uint32_t g = 0; g < r->labels.ngate; g++) {
        bool in = false;
        for (uint32_t j = 0; j < e->ngate && !in; j++) in = e->gate[j] == r->labels.gate[g];
        if (in) {
          r->locks[r->nedges + kept] = r->locks[r->nedges + g];
          r->labels.gate[kept++] = r->labels.gate[g];
        }
      }
      r->labels.ngate = kept;
      r->nlocks = r->nedges + kept;
    }
    if (touched) lw__label_cycle(r);
    if (touched && !r->passes) {
      aside[i] = aside[--naside];
      r->next = *out;
      *out = r;
      continue;
    }
    i++;
  }
}

/*
 * Ids of the locks t holds for writing that may be gates of an edge into
 * lock `to`: the LW_GATE_CANDIDATES outermost (oldest) ones, ascending.
 * Returns their number.
 */
static uint32_t gate_candidates(const lw_thread_t *t, uint64_t to, uint64_t *out) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < t->nheld && n < LW_GATE_CANDIDATES; i++) {
    const lw_held_t *h = &t->held[i];
    if (!h->addr || h->mode != LW_MODE_WRITE || h->id == to) continue; /* a hole, a reader */
    if (h->foreign != atomic_load_explicit(&h->rec->foreign_unlocks, memory_order_relaxed)) continue;
    uint32_t j = n++;
    for (; j > 0 && out[j - 1] > h->id; j--) out[j] = out[j - 1];
    out[j] = h->id;
  }
  return n;
}

/*
 * The slow path: publishes held -> a for each held lock the rule selects
 * (from the top, up to and including the first blocking exclusive
 * acquisition), skipping orders this thread published before.
 */
static void publish_orders(lw_thread_t *t, const lw_acq_t *a) {
  uint32_t stack_to = 0, skip = 0;
  lw_hset_t *set = NULL;
  bool prepared = false, have_gate = false;
  uint64_t gate[LW_GATE_CANDIDATES], gsig = 0;
  uint32_t ngate = 0;
  for (uint32_t i = t->nheld ? t->nheld - 1 : LW_HELD_NONE; i != LW_HELD_NONE;
       i = t->held[i].below) {
    lw_held_t *h = &t->held[i];
    unsigned pair = LW_PAIR(h->mode, a->mode);
    bool stale = h->foreign != atomic_load_explicit(&h->rec->foreign_unlocks, memory_order_relaxed);
    uint64_t seen_sig = 0;
    int known = h->id == a->id || stale ? 0 : lw_thread_edge_gated(t, h->id, a->id, pair, &seen_sig);
    if (known != 0 && !have_gate) {
      ngate = lw_opt.gate_locks ? gate_candidates(t, a->id, gate) : 0;
      gsig = 0x6a09e667f3bcc909ULL ^ ngate;
      for (uint32_t k = 0; k < ngate; k++) gsig = lw_u64_mix(gsig * 0x9e3779b97f4a7c15ULL + gate[k]);
      gsig |= 1; /* never 0, the value of an edge no candidates narrowed */
      have_gate = true;
    }
    if (known > 0 && seen_sig == gsig) known = 0; /* narrowed with these candidates already */
    if (known != 0) {
      if (!prepared) {
        set = held_set(t, &skip);
        prepared = true;
      }
      /*
       * An order with a semaphore that only this thread ever made and asked
       * for names the stack of the call site (captured once per site): a
       * Python program makes such a semaphore at every Condition.wait, with
       * new orders each time, gone at its next operation (a signal); a
       * capture each would cost more than the program.
       */
      uint32_t to = a->stack;
      if (!own_semaphore(t, a->rec, a->type) && !own_semaphore(t, h->rec, h->type)) {
        if (!stack_to) stack_to = lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth);
        to = stack_to;
      }
      lw_witness_t w = {t->seq, h->stack, to, skip, (uintptr_t)lw_hset_ref(set), h->id, a->id};
      lw_cycle_t cycle;
      lw_report_t *rep = NULL, *promoted = NULL;
      int r = LW_EDGE_ERROR;
      bool gated = false, kept = false;
      lw_ilock_acquire(&graph.lock);
      if (atomic_load_explicit(&h->rec->id, memory_order_acquire) == h->id &&
          atomic_load_explicit(&a->rec->id, memory_order_acquire) == a->id) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (known < 0)
          r = lw_graph_add_edge(&graph, &h->rec->node, &a->rec->node, h->mode, a->mode, &w, &cycle);
        else
          r = LW_EDGE_KNOWN; /* republished for its gate set only */
        kept = r == LW_EDGE_ADDED || r == LW_EDGE_CYCLE;
        lw_edge_t *e = r == LW_EDGE_ERROR ? NULL
                                          : lw_graph_find_edge(&graph, &h->rec->node, &a->rec->node);
        if (e && lw_opt.gate_locks) {
          bool narrowed = lw_graph_edge_narrow(e, gate, ngate);
          gated = e->ngate > 0;
          lw_witness_t *old = (lw_witness_t *)lw_edge_witness(e, pair);
          if (narrowed && !kept && old) { /* show the witness without the gate from now on */
            release_witness(old);
            *old = w;
            kept = true;
          }
          if (naside && (narrowed || known < 0))
            aside_update(e, pair, narrowed ? &w : NULL, &promoted);
        }
        if (r == LW_EDGE_CYCLE) {
          rep = cycle_report(t, &cycle);
          lw_cycle_release(&cycle);
          if (rep && lw__sem_hold(rep)) rep = NULL; /* until its semaphores' fate is known */
          else if (rep && rep->passes && aside_add(rep)) rep = NULL;
        }
        if (r == LW_EDGE_ADDED || r == LW_EDGE_CYCLE) {
          edges_made++;
          lw_report_t *crep = class_edge(h, a, &w, r == LW_EDGE_CYCLE);
          if (!rep) rep = crep;
          else if (crep) lw_report_free(crep);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        graph_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec -
                    (uint64_t)t0.tv_nsec;
      }
      lw_ilock_release(&graph.lock);
      if (!kept) release_witness(&w); /* the graph kept none */
      if (r != LW_EDGE_ERROR) lw_thread_put_edge(t, h->id, a->id, pair, gated, gsig);
      if (rep) lw_report_submit(rep);
      while (promoted) {
        lw_report_t *next = promoted->next;
        promoted->next = NULL;
        if (!lw__sem_hold(promoted)) lw_report_submit(promoted);
        promoted = next;
      }
    }
    if (!(h->flags & (LW_ACQ_TRY | LW_HELD_REBRIDGE)) && h->mode == LW_MODE_WRITE) break;
  }
  lw_hset_unref(set);
}
/* At the end of the run: the cycles still kept apart are reported, passing. */
static void aside_flush(void) {
  lw_ilock_acquire(&graph.lock);
  lw_report_t **list = aside;
  uint32_t n = naside, cap = cap_aside;
  aside = NULL;
  naside = cap_aside = 0;
  lw_ilock_release(&graph.lock);
  for (uint32_t i = 0; i < n; i++) lw_report_submit(list[i]);
  lw_free(list, cap * sizeof *list);
}

/* ---- acquisitions -------------------------------------------------------- */


/* ---- acquisitions -------------------------------------------------------- */

/* How to read each type of lock's state, from the preload (NULL: not known). */
static lw_state_fn state_fns[LW_TYPE_COUNT];

void lw_core_set_state_fn(unsigned type, lw_state_fn fn) {
  if (type < LW_TYPE_COUNT) state_fns[type] = fn;
}

/*
 * Does the lock at addr, which t's held stack says t holds, hold still by
 * its own memory? False only when the memory says unlocked or held by
 * another thread; true when it cannot tell.
 */
static bool still_locked(const lw_thread_t *t, uintptr_t addr, unsigned type) {
  lw_state_fn fn = type < LW_TYPE_COUNT ? state_fns[type] : NULL;
  if (!fn) return true;
  lw_lockstate_t st = fn(addr, t->tid);
  return st.owner != LW_OWNER_NONE && st.owner != LW_OWNER_OTHER;
}


lw_lock_t *lw__record_for(lw_thread_t *t, uintptr_t addr, unsigned type, lw_kind_fn kind,
                             uintptr_t pc, uint64_t *id) {
  if (addr < 4096) return NULL; /* not a lock: the real call will fail or fault, untracked */
  lw_lock_t *rec = lw_registry_find(addr, id);
  if (rec && rec->type == type) return rec;
  /*
   * a semaphore is a lock only from its sem_init or sem_open, a custom lock
   * only from lockwatch_lock_create (never made here)
   */
  if (type == LW_TYPE_SEM || type == LW_TYPE_CUSTOM) return NULL;
  if (rec) retire(addr); /* memory reused for another kind of lock */
  unsigned k = kind ? kind(addr) : 0;
  uint32_t stack = lw__site_stack(t, pc);
  return lw_registry_get_in(addr, type, k, stack, class_for(t, addr, type, k, stack, false), id);
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

static void acquire_slow(lw_thread_t *t, lw_acq_t *a, uintptr_t addr, unsigned type,
                         lw_kind_fn kind, unsigned mode, unsigned flags, uintptr_t pc) {
  a->pc = pc ? pc : 1;
  if (type == LW_TYPE_SEM) lw__sem_purge(t);
  a->rec = lw__record_for(t, addr, type, kind, a->pc, &a->id);
  if (!a->rec) return;
  a->stack = lw__site_stack(t, a->pc);
  lw_lcache_t *c = &t->lcache[lw_lcache_index(addr, t->lcache_mask)];
  uint32_t acq = 1; /* this acquisition, unless the fast path already counted it in c */
  if (c->addr == addr && c->rec == a->rec && c->id == a->id && c->type == type) acq = c->acq;
  else if (lw_profile_on) lw_profile_fold_entry(c, true);
  *c = (lw_lcache_t){addr, a->rec, a->id, a->pc, 0, a->stack, acq, (uint8_t)type};
  t->scache[lw_scache_index(a->pc)] = (lw_scache_t){a->pc, a->stack};
  for (uint32_t i = lw_held_find(t, addr); i != LW_HELD_NONE; i = LW_HELD_NONE) {
    const lw_held_t *h = &t->held[i];
    if (h->id != a->id) break;
    if (h->foreign != atomic_load_explicit(&a->rec->foreign_unlocks, memory_order_relaxed)) {
      /* another thread unlocked it for us (reported then): we no longer hold it */
      lw_release(t, addr, type, NULL, pc);
      break;
    }
    if (type == LW_TYPE_SEM) {
      /*
       * A semaphore waited again by its holder: only a post by another thread
       * can let this go on (a Condition's waiter lock in Python): a signal.
       */
      lw__sem_signal(t, addr);
      a->rec = NULL;
      return;
    }
    if (!still_locked(t, addr, type)) {
      /*
       * Held by us, yet its memory says unlocked (or another thread's): a new
       * lock at the address of one we abandoned locked (a mutex on the stack
       * of a function that returned holding it). Not a self-deadlock: the old
       * identity ends, this acquisition is of a new lock.
       */
      lw__report_abandoned(t, a, h);
      lw_held_remove(t, i);
      retire(addr);
      a->rec = lw__record_for(t, addr, type, kind, a->pc, &a->id);
      if (!a->rec) return;
      *c = (lw_lcache_t){addr, a->rec, a->id, a->pc, 0, a->stack, 1, (uint8_t)type};
      break;
    }
    if ((a->rec->kind & LW_KIND_RECURSIVE) || (flags & LW_ACQ_REENTER) ||
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
  if (LW_FAST_UNLIKELY(lw_lock_rank(a->rec) != LW_RANK_NONE)) lw__check_rank(t, a);
  publish_orders(t, a);
  lw_u64map_put(&t->chains, key, 0);
}

static void after_slow(lw_thread_t *t, const lw_acq_t *a) {
  if (a->relock == LW_ACQ_RELOCK) {
    uint32_t i = lw_held_find(t, a->addr);
    if (i != LW_HELD_NONE) {
      t->held[i].count++;
      return;
    }
  }
  bool sampled = a->relock == LW_ACQ_SAMPLED;
  lw_held_t e = {.addr = a->addr, .rec = a->rec, .id = a->id, .stack = a->stack,
                 .count = sampled ? 1 | LW_HELD_SAMPLED : 1,
                 .foreign = atomic_load_explicit(&a->rec->foreign_unlocks, memory_order_relaxed),
                 .mode = a->mode, .flags = a->flags, .type = a->type,
                 .since = sampled ? lw_profile_now() : 0};
  (void)lw_held_push(t, &e);
}

static bool release_slow(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                         uintptr_t pc) {
  uint32_t i = lw_held_find(t, addr);
  if (i != LW_HELD_NONE) {
    lw_held_t *h = &t->held[i];
    if (LW_HELD_COUNT(h) > 1) {
      h->count--;
      return false;
    }
    if (h->count & LW_HELD_SAMPLED) lw_profile_held(h->rec, h->id, h->stack, h->since);
    lw_held_remove(t, i);
    return false;
  }
  if (!state) return false;
  lw_lockstate_t st = state(addr, t->tid);
  if (st.owner != LW_OWNER_NONE && st.owner != LW_OWNER_OTHER) return false;
  lw__report_unlock_not_owner(t, addr, type, &st, pc);
  return true;
}

/*
 * The slow paths seen from the wrappers: the program's errno comes out as it
 * went in (a stack capture or a new chunk of memory may set it), so the fast
 * paths need not save it.
 */
void lw__acquire_slow(lw_thread_t *t, lw_acq_t *a, uintptr_t addr, unsigned type,
                      lw_kind_fn kind, unsigned mode, unsigned flags, uintptr_t pc) {
  int saved = errno;
  acquire_slow(t, a, addr, type, kind, mode, flags, pc);
  if (a->rec) lw_lock_note_user(a->rec, t);
  errno = saved;
}

void lw__after_slow(lw_thread_t *t, const lw_acq_t *a) {
  int saved = errno;
  after_slow(t, a);
  errno = saved;
}

bool lw__release_slow(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                      uintptr_t pc) {
  int saved = errno;
  bool foreign = release_slow(t, addr, type, state, pc);
  errno = saved;
  return foreign;
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
  bool held = lw_held_find(t, mutex) != LW_HELD_NONE;
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
  s->locks -= lw_thread_dead_pending(); /* ended, not yet buried */
  lw_ilock_acquire(&graph.lock);
  s->edges = graph.nedges;
  s->cycle_searches = graph.searches;
  s->graph_ns = graph_ns;
  s->edges_created = edges_made;
  s->class_edges = cgraph.nedges;
  lw_ilock_release(&graph.lock);
  s->classes = lw_class_count();
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
  lw_class_set_program(program_path);
  program_argv = command_line();
}

/*
 * A copy of the class graph for the JSON document: every mode pair of every
 * edge with its witness. *n is set; NULL (and *n 0) if there is none or
 * memory ran out. The caller frees *capacity entries with lw_free.
 */
static lw_cedge_t *class_graph_copy(uint32_t *n, uint32_t *capacity) {
  lw_cedge_t *out = NULL;
  uint32_t cap = 0;
  *n = 0;
  lw_ilock_acquire(&graph.lock);
  for (uint32_t i = 0; cgraph.slots && i <= cgraph.mask; i++) {
    const lw_edge_t *e = cgraph.slots[i];
    if (!e) continue;
    for (unsigned pair = 0; pair < 4; pair++) {
      const lw_witness_t *w = lw_edge_witness(e, pair);
      if (!w) continue;
      if (*n == cap) {
        uint32_t ncap = cap ? cap * 2 : 64;
        lw_cedge_t *p = lw_realloc(out, (size_t)cap * sizeof *p, (size_t)ncap * sizeof *p);
        if (!p) goto done;
        out = p;
        cap = ncap;
      }
      out[(*n)++] = (lw_cedge_t){(uint32_t)e->from->id, (uint32_t)e->to->id, (uint8_t)(pair >> 1),
                                 (uint8_t)(pair & 1), *w};
    }
  }
done:
  lw_ilock_release(&graph.lock);
  *capacity = cap;
  return out;
}

/* Sets each stored inversion's count of the cycles folded into it. Caller holds graph.lock. */
static void count_instances(const lw_report_t *reports) {
  for (const lw_report_t *r = reports; r; r = r->next) {
    uint64_t n = 0;
    if (r->signature && lw_u64map_get(&folded, r->signature, &n) && n)
      ((lw_report_t *)r)->instances = (uint32_t)n;
  }
}

static unsigned inherited_reports; /* reports an exec'd-from image of this process left */

/* Renders the JSON document of the run as it stands into b (b->oom on failure). */
static void render_json(lw_buf_t *b, const lw_report_t *reports,
                        const lw_prof_snapshot_t *profile) {
  lw_run_info_t run;
  run.profile = profile;
  if (!program_argv) lw_core_capture_program();
  run.pid = (int)getpid();
  run.program = program_path;
  run.argv = program_argv;
  lw_core_stats(&run.stats);
  uint32_t cap = 0;
  run.class_edges = class_graph_copy(&run.nclass_edges, &cap);
  run.run_id = lw_opt.run_id;
  uint32_t ns;
  const lw_report_t *suppressed = lw_report_suppressed(&ns);
  lw_ilock_acquire(&graph.lock);
  count_instances(reports);
  count_instances(suppressed);
  lw_ilock_release(&graph.lock);
  lw_report_format_json(b, reports, suppressed, &run);
  lw_free((void *)run.class_edges, (size_t)cap * sizeof *run.class_edges);
}

static void write_json(const lw_report_t *reports, const lw_prof_snapshot_t *profile) {
  char path[4096], err[4400];
  lw_buf_t b = LW_BUF_INIT;
  render_json(&b, reports, profile);
  lw_output_expand(lw_opt.json_path, path, sizeof path);
  if (b.oom) {
    lw_output_message("out of memory while writing the JSON report");
  } else if (lw_doc_write(path, lw_buf_str(&b), b.n, err, sizeof err, &inherited_reports) != 0) {
    lw_output_message(err);
    lw_output_message("the JSON report follows on stderr instead");
    lw_output_stderr(lw_buf_str(&b), b.n);
  }
  lw_buf_free(&b);
}

void lw_core_save_document(void) {
  if (!lw_opt.json_path || !lw_opt.json_path[0] || atomic_load(&finished)) return;
  uint32_t n, nsup;
  const lw_report_t *reports = lw_report_stored(&n);
  (void)lw_report_suppressed(&nsup);
  /*
   * Only reports are worth a document here: a fork child about to exec has
   * its parent's class graph, which the parent writes itself.
   */
  if (!n && !nsup) return;
  write_json(reports, NULL);
}

/* ---- the document, ready for a signal that ends the process -------------- */

/* The JSON document rendered after the last report, with where it goes. */
struct prepared_doc {
  size_t size; /* of this allocation */
  size_t n;
  pid_t pid;
  char path[4096], tmp[4200];
  char data[];
};
static struct prepared_doc *_Atomic prepared;
static _Atomic int doc_writers; /* lw_core_write_json_now calls begun: no document is freed then */
static lw_ilock_t prepare_lock = LW_ILOCK_INIT;
void (*lw_core_on_report)(void);

void lw_core_json_prepare(void) {
  if (!lw_opt.json_path || !lw_opt.json_path[0] || atomic_load(&finished)) return;
  lw_ilock_acquire(&prepare_lock);
  uint32_t n;
  const lw_report_t *reports = lw_report_stored(&n);
  lw_buf_t b = LW_BUF_INIT;
  render_json(&b, reports, NULL);
  struct prepared_doc *d = NULL;
  size_t size = sizeof *d + b.n;
  if (!b.oom && (d = lw_alloc(size))) {
    d->size = size;
    d->n = b.n;
    d->pid = getpid();
    lw_output_expand(lw_opt.json_path, d->path, sizeof d->path);
    snprintf(d->tmp, sizeof d->tmp, "%s.tmp.%d", d->path, (int)d->pid);
    memcpy(d->data, lw_buf_str(&b), b.n);
    struct prepared_doc *old = atomic_exchange(&prepared, d);
    if (old && atomic_load(&doc_writers) == 0) lw_free(old, old->size);
  }
  lw_buf_free(&b);
  lw_ilock_release(&prepare_lock);
}

bool lw_core_write_json_now(void) {
  atomic_fetch_add(&doc_writers, 1); /* never decremented: the process is ending */
  struct prepared_doc *d = atomic_load(&prepared);
  if (!d || atomic_load(&finished) || d->pid != getpid()) return false;
  int saved = errno;
  int fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  bool ok = fd >= 0;
  for (size_t done = 0; ok && done < d->n;) {
    ssize_t w = write(fd, d->data + done, d->n - done);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) done += (size_t)w;
  }
  if (fd >= 0 && close(fd) != 0) ok = false;
  if (ok) ok = rename(d->tmp, d->path) == 0;
  if (!ok && fd >= 0) unlink(d->tmp);
  errno = saved;
  return ok;
}

static void after_report(void) {
  lw_core_json_prepare();
  if (lw_core_on_report) lw_core_on_report();
}

int lw_core_finish(int status, bool status_known) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&finished, &expected, 1)) return status;
  lw_alloc_unlimited = 1; /* the document is written whatever memory_mb says */
  if (lw_opt.dump_at_exit) lw_core_dump("at exit");
  lw__sem_flush(); /* reports held for semaphores that never showed signalling use */
  aside_flush();   /* cycles that cannot deadlock come last */
  uint32_t n, failing = lw_report_failing();
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
  if ((failing || inherited_reports) && status_known && status == 0) result = (int)lw_opt.exitcode;
  char msg[256];
  uint32_t ns;
  (void)lw_report_suppressed(&ns);
  if (lw_opt.verbosity >= 1 && (n || ns || inherited_reports)) {
    int k = snprintf(msg, sizeof msg, "%u report%s", failing, failing == 1 ? "" : "s");
    if (n > failing)
      k += snprintf(msg + k, sizeof msg - (size_t)k,
                    " (and %u listed that change nothing: cycles that cannot deadlock, or that "
                    "options let pass)", n - failing);
    if (inherited_reports)
      k += snprintf(msg + k, sizeof msg - (size_t)k, " (and %u made before exec)",
                    inherited_reports);
    if (ns) k += snprintf(msg + k, sizeof msg - (size_t)k, " (and %u suppressed)", ns);
    if (result != status)
      snprintf(msg + k, sizeof msg - (size_t)k, "; exit status 0 becomes %d (exitcode)", result);
    lw_output_message(msg);
    if (failing && lw_core_caveat) lw_output_message(lw_core_caveat);
  }
  if (lw_opt.verbosity >= 2) {
    lw_stats_t s;
    lw_core_stats(&s);
    snprintf(msg, sizeof msg,
             "stats: %llu locks seen (%llu live at exit), %llu edges seen (%llu live at exit), "
             "%llu classes, %llu class edges, %llu acquisitions, %llu fast-path hits, %llu "
             "threads, %llu stacks, %llu bytes",
             (unsigned long long)s.locks_created, (unsigned long long)s.locks,
             (unsigned long long)s.edges_created, (unsigned long long)s.edges,
             (unsigned long long)s.classes, (unsigned long long)s.class_edges,
             (unsigned long long)s.acquisitions,
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
  lw_class_fork_prepare();
  lw_thread_fork_prepare();
  lw_registry_fork_prepare();
  lw_ilock_acquire(&graph.lock);
  lw__sem_fork_prepare();
  lw_ilock_acquire(&lw_stacks.lock);
  lw_thread_hb_fork_prepare();
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
  lw_thread_hb_fork_parent();
  lw_ilock_release(&lw_stacks.lock);
  lw__sem_fork_parent();
  lw_ilock_release(&graph.lock);
  lw_registry_fork_parent();
  lw_thread_fork_parent();
  lw_class_fork_parent();
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
  lw__sem_fork_child();
  lw_thread_hb_fork_child();
  aside = NULL; /* the parent's cycles are the parent's */
  naside = cap_aside = 0;
  lw_ilock_reset(&cond_lock);
  lw_class_fork_child();
  lw_registry_fork_child();
  lw_thread_fork_child();
  lw_output_fork_child();
  lw_report_fork_child(); /* the parent's reports are the parent's */
  lw_ilock_reset(&prepare_lock);
  atomic_store(&prepared, NULL); /* and so is their document */
  lw_profile_fork_child(); /* and so is its profile */
  lw_symbolize_fork_child();
}
