/*
 * wrap_mutex.c - the pthread_mutex_* wrappers. Each is: enter, before-hook,
 * real call, after-hook on success, leave.
 */
#include <errno.h>

#include "../lib/types.h"
#include "preload.h"

/* Reads the kind glibc stored in the mutex (PTHREAD_MUTEX_*_NP, robust flag). */
static unsigned mutex_kind(const pthread_mutex_t *m) {
  int k = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
  unsigned kind = 0;
  if ((k & 3) == PTHREAD_MUTEX_RECURSIVE_NP) kind |= LW_KIND_RECURSIVE;
  if ((k & 3) == PTHREAD_MUTEX_ERRORCHECK_NP) kind |= LW_KIND_ERRORCHECK;
  if (k & 16) kind |= LW_KIND_ROBUST;
  return kind;
}

/* An acquisition succeeded (EOWNERDEAD: the caller owns a robust mutex whose owner died). */
static bool acquired(int rc) { return rc == 0 || rc == EOWNERDEAD; }

#define LW_ACQUIRE(name, flags, call)                                                        \
  lw_thread_t *t = lw_enter();                                                               \
  if (!t) return call;                                                                       \
  lw_acq_t a;                                                                                \
  lw_acquire_before(t, &a, (uintptr_t)m, LW_TYPE_MUTEX, mutex_kind(m), LW_MODE_WRITE, flags, \
                    LW_RET_PC());                                                            \
  lw_leave();                                                                                \
  int rc = call;                                                                             \
  lw_tls_guard = 1;                                                                          \
  lw_acquire_after(t, &a, acquired(rc));                                                     \
  lw_leave();                                                                                \
  return rc;

LW_EXPORT int pthread_mutex_lock(pthread_mutex_t *m) {
  LW_ACQUIRE(pthread_mutex_lock, 0, LW_REAL(pthread_mutex_lock)(m))
}

LW_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m) {
  LW_ACQUIRE(pthread_mutex_trylock, LW_ACQ_TRY, LW_REAL(pthread_mutex_trylock)(m))
}

LW_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts) {
  LW_ACQUIRE(pthread_mutex_timedlock, LW_ACQ_TIMED, LW_REAL(pthread_mutex_timedlock)(m, ts))
}

LW_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                      const struct timespec *ts) {
  LW_ACQUIRE(pthread_mutex_clocklock, LW_ACQ_TIMED,
             LW_REAL(pthread_mutex_clocklock)(m, clock, ts))
}

LW_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m) {
  lw_thread_t *t = lw_enter();
  if (t) {
    lw_release(t, (uintptr_t)m);
    lw_leave();
  }
  return LW_REAL(pthread_mutex_unlock)(m);
}

LW_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr) {
  int rc = LW_REAL(pthread_mutex_init)(m, attr);
  lw_thread_t *t;
  if (rc == 0 && (t = lw_enter())) {
    lw_lock_created(t, (uintptr_t)m, LW_TYPE_MUTEX, mutex_kind(m), LW_RET_PC());
    lw_leave();
  }
  return rc;
}

LW_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m) {
  int rc = LW_REAL(pthread_mutex_destroy)(m);
  lw_thread_t *t;
  if (rc == 0 && (t = lw_enter())) {
    lw_lock_destroyed(t, (uintptr_t)m);
    lw_leave();
  }
  return rc;
}
