/*
 * wrap_c11.c - the C11 <threads.h> wrappers. glibc's mtx_* and cnd_* call
 * its internal pthread code directly, not through the pthread_* symbols, so
 * they need wrappers of their own. An mtx_t holds a pthread mutex, whose
 * kind (read the same way) tells a recursive one.
 */
#include "../lib/alloc.h"
#include "preload.h"

static bool c11_acquired(int rc) { return rc == thrd_success; }

#define LW_C11(flags, call) \
  LW_ACQUIRE_OK(m, LW_TYPE_C11, lw_mutex_kind, LW_MODE_WRITE, flags, c11_acquired, call)

/* C11's timed lock takes CLOCK_REALTIME and answers thrd_timedout. */
static int c11_timed(void *m, const struct timespec *abs) {
  int rc = LW_REAL(mtx_timedlock)(m, abs);
  return rc == thrd_timedout ? ETIMEDOUT : rc;
}

LW_EXPORT int mtx_lock(mtx_t *m) {
  LW_ACQUIRE_BLOCKING(m, LW_TYPE_C11, lw_mutex_kind, LW_MODE_WRITE, LW_REAL(mtx_trylock)(m),
                      thrd_busy, c11_timed, CLOCK_REALTIME, c11_acquired, LW_REAL(mtx_lock)(m))
}

LW_EXPORT int mtx_trylock(mtx_t *m) { LW_C11(LW_ACQ_TRY, LW_REAL(mtx_trylock)(m)) }

LW_EXPORT int mtx_timedlock(mtx_t *__restrict m, const struct timespec *__restrict ts) {
  LW_ACQUIRE_TIMED(m, LW_TYPE_C11, lw_mutex_kind, LW_MODE_WRITE, LW_REAL(mtx_trylock)(m),
                   thrd_busy, c11_acquired, LW_REAL(mtx_timedlock)(m, ts))
}

LW_EXPORT int mtx_unlock(mtx_t *m) {
  LW_RELEASE(m, LW_TYPE_C11, lw_mutex_state, LW_REAL(mtx_unlock)(m))
}

LW_EXPORT int mtx_init(mtx_t *m, int type) {
  int rc = LW_REAL(mtx_init)(m, type);
  if (rc == thrd_success) lw_wrap_created(m, LW_TYPE_C11, lw_mutex_kind((uintptr_t)m), LW_RET_PC());
  return rc;
}

LW_EXPORT void mtx_destroy(mtx_t *m) {
  lw_wrap_destroy_check(m, LW_TYPE_C11, lw_mutex_state, LW_RET_PC());
  lw_wrap_destroyed(m);
  LW_REAL(mtx_destroy)(m);
}

LW_EXPORT int cnd_wait(cnd_t *c, mtx_t *m) {
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(cnd_wait)(c, m);
  lw_acq_t a;
  lw_cond_wait_before(t, &a, (uintptr_t)c, (uintptr_t)m, LW_TYPE_C11, lw_mutex_kind,
                      lw_mutex_state, LW_RET_PC());
  lw_leave();
  int rc = LW_REAL(cnd_wait)(c, m);
  lw_tls_guard = 1;
  lw_cond_wait_after(t, &a, rc == thrd_success);
  lw_leave();
  return rc;
}

LW_EXPORT int cnd_timedwait(cnd_t *__restrict c, mtx_t *__restrict m,
                            const struct timespec *__restrict ts) {
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(cnd_timedwait)(c, m, ts);
  lw_acq_t a;
  lw_cond_wait_before(t, &a, (uintptr_t)c, (uintptr_t)m, LW_TYPE_C11, lw_mutex_kind,
                      lw_mutex_state, LW_RET_PC());
  lw_leave();
  int rc = LW_REAL(cnd_timedwait)(c, m, ts);
  lw_tls_guard = 1;
  /* the mutex is held again after a timeout too */
  lw_cond_wait_after(t, &a, rc == thrd_success || rc == thrd_timedout);
  lw_leave();
  return rc;
}

LW_EXPORT int cnd_init(cnd_t *c) {
  int rc = LW_REAL(cnd_init)(c);
  if (rc == thrd_success) lw_wrap_cond_forget(c);
  return rc;
}

LW_EXPORT void cnd_destroy(cnd_t *c) {
  lw_wrap_cond_forget(c);
  LW_REAL(cnd_destroy)(c);
}

struct lw_c11_start {
  thrd_start_t fn;
  void *arg;
  uint32_t seq;
};

static int lw_c11_thread_start(void *p) {
  struct lw_c11_start s = *(struct lw_c11_start *)p;
  lw_tls_guard++;
  lw_free(p, sizeof s);
  lw_preload_thread_begin(s.seq);
  lw_tls_guard--;
  return s.fn(s.arg);
}

LW_EXPORT int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg) {
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(thrd_create)(thr, fn, arg);
  struct lw_c11_start *s = lw_alloc(sizeof *s);
  if (s) *s = (struct lw_c11_start){fn, arg, lw_core_thread_spawn(t)};
  lw_leave();
  if (!s) return LW_REAL(thrd_create)(thr, fn, arg);
  int rc = LW_REAL(thrd_create)(thr, lw_c11_thread_start, s);
  if (rc != thrd_success) {
    lw_tls_guard++;
    lw_free(s, sizeof *s);
    lw_tls_guard--;
  }
  return rc;
}
