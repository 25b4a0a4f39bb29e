/*
 * wrap_barrier.c - pthread_barrier_init and pthread_barrier_destroy, for
 * barrier-misuse (docs/rules.md): a count of 0, and a barrier initialised
 * again or destroyed while threads wait on it. pthread_barrier_wait is not
 * wrapped: who waits is read from the barrier itself.
 */
#include "preload.h"

/*
 * Threads blocked in the barrier's current round, from glibc's struct
 * pthread_barrier {in, current_round, count, shared, out}: a thread that
 * arrived as number i waits while i > current_round, and current_round is a
 * multiple of count. 0 when the memory does not look like a barrier of count.
 */
static unsigned barrier_waiting(const pthread_barrier_t *b, unsigned count) {
  const unsigned *w = (const unsigned *)(const void *)b;
  unsigned in = __atomic_load_n(&w[0], __ATOMIC_ACQUIRE);
  unsigned round = __atomic_load_n(&w[1], __ATOMIC_ACQUIRE);
  unsigned c = __atomic_load_n(&w[2], __ATOMIC_RELAXED);
  if (!count || c != count || round % count) return 0;
  unsigned n = in - round;
  return n < count ? n : 0;
}

LW_EXPORT int pthread_barrier_init(pthread_barrier_t *restrict b,
                                   const pthread_barrierattr_t *restrict attr, unsigned count) {
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(pthread_barrier_init)(b, attr, count);
  uint32_t mark = t->misuse_seen;
  unsigned waiting = 0;
  if (count == 0)
    lw_object_misuse(t, LW_REPORT_BARRIER_MISUSE, LW_DETAIL_ZERO_COUNT, __func__, (uintptr_t)b, 0);
  else if ((waiting = barrier_waiting(b, lw_barrier_count((uintptr_t)b))))
    lw_object_misuse(t, LW_REPORT_BARRIER_MISUSE, LW_DETAIL_REINIT_WAITING, __func__,
                     (uintptr_t)b, waiting);
  lw_leave();
  int rc = LW_REAL(pthread_barrier_init)(b, attr, count);
  lw_tls_guard = 1;
  if (rc == 0) lw_barrier_swap((uintptr_t)b, count);
  else lw_call_failed(t, mark, __func__, rc, LW_CALL_INIT, (uintptr_t)b, LW_TYPE_COUNT);
  lw_leave();
  return rc;
}

LW_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b) {
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(pthread_barrier_destroy)(b);
  uint32_t mark = t->misuse_seen;
  unsigned waiting = barrier_waiting(b, lw_barrier_swap((uintptr_t)b, 0));
  if (waiting)
    lw_object_misuse(t, LW_REPORT_BARRIER_MISUSE, LW_DETAIL_DESTROY_WAITING, __func__,
                     (uintptr_t)b, waiting);
  lw_leave();
  int rc = LW_REAL(pthread_barrier_destroy)(b);
  if (rc != 0) {
    lw_tls_guard = 1;
    lw_call_failed(t, mark, __func__, rc, LW_CALL_DESTROY, (uintptr_t)b, LW_TYPE_COUNT);
    lw_leave();
  }
  return rc;
}
