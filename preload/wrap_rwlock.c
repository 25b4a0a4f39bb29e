/*
 * wrap_rwlock.c - the pthread_rwlock_* wrappers. Reads and writes are
 * different modes; the rwlock's kind (reader- or writer-preferring) decides
 * whether two readers can wait for each other (docs/rules.md).
 */
#include "preload.h"

/* glibc's default kind and PREFER_WRITER_NP let readers in while a writer waits. */
static unsigned rw_kind(const pthread_rwlock_t *rw);

/* The same, as an lw_kind_fn. */
static unsigned rw_kind_at(uintptr_t addr) { return rw_kind((const pthread_rwlock_t *)addr); }

static unsigned rw_kind(const pthread_rwlock_t *rw) {
  unsigned flags = __atomic_load_n(&rw->__data.__flags, __ATOMIC_RELAXED);
  return flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP ? 0 : LW_KIND_READER_PREF;
}

#define LW_RW(mode, flags, call) LW_ACQUIRE(rw, LW_TYPE_RWLOCK, rw_kind_at, mode, flags, call)

static int rd_timed(void *rw, const struct timespec *abs) {
  return LW_REAL(pthread_rwlock_clockrdlock)(rw, CLOCK_MONOTONIC, abs);
}

static int wr_timed(void *rw, const struct timespec *abs) {
  return LW_REAL(pthread_rwlock_clockwrlock)(rw, CLOCK_MONOTONIC, abs);
}

LW_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw) {
  LW_ACQUIRE_BLOCKING(rw, LW_TYPE_RWLOCK, rw_kind_at, LW_MODE_READ,
                      LW_REAL(pthread_rwlock_tryrdlock)(rw), EBUSY, rd_timed, CLOCK_MONOTONIC,
                      lw_acquired, LW_REAL(pthread_rwlock_rdlock)(rw))
}

/*
 * A writer on a writer-preferring rwlock that gave up its wait for a moment
 * would let readers in ahead of it, which the program never sees without
 * lockwatch: it waits for real, published as waiting, and the readers it
 * holds back find any deadlock through it.
 */
static lw_timed_fn wr_waiter(const pthread_rwlock_t *rw) {
  return (rw_kind(rw) & LW_KIND_READER_PREF) ? wr_timed : NULL;
}

LW_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw) {
  LW_ACQUIRE_BLOCKING(rw, LW_TYPE_RWLOCK, rw_kind_at, LW_MODE_WRITE,
                      LW_REAL(pthread_rwlock_trywrlock)(rw), EBUSY, wr_waiter(rw),
                      CLOCK_MONOTONIC, lw_acquired, LW_REAL(pthread_rwlock_wrlock)(rw))
}

LW_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw) {
  LW_RW(LW_MODE_READ, LW_ACQ_TRY, LW_REAL(pthread_rwlock_tryrdlock)(rw))
}

LW_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw) {
  LW_RW(LW_MODE_WRITE, LW_ACQ_TRY, LW_REAL(pthread_rwlock_trywrlock)(rw))
}

/* A timed rwlock acquisition in mode, tried first with try_call when profiling. */
#define LW_RW_TIMED(mode, try_call, call) \
  LW_ACQUIRE_TIMED(rw, LW_TYPE_RWLOCK, rw_kind_at, mode, try_call, EBUSY, lw_acquired, call)

LW_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *ts) {
  LW_RW_TIMED(LW_MODE_READ, LW_REAL(pthread_rwlock_tryrdlock)(rw),
              LW_REAL(pthread_rwlock_timedrdlock)(rw, ts))
}

LW_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *ts) {
  LW_RW_TIMED(LW_MODE_WRITE, LW_REAL(pthread_rwlock_trywrlock)(rw),
              LW_REAL(pthread_rwlock_timedwrlock)(rw, ts))
}

LW_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *ts) {
  LW_RW_TIMED(LW_MODE_READ, LW_REAL(pthread_rwlock_tryrdlock)(rw),
              LW_REAL(pthread_rwlock_clockrdlock)(rw, clock, ts))
}

LW_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *ts) {
  LW_RW_TIMED(LW_MODE_WRITE, LW_REAL(pthread_rwlock_trywrlock)(rw),
              LW_REAL(pthread_rwlock_clockwrlock)(rw, clock, ts))
}

LW_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw) {
  LW_RELEASE(rw, LW_TYPE_RWLOCK, lw_rwlock_state, LW_REAL(pthread_rwlock_unlock)(rw))
}

LW_EXPORT int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *attr) {
  int rc = LW_REAL(pthread_rwlock_init)(rw, attr);
  if (rc == 0) lw_wrap_created(rw, LW_TYPE_RWLOCK, rw_kind(rw), LW_RET_PC());
  else lw_wrap_failed(lw_misuse_mark(), __func__, rc, LW_CALL_INIT, rw, LW_TYPE_COUNT);
  return rc;
}

LW_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *rw) {
  uint32_t mark = lw_misuse_mark();
  lw_wrap_destroy_check(rw, LW_TYPE_RWLOCK, lw_rwlock_state, LW_RET_PC());
  int rc = LW_REAL(pthread_rwlock_destroy)(rw);
  if (rc == 0) lw_wrap_destroyed(rw);
  else lw_wrap_failed(mark, __func__, rc, LW_CALL_DESTROY, rw, LW_TYPE_RWLOCK);
  return rc;
}
