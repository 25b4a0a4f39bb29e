/*
 * preload.h - what the wrappers share: pointers to the real functions, the
 * re-entry guard, and the switch that says whether lockwatch is watching.
 */
#ifndef LW_PRELOAD_H
#define LW_PRELOAD_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <semaphore.h>
#include <threads.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/single_threaded.h>
#include <time.h>

#include "../lib/core.h"
#include "../lib/pages.h"
#include "../lib/types.h"

#define LW_EXPORT __attribute__((visibility("default")))
/*
 * The call site of the wrapper: its return address, told apart by the depth
 * of the caller's frame (the wrapper's CFA). A lock helper, or C++'s
 * out-of-line std::mutex::lock(), has one return address for every caller;
 * with the frame depth, each calling context gets its own stack.
 */
#define LW_RET_PC() lw_site((uintptr_t)__builtin_return_address(0), (uintptr_t)__builtin_dwarf_cfa())
static inline uintptr_t lw_site(uintptr_t pc, uintptr_t cfa) {
  return pc ^ (cfa * 0x9e3779b97f4a7c15ULL);
}
#define LW_LIKELY(x) __builtin_expect(!!(x), 1)
#define LW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define LW_INTERCEPT(ret, name, params, version, fallback) extern ret(*real_##name) params;
#include "intercepts.inc"
#undef LW_INTERCEPT

/* Non-zero from the end of our constructor until the run's bookkeeping ends. */
extern int lw_active;

/* The process lockwatch serves (updated in a fork child): a vfork child differs. */
extern pid_t lw_preload_pid;

/* The status passed to quick_exit, for lockwatch's at_quick_exit handler. */
extern int lw_quick_exit_status;

/* Resolves every real function; safe to call from any wrapper, any number of times. */
void lw_preload_resolve(void);

/* Makes sure real_<name> is set before it is called. */
#define LW_REAL(name) \
  (LW_LIKELY(real_##name != NULL) ? real_##name : (lw_preload_resolve(), real_##name))

/*
 * Chooses the signals whose death writes the JSON document (every one whose
 * default action ends the process, but dump_signal) and arms their handler
 * at the first report (wrap_signal.c).
 */
void lw_preload_signals_init(int dump_signal);

/* Registers a newly made thread state for release at thread exit. */
void lw_preload_adopt(lw_thread_t *t);

/* In a thread started through our pthread_create or thrd_create: its state, numbered seq. */
void lw_preload_thread_begin(uint32_t seq);

/*
 * Enters lockwatch: returns the calling thread's state with the guard set, or
 * NULL (guard untouched) when the call must go straight to the real function.
 */
static inline lw_thread_t *lw_enter(void) {
  if (LW_UNLIKELY(lw_tls_guard || !lw_active)) return NULL;
  lw_tls_guard = 1;
  lw_thread_t *t = lw_tls_self;
  if (LW_UNLIKELY(!t)) {
    t = lw_core_thread();
    if (t) lw_preload_adopt(t);
    else lw_tls_guard = 0;
  }
  return t;
}

/* Leaves lockwatch. */
static inline void lw_leave(void) { lw_tls_guard = 0; }

/* An acquisition succeeded (EOWNERDEAD: the caller owns a robust mutex whose owner died). */
static inline bool lw_acquired(int rc) { return rc == 0 || rc == EOWNERDEAD; }

/* The LW_CALL_* flags of an acquisition with the LW_ACQ_* flags f. */
#define lw_call_flags(f) \
  (((f) & LW_ACQ_TRY ? LW_CALL_TRY : 0u) | ((f) & LW_ACQ_TIMED ? LW_CALL_TIMED : 0u))

/* The calling thread's count of misuse found, before a call that may fail (lw_wrap_failed). */
static inline uint32_t lw_misuse_mark(void) { return lw_tls_self ? lw_tls_self->misuse_seen : 0; }

/*
 * After a call that returned err (not 0): reports call-failed unless it is
 * normal for the call (flags) or a misuse report since mark explains it.
 * errno is kept.
 */
static inline void lw_wrap_failed(uint32_t mark, const char *call, int err, unsigned flags,
                                  const void *obj, unsigned type) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_call_failed(t, mark, call, err, flags, (uintptr_t)obj, type);
  lw_leave();
}

/*
 * The body of every acquiring wrapper: enter, before-hook, the real call
 * (an expression), after-hook, leave, return the real call's result.
 */
#define LW_ACQUIRE(lock, type, kind, mode, flags, call) \
  LW_ACQUIRE_OK(lock, type, kind, mode, flags, lw_acquired, call)

/* The same, with ok(rc) telling a successful acquisition (C11 answers thrd_success). */
#define LW_ACQUIRE_OK(lock, type, kind, mode, flags, ok, call)                      \
  lw_thread_t *t = lw_enter();                                                      \
  if (!t) return call;                                                              \
  lw_acq_t a;                                                                       \
  uint32_t mark = t->misuse_seen;                                                   \
  lw_acquire_before(t, &a, (uintptr_t)(lock), type, kind, mode, flags, LW_RET_PC()); \
  lw_leave();                                                                       \
  int rc = call;                                                                    \
  lw_tls_guard = 1;                                                                 \
  lw_acquire_after(t, &a, ok(rc));                                                  \
  if (LW_UNLIKELY(rc != 0) && (ok) == lw_acquired) /* C11 answers are no errno */   \
    lw_call_failed(t, mark, __func__, rc, lw_call_flags(flags), (uintptr_t)(lock), type); \
  lw_leave();                                                                       \
  return rc;

/*
 * The body of a timed acquiring wrapper (a timeout bounds the wait). With
 * profile=1 the lock is tried first, as a blocking lock is, so that a
 * contended acquisition and its wait are seen; otherwise only the real call.
 */
#define LW_ACQUIRE_TIMED(lock, type, kind, mode, try_call, busy, ok, call)                 \
  lw_thread_t *t = lw_enter();                                                            \
  if (!t) return call;                                                                    \
  lw_acq_t a;                                                                             \
  uint32_t mark = t->misuse_seen;                                                         \
  lw_acquire_before(t, &a, (uintptr_t)(lock), type, kind, mode, LW_ACQ_TIMED, LW_RET_PC()); \
  lw_leave();                                                                             \
  int rc;                                                                                 \
  if (LW_LIKELY(!lw_profile_on)) {                                                        \
    rc = call;                                                                            \
  } else if ((rc = try_call) == (busy)) {                                                 \
    uint64_t w0 = lw_profile_now();                                                       \
    rc = call;                                                                            \
    LW_PROFILE_WAITED(t, &a, w0)                                                          \
  }                                                                                       \
  lw_tls_guard = 1;                                                                       \
  lw_acquire_after(t, &a, ok(rc));                                                        \
  if (LW_UNLIKELY(rc != 0) && (ok) == lw_acquired) /* C11 answers are no errno */         \
    lw_call_failed(t, mark, __func__, rc, lw_call_flags(LW_ACQ_TIMED), (uintptr_t)(lock), type); \
  lw_leave();                                                                             \
  return rc;

/* A timed acquisition that returns ETIMEDOUT when abs (on its clock) passes. */
typedef int (*lw_timed_fn)(void *lock, const struct timespec *abs);

/*
 * The contended half of a blocking acquisition: waits for the lock in
 * slices of deadlock_check_ms, looking for a deadlock between slices (see
 * lib/deadlock.c). Returns the result of the last timed call.
 */
int lw_wait_slices(lw_thread_t *t, lw_acq_t *a, void *lock, lw_timed_fn timed, clockid_t clock);

/*
 * Publishes that t waits for a's lock in a call lockwatch cannot cut into
 * slices (a custom lock's, or a GMutex's), for the watcher thread to check
 * (started at the first such wait); lw_wait_watch_end ends it. Guard set.
 */
bool lw_preload_watch_begin(lw_thread_t *t, const lw_acq_t *a);

/*
 * Starts a thread of lockwatch's own (the dump thread, the watcher):
 * detached, every signal blocked, through the real pthread_create. Returns
 * pthread_create's result.
 */
int lw_preload_start_thread(void *(*fn)(void *));

/* In the parent, right after fork: the child's live file for lockwatch run (bootstrap.c). */
void lw_preload_live_child(pid_t pid);

/* Tells the core how to read a GMutex (wrap_glib.c). */
void lw_preload_glib_init(void);

/* Marks the calling thread as waiting for a's lock (or no longer), around a real blocking call. */
static inline void lw_wait_mark(lw_thread_t *t, lw_acq_t *a, bool waiting) {
  lw_tls_guard = 1;
  if (waiting) lw_wait_begin(t, a);
  else lw_wait_end(t);
  lw_tls_guard = 0;
}

/* With profile=1, after a contended wait that began at w0: its time goes to the lock's profile. */
#define LW_PROFILE_WAITED(t, a, w0)    \
  if (w0) {                            \
    lw_tls_guard = 1;                  \
    lw_profile_waited(t, a, w0);       \
    lw_tls_guard = 0;                  \
  }

/*
 * The body of a blocking acquiring wrapper: the lock is tried first; only
 * when it is taken does the thread wait, in slices (lw_wait_slices).
 * try_call returns busy when the lock is taken; ok(rc) tells success.
 * With profile=1, the wait of a contended acquisition is timed.
 */
#define LW_ACQUIRE_BLOCKING(lock, type, kind, mode, try_call, busy, timed, clock, ok, call)  \
  lw_thread_t *t = lw_enter();                                                             \
  if (!t) return call;                                                                     \
  lw_acq_t a;                                                                              \
  uint32_t mark = t->misuse_seen;                                                          \
  lw_acquire_before(t, &a, (uintptr_t)(lock), type, kind, mode, 0, LW_RET_PC());            \
  lw_leave();                                                                              \
  int rc;                                                                                  \
  if (__libc_single_threaded) { /* nobody to wait for (glibc's lock skips atomics then) */ \
    rc = call;                                                                             \
  } else if ((rc = try_call) == (busy)) {                                                  \
    uint64_t w0 = lw_profile_wait_start();                                                 \
    lw_timed_fn timed_fn = timed;                                                          \
    if (timed_fn) {                                                                        \
      rc = lw_wait_slices(t, &a, (void *)(lock), timed_fn, clock);                         \
    } else { /* must keep its place in the queue: others' searches find it waiting */      \
      lw_wait_mark(t, &a, true);                                                           \
      rc = call;                                                                           \
      lw_wait_mark(t, &a, false);                                                          \
    }                                                                                      \
    LW_PROFILE_WAITED(t, &a, w0)                                                           \
  }                                                                                        \
  lw_tls_guard = 1;                                                                        \
  lw_acquire_after(t, &a, ok(rc));                                                         \
  if (LW_UNLIKELY(rc != 0) && (ok) == lw_acquired)                                         \
    lw_call_failed(t, mark, __func__, rc, 0, (uintptr_t)(lock), type);                     \
  lw_leave();                                                                              \
  return rc;

/* The bodies of the release, init and destroy wrappers, before or after the real call. */
/*
 * The body of every releasing wrapper around the real unlock (an expression
 * giving its result). An unlock by a thread that did not hold the lock, once
 * the real unlock succeeded, tells the lock that its holder's entry is stale.
 */
#define LW_RELEASE(lock, type, state, call)                                  \
  lw_thread_t *t = lw_enter();                                              \
  if (!t) return call;                                                      \
  if (LW_LIKELY(lw_release_top_is(t, (uintptr_t)(lock)))) {                 \
    /* the usual case: unlock first, then pop, so that the lock's critical  \
       section is no longer than without lockwatch (the guard stays set:    \
       a signal handler locking meanwhile is not tracked) */                \
    int rc = call;                                                          \
    lw_release(t, (uintptr_t)(lock), type, NULL, 0);                        \
    if (LW_UNLIKELY(rc != 0) && (type) != LW_TYPE_C11) /* C11: no errno */  \
      lw_call_failed(t, t->misuse_seen, __func__, rc, 0, (uintptr_t)(lock), type); \
    lw_leave();                                                             \
    return rc;                                                              \
  }                                                                         \
  uint32_t mark = t->misuse_seen;                                           \
  bool foreign = lw_release(t, (uintptr_t)(lock), type, state, LW_RET_PC()); \
  lw_leave();                                                               \
  int rc = call;                                                            \
  if (LW_UNLIKELY(foreign) && rc == 0) {                                    \
    lw_tls_guard = 1;                                                       \
    lw_foreign_unlock(t, (uintptr_t)(lock));                                \
    lw_leave();                                                             \
  }                                                                         \
  if (LW_UNLIKELY(rc != 0) && (type) != LW_TYPE_C11)                       \
    lw_wrap_failed(mark, __func__, rc, 0, (lock), type);                    \
  return rc;

static inline void lw_wrap_destroy_check(const void *lock, unsigned type, lw_state_fn state,
                                         uintptr_t pc) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_lock_destroy_check(t, (uintptr_t)lock, type, state, pc);
  lw_leave();
}

static inline void lw_wrap_created(const void *lock, unsigned type, unsigned kind, uintptr_t pc) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_lock_created(t, (uintptr_t)lock, type, kind, pc);
  lw_leave();
}

static inline void lw_wrap_destroyed(const void *lock) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_lock_destroyed(t, (uintptr_t)lock);
  lw_leave();
}

static inline void lw_wrap_cond_forget(const void *cond) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_cond_forget(t, (uintptr_t)cond);
  lw_leave();
}

/*
 * Who holds a lock, from glibc's fields: a mutex keeps its owner's tid in
 * __owner (also for C11 mtx_t, which wraps one); an rwlock keeps its
 * writer's tid in __cur_writer and its reader count above bit 3 of
 * __readers; a spinlock is non-zero while held.
 */
static inline lw_lockstate_t lw_mutex_state(uintptr_t addr, int self) {
  const pthread_mutex_t *m = (const pthread_mutex_t *)addr;
  int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
  int word = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
  if (owner == 0) return (lw_lockstate_t){word == 0 ? LW_OWNER_NONE : LW_OWNER_UNKNOWN, 0};
  int tid = owner & 0x3fffffff; /* FUTEX_TID_MASK */
  if (owner >= 0x7ffffffe || tid == 0) return (lw_lockstate_t){LW_OWNER_UNKNOWN, 0}; /* robust, dead owner */
  return (lw_lockstate_t){tid == self ? LW_OWNER_SELF : LW_OWNER_OTHER, tid};
}

static inline lw_lockstate_t lw_rwlock_state(uintptr_t addr, int self) {
  const pthread_rwlock_t *rw = (const pthread_rwlock_t *)addr;
  int writer = (int)__atomic_load_n(&rw->__data.__cur_writer, __ATOMIC_RELAXED);
  unsigned readers = __atomic_load_n(&rw->__data.__readers, __ATOMIC_RELAXED);
  if (writer) return (lw_lockstate_t){writer == self ? LW_OWNER_SELF : LW_OWNER_OTHER, writer};
  if (readers >> 3) return (lw_lockstate_t){LW_OWNER_HELD, 0};
  if (readers & 2) return (lw_lockstate_t){LW_OWNER_UNKNOWN, 0}; /* a writer is arriving */
  return (lw_lockstate_t){LW_OWNER_NONE, 0};
}

static inline lw_lockstate_t lw_spin_state(uintptr_t addr, int self) {
  (void)self;
  int v = __atomic_load_n((const int *)addr, __ATOMIC_RELAXED);
#if defined(__x86_64__) || defined(__i386__)
  bool held = v <= 0; /* x86 glibc: 1 is free; lock decrements (waiters take it below 0) */
#else
  bool held = v != 0; /* elsewhere: 0 is free */
#endif
  return (lw_lockstate_t){held ? LW_OWNER_HELD : LW_OWNER_NONE, 0};
}

/* Reads the kind glibc stored in a mutex (PTHREAD_MUTEX_*_NP, robust flag); an lw_kind_fn. */
static inline unsigned lw_mutex_kind(uintptr_t addr) {
  const pthread_mutex_t *m = (const pthread_mutex_t *)addr;
  int k = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
  unsigned kind = 0;
  if ((k & 3) == PTHREAD_MUTEX_RECURSIVE_NP) kind |= LW_KIND_RECURSIVE;
  if ((k & 3) == PTHREAD_MUTEX_ERRORCHECK_NP) kind |= LW_KIND_ERRORCHECK;
  if (k & 16) kind |= LW_KIND_ROBUST;
  return kind;
}

#endif
