/*
 * wrap_cond.c - pthread_cond_wait and friends (the GLIBC_2.3.2 versions,
 * which every program built since 2002 uses). The mutex is released while
 * waiting and taken again before the call returns, so waiting on M while
 * holding L orders L before M. Signal and broadcast need nothing.
 */
#include "preload.h"

#define LW_COND_WAIT(call)                                                                  \
  lw_thread_t *t = lw_enter();                                                              \
  if (!t) return call;                                                                      \
  lw_acq_t a;                                                                               \
  lw_cond_wait_before(t, &a, (uintptr_t)c, (uintptr_t)m, LW_TYPE_MUTEX, lw_mutex_kind,   \
                      lw_mutex_state, LW_RET_PC());                                         \
  lw_leave();                                                                               \
  int rc = call;                                                                            \
  lw_tls_guard = 1;                                                                         \
  /* after a timeout the mutex is held again too; EINVAL and EPERM leave it as it was */    \
  lw_cond_wait_after(t, &a, rc == 0 || rc == ETIMEDOUT || rc == EOWNERDEAD);                \
  lw_leave();                                                                               \
  return rc;

LW_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  LW_COND_WAIT(LW_REAL(pthread_cond_wait)(c, m))
}

LW_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     const struct timespec *ts) {
  LW_COND_WAIT(LW_REAL(pthread_cond_timedwait)(c, m, ts))
}

LW_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                                     const struct timespec *ts) {
  LW_COND_WAIT(LW_REAL(pthread_cond_clockwait)(c, m, clock, ts))
}

LW_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr) {
  int rc = LW_REAL(pthread_cond_init)(c, attr);
  if (rc == 0) lw_wrap_cond_forget(c);
  return rc;
}

LW_EXPORT int pthread_cond_destroy(pthread_cond_t *c) {
  lw_wrap_cond_forget(c);
  return LW_REAL(pthread_cond_destroy)(c);
}
