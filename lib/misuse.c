/*
 * misuse.c - reports of API misuse: double-lock, unlock-not-owner,
 * destroy-locked, thread-exit-holding-lock, cond-wait-unheld, call-failed,
 * exit-holding-lock, cond-destroy-waiting, sem-destroy-waiting and
 * barrier-misuse. Each is
 * built as data (the locks, and labelled stacks) and reported once per
 * distinct place in the program. The rules are in docs/rules.md.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "core_internal.h"
#include "depot.h"
#include "lwlock.h"
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
  t->misuse_seen++;
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
  t->misuse_seen++;
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
  t->misuse_seen++;
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
  t->misuse_seen++;
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

/* ---- failed calls ------------------------------------------------------------ */

/* Does the name of the call end with suffix? */
static bool call_is(const char *call, const char *suffix) {
  size_t n = strlen(call), k = strlen(suffix);
  return n >= k && strcmp(call + n - k, suffix) == 0;
}

/* Why a call fails with err, as glibc documents it: a sentence without a final stop. */
static const char *failure_reason(const char *call, int err, unsigned flags, unsigned kind) {
  bool unlock = call_is(call, "_unlock") || call_is(call, "sem_post");
  switch (err) {
  case EINVAL:
    if (call_is(call, "sem_init")) return "the value exceeds SEM_VALUE_MAX";
    if (flags & LW_CALL_INIT) return "the attributes or the arguments are invalid";
    if (flags & LW_CALL_TIMED)
      return "the timeout is invalid (tv_nsec outside 0 to 999999999), or the object is not "
             "initialised";
    return "the object is not initialised, or was destroyed";
  case EPERM:
    if (call_is(call, "wait")) return "the calling thread does not own the mutex";
    if (unlock) {
      if (kind & LW_KIND_ERRORCHECK)
        return "the calling thread does not own this error-checking mutex";
      if (kind & LW_KIND_RECURSIVE) return "the calling thread does not own this recursive mutex";
      return "the calling thread does not own this lock";
    }
    return "the operation is not permitted on this object";
  case EDEADLK: return "the calling thread already owns this lock";
  case EBUSY:
    if (flags & LW_CALL_DESTROY) return "the object is locked or still in use";
    if (flags & LW_CALL_INIT) return "the object is already initialised and in use";
    return "the lock is busy";
  case EAGAIN: return "the maximum number of recursive locks or read locks was exceeded";
  case EOVERFLOW: return "the semaphore's value would exceed SEM_VALUE_MAX";
  case ENOTRECOVERABLE:
    return "the robust mutex is not recoverable: its owner died and it was unlocked without "
           "pthread_mutex_consistent";
  default: return "the call failed";
  }
}

void lw_call_failed(lw_thread_t *t, uint32_t mark, const char *call, int err, unsigned flags,
                    uintptr_t obj, unsigned type) {
  if (t->misuse_seen != mark || lw_call_normal_failure(err, flags)) return; /* explained, or normal */
  int saved = errno;
  uint32_t now = stack_here();
  uint64_t sig = signature(LW_REPORT_CALL_FAILED, 0, now, (uint32_t)err) ^ lw_u64_mix((uintptr_t)call);
  if (!lw_report_first_time(sig)) goto out;
  bool is_lock = type < LW_TYPE_SEM; /* a semaphore has a record only while it is a lock */
  uint64_t id = 0;
  lw_lock_t *rec = is_lock ? lw__record_for(t, obj, type, NULL, 0, &id) : NULL;
  lw_report_t *r = lw_report_new(LW_REPORT_CALL_FAILED, rec ? 1 : 0, 0);
  if (!r) goto out;
  if (rec) r->locks[0] = rlock_of(rec, id);
  r->object = obj;
  r->call = call;
  r->error = err;
  r->reason = failure_reason(call, err, flags, rec ? rec->kind : 0);
  lw_report_add_event(r, LW_EV_CALL, t->seq, rec ? 0 : -1, LW_MODE_WRITE, now);
  lw_report_submit(r);
out:
  errno = saved;
}

/* ---- exit, and objects destroyed with waiters ------------------------------------ */

/*
 * Is another thread blocked waiting for the lock h? Then holding it is how
 * the exiting thread keeps that thread parked (Redis stops its I/O threads
 * so), not a forgotten unlock.
 */
static bool parks_a_thread(const lw_thread_t *t, const lw_held_t *h) {
  for (lw_thread_t *u = lw_threads_first(); u; u = u->next_all)
    if (u != t && u->live && atomic_load_explicit(&u->wait_id, memory_order_acquire) == h->id)
      return true;
  return false;
}

/*
 * Does the exiting thread still hold h, a lock other threads take too, and
 * forgotten (no thread parked on it)? A lock only the exiting thread ever
 * took keeps no one waiting (Redis holds its module lock from start to end).
 */
static bool held_at_exit(const lw_thread_t *t, const lw_held_t *h) {
  return still_held(h) &&
         atomic_load_explicit(&h->rec->users, memory_order_relaxed) == LW_USERS_SHARED &&
         !parks_a_thread(t, h);
}

void lw_exit_check(lw_thread_t *t) {
  if (!lw_opt.exit_holding) return;
  uint32_t n = 0;
  uint64_t sig = LW_REPORT_EXIT_HOLDING;
  for (uint32_t i = 0; i < t->nheld; i++) {
    const lw_held_t *h = &t->held[i];
    if (!held_at_exit(t, h)) continue;
    n++;
    sig = lw_u64_mix(sig ^ h->stack);
  }
  if (!n || !lw_report_first_time(sig)) return;
  uint32_t now = stack_here();
  lw_report_t *r = lw_report_new(LW_REPORT_EXIT_HOLDING, n, 0);
  if (!r) return;
  r->passes = true; /* a warning: listed, changes nothing (docs/rules.md) */
  uint32_t k = 0;
  for (uint32_t i = 0; i < t->nheld && k < n; i++) {
    const lw_held_t *h = &t->held[i];
    if (!held_at_exit(t, h)) continue;
    r->locks[k] = rlock_of(h->rec, h->id);
    lw_report_add_event(r, LW_EV_HELD, t->seq, (int32_t)k, h->mode, h->stack);
    k++;
  }
  lw_report_add_event(r, LW_EV_EXIT, t->seq, -1, LW_MODE_WRITE, now);
  lw_report_submit(r);
}

void lw_object_misuse(lw_thread_t *t, unsigned kind, unsigned detail, const char *call,
                      uintptr_t obj, uint32_t waiters) {
  t->misuse_seen++;
  int saved = errno;
  uint32_t now = stack_here();
  if (lw_report_first_time(signature(kind, detail, now, 0))) {
    lw_report_t *r = lw_report_new(kind, 0, 0);
    if (r) {
      r->detail = detail;
      r->object = obj;
      r->call = call;
      r->waiters = waiters;
      lw_report_add_event(r, LW_EV_CALL, t->seq, -1, LW_MODE_WRITE, now);
      lw_report_submit(r);
    }
  }
  errno = saved;
}

/* ---- barriers ------------------------------------------------------------------- */

/* The count each barrier seen was initialised with (0 once destroyed). */
static lw_ilock_t barrier_lock = LW_ILOCK_INIT;
static lw_u64map_t barriers;
static bool barriers_ready;

uint32_t lw_barrier_swap(uintptr_t addr, uint32_t count) {
  uint64_t old = 0;
  lw_ilock_acquire(&barrier_lock);
  if (!barriers_ready) {
    lw_u64map_init(&barriers, true);
    barriers_ready = true;
  }
  lw_u64map_get(&barriers, addr, &old);
  if (old || count) lw_u64map_put(&barriers, addr, count);
  lw_ilock_release(&barrier_lock);
  return (uint32_t)old;
}

uint32_t lw_barrier_count(uintptr_t addr) {
  uint64_t v = 0;
  lw_ilock_acquire(&barrier_lock);
  if (barriers_ready) lw_u64map_get(&barriers, addr, &v);
  lw_ilock_release(&barrier_lock);
  return (uint32_t)v;
}
