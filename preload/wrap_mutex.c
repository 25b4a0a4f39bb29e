/*
 * wrap_mutex.c - the pthread_mutex_* wrappers. Each is: enter, before-hook,
 * real call, after-hook on success, leave.
 */
#include "../lib/types.h"
#include "preload.h"

static int mutex_timed(void *m, const struct timespec *abs) {
  return LW_REAL(pthread_mutex_clocklock)(m, CLOCK_MONOTONIC, abs);
}

LW_EXPORT int pthread_mutex_lock(pthread_mutex_t *m) {
  LW_ACQUIRE_BLOCKING(m, LW_TYPE_MUTEX, lw_mutex_kind, LW_MODE_WRITE,
                      LW_REAL(pthread_mutex_trylock)(m), EBUSY, mutex_timed, CLOCK_MONOTONIC,
                      lw_acquired, LW_REAL(pthread_mutex_lock)(m))
}

LW_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m) {
  LW_ACQUIRE(m, LW_TYPE_MUTEX, lw_mutex_kind, LW_MODE_WRITE, LW_ACQ_TRY, LW_REAL(pthread_mutex_trylock)(m))
}

LW_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts) {
  LW_ACQUIRE_TIMED(m, LW_TYPE_MUTEX, lw_mutex_kind, LW_MODE_WRITE,
                   LW_REAL(pthread_mutex_trylock)(m), EBUSY, lw_acquired,
                   LW_REAL(pthread_mutex_timedlock)(m, ts))
}

LW_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                      const struct timespec *ts) {
  LW_ACQUIRE_TIMED(m, LW_TYPE_MUTEX, lw_mutex_kind, LW_MODE_WRITE,
                   LW_REAL(pthread_mutex_trylock)(m), EBUSY, lw_acquired,
                   LW_REAL(pthread_mutex_clocklock)(m, clock, ts))
}

LW_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m) {
  LW_RELEASE(m, LW_TYPE_MUTEX, lw_mutex_state, LW_REAL(pthread_mutex_unlock)(m))
}

LW_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr) {
  int rc = LW_REAL(pthread_mutex_init)(m, attr);
  if (rc == 0) lw_wrap_created(m, LW_TYPE_MUTEX, lw_mutex_kind((uintptr_t)m), LW_RET_PC());
  else lw_wrap_failed(lw_misuse_mark(), __func__, rc, LW_CALL_INIT, m, LW_TYPE_COUNT);
  return rc;
}

LW_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m) {
  uint32_t mark = lw_misuse_mark();
  lw_wrap_destroy_check(m, LW_TYPE_MUTEX, lw_mutex_state, LW_RET_PC());
  int rc = LW_REAL(pthread_mutex_destroy)(m);
  if (rc == 0) lw_wrap_destroyed(m);
  else lw_wrap_failed(mark, __func__, rc, LW_CALL_DESTROY, m, LW_TYPE_MUTEX);
  return rc;
}
