/*
 * wrap_cond.c - pthread_cond_wait and friends (the GLIBC_2.3.2 versions,
 * which every program built since 2002 uses). The mutex is released while
 * waiting and taken again before the call returns, so waiting on M while
 * holding L orders L before M. Signal and broadcast need nothing.
 */
#include "preload.h"

#define LW_COND_WAIT(flags, call)                                                           \
  lw_thread_t *t = lw_enter();                                                              \
  if (!t) return call;                                                                      \
  lw_acq_t a;                                                                               \
  uint32_t mark = t->misuse_seen;                                                           \
  lw_cond_wait_before(t, &a, (uintptr_t)c, (uintptr_t)m, LW_TYPE_MUTEX, lw_mutex_kind,   \
                      lw_mutex_state, LW_RET_PC());                                         \
  lw_leave();                                                                               \
  int rc = call;                                                                            \
  lw_tls_guard = 1;                                                                         \
  /* after a timeout the mutex is held again too; EINVAL and EPERM leave it as it was */    \
  lw_cond_wait_after(t, &a, rc == 0 || rc == ETIMEDOUT || rc == EOWNERDEAD);                \
  if (LW_UNLIKELY(rc != 0)) lw_call_failed(t, mark, __func__, rc, flags, (uintptr_t)c, LW_TYPE_COUNT); \
  lw_leave();                                                                               \
  return rc;

LW_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  LW_COND_WAIT(0, LW_REAL(pthread_cond_wait)(c, m))
}

LW_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     const struct timespec *ts) {
  LW_COND_WAIT(LW_CALL_TIMED, LW_REAL(pthread_cond_timedwait)(c, m, ts))
}

LW_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                                     const struct timespec *ts) {
  LW_COND_WAIT(LW_CALL_TIMED, LW_REAL(pthread_cond_clockwait)(c, m, clock, ts))
}

LW_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr) {
  int rc = LW_REAL(pthread_cond_init)(c, attr);
  if (rc == 0) lw_wrap_cond_forget(c);
  else lw_wrap_failed(lw_misuse_mark(), __func__, rc, LW_CALL_INIT, c, LW_TYPE_COUNT);
  return rc;
}

/* How long a destroy waits for woken waiters to leave before it counts them as waiting. */
#define LW_COND_LEAVE_NS 50000000L

/*
 * Threads still waiting on c, from glibc's __wrefs (its count of waiters,
 * above bit 3). A waiter that was woken leaves it within moments without
 * needing its mutex (and glibc's destroy waits for that too): only those
 * that are still there after LW_COND_LEAVE_NS are counted.
 */
static unsigned cond_waiters(pthread_cond_t *c) {
  unsigned n = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_ACQUIRE) >> 3;
  for (long waited = 0; n && waited < LW_COND_LEAVE_NS; waited += 1000000L) {
    struct timespec ms = {0, 1000000L};
    nanosleep(&ms, NULL);
    n = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_ACQUIRE) >> 3;
  }
  return n;
}

LW_EXPORT int pthread_cond_destroy(pthread_cond_t *c) {
  lw_wrap_cond_forget(c);
  int saved = errno;
  unsigned waiters = lw_active && !lw_tls_guard ? cond_waiters(c) : 0;
  if (LW_UNLIKELY(waiters)) {
    lw_thread_t *t = lw_enter();
    if (t) {
      lw_object_misuse(t, LW_REPORT_COND_DESTROY_WAITING, LW_DETAIL_NONE, __func__, (uintptr_t)c,
                       waiters);
      lw_leave();
    }
  }
  errno = saved;
  uint32_t mark = lw_misuse_mark();
  int rc = LW_REAL(pthread_cond_destroy)(c);
  if (rc != 0) lw_wrap_failed(mark, __func__, rc, LW_CALL_DESTROY, c, LW_TYPE_COUNT);
  return rc;
}
