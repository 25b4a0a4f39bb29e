/*
 * wrap_spin.c - the pthread_spin_* wrappers. A spinlock is an exclusive lock
 * whose waiters spin instead of sleeping; for ordering it is a mutex.
 */
#include "preload.h"

/* Spins until the lock is free or abs (CLOCK_MONOTONIC) passes. */
static int spin_timed(void *s, const struct timespec *abs) {
  for (;;) {
    for (int i = 0; i < 1024; i++) {
      if (LW_REAL(pthread_spin_trylock)(s) == 0) return 0;
      __builtin_ia32_pause();
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > abs->tv_sec || (now.tv_sec == abs->tv_sec && now.tv_nsec >= abs->tv_nsec))
      return ETIMEDOUT;
  }
}

LW_EXPORT int pthread_spin_lock(pthread_spinlock_t *s) {
  LW_ACQUIRE_BLOCKING(s, LW_TYPE_SPIN, NULL, LW_MODE_WRITE, LW_REAL(pthread_spin_trylock)(s), EBUSY,
                      spin_timed, CLOCK_MONOTONIC, lw_acquired, LW_REAL(pthread_spin_lock)(s))
}

LW_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s) {
  LW_ACQUIRE(s, LW_TYPE_SPIN, NULL, LW_MODE_WRITE, LW_ACQ_TRY, LW_REAL(pthread_spin_trylock)(s))
}

LW_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s) {
  LW_RELEASE((const void *)s, LW_TYPE_SPIN, lw_spin_state, LW_REAL(pthread_spin_unlock)(s))
}

LW_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared) {
  int rc = LW_REAL(pthread_spin_init)(s, pshared);
  if (rc == 0) lw_wrap_created((const void *)s, LW_TYPE_SPIN, 0, LW_RET_PC());
  else lw_wrap_failed(lw_misuse_mark(), __func__, rc, LW_CALL_INIT, (const void *)s, LW_TYPE_COUNT);
  return rc;
}

LW_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s) {
  lw_wrap_destroy_check((const void *)s, LW_TYPE_SPIN, lw_spin_state, LW_RET_PC());
  int rc = LW_REAL(pthread_spin_destroy)(s);
  if (rc == 0) lw_wrap_destroyed((const void *)s);
  return rc;
}
