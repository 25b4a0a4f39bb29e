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

struct lw_pub_edge {
  struct {
    uint64_t from, to;
    uint64_t pair;
  } key;
  UT_hash_handle hh;
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

uint32_t lw_thread_new_seq(uint32_t parent, uint32_t create_stack) {
  lw_ilock_acquire(&threads_lock);
  uint32_t seq = new_info(parent, create_stack);
  lw_ilock_release(&threads_lock);
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
    t->nheld = 0;
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
  struct lw_pub_edge *e, *tmp;
  HASH_ITER(hh, t->edges, e, tmp) {
    HASH_DEL(t->edges, e);
    lw_free(e, sizeof *e);
  }
  lw_u64map_clear(&t->chains);
  memset(t->chain_front, 0, sizeof t->chain_front);
}

static void clear_caches(lw_thread_t *t) {
  forget_orders(t);
  lw_u64map_clear(&t->sites);
  lw_u64map_clear(&t->conds);
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

uint32_t lw_thread_seq_of_tid(pid_t tid) {
  uint32_t seq = LW_NO_SEQ;
  lw_ilock_acquire(&threads_lock);
  for (uint32_t i = ninfos; i-- > 0 && seq == LW_NO_SEQ;)
    if (infos[i].alive && infos[i].tid == tid) seq = i;
  lw_ilock_release(&threads_lock);
  return seq;
}

void lw_thread_trim_orders(lw_thread_t *t) {
  uint64_t size = t->chains.count + HASH_COUNT(t->edges);
  uint64_t retired = lw_registry_retired();
  if (size < 1024 || (retired - t->flush_mark) * 2 < size) return;
  forget_orders(t);
  t->flush_mark = retired;
}

bool lw_thread_has_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair) {
  struct lw_pub_edge probe, *found;
  memset(&probe, 0, sizeof probe);
  probe.key.from = from;
  probe.key.to = to;
  probe.key.pair = pair;
  HASH_FIND(hh, t->edges, &probe.key, sizeof probe.key, found);
  return found != NULL;
}

void lw_thread_add_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair) {
  struct lw_pub_edge *e = lw_alloc(sizeof *e);
  if (!e) return;
  e->key.from = from;
  e->key.to = to;
  e->key.pair = pair;
  lw_uthash_oom = 0;
  HASH_ADD(hh, t->edges, key, sizeof e->key, e);
  if (lw_uthash_oom) lw_free(e, sizeof *e);
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
    b += lw_u64map_bytes(&t->chains) + lw_u64map_bytes(&t->sites) + lw_u64map_bytes(&t->conds);
    b += (uint64_t)HASH_COUNT(t->edges) * sizeof(struct lw_pub_edge);
    if (t->edges) b += (uint64_t)t->edges->hh.tbl->num_buckets * sizeof(UT_hash_bucket);
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

void lw_thread_fork_child(void) {
  lw_ilock_reset(&threads_lock);
  /* only the forking thread survives; the others' states are dropped, not freed */
  lw_thread_t *self = lw_tls_self;
  for (lw_thread_t *t = all_threads; t; t = t->next_all) {
    if (t == self || !t->live) continue;
    gone_acq += t->acquisitions;
    gone_fast += t->fast_hits;
    t->live = false;
    t->nheld = 0;
    if (t->seq < ninfos) infos[t->seq].alive = false;
  }
  if (self) {
    self->tid = (pid_t)syscall(SYS_gettid);
    if (self->seq < ninfos) infos[self->seq].tid = self->tid;
  }
}
