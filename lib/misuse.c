/*
 * misuse.c - reports of API misuse: double-lock, unlock-not-owner,
 * destroy-locked, thread-exit-holding-lock and cond-wait-unheld. Each is
 * built as data (the locks, and labelled stacks) and reported once per
 * distinct place in the program. The rules are in docs/rules.md.
 */
#include <stdatomic.h>

#include "core_internal.h"
#include "depot.h"
#include "options.h"
#include "stack.h"
#include "types.h"
#include "u64map.h"

static lw_rlock_t rlock_of(const lw_lock_t *rec, uint64_t id) { return lw__rlock_of(rec, id); }

static uint32_t stack_here(void) { return lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth); }

/* Signature of a problem: its kind, its detail and the stacks that place it. */
static uint64_t signature(unsigned kind, unsigned detail, uint32_t s1, uint32_t s2) {
  return lw_u64_mix(((uint64_t)kind << 56 ^ (uint64_t)detail << 48) ^ lw_u64_mix(s1) ^
                    lw_u64_mix((uint64_t)s2 << 32 | 7));
}

/* A report about one lock; NULL on OOM. */
static lw_report_t *one_lock_report(unsigned kind, unsigned detail, const lw_lock_t *rec,
                                    uint64_t id) {
  lw_report_t *r = lw_report_new(kind, 1, 0);
  if (!r) return NULL;
  r->locks[0] = rlock_of(rec, id);
  r->detail = detail;
  return r;
}

/* What a re-lock by the owner does, by lock type and kind (glibc's behaviour). */
static unsigned double_lock_detail(const lw_acq_t *a, const lw_held_t *h) {
  if (a->type == LW_TYPE_RWLOCK) {
    if (h->mode == LW_MODE_WRITE) return LW_DETAIL_FAILS; /* EDEADLK */
    if (a->mode == LW_MODE_WRITE)
      return (a->flags & LW_ACQ_TIMED) ? LW_DETAIL_TIMES_OUT : LW_DETAIL_BLOCKS_FOREVER;
    return LW_DETAIL_MAY_BLOCK; /* read on read of a writer-preferring rwlock */
  }
  if (a->type != LW_TYPE_SPIN && (a->rec->kind & LW_KIND_ERRORCHECK)) return LW_DETAIL_FAILS;
  if (a->flags & LW_ACQ_TIMED) return LW_DETAIL_TIMES_OUT;
  return LW_DETAIL_BLOCKS_FOREVER;
}

void lw__report_double_lock(lw_thread_t *t, const lw_acq_t *a, const lw_held_t *h) {
  unsigned detail = double_lock_detail(a, h);
  uint32_t now = stack_here();
  bool act = detail == LW_DETAIL_BLOCKS_FOREVER;
  if (lw_report_first_time(signature(LW_REPORT_DOUBLE_LOCK, detail, now, h->stack))) {
    lw_report_t *r = one_lock_report(LW_REPORT_DOUBLE_LOCK, detail, a->rec, a->id);
    if (r) {
      lw_report_add_event(r, LW_EV_LOCK, t->seq, 0, a->mode, now);
      lw_report_add_event(r, LW_EV_HELD, t->seq, 0, h->mode, h->stack);
      act &= lw_report_submit(r); /* a suppressed hang is left to hang, as without us */
    }
  }
  if (act) lw__deadlock_action();
}

void lw__report_abandoned(lw_thread_t *t, const lw_acq_t *a, const lw_held_t *h) {
  uint32_t now = stack_here();
  if (!lw_report_first_time(signature(LW_REPORT_LOCK_ABANDONED, 0, now, h->stack))) return;
  lw_report_t *r = one_lock_report(LW_REPORT_LOCK_ABANDONED, LW_DETAIL_NONE, h->rec, h->id);
  if (!r) return;
  lw_report_add_event(r, LW_EV_HELD, t->seq, 0, h->mode, h->stack);
  lw_report_add_event(r, LW_EV_LOCK, t->seq, 0, a->mode, now);
  lw_report_submit(r); /* the program goes on: the call will not block */
}

void lw__report_unlock_not_owner(lw_thread_t *t, uintptr_t addr, unsigned type,
                                 const lw_lockstate_t *st, uintptr_t pc) {
  uint64_t id;
  lw_lock_t *rec = lw__record_for(t, addr, type, NULL, pc, &id);
  if (!rec) return;
  unsigned detail = st->owner == LW_OWNER_NONE ? LW_DETAIL_NOT_LOCKED : LW_DETAIL_OTHER_OWNER;
  uint32_t now = stack_here();
  if (!lw_report_first_time(signature(LW_REPORT_UNLOCK_NOT_OWNER, detail, now, 0))) return;
  lw_report_t *r = one_lock_report(LW_REPORT_UNLOCK_NOT_OWNER, detail, rec, id);
  if (!r) return;
  if (detail == LW_DETAIL_OTHER_OWNER) r->other_tid = st->tid;
  lw_report_add_event(r, LW_EV_UNLOCK, t->seq, 0, LW_MODE_WRITE, now);
  lw_report_submit(r);
}

void lw__report_destroy_locked(lw_thread_t *t, uintptr_t addr, unsigned type,
                               const lw_held_t *h, const lw_lockstate_t *st, uintptr_t pc) {
  uint64_t id;
  lw_lock_t *rec = lw__record_for(t, addr, type, NULL, pc, &id);
  if (!rec) return;
  unsigned detail = h || st->owner == LW_OWNER_SELF    ? LW_DETAIL_SELF_OWNER
                    : st->owner == LW_OWNER_OTHER ? LW_DETAIL_OTHER_OWNER
                                                  : LW_DETAIL_NONE;
  uint32_t now = stack_here();
  if (!lw_report_first_time(signature(LW_REPORT_DESTROY_LOCKED, detail, now, h ? h->stack : 0)))
    return;
  lw_report_t *r = one_lock_report(LW_REPORT_DESTROY_LOCKED, detail, rec, id);
  if (!r) return;
  if (detail == LW_DETAIL_OTHER_OWNER) r->other_tid = st->tid;
  lw_report_add_event(r, LW_EV_DESTROY, t->seq, 0, LW_MODE_WRITE, now);
  if (h) lw_report_add_event(r, LW_EV_HELD, t->seq, 0, h->mode, h->stack);
  lw_report_submit(r);
}

/*
 * Does an exiting thread's entry name a lock it really still holds? Not when
 * another thread unlocked it since, and robust mutexes are left out:
 * recovering from an owner's end is what they are for.
 */
static bool still_held(const lw_held_t *h) {
  if (!h->addr || (h->rec->kind & LW_KIND_ROBUST)) return false; /* a hole, or robust */
  /* another thread may post it: a semaphore's holder can leave it behind (rules.md) */
  if (h->type == LW_TYPE_SEM) return false;
  return atomic_load_explicit(&h->rec->id, memory_order_relaxed) == h->id &&
         h->foreign == atomic_load_explicit(&h->rec->foreign_unlocks, memory_order_relaxed);
}

void lw__report_exit_holding(lw_thread_t *t) {
  uint32_t n = 0;
  uint64_t sig = LW_REPORT_THREAD_EXIT_HOLDING;
  for (uint32_t i = 0; i < t->nheld; i++) {
    const lw_held_t *h = &t->held[i];
    if (!still_held(h)) continue;
    n++;
    sig = lw_u64_mix(sig ^ h->stack);
  }
  if (!n || !lw_report_first_time(sig)) return;
  lw_report_t *r = lw_report_new(LW_REPORT_THREAD_EXIT_HOLDING, n, 0);
  if (!r) return;
  uint32_t k = 0;
  for (uint32_t i = 0; i < t->nheld; i++) {
    const lw_held_t *h = &t->held[i];
    if (!still_held(h)) continue;
    r->locks[k] = rlock_of(h->rec, h->id);
    lw_report_add_event(r, LW_EV_HELD, t->seq, (int32_t)k, h->mode, h->stack);
    k++;
  }
  lw_report_submit(r);
}

void lw__report_cond(lw_thread_t *t, const lw_acq_t *a, uintptr_t cond, unsigned detail,
                     const lw_cond_earlier_t *earlier) {
  uint32_t now = stack_here();
  if (!lw_report_first_time(signature(LW_REPORT_COND_WAIT_UNHELD, detail, now,
                                      earlier ? earlier->stack : 0)))
    return;
  lw_report_t *r = lw_report_new(LW_REPORT_COND_WAIT_UNHELD, earlier ? 2 : 1, 0);
  if (!r) return;
  r->locks[0] = rlock_of(a->rec, a->id);
  r->detail = detail;
  r->object = cond;
  lw_report_add_event(r, LW_EV_COND_WAIT, t->seq, 0, LW_MODE_WRITE, now);
  if (earlier) {
    uint64_t id;
    lw_lock_t *rec = lw_registry_find(earlier->mutex, &id);
    r->locks[1] = rec ? rlock_of(rec, earlier->mutex_id)
                      : (lw_rlock_t){.id = earlier->mutex_id, .addr = earlier->mutex, .type = a->type};
    lw_report_add_event(r, LW_EV_COND_EARLIER, earlier->thread, 1, LW_MODE_WRITE, earlier->stack);
  }
  lw_report_submit(r);
}
